"""GRUCell: the course's gated recurrent unit, full or simplified (Course 5, week 1, "Gated Recurrent Unit").

Full GRU (Cho et al. 2014, in the course's notation; the memory cell c⟨t⟩ is the activation a⟨t⟩):

    Γ_u = σ(W_u [c⟨t−1⟩; x⟨t⟩] + b_u)                  update gate
    Γ_r = σ(W_r [c⟨t−1⟩; x⟨t⟩] + b_r)                  relevance gate
    c̃⟨t⟩ = tanh(W_c [Γ_r * c⟨t−1⟩; x⟨t⟩] + b_c)         candidate
    c⟨t⟩ = Γ_u * c̃⟨t⟩ + (1 − Γ_u) * c⟨t−1⟩,   a⟨t⟩ = c⟨t⟩

With relevance_gate=False (the course's simplified GRU) Γ_r ≡ 1 and W_r, b_r do not exist.
Every W_k has shape (n_a, n_a + n_x), previous state first. Keras's GRU(reset_after=False) is the
same unit with z = 1 − Γ_u, so W_z = −W_u and b_z = −b_u (README: "Course weights and Keras").
"""
import keras
from keras import ops

from zoo._base import CourseCell
from zoo._fused import gru_sequence, simple_gru_sequence


@keras.saving.register_keras_serializable(package="zoo")
class GRUCell(CourseCell):
    """GRU cell exactly as the course writes it. Course weights: W_c, b_c, W_u, b_u[, W_r, b_r].

    Args:
        units: n_a, the size of the memory cell c⟨t⟩ (= a⟨t⟩).
        relevance_gate: True for the full GRU; False for the simplified GRU (Γ_r ≡ 1).
        kernel_initializer, recurrent_initializer, bias_initializer, dropout, recurrent_dropout,
        seed: as in BasicRNNCell.
    """

    course_gate_order = ("c", "u", "r")

    def __init__(self, units, relevance_gate=True, **kwargs):
        super().__init__(units, **kwargs)
        self.relevance_gate = bool(relevance_gate)
        # Internal order: the sigmoid gates first, so one slice feeds one sigmoid.
        self.gate_names = ("u", "r", "c") if self.relevance_gate else ("u", "c")
        self.course_gate_order = ("c", "u", "r") if self.relevance_gate else ("c", "u")

    def step(self, projected, states, recurrent_kernel, recurrent_mask):
        c_prev = states[0]
        c_prev_dropped = c_prev if recurrent_mask is None else c_prev * recurrent_mask
        if self.relevance_gate:
            projected_u, projected_r, projected_c = ops.split(projected, 3, axis=-1)
            kernel_u, kernel_r, kernel_c = ops.split(recurrent_kernel, 3, axis=-1)
            kernel_gates = ops.concatenate([kernel_u, kernel_r], axis=-1)
            z_gates = ops.concatenate([projected_u, projected_r], axis=-1) + ops.matmul(c_prev_dropped, kernel_gates)
            gamma_u, gamma_r = ops.split(ops.sigmoid(z_gates), 2, axis=-1)                  # Γ_u, Γ_r
            c_tilde = ops.tanh(projected_c + ops.matmul(gamma_r * c_prev_dropped, kernel_c))  # c̃⟨t⟩
        else:
            z = projected + ops.matmul(c_prev_dropped, recurrent_kernel)
            z_u, z_c = ops.split(z, 2, axis=-1)
            gamma_u = ops.sigmoid(z_u)                                                       # Γ_u
            c_tilde = ops.tanh(z_c)                                                          # c̃⟨t⟩ (Γ_r ≡ 1)
        c_next = gamma_u * c_tilde + (1.0 - gamma_u) * c_prev                                # c⟨t⟩
        return c_next, [c_next]

    def fused_sequence(self, projected, states, recurrent_kernel, mask=None):
        sequence = gru_sequence if self.relevance_gate else simple_gru_sequence
        c, c_last = sequence(projected, states[0], recurrent_kernel, mask=mask)
        return c, [c_last]

    def get_config(self):
        return {**super().get_config(), "relevance_gate": self.relevance_gate}
