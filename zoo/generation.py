"""Generation with fed-back outputs, in one compiled loop (the course's "sampling novel sequences").

At every step the recurrent cells read x⟨t⟩, the output layer gives the logits of ŷ⟨t⟩, one token is
chosen, and its encoding becomes x⟨t+1⟩ (x⟨1⟩ = 0, as in the course). The choice is either the
argmax (the course's jazz inference) or a draw from softmax(logits / temperature) (the course's
dinosaur sampling). Draws use the Gumbel-max trick: argmax(logits/T + g) with g = −log(−log U) is
exactly a sample from softmax(logits/T); the noise for all steps is drawn before the loop, so the
loop is pure (it compiles on every backend) and a seed fixes the output. `top_k` keeps the k most
likely tokens; `banned_ids` (e.g. <UNK>) get probability zero, which is the same distribution as
rejecting and redrawing them. Forced tokens (a primer) replace the choice where `forced >= 0`.
"""
import keras
from keras import ops
from keras.src import backend as keras_backend

NEGATIVE_INFINITY = -1e9


@keras.saving.register_keras_serializable(package="zoo")
class OneHot(keras.layers.Layer):
    """Token ids (batch, time) → one-hot vectors (batch, time, depth); out-of-range ids → zeros."""

    def __init__(self, depth, **kwargs):
        super().__init__(**kwargs)
        self.depth = int(depth)

    @property
    def output_dim(self):
        return self.depth

    def call(self, ids):
        return ops.one_hot(ops.cast(ids, "int32"), self.depth, dtype=self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.depth,)

    def get_config(self):
        return {**super().get_config(), "depth": self.depth}


@keras.saving.register_keras_serializable(package="zoo")
class ShiftRight(keras.layers.Layer):
    """x⟨1⟩ = 0, x⟨t⟩ = y⟨t−1⟩: the language model's inputs from its targets' encodings."""

    def call(self, features):
        return ops.concatenate([ops.zeros_like(features[:, :1]), features[:, :-1]], axis=1)

    def compute_output_shape(self, input_shape):
        return input_shape


class SequenceSampler(keras.layers.Layer):
    """Runs trained recurrent layers step by step, feeding each chosen token back in.

    Args:
        recurrent_layers: the zoo sequence layers of the trained model, bottom to top (their cells
            are called step by step, so the weights are shared with the trained model).
        logits_layer: the trained Dense layer giving the logits of ŷ⟨t⟩.
        encoder: the trained layer turning token ids into x⟨t⟩ (OneHot or Embedding).
        feature_size: the size of x⟨t⟩.
        steps: how many tokens to produce.
        sampling: "softmax" (draw from softmax(logits/temperature)) or "argmax".
        top_k: if set, draw only among the k most likely tokens.
        banned_ids: token ids never produced (unless forced).
        seed: seed of the draws; the same seed gives the same tokens.
        start_id: if set, x⟨1⟩ is this token's encoding (a decoder's <start>) instead of 0.
    Call inputs: forced (batch, steps) int32 (−1 = choose, else that token), temperature (batch,)
    float, and optionally the first layer-states. Returns (ids (batch, steps), log p of each id).
    """

    def __init__(self, recurrent_layers, logits_layer, encoder, feature_size, steps,
                 sampling="softmax", top_k=None, banned_ids=(), seed=None, start_id=None,
                 **kwargs):
        super().__init__(**kwargs)
        if sampling not in ("softmax", "argmax"):
            raise ValueError(f"sampling must be 'softmax' or 'argmax'; received sampling={sampling!r}")
        if int(steps) <= 0:
            raise ValueError(f"steps must be a positive integer; received steps={steps!r}")
        if top_k is not None and int(top_k) <= 0:
            raise ValueError(f"top_k must be a positive integer or None; received top_k={top_k!r}")
        self.recurrent_layers = list(recurrent_layers)
        self.logits_layer = logits_layer
        self.encoder = encoder
        self.feature_size = int(feature_size)
        self.steps = int(steps)
        self.sampling = sampling
        self.top_k = None if top_k is None else int(top_k)
        self.banned_ids = tuple(int(i) for i in banned_ids)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.start_id = None if start_id is None else int(start_id)

    def initial_cell_states(self, batch):
        states = []
        for layer in self.recurrent_layers:
            states.extend(layer.cell.get_initial_state(batch))
        return states

    def first_input(self, batch):
        """x⟨1⟩ = 0, as the course, or the encoding of the start token."""
        if self.start_id is None:
            return ops.zeros((batch, self.feature_size), dtype=self.compute_dtype)
        start_tokens = ops.full((batch, 1), self.start_id, dtype="int32")
        return ops.cast(self.encoder(start_tokens)[:, 0], self.compute_dtype)

    def choose(self, logits, temperature, noise_t):
        if self.sampling == "argmax":
            return ops.argmax(logits, axis=-1)
        scaled = logits / ops.expand_dims(temperature, -1)
        if self.banned_ids:
            banned = ops.sum(ops.one_hot(list(self.banned_ids), ops.shape(logits)[-1]), axis=0)
            scaled = ops.where(banned > 0, NEGATIVE_INFINITY, scaled)
        if self.top_k is not None and self.top_k < logits.shape[-1]:
            kth_largest = ops.top_k(scaled, self.top_k)[0][:, -1:]
            scaled = ops.where(scaled < kth_largest, NEGATIVE_INFINITY, scaled)
        return ops.argmax(scaled + noise_t, axis=-1)

    def call(self, forced, temperature, initial_states=None):
        forced = ops.cast(forced, "int32")
        batch = ops.shape(forced)[0]
        vocabulary = self.logits_layer.units
        temperature = ops.cast(ops.reshape(temperature, (-1,)), "float32")
        if self.sampling == "softmax":
            uniform = keras.random.uniform((batch, self.steps, vocabulary), minval=1e-7, maxval=1.0,
                                           seed=self.seed_generator)
            noise = -ops.log(-ops.log(uniform))                     # Gumbel(0, 1)
        else:
            noise = ops.zeros((batch, self.steps, vocabulary))
        states = list(initial_states) if initial_states is not None else self.initial_cell_states(batch)
        first_input = self.first_input(batch)
        counts = [layer.cell.state_count for layer in self.recurrent_layers]

        def step(inputs_t, loop_states):
            noise_t, forced_t = inputs_t
            forced_t = forced_t[:, 0]
            hidden, flat, new_flat = loop_states[0], list(loop_states[1:]), []
            for layer, count in zip(self.recurrent_layers, counts):
                hidden, layer_states = layer.cell(hidden, flat[:count], training=False)
                new_flat.extend(layer_states)
                flat = flat[count:]
            logits = ops.cast(self.logits_layer(hidden), "float32")
            choice = ops.cast(self.choose(logits, temperature, noise_t), "int32")
            token = ops.where(forced_t >= 0, forced_t, choice)
            log_probability = ops.take_along_axis(
                ops.log_softmax(logits, axis=-1), ops.expand_dims(token, -1), axis=-1)[:, 0]
            next_input = ops.cast(self.encoder(ops.expand_dims(token, 1))[:, 0], self.compute_dtype)
            return (token, log_probability), [next_input] + new_flat

        _, (tokens, log_probabilities), _ = keras_backend.rnn(
            step, (noise, ops.expand_dims(forced, -1)), [first_input] + states, input_length=self.steps,
            return_all_outputs=True,
        )
        return tokens, log_probabilities
