"""Running a trained tagger over sentences: token lists in, tag lists out, in length-sorted
batches (little padding); any sentence length works (the model's time axis is free)."""
import numpy as np

from apps.ner.batching import encode_flat, evaluation_plan, make_batch
from apps.ner.config import EVAL_BATCH_SIZE


def predict_tags(trained, token_lists, *, batch_size=EVAL_BATCH_SIZE) -> list:
    """One tag list per token list (IOB2 tag names), from `trained` (apps.ner.saved.TrainedTagger).

    Every token list must be non-empty. Words longer than the run's max_word_length are
    shortened for the character features only; no token is ever dropped.
    """
    token_lists = [list(tokens) for tokens in token_lists]
    for index, tokens in enumerate(token_lists):
        if not tokens:
            raise ValueError(f"sentence {index} has no tokens")
    encoded = encode_flat(token_lists, trained.words, trained.chars,
                          max_word_length=trained.max_word_length)
    tagger = trained.tagger()
    tag_names = trained.tag_names
    results = [None] * len(token_lists)
    for indices in evaluation_plan(encoded, batch_size):
        features, _ = make_batch(encoded, indices)
        ids = tagger(features)
        for row, index in enumerate(indices):
            length = len(token_lists[index])
            row_ids = ids[row, :length]
            if np.any(row_ids < 0):
                raise RuntimeError(f"the tagger left real tokens of sentence {index} untagged")
            results[index] = [tag_names[int(tag_id)] for tag_id in row_ids]
    return results
