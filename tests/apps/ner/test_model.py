"""apps.ner.model: every option builds, trains a step, and the word mask reaches the recurrent
layers (padding never changes the scores of real tokens, in either direction)."""
import numpy as np
import pytest

from apps.ner.data import CONLL2003_TAGS

TAGS = list(CONLL2003_TAGS)
WORDS, CHARS = 40, 15


def batch(rng, lengths, time=None, width=5):
    """Features for sentences of `lengths`, padded to `time`, with labels (-1 at padding)."""
    time = time or max(lengths)
    words = np.zeros((len(lengths), time), np.int32)
    casing = np.zeros_like(words)
    chars = np.zeros((len(lengths), time, width), np.int32)
    labels = np.full((len(lengths), time), -1, np.int32)
    for row, length in enumerate(lengths):
        words[row, :length] = rng.integers(1, WORDS, length)
        casing[row, :length] = rng.integers(1, 8, length)
        chars[row, :length, :3] = rng.integers(1, CHARS, (length, 3))
        labels[row, :length] = rng.choice([0, 1, 3, 5], length)      # O and B- tags: valid IOB2
    return {"words": words, "casing": casing, "chars": chars}, labels


def padded(features, extra):
    """The same batch with `extra` more padded steps."""
    return {name: np.concatenate([value, np.zeros((value.shape[0], extra) + value.shape[2:],
                                                  value.dtype)], axis=1)
            for name, value in features.items()}


def tiny_model(**options):
    import keras

    from apps.ner.model import build_model

    keras.utils.set_random_seed(0)
    settings = dict(word_vocabulary_size=WORDS, char_vocabulary_size=CHARS, tag_names=TAGS,
                    word_dim=6, char_dim=4, char_features=3, units=5, dropout=0.5)
    return build_model(**{**settings, **options})


@pytest.mark.parametrize("char_encoder, output, cell, casing_dim, layers", [
    ("cnn", "crf", "lstm", 8, 2),
    ("lstm", "softmax", "gru", 8, 1),
    ("none", "softmax", "lstm", 0, 1),
    ("lstm", "crf", "gru", 0, 2),
])
def test_every_option_builds_and_padding_never_changes_a_real_token(char_encoder, output, cell,
                                                                     casing_dim, layers):
    from apps.ner.model import find_crf

    model = tiny_model(char_encoder=char_encoder, output=output, cell=cell,
                       casing_dim=casing_dim, layers=layers)
    assert (find_crf(model) is not None) == (output == "crf")
    assert {"word_embedding", "bidirectional_recurrent_1"} <= {layer.name for layer in model.layers}
    assert ("char_embedding" in {layer.name for layer in model.layers}) == (char_encoder != "none")
    features, _ = batch(np.random.default_rng(1), [3, 6, 1])
    short = np.asarray(model(features, training=False))
    long = np.asarray(model(padded(features, 4), training=False))
    assert short.shape == (3, 6, len(TAGS))
    for row, length in enumerate([3, 6, 1]):
        np.testing.assert_allclose(long[row, :length], short[row, :length], rtol=0, atol=1e-5)


def test_a_softmax_tagger_trains_on_batches_of_unknown_length_and_tags_only_real_tokens():
    """Bucketed batches have a new length each time: the time axis is None inside the traced
    train and predict steps (zoo's fast masked path must handle it)."""
    import keras
    import tensorflow as tf

    from apps.ner.batching import signature
    from apps.ner.model import Tagger, compile_model

    model = tiny_model(char_encoder="lstm", output="softmax", cell="gru")
    compile_model(model, keras.optimizers.Adam(0.01))
    rng = np.random.default_rng(3)
    batches = [batch(rng, lengths) for lengths in ([2, 4], [7, 1, 3])]
    dataset = tf.data.Dataset.from_generator(lambda: iter(batches), output_signature=signature())
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(len(batches)))
    history = model.fit(dataset, epochs=2, verbose=0, shuffle=False)
    assert np.isfinite(history.history["loss"]).all() and len(history.history["f1"]) == 2
    tagger = Tagger(model)
    for features, labels in batches:
        ids = tagger(features)
        assert ids.shape == labels.shape
        assert ((ids >= 0) == (labels >= 0)).all() and ids.max() < len(TAGS)


def test_without_the_masked_concatenation_padding_would_leak():
    """The test above can fail: Keras's own Concatenate ORs the word mask away."""
    import keras

    from apps.ner import model as model_module

    original = model_module.MaskedConcatenate
    model_module.MaskedConcatenate = keras.layers.Concatenate
    try:
        keras.utils.set_random_seed(0)
        model = model_module.build_model(
            word_vocabulary_size=WORDS, char_vocabulary_size=CHARS, tag_names=TAGS, word_dim=6,
            char_encoder="none", casing_dim=4, units=5, dropout=0.0, output="softmax")
    finally:
        model_module.MaskedConcatenate = original
    features, _ = batch(np.random.default_rng(1), [3, 6])
    short = np.asarray(model(features))
    long = np.asarray(model(padded(features, 4)))
    assert np.abs(long[0, :3] - short[0, :3]).max() > 1e-4


def test_the_crf_output_carries_no_mask_so_the_loss_is_per_sentence():
    import keras

    from apps.ner.model import build_model, compile_model

    model = build_model(word_vocabulary_size=WORDS, char_vocabulary_size=CHARS, tag_names=TAGS,
                        word_dim=4, char_encoder="none", casing_dim=0, units=3, dropout=0.0)
    compile_model(model, keras.optimizers.SGD(0.0))
    features, labels = batch(np.random.default_rng(2), [2, 5])
    loss = model.evaluate(features, labels, verbose=0, return_dict=True)["loss"]
    crf = model.get_layer("crf")
    scores = model(features)
    expected = -np.mean(np.asarray(crf.log_likelihood(scores, np.maximum(labels, 0),
                                                      labels >= 0)))
    assert loss == pytest.approx(float(expected), rel=1e-5)
