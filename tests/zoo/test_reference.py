"""zoo.reference: the float64 NumPy ground truth (course equations, BPTT, gradient check)."""
import math

import numpy as np
import pytest

from zoo import reference as ref

# (n_x, n_a, m, T_x): the smallest case, a single example, a single time step, and n_x != n_a.
SHAPES = [(1, 1, 1, 1), (3, 2, 1, 4), (2, 4, 3, 1), (4, 3, 2, 3)]
SHAPE_IDS = ["nx1-na1-m1-T1", "nx3-na2-m1-T4", "nx2-na4-m3-T1", "nx4-na3-m2-T3"]

# name: (cell, initialize_parameters options, activation)
VARIANTS = {
    "rnn_tanh": ("rnn", {}, "tanh"),
    "rnn_relu": ("rnn", {}, "relu"),
    "gru_full": ("gru", {}, "tanh"),
    "gru_simplified": ("gru", {"relevance_gate": False}, "tanh"),
    "lstm": ("lstm", {}, "tanh"),
    "lstm_peephole": ("lstm", {"peephole": True}, "tanh"),
}
TOLERANCE = 1e-7


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def make_case(variant, shape, seed=0):
    """Random parameters, inputs and (non-zero) initial states for one variant and shape."""
    cell, options, activation = VARIANTS[variant]
    n_x, n_a, m, T_x = shape
    parameters = ref.initialize_parameters(cell, n_x, n_a, seed=seed, **options)
    random = np.random.default_rng(seed + 100)
    x = random.standard_normal((n_x, m, T_x))
    a0 = random.standard_normal((n_a, m))
    initial_state = (a0, random.standard_normal((n_a, m))) if cell == "lstm" else a0
    return cell, activation, x, parameters, initial_state


def sequence_forward(cell, x, parameters, initial_state, activation="tanh"):
    """[a] (rnn), [c] (gru) or [a, c] (lstm), and the caches."""
    if cell == "rnn":
        a, caches = ref.rnn_forward(x, initial_state, parameters, activation)
        return [a], caches
    if cell == "gru":
        c, caches = ref.gru_forward(x, initial_state, parameters)
        return [c], caches
    a, c, caches = ref.lstm_forward(x, initial_state[0], parameters, initial_state[1])
    return [a, c], caches


def assert_bptt_matches_finite_differences(variant, shape):
    cell, activation, x, parameters, initial_state = make_case(variant, shape)
    errors = ref.gradient_check(cell, x, parameters, initial_state, activation=activation, seed=1)
    states = ["da0", "dc0"] if cell == "lstm" else ["dc0" if cell == "gru" else "da0"]
    assert list(errors) == ["dx", *states, *("d" + key for key in parameters)]
    worst = max(errors, key=errors.get)
    assert errors[worst] <= TOLERANCE, f"{worst}: relative error {errors[worst]:.3e}; all: {errors}"


# ----------------------------------------------------------------------------------------------
# Parameters
# ----------------------------------------------------------------------------------------------

def test_parameter_keys_follow_the_course_order():
    assert ref.parameter_keys("rnn") == ["W_a", "b_a"]
    assert ref.parameter_keys("gru") == ["W_c", "b_c", "W_u", "b_u", "W_r", "b_r"]
    assert ref.parameter_keys("gru", relevance_gate=False) == ["W_c", "b_c", "W_u", "b_u"]
    assert ref.parameter_keys("lstm") == ["W_c", "b_c", "W_u", "b_u", "W_f", "b_f", "W_o", "b_o"]
    assert ref.parameter_keys("lstm", peephole=True) == [
        "W_c", "b_c", "W_u", "b_u", "W_f", "b_f", "W_o", "b_o", "p_u", "p_f", "p_o"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_initialize_parameters_gives_course_shapes_float64_and_nonzero_biases(variant):
    cell, options, _ = VARIANTS[variant]
    parameters = ref.initialize_parameters(cell, 3, 5, **options)
    assert list(parameters) == ref.parameter_keys(cell, **options)
    for key, value in parameters.items():
        assert value.dtype == np.float64
        assert value.shape == ((5, 8) if key.startswith("W_") else (5,)), key
        assert np.all(value != 0.0), key


def test_initialize_parameters_is_reproducible_and_scaled():
    first = ref.initialize_parameters("lstm", 2, 3, seed=7)
    again = ref.initialize_parameters("lstm", 2, 3, seed=7)
    doubled = ref.initialize_parameters("lstm", 2, 3, seed=7, scale=1.0)
    other = ref.initialize_parameters("lstm", 2, 3, seed=8)
    for key in first:
        np.testing.assert_array_equal(first[key], again[key])
        np.testing.assert_allclose(doubled[key], 2.0 * first[key], rtol=1e-15)
        assert not np.array_equal(first[key], other[key])


def test_initialize_parameters_variants_share_their_common_keys():
    full = ref.initialize_parameters("gru", 2, 3, seed=4)
    simplified = ref.initialize_parameters("gru", 2, 3, seed=4, relevance_gate=False)
    for key in simplified:
        np.testing.assert_array_equal(full[key], simplified[key])


# ----------------------------------------------------------------------------------------------
# Cell forwards, computed by hand (n_a = 1, n_x = 1, two examples), previous state first in W
# ----------------------------------------------------------------------------------------------

XT = np.array([[0.7, -1.2]])          # x⟨t⟩ for two examples
STATE = np.array([[0.2, -0.5]])       # a⟨t−1⟩ (or c⟨t−1⟩)
CELL_STATE = np.array([[-0.8, 1.5]])  # c⟨t−1⟩ of the LSTM


def test_rnn_cell_forward_tanh_matches_hand_computation():
    parameters = {"W_a": np.array([[0.5, -0.3]]), "b_a": np.array([0.1])}
    a_next, _ = ref.rnn_cell_forward(XT, STATE, parameters)
    expected = [math.tanh(0.5 * a + -0.3 * x + 0.1) for a, x in zip(STATE[0], XT[0])]
    np.testing.assert_allclose(a_next, [expected], rtol=1e-12, atol=1e-15)


def test_rnn_cell_forward_relu_matches_hand_computation():
    parameters = {"W_a": np.array([[0.5, -0.3]]), "b_a": np.array([0.1])}
    a_next, _ = ref.rnn_cell_forward(XT, STATE, parameters, activation="relu")
    # Example 0: z = 0.1 − 0.21 + 0.1 = −0.01 → 0. Example 1: z = −0.25 + 0.36 + 0.1 = 0.21.
    np.testing.assert_allclose(a_next, [[0.0, 0.21]], rtol=1e-12, atol=1e-15)


def test_rnn_cell_forward_puts_the_previous_state_first():
    # n_a = 1, n_x = 2: W_a = [w_aa | w_ax1 w_ax2], so a wrong concat order would change the result.
    parameters = {"W_a": np.array([[2.0, 0.0, 0.0]]), "b_a": np.array([0.0])}
    a_next, _ = ref.rnn_cell_forward(np.array([[5.0], [7.0]]), np.array([[0.25]]), parameters)
    assert a_next[0, 0] == math.tanh(0.5)


GRU_PARAMETERS = {
    "W_c": np.array([[0.9, -0.4]]), "b_c": np.array([0.05]),
    "W_u": np.array([[-0.6, 0.3]]), "b_u": np.array([0.2]),
    "W_r": np.array([[0.8, 0.5]]), "b_r": np.array([-0.1]),
}


def gru_by_hand(c, x, relevance_gate=True):
    gamma_u = sigmoid(-0.6 * c + 0.3 * x + 0.2)
    gamma_r = sigmoid(0.8 * c + 0.5 * x - 0.1) if relevance_gate else 1.0
    c_tilde = math.tanh(0.9 * gamma_r * c - 0.4 * x + 0.05)
    return gamma_u * c_tilde + (1.0 - gamma_u) * c


def test_gru_cell_forward_matches_hand_computation():
    c_next, _ = ref.gru_cell_forward(XT, STATE, GRU_PARAMETERS)
    expected = [gru_by_hand(c, x) for c, x in zip(STATE[0], XT[0])]
    np.testing.assert_allclose(c_next, [expected], rtol=1e-12, atol=1e-15)


def test_simplified_gru_cell_forward_matches_hand_computation():
    parameters = {key: GRU_PARAMETERS[key] for key in ("W_c", "b_c", "W_u", "b_u")}
    c_next, _ = ref.gru_cell_forward(XT, STATE, parameters)
    expected = [gru_by_hand(c, x, relevance_gate=False) for c, x in zip(STATE[0], XT[0])]
    np.testing.assert_allclose(c_next, [expected], rtol=1e-12, atol=1e-15)


LSTM_PARAMETERS = {
    "W_c": np.array([[0.9, -0.4]]), "b_c": np.array([0.05]),
    "W_u": np.array([[-0.6, 0.3]]), "b_u": np.array([0.2]),
    "W_f": np.array([[0.4, 0.7]]), "b_f": np.array([1.0]),
    "W_o": np.array([[-0.2, -0.9]]), "b_o": np.array([-0.3]),
}
PEEPHOLES = {"p_u": np.array([0.6]), "p_f": np.array([-0.7]), "p_o": np.array([0.35])}


def lstm_by_hand(a, c, x, p_u=0.0, p_f=0.0, p_o=0.0):
    c_tilde = math.tanh(0.9 * a - 0.4 * x + 0.05)
    gamma_u = sigmoid(-0.6 * a + 0.3 * x + p_u * c + 0.2)
    gamma_f = sigmoid(0.4 * a + 0.7 * x + p_f * c + 1.0)
    gamma_o = sigmoid(-0.2 * a - 0.9 * x + p_o * c - 0.3)   # the previous cell c⟨t−1⟩, as specified
    c_next = gamma_u * c_tilde + gamma_f * c
    return gamma_o * math.tanh(c_next), c_next


def test_lstm_cell_forward_matches_hand_computation():
    a_next, c_next, _ = ref.lstm_cell_forward(XT, STATE, CELL_STATE, LSTM_PARAMETERS)
    expected = [lstm_by_hand(a, c, x) for a, c, x in zip(STATE[0], CELL_STATE[0], XT[0])]
    np.testing.assert_allclose(a_next, [[pair[0] for pair in expected]], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(c_next, [[pair[1] for pair in expected]], rtol=1e-12, atol=1e-15)


def test_lstm_peephole_cell_forward_matches_hand_computation():
    parameters = {**LSTM_PARAMETERS, **PEEPHOLES}
    a_next, c_next, _ = ref.lstm_cell_forward(XT, STATE, CELL_STATE, parameters)
    expected = [lstm_by_hand(a, c, x, 0.6, -0.7, 0.35) for a, c, x in zip(STATE[0], CELL_STATE[0], XT[0])]
    np.testing.assert_allclose(a_next, [[pair[0] for pair in expected]], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(c_next, [[pair[1] for pair in expected]], rtol=1e-12, atol=1e-15)


# ----------------------------------------------------------------------------------------------
# Sequence forwards
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("variant", VARIANTS)
def test_sequence_forward_equals_looping_the_cell_forward(variant, shape):
    cell, activation, x, parameters, initial_state = make_case(variant, shape)
    sequences, caches = sequence_forward(cell, x, parameters, initial_state, activation)
    cell_caches, cached_x = caches
    assert len(cell_caches) == x.shape[2]
    np.testing.assert_array_equal(cached_x, x)
    states = list(initial_state) if cell == "lstm" else [initial_state]
    for t in range(x.shape[2]):
        if cell == "rnn":
            states = [ref.rnn_cell_forward(x[:, :, t], states[0], parameters, activation)[0]]
        elif cell == "gru":
            states = [ref.gru_cell_forward(x[:, :, t], states[0], parameters)[0]]
        else:
            states = list(ref.lstm_cell_forward(x[:, :, t], states[0], states[1], parameters)[:2])
        for sequence, state in zip(sequences, states):
            assert sequence.dtype == np.float64
            np.testing.assert_array_equal(sequence[:, :, t], state)


def test_sequence_forwards_start_from_zero_states_when_none_are_given():
    n_x, n_a, m, T_x = 3, 2, 2, 3
    x = np.random.default_rng(0).standard_normal((n_x, m, T_x))
    zeros = np.zeros((n_a, m))
    rnn = ref.initialize_parameters("rnn", n_x, n_a)
    gru = ref.initialize_parameters("gru", n_x, n_a)
    lstm = ref.initialize_parameters("lstm", n_x, n_a)
    np.testing.assert_array_equal(ref.rnn_forward(x, None, rnn)[0], ref.rnn_forward(x, zeros, rnn)[0])
    np.testing.assert_array_equal(ref.gru_forward(x, None, gru)[0], ref.gru_forward(x, zeros, gru)[0])
    a_default, c_default, _ = ref.lstm_forward(x, None, lstm)
    a_zero, c_zero, _ = ref.lstm_forward(x, zeros, lstm, zeros)
    np.testing.assert_array_equal(a_default, a_zero)
    np.testing.assert_array_equal(c_default, c_zero)


def test_sigmoid_gates_do_not_overflow_for_huge_pre_activations():
    parameters = ref.initialize_parameters("lstm", 2, 3)
    parameters["b_u"][:] = -1e4
    parameters["b_f"][:] = 1e4
    x = np.ones((2, 1, 2))
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        a, c, _ = ref.lstm_forward(x, np.zeros((3, 1)), parameters)
    assert np.all(np.isfinite(a)) and np.all(np.isfinite(c))


# ----------------------------------------------------------------------------------------------
# Backpropagation through time == centered finite differences (inputs, initial states, parameters)
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_rnn_tanh_bptt_matches_finite_differences(shape):
    assert_bptt_matches_finite_differences("rnn_tanh", shape)


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_rnn_relu_bptt_matches_finite_differences(shape):
    assert_bptt_matches_finite_differences("rnn_relu", shape)


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_gru_full_bptt_matches_finite_differences(shape):
    assert_bptt_matches_finite_differences("gru_full", shape)


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_gru_simplified_bptt_matches_finite_differences(shape):
    assert_bptt_matches_finite_differences("gru_simplified", shape)


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_lstm_bptt_matches_finite_differences(shape):
    assert_bptt_matches_finite_differences("lstm", shape)


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_lstm_peephole_bptt_matches_finite_differences(shape):
    assert_bptt_matches_finite_differences("lstm_peephole", shape)


def test_rnn_relu_gradient_check_covers_both_sides_of_the_kink():
    # The relu cases above must not be vacuous: some units are off (z < 0), some are on.
    cell, activation, x, parameters, a0 = make_case("rnn_relu", SHAPES[-1])
    a, _ = ref.rnn_forward(x, a0, parameters, activation)
    assert np.any(a == 0.0) and np.any(a > 0.0)


def test_gradient_check_flags_a_wrong_backward(monkeypatch):
    def backward_missing_the_recurrent_path(da_next, cache):
        gradients = original(da_next, cache)
        return {**gradients, "da_prev": np.zeros_like(gradients["da_prev"])}

    original = ref.rnn_cell_backward
    monkeypatch.setattr(ref, "rnn_cell_backward", backward_missing_the_recurrent_path)
    _, activation, x, parameters, a0 = make_case("rnn_tanh", (3, 2, 2, 3))
    errors = ref.gradient_check("rnn", x, parameters, a0, activation=activation)
    assert errors["dW_a"] > 1e-3 and errors["da0"] == 1.0


def test_gradient_check_leaves_its_arguments_untouched():
    cell, _, x, parameters, (a0, c0) = make_case("lstm_peephole", (2, 3, 2, 2))
    copies = [x.copy(), a0.copy(), c0.copy(), {key: value.copy() for key, value in parameters.items()}]
    ref.gradient_check(cell, x, parameters, (a0, c0))
    np.testing.assert_array_equal(x, copies[0])
    np.testing.assert_array_equal(a0, copies[1])
    np.testing.assert_array_equal(c0, copies[2])
    for key in parameters:
        np.testing.assert_array_equal(parameters[key], copies[3][key])


def test_lstm_gradient_check_accepts_a0_alone_and_checks_dc0_at_zero():
    _, _, x, parameters, (a0, _) = make_case("lstm", (2, 3, 2, 2))
    errors = ref.gradient_check("lstm", x, parameters, a0)
    assert "dc0" in errors and max(errors.values()) <= TOLERANCE


# ----------------------------------------------------------------------------------------------
# Variants reduce to each other
# ----------------------------------------------------------------------------------------------

def test_full_gru_with_saturated_relevance_gate_matches_simplified_gru():
    n_x, n_a, m, T_x = 3, 4, 2, 5
    full = ref.initialize_parameters("gru", n_x, n_a, seed=3)
    full["b_r"] = np.full(n_a, 50.0)                      # σ(50 + small) == 1.0 in float64: Γ_r ≡ 1
    simplified = {key: full[key] for key in ref.parameter_keys("gru", relevance_gate=False)}
    random = np.random.default_rng(5)
    x, c0 = random.standard_normal((n_x, m, T_x)), random.standard_normal((n_a, m))
    dc = random.standard_normal((n_a, m, T_x))

    c_full, caches_full = ref.gru_forward(x, c0, full)
    c_simplified, caches_simplified = ref.gru_forward(x, c0, simplified)
    np.testing.assert_allclose(c_full, c_simplified, rtol=0, atol=1e-12)

    gradients_full = ref.gru_backward(dc, caches_full)
    gradients_simplified = ref.gru_backward(dc, caches_simplified)
    for name, gradient in gradients_simplified.items():
        np.testing.assert_allclose(gradients_full[name], gradient, rtol=0, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(gradients_full["dW_r"], 0.0, atol=1e-12)
    np.testing.assert_allclose(gradients_full["db_r"], 0.0, atol=1e-12)


def test_lstm_peephole_with_zero_peepholes_equals_plain_lstm():
    n_x, n_a, m, T_x = 2, 3, 2, 4
    plain = ref.initialize_parameters("lstm", n_x, n_a, seed=6)
    peephole = {**plain, "p_u": np.zeros(n_a), "p_f": np.zeros(n_a), "p_o": np.zeros(n_a)}
    random = np.random.default_rng(7)
    x = random.standard_normal((n_x, m, T_x))
    a0, c0 = random.standard_normal((n_a, m)), random.standard_normal((n_a, m))
    da, dc = random.standard_normal((n_a, m, T_x)), random.standard_normal((n_a, m, T_x))

    a_plain, c_plain, caches_plain = ref.lstm_forward(x, a0, plain, c0)
    a_peep, c_peep, caches_peep = ref.lstm_forward(x, a0, peephole, c0)
    np.testing.assert_allclose(a_peep, a_plain, rtol=0, atol=1e-12)
    np.testing.assert_allclose(c_peep, c_plain, rtol=0, atol=1e-12)

    gradients_plain = ref.lstm_backward(da, caches_plain, dc)
    gradients_peep = ref.lstm_backward(da, caches_peep, dc)
    for name, gradient in gradients_plain.items():
        np.testing.assert_allclose(gradients_peep[name], gradient, rtol=0, atol=1e-12, err_msg=name)


def test_lstm_backward_without_dc_equals_zero_dc():
    cell, _, x, parameters, (a0, c0) = make_case("lstm", (2, 3, 2, 3))
    _, _, caches = ref.lstm_forward(x, a0, parameters, c0)
    da = np.random.default_rng(1).standard_normal((3, 2, 3))
    without = ref.lstm_backward(da, caches)
    with_zeros = ref.lstm_backward(da, caches, np.zeros_like(da))
    for name in with_zeros:
        np.testing.assert_array_equal(without[name], with_zeros[name])


# ----------------------------------------------------------------------------------------------
# Gradient dictionaries
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("variant", VARIANTS)
def test_gradient_keys_are_inputs_states_and_d_prefixed_parameter_keys(variant):
    cell, activation, x, parameters, initial_state = make_case(variant, (3, 2, 2, 3))
    sequences, caches = sequence_forward(cell, x, parameters, initial_state, activation)
    upstream = np.ones_like(sequences[0])
    step = np.ones_like(sequences[0][:, :, 0])
    d_parameters = ["d" + key for key in parameters]
    last_cache = caches[0][-1]
    if cell == "rnn":
        cell_gradients, sequence_gradients = ref.rnn_cell_backward(step, last_cache), ref.rnn_backward(upstream, caches)
        expected_cell, expected_sequence = ["dxt", "da_prev"], ["dx", "da0"]
    elif cell == "gru":
        cell_gradients, sequence_gradients = ref.gru_cell_backward(step, last_cache), ref.gru_backward(upstream, caches)
        expected_cell, expected_sequence = ["dxt", "dc_prev"], ["dx", "dc0"]
    else:
        cell_gradients = ref.lstm_cell_backward(step, step, last_cache)
        sequence_gradients = ref.lstm_backward(upstream, caches, upstream)
        expected_cell, expected_sequence = ["dxt", "da_prev", "dc_prev"], ["dx", "da0", "dc0"]
    assert list(cell_gradients) == expected_cell + d_parameters
    assert list(sequence_gradients) == expected_sequence + d_parameters
    for key in parameters:
        assert sequence_gradients["d" + key].shape == parameters[key].shape
        assert sequence_gradients["d" + key].dtype == np.float64
    assert sequence_gradients["dx"].shape == x.shape


# ----------------------------------------------------------------------------------------------
# numerical_gradient and relative_error
# ----------------------------------------------------------------------------------------------

def test_numerical_gradient_of_a_cubic_matches_its_derivative_and_restores_the_array():
    array = np.random.default_rng(0).standard_normal((3, 2))
    before = array.copy()
    gradient = ref.numerical_gradient(lambda: np.sum(array ** 3), array, eps=1e-5)
    np.testing.assert_allclose(gradient, 3.0 * before ** 2, rtol=1e-8, atol=1e-9)
    np.testing.assert_array_equal(array, before)


def test_numerical_gradient_restores_the_array_when_f_raises():
    array = np.array([1.0, 2.0])

    def failing():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        ref.numerical_gradient(failing, array)
    np.testing.assert_array_equal(array, [1.0, 2.0])


def test_numerical_gradient_needs_a_float64_array_to_perturb():
    with pytest.raises(ValueError, match="float64"):
        ref.numerical_gradient(lambda: 0.0, np.zeros(3, dtype=np.float32))


def test_relative_error_is_normalized_and_zero_for_two_zero_arrays():
    assert ref.relative_error(np.zeros(4), np.zeros(4)) == 0.0
    assert ref.relative_error([3.0, 4.0], [3.0, 4.0]) == 0.0
    assert ref.relative_error([1.0, 0.0], [-1.0, 0.0]) == 1.0
    assert ref.relative_error([2.0], [1.0]) == pytest.approx(1.0 / 3.0, rel=1e-15)
    with pytest.raises(ValueError, match="shape"):
        ref.relative_error(np.zeros(2), np.zeros(3))


# ----------------------------------------------------------------------------------------------
# Validation: ValueError saying what was expected and what was received
# ----------------------------------------------------------------------------------------------

def test_transposed_weight_is_rejected_with_expected_and_received_shapes():
    parameters = ref.initialize_parameters("gru", 3, 4)
    parameters["W_u"] = parameters["W_u"].T
    with pytest.raises(ValueError) as error:
        ref.gru_cell_forward(np.zeros((3, 2)), np.zeros((4, 2)), parameters)
    assert str(error.value) == "W_u must have shape (4, 7) = (n_a, n_a + n_x); received (7, 4)"


@pytest.mark.parametrize("key", ["b_a", "W_a"])
def test_rnn_parameter_of_wrong_shape_is_named(key):
    parameters = ref.initialize_parameters("rnn", 2, 3)
    parameters[key] = parameters[key][:-1]
    with pytest.raises(ValueError, match=f"^{key} must have shape"):
        ref.rnn_forward(np.zeros((2, 1, 2)), np.zeros((3, 1)), parameters)


def test_peephole_of_wrong_shape_is_named():
    parameters = ref.initialize_parameters("lstm", 2, 3, peephole=True)
    parameters["p_o"] = np.zeros((3, 1))
    with pytest.raises(ValueError, match=r"p_o must have shape \(3,\) = \(n_a,\); received \(3, 1\)"):
        ref.lstm_cell_forward(np.zeros((2, 1)), np.zeros((3, 1)), np.zeros((3, 1)), parameters)


def test_missing_parameter_is_named():
    parameters = ref.initialize_parameters("lstm", 2, 3)
    del parameters["b_f"]
    with pytest.raises(ValueError, match=r"missing \['b_f'\]"):
        ref.lstm_forward(np.zeros((2, 1, 2)), np.zeros((3, 1)), parameters)


def test_incomplete_peephole_set_is_rejected():
    parameters = ref.initialize_parameters("lstm", 2, 3, peephole=True)
    del parameters["p_o"]
    with pytest.raises(ValueError, match=r"missing \['p_o'\]"):
        ref.lstm_forward(np.zeros((2, 1, 2)), np.zeros((3, 1)), parameters)


def test_unexpected_parameter_is_named():
    parameters = {**ref.initialize_parameters("rnn", 2, 3), "W_y": np.zeros((1, 3))}
    with pytest.raises(ValueError, match=r"unexpected \['W_y'\]"):
        ref.rnn_cell_forward(np.zeros((2, 1)), np.zeros((3, 1)), parameters)


def test_gru_with_b_r_but_no_W_r_is_rejected():
    parameters = ref.initialize_parameters("gru", 2, 3)
    del parameters["W_r"]
    with pytest.raises(ValueError, match=r"unexpected \['b_r'\]"):
        ref.gru_forward(np.zeros((2, 1, 2)), np.zeros((3, 1)), parameters)


@pytest.mark.parametrize("bad_x, received", [(np.zeros((2, 3)), r"\(2, 3\)"), (np.zeros((2, 1, 0)), r"\(2, 1, 0\)")])
def test_sequence_input_of_wrong_rank_or_empty_is_rejected(bad_x, received):
    parameters = ref.initialize_parameters("rnn", 2, 3)
    with pytest.raises(ValueError, match=rf"x must be a rank-3 array of shape \(n_x, m, T_x\).*received shape {received}"):
        ref.rnn_forward(bad_x, np.zeros((3, 3)), parameters)


def test_initial_state_with_another_batch_size_is_rejected():
    parameters = ref.initialize_parameters("gru", 2, 3)
    with pytest.raises(ValueError, match=r"c0 must have shape \(n_a, m\) with the m of x \(m=4\); received \(3, 2\)"):
        ref.gru_forward(np.zeros((2, 4, 3)), np.zeros((3, 2)), parameters)


def test_cell_inputs_with_mismatched_batch_are_rejected():
    parameters = ref.initialize_parameters("lstm", 2, 3)
    with pytest.raises(ValueError, match="c_prev must have shape"):
        ref.lstm_cell_forward(np.zeros((2, 4)), np.zeros((3, 4)), np.zeros((3, 5)), parameters)
    with pytest.raises(ValueError, match="a_prev must have shape"):
        ref.lstm_cell_forward(np.zeros((2, 4)), np.zeros((3, 5)), np.zeros((3, 5)), parameters)


def test_upstream_gradient_of_wrong_shape_is_rejected():
    parameters = ref.initialize_parameters("lstm", 2, 3)
    _, _, caches = ref.lstm_forward(np.zeros((2, 1, 4)), np.zeros((3, 1)), parameters)
    with pytest.raises(ValueError, match=r"da must have shape \(3, 1, 4\) = \(n_a, m, T_x\); received \(3, 1, 3\)"):
        ref.lstm_backward(np.zeros((3, 1, 3)), caches)
    with pytest.raises(ValueError, match=r"dc must have shape \(3, 1, 4\)"):
        ref.lstm_backward(np.zeros((3, 1, 4)), caches, np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"dc_next must have shape \(3, 1\)"):
        ref.lstm_cell_backward(np.zeros((3, 1)), np.zeros((1, 3)), caches[0][0])


def test_unknown_cell_activation_and_options_are_rejected():
    with pytest.raises(ValueError, match="cell must be one of"):
        ref.initialize_parameters("transformer", 2, 3)
    with pytest.raises(ValueError, match="activation must be one of"):
        ref.rnn_cell_forward(np.zeros((2, 1)), np.zeros((3, 1)), ref.initialize_parameters("rnn", 2, 3), "sigmoid")
    with pytest.raises(ValueError, match="peephole=True applies only to cell='lstm'"):
        ref.parameter_keys("gru", peephole=True)
    with pytest.raises(ValueError, match="relevance_gate=False applies only to cell='gru'"):
        ref.parameter_keys("lstm", relevance_gate=False)
    with pytest.raises(ValueError, match="n_a must be a positive integer"):
        ref.initialize_parameters("rnn", 2, 0)
    with pytest.raises(ValueError, match="activation applies only to cell='rnn'"):
        ref.gradient_check("gru", np.zeros((2, 1, 1)), ref.initialize_parameters("gru", 2, 3), None,
                           activation="relu")
