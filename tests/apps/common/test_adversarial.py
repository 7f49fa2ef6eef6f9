"""apps.common.adversarial: Miyato et al.'s adversarial training step, checked against the same
update computed by hand with its own gradient tapes."""
import numpy as np
import pytest

import keras

from apps.common.adversarial import (AdversarialModel, AdversarialPerturbation,
                                     perturbation_layers)
from zoo.layers import GRU

tf = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                                reason="the adversarial training step is TensorFlow's")

VOCABULARY, DIM, TIME, BATCH = 11, 5, 6, 4


def tiny_model(epsilon=0.7, cls=AdversarialModel):
    keras.utils.set_random_seed(5)
    tokens = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(VOCABULARY, DIM, mask_zero=True, name="embedding")(tokens)
    if epsilon:
        x = AdversarialPerturbation(epsilon, name="adversarial_perturbation")(x)
    x = GRU(3, name="gru")(x)
    output = keras.layers.Dense(1, activation="sigmoid", name="out")(x)
    return cls(tokens, output)


def batch():
    rng = np.random.default_rng(0)
    tokens = rng.integers(1, VOCABULARY, size=(BATCH, TIME)).astype("int32")
    tokens[0, 4:] = 0       # padding: masked, gets no perturbation
    tokens[1, 2:] = 0
    labels = np.array([[1.0], [0.0], [1.0], [0.0]], dtype="float32")
    return tokens, labels


def by_hand(model, tokens, labels, epsilon, learning_rate):
    """The weights after one SGD step on L(e) + L(e + r), r = eps * g / ||g|| per text, g = dL/de,
    computed from the model's layers directly (no AdversarialModel.train_step)."""
    loss_fn = keras.losses.BinaryCrossentropy()
    embedding = model.get_layer("embedding")
    gru, dense = model.get_layer("gru"), model.get_layer("out")
    mask = tf.constant(tokens != 0)

    def rest(embedded):
        return dense(gru(embedded, mask=mask))

    weights = model.trainable_weights
    with tf.GradientTape(persistent=True) as tape:
        embedded = embedding(tokens)
        tape.watch(embedded)
        clean = loss_fn(labels, rest(embedded))
    g = tape.gradient(clean, embedded).numpy()
    norms = np.sqrt((g ** 2).sum(axis=(1, 2), keepdims=True))
    r = epsilon * g / (norms + 1e-12)
    with tf.GradientTape() as tape2:
        total = loss_fn(labels, rest(embedding(tokens))) + loss_fn(
            labels, rest(embedding(tokens) + tf.constant(r)))
    gradients = tape2.gradient(total, weights)
    return [w.numpy() - learning_rate * tf.convert_to_tensor(gw).numpy()
            for w, gw in zip(weights, gradients)], \
        float(clean), r


def test_one_training_step_is_the_clean_plus_the_adversarial_loss_by_hand():
    tokens, labels = batch()
    model = tiny_model(epsilon=0.7)
    expected, clean_loss, r = by_hand(model, tokens, labels, 0.7, learning_rate=0.5)
    # the perturbation has norm epsilon for every text, and none on padding
    np.testing.assert_allclose(np.sqrt((r ** 2).sum(axis=(1, 2))), 0.7, rtol=1e-5)
    assert np.all(r[0, 4:] == 0) and np.all(r[1, 2:] == 0)
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="binary_crossentropy")
    logs = model.train_on_batch(tokens, labels, return_dict=True)
    for mine, theirs in zip(model.trainable_weights, expected):
        np.testing.assert_allclose(mine.numpy(), theirs, rtol=2e-4, atol=2e-6)
    # fit logs the clean loss, comparable with plain training's
    assert logs["loss"] == pytest.approx(clean_loss, rel=1e-5)


def test_the_step_differs_from_plain_training_and_depends_on_epsilon():
    tokens, labels = batch()
    after = {}
    for epsilon in (0, 0.3, 3.0):
        model = tiny_model(epsilon, cls=AdversarialModel if epsilon else keras.Model)
        model.compile(optimizer=keras.optimizers.SGD(0.5), loss="binary_crossentropy")
        model.train_on_batch(tokens, labels)
        after[epsilon] = np.concatenate([w.numpy().ravel() for w in model.trainable_weights])
    assert not np.allclose(after[0], after[0.3], atol=1e-6)
    assert not np.allclose(after[0.3], after[3.0], atol=1e-6)


def test_the_perturbation_is_the_identity_outside_training_and_keeps_the_mask():
    tokens, _ = batch()
    model = tiny_model(0.7)
    plain = keras.Model(model.inputs, model.outputs)
    np.testing.assert_array_equal(model.predict(tokens, verbose=0),
                                  plain.predict(tokens, verbose=0))
    layer = model.get_layer("adversarial_perturbation")
    embedded = model.get_layer("embedding")(tokens)
    assert layer.compute_mask(embedded, tf.constant(tokens != 0)) is not None
    np.testing.assert_array_equal(layer(embedded).numpy(), embedded.numpy())
    assert perturbation_layers(model) == [layer]


def test_fit_leaves_no_perturbation_behind_and_saves_and_loads(tmp_path):
    tokens, labels = batch()
    model = tiny_model(0.7)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(tokens, labels, epochs=2, batch_size=2, verbose=0)
    assert model.get_layer("adversarial_perturbation")._step.delta is None
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", compile=False)
    assert isinstance(loaded, AdversarialModel)
    assert loaded.get_layer("adversarial_perturbation").epsilon == 0.7
    np.testing.assert_allclose(loaded.predict(tokens, verbose=0),
                               model.predict(tokens, verbose=0), rtol=1e-6)


@pytest.mark.parametrize("epsilon", [0, -1.0, float("nan"), float("inf"), True, "1"])
def test_epsilon_must_be_a_positive_finite_number(epsilon):
    with pytest.raises(ValueError, match="epsilon must be a positive finite number"):
        AdversarialPerturbation(epsilon)


def test_without_perturbation_layers_it_trains_like_a_plain_model():
    tokens, labels = batch()
    weights = []
    for cls in (keras.Model, AdversarialModel):
        model = tiny_model(0, cls=cls)
        model.compile(optimizer=keras.optimizers.SGD(0.5), loss="binary_crossentropy")
        model.train_on_batch(tokens, labels)
        weights.append([w.numpy() for w in model.trainable_weights])
    for mine, theirs in zip(*weights):
        np.testing.assert_allclose(mine, theirs, rtol=1e-6)
