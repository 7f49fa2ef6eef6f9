"""Running a trained tagger over sentences: token lists in, tag lists out, in length-sorted
batches (little padding); any sentence length works (the model's time axis is free)."""
import numpy as np

from apps.ner.batching import encode_flat, evaluation_plan, make_batch
from apps.ner.config import EVAL_BATCH_SIZE
from apps.ner.ensemble import constraints_of, decode_mean


def predict_tags_in_pieces(trained, token_lists, pieces, *, batch_size=EVAL_BATCH_SIZE) -> list:
    """One tag list per token list, each list tagged as the separate sequences its
    (first, stop) ranges in `pieces` give (ranges that cover it in order, e.g. its sentences).
    The pieces of one token list are one story for a tagger with a document memory."""
    piece_tags = iter(predict_tags(
        trained, [tokens[first:stop] for tokens, spans in zip(token_lists, pieces)
                  for first, stop in spans], batch_size=batch_size,
        documents=[index for index, spans in enumerate(pieces) for _ in spans]))
    return [[tag for _ in spans for tag in next(piece_tags)] for spans in pieces]


def predict_tags(trained, token_lists, *, batch_size=EVAL_BATCH_SIZE, documents=None) -> list:
    """One tag list per token list (IOB2 tag names), from `trained`: an
    apps.ner.saved.TrainedTagger, or an apps.ner.ensemble.TaggerEnsemble (the runs' mean tag
    probabilities, decoded as that module says).

    Every token list must be non-empty. Words longer than the run's max_word_length are
    shortened for the character features only; no token is ever dropped. With a GloVe run, a
    word its vocabulary lacks but GloVe knows reads as its aligned GloVe vector, not as <UNK>
    (apps.ner.align.with_glove_words).

    `documents` (one story id per token list, e.g. CoNLL's -DOCSTART- documents) matters to a
    run with a document memory (--doc-memory): its words read their other occurrences in the
    same story. None makes each token list a story of its own.
    """
    token_lists = [list(tokens) for tokens in token_lists]
    for index, tokens in enumerate(token_lists):
        if not tokens:
            raise ValueError(f"sentence {index} has no tokens")
    from apps.ner.align import with_glove_words
    trained = with_glove_words(trained, token_lists)
    members = trained.members
    encodings = [encode_flat(token_lists, member.words, member.chars,
                             max_word_length=member.max_word_length, documents=documents)
                 for member in members]
    taggers = [member.tagger() for member in members]
    stories = any(tagger.stories for tagger in taggers)
    constraints = constraints_of(taggers[0].crf) if len(members) > 1 else None
    tag_names = trained.tag_names
    results = [None] * len(token_lists)
    for indices in evaluation_plan(encodings[0], batch_size, stories=stories):
        batches = [make_batch(encoded, indices, stories=stories)[0] for encoded in encodings]
        if len(members) == 1:
            ids = taggers[0](batches[0])
        else:
            mean = np.mean([tagger.posteriors(features)
                            for tagger, features in zip(taggers, batches)], axis=0)
            ids = decode_mean(mean, batches[0]["words"] > 0, constraints)
        for row, index in enumerate(indices):
            length = len(token_lists[index])
            row_ids = ids[row, :length]
            if np.any(row_ids < 0):
                raise RuntimeError(f"the tagger left real tokens of sentence {index} untagged")
            results[index] = [tag_names[int(tag_id)] for tag_id in row_ids]
    return results
