"""Whole-sequence forward passes with hand-written backpropagation through time.

Autodiff through a compiled loop accumulates every weight gradient inside the loop, one small
matrix product per step and per weight. Here each backward step does only what the recurrence
needs (dz⟨t⟩ and dz⟨t⟩·Uᵀ for the previous state); the recurrent kernel's gradient is one large
product after the loop, Σ_t a⟨t−1⟩ᵀ dz⟨t⟩ = A_prevᵀ·DZ over all (batch × time) rows, and the
input projection's gradient is DZ itself, which autodiff then carries through the single
x·kernel + bias product made before the loop. The equations are the cells' (see their
docstrings); `zoo/reference.py` derives the same gradients step by step, and the tests check
these against it and against finite differences.

Each function takes time-major tensors: projected (time, batch, G·n_a) = x·kernel + bias for
every step, initial states (batch, n_a), the recurrent kernel (n_a, G·n_a); and returns
(outputs (time, batch, n_a), [final states]). Time-major, because a loop over time reads and
writes one contiguous (batch, ·) block per step: batch-major sequences would each be transposed
into that layout and back, and the backward loop's inputs reversed, a full copy each of every
sequence it reads (about a tenth of a training step at the benchmark's large size). The backward
loop runs from the last step to the first over the same buffers (`reverse=True`), and the caller
transposes the few-feature input before the input projection and the output sequence after.

Masks. Every function also takes an optional `mask` (time, batch, 1) in the compute dtype, 1.0
at real steps and 0.0 at masked ones, in processing order (a caller running backwards flips it
with the inputs). With a mask, each state follows `keras_backend.rnn`: at a masked step every
state (a and c for the LSTM) is carried over unchanged, s⟨t⟩ = m⟨t⟩·s_new⟨t⟩ + (1 − m⟨t⟩)·s⟨t−1⟩
(computed as a select, so it is exact), for any pattern of masked steps. The returned sequence is
then the state sequence s⟨t⟩; turning it into Keras's output sequence (zeros, or the previous
output, at masked steps) is the caller's job (`CourseRNN.inner_loop`), outside the custom
gradient. The hand-written backward step splits the total gradient G⟨t⟩ reaching s⟨t⟩:
m⟨t⟩·G⟨t⟩ goes into the new-state computation exactly as without a mask (so dz⟨t⟩ = 0 at masked
steps, and with it the gradients of that step's input and of the weights), and (1 − m⟨t⟩)·G⟨t⟩
passes straight to s⟨t−1⟩; both halves are selects on m⟨t⟩ > 0 (see `_keep`). What the forward
loop stores for a masked step (gates, candidates) is finite and is dropped by those selects.
`mask=None` builds exactly the unmasked graph, at its cost.
"""
import contextlib
import contextvars
import itertools

from keras import ops
from keras.src import backend as keras_backend


def _upstream(upstream, count):
    """Normalise the incoming gradients: JAX passes one tuple, TensorFlow one tensor each."""
    if len(upstream) == 1 and isinstance(upstream[0], (tuple, list)):
        upstream = tuple(upstream[0])
    return upstream[:count]


def _zeros_if_none(gradient, like):
    return ops.zeros_like(like) if gradient is None else gradient


_UNROLL = contextvars.ContextVar("zoo_fused_unroll", default=False)

# The fast path writes its loops out step by step (as `unroll=True` does) whenever the number of
# time steps is known when the graph is built and at most this many: the same arithmetic, in the
# same order, without the while-loop's control flow and per-step buffer reads and writes. At the
# jazz size (30 steps) that made a training step 11-16 % faster than the loop (two runs), for the
# GRU and the LSTM alike (benchmarks/RESULTS.md, benchmarks/unroll.py); a longer sequence keeps
# the loop (graph size grows with the steps).
AUTO_UNROLL_MAX_STEPS = 32


def unroll_for(unroll, steps):
    """Whether the fused loops over `steps` time steps (None: unknown until run) are written out:
    the layer's `unroll=True`, or a known length of at most AUTO_UNROLL_MAX_STEPS."""
    return bool(unroll) or (steps is not None and steps <= AUTO_UNROLL_MAX_STEPS)


@contextlib.contextmanager
def unrolled(unroll):
    """Within this block the fused functions unroll their loops (the layer's `unroll=True`)."""
    token = _UNROLL.set(bool(unroll))
    try:
        yield
    finally:
        _UNROLL.reset(token)


def _run(step, sequences, initial_states, output_widths, reverse=False, unroll=False):
    """Loop `step` over axis 0 of the time-major `sequences` (a tuple), last step first with
    `reverse`; return (the step's outputs stacked in time order, final states).

    `step(inputs_t, states)` returns (a tuple of outputs, [new states]); the outputs are
    (batch, width) with `output_widths` giving each width. The loop is `keras.ops.scan`, or with
    `unroll` a Python loop over the (static) steps. Keras's TensorFlow scan stacks only values
    shaped like its carry, so the carry holds the outputs too (the stacked copies of the states
    themselves are never used, and the graph drops them).
    """
    sequences = tuple(sequences)
    if unroll:
        return _run_unrolled(step, sequences, initial_states, reverse)
    if len(sequences) > 1 and sequences[0].shape[0] is None:
        # Keras's TensorFlow scan fails on several sequences of unknown length: pack them into
        # one tensor and unpack inside the step.
        step, sequences = _packed(step, sequences), (ops.concatenate(sequences, axis=-1),)
    count = len(initial_states)
    batch = ops.shape(initial_states[0])[0]
    dtype = keras_backend.standardize_dtype(initial_states[0].dtype)
    no_outputs = tuple(ops.zeros((batch, width), dtype) for width in output_widths)

    def body(carry, inputs_t):
        outputs, states = step(inputs_t, list(carry[:count]))
        carry = tuple(states) + tuple(outputs)
        return carry, carry

    final, stacked = ops.scan(body, tuple(initial_states) + no_outputs, sequences,
                              reverse=reverse)
    return tuple(stacked[count:]), list(final[:count])


def _run_unrolled(step, sequences, initial_states, reverse=False):
    """`_run` as straight-line code: one copy of `step` per time step (faster for short
    sequences: no loop control and no per-step reads and writes of loop buffers)."""
    steps = sequences[0].shape[0]
    if steps is None:
        raise ValueError("unroll=True needs a fixed number of time steps: the input's time "
                         "dimension is unknown (give the Input a length, or use unroll=False)")
    per_step = [ops.unstack(sequence, num=steps, axis=0) for sequence in sequences]
    states, outputs = list(initial_states), [None] * steps
    for t in (reversed(range(steps)) if reverse else range(steps)):
        outputs[t], states = step(tuple(sequence[t] for sequence in per_step), states)
    stacked = tuple(ops.stack([output[i] for output in outputs], axis=0)
                    for i in range(len(outputs[0])))
    return stacked, list(states)


def _packed(step, sequences):
    """The step for sequences concatenated on the feature axis."""
    boundaries = list(itertools.accumulate(sequence.shape[-1] for sequence in sequences))[:-1]

    def packed_step(inputs_t, states):
        return step(tuple(ops.split(inputs_t[0], boundaries, axis=-1)), states)

    return packed_step


def _previous(initial, sequence):
    """state⟨t−1⟩ for every t: the initial state followed by all but the last state."""
    return ops.concatenate([ops.expand_dims(initial, 0), sequence[:-1]], axis=0)


def _sequences(sequence, mask):
    """The forward loop's sequences: (sequence,) or (sequence, mask)."""
    return (sequence,) if mask is None else (sequence, mask)


def _unpack(inputs_t, mask):
    """One step's (inputs, mask⟨t⟩ or None), from what `_sequences` gave the loop."""
    return (inputs_t[0], None) if mask is None else inputs_t


def _keep(new_state, previous_state, real_t):
    """Keras's masked state update: the new state at a real step, the previous one if masked.

    real_t = mask⟨t⟩ > 0, (batch, 1) booleans. A select, so it is exact. In the backward steps the
    same select does both halves of the split of G⟨t⟩: the step's own dz⟨t⟩ becomes 0 at masked
    rows (`_keep(dz, 0.0, real_t)`, so its products carry nothing), and the gradient to s⟨t−1⟩
    becomes G⟨t⟩ there (`_keep(from_step, G, real_t)`). That equals m·G into the step and
    (1 − m)·G past it, for a 0/1 mask, in fewer operations per step.
    """
    return ops.where(real_t, new_state, previous_state)


def _no_mask_gradient(mask):
    """The mask is data, not a parameter: its gradient is zero."""
    return ops.zeros_like(mask)


def _weight_gradient(previous_states, dz):
    """Σ over time and batch of state⟨t−1⟩ᵀ·dz⟨t⟩, as one matrix product."""
    rows = ops.reshape(previous_states, (-1, ops.shape(previous_states)[-1]))
    return ops.matmul(ops.transpose(rows), ops.reshape(dz, (-1, ops.shape(dz)[-1])))


def lstm_sequence(projected, a0, c0, recurrent_kernel, peephole=None, mask=None):
    """LSTM over a whole sequence; `peephole` is p = [p_u, p_f, p_o] (3·n_a,) or None.

    Returns (a (time, batch, n_a), a_last, c_last); with a mask, a is the state sequence.
    """
    if mask is None:
        if peephole is None:
            return _lstm_plain(projected, a0, c0, recurrent_kernel)
        return _lstm_peephole(projected, a0, c0, recurrent_kernel, peephole)
    if peephole is None:
        return _lstm_plain_masked(projected, mask, a0, c0, recurrent_kernel)
    return _lstm_peephole_masked(projected, mask, a0, c0, recurrent_kernel, peephole)


@ops.custom_gradient
def _lstm_plain(projected, a0, c0, recurrent_kernel):
    return _lstm_with_gradient(projected, a0, c0, recurrent_kernel, None)


@ops.custom_gradient
def _lstm_peephole(projected, a0, c0, recurrent_kernel, peephole):
    return _lstm_with_gradient(projected, a0, c0, recurrent_kernel, peephole)


@ops.custom_gradient
def _lstm_plain_masked(projected, mask, a0, c0, recurrent_kernel):
    return _masked(_lstm_with_gradient(projected, a0, c0, recurrent_kernel, None, mask), mask)


@ops.custom_gradient
def _lstm_peephole_masked(projected, mask, a0, c0, recurrent_kernel, peephole):
    return _masked(_lstm_with_gradient(projected, a0, c0, recurrent_kernel, peephole, mask), mask)


def _masked(result, mask):
    """(outputs, backward) of an unmasked-signature function, with the mask as 2nd input."""
    outputs, backward = result

    def masked_backward(*upstream):
        gradients = backward(*upstream)
        return (gradients[0], _no_mask_gradient(mask)) + tuple(gradients[1:])

    return outputs, masked_backward


def _lstm_with_gradient(projected, a0, c0, recurrent_kernel, peephole, mask=None):
    """LSTM forward over the sequence, and its hand-written BPTT (peephole: p or None)."""
    unroll = _UNROLL.get()   # read now: the backward pass runs after the layer's call
    n_a = a0.shape[-1]

    def forward_step(inputs_t, states):
        projected_t, mask_t = _unpack(inputs_t, mask)
        a_prev, c_prev = states
        z = projected_t + ops.matmul(a_prev, recurrent_kernel)
        z_u, z_f, z_o, z_c = ops.split(z, 4, axis=-1)
        if peephole is None:
            gamma_u, gamma_f, gamma_o = ops.sigmoid(z_u), ops.sigmoid(z_f), ops.sigmoid(z_o)
            gates = ops.concatenate([gamma_u, gamma_f, gamma_o], axis=-1)    # kept for backward
        else:
            z_gates = ops.concatenate([z_u, z_f, z_o], axis=-1)
            gates = ops.sigmoid(z_gates + peephole * ops.tile(c_prev, [1, 3]))
            gamma_u, gamma_f, gamma_o = ops.split(gates, 3, axis=-1)
        c_tilde = ops.tanh(z_c)
        c_next = gamma_u * c_tilde + gamma_f * c_prev
        a_next = gamma_o * ops.tanh(c_next)
        if mask is not None:
            real_t = mask_t > 0
            a_next, c_next = _keep(a_next, a_prev, real_t), _keep(c_next, c_prev, real_t)
        return (a_next, c_next, gates, c_tilde), [a_next, c_next]

    (a, c, gates, c_tilde), (a_last, c_last) = _run(
        forward_step, _sequences(projected, mask), [a0, c0], [n_a, n_a, 3 * n_a, n_a],
        unroll=unroll,
    )

    def backward(*upstream):
        da_all, da_last, dc_last = _upstream(upstream, 3)
        da_all = _zeros_if_none(da_all, a)
        c_prev_all = _previous(c0, c)
        kernel_transposed = ops.transpose(recurrent_kernel)
        if peephole is not None:
            p_u, p_f, p_o = ops.split(peephole, 3, axis=-1)

        def backward_step(inputs_t, states):
            if mask is None:
                da_t, gates_t, c_tilde_t, c_t, c_prev_t = inputs_t
            else:
                da_t, gates_t, c_tilde_t, c_t, c_prev_t, mask_t = inputs_t
            da_next, dc_next = states
            da_total = da_t + da_next
            gamma_u, gamma_f, gamma_o = ops.split(gates_t, 3, axis=-1)
            tanh_c = ops.tanh(c_t)
            dc = dc_next + da_total * gamma_o * (1.0 - tanh_c * tanh_c)
            d_gates = ops.concatenate([dc * c_tilde_t, dc * c_prev_t, da_total * tanh_c], axis=-1)
            dz_gates = d_gates * gates_t * (1.0 - gates_t)
            dz_c = dc * gamma_u * (1.0 - c_tilde_t * c_tilde_t)
            dz = ops.concatenate([dz_gates, dz_c], axis=-1)
            if mask is not None:
                # Masked step: nothing into its computation, G⟨t⟩ straight to a⟨t−1⟩, c⟨t−1⟩.
                real_t = mask_t > 0
                dz = _keep(dz, 0.0, real_t)
            da_prev = ops.matmul(dz, kernel_transposed)
            dc_prev = dc * gamma_f
            if peephole is not None:
                if mask is not None:
                    dz_gates = _keep(dz_gates, 0.0, real_t)
                dz_u, dz_f, dz_o = ops.split(dz_gates, 3, axis=-1)
                dc_prev = dc_prev + dz_u * p_u + dz_f * p_f + dz_o * p_o
            if mask is not None:
                da_prev, dc_prev = _keep(da_prev, da_total, real_t), _keep(dc_prev, dc_next, real_t)
            if peephole is None:
                return (dz,), [da_prev, dc_prev]
            return (dz, dz_gates), [da_prev, dc_prev]

        backward_sequences = (da_all, gates, c_tilde, c, c_prev_all)
        if mask is not None:
            backward_sequences += (mask,)
        step_gradients, (da0, dc0) = _run(
            backward_step, backward_sequences,
            [_zeros_if_none(da_last, a0), _zeros_if_none(dc_last, c0)],
            [4 * n_a] if peephole is None else [4 * n_a, 3 * n_a], reverse=True, unroll=unroll,
        )
        dz = step_gradients[0]
        gradients = (dz, da0, dc0, _weight_gradient(_previous(a0, a), dz))
        if peephole is None:
            return gradients
        c_prev_tiled = ops.tile(c_prev_all, [1, 1, 3])
        return gradients + (ops.sum(step_gradients[1] * c_prev_tiled, axis=(0, 1)),)

    return (a, a_last, c_last), backward


def gru_sequence(projected, c0, recurrent_kernel, mask=None):
    """Full GRU (relevance gate) over a whole sequence; projected holds [u, r, c] blocks.

    Returns (c (time, batch, n_a), c_last); with a mask, c is the state sequence.
    """
    if mask is None:
        return _gru_full(projected, c0, recurrent_kernel)
    return _gru_full_masked(projected, mask, c0, recurrent_kernel)


@ops.custom_gradient
def _gru_full(projected, c0, recurrent_kernel):
    return _gru_with_gradient(projected, c0, recurrent_kernel)


@ops.custom_gradient
def _gru_full_masked(projected, mask, c0, recurrent_kernel):
    return _masked(_gru_with_gradient(projected, c0, recurrent_kernel, mask), mask)


def _gru_with_gradient(projected, c0, recurrent_kernel, mask=None):
    """Full GRU forward over the sequence, and its hand-written BPTT."""
    unroll = _UNROLL.get()   # read now: the backward pass runs after the layer's call
    n_a = ops.shape(c0)[-1]
    kernel_gates, kernel_c = ops.split(recurrent_kernel, [2 * n_a], axis=-1)

    def forward_step(inputs_t, states):
        projected_t, mask_t = _unpack(inputs_t, mask)
        c_prev = states[0]
        projected_u, projected_r, projected_c = ops.split(projected_t, 3, axis=-1)
        projected_gates = ops.concatenate([projected_u, projected_r], axis=-1)
        gates = ops.sigmoid(projected_gates + ops.matmul(c_prev, kernel_gates))   # [Γ_u, Γ_r]
        gamma_u, gamma_r = ops.split(gates, 2, axis=-1)
        reset_state = gamma_r * c_prev
        c_tilde = ops.tanh(projected_c + ops.matmul(reset_state, kernel_c))
        c_next = gamma_u * c_tilde + (1.0 - gamma_u) * c_prev
        if mask is not None:
            c_next = _keep(c_next, c_prev, mask_t > 0)
        return (c_next, gates, c_tilde, reset_state), [c_next]

    (c, gates, c_tilde, reset_state), (c_last,) = _run(
        forward_step, _sequences(projected, mask), [c0], [n_a, 2 * n_a, n_a, n_a], unroll=unroll
    )

    def backward(*upstream):
        dc_all, dc_last = _upstream(upstream, 2)
        dc_all = _zeros_if_none(dc_all, c)
        c_prev_all = _previous(c0, c)
        kernel_c_transposed = ops.transpose(kernel_c)
        kernel_gates_transposed = ops.transpose(kernel_gates)

        def backward_step(inputs_t, states):
            if mask is None:
                dc_t, gates_t, c_tilde_t, c_prev_t = inputs_t
            else:
                dc_t, gates_t, c_tilde_t, c_prev_t, mask_t = inputs_t
            dc = dc_t + states[0]
            gamma_u, gamma_r = ops.split(gates_t, 2, axis=-1)
            dz_c = dc * gamma_u * (1.0 - c_tilde_t * c_tilde_t)
            if mask is not None:
                real_t = mask_t > 0
                dz_c = _keep(dz_c, 0.0, real_t)
            d_reset_state = ops.matmul(dz_c, kernel_c_transposed)
            d_gates = ops.concatenate([dc * (c_tilde_t - c_prev_t), d_reset_state * c_prev_t], axis=-1)
            dz_gates = d_gates * gates_t * (1.0 - gates_t)
            if mask is not None:
                dz_gates = _keep(dz_gates, 0.0, real_t)
            dc_prev = (dc * (1.0 - gamma_u) + d_reset_state * gamma_r
                       + ops.matmul(dz_gates, kernel_gates_transposed))
            if mask is not None:
                dc_prev = _keep(dc_prev, dc, real_t)
            return (ops.concatenate([dz_gates, dz_c], axis=-1),), [dc_prev]

        backward_sequences = (dc_all, gates, c_tilde, c_prev_all)
        if mask is not None:
            backward_sequences += (mask,)
        (dz,), (dc0,) = _run(
            backward_step, backward_sequences, [_zeros_if_none(dc_last, c0)], [3 * n_a],
            reverse=True, unroll=unroll,
        )
        dz_gates, dz_c = ops.split(dz, [2 * n_a], axis=-1)
        d_kernel = ops.concatenate(
            [_weight_gradient(c_prev_all, dz_gates), _weight_gradient(reset_state, dz_c)], axis=-1
        )
        return dz, dc0, d_kernel

    return (c, c_last), backward


def simple_gru_sequence(projected, c0, recurrent_kernel, mask=None):
    """Simplified GRU (Γ_r ≡ 1) over a whole sequence; projected holds [u, c] blocks.

    Returns (c (time, batch, n_a), c_last); with a mask, c is the state sequence.
    """
    if mask is None:
        return _gru_simple(projected, c0, recurrent_kernel)
    return _gru_simple_masked(projected, mask, c0, recurrent_kernel)


@ops.custom_gradient
def _gru_simple(projected, c0, recurrent_kernel):
    return _simple_gru_with_gradient(projected, c0, recurrent_kernel)


@ops.custom_gradient
def _gru_simple_masked(projected, mask, c0, recurrent_kernel):
    return _masked(_simple_gru_with_gradient(projected, c0, recurrent_kernel, mask), mask)


def _simple_gru_with_gradient(projected, c0, recurrent_kernel, mask=None):
    """Simplified GRU forward over the sequence, and its hand-written BPTT."""
    unroll = _UNROLL.get()   # read now: the backward pass runs after the layer's call
    n_a = c0.shape[-1]

    def forward_step(inputs_t, states):
        projected_t, mask_t = _unpack(inputs_t, mask)
        c_prev = states[0]
        z = projected_t + ops.matmul(c_prev, recurrent_kernel)
        z_u, z_c = ops.split(z, 2, axis=-1)
        gamma_u = ops.sigmoid(z_u)
        c_tilde = ops.tanh(z_c)
        c_next = gamma_u * c_tilde + (1.0 - gamma_u) * c_prev
        if mask is not None:
            c_next = _keep(c_next, c_prev, mask_t > 0)
        return (c_next, gamma_u, c_tilde), [c_next]

    (c, gamma_u, c_tilde), (c_last,) = _run(
        forward_step, _sequences(projected, mask), [c0], [n_a, n_a, n_a], unroll=unroll
    )

    def backward(*upstream):
        dc_all, dc_last = _upstream(upstream, 2)
        dc_all = _zeros_if_none(dc_all, c)
        c_prev_all = _previous(c0, c)
        kernel_transposed = ops.transpose(recurrent_kernel)

        def backward_step(inputs_t, states):
            if mask is None:
                dc_t, gamma_u_t, c_tilde_t, c_prev_t = inputs_t
            else:
                dc_t, gamma_u_t, c_tilde_t, c_prev_t, mask_t = inputs_t
            dc = dc_t + states[0]
            dz_u = dc * (c_tilde_t - c_prev_t) * gamma_u_t * (1.0 - gamma_u_t)
            dz_c = dc * gamma_u_t * (1.0 - c_tilde_t * c_tilde_t)
            dz = ops.concatenate([dz_u, dz_c], axis=-1)
            if mask is not None:
                real_t = mask_t > 0
                dz = _keep(dz, 0.0, real_t)
            dc_prev = dc * (1.0 - gamma_u_t) + ops.matmul(dz, kernel_transposed)
            if mask is not None:
                dc_prev = _keep(dc_prev, dc, real_t)
            return (dz,), [dc_prev]

        backward_sequences = (dc_all, gamma_u, c_tilde, c_prev_all)
        if mask is not None:
            backward_sequences += (mask,)
        (dz,), (dc0,) = _run(
            backward_step, backward_sequences, [_zeros_if_none(dc_last, c0)], [2 * n_a],
            reverse=True, unroll=unroll,
        )
        return dz, dc0, _weight_gradient(c_prev_all, dz)

    return (c, c_last), backward


def basic_rnn_sequence(projected, a0, recurrent_kernel, activation, mask=None):
    """Basic RNN over a whole sequence, activation "tanh" or "relu".

    Returns (a (time, batch, n_a), a_last); with a mask, a is the state sequence.
    """
    if mask is None:
        return (_tanh_rnn if activation == "tanh" else _relu_rnn)(projected, a0, recurrent_kernel)
    masked = _tanh_rnn_masked if activation == "tanh" else _relu_rnn_masked
    return masked(projected, mask, a0, recurrent_kernel)


def _basic_rnn(projected, a0, recurrent_kernel, activation, derivative_from_output, mask=None):
    unroll = _UNROLL.get()   # read now: the backward pass runs after the layer's call
    n_a = a0.shape[-1]

    def forward_step(inputs_t, states):
        projected_t, mask_t = _unpack(inputs_t, mask)
        a_next = activation(projected_t + ops.matmul(states[0], recurrent_kernel))
        if mask is not None:
            a_next = _keep(a_next, states[0], mask_t > 0)
        return (a_next,), [a_next]

    (a,), (a_last,) = _run(forward_step, _sequences(projected, mask), [a0], [n_a],
                           unroll=unroll)

    def backward(*upstream):
        da_all, da_last = _upstream(upstream, 2)
        da_all = _zeros_if_none(da_all, a)
        kernel_transposed = ops.transpose(recurrent_kernel)

        def backward_step(inputs_t, states):
            if mask is None:
                da_t, a_t = inputs_t
            else:
                da_t, a_t, mask_t = inputs_t
            da_total = da_t + states[0]
            dz = da_total * derivative_from_output(a_t)
            if mask is None:
                return (dz,), [ops.matmul(dz, kernel_transposed)]
            real_t = mask_t > 0
            dz = _keep(dz, 0.0, real_t)
            return (dz,), [_keep(ops.matmul(dz, kernel_transposed), da_total, real_t)]

        backward_sequences = (da_all, a) if mask is None else (da_all, a, mask)
        (dz,), (da0,) = _run(
            backward_step, backward_sequences, [_zeros_if_none(da_last, a0)], [n_a],
            reverse=True, unroll=unroll,
        )
        return dz, da0, _weight_gradient(_previous(a0, a), dz)

    return (a, a_last), backward


def _tanh_derivative(a):
    return 1.0 - a * a


def _relu_derivative(a):
    return ops.cast(a > 0, a.dtype)


@ops.custom_gradient
def _tanh_rnn(projected, a0, recurrent_kernel):
    return _basic_rnn(projected, a0, recurrent_kernel, ops.tanh, _tanh_derivative)


@ops.custom_gradient
def _relu_rnn(projected, a0, recurrent_kernel):
    return _basic_rnn(projected, a0, recurrent_kernel, ops.relu, _relu_derivative)


@ops.custom_gradient
def _tanh_rnn_masked(projected, mask, a0, recurrent_kernel):
    return _masked(_basic_rnn(projected, a0, recurrent_kernel, ops.tanh, _tanh_derivative, mask), mask)


@ops.custom_gradient
def _relu_rnn_masked(projected, mask, a0, recurrent_kernel):
    return _masked(_basic_rnn(projected, a0, recurrent_kernel, ops.relu, _relu_derivative, mask), mask)
