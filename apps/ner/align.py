"""Moving the GloVe vectors that training never touched along with the ones it did.

With `--embeddings glove-50d --glove-words data` the word vocabulary holds, after the words of
the sentences trained on, the words GloVe knows that occur only in the validation or test text
(as Lample et al. 2016 do). Training reads only its own sentences, so those rows stay exactly
GloVe's while the rows of the training words move: on CoNLL-2003, by about 15 % of a GloVe
vector's length, nearly (R² 0.97) but not quite as one linear map (benchmarks/ner_embeddings.py).
The tagger learnt on the moved rows, so an unmoved row reads as a slightly different word.

`align_untouched_rows` gives each such row the mean movement of its K nearest trained rows, by
cosine similarity of their GloVe vectors (the plan of apps/common/unseen_words.py, which
apps.sentiment uses too):

    row(w) = GloVe(w) + mean over the K training words v nearest to w of (trained(v) - GloVe(v))

On the validation split this raised the entity F1 of every one of five default GloVe runs
(benchmarks/RESULTS.md); `python -m apps.ner train` applies it to model.keras when training
ends (`--align-unseen K`, 0: off), each time to a fresh copy of the chosen checkpoint, so a
rerun gives the same model.keras. `with_glove_words` does the same for the words new to a run
when it tags.
"""
import numpy as np

from apps.common.unseen_words import neighbour_plan


def glove_rows(trained_rows, vocabulary):
    """(ids, GloVe vectors, moved) of the vocabulary's ordinary words that GloVe knows: their
    ids, their GloVe vectors (the rows they started from), and whether training moved their row
    in `trained_rows` (the rows it never touched are still exactly GloVe's)."""
    from apps.common.glove import glove_row_index, read_glove_50d

    if len(trained_rows) != len(vocabulary):
        raise ValueError(f"the word embedding has {len(trained_rows)} rows for a vocabulary of "
                         f"{len(vocabulary)} words")
    index = glove_row_index()
    pairs = [(token_id, index[word]) for token_id, word
             in enumerate(vocabulary.tokens, start=len(vocabulary.special_tokens))
             if word in index]
    ids = np.array([token_id for token_id, _ in pairs], dtype=np.int64)
    glove = read_glove_50d()[1][[row for _, row in pairs]]
    moved = np.any(trained_rows[ids] != glove, axis=1)
    return ids, glove, moved


def plan_for(trained_rows, vocabulary, neighbours, extra_glove=None):
    """neighbour_plan over the embedding as it started (GloVe rows where GloVe knows the word),
    the moved rows counting as read in training; `extra_glove` (n, d) are GloVe vectors of words
    appended after the vocabulary. None when nothing would move."""
    ids, glove, moved = glove_rows(trained_rows, vocabulary)
    initial = np.array(trained_rows, dtype=np.float32, copy=True)
    initial[ids] = glove
    in_glove = np.zeros(len(initial), dtype=bool)
    in_glove[ids] = True
    if extra_glove is not None:
        initial = np.concatenate([initial, extra_glove])
        in_glove = np.concatenate([in_glove, np.ones(len(extra_glove), dtype=bool)])
    return neighbour_plan(initial, in_glove, ids[moved], int(neighbours))


def align_untouched_rows(trained_rows, vocabulary, neighbours: int):
    """(the embedding with every GloVe row that training left untouched moved by the drift of
    its `neighbours` nearest trained rows, how many rows moved)."""
    plan = plan_for(trained_rows, vocabulary, neighbours)
    if plan is None:
        return trained_rows, 0
    return plan.apply(trained_rows), len(plan.unseen)


def with_glove_words(trained, token_lists):
    """`trained` (a TrainedTagger, or a TaggerEnsemble of them) able to read the words of
    `token_lists` that a GloVe run's vocabulary lacks but GloVe knows: each such word gets its
    GloVe vector moved by the mean drift of its nearest trained words (`plan_for`, K = the
    run's --align-unseen, else the default), instead of the `<UNK>` vector. Runs without GloVe,
    and texts without such words, come back as they are; the run folders are not changed.

    On CoNLL-2003 validation, giving the words outside a run's training vocabulary their
    aligned GloVe vectors instead of `<UNK>` was worth 1.8 F1 (benchmarks/RESULTS.md); this
    extends that from the words of the splits to any text `tag` reads.
    """
    members = trained.members
    extended = [member_with_glove_words(member, token_lists) for member in members]
    if all(new is old for new, old in zip(extended, members)):
        return trained
    if len(members) == 1:
        return extended[0]
    from apps.ner.ensemble import TaggerEnsemble
    return TaggerEnsemble(extended)


def member_with_glove_words(member, token_lists):
    import dataclasses

    from apps.common.glove import glove_row_index, read_glove_50d
    from apps.ner.config import DEFAULT_ALIGN_UNSEEN
    from apps.ner.data import add_words

    options = member.settings.get("settings", {})
    if options.get("embeddings") != "glove-50d":
        return member
    vocabulary = member.words
    index = glove_row_index()
    new_words = sorted({token.lower() for tokens in token_lists for token in tokens
                        if token not in vocabulary and token.lower() in index})
    if not new_words:
        return member
    model = member.model
    position = next(position for position, variable in enumerate(model.weights)
                    if variable.path == "word_embedding/embeddings")
    weights = model.get_weights()
    trained_rows = weights[position]
    glove_new = read_glove_50d()[1][[index[word] for word in new_words]]
    extended_rows = np.concatenate([trained_rows, glove_new.astype(trained_rows.dtype)])
    plan = plan_for(trained_rows, vocabulary, options.get("align_unseen") or
                    DEFAULT_ALIGN_UNSEEN, extra_glove=glove_new)
    if plan is not None:               # None: frozen vectors (nothing moved), GloVe's rows stay
        extended_rows[len(trained_rows):] = plan.apply(extended_rows)[len(trained_rows):]
    weights[position] = extended_rows
    config = model.get_config()
    for layer in config["layers"]:
        if layer["name"] == "word_embedding":
            layer["config"]["input_dim"] = len(extended_rows)
    extended = model.__class__.from_config(config)
    extended.set_weights(weights)
    return dataclasses.replace(member, model=extended, words=add_words(vocabulary, new_words))
