"""Entity-level F1 inside the Keras graph, so that training logs `f1` and `val_f1` every epoch.

Tag ids here are label ids without padding: 0 is O, and for the k-th entity type 2k+1 is B-type
and 2k+2 is I-type (`apps.ner.data.tag_names_for` orders the tags so); padded positions hold -1.

Chunks follow conlleval, as seqeval's default mode does: a chunk starts at a B- tag, or at an I-
tag that follows O or a tag of another type; it goes on over the I- tags of its type. A predicted
chunk is correct when a gold chunk has the same first token, last token and type. Counting is
vectorized (no Python per token), so it runs inside the compiled train and test steps, under XLA
too; `tests/apps/ner/test_metrics.py` holds it equal to seqeval on random tag sequences.

F1 = 2·TP / (predicted + gold), summed over every batch of the epoch (micro-averaged over the
whole split, exactly what `seqeval.metrics.f1_score` gives); 0 when there is no chunk at all.
With a CRF, `val_f1` decodes by Viterbi (as evaluate and tag do); the training batches' `f1`
takes the argmax of the CRF's potentials, which costs nothing (Viterbi there would double the
step time) and is only a progress indicator.
"""
import keras
from keras import ops


def chunk_boundaries(ids, valid):
    """(starts, types, last) of the chunks in (batch, time) label ids; masked positions read O.

    starts: bool, a chunk starts here. types: int, the entity type index (-1 for O).
    last: int, for each position the last position of the chunk going on or starting there.
    """
    ids = ops.where(valid, ops.cast(ids, "int32"), ops.zeros_like(ops.cast(ids, "int32")))
    is_entity = ids > 0
    types = ops.where(is_entity, (ids - 1) // 2, -ops.ones_like(ids))
    inside = ops.logical_and(is_entity, (ids - 1) % 2 == 1)
    previous_types = ops.concatenate([-ops.ones_like(types[:, :1]), types[:, :-1]], axis=1)
    continues = ops.logical_and(inside, previous_types == types)
    starts = ops.logical_and(is_entity, ops.logical_not(continues))
    next_continues = ops.concatenate([continues[:, 1:], ops.zeros_like(continues[:, :1])], axis=1)
    ends = ops.logical_and(is_entity, ops.logical_not(next_continues))
    return starts, types, next_position(ends)


def next_position(flags):
    """For each position t of (batch, time) flags, the first u >= t with flags[u] (time if none)."""
    time = ops.shape(flags)[1]
    positions = ops.arange(time, dtype="int32")
    value = ops.where(flags, ops.expand_dims(positions, 0), time)                   # (batch, time)
    later = ops.expand_dims(positions, 0) >= ops.expand_dims(positions, 1)         # [t, u]: u >= t
    candidates = ops.where(ops.expand_dims(later, 0), ops.expand_dims(value, 1), time)
    return ops.min(candidates, axis=2)


def entity_counts(true_ids, predicted_ids, valid):
    """(true positives, predicted chunks, gold chunks) of a batch, as int32 scalars."""
    true_starts, true_types, true_last = chunk_boundaries(true_ids, valid)
    predicted_starts, predicted_types, predicted_last = chunk_boundaries(predicted_ids, valid)
    correct = ops.logical_and(ops.logical_and(true_starts, predicted_starts),
                              ops.logical_and(true_types == predicted_types,
                                              true_last == predicted_last))
    count = lambda flags: ops.sum(ops.cast(flags, "int32"))  # noqa: E731
    return count(correct), count(predicted_starts), count(true_starts)


@keras.saving.register_keras_serializable(package="apps.ner")
class EntityF1(keras.metrics.Metric):
    """Entity F1 (0..1) of the decoded predictions against int labels with -1 at padding.

    `decode(scores, mask) -> (ids, ...)` turns the model output into tag ids: None takes the
    argmax (softmax output); for a CRF pass `crf_layer.decode` (Viterbi). Viterbi decoding
    costs as much as the rest of a training step, so `set_exact(False)` makes the metric take
    the argmax of the scores instead, through an in-graph switch (no retracing);
    `ExactDecodingForValidation` turns it off for the training batches and on for validation.
    Neither the function nor the switch is tracked by Keras: the CRF's weights never count as
    metric variables, and the switch is not part of the metric state.
    """

    def __init__(self, name="f1", decode=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.__dict__["_decode"] = decode      # untracked: a bound method of a layer
        self.__dict__["_exact"] = None if decode is None else keras.Variable(
            True, dtype="bool", trainable=False, name=f"{name}_exact_decoding")
        self.true_positives = self.add_variable((), initializer="zeros", dtype="float32",
                                                name="true_positives")
        self.predicted = self.add_variable((), initializer="zeros", dtype="float32",
                                           name="predicted")
        self.gold = self.add_variable((), initializer="zeros", dtype="float32", name="gold")

    def set_exact(self, exact: bool) -> None:
        """Decode with the given function (True) or by argmax (False)."""
        if self._exact is not None:
            self._exact.assign(bool(exact))

    def update_state(self, y_true, y_pred, sample_weight=None):
        labels = ops.cast(y_true, "int32")
        if len(labels.shape) == 3:
            labels = ops.squeeze(labels, -1)
        valid = labels >= 0

        def argmax():
            return ops.cast(ops.argmax(y_pred, axis=-1), "int32")

        if self._decode is None:
            predicted = argmax()
        else:
            predicted = ops.cond(ops.logical_and(self._exact, True),   # a tensor, not the variable
                                 lambda: ops.cast(self._decode(y_pred, valid)[0], "int32"), argmax)
        true_positives, predicted_count, gold_count = entity_counts(labels, predicted, valid)
        self.true_positives.assign_add(ops.cast(true_positives, "float32"))
        self.predicted.assign_add(ops.cast(predicted_count, "float32"))
        self.gold.assign_add(ops.cast(gold_count, "float32"))

    def result(self):
        total = self.predicted + self.gold
        return ops.where(total > 0, 2.0 * self.true_positives / ops.maximum(total, 1.0), 0.0)

    def reset_state(self):
        for variable in (self.true_positives, self.predicted, self.gold):
            variable.assign(0.0)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


def entity_f1_metrics(model) -> list:
    """The EntityF1 metrics compiled into `model` (searched through Keras's containers)."""
    found, pending = [], list(getattr(model, "metrics", []))
    while pending:
        metric = pending.pop()
        if isinstance(metric, EntityF1):
            found.append(metric)
        else:
            pending.extend(getattr(metric, "metrics", []) or [])
    return found


class ExactDecodingForValidation(keras.callbacks.Callback):
    """During fit: argmax decoding for the training batches' `f1` (cheap), the exact (Viterbi)
    decoding for `val_f1`; exact again after training."""

    def _switch(self, exact):
        for metric in entity_f1_metrics(self.model):
            metric.set_exact(exact)

    def on_train_begin(self, logs=None):
        self._switch(False)

    def on_test_begin(self, logs=None):
        self._switch(True)

    def on_test_end(self, logs=None):
        self._switch(False)

    def on_train_end(self, logs=None):
        self._switch(True)
