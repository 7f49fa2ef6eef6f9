"""Masked sequences on the fast path (zoo/_fused.py): exactly Keras's masking, faster.

Every check compares a layer with `fast_path=True` (hand-written BPTT with a mask) against the
same weights with `fast_path=False` (the cell run by `keras_backend.rnn`, autodiff), which is
what `keras.layers.RNN(cell)` does: outputs, final states and the gradients with respect to the
inputs, the initial states and every weight, in float64.
"""
import numpy as np
import pytest
import tensorflow as tf

import keras
import zoo

VARIANTS = [
    ("rnn_tanh", zoo.BasicRNN, {"activation": "tanh"}),
    ("rnn_relu", zoo.BasicRNN, {"activation": "relu"}),
    ("gru_full", zoo.GRU, {"relevance_gate": True}),
    ("gru_simplified", zoo.GRU, {"relevance_gate": False}),
    ("lstm", zoo.LSTM, {"peephole": False}),
    ("lstm_peephole", zoo.LSTM, {"peephole": True}),
]
VARIANT_IDS = [variant[0] for variant in VARIANTS]
BATCH, STEPS, N_X, N_A = 5, 7, 3, 4

# Rows: right-padded, holes (leading and inner masked steps), all masked, no padding, one real
# step at the very end.
MASK = np.array([
    [1, 1, 1, 1, 0, 0, 0],
    [0, 1, 0, 1, 1, 0, 1],
    [0, 0, 0, 0, 0, 0, 0],
    [1, 1, 1, 1, 1, 1, 1],
    [0, 0, 0, 0, 0, 0, 1],
], dtype=bool)


def state_count(layer_class):
    return 2 if layer_class is zoo.LSTM else 1


def random_weights(layer, seed):
    """Random values for every weight (biases and peepholes non-zero)."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(tuple(w.shape)) * 0.5 for w in layer.weights]


def upstream_like(tensor, seed):
    """A fixed, non-trivial upstream gradient, so the loss weighs every output differently."""
    return np.random.default_rng(seed).standard_normal(tuple(tensor.shape))


def run_with_gradients(layer, x, initial, mask, wrapper=None):
    """Outputs of layer (or of wrapper) and d(loss)/d[x, initial states, weights]."""
    x = tf.constant(x)
    initial = [tf.constant(s) for s in initial]
    with tf.GradientTape() as tape:
        tape.watch([x] + initial)
        if wrapper is None:
            outputs = layer(x, initial_state=initial, mask=tf.constant(mask))
        else:
            outputs = wrapper(x, mask=tf.constant(mask))
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        loss = sum(tf.reduce_sum(o * upstream_like(o, 100 + i)) for i, o in enumerate(outputs))
    weights = layer.trainable_weights if wrapper is None else wrapper.trainable_weights
    sources = [x] + (initial if wrapper is None else []) + list(weights)
    assert len(weights) >= 3
    gradients = tape.gradient(loss, sources)
    return [np.asarray(o) for o in outputs], [np.asarray(g) for g in gradients]


def assert_all_close(got, want, rtol=1e-10, atol=1e-12):
    assert len(got) == len(want)
    for index, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=f"item {index}")


def make_pair(layer_class, options, seed, pair=({"fast_path": True}, {"fast_path": False}),
              **kwargs):
    """The same layer twice (by default fast path and cell path; `pair` gives the two option
    sets that differ), float64, with identical random weights."""
    layers = []
    for differing in pair:
        layer = layer_class(N_A, **options, dtype="float64", **differing, **kwargs)
        layer.build((None, STEPS, N_X))
        layers.append(layer)
    weights = random_weights(layers[0], seed)
    for layer in layers:
        layer.set_weights(weights)
    return layers


@pytest.mark.parametrize("go_backwards", [False, True], ids=["forwards", "backwards"])
@pytest.mark.parametrize(
    "return_sequences,zero_output_for_mask",
    [(True, False), (True, True), (False, False), (False, True)],
    ids=["sequences", "sequences_zero_output", "last", "last_zero_output"],
)
@pytest.mark.parametrize("name,layer_class,options", VARIANTS, ids=VARIANT_IDS)
def test_masked_fast_path_equals_cell_path(name, layer_class, options, return_sequences,
                                           zero_output_for_mask, go_backwards):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((BATCH, STEPS, N_X))
    # Non-zero initial states: a row masked at its first steps must output zeros there, not a0.
    initial = [rng.standard_normal((BATCH, N_A)) for _ in range(state_count(layer_class))]
    fast, cell = make_pair(
        layer_class, options, seed=2, return_sequences=return_sequences, return_state=True,
        go_backwards=go_backwards, zero_output_for_mask=zero_output_for_mask,
    )
    fast_outputs, fast_gradients = run_with_gradients(fast, x, initial, MASK)
    cell_outputs, cell_gradients = run_with_gradients(cell, x, initial, MASK)
    assert_all_close(fast_outputs, cell_outputs)
    assert_all_close(fast_gradients, cell_gradients)
    # Sanity of the comparison itself: the all-masked row keeps its initial states, and masked
    # steps get no input gradient.
    for state, a0 in zip(fast_outputs[1:], initial):
        np.testing.assert_array_equal(state[2], a0[2])
    assert np.all(fast_gradients[0][~MASK] == 0) and np.any(fast_gradients[0][MASK] != 0)


@pytest.mark.parametrize("name,layer_class,options", VARIANTS, ids=VARIANT_IDS)
def test_bidirectional_return_sequences_with_mask(name, layer_class, options):
    """The NER use: Bidirectional (zero_output_for_mask forced on) over right-padded and holed masks."""
    x = np.random.default_rng(3).standard_normal((BATCH, STEPS, N_X))
    results = []
    for fast_path in (True, False):
        keras.utils.set_random_seed(4)
        wrapper = keras.layers.Bidirectional(
            layer_class(N_A, **options, return_sequences=True, fast_path=fast_path, dtype="float64"),
            dtype="float64",
        )
        wrapper.build((None, STEPS, N_X))
        if not results:
            weights = random_weights(wrapper, 5)
        wrapper.set_weights(weights)
        results.append(run_with_gradients(wrapper, x, [], MASK, wrapper=wrapper))
    (fast_outputs, fast_gradients), (cell_outputs, cell_gradients) = results
    assert wrapper.forward_layer.zero_output_for_mask and wrapper.backward_layer.zero_output_for_mask
    assert_all_close(fast_outputs, cell_outputs)
    assert_all_close(fast_gradients, cell_gradients)
    assert np.all(fast_outputs[0][~MASK] == 0)


class FusedSpy:
    """Wraps cell.fused_sequence and records the mask of each call."""

    def __init__(self, cell):
        self.masks = []
        self.original = cell.fused_sequence
        cell.fused_sequence = self

    def __call__(self, projected, states, recurrent_kernel, mask=None):
        self.masks.append(mask)
        return self.original(projected, states, recurrent_kernel, mask=mask)


@pytest.mark.parametrize("name,layer_class,options", VARIANTS, ids=VARIANT_IDS)
def test_masked_input_takes_the_fused_path(name, layer_class, options):
    x = np.random.default_rng(6).standard_normal((BATCH, STEPS, N_X)).astype("float32")
    fast = layer_class(N_A, **options, return_sequences=True)
    slow = layer_class(N_A, **options, return_sequences=True, fast_path=False)
    dropped = layer_class(N_A, **options, return_sequences=True, recurrent_dropout=0.5)
    spies = [FusedSpy(layer.cell) for layer in (fast, slow, dropped)]
    fast(x, mask=MASK)
    mask = spies[0].masks[-1]
    assert mask is not None and tuple(mask.shape) == (STEPS, BATCH, 1)     # time-major
    assert mask.dtype == fast.compute_dtype
    np.testing.assert_array_equal(np.asarray(mask)[..., 0].T, MASK.astype("float32"))
    fast(x)
    assert spies[0].masks[-1] is None                      # unmasked: today's path unchanged
    slow(x, mask=MASK)
    dropped(x, mask=MASK, training=True)                   # recurrent dropout: the cell's step
    assert spies[1].masks == [] and spies[2].masks == []


def test_go_backwards_flips_the_mask_with_the_inputs():
    x = np.random.default_rng(7).standard_normal((BATCH, STEPS, N_X)).astype("float32")
    layer = zoo.LSTM(N_A, go_backwards=True)
    spy = FusedSpy(layer.cell)
    layer(x, mask=MASK)
    np.testing.assert_array_equal(np.asarray(spy.masks[-1])[..., 0].T,
                                  MASK[:, ::-1].astype("float32"))


def ner_model(fast_path, steps=None):
    keras.utils.set_random_seed(8)
    inputs = keras.Input((steps,), dtype="int32")
    embedded = keras.layers.Embedding(30, 6, mask_zero=True)(inputs)
    hidden = keras.layers.Bidirectional(zoo.LSTM(5, return_sequences=True, fast_path=fast_path))(embedded)
    outputs = keras.layers.Dense(4, activation="softmax")(hidden)
    return keras.Model(inputs, outputs)


def test_embedding_mask_zero_bidirectional_lstm_trains_identically_on_both_paths():
    rng = np.random.default_rng(9)
    lengths = [9, 3, 6, 1, 7, 9]
    tokens = np.zeros((len(lengths), 9), dtype="int32")
    for row, length in enumerate(lengths):
        tokens[row, :length] = rng.integers(1, 30, size=length)
    labels = rng.integers(0, 4, size=tokens.shape)
    trajectories = []
    for fast_path in (True, False):
        model = ner_model(fast_path)                        # unknown time length: packed loop
        if trajectories:
            model.set_weights(weights)
        weights = model.get_weights()
        model.compile(optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy")
        trajectories.append([float(model.train_on_batch(tokens, labels)) for _ in range(6)])
    np.testing.assert_allclose(trajectories[0], trajectories[1], rtol=2e-5)
    assert trajectories[0][-1] < trajectories[0][0]


def test_mixed_float16_masked_fast_path_matches_cell_path():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        x = np.random.default_rng(10).standard_normal((BATCH, STEPS, N_X)).astype("float32")
        for layer_class in (zoo.BasicRNN, zoo.GRU, zoo.LSTM):
            results = []
            for fast_path in (True, False):
                layer = layer_class(N_A, return_sequences=True, fast_path=fast_path)
                layer.build((None, STEPS, N_X))
                if results:
                    layer.set_weights(weights)
                weights = layer.get_weights()
                with tf.GradientTape() as tape:
                    y = layer(x, mask=MASK)
                    loss = tf.reduce_sum(tf.cast(y, "float32") ** 2)
                gradients = tape.gradient(loss, layer.trainable_weights)
                assert y.dtype == tf.float16
                results.append([np.asarray(y, "float32")] + [np.asarray(g) for g in gradients])
            for got, want in zip(*results):
                np.testing.assert_allclose(got, want, rtol=2e-2, atol=2e-2)
    finally:
        keras.mixed_precision.set_global_policy("float32")
