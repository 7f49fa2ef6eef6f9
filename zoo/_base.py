"""What the three course cells and their sequence layers share.

Layout. The course writes every gate as a column-vector product W_k [state⟨t−1⟩; x⟨t⟩] + b_k with
W_k of shape (n_a, n_a + n_x). Keras is batch-major (rows are examples), so inside a cell the
weights of all gates are stored fused, as Keras's own cells store them:

    kernel            (n_x, G·n_a)   the x⟨t⟩ half of every W_k, transposed
    recurrent_kernel  (n_a, G·n_a)   the state⟨t−1⟩ half of every W_k, transposed
    bias              (G·n_a,)       every b_k

with the gates in the order of the cell's `gate_names`. For gate k at position i,
W_k = [recurrent_kernel[:, i·n_a:(i+1)·n_a]ᵀ | kernel[:, i·n_a:(i+1)·n_a]ᵀ] and
b_k = bias[i·n_a:(i+1)·n_a]; `get_course_weights` / `set_course_weights` do exactly this.

Two paths, one set of equations. Each cell's `step(projected, states, recurrent_kernel, mask)`
holds the course equations, given projected = x⟨t⟩·kernel + bias. The cell path (`cell.call`, used
by `keras.layers.RNN(cell)`) projects one step at a time; the fast path (`CourseRNN.inner_loop`)
projects every time step in one matrix product before the loop. Then, without recurrent dropout,
it runs the whole sequence in the cell's `fused_sequence` (zoo/_fused.py: the same equations with
hand-written backpropagation through time, masked or not; the tests hold the two paths equal);
with recurrent dropout it runs the same `step` inside the backend's compiled loop.

Masks follow `keras_backend.rnn` exactly on both paths: at a masked step every state is carried
over unchanged, and the output there is zeros (`zero_output_for_mask`) or the previous output.
"""
import numpy as np

import keras
from keras import ops
from keras.src import backend as keras_backend  # backend.rnn: the loop keras.layers.RNN itself uses
from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell

from zoo import _fused


def check_units(units):
    """`units` must be a positive Python or NumPy integer (bool is not a number of units)."""
    if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
        raise ValueError(f"units must be a positive integer; received units={units!r}")
    return int(units)


def check_rate(name, value):
    """Dropout rates live in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be a float in [0, 1); received {name}={value!r}")
    return float(value)


def check_sequence_rank(layer_name, shape):
    """Recurrent layers take (batch, time, features)."""
    if len(shape) != 3:
        raise ValueError(
            f"{layer_name} expects input of shape (batch, time, features), rank 3; "
            f"received shape {tuple(shape)} (rank {len(shape)})"
        )


class CourseCell(keras.layers.Layer, DropoutRNNCell):
    """Base of BasicRNNCell, GRUCell and LSTMCell: fused weights, dropout, course weights.

    Subclasses set `gate_names` (internal order), `course_gate_order` (order of the course's
    dict), `state_count` (1, or 2 for the LSTM) and write `step()`.
    """

    gate_names = ()
    course_gate_order = ()
    state_count = 1
    use_fused_bptt = True   # hand-written BPTT on the fast path (zoo/_fused.py) where it is faster

    def __init__(
        self,
        units,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_units(units)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.dropout = check_rate("dropout", dropout)
        self.recurrent_dropout = check_rate("recurrent_dropout", recurrent_dropout)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed=seed)
        self.state_size = [self.units] * self.state_count if self.state_count > 1 else self.units
        self.output_size = self.units

    # ----------------------------------------------------------------------------- weights
    @property
    def gate_count(self):
        return len(self.gate_names)

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                f"{type(self).__name__} needs a known feature size (last axis); received "
                f"input shape {tuple(input_shape)}"
            )
        width = self.gate_count * self.units
        self.kernel = self.add_weight(
            shape=(input_dim, width), name="kernel", initializer=self.kernel_initializer
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, width),
            name="recurrent_kernel",
            initializer=self.recurrent_initializer,
        )
        self.bias = self.add_weight(
            shape=(width,), name="bias", initializer=self.make_bias_initializer()
        )
        self.build_extra_weights()

    def make_bias_initializer(self):
        return self.bias_initializer

    def build_extra_weights(self):
        """Weights beyond kernel, recurrent_kernel and bias (the LSTM's peepholes)."""

    def extra_course_weights(self):
        """Course-named weights beyond W_* and b_* (p_u, p_f, p_o) as NumPy arrays."""
        return {}

    def set_extra_course_weights(self, weights):
        """Assign the weights that `extra_course_weights` returns."""

    def course_weight_shapes(self, input_dim):
        """The exact keys and shapes `set_course_weights` expects, in the course's order."""
        n_a = self.units
        shapes = {}
        for gate in self.course_gate_order:
            shapes[f"W_{gate}"] = (n_a, n_a + input_dim)
            shapes[f"b_{gate}"] = (n_a,)
        shapes.update({name: (n_a,) for name in self.extra_course_weight_names()})
        return shapes

    def extra_course_weight_names(self):
        return ()

    def get_course_weights(self):
        """The weights in course notation: W_k of shape (n_a, n_a + n_x), b_k of shape (n_a,)."""
        if not self.built:
            raise ValueError(
                f"{self.name} has no weights yet: call it on data, build it, or "
                "set_course_weights first"
            )
        weights = self.as_course(
            ops.convert_to_numpy(self.kernel),
            ops.convert_to_numpy(self.recurrent_kernel),
            ops.convert_to_numpy(self.bias),
        )
        weights.update(self.extra_course_weights())
        return weights

    def as_course(self, kernel, recurrent_kernel, bias):
        """Fused arrays (kernel, recurrent_kernel, bias), or their gradients, in course notation."""
        kernel, recurrent_kernel, bias = (np.asarray(v) for v in (kernel, recurrent_kernel, bias))
        weights = {}
        for gate in self.course_gate_order:
            columns = self.gate_columns(gate)
            weights[f"W_{gate}"] = np.concatenate(
                [recurrent_kernel[:, columns].T, kernel[:, columns].T], axis=1
            )
            weights[f"b_{gate}"] = bias[columns].copy()
        return weights

    def set_course_weights(self, weights):
        """Load weights given in course notation (builds the cell from W's shape if needed)."""
        first_key = f"W_{self.course_gate_order[0]}"
        if not isinstance(weights, dict) or first_key not in weights:
            raise ValueError(self.course_weights_message(weights, None))
        input_dim = int(np.shape(weights[first_key])[-1]) - self.units
        if not self.built:
            if input_dim <= 0:
                raise ValueError(self.course_weights_message(weights, None))
            self.build((None, input_dim))
            self.built = True
        input_dim = int(self.kernel.shape[0])
        expected = self.course_weight_shapes(input_dim)
        received = {key: tuple(np.shape(value)) for key, value in weights.items()}
        if received != expected:
            raise ValueError(self.course_weights_message(weights, input_dim))
        kernel = np.zeros(tuple(self.kernel.shape))
        recurrent_kernel = np.zeros(tuple(self.recurrent_kernel.shape))
        bias = np.zeros(tuple(self.bias.shape))
        for gate in self.course_gate_order:
            columns = self.gate_columns(gate)
            matrix = np.asarray(weights[f"W_{gate}"], dtype="float64")
            recurrent_kernel[:, columns] = matrix[:, : self.units].T
            kernel[:, columns] = matrix[:, self.units :].T
            bias[columns] = np.asarray(weights[f"b_{gate}"], dtype="float64")
        self.kernel.assign(kernel.astype(self.kernel.dtype))
        self.recurrent_kernel.assign(recurrent_kernel.astype(self.recurrent_kernel.dtype))
        self.bias.assign(bias.astype(self.bias.dtype))
        self.set_extra_course_weights(weights)

    def course_weights_message(self, weights, input_dim):
        n_a = self.units
        if input_dim is None:
            expected = ", ".join(
                [f"W_{g} (n_a, n_a + n_x) = ({n_a}, {n_a} + n_x), b_{g} ({n_a},)"
                 for g in self.course_gate_order]
                + [f"{name} ({n_a},)" for name in self.extra_course_weight_names()]
            )
        else:
            expected = ", ".join(
                f"{key} {shape}" for key, shape in self.course_weight_shapes(input_dim).items()
            )
        if isinstance(weights, dict):
            received = ", ".join(f"{k} {tuple(np.shape(v))}" for k, v in weights.items()) or "{}"
        else:
            received = type(weights).__name__
        return (
            f"{type(self).__name__}.set_course_weights expected exactly the keys and shapes "
            f"{expected}; received {received}"
        )

    def gate_columns(self, gate):
        index = self.gate_names.index(gate)
        return slice(index * self.units, (index + 1) * self.units)

    # ----------------------------------------------------------------------------- running
    def get_initial_state(self, batch_size=None):
        zeros = ops.zeros((batch_size, self.units), dtype=self.compute_dtype)
        return [zeros] * self.state_count if self.state_count > 1 else [zeros]

    def call(self, inputs, states, training=False):
        """One step: project x⟨t⟩, then the course equations in `step`."""
        nested = isinstance(states, (list, tuple))
        states = list(states) if nested else [states]
        input_mask = self.get_dropout_mask(inputs)
        recurrent_mask = self.get_recurrent_dropout_mask(states[0])
        if training and input_mask is not None:
            inputs = inputs * input_mask
        if not training:
            recurrent_mask = None
        projected = ops.add(ops.matmul(inputs, self.kernel), self.bias)
        output, new_states = self.step(projected, states, self.recurrent_kernel, recurrent_mask)
        if not nested and self.state_count == 1:
            return output, new_states[0]
        return output, new_states

    def step(self, projected, states, recurrent_kernel, recurrent_mask):
        """Course equations for one time step. Returns (output, [new states])."""
        raise NotImplementedError

    def fused_sequence(self, projected, states, recurrent_kernel, mask=None):
        """The whole sequence at once with hand-written BPTT. Returns (outputs, [final states]).

        Time-major: projected (time, batch, G·n_a), outputs (time, batch, n_a).
        `mask`: None, or (time, batch, 1) in projected's dtype, 1.0 at real steps and 0.0 at
        masked ones (states carried over there, as in `keras_backend.rnn`); the outputs are then
        the state sequence, which `CourseRNN.inner_loop` turns into Keras's masked outputs.
        """
        raise NotImplementedError

    def get_config(self):
        config = {
            "units": self.units,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": keras.initializers.serialize(self.recurrent_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }
        return {**super().get_config(), **config}


class CourseRNN(keras.layers.RNN):
    """Base of the sequence layers BasicRNN, GRU and LSTM (Keras's `LSTM` pattern).

    Masking, `go_backwards`, `return_state`, `stateful`, `initial_state=`, `Bidirectional` and
    saving come from `keras.layers.RNN`; this class swaps in the fast inner loop.
    """

    cell_class = None
    cell_argument_names = ()

    def __init__(
        self,
        cell,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        fast_path=True,
        **kwargs,
    ):
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            **kwargs,
        )
        self.fast_path = bool(fast_path)

    @classmethod
    def make_cell(cls, kwargs, **cell_arguments):
        """The layer's cell, with dtype and trainability taken from the layer's kwargs."""
        return cls.cell_class(
            **cell_arguments,
            dtype=kwargs.get("dtype", None),
            trainable=kwargs.get("trainable", True),
            name=f"{cls.cell_class.__name__.lower()}",
        )

    def build(self, sequences_shape, initial_state_shape=None):
        check_sequence_rank(self.name, sequences_shape)
        super().build(sequences_shape, initial_state_shape)

    def call(self, sequences, initial_state=None, mask=None, training=False):
        check_sequence_rank(self.name, sequences.shape)
        return super().call(sequences, initial_state=initial_state, mask=mask, training=training)

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if not self.fast_path:
            return super().inner_loop(sequences, initial_state, mask, training=training)
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        cell = self.cell
        dtype = sequences.dtype
        if training and cell.dropout > 0:
            input_mask = cell.get_dropout_mask(sequences[:, 0, :])
            sequences = sequences * ops.expand_dims(input_mask, 1)
        recurrent_mask = None
        if training and cell.recurrent_dropout > 0:
            recurrent_mask = cell.get_recurrent_dropout_mask(initial_state[0])
        kernel = ops.cast(cell.kernel, dtype)
        bias = ops.cast(cell.bias, dtype)
        recurrent_kernel = ops.cast(cell.recurrent_kernel, dtype)
        fused = recurrent_mask is None and cell.use_fused_bptt
        if fused:
            # The hand-written BPTT loops over time-major sequences (zoo/_fused.py): transpose
            # (and for go_backwards reverse) the input, which is narrower than its projection.
            sequences = ops.transpose(sequences, (1, 0, 2))
            if self.go_backwards:
                sequences = ops.flip(sequences, axis=0)
        # Every time step's input projection in one matrix product: (batch, time, G·n_a), or
        # (time, batch, G·n_a) for the fused loop.
        leading = ops.shape(sequences)[0], ops.shape(sequences)[1]
        rows = ops.reshape(sequences, (-1, ops.shape(sequences)[-1]))
        # The feature size is given statically: a -1 beside a dynamic batch and time would leave
        # it unknown in a traced graph.
        projected = ops.reshape(ops.add(ops.matmul(rows, kernel), bias),
                                (*leading, kernel.shape[-1]))

        if fused:
            # Hand-written BPTT (zoo/_fused.py): one recurrent product per step each way.
            fused_mask = None if mask is None else self.fused_mask(mask, dtype)
            if fused_mask is not None and self.go_backwards:
                fused_mask = ops.flip(fused_mask, axis=0)
            # Written out step by step with unroll=True, or when the length is short and known.
            with _fused.unrolled(_fused.unroll_for(self.unroll, projected.shape[0])):
                outputs, states = cell.fused_sequence(
                    projected, list(initial_state), recurrent_kernel, mask=fused_mask
                )
            if fused_mask is not None:
                outputs = self.masked_outputs(outputs, fused_mask)
            # The last output from the time-major sequence: without return_sequences the
            # transposed copy is never used, and the graph drops it.
            return outputs[-1], ops.transpose(outputs, (1, 0, 2)), states

        def step(projected_t, states):
            return cell.step(projected_t, list(states), recurrent_kernel, recurrent_mask)

        return keras_backend.rnn(
            step,
            projected,
            list(initial_state),
            go_backwards=self.go_backwards,
            mask=mask,
            unroll=self.unroll,
            input_length=sequences.shape[1],
            zero_output_for_mask=self.zero_output_for_mask,
            return_all_outputs=self.return_sequences,
        )

    @staticmethod
    def fused_mask(mask, dtype):
        """Keras's mask (batch, time) or (batch, time, 1), any dtype, as the time-major
        (time, batch, 1) of 1.0 at real steps and 0.0 at masked ones in `dtype` (non-zero counts
        as real, as in `keras_backend.rnn`)."""
        mask = ops.cast(ops.cast(mask, "bool"), dtype)
        if len(mask.shape) == 3:
            mask = mask[..., 0]
        return ops.expand_dims(ops.transpose(mask, (1, 0)), -1)

    def masked_outputs(self, states, fused_mask):
        """Keras's output sequence from the masked state sequence, time-major, in processing
        order.

        `keras_backend.rnn` writes, at a masked step, zeros (`zero_output_for_mask`, which
        `Bidirectional` sets to `return_sequences`) or else the previous output, starting from
        zeros, not from the initial state. With states carried over at masked steps, that is the
        state where some step up to t was real and zero before; its last entry is the
        `last_output` that `keras_backend.rnn` returns.
        """
        if self.zero_output_for_mask:
            real = fused_mask > 0
        elif keras.backend.backend() == "jax" and not self.unroll:
            # Keras's JAX loop (lax.scan) differs here: at a masked step it writes the previous
            # state (from the initial state on), which is the state sequence itself.
            return states
        else:
            real = ops.cumsum(ops.cast(fused_mask > 0, "int32"), axis=0) > 0
        return ops.where(real, states, ops.zeros_like(states))

    # Course weights live in the cell.
    def get_course_weights(self):
        """The weights in course notation (see the cell's docstring)."""
        return self.cell.get_course_weights()

    def set_course_weights(self, weights):
        """Load weights given in course notation."""
        self.cell.set_course_weights(weights)

    @property
    def units(self):
        return self.cell.units

    def get_config(self):
        cell_config = self.cell.get_config()
        config = {name: cell_config[name] for name in self.cell_argument_names}
        config["fast_path"] = self.fast_path
        base_config = super().get_config()
        del base_config["cell"]
        return {**base_config, **config}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
