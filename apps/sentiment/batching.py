"""Batches of texts of similar length, so that little of the recurrent work is spent on padding.

IMDB reviews run from 10 to 2,500 tokens (median ~200); a batch padded to its longest review
costs about as much as that review times the batch size. Sorting the reviews by length before
cutting them into batches makes the cost follow the mean length instead (about 3x less at
max_length 800). Every batch is cropped to its own longest text, so the model sees
(batch, longest in batch) ids.

Training batches (`TrainingBatches`), as fairseq and AllenNLP build them: every epoch the
examples are shuffled, cut into pools of POOL_BATCHES batches, each pool is sorted by length and
cut into batches, and the batches are shuffled. Everything is drawn from
numpy.random.default_rng([seed, epoch]), so the batches of an epoch depend on (seed, epoch) only,
and the number of batches is ceil(examples / batch_size) in every epoch (one short batch at
most).

Resuming. `apps.common.training.fit_with_recovery` repeats a tf.data.Dataset once per epoch and
skips the batches already trained in a resumed epoch. The dataset made here counts the passes
made over it: pass k yields the batches of epoch first_epoch + k, where first_epoch is the epoch
the run resumes at (`resume_epoch`). So a resumed run trains on exactly the batches an
uninterrupted one would (tests/apps/sentiment checks the weights). This holds when nothing but
`fit` iterates the dataset, which is the case with the default distribution strategy; under
--distribute the app uses plain arrays instead (fit_with_recovery's own shuffling, no
bucketing), and also under --xla (which compiles once per batch shape).

Evaluation batches (`evaluation_dataset`, `predict_in_length_order`) are sorted by length once;
predictions are put back in the original order.
"""
import math

import numpy as np

POOL_BATCHES = 50


def lengths_of(ids) -> np.ndarray:
    """Number of non-padding ids of each row (ids are right-padded with 0)."""
    return np.count_nonzero(np.asarray(ids), axis=1).astype(np.int64)


def epoch_batches(lengths, batch_size: int, seed: int, epoch: int) -> list:
    """The index arrays of the batches of one epoch (see the module docstring)."""
    lengths = np.asarray(lengths)
    count = len(lengths)
    generator = np.random.default_rng([int(seed), int(epoch)])
    order = generator.permutation(count)
    pool = batch_size * POOL_BATCHES
    batches = []
    for start in range(0, count, pool):
        chunk = order[start:start + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches.extend(chunk[first:first + batch_size] for first in range(0, len(chunk),
                                                                           batch_size))
    return [batches[index] for index in generator.permutation(len(batches))]


def length_order_batches(lengths, batch_size: int) -> list:
    """Index arrays of consecutive batches of the examples sorted by length (stable)."""
    order = np.argsort(np.asarray(lengths), kind="stable")
    return [order[start:start + batch_size] for start in range(0, len(order), batch_size)]


def crop(ids, lengths, index) -> np.ndarray:
    """The rows `index` of ids, cut after the longest of them (at least one column)."""
    width = max(1, int(np.max(lengths[index], initial=0)))
    return np.ascontiguousarray(ids[index, :width])


def target_signature(targets: dict):
    import tensorflow as tf

    return {name: tf.TensorSpec((None,), tf.as_dtype(values.dtype))
            for name, values in targets.items()}


class TrainingBatches:
    """The training batches of every epoch as one tf.data.Dataset (see the module docstring).

    ids: (N, max_length) int32, right-padded; targets: {output name: (N,) array}.
    """

    def __init__(self, ids, targets: dict, *, batch_size: int, seed: int, first_epoch: int = 0):
        self.ids = np.asarray(ids, dtype=np.int32)
        self.lengths = lengths_of(self.ids)
        self.targets = {name: np.asarray(values) for name, values in targets.items()}
        if any(len(values) != len(self.ids) for values in self.targets.values()):
            raise ValueError("every target needs one value per text")
        if not len(self.ids):
            raise ValueError("no training texts")
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.next_epoch = int(first_epoch)  # the epoch the next pass over the dataset yields
        self.steps_per_epoch = math.ceil(len(self.ids) / self.batch_size)

    def batches(self, epoch: int):
        """(ids, targets) of each batch of `epoch`, cropped to its longest text."""
        for index in epoch_batches(self.lengths, self.batch_size, self.seed, epoch):
            yield (crop(self.ids, self.lengths, index),
                   {name: values[index] for name, values in self.targets.items()})

    def generate(self):
        epoch, self.next_epoch = self.next_epoch, self.next_epoch + 1
        yield from self.batches(epoch)

    def dataset(self):
        """A dataset of one epoch of batches; pass k over it yields epoch first_epoch + k."""
        import tensorflow as tf

        signature = (tf.TensorSpec((None, None), tf.int32), target_signature(self.targets))
        dataset = tf.data.Dataset.from_generator(self.generate, output_signature=signature)
        return (dataset.apply(tf.data.experimental.assert_cardinality(self.steps_per_epoch))
                .prefetch(2))


def evaluation_dataset(ids, targets: dict, batch_size: int):
    """A dataset of (ids, targets) batches in length order, the same at every pass."""
    import tensorflow as tf

    ids = np.asarray(ids, dtype=np.int32)
    lengths = lengths_of(ids)
    targets = {name: np.asarray(values) for name, values in targets.items()}
    batches = length_order_batches(lengths, batch_size)

    def generate():
        for index in batches:
            yield (crop(ids, lengths, index),
                   {name: values[index] for name, values in targets.items()})

    signature = (tf.TensorSpec((None, None), tf.int32), target_signature(targets))
    dataset = tf.data.Dataset.from_generator(generate, output_signature=signature)
    return dataset.apply(tf.data.experimental.assert_cardinality(len(batches))).prefetch(2)


def predict_in_length_order(model, ids, batch_size: int = 128, verbose: int = 0) -> dict:
    """{output name: predictions} of `model` for every row of ids, in the rows' order."""
    import tensorflow as tf

    ids = np.asarray(ids, dtype=np.int32)
    lengths = lengths_of(ids)
    batches = length_order_batches(lengths, batch_size)
    if not batches:
        return {name: np.zeros((0,) + tuple(output.shape[1:]), dtype=np.float32)
                for name, output in model.output.items()}

    def generate():
        for index in batches:
            yield crop(ids, lengths, index)

    dataset = tf.data.Dataset.from_generator(
        generate, output_signature=tf.TensorSpec((None, None), tf.int32))
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(len(batches))).prefetch(2)
    outputs = model.predict(dataset, verbose=verbose)
    order = np.concatenate(batches)
    restored = {}
    for name, values in outputs.items():
        values = np.asarray(values)
        restored[name] = np.empty_like(values)
        restored[name][order] = values
    return restored
