"""zoo: the Deep Learning Specialization's recurrent networks (Course 5, week 1) as Keras 3 layers.

Cells (usable inside `keras.layers.RNN(cell)`): BasicRNNCell, GRUCell, LSTMCell.
Sequence layers (subclasses of `keras.layers.RNN`): BasicRNN, GRU, LSTM.
Every cell and layer has get_course_weights() / set_course_weights() in course notation.
"""
from zoo.basic_rnn_cell import BasicRNNCell
from zoo.crf import CRF, CRFLoss
from zoo.gru_cell import GRUCell
from zoo.layers import GRU, LSTM, BasicRNN
from zoo.lstm_cell import LSTMCell

__all__ = ["BasicRNNCell", "GRUCell", "LSTMCell", "BasicRNN", "GRU", "LSTM", "CRF", "CRFLoss"]
