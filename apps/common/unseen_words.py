"""The embedding rows of words training never reads, moved with their GloVe neighbours.

With `--glove-words data` the vocabulary also holds words that occur only in the validation or
test text. Training never looks their rows up, so those rows keep their GloVe vectors exactly
(no gradient, and Adam's moments stay zero), while fine-tuning moves the training words' rows.
`--unseen-neighbours K` (K > 0) closes that gap before every validation pass: each unseen row
becomes its GloVe vector plus the mean displacement (trained row − GloVe vector) of the K
training words whose GloVe vectors are nearest to its own (cosine similarity). Only rows that
training never reads change, so the training steps, and the trained weights, are exactly those
of K = 0; what changes is how the model reads the unseen words at validation, in the saved
checkpoints, and so at test time.

apps.sentiment applies the plan before every validation pass (`align_callback`); apps.ner once,
to model.keras when training ends, and to the words new to a run when it tags
(apps/ner/align.py).
"""
from __future__ import annotations

import dataclasses

import numpy as np

CHUNK = 512  # unseen rows per block of the similarity matrix (bounded memory)


@dataclasses.dataclass(frozen=True)
class NeighbourPlan:
    """Which rows move, and after which trained rows."""

    unseen: np.ndarray          # (n,) row ids of words never read in training, with GloVe vectors
    glove_unseen: np.ndarray    # (n, d) their GloVe vectors
    trained: np.ndarray         # (m,) row ids of training words with GloVe vectors
    glove_trained: np.ndarray   # (m, d) their GloVe vectors (the rows' initial values)
    neighbours: np.ndarray      # (n, K) indices into `trained`, nearest first is not guaranteed

    def aligned_rows(self, embeddings: np.ndarray) -> np.ndarray:
        """(n, d): the unseen rows' GloVe vectors plus their neighbours' mean displacement."""
        displacement = embeddings[self.trained] - self.glove_trained
        return self.glove_unseen + displacement[self.neighbours].mean(axis=1)

    def apply(self, embeddings: np.ndarray) -> np.ndarray:
        """A copy of the embedding matrix with the unseen rows aligned."""
        aligned = np.array(embeddings, copy=True)
        aligned[self.unseen] = self.aligned_rows(embeddings).astype(aligned.dtype)
        return aligned


def neighbour_plan(initial: np.ndarray, in_glove: np.ndarray, train_ids: np.ndarray,
                   count: int) -> NeighbourPlan | None:
    """The plan for an embedding initialised as `initial` (V, d).

    in_glove: (V,) booleans, the rows initialised from a GloVe vector; train_ids: every token id
    of the training texts (any shape; 0 = padding); count: K neighbours per unseen row.
    Returns None when there is nothing to move (no unseen GloVe row, or K = 0).
    """
    initial = np.asarray(initial, dtype=np.float32)
    in_glove = np.asarray(in_glove, dtype=bool)
    if initial.ndim != 2 or in_glove.shape != (initial.shape[0],):
        raise ValueError(f"initial must be (V, d) and in_glove (V,); received {initial.shape} "
                         f"and {in_glove.shape}")
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
        raise ValueError(f"count must be a non-negative integer; received count={count!r}")
    read = np.zeros(initial.shape[0], dtype=bool)
    read[np.unique(np.asarray(train_ids))] = True
    read[:2] = True  # padding and [UNK] are never "unseen words"
    unseen = np.flatnonzero(in_glove & ~read)
    trained = np.flatnonzero(in_glove & read)
    trained = trained[trained >= 2]
    if count == 0 or unseen.size == 0 or trained.size == 0:
        return None
    count = min(int(count), int(trained.size))
    glove_trained = initial[trained]
    glove_unseen = initial[unseen]
    unit_trained = glove_trained / np.maximum(
        np.linalg.norm(glove_trained, axis=1, keepdims=True), 1e-12)
    neighbours = np.empty((unseen.size, count), dtype=np.int64)
    for start in range(0, unseen.size, CHUNK):
        block = glove_unseen[start:start + CHUNK]
        block = block / np.maximum(np.linalg.norm(block, axis=1, keepdims=True), 1e-12)
        similarity = block @ unit_trained.T
        if count < trained.size:
            neighbours[start:start + CHUNK] = np.argpartition(-similarity, count - 1,
                                                              axis=1)[:, :count]
        else:
            neighbours[start:start + CHUNK] = np.arange(trained.size)
    return NeighbourPlan(unseen, glove_unseen, trained, glove_trained, neighbours)


def align_callback(plan: NeighbourPlan, layer_name: str = "embedding"):
    """A Keras callback that aligns the unseen rows before each validation pass (`fit` runs
    validation before `on_epoch_end`, so the checkpoints of that epoch hold them too)."""
    import keras

    class AlignUnseenRows(keras.callbacks.Callback):
        def on_test_begin(self, logs=None):
            variable = self.model.get_layer(layer_name).embeddings
            variable.assign(plan.apply(np.asarray(variable.numpy())))

    return AlignUnseenRows()
