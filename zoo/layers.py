"""Sequence layers: BasicRNN, GRU and LSTM over whole sequences, built as Keras builds its `LSTM`.

Each subclasses `keras.layers.RNN` with its course cell, so masking (`Embedding(mask_zero=True)`,
`Masking`), `return_sequences`, `return_state`, `go_backwards`, `stateful`, `initial_state=` at
call time, `keras.layers.Bidirectional`, stacking and `.keras` saving behave as they do for
Keras's own layers. By default (`fast_path=True`) the input projection of every time step is one
matrix product before the loop and each step does one fused recurrent product (two for the full
GRU, whose relevance gate must act before its candidate's product), with hand-written
backpropagation through time, masked sequences included; `fast_path=False` runs the cell step by
step exactly like `keras.layers.RNN(cell)`. Both paths use the same equations and masking.
"""
import keras

from zoo._base import CourseRNN
from zoo.basic_rnn_cell import BasicRNNCell
from zoo.gru_cell import GRUCell
from zoo.lstm_cell import LSTMCell

COMMON_CELL_ARGUMENTS = (
    "units", "kernel_initializer", "recurrent_initializer", "bias_initializer",
    "dropout", "recurrent_dropout", "seed",
)



@keras.saving.register_keras_serializable(package="zoo")
class BasicRNN(CourseRNN):
    """Basic RNN over a sequence: a⟨t⟩ = g(W_a [a⟨t−1⟩; x⟨t⟩] + b_a). See `zoo.BasicRNNCell`.

    Example:
        >>> x = keras.Input((None, 27))
        >>> a = zoo.BasicRNN(50, return_sequences=True)(x)        # (batch, time, 50)
    """

    cell_class = BasicRNNCell
    cell_argument_names = COMMON_CELL_ARGUMENTS + ("activation",)

    def __init__(self, units, activation="tanh", kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):
        cell = self.make_cell(
            kwargs, units=units, activation=activation, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed,
        )
        super().__init__(cell, **kwargs)


@keras.saving.register_keras_serializable(package="zoo")
class GRU(CourseRNN):
    """GRU over a sequence, full (relevance_gate=True) or simplified. See `zoo.GRUCell`.

    Example:
        >>> x = keras.Input((None, 128))
        >>> c = zoo.GRU(64, relevance_gate=False)(x)                # (batch, 64): last c⟨T⟩
    """

    cell_class = GRUCell
    cell_argument_names = COMMON_CELL_ARGUMENTS + ("relevance_gate",)

    def __init__(self, units, relevance_gate=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):
        cell = self.make_cell(
            kwargs, units=units, relevance_gate=relevance_gate,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed,
        )
        super().__init__(cell, **kwargs)


@keras.saving.register_keras_serializable(package="zoo")
class LSTM(CourseRNN):
    """LSTM over a sequence, with an optional peephole. See `zoo.LSTMCell`. State is [a, c].

    Example:
        >>> x = keras.Input((30, 90))
        >>> a, a_last, c_last = zoo.LSTM(64, return_sequences=True, return_state=True)(x)
    """

    cell_class = LSTMCell
    cell_argument_names = COMMON_CELL_ARGUMENTS + ("peephole", "unit_forget_bias")

    def __init__(self, units, peephole=False, unit_forget_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", dropout=0.0, recurrent_dropout=0.0, seed=None,
                 **kwargs):
        cell = self.make_cell(
            kwargs, units=units, peephole=peephole, unit_forget_bias=unit_forget_bias,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed,
        )
        super().__init__(cell, **kwargs)
