"""Moving the GloVe vectors that training never touched along with the ones it did.

With `--embeddings glove-50d --glove-words data` the word vocabulary holds, after the words of
the sentences trained on, the words GloVe knows that occur only in the validation or test text
(as Lample et al. 2016 do). Training reads only its own sentences, so those rows stay exactly
GloVe's while the rows of the training words move: on CoNLL-2003, by about 15 % of a GloVe
vector's length, nearly (R² 0.97) but not quite as one linear map (benchmarks/ner_embeddings.py).
The tagger learnt on the moved rows, so an unmoved row reads as a slightly different word.

`align_unseen_rows` gives each such row the mean movement of its K nearest trained rows, by
cosine similarity of their GloVe vectors:

    row(w) = GloVe(w) + mean over the K training words v nearest to w of (trained(v) - GloVe(v))

On the validation split this raised the entity F1 of every one of five default GloVe runs
(benchmarks/RESULTS.md); `python -m apps.ner train` applies it to model.keras when training
ends (`--align-unseen K`, 0: off). It only reads the vectors and the trained rows, so applying
it again gives the same matrix.
"""
import numpy as np

CHUNK = 1024      # target rows per similarity block: CHUNK x sources floats at a time


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


def nearest_drift(initial_targets, initial_sources, trained_sources, neighbours: int):
    """initial_targets (N, D) + the mean of (trained - initial) over each target's `neighbours`
    sources nearest by cosine similarity of the initial vectors: (N, D) float32."""
    initial_targets = np.asarray(initial_targets, dtype=np.float32)
    initial_sources = np.asarray(initial_sources, dtype=np.float32)
    moved = np.asarray(trained_sources, dtype=np.float32) - initial_sources
    if initial_sources.shape != moved.shape or initial_targets.shape[1:] != moved.shape[1:]:
        raise ValueError(f"expected sources of one shape (S, D) and targets (N, D); received "
                         f"{initial_sources.shape}, {moved.shape} and {initial_targets.shape}")
    if len(initial_targets) == 0:
        return initial_targets.copy()
    count = int(neighbours)
    if not 1 <= count <= len(initial_sources):
        raise ValueError(f"neighbours must be in 1..{len(initial_sources)} (the sources); "
                         f"received {neighbours}")
    sources = unit_rows(initial_sources)
    result = np.empty_like(initial_targets)
    for start in range(0, len(initial_targets), CHUNK):
        targets = initial_targets[start:start + CHUNK]
        similarity = unit_rows(targets) @ sources.T
        if count < len(initial_sources):
            nearest = np.argpartition(-similarity, count - 1, axis=1)[:, :count]
        else:
            nearest = np.broadcast_to(np.arange(count), (len(targets), count))
        result[start:start + CHUNK] = targets + moved[nearest].mean(axis=1)
    return result


def align_unseen_rows(trained_matrix, initial_matrix, source_ids, target_ids,
                      neighbours: int) -> np.ndarray:
    """A copy of the trained embedding matrix whose `target_ids` rows (never trained: still
    their initial GloVe vectors) are moved by the mean drift of their `neighbours` nearest
    `source_ids` rows (trained rows that started from GloVe vectors)."""
    trained_matrix = np.asarray(trained_matrix)
    initial_matrix = np.asarray(initial_matrix)
    source_ids, target_ids = np.asarray(source_ids, np.int64), np.asarray(target_ids, np.int64)
    if trained_matrix.shape != initial_matrix.shape:
        raise ValueError(f"the trained matrix {trained_matrix.shape} and the initial one "
                         f"{initial_matrix.shape} differ in shape")
    if np.intersect1d(source_ids, target_ids).size:
        raise ValueError("a row cannot be both a source and a target")
    aligned = trained_matrix.copy()
    aligned[target_ids] = nearest_drift(initial_matrix[target_ids], initial_matrix[source_ids],
                                        trained_matrix[source_ids], neighbours)
    return aligned


def with_glove_words(trained, token_lists):
    """`trained` (a TrainedTagger, or a TaggerEnsemble of them) able to read the words of
    `token_lists` that a GloVe run's vocabulary lacks but GloVe knows: each such word gets its
    GloVe vector moved by the mean drift of its nearest trained words (`nearest_drift`, K = the
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

    from apps.common.glove import load_glove_50d
    from apps.ner.config import DEFAULT_ALIGN_UNSEEN
    from zoo.text import Vocabulary

    options = member.settings.get("settings", {})
    if options.get("embeddings") != "glove-50d":
        return member
    vocabulary = member.words
    specials = set(vocabulary.special_tokens)
    candidates = sorted({token.lower() for tokens in token_lists for token in tokens}
                        - specials - set(vocabulary.tokens))
    if not candidates:
        return member
    glove_words, vectors = load_glove_50d()
    row_of = {}
    for row, word in enumerate(glove_words):
        row_of.setdefault(word, row)
    new_words = [word for word in candidates if word in row_of]
    if not new_words:
        return member
    model = member.model
    index = next(position for position, variable in enumerate(model.weights)
                 if variable.path == "word_embedding/embeddings")
    weights = model.get_weights()
    trained_rows = weights[index]
    if len(trained_rows) != len(vocabulary):
        raise ValueError(f"{member.run_dir}: the word embedding has {len(trained_rows)} rows for "
                         f"a vocabulary of {len(vocabulary)} words")
    known = [(token_id, row_of[word]) for token_id, word
             in enumerate(vocabulary.tokens, start=len(vocabulary.special_tokens))
             if word in row_of]
    ids = np.array([token_id for token_id, _ in known], dtype=np.int64)
    glove_known = vectors[[row for _, row in known]]
    moved = np.any(trained_rows[ids] != glove_known, axis=1)
    glove_new = vectors[[row_of[word] for word in new_words]].astype(np.float32)
    if moved.any():
        count = int(options.get("align_unseen") or DEFAULT_ALIGN_UNSEEN)
        rows = nearest_drift(glove_new, glove_known[moved], trained_rows[ids[moved]],
                             min(count, int(moved.sum())))
    else:                                                   # frozen vectors: nothing moved
        rows = glove_new
    weights[index] = np.concatenate([trained_rows, rows.astype(trained_rows.dtype)])
    config = model.get_config()
    for layer in config["layers"]:
        if layer["name"] == "word_embedding":
            layer["config"]["input_dim"] = len(weights[index])
    extended = model.__class__.from_config(config)
    extended.set_weights(weights)
    words = Vocabulary(vocabulary.tokens + new_words, level="word",
                       lowercase=vocabulary.lowercase)
    return dataclasses.replace(member, model=extended, words=words)
