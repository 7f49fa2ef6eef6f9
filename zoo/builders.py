"""Functional-API builders for every RNN shape in the course's taxonomy.

Each returns an uncompiled `keras.Model` with named inputs and layers; the caller chooses the loss
and optimizer. Every recurrent builder takes `cell` ("rnn", "gru", "lstm"), `cell_options` (the
cell's own options: activation, relevance_gate, peephole), `layers` (stacked depth), `units`,
`dropout` (between layers) and, where the shape allows it, `bidirectional`.

    one_to_one        x → ŷ                     a standard network, for completeness
    language_model    y⟨1..T⟩ → p(y⟨t⟩ | y⟨<t⟩)   x⟨1⟩ = 0, x⟨t⟩ = y⟨t−1⟩ (also one-to-many training)
    sampler           trained language model → generator with fed-back outputs (one compiled loop)
    many_to_one       x⟨1..T⟩ → ŷ                 sentiment
    many_to_many      x⟨1..T⟩ → ŷ⟨1..T⟩            tagging, Tx = Ty
    encoder_decoder   x⟨1..Tx⟩ → ŷ⟨1..Ty⟩          Tx ≠ Ty; teacher forcing, plus greedy_decoder
"""
import keras
from keras import ops

from zoo.generation import OneHot, SequenceSampler, ShiftRight
from zoo.layers import GRU, LSTM, BasicRNN

LAYER_CLASSES = {"rnn": BasicRNN, "gru": GRU, "lstm": LSTM}


@keras.saving.register_keras_serializable(package="zoo")
class MaskedGlobalMaxPooling1D(keras.layers.Layer):
    """Max over time of the unmasked steps (Keras's GlobalMaxPooling1D ignores the mask)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is not None:
            inputs = ops.where(ops.expand_dims(mask, -1), inputs, ops.full_like(inputs, -1e9))
        return ops.max(inputs, axis=1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])


def recurrent_layer(cell, units, cell_options=None, **kwargs):
    """One zoo sequence layer: cell "rnn" | "gru" | "lstm" with the cell's own options."""
    if cell not in LAYER_CLASSES:
        raise ValueError(f"cell must be one of {sorted(LAYER_CLASSES)}; received cell={cell!r}")
    return LAYER_CLASSES[cell](units, **(cell_options or {}), **kwargs)


def check_depth(layers):
    if isinstance(layers, bool) or not isinstance(layers, int) or layers < 1:
        raise ValueError(f"layers must be a positive integer; received layers={layers!r}")


def recurrent_stack(x, *, cell, units, layers=1, cell_options=None, dropout=0.0,
                    bidirectional=False, return_sequences=True, mask=None, name="recurrent"):
    """Deep (and optionally bidirectional) stack; returns the top layer's output."""
    check_depth(layers)
    for depth in range(layers):
        last = depth == layers - 1
        layer = recurrent_layer(cell, units, cell_options,
                                return_sequences=return_sequences or not last,
                                name=f"{name}_{depth + 1}")
        if bidirectional:
            layer = keras.layers.Bidirectional(layer, name=f"bidirectional_{name}_{depth + 1}")
        x = layer(x, mask=mask) if depth == 0 and mask is not None else layer(x)
        if dropout and not last:
            x = keras.layers.Dropout(dropout, name=f"dropout_{name}_{depth + 1}")(x)
    return x


def one_to_one(input_dim, output_dim, *, units=64, layers=1, dropout=0.0,
               output_activation="softmax"):
    """x → ŷ: a standard feed-forward network (the taxonomy's one-to-one)."""
    check_depth(layers)
    inputs = keras.Input((input_dim,), name="features")
    x = inputs
    for depth in range(layers):
        x = keras.layers.Dense(units, activation="tanh", name=f"dense_{depth + 1}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout_{depth + 1}")(x)
    outputs = keras.layers.Dense(output_dim, activation=output_activation, name="output")(x)
    return keras.Model(inputs, outputs, name="one_to_one")


def language_model(vocabulary_size, *, cell="lstm", units=128, layers=1, cell_options=None,
                   dropout=0.0, embedding_dim=None, pad_id=None, name="language_model"):
    """p(y⟨t⟩ | y⟨1⟩…y⟨t−1⟩) at every step, trained with teacher forcing.

    Input "tokens" (batch, time) holds the targets y⟨1..T⟩; the model feeds x⟨1⟩ = 0 and
    x⟨t⟩ = y⟨t−1⟩ (one-hot, as the course, or an embedding if `embedding_dim`). Positions whose
    target is `pad_id` are masked (also in the loss). Output "probabilities" (batch, time, V).
    This is also the training model of the one-to-many generator (`sampler`).
    """
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    if embedding_dim:
        encoder = keras.layers.Embedding(vocabulary_size, embedding_dim, name="embedding")
    else:
        encoder = OneHot(vocabulary_size, name="one_hot")
    x = ShiftRight(name="shift_right")(encoder(tokens))              # x⟨t⟩ = y⟨t−1⟩, x⟨1⟩ = 0
    mask = None if pad_id is None else ops.not_equal(tokens, pad_id)
    hidden = recurrent_stack(x, cell=cell, units=units, layers=layers, cell_options=cell_options,
                             dropout=dropout, mask=mask)
    logits = keras.layers.Dense(vocabulary_size, name="logits")(hidden)
    probabilities = keras.layers.Activation("softmax", name="probabilities", dtype="float32")(logits)
    return keras.Model(tokens, probabilities, name=name)


def recurrent_layers_of(model, prefix="recurrent_"):
    return [layer for layer in model.layers if layer.name.startswith(prefix)]


def sampler(model, steps, *, sampling="softmax", top_k=None, banned_ids=(), seed=None):
    """Inference model with fed-back outputs for a `language_model`, sharing its weights.

    Inputs: "forced" (batch, steps) int32, −1 where the model chooses, else a forced token (a
    primer); "temperature" (batch,) float. Outputs: "ids" (batch, steps) and "log_probabilities".
    """
    layers = recurrent_layers_of(model)
    if not layers or any(isinstance(layer, keras.layers.Bidirectional) for layer in layers):
        raise ValueError("sampler needs a unidirectional language_model (no Bidirectional layers)")
    encoder = model.get_layer("embedding") if "embedding" in [l.name for l in model.layers] \
        else model.get_layer("one_hot")
    feature_size = encoder.output_dim
    forced = keras.Input((steps,), dtype="int32", name="forced")
    temperature = keras.Input((), dtype="float32", name="temperature")
    generator = SequenceSampler(layers, model.get_layer("logits"), encoder, feature_size, steps,
                                sampling=sampling, top_k=top_k, banned_ids=banned_ids, seed=seed,
                                name="sequence_sampler")
    ids, log_probabilities = generator(forced, temperature)
    return keras.Model({"forced": forced, "temperature": temperature},
                       {"ids": ids, "log_probabilities": log_probabilities}, name="sampler")


def many_to_one(vocabulary_size, *, output_units, output_activation="softmax", cell="lstm",
                units=128, layers=1, cell_options=None, dropout=0.0, bidirectional=False,
                embedding_dim=64, pooling="last", name="many_to_one"):
    """x⟨1..T⟩ → ŷ (sentiment): masked embedding → recurrent stack → last state or pooling → head.

    pooling: "last" (the final state a⟨T⟩), "mean" or "max" over the unmasked states.
    """
    if pooling not in ("last", "mean", "max"):
        raise ValueError(f"pooling must be 'last', 'mean' or 'max'; received pooling={pooling!r}")
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(vocabulary_size, embedding_dim, mask_zero=True, name="embedding")(tokens)
    hidden = recurrent_stack(x, cell=cell, units=units, layers=layers, cell_options=cell_options,
                             dropout=dropout, bidirectional=bidirectional,
                             return_sequences=pooling != "last")
    if pooling == "mean":
        hidden = keras.layers.GlobalAveragePooling1D(name="mean_pooling")(hidden)
    elif pooling == "max":
        hidden = MaskedGlobalMaxPooling1D(name="max_pooling")(hidden)
    if dropout:
        hidden = keras.layers.Dropout(dropout, name="dropout_head")(hidden)
    outputs = keras.layers.Dense(output_units, activation=output_activation, name="output",
                                 dtype="float32")(hidden)
    return keras.Model(tokens, outputs, name=name)


def many_to_many(vocabulary_size, num_tags, *, cell="lstm", units=128, layers=1,
                 cell_options=None, dropout=0.0, bidirectional=True, embedding_dim=64,
                 name="many_to_many"):
    """x⟨1..T⟩ → ŷ⟨1..T⟩ (tagging, Tx = Ty): masked embedding → stack → per-step softmax."""
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(vocabulary_size, embedding_dim, mask_zero=True, name="embedding")(tokens)
    hidden = recurrent_stack(x, cell=cell, units=units, layers=layers, cell_options=cell_options,
                             dropout=dropout, bidirectional=bidirectional)
    outputs = keras.layers.Dense(num_tags, activation="softmax", name="tags", dtype="float32")(hidden)
    return keras.Model(tokens, outputs, name=name)


def encoder_decoder(source_vocabulary_size, target_vocabulary_size, *, cell="lstm", units=128,
                    layers=1, cell_options=None, dropout=0.0, embedding_dim=64,
                    name="encoder_decoder"):
    """x⟨1..Tx⟩ → ŷ⟨1..Ty⟩, Tx ≠ Ty, trained with teacher forcing.

    Inputs "source" (batch, Tx) and "target_in" (batch, Ty) = [<start>, y⟨1⟩, …, y⟨Ty−1⟩], both
    0-padded and masked; each decoder layer starts from the matching encoder layer's final state.
    Output "probabilities" (batch, Ty, target V). `greedy_decoder` builds the inference model.
    """
    check_depth(layers)
    source = keras.Input((None,), dtype="int32", name="source")
    target_in = keras.Input((None,), dtype="int32", name="target_in")
    x = keras.layers.Embedding(source_vocabulary_size, embedding_dim, mask_zero=True,
                               name="source_embedding")(source)
    final_states = []
    for depth in range(layers):
        layer = recurrent_layer(cell, units, cell_options, return_sequences=True, return_state=True,
                                name=f"encoder_{depth + 1}")
        x, *states = layer(x)
        final_states.append(states)
    y = keras.layers.Embedding(target_vocabulary_size, embedding_dim, mask_zero=True,
                               name="target_embedding")(target_in)
    for depth in range(layers):
        layer = recurrent_layer(cell, units, cell_options, return_sequences=True,
                                name=f"decoder_{depth + 1}")
        y = layer(y, initial_state=final_states[depth])
        if dropout:
            y = keras.layers.Dropout(dropout, name=f"dropout_decoder_{depth + 1}")(y)
    logits = keras.layers.Dense(target_vocabulary_size, name="logits")(y)
    probabilities = keras.layers.Activation("softmax", name="probabilities", dtype="float32")(logits)
    return keras.Model({"source": source, "target_in": target_in}, probabilities, name=name)


def greedy_decoder(model, steps, *, start_id):
    """Inference model for `encoder_decoder`: greedy (argmax) decoding in one compiled loop.

    Input "source" (batch, Tx). Output "ids" (batch, steps); the caller cuts at the end token.
    The first decoder input is `start_id`; the decoder shares the trained model's weights.
    """
    encoders = recurrent_layers_of(model, "encoder_")
    decoders = recurrent_layers_of(model, "decoder_")
    source = keras.Input((None,), dtype="int32", name="source")
    x = model.get_layer("source_embedding")(source)
    initial_states = []
    for layer in encoders:
        x, *states = layer(x)
        initial_states.extend(states)
    embedding = model.get_layer("target_embedding")
    generator = SequenceSampler(decoders, model.get_layer("logits"), embedding,
                                embedding.output_dim, steps, start_id=start_id,
                                sampling="argmax", name="greedy_sampler")
    batch_forced = ops.full_like(source[:, :1], -1)
    forced = ops.tile(batch_forced, [1, steps])
    ids, _ = generator(forced, ops.ones_like(source[:, 0], dtype="float32"), initial_states)
    return keras.Model(source, {"ids": ids}, name="greedy_decoder")

