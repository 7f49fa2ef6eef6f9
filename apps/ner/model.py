"""The tagger: a many-to-many BiLSTM (or BiGRU) over word, character and casing features.

    words  (B, T)    -> Embedding(V, 100 | GloVe 50, mask_zero=True) ----------------.
    chars  (B, T, W) -> Embedding(C, 30) -> Dropout -> char CNN or char BiLSTM ------ concat
    casing (B, T)    -> Embedding(8, 8) --------------------------------------------'   |
        -> Dropout -> N x Bidirectional(zoo.LSTM | zoo.GRU, return_sequences)
        [-> DocumentMemory(K), with documents (B,)] -> Dropout
        -> Dense(num_tags) -> softmax, or CRF potentials (zoo.crf.CRF, Viterbi decoding)

With doc_memory = K > 0 a `DocumentMemory` follows the recurrent layers: each token also reads
the states of the other occurrences of its word in the same story (an extra input "documents",
(B,), the story id of each sentence; the batches hold whole pieces of stories,
apps.ner.batching), through an attention of size K.

With lm_weight > 0 the top recurrent layer's states also learn to predict the neighbouring
words (`LanguageModelLoss`, Rei 2017), an extra loss during training only; tagging is unchanged.
With adversarial > 0 an `AdversarialPerturbation` sits after the concatenation and the model is
an `AdversarialModel` (apps.common.adversarial, Miyato et al. 2017, as Yasunaga et al. 2018 do
for tagging): each batch is also trained with its word + character + casing features moved by
the perturbation of norm `adversarial` per sentence that raises the loss most. Identity outside
training.

The word embedding's mask (word id 0 = padding) is the only mask entering the concatenation
(the char and casing branches have none); `MaskedConcatenate` passes it on (Keras's own
Concatenate would OR it away), so every recurrent layer skips the padded steps in both
directions (tests/apps/ner/test_model.py checks that padding never changes a real position).
T and W are free (None): a model tags sentences of any length; W is only capped by the data
encoding (max_word_length).

Character encoders, per word:
    cnn   Ma & Hovy (2016): Conv over the characters (30 filters, width 3, same padding), then
          the max over the word's real characters (padding excluded).
    lstm  Lample et al. (2016): Bidirectional(zoo.LSTM(25)) over the characters; the last
          forward and backward states.
    none  no character features.

The output layer is named "tags" (softmax probabilities) or "crf" (CRF potentials). `Tagger`
turns a model's output into tag ids: argmax, or Viterbi decoding through the CRF layer.
"""
import keras
from keras import ops

from apps.common.adversarial import AdversarialModel, AdversarialPerturbation
from apps.ner.metrics import EntityF1
from zoo import builders
from zoo.crf import CRF, CRFLoss, iob2_constraints


@keras.saving.register_keras_serializable(package="apps.ner")
class CharMaxPool(keras.layers.Layer):
    """[features (B, T, W, F), char ids (B, T, W)] -> (B, T, F): the max over each word's real
    characters; 0 for a word without characters (padding). No mask out."""

    def call(self, inputs):
        features, chars = inputs
        real = ops.expand_dims(chars > 0, -1)
        lowest = ops.full_like(features, -1e9)
        pooled = ops.max(ops.where(real, features, lowest), axis=2)
        has_chars = ops.any(chars > 0, axis=2, keepdims=True)
        return ops.where(has_chars, pooled, ops.zeros_like(pooled))

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        features_shape = input_shape[0]
        return features_shape[:2] + features_shape[3:]


@keras.saving.register_keras_serializable(package="apps.ner")
class CharRecurrentEncoder(keras.layers.Layer):
    """[char embeddings (B, T, W, E), char ids (B, T, W)] -> (B, T, 2·units): a bidirectional
    zoo recurrent layer reads each word's characters (padding masked); the last forward and
    backward states are the word's features. No mask out."""

    def __init__(self, units, cell="lstm", **kwargs):
        super().__init__(**kwargs)
        self.units, self.cell = int(units), cell
        self.recurrent = keras.layers.Bidirectional(
            builders.recurrent_layer(cell, self.units, name=f"char_{cell}"),
            name=f"bidirectional_char_{cell}")

    def build(self, input_shape):
        self.recurrent.build((None, None, input_shape[0][-1]))

    def call(self, inputs):
        embedded, chars = inputs
        shape = ops.shape(embedded)
        flat = ops.reshape(embedded, (-1, shape[2], shape[3]))
        mask = ops.reshape(chars > 0, (-1, shape[2]))
        encoded = self.recurrent(flat, mask=mask)
        return ops.reshape(encoded, (shape[0], shape[1], 2 * self.units))

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        embedded = input_shape[0]
        return (embedded[0], embedded[1], 2 * self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "cell": self.cell}


@keras.saving.register_keras_serializable(package="apps.ner")
class MaskedConcatenate(keras.layers.Concatenate):
    """Concatenate whose output mask is the AND of its inputs' masks (inputs without a mask
    count as all true). Keras's own Concatenate takes the OR over the features instead, so one
    unmasked input (the char or casing features) would unmask every padded step."""

    def compute_mask(self, inputs, mask=None):
        masks = [m for m in (mask or []) if m is not None]
        if not masks:
            return None
        combined = masks[0]
        for other in masks[1:]:
            combined = ops.logical_and(combined, other)
        return combined


@keras.saving.register_keras_serializable(package="apps.ner")
class LanguageModelLoss(keras.layers.Layer):
    """Rei (2017)'s auxiliary language-model objective on a bidirectional layer's states.

    Inputs [states (B, T, 2·units): the forward then the backward direction, word ids (B, T),
    0 at padding]. In training, the forward state at t predicts the word at t + 1 and the
    backward state at t the word at t - 1, each through its own tanh layer of `hidden` units
    and a softmax over ids 0 .. words + 1 (the `words` most frequent training words follow
    <PAD> = 0 and <UNK> = 1 in the vocabulary; rarer words are predicted as <UNK>). The loss,
    added with `add_loss`, is weight × (the two cross-entropies summed over the sentence's real
    positions), averaged over the batch: per sentence, like the CRF's negative log-likelihood.
    The states come out unchanged (and so does their mask), so outside training the layer does
    nothing; the states need not stop at padding, since padded targets are left out.
    """

    def __init__(self, units, words, hidden=50, weight=0.1, **kwargs):
        super().__init__(**kwargs)
        self.units, self.words, self.hidden = int(units), int(words), int(hidden)
        self.weight = float(weight)
        self.supports_masking = True
        self.forward_hidden = keras.layers.Dense(self.hidden, activation="tanh",
                                                 name="forward_hidden")
        self.forward_words = keras.layers.Dense(self.words + 2, name="forward_words")
        self.backward_hidden = keras.layers.Dense(self.hidden, activation="tanh",
                                                  name="backward_hidden")
        self.backward_words = keras.layers.Dense(self.words + 2, name="backward_words")

    def heads(self, direction):
        """(tanh layer, word logits layer) of "forward" or "backward"."""
        if direction == "forward":
            return self.forward_hidden, self.forward_words
        return self.backward_hidden, self.backward_words

    def build(self, input_shape):
        for direction in ("forward", "backward"):
            hidden, output = self.heads(direction)
            hidden.build((None, None, self.units))
            output.build((None, None, self.hidden))

    def direction_loss(self, states, targets, direction):
        """Cross-entropy of predicting `targets` (B, T') from `states` (B, T', units), summed
        over the real targets (id > 0) of each sentence: (B,)."""
        hidden, output = self.heads(direction)
        real = ops.cast(targets > 0, "float32")
        targets = ops.where(targets < self.words + 2, targets, ops.ones_like(targets))
        logits = ops.cast(output(hidden(states)), "float32")
        cross_entropy = keras.losses.sparse_categorical_crossentropy(targets, logits,
                                                                    from_logits=True)
        return ops.sum(cross_entropy * real, axis=1)

    def call(self, inputs, training=None):
        states, words = inputs
        if training:
            words = ops.cast(words, "int32")
            per_sentence = (
                self.direction_loss(states[:, :-1, :self.units], words[:, 1:], "forward")
                + self.direction_loss(states[:, 1:, self.units:], words[:, :-1], "backward"))
            self.add_loss(self.weight * ops.mean(per_sentence))
        return states

    def compute_mask(self, inputs, mask=None):
        return None if mask is None else mask[0]

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "units": self.units, "words": self.words,
                "hidden": self.hidden, "weight": self.weight}


@keras.saving.register_keras_serializable(package="apps.ner")
class DocumentMemory(keras.layers.Layer):
    """Each token reads the other occurrences of its word in the same story.

    Inputs [states (B, T, D), word ids (B, T), story ids (B,)]. A token's matches are the other
    tokens of the batch with the same word id (ids 0 = padding and 1 = <UNK> match nothing)
    whose sentence has the same story id. The token attends over their states (query, key and
    value maps of size `dim`, scaled dot products, softmax over the matches only) and its
    output is [its state, the attention's value (zeros without a match), 1 if it has a match
    else 0]: (B, T, D + dim + 1). The idea is the document-level memory of Luo et al. (2020,
    "Hierarchical Contextualized Representation for Named Entity Recognition"), read here
    within a batch: a name whose type one sentence leaves open ("Leeds" in a results table) can
    read how other sentences of the story use it ("Leeds United striker ..."). The cost is
    quadratic in the batch's tokens (B·T)², which is why batches hold about 32 sentences. The
    mask of the states passes through.
    """

    def __init__(self, dim, **kwargs):
        super().__init__(**kwargs)
        self.dim = int(dim)
        self.supports_masking = True

    def build(self, input_shape):
        size = input_shape[0][-1]
        self.query = self.add_weight(shape=(size, self.dim), initializer="glorot_uniform",
                                     name="query")
        self.key = self.add_weight(shape=(size, self.dim), initializer="glorot_uniform",
                                   name="key")
        self.value = self.add_weight(shape=(size, self.dim), initializer="glorot_uniform",
                                     name="value")

    @staticmethod
    def matches(words, documents):
        """(B·T, B·T) bool: token i (row-major over B, T) matches token j (see the class)."""
        shape = ops.shape(words)
        words = ops.reshape(ops.cast(words, "int32"), (-1,))
        stories = ops.reshape(ops.broadcast_to(ops.expand_dims(ops.cast(documents, "int32"), 1),
                                               (shape[0], shape[1])), (-1,))
        real = words > 1
        same = ops.logical_and(ops.equal(words[:, None], words[None, :]),
                               ops.equal(stories[:, None], stories[None, :]))
        same = ops.logical_and(same, ops.logical_and(real[:, None], real[None, :]))
        return ops.logical_and(same, ops.logical_not(ops.eye(ops.shape(words)[0], dtype="bool")))

    def call(self, inputs, mask=None):
        states, words, documents = inputs
        shape = ops.shape(states)
        flat = ops.reshape(states, (-1, shape[2]))
        same = self.matches(words, documents)
        queries = ops.matmul(flat, self.query)
        keys = ops.matmul(flat, self.key)
        values = ops.matmul(flat, self.value)
        scores = ops.matmul(queries, ops.transpose(keys)) / (self.dim ** 0.5)
        scores = ops.where(same, scores, ops.full_like(scores, -1e9))
        weights = ops.softmax(scores, axis=-1)
        weights = ops.where(same, weights, ops.zeros_like(weights))
        context = ops.matmul(weights, values)
        has_match = ops.cast(ops.any(same, axis=1, keepdims=True), flat.dtype)
        output = ops.concatenate([flat, context, has_match], axis=-1)
        return ops.reshape(output, (shape[0], shape[1], shape[2] + self.dim + 1))

    def compute_mask(self, inputs, mask=None):
        return None if mask is None else mask[0]

    def compute_output_shape(self, input_shape):
        states = input_shape[0]
        size = None if states[2] is None else states[2] + self.dim + 1
        return (states[0], states[1], size)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim}


def reads_stories(model) -> bool:
    """True when the model has a document memory (its inputs include "documents")."""
    inputs = model.input
    return isinstance(inputs, dict) and "documents" in inputs


def build_model(*, word_vocabulary_size, char_vocabulary_size, tag_names, word_dim=100,
                char_encoder="cnn", char_dim=30, char_features=30, char_width=3, casing_dim=8,
                casing_size=8, cell="lstm", units=100, layers=1, dropout=0.5, output="crf",
                train_word_embedding=True, lm_weight=0.0, lm_words=5000, adversarial=0.0,
                doc_memory=0, name="ner_tagger") -> keras.Model:
    """The uncompiled tagger (see the module docstring). Inputs {"words", "casing", "chars"},
    and "documents" with doc_memory > 0."""
    if output not in ("softmax", "crf"):
        raise ValueError(f"output must be 'softmax' or 'crf'; received {output!r}")
    if char_encoder not in ("cnn", "lstm", "none"):
        raise ValueError(f"char_encoder must be 'cnn', 'lstm' or 'none'; received {char_encoder!r}")
    num_tags = len(tag_names)
    words = keras.Input((None,), dtype="int32", name="words")
    casing = keras.Input((None,), dtype="int32", name="casing")
    chars = keras.Input((None, None), dtype="int32", name="chars")
    parts = [keras.layers.Embedding(word_vocabulary_size, word_dim, mask_zero=True,
                                    trainable=train_word_embedding,
                                    name="word_embedding")(words)]
    if char_encoder != "none":
        embedded = keras.layers.Embedding(char_vocabulary_size, char_dim,
                                          name="char_embedding")(chars)
        if dropout:
            embedded = keras.layers.Dropout(dropout, name="dropout_chars")(embedded)
        if char_encoder == "cnn":
            convolved = keras.layers.Conv2D(char_features, (1, char_width), padding="same",
                                            activation="tanh", name="char_cnn")(embedded)
            parts.append(CharMaxPool(name="char_max_pool")([convolved, chars]))
        else:
            parts.append(CharRecurrentEncoder(char_features, name="char_lstm_encoder")(
                [embedded, chars]))
    if casing_dim:
        parts.append(keras.layers.Embedding(casing_size, casing_dim,
                                            name="casing_embedding")(casing))
    x = parts[0] if len(parts) == 1 else MaskedConcatenate(name="features")(parts)
    if adversarial:
        x = AdversarialPerturbation(float(adversarial), name="adversarial_perturbation")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout_input")(x)
    x = builders.recurrent_stack(x, cell=cell, units=units, layers=layers, dropout=dropout,
                                 bidirectional=True, return_sequences=True)
    if lm_weight:
        x = LanguageModelLoss(units, lm_words, weight=lm_weight, name="language_model_loss")(
            [x, words])
    inputs = {"words": words, "casing": casing, "chars": chars}
    if doc_memory:
        inputs["documents"] = keras.Input((), dtype="int32", name="documents")
        x = DocumentMemory(doc_memory, name="document_memory")([x, words, inputs["documents"]])
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout_output")(x)
    if output == "softmax":
        outputs = keras.layers.Dense(num_tags, activation="softmax", dtype="float32",
                                     name="tags")(x)
    else:
        potentials = keras.layers.Dense(num_tags, dtype="float32", name="potentials")(x)
        allowed, allowed_start, allowed_end = iob2_constraints(tag_names)
        outputs = CRF(num_tags, allowed_transitions=allowed, allowed_start=allowed_start,
                      allowed_end=allowed_end, dtype="float32", name="crf")(potentials)
    model_class = AdversarialModel if adversarial else keras.Model
    return model_class(inputs, outputs, name=name)


def find_crf(model):
    """The model's CRF layer, or None for a softmax model."""
    for layer in model.layers:
        if isinstance(layer, CRF):
            return layer
    return None


def compile_model(model, optimizer, *, jit_compile=False) -> keras.Model:
    """Compile with the loss of the model's output (CRF negative log-likelihood, or
    cross-entropy ignoring padded labels -1) and the entity-F1 metric (`f1`, `val_f1`)."""
    crf = find_crf(model)
    if crf is None:
        loss = keras.losses.SparseCategoricalCrossentropy(ignore_class=-1)
        metric = EntityF1()
    else:
        loss = CRFLoss(crf)
        metric = EntityF1(decode=crf.decode)
    model.compile(optimizer=optimizer, loss=loss, metrics=[metric], jit_compile=jit_compile)
    return model


def make_optimizer(name, learning_rate, *, clipnorm=None, clipvalue=None, steps_per_epoch=1,
                   momentum=0.9, decay=0.05):
    """adam | nadam | sgd (momentum, learning rate / (1 + decay * epoch), as Ma & Hovy)."""
    clipping = {key: value for key, value in (("clipnorm", clipnorm), ("clipvalue", clipvalue))
                if value is not None}
    if name == "adam":
        return keras.optimizers.Adam(learning_rate, **clipping)
    if name == "nadam":
        return keras.optimizers.Nadam(learning_rate, **clipping)
    if name == "sgd":
        schedule = keras.optimizers.schedules.InverseTimeDecay(
            learning_rate, decay_steps=max(int(steps_per_epoch), 1), decay_rate=decay,
            staircase=True)
        return keras.optimizers.SGD(schedule, momentum=momentum, **clipping)
    raise ValueError(f"optimizer must be adam, nadam or sgd; received {name!r}")


class Tagger:
    """Model output -> tag ids (B, T), -1 at padding: argmax, or Viterbi through the CRF.
    `posteriors` gives each token's tag probabilities instead (softmax, or CRF marginals)."""

    def __init__(self, model):
        import tensorflow as tf

        self.model = model
        self.crf = find_crf(model)
        self.stories = reads_stories(model)
        self.names = ("words", "casing", "chars") + (("documents",) if self.stories else ())

        @tf.function(reduce_retracing=True)
        def predict(features):
            scores = model(features, training=False)
            mask = features["words"] > 0
            if self.crf is None:
                ids = ops.cast(ops.argmax(scores, axis=-1), "int32")
            else:
                ids, _ = self.crf.decode(scores, mask)
            return ops.where(mask, ids, -ops.ones_like(ids))

        @tf.function(reduce_retracing=True)
        def posteriors(features):
            scores = model(features, training=False)
            if self.crf is None:
                return scores
            return self.crf.marginals(scores, features["words"] > 0)

        self._predict = predict
        self._posteriors = posteriors

    def _tensors(self, features):
        return {name: ops.convert_to_tensor(features[name], "int32") for name in self.names}

    def __call__(self, features):
        return self._predict(self._tensors(features)).numpy()

    def posteriors(self, features):
        """(B, T, tags) float32: p(tag | sentence) per token; 0 at padded positions for a CRF."""
        return self._posteriors(self._tensors(features)).numpy()
