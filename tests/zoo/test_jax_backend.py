"""The layers under KERAS_BACKEND=jax (what a GPU machine with JAX and no TensorFlow runs).

In a subprocess (the backend is fixed per process), in float32 on the CPU (Keras's ops compute
in 32 bits under JAX: `ops.tanh` of a float64 tensor is float32 there, so no float64 layer,
Keras's own included, runs under JAX): for every cell and
option, unmasked and with a padded and holed mask, forwards and backwards, the fast path (its
loops written out step by step, as for short sequences, and compiled; the
hand-written BPTT of zoo/_fused.py through `keras.ops.custom_gradient`, which JAX calls with
its own conventions) gives the same outputs, final states and gradients (inputs, initial
states, every weight; `jax.grad` of `stateless_call`) as the cell path run by Keras's loop with
JAX's autodiff; and a small model with Bidirectional zoo layers trains with `fit`.
"""
import textwrap

import pytest

from tests.zoo.jax_subprocess import needs_jax, run_under_jax

JAX_SCRIPT = textwrap.dedent("""
    import numpy as np, jax, keras, zoo
    from zoo import _fused
    assert keras.backend.backend() == "jax"
    B, T, NX, NA = 5, 7, 3, 4
    MASK = np.array([[1, 1, 1, 1, 0, 0, 0], [0, 1, 0, 1, 1, 0, 1], [0, 0, 0, 0, 0, 0, 0],
                     [1, 1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0, 1]], bool)
    VARIANTS = [(zoo.BasicRNN, {"activation": "tanh"}), (zoo.BasicRNN, {"activation": "relu"}),
                (zoo.GRU, {"relevance_gate": True}), (zoo.GRU, {"relevance_gate": False}),
                (zoo.LSTM, {"peephole": False}), (zoo.LSTM, {"peephole": True})]
    rng = np.random.default_rng(0)
    checked = 0
    for layer_class, options in VARIANTS:
        n_states = 2 if layer_class is zoo.LSTM else 1
        # The fast path written out step by step (short sequences), then its compiled loop.
        for _fused.AUTO_UNROLL_MAX_STEPS, go_backwards, masked in (
                (32, False, False), (32, True, True),
                (0, False, False), (0, False, True), (0, True, False), (0, True, True)):
            layers = [layer_class(NA, **options, fast_path=fast,
                                  return_sequences=True, return_state=True,
                                  go_backwards=go_backwards) for fast in (True, False)]
            for layer in layers:
                layer.build((None, T, NX))
            weights = [(rng.standard_normal(tuple(w.shape)) * 0.5).astype("float32")
                       for w in layers[0].weights]
            for layer in layers:
                layer.set_weights(weights)
            x = rng.standard_normal((B, T, NX)).astype("float32")
            initial = [rng.standard_normal((B, NA)).astype("float32") for _ in range(n_states)]
            mask = MASK if masked else None
            upstream = [rng.standard_normal((B, T, NA)).astype("float32")] + [
                rng.standard_normal((B, NA)).astype("float32") for _ in range(n_states)]
            results = []
            for layer in layers:
                def loss(values, x, initial, layer=layer):
                    fixed = [v.value for v in layer.non_trainable_variables]
                    outputs, _ = layer.stateless_call(values, fixed, x, initial_state=initial,
                                                      mask=mask)
                    return sum(jax.numpy.sum(o * u) for o, u in zip(outputs, upstream)), outputs
                values = [v.value for v in layer.trainable_variables]
                (_, outputs), grads = jax.value_and_grad(loss, argnums=(0, 1, 2), has_aux=True)(
                    values, x, initial)
                results.append([np.asarray(o) for o in outputs]
                               + [np.asarray(g) for g in jax.tree_util.tree_leaves(grads)])
            fast, cell = results
            assert len(fast) == len(cell) == 1 + n_states + len(weights) + 1 + n_states
            for index, (f, c) in enumerate(zip(fast, cell)):
                np.testing.assert_allclose(f, c, rtol=1e-5, atol=1e-5, err_msg=(
                    f"{layer_class.__name__} {options} go_backwards={go_backwards} "
                    f"masked={masked} unroll<={_fused.AUTO_UNROLL_MAX_STEPS}: item {index}"))
            assert all(np.any(g != 0) for g in fast[1 + n_states:])
            checked += 1
    keras.utils.set_random_seed(1)
    tokens = rng.integers(1, 20, size=(64, 9))
    tokens[::2, 6:] = 0
    labels = (tokens % 3 == 0).astype("float32")[..., None]
    inputs = keras.Input((9,), dtype="int32")
    h = keras.layers.Embedding(20, 8, mask_zero=True)(inputs)
    h = keras.layers.Bidirectional(zoo.LSTM(8, return_sequences=True))(h)
    h = keras.layers.Bidirectional(zoo.GRU(8, return_sequences=True))(h)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(h))
    model.compile(keras.optimizers.Adam(0.02), "binary_crossentropy")
    history = model.fit(tokens, labels, batch_size=16, epochs=15, verbose=0).history["loss"]
    assert history[-1] < 0.5 * history[0], history
    print("JAX LAYERS OK", checked, history[0], history[-1])
""")


@pytest.mark.slow  # ~1 min: a fresh process importing keras + jax and compiling every variant
@needs_jax
def test_layers_under_the_jax_backend():
    output = run_under_jax(JAX_SCRIPT, timeout=900)
    assert "JAX LAYERS OK 36" in output, output[-2000:]
