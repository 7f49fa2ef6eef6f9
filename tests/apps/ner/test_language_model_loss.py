"""apps.ner.model.LanguageModelLoss (--lm-weight): the auxiliary language-model loss is what
Rei (2017) writes, it exists in training only, and a tagger built with it tags, scores and
saves like one without."""
import numpy as np
import pytest

from tests.apps.ner.test_model import CHARS, TAGS, WORDS, batch, padded


def numpy_cross_entropy(states, targets, hidden, output, words):
    """Per-sentence sums of -log softmax(output(tanh(hidden(states))))[target] over targets > 0,
    with ids above words + 1 read as <UNK> = 1."""
    (w1, b1), (w2, b2) = hidden, output
    logits = np.tanh(states @ w1 + b1) @ w2 + b2
    logits = logits - logits.max(-1, keepdims=True)
    log_probabilities = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    clipped = np.where(targets < words + 2, targets, 1)
    picked = np.take_along_axis(log_probabilities, clipped[..., None], -1)[..., 0]
    return -(picked * (targets > 0)).sum(1)


def test_the_added_loss_is_the_two_directions_cross_entropy_per_sentence_in_training_only():
    import keras

    from apps.ner.model import LanguageModelLoss

    keras.utils.set_random_seed(4)
    units, words, weight = 3, 5, 0.3
    layer = LanguageModelLoss(units, words, hidden=4, weight=weight)
    rng = np.random.default_rng(0)
    states = rng.normal(size=(2, 5, 2 * units)).astype("float32")
    ids = np.array([[2, 9, 3, 6, 0], [4, 1, 0, 0, 0]], np.int32)   # 9 is rare: <UNK>; 0: padding
    out = layer([states, ids], training=True)
    assert len(layer.losses) == 1
    np.testing.assert_array_equal(np.asarray(out), states)
    weights = lambda dense: [np.asarray(v) for v in dense.weights]  # noqa: E731
    forward = numpy_cross_entropy(states[:, :-1, :units], ids[:, 1:],
                                  weights(layer.forward_hidden), weights(layer.forward_words),
                                  words)
    backward = numpy_cross_entropy(states[:, 1:, units:], ids[:, :-1],
                                   weights(layer.backward_hidden), weights(layer.backward_words),
                                   words)
    expected = weight * np.mean(forward + backward)
    assert float(layer.losses[0]) == pytest.approx(float(expected), rel=1e-5)
    # Sentence 2 has one real neighbour pair (4, 1) and padding after it: 2 terms, not 4 or 8.
    assert forward[1] > 0 and backward[1] > 0

    inference = LanguageModelLoss(units, words, hidden=4, weight=weight)
    out = inference([states, ids], training=False)
    assert inference.losses == []
    np.testing.assert_array_equal(np.asarray(out), states)


def lm_tagger(**options):
    import keras

    from apps.ner.model import build_model

    keras.utils.set_random_seed(0)
    settings = dict(word_vocabulary_size=WORDS, char_vocabulary_size=CHARS, tag_names=TAGS,
                    word_dim=6, char_dim=4, char_features=3, units=5, dropout=0.0,
                    lm_weight=0.5, lm_words=10)
    return build_model(**{**settings, **options})


def test_a_tagger_with_the_language_model_trains_it_but_scores_and_tags_without_it():
    import keras

    from apps.ner.model import compile_model

    model = lm_tagger()
    assert "language_model_loss" in {layer.name for layer in model.layers}
    compile_model(model, keras.optimizers.SGD(0.1))
    features, labels = batch(np.random.default_rng(2), [4, 6, 2])
    crf = model.get_layer("crf")
    crf_loss = -np.mean(np.asarray(crf.log_likelihood(model(features), np.maximum(labels, 0),
                                                      labels >= 0)))
    # Evaluation (training=False) counts the tagging loss alone.
    scored = model.evaluate(features, labels, verbose=0, return_dict=True)["loss"]
    assert scored == pytest.approx(float(crf_loss), rel=1e-5)
    # A training step adds the language model's loss and moves its weights.
    before = np.asarray(model.get_layer("language_model_loss").forward_words.kernel).copy()
    trained = model.train_on_batch(features, labels, return_dict=True)["loss"]
    assert trained > scored + 1.0          # 2 directions x ~ln(12) per word pair, x 0.5
    after = np.asarray(model.get_layer("language_model_loss").forward_words.kernel)
    assert np.abs(after - before).max() > 0
    # Padding still never changes a real token's scores (the layer passes the mask on).
    short = np.asarray(model(features, training=False))
    long = np.asarray(model(padded(features, 3), training=False))
    for row, length in enumerate([4, 6, 2]):
        np.testing.assert_allclose(long[row, :length], short[row, :length], rtol=0, atol=1e-5)


def test_the_same_tagger_without_the_language_model_has_the_same_scores():
    """The layer adds weights but no computation to the scores: copy the shared weights into a
    tagger built without it and the CRF potentials agree."""
    plain = lm_tagger(lm_weight=0.0)
    with_lm = lm_tagger()
    for layer in plain.layers:
        if layer.weights:
            layer.set_weights(with_lm.get_layer(layer.name).get_weights())
    features, _ = batch(np.random.default_rng(5), [3, 5])
    np.testing.assert_allclose(np.asarray(plain(features)), np.asarray(with_lm(features)),
                               rtol=0, atol=1e-6)


def test_a_tagger_with_the_language_model_saves_and_loads(tmp_path):
    import keras

    model = lm_tagger()
    features, _ = batch(np.random.default_rng(6), [2, 5])
    path = tmp_path / "tagger.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False)
    layer = loaded.get_layer("language_model_loss")
    assert (layer.units, layer.words, layer.weight) == (5, 10, 0.5)
    np.testing.assert_allclose(np.asarray(loaded(features)), np.asarray(model(features)),
                               rtol=0, atol=1e-6)
