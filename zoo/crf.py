"""A linear-chain conditional random field (CRF) output layer for sequence tagging.

Lample et al. 2016 ("Neural Architectures for Named Entity Recognition") put a CRF on top of a
recurrent tagger: the network gives emission scores ("potentials") P[t, j] for tag j at time t, the
CRF adds a learned score A[i, j] for moving from tag i to tag j, plus start and end scores, and
scores a whole tag path y_1..y_n as

    s(x, y) = start[y_1] + Σ_t P[t, y_t] + Σ_{t≥2} A[y_{t−1}, y_t] + end[y_n]

    log p(y | x) = s(x, y) − log Σ_{y'} exp s(x, y')        (the sum by the forward algorithm)

Decoding takes the best path by the Viterbi algorithm. Both loops run over time with
`keras.ops.scan`, so they work with an unknown (None) time dimension inside compiled functions on
the TensorFlow and JAX backends.

Usage::

    inputs = keras.Input((None, n_features))
    potentials = keras.layers.Dense(num_tags)(inputs)
    crf = zoo.CRF(num_tags, name="crf")
    outputs = crf(potentials)                     # identity: the model outputs the potentials
    model = keras.Model(inputs, outputs)
    model.compile("adam", loss=zoo.CRFLoss(crf))  # y: int tag ids (batch, time), -1 at padding
    model.fit(x, y)
    tags, scores = crf.decode(model.predict(x), mask)

Padding is on the right: a mask is true on a prefix of each row (only its count of true entries,
the sequence length, is used). A row of length 0 has log-likelihood 0 and decodes to all 0s.
"""
import numpy as np

import keras
from keras import ops
from keras.src import backend as keras_backend

#: Score added to a disallowed transition (finite, so nothing becomes inf − inf = nan).
DISALLOWED_SCORE = -1e4


def _as_bool_array(value, shape, argument, what):
    """`value` as a numpy bool array of `shape`, or a ValueError that says what was wrong."""
    try:
        array = np.asarray(value)
    except Exception as error:  # ragged nested lists and the like
        raise ValueError(f"CRF: `{argument}` must be a boolean array of shape {shape} ({what}); "
                         f"it could not be read as an array: {error}") from None
    if array.shape != shape:
        raise ValueError(f"CRF: `{argument}` must have shape {shape} ({what}) for num_tags="
                         f"{shape[0]}, but has shape {array.shape}. Pass one entry per tag.")
    if array.dtype != bool:
        if array.dtype.kind not in "iuf" or not np.all((array == 0) | (array == 1)):
            raise ValueError(f"CRF: `{argument}` must hold booleans (True = allowed) or 0/1; "
                             f"got dtype {array.dtype} with other values.")
        array = array.astype(bool)
    return array


@keras.saving.register_keras_serializable(package="zoo")
class CRF(keras.layers.Layer):
    """Linear-chain CRF on top of per-token emission scores (Lample et al. 2016).

    Calling the layer returns its input, the emission scores `potentials` (batch, time, num_tags),
    unchanged, and no Keras mask (the CRF loss is per sequence). Train with `CRFLoss(crf)`; read
    the results with `log_likelihood`, `decode` (Viterbi) and `marginals` (forward-backward).

    Weights (zeros at the start):
        transitions: (num_tags, num_tags); transitions[i, j] scores tag i followed by tag j.
        start_transitions: (num_tags,), the score of a sequence starting with each tag.
        end_transitions: (num_tags,), the score of a sequence ending with each tag.

    Args:
        num_tags: the number of tags (>= 1).
        allowed_transitions: optional boolean (num_tags, num_tags); False at [i, j] forbids tag j
            right after tag i. Forbidden moves get DISALLOWED_SCORE (-1e4) added, in training and
            decoding alike. See `iob2_constraints`.
        allowed_start, allowed_end: optional boolean (num_tags,): which tags may begin / end a
            sequence.
        **layer_kwargs: keras.layers.Layer arguments (name, dtype, trainable, ...). The CRF
            computes in the layer's variable dtype (float32 under mixed precision; float64 with
            dtype="float64").
    """

    def __init__(self, num_tags, allowed_transitions=None, allowed_start=None, allowed_end=None,
                 **layer_kwargs):
        super().__init__(**layer_kwargs)
        if isinstance(num_tags, bool) or not isinstance(num_tags, (int, np.integer)) or num_tags < 1:
            raise ValueError(f"CRF: `num_tags` must be an integer >= 1 (the number of tags), "
                             f"got {num_tags!r}.")
        self.num_tags = int(num_tags)
        n = self.num_tags
        self.allowed_transitions = (None if allowed_transitions is None else _as_bool_array(
            allowed_transitions, (n, n), "allowed_transitions", "from tag (row) to tag (column)"))
        self.allowed_start = (None if allowed_start is None else _as_bool_array(
            allowed_start, (n,), "allowed_start", "one flag per tag"))
        self.allowed_end = (None if allowed_end is None else _as_bool_array(
            allowed_end, (n,), "allowed_end", "one flag per tag"))
        if self.allowed_start is not None and not self.allowed_start.any():
            raise ValueError("CRF: `allowed_start` forbids every tag; allow at least one tag to "
                             "start a sequence (or pass None to allow all).")
        if self.allowed_end is not None and not self.allowed_end.any():
            raise ValueError("CRF: `allowed_end` forbids every tag; allow at least one tag to "
                             "end a sequence (or pass None to allow all).")
        self.supports_masking = True

    # ----------------------------------------------------------------------------------------------
    # Keras layer plumbing

    def build(self, input_shape=None):
        if input_shape is not None:
            self._check_last_dim(input_shape, "the input")
        n = self.num_tags
        self.transitions = self.add_weight(shape=(n, n), initializer="zeros", name="transitions")
        self.start_transitions = self.add_weight(shape=(n,), initializer="zeros",
                                                 name="start_transitions")
        self.end_transitions = self.add_weight(shape=(n,), initializer="zeros",
                                               name="end_transitions")

    def call(self, potentials, mask=None):
        self._check_last_dim(potentials.shape, "the input")
        # A new tensor, not the input object: Keras keeps an upstream (batch, time) mask attached
        # to a tensor object, and the per-sequence CRF loss must not see it.
        return ops.copy(potentials)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        def as_list(array):
            return None if array is None else array.tolist()
        return {**super().get_config(), "num_tags": self.num_tags,
                "allowed_transitions": as_list(self.allowed_transitions),
                "allowed_start": as_list(self.allowed_start),
                "allowed_end": as_list(self.allowed_end)}

    # ----------------------------------------------------------------------------------------------
    # Helpers

    def _check_last_dim(self, shape, what):
        shape = tuple(shape)
        if len(shape) != 3:
            raise ValueError(f"CRF: {what} must be emission scores of shape (batch, time, "
                             f"num_tags={self.num_tags}), got shape {shape}.")
        if shape[-1] is not None and shape[-1] != self.num_tags:
            raise ValueError(f"CRF: {what} has last dimension {shape[-1]} but the CRF has "
                             f"num_tags={self.num_tags}; give the layer before it (e.g. "
                             f"Dense({self.num_tags})) one output per tag.")

    def _prepare(self, potentials, mask):
        """Potentials in the CRF dtype, (batch,) int32 lengths, and the (batch, time) prefix mask."""
        if not self.built:
            self.build(tuple(potentials.shape))
        self._check_last_dim(potentials.shape, "`potentials`")
        dtype = self.variable_dtype
        # ops.copy: a plain tensor even when given a (TensorFlow) variable.
        potentials = ops.copy(ops.cast(potentials, dtype))
        time = ops.shape(potentials)[1]
        positions = ops.arange(time, dtype="int32")
        if mask is None:
            lengths = ops.zeros_like(ops.cast(potentials[:, 0:0, 0], "int32"))
            lengths = ops.sum(lengths, axis=1) + ops.cast(time, "int32")
        else:
            if len(mask.shape) != 2:
                raise ValueError(f"CRF: `mask` must have shape (batch, time), got {tuple(mask.shape)}.")
            lengths = ops.sum(ops.cast(ops.cast(mask, "bool"), "int32"), axis=1)
        prefix = ops.expand_dims(positions, 0) < ops.expand_dims(lengths, 1)   # (batch, time)
        return potentials, lengths, prefix

    def _scores(self, dtype):
        """Transition, start and end scores with the constraint penalties added."""
        transitions = ops.cast(self.transitions, dtype)
        start = ops.cast(self.start_transitions, dtype)
        end = ops.cast(self.end_transitions, dtype)
        for name, allowed in (("transitions", self.allowed_transitions),
                              ("start", self.allowed_start), ("end", self.allowed_end)):
            if allowed is None:
                continue
            penalty = ops.convert_to_tensor(np.where(allowed, 0.0, DISALLOWED_SCORE), dtype=dtype)
            if name == "transitions":
                transitions = transitions + penalty
            elif name == "start":
                start = start + penalty
            else:
                end = end + penalty
        return transitions, start, end

    @staticmethod
    def _step_inputs(potentials, prefix):
        """One batch-major tensor (batch, time, num_tags + 2) of what each step reads: the
        emissions, then 1.0 where the step is inside the row, then 1.0 at the first step. (A
        single tensor, because Keras's TensorFlow scan fails on several inputs with an unknown
        time dimension.)"""
        dtype = potentials.dtype
        valid = ops.cast(ops.expand_dims(prefix, 2), dtype)                 # (batch, time, 1)
        positions = ops.arange(ops.shape(potentials)[1], dtype="int32")
        first = ops.zeros_like(valid) + ops.cast(ops.reshape(positions == 0, (1, -1, 1)), dtype)
        return ops.concatenate([potentials, valid, first], axis=2)

    @classmethod
    def _time_major(cls, potentials, prefix):
        """`_step_inputs` time-major, (time, batch, num_tags + 2), for ops.scan."""
        return ops.transpose(cls._step_inputs(potentials, prefix), (1, 0, 2))

    def _unpack(self, step_inputs):
        """(emission (batch, num_tags), valid (batch, 1) bool, first (batch, 1) bool)."""
        n = self.num_tags
        return (step_inputs[:, :n], step_inputs[:, n:n + 1] > 0.5,
                step_inputs[:, n + 1:n + 2] > 0.5)

    def _forward(self, potentials, prefix, transitions, start):
        """Forward algorithm. Returns alphas (batch, time, num_tags): log-sums of all prefixes ending
        in each tag (frozen after each row's end) and the final alpha (batch, num_tags)."""
        alpha0 = ops.zeros_like(ops.sum(potentials, axis=1))                   # (batch, num_tags)

        def step(inputs, states):
            emission, valid, first = self._unpack(inputs)
            alpha = states[0]
            moved = ops.logsumexp(ops.expand_dims(alpha, 2) + transitions, axis=1) + emission
            fresh = ops.where(first, start + emission, moved)
            alpha = ops.where(valid, fresh, alpha)
            return alpha, [alpha]

        # The loss differentiates through this loop: the backend's RNN loop, not ops.scan, since
        # Keras's TensorFlow scan gives its while-loop no maximum_iterations, without which the
        # gradient's accumulators cannot be compiled with XLA (`--xla`, jit_compile=True).
        # Batch-major in and out (time_major=False): with time_major=True and an unknown number
        # of steps, Keras's TensorFlow rnn takes its input_length from inputs.shape[1], which is
        # then the batch size, and stops after that many steps when the batch size is static
        # (a traced function with shape (B, None, tags)); batch-major, shape[1] is the time.
        sequence = self._step_inputs(potentials, prefix)
        _, alphas, (alpha,) = keras_backend.rnn(step, sequence, [alpha0], time_major=False,
                                                input_length=sequence.shape[1])
        return alphas, alpha

    # ----------------------------------------------------------------------------------------------
    # Public API

    def log_likelihood(self, potentials, tags, mask=None):
        """log p(tags | x) per sequence, shape (batch,), by the forward algorithm.

        Args:
            potentials: emission scores (batch, time, num_tags); cast to the CRF dtype (float32
                under mixed precision).
            tags: int tag ids (batch, time) (or (batch, time, 1)); values at padded positions are
                ignored (they may be -1).
            mask: optional (batch, time) bool / 0-1, true on a prefix of each row; None = all
                positions. Rows of length 0 get 0.
        """
        potentials, lengths, prefix = self._prepare(potentials, mask)
        dtype = potentials.dtype
        tags = ops.convert_to_tensor(tags)
        if len(tags.shape) == 3 and tags.shape[-1] == 1:
            tags = ops.squeeze(tags, -1)
        if len(tags.shape) != 2:
            raise ValueError(f"CRF: `tags` must be int tag ids of shape (batch, time), got shape "
                             f"{tuple(tags.shape)}.")
        tags = ops.clip(ops.cast(tags, "int32"), 0, self.num_tags - 1)
        transitions, start, end = self._scores(dtype)
        zero = ops.zeros((), dtype=dtype)

        # Score of the given path.
        emitted = ops.squeeze(ops.take_along_axis(potentials, ops.expand_dims(tags, -1), axis=2), -1)
        score = ops.sum(ops.where(prefix, emitted, zero), axis=1)
        moves = ops.take(ops.reshape(transitions, (-1,)),
                         tags[:, :-1] * self.num_tags + tags[:, 1:])           # (batch, time-1)
        score = score + ops.sum(ops.where(prefix[:, 1:], moves, zero), axis=1)
        positions = ops.expand_dims(ops.arange(ops.shape(tags)[1], dtype="int32"), 0)
        is_start = ops.logical_and(positions == 0, prefix)
        is_end = positions == ops.expand_dims(lengths - 1, 1)
        score = score + ops.sum(ops.where(is_start, ops.take(start, tags), zero), axis=1)
        score = score + ops.sum(ops.where(is_end, ops.take(end, tags), zero), axis=1)

        # Log partition function.
        _, alpha = self._forward(potentials, prefix, transitions, start)
        log_z = ops.logsumexp(alpha + end, axis=1)
        return ops.where(lengths > 0, score - log_z, zero)

    def decode(self, potentials, mask=None):
        """Viterbi decoding: the most likely tag path of each sequence.

        Args:
            potentials: emission scores (batch, time, num_tags).
            mask: optional (batch, time), true on a prefix of each row; None = all positions.

        Returns:
            (tags, scores): tags (batch, time) int32, the best path, 0 at padded positions; scores
            (batch,), that path's unnormalised score s(x, y) (0 for rows of length 0).
        """
        potentials, lengths, prefix = self._prepare(potentials, mask)
        dtype = potentials.dtype
        transitions, start, end = self._scores(dtype)
        delta0 = ops.zeros_like(ops.sum(potentials, axis=1))                   # (batch, num_tags)
        stay = ops.zeros_like(ops.cast(delta0, "int32")) + ops.arange(self.num_tags, dtype="int32")

        def step(carry, inputs):
            delta, _ = carry
            emission, valid, first = self._unpack(inputs)
            candidates = ops.expand_dims(delta, 2) + transitions              # (batch, from, to)
            best_previous = ops.cast(ops.argmax(candidates, axis=1), "int32")
            moved = ops.max(candidates, axis=1) + emission
            fresh = ops.where(first, start + emission, moved)
            delta = ops.where(valid, fresh, delta)
            # Padded steps (and the first) point back to the same tag.
            pointer = ops.where(ops.logical_and(valid, ops.logical_not(first)), best_previous, stay)
            return (delta, pointer), (delta, pointer)

        (delta, _), (_, pointers) = ops.scan(step, (delta0, stay),
                                              self._time_major(potentials, prefix))
        final = delta + end
        last = ops.cast(ops.argmax(final, axis=1), "int32")                   # (batch,)

        def back(tag, pointer):
            previous = ops.squeeze(ops.take_along_axis(pointer, ops.expand_dims(tag, 1), axis=1), 1)
            return previous, tag

        _, path = ops.scan(back, last, pointers, reverse=True)                # (time, batch)
        path = ops.where(prefix, ops.transpose(path, (1, 0)), ops.zeros_like(prefix, dtype="int32"))
        best = ops.where(lengths > 0, ops.max(final, axis=1), ops.zeros((), dtype=dtype))
        return path, best

    def marginals(self, potentials, mask=None):
        """Posterior p(y_t = j | x) per token by forward-backward, shape (batch, time, num_tags);
        rows sum to 1 at real positions and are 0 at padded positions."""
        potentials, lengths, prefix = self._prepare(potentials, mask)
        dtype = potentials.dtype
        transitions, start, end = self._scores(dtype)
        alphas, alpha = self._forward(potentials, prefix, transitions, start)  # (batch, time, tags)
        log_z = ops.logsumexp(alpha + end, axis=1)                              # (batch,)

        # beta_t = log-sum over the suffixes after t; beta_{n-1} = end.
        # Step t reads the inputs of step t + 1 (shifted by one; past the end: not valid).
        steps = self._time_major(potentials, prefix)
        next_steps = ops.concatenate([steps[1:], ops.zeros_like(steps[:1])], axis=0)
        beta0 = ops.zeros_like(alpha) + end

        def back(beta, inputs):
            emission, valid, _ = self._unpack(inputs)
            moved = ops.logsumexp(transitions + ops.expand_dims(emission + beta, 1), axis=2)
            beta = ops.where(valid, moved, ops.zeros_like(beta) + end)
            return beta, beta

        _, betas = ops.scan(back, beta0, next_steps, reverse=True)            # (time, batch, tags)
        log_marginals = alphas + ops.transpose(betas, (1, 0, 2)) - ops.reshape(log_z, (-1, 1, 1))
        marginals = ops.exp(log_marginals)
        return ops.where(ops.expand_dims(prefix, 2), marginals, ops.zeros_like(marginals))


@keras.saving.register_keras_serializable(package="zoo")
class CRFLoss(keras.losses.Loss):
    """Negative log-likelihood of the gold tag paths under a CRF layer, per sequence.

    `y_pred` is the model output, the CRF's potentials (batch, time, num_tags); `y_true` holds int
    tag ids (batch, time) with -1 at padded positions (mask = y_true >= 0, a prefix of each row).
    call() returns (batch,) negative log-likelihoods; the reduction (default: mean) does the rest.
    The loss reads `crf_layer`'s weights, so they train when the layer is part of the model.

    A CRFLoss cannot be rebuilt from a saved config (it holds a layer): load saved models with
    compile=False and compile again with CRFLoss(model.get_layer(<crf name>)).
    """

    def __init__(self, crf_layer, name="crf_loss", reduction="sum_over_batch_size", dtype=None):
        if not isinstance(crf_layer, CRF):
            raise TypeError(f"CRFLoss: `crf_layer` must be the zoo.CRF layer of the model, got "
                            f"{type(crf_layer).__name__}.")
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.crf_layer = crf_layer

    def call(self, y_true, y_pred):
        tags = ops.cast(y_true, "int32")
        if len(tags.shape) == 3 and tags.shape[-1] == 1:
            tags = ops.squeeze(tags, -1)
        mask = tags >= 0
        return -self.crf_layer.log_likelihood(y_pred, tags, mask)

    def get_config(self):
        return {**super().get_config(), "crf_layer_name": self.crf_layer.name}

    @classmethod
    def from_config(cls, config):
        raise ValueError(
            f"CRFLoss cannot be rebuilt from a saved config: it needs the CRF layer object (saved "
            f"config names layer {config.get('crf_layer_name')!r}). Load the model with "
            f"keras.saving.load_model(path, compile=False), then compile it again with "
            f"loss=zoo.CRFLoss(model.get_layer({config.get('crf_layer_name')!r})).")


def iob2_constraints(tag_names):
    """Allowed moves for IOB2 tags ("O", "B-PER", "I-PER", ...).

    "I-X" may only follow "B-X" or "I-X" and may not start a sentence; everything else is allowed
    (any tag may end a sentence). Returns (allowed_transitions (n, n), allowed_start (n,),
    allowed_end (n,)) numpy bool arrays, ready for CRF(...).
    """
    names = [str(name) for name in tag_names]
    if not names:
        raise ValueError("iob2_constraints: `tag_names` is empty; pass one name per tag.")
    for name in names:
        if name != "O" and not (name[:2] in ("B-", "I-") and len(name) > 2):
            raise ValueError(f"iob2_constraints: tag {name!r} is not an IOB2 tag; expected 'O', "
                             f"'B-<type>' or 'I-<type>'.")
    n = len(names)
    allowed = np.ones((n, n), dtype=bool)
    allowed_start = np.ones(n, dtype=bool)
    allowed_end = np.ones(n, dtype=bool)
    for j, name in enumerate(names):
        if name.startswith("I-"):
            entity = name[2:]
            allowed_start[j] = False
            for i, previous in enumerate(names):
                allowed[i, j] = previous in (f"B-{entity}", f"I-{entity}")
    return allowed, allowed_start, allowed_end
