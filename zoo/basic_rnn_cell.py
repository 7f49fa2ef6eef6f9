"""BasicRNNCell: the course's basic recurrent unit (Course 5, week 1, "Recurrent Neural Network Model").

    a⟨t⟩ = g(W_a [a⟨t−1⟩; x⟨t⟩] + b_a)          g = tanh (default) or relu

W_a has shape (n_a, n_a + n_x), previous state first; the output ŷ⟨t⟩ = g2(W_y a⟨t⟩ + b_y) is a
Dense layer that the builders put on top. Batch-major layout: a⟨t⟩ is a row of shape (batch, n_a),
and W_a [a; x] becomes a·recurrent_kernel + x·kernel (see zoo/_base.py for the exact mapping).
"""
import keras
from keras import ops

from zoo._base import CourseCell
from zoo._fused import basic_rnn_sequence

ACTIVATIONS = {"tanh": ops.tanh, "relu": ops.relu}


@keras.saving.register_keras_serializable(package="zoo")
class BasicRNNCell(CourseCell):
    """Basic RNN cell, a⟨t⟩ = g(W_a [a⟨t−1⟩; x⟨t⟩] + b_a). Course weights: W_a, b_a.

    Args:
        units: n_a, the size of the hidden state a⟨t⟩.
        activation: g, "tanh" (the course's default) or "relu".
        kernel_initializer, recurrent_initializer, bias_initializer: Keras initializers for the
            x-half and a-half of W_a and for b_a.
        dropout, recurrent_dropout: dropout rates on x⟨t⟩ and on a⟨t−1⟩ (one mask per sequence).
        seed: seed of the dropout masks.
    """

    gate_names = ("a",)
    course_gate_order = ("a",)

    def __init__(self, units, activation="tanh", **kwargs):
        super().__init__(units, **kwargs)
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(ACTIVATIONS)}; received activation={activation!r}"
            )
        self.activation = activation
        self.activation_function = ACTIVATIONS[activation]

    def step(self, projected, states, recurrent_kernel, recurrent_mask):
        a_prev = states[0]
        a_prev_dropped = a_prev if recurrent_mask is None else a_prev * recurrent_mask
        a_next = self.activation_function(projected + ops.matmul(a_prev_dropped, recurrent_kernel))  # a⟨t⟩
        return a_next, [a_next]

    def fused_sequence(self, projected, states, recurrent_kernel, mask=None):
        a, a_last = basic_rnn_sequence(
            projected, states[0], recurrent_kernel, self.activation, mask=mask
        )
        return a, [a_last]

    def get_config(self):
        return {**super().get_config(), "activation": self.activation}
