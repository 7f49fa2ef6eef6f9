"""Float64 NumPy reference of the course's recurrent cells, forward and backward, step by step.

Deep Learning Specialization, Course 5 (Sequence Models), week 1, programming assignment
"Building your Recurrent Neural Network - Step by Step": cell forward, sequence forward, cell
backward and sequence backward (backpropagation through time) of the basic RNN, the GRU and the
LSTM, plus a centered finite-difference gradient check. It is the ground truth the Keras layers in
this package are tested against, so it holds exactly these equations and nothing else.

Layout (column vectors, as in the course). x has shape (n_x, m, T_x), a state (n_a, m), a
sequence of states (n_a, m, T_x). Every W_k has shape (n_a, n_a + n_x) and multiplies the stacked
vector [state⟨t−1⟩; x⟨t⟩], previous state FIRST; every b_k (and peephole p_k) has shape (n_a,)
and is broadcast over the batch. σ is the logistic sigmoid and * the element-wise product.

Basic RNN (W_a, b_a), g = tanh or relu:
    a⟨t⟩ = g(W_a [a⟨t−1⟩; x⟨t⟩] + b_a)

GRU (W_c, b_c, W_u, b_u, W_r, b_r); the simplified GRU has no W_r, b_r and Γ_r ≡ 1:
    Γ_u = σ(W_u [c⟨t−1⟩; x⟨t⟩] + b_u)
    Γ_r = σ(W_r [c⟨t−1⟩; x⟨t⟩] + b_r)
    c̃⟨t⟩ = tanh(W_c [Γ_r * c⟨t−1⟩; x⟨t⟩] + b_c)
    c⟨t⟩ = Γ_u * c̃⟨t⟩ + (1 − Γ_u) * c⟨t−1⟩,   a⟨t⟩ = c⟨t⟩

LSTM (W_c, b_c, W_u, b_u, W_f, b_f, W_o, b_o; the peephole LSTM adds p_u, p_f, p_o):
    c̃⟨t⟩ = tanh(W_c [a⟨t−1⟩; x⟨t⟩] + b_c)
    Γ_k = σ(W_k [a⟨t−1⟩; x⟨t⟩] + p_k * c⟨t−1⟩ + b_k)    k = u, f, o   (p_k * c⟨t−1⟩ only with peepholes)
    c⟨t⟩ = Γ_u * c̃⟨t⟩ + Γ_f * c⟨t−1⟩
    a⟨t⟩ = Γ_o * tanh(c⟨t⟩)

a⟨0⟩ = c⟨0⟩ = 0 unless given. The sequence backwards take the gradient of the loss with respect
to every a⟨t⟩ (for the GRU every c⟨t⟩; for the LSTM optionally also every c⟨t⟩) that comes from
outside the recurrence, as the course does, and add the recurrence's own contribution inside.
Gradients are returned as dicts: the inputs, the initial state(s), then "d" + every parameter key
in the course's order.
"""
from collections.abc import Mapping

import numpy as np

CELLS = ("rnn", "gru", "lstm")
ACTIVATIONS = ("tanh", "relu")
PEEPHOLE_GATES = ("u", "f", "o")


# ----------------------------------------------------------------------------------------------
# Parameters
# ----------------------------------------------------------------------------------------------

def parameter_keys(cell, *, relevance_gate=True, peephole=False):
    """The course's parameter names, in the course's order, for cell "rnn", "gru" or "lstm"."""
    cell = _check_cell(cell)
    if not relevance_gate and cell != "gru":
        raise ValueError(f"relevance_gate=False applies only to cell='gru'; received cell={cell!r}")
    if peephole and cell != "lstm":
        raise ValueError(f"peephole=True applies only to cell='lstm'; received cell={cell!r}")
    if cell == "rnn":
        return ["W_a", "b_a"]
    if cell == "gru":
        gates = ("c", "u", "r") if relevance_gate else ("c", "u")
        return [name for gate in gates for name in (f"W_{gate}", f"b_{gate}")]
    keys = [name for gate in ("c", "u", "f", "o") for name in (f"W_{gate}", f"b_{gate}")]
    return keys + ([f"p_{gate}" for gate in PEEPHOLE_GATES] if peephole else [])


def initialize_parameters(cell, n_x, n_a, *, relevance_gate=True, peephole=False, scale=0.5, seed=0):
    """Random float64 parameters: standard normal times `scale`, biases included (so tests use them).

    Keys are drawn in `parameter_keys` order from one generator, so the full and the simplified
    GRU with the same seed share W_c, b_c, W_u, b_u (likewise the LSTM with and without peepholes).
    """
    keys = parameter_keys(cell, relevance_gate=relevance_gate, peephole=peephole)
    n_x = _check_positive_int("n_x", n_x)
    n_a = _check_positive_int("n_a", n_a)
    random = np.random.default_rng(seed)
    return {key: scale * random.standard_normal(_expected_shape(key, n_x, n_a)[0]) for key in keys}


# ----------------------------------------------------------------------------------------------
# Basic RNN
# ----------------------------------------------------------------------------------------------

def rnn_cell_forward(xt, a_prev, parameters, activation="tanh"):
    """One step of the basic RNN. Returns a_next (n_a, m) and the cache for rnn_cell_backward."""
    activation = _check_activation(activation)
    xt, a_prev = _check_step_inputs(xt, "a_prev", a_prev)
    parameters = _check_parameters("rnn", parameters, n_x=xt.shape[0], n_a=a_prev.shape[0])
    W_a, b_a = parameters["W_a"], parameters["b_a"]

    concat = np.concatenate([a_prev, xt], axis=0)                 # [a⟨t−1⟩; x⟨t⟩]
    z = W_a @ concat + b_a[:, None]                               # pre-activation
    a_next = np.tanh(z) if activation == "tanh" else np.maximum(z, 0.0)   # a⟨t⟩ = g(z)

    cache = (a_next, a_prev, xt, parameters, activation)
    return a_next, cache


def rnn_forward(x, a0, parameters, activation="tanh"):
    """The basic RNN over a whole sequence. Returns a (n_a, m, T_x) and caches for rnn_backward."""
    x = _check_sequence(x)
    a0 = _initial_state("rnn", "a0", a0, parameters, m=x.shape[1])
    states, caches = _run_forward(lambda xt, a_prev: rnn_cell_forward(xt, a_prev, parameters, activation),
                                  x, (a0,))
    return states[0], (caches, x)


def rnn_cell_backward(da_next, cache):
    """Gradients of one basic RNN step, given da_next = ∂L/∂a⟨t⟩ (n_a, m)."""
    a_next, a_prev, xt, parameters, activation = cache
    da_next = _check_state_gradient("da_next", da_next, a_next.shape)
    n_a = a_prev.shape[0]

    concat = np.concatenate([a_prev, xt], axis=0)                 # [a⟨t−1⟩; x⟨t⟩]
    if activation == "tanh":
        dz = da_next * (1.0 - a_next ** 2)                        # tanh'(z) = 1 − a⟨t⟩²
    else:
        dz = da_next * (a_next > 0.0)                             # relu'(z) = 1 where z > 0
    dconcat = parameters["W_a"].T @ dz                            # ∂L/∂[a⟨t−1⟩; x⟨t⟩]

    return {
        "dxt": dconcat[n_a:],
        "da_prev": dconcat[:n_a],
        "dW_a": dz @ concat.T,
        "db_a": np.sum(dz, axis=1),
    }


def rnn_backward(da, caches):
    """Backpropagation through time for the basic RNN. da: ∂L/∂a⟨t⟩ from outside, (n_a, m, T_x)."""
    cell_caches, x = caches
    n_a = cell_caches[0][0].shape[0]
    return _run_backward(rnn_cell_backward, cell_caches, x, [("da", da)],
                         state_names=[("da_prev", "da0")], n_a=n_a)


# ----------------------------------------------------------------------------------------------
# GRU
# ----------------------------------------------------------------------------------------------

def gru_cell_forward(xt, c_prev, parameters):
    """One step of the GRU (full, or simplified when "W_r" is absent). Returns c_next and the cache."""
    xt, c_prev = _check_step_inputs(xt, "c_prev", c_prev)
    parameters = _check_parameters("gru", parameters, n_x=xt.shape[0], n_a=c_prev.shape[0])
    relevance_gate = "W_r" in parameters
    W_c, b_c = parameters["W_c"], parameters["b_c"]
    W_u, b_u = parameters["W_u"], parameters["b_u"]

    concat = np.concatenate([c_prev, xt], axis=0)                                 # [c⟨t−1⟩; x⟨t⟩]
    gamma_u = _sigmoid(W_u @ concat + b_u[:, None])                               # update gate Γ_u
    if relevance_gate:
        gamma_r = _sigmoid(parameters["W_r"] @ concat + parameters["b_r"][:, None])   # relevance gate Γ_r
    else:
        gamma_r = np.ones_like(c_prev)                                            # simplified GRU: Γ_r ≡ 1
    concat_r = np.concatenate([gamma_r * c_prev, xt], axis=0)                     # [Γ_r * c⟨t−1⟩; x⟨t⟩]
    c_tilde = np.tanh(W_c @ concat_r + b_c[:, None])                              # candidate c̃⟨t⟩
    c_next = gamma_u * c_tilde + (1.0 - gamma_u) * c_prev                         # c⟨t⟩ (= a⟨t⟩)

    cache = (c_next, c_prev, gamma_u, gamma_r, c_tilde, xt, parameters)
    return c_next, cache


def gru_forward(x, c0, parameters):
    """The GRU over a whole sequence. Returns c (n_a, m, T_x) (= a) and caches for gru_backward."""
    x = _check_sequence(x)
    c0 = _initial_state("gru", "c0", c0, parameters, m=x.shape[1])
    states, caches = _run_forward(lambda xt, c_prev: gru_cell_forward(xt, c_prev, parameters), x, (c0,))
    return states[0], (caches, x)


def gru_cell_backward(dc_next, cache):
    """Gradients of one GRU step, given dc_next = ∂L/∂c⟨t⟩ (n_a, m)."""
    c_next, c_prev, gamma_u, gamma_r, c_tilde, xt, parameters = cache
    dc_next = _check_state_gradient("dc_next", dc_next, c_next.shape)
    relevance_gate = "W_r" in parameters
    n_a = c_prev.shape[0]

    concat = np.concatenate([c_prev, xt], axis=0)                 # [c⟨t−1⟩; x⟨t⟩]
    concat_r = np.concatenate([gamma_r * c_prev, xt], axis=0)     # [Γ_r * c⟨t−1⟩; x⟨t⟩]
    dc_tilde = dc_next * gamma_u                                  # through Γ_u * c̃⟨t⟩
    dgamma_u = dc_next * (c_tilde - c_prev)                       # c⟨t⟩ = c⟨t−1⟩ + Γ_u * (c̃⟨t⟩ − c⟨t−1⟩)
    dz_c = dc_tilde * (1.0 - c_tilde ** 2)                        # through tanh
    dz_u = dgamma_u * gamma_u * (1.0 - gamma_u)                   # through σ
    dconcat_r = parameters["W_c"].T @ dz_c                        # ∂L/∂[Γ_r * c⟨t−1⟩; x⟨t⟩]
    dgated_c_prev = dconcat_r[:n_a]                               # ∂L/∂(Γ_r * c⟨t−1⟩)
    dconcat = parameters["W_u"].T @ dz_u                          # ∂L/∂[c⟨t−1⟩; x⟨t⟩] via the gates
    if relevance_gate:
        dz_r = dgated_c_prev * c_prev * gamma_r * (1.0 - gamma_r)  # through Γ_r and σ
        dconcat = dconcat + parameters["W_r"].T @ dz_r

    gradients = {
        "dxt": dconcat_r[n_a:] + dconcat[n_a:],
        "dc_prev": dc_next * (1.0 - gamma_u) + dgated_c_prev * gamma_r + dconcat[:n_a],
        "dW_c": dz_c @ concat_r.T,
        "db_c": np.sum(dz_c, axis=1),
        "dW_u": dz_u @ concat.T,
        "db_u": np.sum(dz_u, axis=1),
    }
    if relevance_gate:
        gradients["dW_r"] = dz_r @ concat.T
        gradients["db_r"] = np.sum(dz_r, axis=1)
    return gradients


def gru_backward(dc, caches):
    """Backpropagation through time for the GRU. dc: ∂L/∂c⟨t⟩ from outside, (n_a, m, T_x)."""
    cell_caches, x = caches
    n_a = cell_caches[0][0].shape[0]
    return _run_backward(gru_cell_backward, cell_caches, x, [("dc", dc)],
                         state_names=[("dc_prev", "dc0")], n_a=n_a)


# ----------------------------------------------------------------------------------------------
# LSTM
# ----------------------------------------------------------------------------------------------

def lstm_cell_forward(xt, a_prev, c_prev, parameters):
    """One step of the LSTM (with peepholes when "p_u" is present). Returns a_next, c_next, cache."""
    xt, a_prev = _check_step_inputs(xt, "a_prev", a_prev)
    c_prev = _check_state_gradient("c_prev", c_prev, a_prev.shape, layout="(n_a, m), the shape of a_prev")
    parameters = _check_parameters("lstm", parameters, n_x=xt.shape[0], n_a=a_prev.shape[0])
    W_c, b_c = parameters["W_c"], parameters["b_c"]
    W_u, b_u = parameters["W_u"], parameters["b_u"]
    W_f, b_f = parameters["W_f"], parameters["b_f"]
    W_o, b_o = parameters["W_o"], parameters["b_o"]

    concat = np.concatenate([a_prev, xt], axis=0)                                           # [a⟨t−1⟩; x⟨t⟩]
    c_tilde = np.tanh(W_c @ concat + b_c[:, None])                                          # candidate c̃⟨t⟩
    gamma_u = _sigmoid(W_u @ concat + _peephole(parameters, "p_u", c_prev) + b_u[:, None])  # update gate Γ_u
    gamma_f = _sigmoid(W_f @ concat + _peephole(parameters, "p_f", c_prev) + b_f[:, None])  # forget gate Γ_f
    gamma_o = _sigmoid(W_o @ concat + _peephole(parameters, "p_o", c_prev) + b_o[:, None])  # output gate Γ_o
    c_next = gamma_u * c_tilde + gamma_f * c_prev                                           # c⟨t⟩
    a_next = gamma_o * np.tanh(c_next)                                                      # a⟨t⟩

    cache = (a_next, c_next, a_prev, c_prev, gamma_f, gamma_u, c_tilde, gamma_o, xt, parameters)
    return a_next, c_next, cache


def lstm_forward(x, a0, parameters, c0=None):
    """The LSTM over a whole sequence. Returns a, c (n_a, m, T_x) and caches for lstm_backward."""
    x = _check_sequence(x)
    a0 = _initial_state("lstm", "a0", a0, parameters, m=x.shape[1])
    c0 = np.zeros_like(a0) if c0 is None else _check_state_gradient(
        "c0", c0, a0.shape, layout="(n_a, m), the shape of a0")
    states, caches = _run_forward(lambda xt, a_prev, c_prev: lstm_cell_forward(xt, a_prev, c_prev, parameters),
                                  x, (a0, c0))
    return states[0], states[1], (caches, x)


def lstm_cell_backward(da_next, dc_next, cache):
    """Gradients of one LSTM step, given da_next = ∂L/∂a⟨t⟩ and dc_next = ∂L/∂c⟨t⟩ (n_a, m)."""
    a_next, c_next, a_prev, c_prev, gamma_f, gamma_u, c_tilde, gamma_o, xt, parameters = cache
    da_next = _check_state_gradient("da_next", da_next, a_next.shape)
    dc_next = _check_state_gradient("dc_next", dc_next, c_next.shape)
    peephole = "p_u" in parameters
    n_a = a_prev.shape[0]

    concat = np.concatenate([a_prev, xt], axis=0)                             # [a⟨t−1⟩; x⟨t⟩]
    tanh_c_next = np.tanh(c_next)
    dgamma_o = da_next * tanh_c_next                                          # through Γ_o * tanh(c⟨t⟩)
    dc = dc_next + da_next * gamma_o * (1.0 - tanh_c_next ** 2)               # all of ∂L/∂c⟨t⟩
    dz = {                                                                    # ∂L/∂(pre-activation)
        "c": dc * gamma_u * (1.0 - c_tilde ** 2),
        "u": dc * c_tilde * gamma_u * (1.0 - gamma_u),
        "f": dc * c_prev * gamma_f * (1.0 - gamma_f),
        "o": dgamma_o * gamma_o * (1.0 - gamma_o),
    }
    dconcat = sum(parameters[f"W_{gate}"].T @ dz[gate] for gate in ("c", "u", "f", "o"))
    dc_prev = dc * gamma_f
    if peephole:
        dc_prev = dc_prev + sum(parameters[f"p_{gate}"][:, None] * dz[gate] for gate in PEEPHOLE_GATES)

    gradients = {"dxt": dconcat[n_a:], "da_prev": dconcat[:n_a], "dc_prev": dc_prev}
    for gate in ("c", "u", "f", "o"):
        gradients[f"dW_{gate}"] = dz[gate] @ concat.T
        gradients[f"db_{gate}"] = np.sum(dz[gate], axis=1)
    if peephole:
        for gate in PEEPHOLE_GATES:
            gradients[f"dp_{gate}"] = np.sum(dz[gate] * c_prev, axis=1)
    return gradients


def lstm_backward(da, caches, dc=None):
    """Backpropagation through time for the LSTM.

    da: ∂L/∂a⟨t⟩ from outside the recurrence, (n_a, m, T_x); dc (optional, zeros if None): ∂L/∂c⟨t⟩
    from outside, e.g. a loss on the final cell state.
    """
    cell_caches, x = caches
    n_a = cell_caches[0][0].shape[0]
    if dc is None:
        dc = np.zeros((n_a,) + x.shape[1:])
    return _run_backward(lstm_cell_backward, cell_caches, x, [("da", da), ("dc", dc)],
                         state_names=[("da_prev", "da0"), ("dc_prev", "dc0")], n_a=n_a)


# ----------------------------------------------------------------------------------------------
# Gradient checking
# ----------------------------------------------------------------------------------------------

def numerical_gradient(f, array, eps=1e-6):
    """Centered differences (f(θ+ε) − f(θ−ε)) / 2ε of the scalar f() w.r.t. every element of `array`.

    `array` is perturbed in place (f must read it) and every element is restored exactly.
    """
    if not isinstance(array, np.ndarray) or array.dtype != np.float64 or not array.flags.writeable:
        received = f"{type(array).__name__} of dtype {getattr(array, 'dtype', None)}"
        raise ValueError(f"array must be a writeable float64 numpy array (it is perturbed in place); "
                         f"received {received}")
    if not eps > 0:
        raise ValueError(f"eps must be positive; received eps={eps!r}")
    gradient = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        original = array[index]
        try:
            array[index] = original + eps
            loss_plus = float(f())
            array[index] = original - eps
            loss_minus = float(f())
        finally:
            array[index] = original
        gradient[index] = (loss_plus - loss_minus) / (2.0 * eps)
    return gradient


def relative_error(a, b):
    """‖a − b‖ / max(‖a‖ + ‖b‖, tiny): 0 when both are zero."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"relative_error needs arrays of one shape; received {a.shape} and {b.shape}")
    denominator = max(np.linalg.norm(a) + np.linalg.norm(b), np.finfo(np.float64).tiny)
    return float(np.linalg.norm(a - b) / denominator)


def gradient_check(cell, x, parameters, initial_state, *, activation="tanh", seed=0, eps=1e-6):
    """Compare every BPTT gradient of a fixed random loss with centered finite differences.

    The loss is L = Σ R * a (+ Σ R_c * c for the LSTM) with R, R_c fixed standard-normal arrays of
    shape (n_a, m, T_x) drawn from `seed`. initial_state is a0 (rnn), c0 (gru), or for the LSTM
    either a0 or a tuple (a0, c0); None means zeros. Nothing passed in is modified (the check
    perturbs float64 copies). Returns {gradient name: relative error}, e.g. {"dx": ..., "da0": ...,
    "dW_a": ..., "db_a": ...}, covering the inputs, the initial state(s) and every parameter.
    """
    cell = _check_cell(cell)
    activation = _check_activation(activation)
    if cell != "rnn" and activation != "tanh":
        raise ValueError(f"activation applies only to cell='rnn'; received activation={activation!r} "
                         f"with cell={cell!r}")
    x = np.array(_check_sequence(x), dtype=np.float64)
    if not isinstance(parameters, Mapping):
        raise ValueError(f"parameters must be a dict; received {type(parameters).__name__}")
    parameters = {key: np.array(value, dtype=np.float64) for key, value in parameters.items()}
    initial_states = _initial_states_for_check(cell, initial_state, parameters, m=x.shape[1])

    random = np.random.default_rng(seed)
    n_a = next(iter(initial_states.values())).shape[0]
    weights_a = random.standard_normal((n_a,) + x.shape[1:])
    weights_c = random.standard_normal((n_a,) + x.shape[1:]) if cell == "lstm" else None

    def loss():
        states, _ = _sequence_forward(cell, x, initial_states, parameters, activation)
        total = np.sum(weights_a * states[0])
        return total + np.sum(weights_c * states[1]) if cell == "lstm" else total

    _, caches = _sequence_forward(cell, x, initial_states, parameters, activation)
    analytic = _sequence_backward(cell, caches, weights_a, weights_c)
    targets = {"dx": x, **{f"d{name}": state for name, state in initial_states.items()},
               **{f"d{key}": value for key, value in parameters.items()}}
    return {name: relative_error(gradient, numerical_gradient(loss, targets[name], eps))
            for name, gradient in analytic.items()}


# ----------------------------------------------------------------------------------------------
# Helpers: the sequence loops
# ----------------------------------------------------------------------------------------------

def _run_forward(step, x, initial_states):
    """Loop `step(xt, *states) -> (*next_states, cache)` over t; stack each state over time."""
    T_x = x.shape[2]
    sequences = [np.zeros(state.shape + (T_x,)) for state in initial_states]
    states, caches = initial_states, []
    for t in range(T_x):
        *states, cache = step(x[:, :, t], *states)
        for sequence, state in zip(sequences, states):
            sequence[:, :, t] = state
        caches.append(cache)
    return sequences, caches


def _run_backward(cell_backward, cell_caches, x, upstream, state_names, n_a):
    """Loop a cell backward from t = T_x − 1 down to 0, adding the recurrent gradient to the upstream one.

    upstream: [(name, array (n_a, m, T_x))] for each state; state_names: [(cell key, initial key)].
    """
    n_x, m, T_x = x.shape
    upstream = [_check_state_gradient(name, array, (n_a, m, T_x), layout="(n_a, m, T_x)")
                for name, array in upstream]
    recurrent = [np.zeros((n_a, m)) for _ in upstream]
    dx = np.zeros_like(x)
    totals = None
    for t in reversed(range(T_x)):
        step = cell_backward(*[outside[:, :, t] + inside for outside, inside in zip(upstream, recurrent)],
                             cell_caches[t])
        dx[:, :, t] = step["dxt"]
        recurrent = [step[cell_key] for cell_key, _ in state_names]
        parameter_gradients = {name: value for name, value in step.items()
                               if name != "dxt" and name not in dict(state_names)}
        totals = parameter_gradients if totals is None else {
            name: totals[name] + value for name, value in parameter_gradients.items()}
    gradients = {"dx": dx}
    gradients.update({initial_key: state for (_, initial_key), state in zip(state_names, recurrent)})
    gradients.update(totals)
    return gradients


def _sequence_forward(cell, x, initial_states, parameters, activation):
    """Dispatch to the cell's sequence forward; returns ([a or c sequences], caches)."""
    if cell == "rnn":
        a, caches = rnn_forward(x, initial_states["a0"], parameters, activation)
        return [a], caches
    if cell == "gru":
        c, caches = gru_forward(x, initial_states["c0"], parameters)
        return [c], caches
    a, c, caches = lstm_forward(x, initial_states["a0"], parameters, initial_states["c0"])
    return [a, c], caches


def _sequence_backward(cell, caches, weights_a, weights_c):
    if cell == "rnn":
        return rnn_backward(weights_a, caches)
    if cell == "gru":
        return gru_backward(weights_a, caches)
    return lstm_backward(weights_a, caches, weights_c)


def _initial_states_for_check(cell, initial_state, parameters, m):
    """Float64 copies of the initial state(s), keyed "a0" / "c0" as the gradients name them."""
    if cell == "lstm":
        a0, c0 = initial_state if isinstance(initial_state, tuple) else (initial_state, None)
        a0 = np.array(_initial_state(cell, "a0", a0, parameters, m), dtype=np.float64)
        c0 = np.zeros_like(a0) if c0 is None else np.array(
            _check_state_gradient("c0", c0, a0.shape, layout="(n_a, m), the shape of a0"), dtype=np.float64)
        return {"a0": a0, "c0": c0}
    name = "a0" if cell == "rnn" else "c0"
    return {name: np.array(_initial_state(cell, name, initial_state, parameters, m), dtype=np.float64)}


# ----------------------------------------------------------------------------------------------
# Helpers: math
# ----------------------------------------------------------------------------------------------

def _sigmoid(z):
    """σ(z) = 1 / (1 + e^−z), written as exp(−log(1 + e^−z)) so no z overflows."""
    return np.exp(-np.logaddexp(0.0, -z))


def _peephole(parameters, key, c_prev):
    """p_k * c⟨t−1⟩ (p_k broadcast over the batch), or 0 without peepholes."""
    return parameters[key][:, None] * c_prev if key in parameters else 0.0


# ----------------------------------------------------------------------------------------------
# Helpers: validation (every failure is a ValueError saying what was expected and received)
# ----------------------------------------------------------------------------------------------

def _check_cell(cell):
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {CELLS}; received cell={cell!r}")
    return cell


def _check_activation(activation):
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}; received activation={activation!r}")
    return activation


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer; received {name}={value!r}")
    return int(value)


def _as_float64(name, value, layout):
    """`value` as a float64 array of rank len(layout) with no empty dimension."""
    array = np.asarray(value, dtype=np.float64)
    rank = layout.count(",") + 1
    if array.ndim != rank or 0 in array.shape:
        raise ValueError(f"{name} must be a rank-{rank} array of shape {layout} with no empty dimension; "
                         f"received shape {array.shape}")
    return array


def _check_sequence(x):
    return _as_float64("x", x, "(n_x, m, T_x)")


def _check_step_inputs(xt, state_name, state):
    """xt (n_x, m) and a state (n_a, m) with the same m."""
    xt = _as_float64("xt", xt, "(n_x, m)")
    state = _as_float64(state_name, state, "(n_a, m)")
    if state.shape[1] != xt.shape[1]:
        raise ValueError(f"{state_name} must have shape (n_a, m) with the m of xt (m={xt.shape[1]}); "
                         f"received {state_name} of shape {state.shape}")
    return xt, state


def _check_state_gradient(name, value, expected, layout="(n_a, m)"):
    """`value` as a float64 array of exactly the shape `expected`."""
    array = np.asarray(value, dtype=np.float64)
    if array.shape != tuple(expected):
        raise ValueError(f"{name} must have shape {tuple(expected)} = {layout}; received {array.shape}")
    return array


def _expected_shape(key, n_x, n_a):
    """(shape, layout) of a course parameter: W_k (n_a, n_a + n_x); b_k and p_k (n_a,)."""
    if key.startswith("W_"):
        return (n_a, n_a + n_x), "(n_a, n_a + n_x)"
    return (n_a,), "(n_a,)"


def _check_parameters(cell, parameters, n_x, n_a):
    """The exact course keys for `cell` (GRU: full or simplified; LSTM: with or without peepholes),
    each a float64 array of the course shape. Returns a new dict in course key order."""
    if not isinstance(parameters, Mapping):
        raise ValueError(f"parameters must be a dict of {cell} weights; received {type(parameters).__name__}")
    keys = parameter_keys(cell, relevance_gate=cell != "gru" or "W_r" in parameters,
                          peephole=cell == "lstm" and "p_u" in parameters)
    missing = [key for key in keys if key not in parameters]
    unexpected = [key for key in parameters if key not in keys]
    if missing or unexpected:
        variants = {"rnn": "", "gru": " (full GRU; the simplified GRU has no W_r, b_r)",
                    "lstm": " (the peephole LSTM adds p_u, p_f, p_o)"}[cell]
        raise ValueError(f"{cell} parameters must have exactly the keys {keys}{variants}; "
                         f"missing {missing}, unexpected {unexpected}")
    checked = {}
    for key in keys:
        expected, layout = _expected_shape(key, n_x, n_a)
        checked[key] = _check_state_gradient(key, parameters[key], expected, layout)
    return checked


def _initial_state(cell, name, state, parameters, m):
    """The given initial state as float64 (n_a, m), or zeros with n_a read from the parameters."""
    if state is not None:
        state = _as_float64(name, state, "(n_a, m)")
        if state.shape[1] != m:
            raise ValueError(f"{name} must have shape (n_a, m) with the m of x (m={m}); received {state.shape}")
        return state
    first_key = parameter_keys(cell)[0]                         # W_a or W_c, shape (n_a, n_a + n_x)
    weight = parameters.get(first_key) if isinstance(parameters, Mapping) else None
    if weight is None or np.ndim(weight) != 2:
        raise ValueError(f"{name}=None needs parameters[{first_key!r}] of shape (n_a, n_a + n_x) to read n_a "
                         f"from; received {None if weight is None else np.shape(weight)}")
    return np.zeros((np.shape(weight)[0], m))
