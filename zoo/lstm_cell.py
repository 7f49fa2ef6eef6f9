"""LSTMCell: the course's long short-term memory unit (Course 5, week 1, "Long Short Term Memory").

Hochreiter & Schmidhuber 1997, in the course's notation:

    c̃⟨t⟩ = tanh(W_c [a⟨t−1⟩; x⟨t⟩] + b_c)               candidate
    Γ_u = σ(W_u [a⟨t−1⟩; x⟨t⟩] + b_u)                  update gate
    Γ_f = σ(W_f [a⟨t−1⟩; x⟨t⟩] + b_f)                  forget gate
    Γ_o = σ(W_o [a⟨t−1⟩; x⟨t⟩] + b_o)                  output gate
    c⟨t⟩ = Γ_u * c̃⟨t⟩ + Γ_f * c⟨t−1⟩
    a⟨t⟩ = Γ_o * tanh(c⟨t⟩)                              state is [a, c]

With peephole=True (Gers & Schmidhuber 2000, as the course describes it: the i-th element of
c⟨t−1⟩ affects only the i-th element of each gate) each gate also sees the previous cell:
Γ_k = σ(W_k [a⟨t−1⟩; x⟨t⟩] + p_k * c⟨t−1⟩ + b_k) for k in u, f, o, with p_k of shape (n_a,).
Keras's LSTM is the same unit without peepholes, gates in the order i, f, c, o = u, f, c, o.
"""
import keras
import numpy as np
from keras import ops

from zoo._base import CourseCell
from zoo._fused import lstm_sequence

PEEPHOLE_GATES = ("u", "f", "o")


@keras.saving.register_keras_serializable(package="zoo")
class LSTMCell(CourseCell):
    """LSTM cell exactly as the course writes it.

    Course weights: W_c, b_c, W_u, b_u, W_f, b_f, W_o, b_o, plus p_u, p_f, p_o with a peephole.

    Args:
        units: n_a, the size of a⟨t⟩ and c⟨t⟩.
        peephole: add the element-wise peephole terms p_k * c⟨t−1⟩ to the three gates.
        unit_forget_bias: start b_f at 1 (Jozefowicz et al. 2015), as Keras's LSTM does.
        kernel_initializer, recurrent_initializer, bias_initializer, dropout, recurrent_dropout,
        seed: as in BasicRNNCell.
    """

    # Internal order: the three sigmoid gates first, so one sigmoid covers them.
    gate_names = ("u", "f", "o", "c")
    course_gate_order = ("c", "u", "f", "o")
    state_count = 2

    def __init__(self, units, peephole=False, unit_forget_bias=True, **kwargs):
        super().__init__(units, **kwargs)
        self.peephole = bool(peephole)
        self.unit_forget_bias = bool(unit_forget_bias)

    def make_bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        base = self.bias_initializer

        def bias_initializer(shape, dtype=None):
            n_a = self.units
            return ops.concatenate(
                [base((n_a,), dtype=dtype), ops.ones((n_a,), dtype=dtype), base((2 * n_a,), dtype=dtype)]
            )

        return bias_initializer

    def build_extra_weights(self):
        if self.peephole:
            self.peephole_weights = self.add_weight(
                shape=(3 * self.units,), name="peephole", initializer="zeros"
            )

    def extra_course_weight_names(self):
        return tuple(f"p_{gate}" for gate in PEEPHOLE_GATES) if self.peephole else ()

    def extra_course_weights(self):
        if not self.peephole:
            return {}
        values = ops.convert_to_numpy(self.peephole_weights)
        n_a = self.units
        return {f"p_{gate}": values[i * n_a : (i + 1) * n_a].copy() for i, gate in enumerate(PEEPHOLE_GATES)}

    def set_extra_course_weights(self, weights):
        if self.peephole:
            values = np.concatenate([np.asarray(weights[f"p_{g}"], "float64") for g in PEEPHOLE_GATES])
            self.peephole_weights.assign(values.astype(self.peephole_weights.dtype))

    def step(self, projected, states, recurrent_kernel, recurrent_mask):
        a_prev, c_prev = states
        a_prev_dropped = a_prev if recurrent_mask is None else a_prev * recurrent_mask
        z = projected + ops.matmul(a_prev_dropped, recurrent_kernel)    # W_k [a⟨t−1⟩; x⟨t⟩] + b_k, all k
        z_u, z_f, z_o, z_c = ops.split(z, 4, axis=-1)
        if self.peephole:
            p_u, p_f, p_o = ops.split(ops.cast(self.peephole_weights, z.dtype), 3)
            z_u, z_f, z_o = z_u + p_u * c_prev, z_f + p_f * c_prev, z_o + p_o * c_prev  # + p_k * c⟨t−1⟩
        gamma_u = ops.sigmoid(z_u)                                       # Γ_u
        gamma_f = ops.sigmoid(z_f)                                       # Γ_f
        gamma_o = ops.sigmoid(z_o)                                       # Γ_o
        c_tilde = ops.tanh(z_c)                                          # c̃⟨t⟩
        c_next = gamma_u * c_tilde + gamma_f * c_prev                    # c⟨t⟩
        a_next = gamma_o * ops.tanh(c_next)                              # a⟨t⟩
        return a_next, [a_next, c_next]

    def fused_sequence(self, projected, states, recurrent_kernel, mask=None):
        peephole = ops.cast(self.peephole_weights, projected.dtype) if self.peephole else None
        a, a_last, c_last = lstm_sequence(
            projected, states[0], states[1], recurrent_kernel, peephole, mask=mask
        )
        return a, [a_last, c_last]

    def get_config(self):
        config = {"peephole": self.peephole, "unit_forget_bias": self.unit_forget_bias}
        return {**super().get_config(), **config}
