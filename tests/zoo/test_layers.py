"""The zoo's cells and layers: exact against the NumPy reference, compatible with Keras."""
import numpy as np
import pytest
import tensorflow as tf

import keras
import zoo
from zoo import reference
from zoo.interop import course_to_keras, keras_to_course

# (name, layer class, cell class, constructor options, reference cell name)
VARIANTS = [
    ("rnn_tanh", zoo.BasicRNN, zoo.BasicRNNCell, {"activation": "tanh"}, "rnn"),
    ("rnn_relu", zoo.BasicRNN, zoo.BasicRNNCell, {"activation": "relu"}, "rnn"),
    ("gru_full", zoo.GRU, zoo.GRUCell, {"relevance_gate": True}, "gru"),
    ("gru_simplified", zoo.GRU, zoo.GRUCell, {"relevance_gate": False}, "gru"),
    ("lstm", zoo.LSTM, zoo.LSTMCell, {"peephole": False}, "lstm"),
    ("lstm_peephole", zoo.LSTM, zoo.LSTMCell, {"peephole": True}, "lstm"),
]
VARIANT_IDS = [variant[0] for variant in VARIANTS]
SHAPES = [(1, 1, 1, 1), (2, 5, 3, 4), (3, 7, 4, 2)]  # (batch, time, n_x, n_a)


def random_course_weights(layer_class, options, n_x, n_a, seed):
    """Random course weights (biases and peepholes non-zero) for a variant."""
    cell_name = {zoo.BasicRNN: "rnn", zoo.GRU: "gru", zoo.LSTM: "lstm"}[layer_class]
    return reference.initialize_parameters(
        cell_name, n_x, n_a, relevance_gate=options.get("relevance_gate", True),
        peephole=options.get("peephole", False), scale=0.6, seed=seed,
    )


def reference_forward(cell_name, options, x, weights, initial_states):
    """Reference sequence forward on batch-major x; returns batch-major a (and c for the LSTM)."""
    x_columns = np.transpose(x, (2, 0, 1))                         # (n_x, m, T_x)
    states = [np.transpose(s) for s in initial_states]            # (n_a, m)
    if cell_name == "rnn":
        a, caches = reference.rnn_forward(x_columns, states[0], weights, activation=options["activation"])
        return [np.transpose(a, (1, 2, 0))], caches
    if cell_name == "gru":
        c, caches = reference.gru_forward(x_columns, states[0], weights)
        return [np.transpose(c, (1, 2, 0))], caches
    a, c, caches = reference.lstm_forward(x_columns, states[0], weights, c0=states[1])
    return [np.transpose(a, (1, 2, 0)), np.transpose(c, (1, 2, 0))], caches


def make_layer(layer_class, options, n_x, n_a, weights, **kwargs):
    layer = layer_class(n_a, **options, dtype="float64", **kwargs)
    layer.build((None, None, n_x))
    layer.set_course_weights(weights)
    return layer


def state_count(layer_class):
    return 2 if layer_class is zoo.LSTM else 1


def force_loop(monkeypatch):
    """The fast path's compiled loop even for short sequences, which it otherwise writes out
    step by step (zoo._fused.AUTO_UNROLL_MAX_STEPS): both forms must be exact."""
    from zoo import _fused
    monkeypatch.setattr(_fused, "AUTO_UNROLL_MAX_STEPS", 0)


# How the sequence layer runs: the fast path written out step by step (the default for short
# sequences of known length), the fast path's compiled loop, or the cell through Keras's loop.
PATHS = [(True, False), (True, True), (False, False)]
PATH_IDS = ["fast_path", "fast_path_loop", "cell_path"]


@pytest.mark.parametrize("fast_path,loop", PATHS, ids=PATH_IDS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name,layer_class,cell_class,options,cell_name", VARIANTS, ids=VARIANT_IDS)
def test_layer_output_equals_numpy_reference_in_float64(name, layer_class, cell_class, options, cell_name, shape, fast_path, loop, monkeypatch):
    if loop:
        force_loop(monkeypatch)
    batch, steps, n_x, n_a = shape
    rng = np.random.default_rng(1)
    weights = random_course_weights(layer_class, options, n_x, n_a, seed=2)
    x = rng.standard_normal((batch, steps, n_x))
    initial = [rng.standard_normal((batch, n_a)) * 0.5 for _ in range(state_count(layer_class))]
    layer = make_layer(layer_class, options, n_x, n_a, weights, return_sequences=True, fast_path=fast_path)
    got = np.asarray(layer(x, initial_state=initial))
    expected, _ = reference_forward(cell_name, options, x, weights, initial)
    assert reference.relative_error(got, expected[0]) <= 1e-10


@pytest.mark.parametrize("name,layer_class,cell_class,options,cell_name", VARIANTS, ids=VARIANT_IDS)
def test_cell_inside_keras_rnn_equals_numpy_reference(name, layer_class, cell_class, options, cell_name):
    batch, steps, n_x, n_a = 2, 4, 3, 5
    weights = random_course_weights(layer_class, options, n_x, n_a, seed=3)
    cell = cell_class(n_a, **options, dtype="float64")
    cell.set_course_weights(weights)
    layer = keras.layers.RNN(cell, return_sequences=True, dtype="float64")
    x = np.random.default_rng(4).standard_normal((batch, steps, n_x))
    zeros = [np.zeros((batch, n_a))] * state_count(layer_class)
    expected, _ = reference_forward(cell_name, options, x, weights, zeros)
    assert reference.relative_error(np.asarray(layer(x)), expected[0]) <= 1e-10


def layer_gradients(layer, x, initial, upstream):
    """Autodiff gradients of L = Σ upstream · outputs w.r.t. x, initial states, course weights."""
    x = tf.constant(x)
    initial = [tf.constant(s) for s in initial]
    with tf.GradientTape() as tape:
        tape.watch([x] + initial)
        outputs = layer(x, initial_state=initial)
        loss = sum(tf.reduce_sum(o * u) for o, u in zip(outputs, upstream))
    variables = [layer.cell.kernel, layer.cell.recurrent_kernel, layer.cell.bias]
    if getattr(layer.cell, "peephole", False):
        variables.append(layer.cell.peephole_weights)
    grads = tape.gradient(loss, [x] + initial + variables)
    course = layer.cell.as_course(*grads[-len(variables):][:3])
    if len(variables) == 4:
        p = np.asarray(grads[-1])
        course.update({f"p_{g}": p[i * layer.units:(i + 1) * layer.units] for i, g in enumerate("ufo")})
    return np.asarray(grads[0]), [np.asarray(g) for g in grads[1:1 + len(initial)]], course


@pytest.mark.parametrize("fast_path,loop", PATHS, ids=PATH_IDS)
@pytest.mark.parametrize("name,layer_class,cell_class,options,cell_name", VARIANTS, ids=VARIANT_IDS)
def test_layer_gradients_equal_reference_bptt(name, layer_class, cell_class, options, cell_name, fast_path, loop, monkeypatch):
    if loop:
        force_loop(monkeypatch)
    batch, steps, n_x, n_a = 3, 5, 4, 3
    rng = np.random.default_rng(5)
    weights = random_course_weights(layer_class, options, n_x, n_a, seed=6)
    x = rng.standard_normal((batch, steps, n_x))
    initial = [rng.standard_normal((batch, n_a)) * 0.5 for _ in range(state_count(layer_class))]
    layer = make_layer(layer_class, options, n_x, n_a, weights, return_sequences=True,
                       return_state=True, fast_path=fast_path)
    # Upstream gradients on every output a⟨t⟩ and on the final states (c⟨T⟩ too for the LSTM).
    upstream_sequence = rng.standard_normal((batch, steps, n_a))
    upstream_states = [rng.standard_normal((batch, n_a)) for _ in initial]
    dx, dinitial, dweights = layer_gradients(layer, x, initial, [upstream_sequence] + upstream_states)

    _, caches = reference_forward(cell_name, options, x, weights, initial)
    da = np.transpose(upstream_sequence, (2, 0, 1)).copy()
    da[:, :, -1] += upstream_states[0].T                          # a⟨T⟩ is also the returned state
    if cell_name == "rnn":
        expected = reference.rnn_backward(da, caches)
        expected_initial = [expected["da0"]]
    elif cell_name == "gru":
        expected = reference.gru_backward(da, caches)
        expected_initial = [expected["dc0"]]
    else:
        dc = np.zeros_like(da)
        dc[:, :, -1] = upstream_states[1].T
        expected = reference.lstm_backward(da, caches, dc=dc)
        expected_initial = [expected["da0"], expected["dc0"]]
    assert reference.relative_error(dx, np.transpose(expected["dx"], (1, 2, 0))) <= 1e-8
    for got, want in zip(dinitial, expected_initial):
        assert reference.relative_error(got, want.T) <= 1e-8
    for key, value in weights.items():
        assert reference.relative_error(dweights[key], expected["d" + key]) <= 1e-8, key


@pytest.mark.parametrize("name,layer_class,cell_class,options,cell_name", VARIANTS, ids=VARIANT_IDS)
@pytest.mark.parametrize("loop", [False, True], ids=["fast_path", "fast_path_loop"])
def test_fast_path_and_cell_path_agree_in_float32(name, layer_class, cell_class, options, cell_name, loop, monkeypatch):
    if loop:
        force_loop(monkeypatch)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((4, 12, 6)).astype("float32")
    results = []
    for fast_path in (True, False):
        layer = layer_class(8, **options, return_sequences=True, fast_path=fast_path)
        layer.build(x.shape)
        if results:
            layer.set_course_weights(weights)
        weights = layer.get_course_weights()
        x_tensor = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(x_tensor)
            y = layer(x_tensor)
            loss = tf.reduce_sum(y * y)
        results.append((np.asarray(y), np.asarray(tape.gradient(loss, x_tensor))))
    (y_fast, g_fast), (y_cell, g_cell) = results
    np.testing.assert_allclose(y_fast, y_cell, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(g_fast, g_cell, rtol=1e-4, atol=1e-5)


KERAS_PARITY = [
    ("simple_rnn", zoo.BasicRNN, {}, lambda n: keras.layers.SimpleRNN(n, return_sequences=True)),
    ("gru", zoo.GRU, {}, lambda n: keras.layers.GRU(n, return_sequences=True, reset_after=False)),
    ("lstm", zoo.LSTM, {}, lambda n: keras.layers.LSTM(n, return_sequences=True)),
]


@pytest.mark.parametrize("kind,layer_class,options,make_keras", KERAS_PARITY, ids=[k[0] for k in KERAS_PARITY])
def test_course_weights_map_onto_keras_layers(kind, layer_class, options, make_keras):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((3, 9, 5)).astype("float32")
    ours = layer_class(6, **options, return_sequences=True)
    ours.build(x.shape)
    ours.set_course_weights({k: v.astype("float32") for k, v in
                             random_course_weights(layer_class, options, 5, 6, seed=9).items()})
    theirs = make_keras(6)
    theirs.build(x.shape)
    theirs.set_weights(course_to_keras(kind, ours.get_course_weights()))
    np.testing.assert_allclose(np.asarray(ours(x)), np.asarray(theirs(x)), atol=1e-5)
    back = keras_to_course(kind, theirs.get_weights())
    for key, value in ours.get_course_weights().items():
        np.testing.assert_allclose(back[key], value, atol=1e-7)


@pytest.mark.parametrize("fast_path,loop", PATHS, ids=PATH_IDS)
@pytest.mark.parametrize("name,layer_class,cell_class,options,cell_name", VARIANTS, ids=VARIANT_IDS)
def test_masked_right_padded_batch_matches_each_sequence_alone(name, layer_class, cell_class, options, cell_name, fast_path, loop, monkeypatch):
    if loop:
        force_loop(monkeypatch)
    rng = np.random.default_rng(10)
    lengths = [5, 2, 4]
    x = np.zeros((3, 5, 3), dtype="float32")
    for row, length in enumerate(lengths):
        x[row, :length] = rng.standard_normal((length, 3)) + 0.1   # never all-zero: Masking keeps it
    layer = layer_class(4, **options, return_state=True, fast_path=fast_path)
    masked = keras.Sequential([keras.Input((5, 3)), keras.layers.Masking(0.0), layer])
    batch_outputs = [np.asarray(o) for o in masked(x)]
    for row, length in enumerate(lengths):
        alone = [np.asarray(o) for o in layer(x[row:row + 1, :length])]
        for got, want in zip(batch_outputs, alone):
            np.testing.assert_allclose(got[row], want[0], rtol=1e-5, atol=1e-6)


def test_embedding_mask_zero_is_respected():
    tokens = np.array([[3, 4, 5, 0, 0], [3, 4, 5, 6, 7]])
    inputs = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(10, 4, mask_zero=True)(inputs)
    model = keras.Model(inputs, zoo.LSTM(3)(embedded))
    padded = np.asarray(model(tokens))
    unpadded_first = np.asarray(model(tokens[:1, :3]))
    np.testing.assert_allclose(padded[0], unpadded_first[0], atol=1e-6)


@pytest.mark.parametrize("fast_path,loop", PATHS, ids=PATH_IDS)
@pytest.mark.parametrize("name,layer_class,cell_class,options,cell_name", VARIANTS, ids=VARIANT_IDS)
def test_go_backwards_equals_running_on_reversed_input(name, layer_class, cell_class, options, cell_name, fast_path, loop, monkeypatch):
    if loop:
        force_loop(monkeypatch)
    x = np.random.default_rng(11).standard_normal((2, 6, 3)).astype("float32")
    forward = layer_class(4, **options, return_sequences=True, fast_path=fast_path)
    backward = layer_class(4, **options, return_sequences=True, go_backwards=True, fast_path=fast_path)
    forward.build(x.shape)
    backward.build(x.shape)
    backward.set_course_weights(forward.get_course_weights())
    np.testing.assert_allclose(np.asarray(backward(x)), np.asarray(forward(x[:, ::-1])), atol=1e-6)


@pytest.mark.parametrize("layer_class,count", [(zoo.BasicRNN, 1), (zoo.GRU, 1), (zoo.LSTM, 2)])
def test_return_state_shapes(layer_class, count):
    outputs = layer_class(7, return_sequences=True, return_state=True)(np.zeros((2, 5, 3), "float32"))
    assert [tuple(o.shape) for o in outputs] == [(2, 5, 7)] + [(2, 7)] * count
    last_state = layer_class(7, return_state=True)(np.zeros((2, 5, 3), "float32"))
    assert [tuple(o.shape) for o in last_state] == [(2, 7)] * (count + 1)


@pytest.mark.parametrize("layer_class", [zoo.BasicRNN, zoo.GRU, zoo.LSTM])
def test_bidirectional_wraps_zoo_layers(layer_class, tmp_path):
    inputs = keras.Input((6, 3))
    outputs = keras.layers.Bidirectional(layer_class(4, return_sequences=True))(inputs)
    model = keras.Model(inputs, outputs)
    x = np.random.default_rng(12).standard_normal((2, 6, 3)).astype("float32")
    y = np.asarray(model(x))
    assert y.shape == (2, 6, 8)
    bidirectional = model.layers[1]
    # The backward half is the same layer type run with go_backwards, re-reversed in time.
    expected_backward = np.asarray(bidirectional.backward_layer(x))[:, ::-1]
    np.testing.assert_allclose(y[..., 4:], expected_backward, atol=1e-6)
    model.save(tmp_path / "bi.keras")
    np.testing.assert_allclose(np.asarray(keras.models.load_model(tmp_path / "bi.keras")(x)), y, atol=1e-6)


@pytest.mark.parametrize("name,layer_class,cell_class,options,cell_name", VARIANTS, ids=VARIANT_IDS)
def test_keras_save_and_load_gives_identical_outputs(name, layer_class, cell_class, options, cell_name, tmp_path):
    inputs = keras.Input((5, 3))
    hidden = layer_class(4, **options, return_sequences=True, dropout=0.1, name="recurrent")(inputs)
    cell_hidden = keras.layers.RNN(cell_class(4, **options), name="cell_rnn")(hidden)
    model = keras.Model(inputs, keras.layers.Dense(2)(cell_hidden))
    x = np.random.default_rng(13).standard_normal((2, 5, 3)).astype("float32")
    expected = np.asarray(model(x))
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    np.testing.assert_array_equal(np.asarray(loaded(x)), expected)
    assert type(loaded.get_layer("recurrent")) is layer_class
    assert loaded.get_layer("recurrent").get_config() == model.get_layer("recurrent").get_config()


def tiny_regression(layer):
    inputs = keras.Input((8, 3))
    model = keras.Model(inputs, keras.layers.Dense(1)(layer(inputs)))
    rng = np.random.default_rng(14)
    x = rng.standard_normal((64, 8, 3)).astype("float32")
    y = x[:, :3, 0].sum(axis=1, keepdims=True)                    # depends on early steps: needs memory
    return model, x, y


@pytest.mark.parametrize("jit_compile", [False, True], ids=["eager_graph", "xla"])
@pytest.mark.parametrize("layer_class", [zoo.BasicRNN, zoo.GRU, zoo.LSTM])
def test_fit_lowers_the_loss_with_and_without_jit_compile(layer_class, jit_compile, xla_allowed):
    keras.utils.set_random_seed(0)
    model, x, y = tiny_regression(layer_class(16))
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="mse", jit_compile=jit_compile)
    assert model.jit_compile is jit_compile
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


@pytest.mark.parametrize("layer_class", [zoo.GRU, zoo.LSTM])
def test_dropout_and_recurrent_dropout_act_in_training_only(layer_class):
    x = np.random.default_rng(15).standard_normal((4, 6, 5)).astype("float32")
    layer = layer_class(8, dropout=0.5, recurrent_dropout=0.5, seed=1)
    inference = np.asarray(layer(x, training=False))
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), inference)
    assert not np.allclose(np.asarray(layer(x, training=True)), inference)
    keras.utils.set_random_seed(0)
    model, x, y = tiny_regression(layer_class(16, dropout=0.1, recurrent_dropout=0.1))
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="mse")
    assert np.isfinite(model.fit(x, y, epochs=2, verbose=0).history["loss"][-1])


def test_mixed_float16_policy_runs_and_trains():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        for layer_class in (zoo.BasicRNN, zoo.GRU, zoo.LSTM):
            layer = layer_class(16)
            model, x, y = tiny_regression(layer)
            assert layer.compute_dtype == "float16" and layer.cell.kernel.dtype == "float32"
            assert np.asarray(layer(x[:2])).dtype == np.float16
            model.compile(optimizer=keras.optimizers.Adam(0.02), loss="mse")
            history = model.fit(x, y, epochs=3, verbose=0)
            assert np.all(np.isfinite(history.history["loss"]))
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("layer_class", [zoo.BasicRNN, zoo.GRU, zoo.LSTM])
def test_float64_layers_compute_in_float64(layer_class):
    layer = layer_class(3, dtype="float64")
    y = layer(np.random.default_rng(16).standard_normal((2, 4, 3)))
    assert y.dtype == tf.float64 and layer.cell.kernel.dtype == "float64"


@pytest.mark.parametrize("layer_class", [zoo.BasicRNN, zoo.GRU, zoo.LSTM])
def test_stateful_layer_carries_state_between_calls(layer_class):
    x = np.random.default_rng(17).standard_normal((2, 6, 3)).astype("float32")
    whole = layer_class(4)
    whole.build(x.shape)
    stateful = layer_class(4, stateful=True)
    stateful(keras.ops.zeros((2, 1, 3)))
    stateful.reset_state()
    stateful.set_course_weights(whole.get_course_weights())
    stateful(x[:, :3])
    np.testing.assert_allclose(np.asarray(stateful(x[:, 3:])), np.asarray(whole(x)), atol=1e-6)


@pytest.mark.parametrize("layer_class", [zoo.BasicRNN, zoo.GRU, zoo.LSTM])
def test_initial_state_at_call_time_is_used(layer_class):
    x = np.random.default_rng(18).standard_normal((2, 1, 3)).astype("float32")
    layer = layer_class(4)
    zeros = [np.zeros((2, 4), "float32")] * state_count(layer_class)
    ones = [np.ones((2, 4), "float32")] * state_count(layer_class)
    np.testing.assert_allclose(np.asarray(layer(x, initial_state=zeros)), np.asarray(layer(x)), atol=1e-7)
    assert not np.allclose(np.asarray(layer(x, initial_state=ones)), np.asarray(layer(x)))


@pytest.mark.parametrize("units", [0, -3, 2.5, "4", True, None])
@pytest.mark.parametrize("factory", [zoo.BasicRNNCell, zoo.GRUCell, zoo.LSTMCell, zoo.BasicRNN, zoo.GRU, zoo.LSTM])
def test_bad_units_raise_value_error_naming_argument_and_value(factory, units):
    with pytest.raises(ValueError, match=r"units") as error:
        factory(units)
    assert repr(units) in str(error.value)


@pytest.mark.parametrize("factory", [zoo.BasicRNNCell, zoo.BasicRNN])
def test_unknown_activation_raises_value_error(factory):
    with pytest.raises(ValueError, match=r"activation.*'sigmoidal'"):
        factory(4, activation="sigmoidal")


@pytest.mark.parametrize("layer_class", [zoo.BasicRNN, zoo.GRU, zoo.LSTM])
@pytest.mark.parametrize("shape", [(2, 3), (2, 3, 4, 5)])
def test_input_that_is_not_rank_3_raises_with_expected_shape(layer_class, shape):
    with pytest.raises(ValueError, match=r"\(batch, time, features\)"):
        layer_class(4)(np.zeros(shape, "float32"))


@pytest.mark.parametrize("rate", [-0.1, 1.0, "0.5"])
def test_bad_dropout_rate_raises(rate):
    with pytest.raises(ValueError, match="dropout"):
        zoo.LSTM(4, dropout=rate)


def test_set_course_weights_rejects_wrong_keys_and_shapes_listing_what_was_expected():
    cell = zoo.LSTMCell(3)
    good = random_course_weights(zoo.LSTM, {}, 2, 3, seed=19)
    missing = {k: v for k, v in good.items() if k != "b_o"}
    with pytest.raises(ValueError, match=r"W_c \(3, 5\).*b_o \(3,\)"):
        cell.set_course_weights({**good, "W_o": np.zeros((3, 4))})   # builds from W_c, then fails
    with pytest.raises(ValueError, match=r"expected exactly the keys"):
        cell.set_course_weights(missing)
    with pytest.raises(ValueError, match=r"W_r"):
        zoo.GRUCell(3).set_course_weights({"W_c": np.zeros((3, 5))})
    cell.set_course_weights(good)
    for key, value in cell.get_course_weights().items():
        np.testing.assert_allclose(value, good[key], rtol=1e-6)


def test_simplified_gru_and_peephole_lstm_course_keys():
    assert sorted(zoo.GRUCell(2, relevance_gate=False).course_weight_shapes(3)) == ["W_c", "W_u", "b_c", "b_u"]
    assert set(zoo.LSTMCell(2, peephole=True).course_weight_shapes(3)) >= {"p_u", "p_f", "p_o"}


@pytest.mark.parametrize("name,layer_class,cell_class,options,cell_name", VARIANTS, ids=VARIANT_IDS)
def test_fast_path_trains_with_an_unknown_time_dimension(name, layer_class, cell_class, options, cell_name):
    layer = layer_class(4, **options, return_sequences=True)
    layer.build((None, None, 3))

    @tf.function(input_signature=[tf.TensorSpec((None, None, 3), tf.float32)])
    def loss_and_gradients(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(x) ** 2)
        return loss, tape.gradient(loss, layer.trainable_variables)

    x = np.random.default_rng(20).standard_normal((2, 5, 3)).astype("float32")
    loss, gradients = loss_and_gradients(x)
    with tf.GradientTape() as tape:
        eager_loss = tf.reduce_sum(layer(x) ** 2)
    for got, want in zip(gradients, tape.gradient(eager_loss, layer.trainable_variables)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-6)
    assert np.isfinite(float(loss)) and float(loss_and_gradients(x[:, :2])[0]) > 0
