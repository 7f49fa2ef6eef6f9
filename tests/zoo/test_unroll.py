"""`unroll=True` on the fast path, and the automatic unrolling of short sequences: the fused
loops written out step by step give the same outputs, final states and gradients as the
compiled loop (float64), with and without a mask and in both directions; an unknown time length
with unroll=True is a clear error; short known lengths are written out, long ones loop."""
import numpy as np
import pytest
import tensorflow as tf

import keras
import zoo
from tests.zoo.test_layers import force_loop
from tests.zoo.test_masked_fused import (
    BATCH, MASK, N_A, N_X, STEPS, VARIANT_IDS, VARIANTS, assert_all_close, make_pair,
    run_with_gradients, state_count,
)


@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
@pytest.mark.parametrize("go_backwards", [False, True], ids=["forwards", "backwards"])
@pytest.mark.parametrize("name,layer_class,options", VARIANTS, ids=VARIANT_IDS)
def test_unrolled_fast_path_equals_the_loop(name, layer_class, options, go_backwards, masked,
                                           monkeypatch):
    force_loop(monkeypatch)      # the unroll=False layer runs the loop, not the written-out steps
    rng = np.random.default_rng(11)
    x = rng.standard_normal((BATCH, STEPS, N_X))
    initial = [rng.standard_normal((BATCH, N_A)) for _ in range(state_count(layer_class))]
    looped, unrolled = make_pair(layer_class, options, seed=12,
                                 pair=({"unroll": False}, {"unroll": True}),
                                 return_sequences=True, return_state=True,
                                 go_backwards=go_backwards)
    mask = MASK if masked else np.ones_like(MASK)
    looped_outputs, looped_gradients = run_with_gradients(looped, x, initial, mask)
    unrolled_outputs, unrolled_gradients = run_with_gradients(unrolled, x, initial, mask)
    assert_all_close(unrolled_outputs, looped_outputs)
    assert_all_close(unrolled_gradients, looped_gradients)
    assert all(np.any(g != 0) for g in unrolled_gradients[1:])


def training_graph_ops(layer, steps):
    """Op types of the traced training graph (forward and backward) of `layer` on `steps` steps."""
    x = tf.constant(np.random.default_rng(16).standard_normal((BATCH, steps, N_X)), tf.float32)
    layer.build(x.shape)

    @tf.function
    def loss_and_gradients(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(x) ** 2)
        return tape.gradient(loss, layer.trainable_weights)

    graph = loss_and_gradients.get_concrete_function(x).graph
    return {op.type for op in graph.get_operations()}


def test_unrolled_graph_has_no_while_loop(monkeypatch):
    """What unroll=True promises: straight-line code, forward and backward."""
    force_loop(monkeypatch)      # so that the unroll=False layer below shows its loop
    loops = {"While", "StatelessWhile"}
    assert not training_graph_ops(zoo.LSTM(N_A, unroll=True, return_sequences=True), STEPS) & loops
    assert training_graph_ops(zoo.LSTM(N_A, return_sequences=True), STEPS) & loops


def test_unroll_with_unknown_length_is_a_clear_error():
    """As Keras's own layers: a traced call with an unknown time length cannot be unrolled."""
    layer = zoo.GRU(N_A, unroll=True)
    traced = tf.function(lambda x: layer(x), input_signature=[tf.TensorSpec((None, None, N_X))])
    with pytest.raises(ValueError, match="time dimension is undefined"):
        traced.get_concrete_function()


def test_unrolled_layer_trains_and_saves(tmp_path):
    keras.utils.set_random_seed(14)
    inputs = keras.Input((STEPS, N_X))
    outputs = keras.layers.Dense(1)(zoo.LSTM(N_A, unroll=True)(inputs))
    model = keras.Model(inputs, outputs)
    model.compile("adam", "mse")
    rng = np.random.default_rng(15)
    x, y = rng.standard_normal((16, STEPS, N_X)), rng.standard_normal((16, 1))
    history = model.fit(x, y, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    model.save(tmp_path / "unrolled.keras")
    loaded = keras.models.load_model(tmp_path / "unrolled.keras")
    assert loaded.layers[1].unroll is True
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


@pytest.mark.parametrize("layer_class", [zoo.BasicRNN, zoo.GRU, zoo.LSTM])
def test_short_known_lengths_are_written_out_and_long_ones_loop(layer_class):
    """The fast path's automatic unrolling: up to AUTO_UNROLL_MAX_STEPS known steps are written
    out (no while-loop, forward or backward), longer or unknown lengths keep the loop."""
    from zoo import _fused

    loops = {"While", "StatelessWhile"}
    limit = _fused.AUTO_UNROLL_MAX_STEPS
    assert not training_graph_ops(layer_class(N_A, return_sequences=True), limit) & loops
    assert training_graph_ops(layer_class(N_A, return_sequences=True), limit + 1) & loops
    unknown = layer_class(N_A, return_sequences=True)
    unknown.build((None, None, N_X))
    traced = tf.function(lambda x: unknown(x),
                         input_signature=[tf.TensorSpec((None, None, N_X), tf.float32)])
    assert {op.type for op in traced.get_concrete_function().graph.get_operations()} & loops
    assert _fused.unroll_for(False, None) is False and _fused.unroll_for(True, 1000) is True
