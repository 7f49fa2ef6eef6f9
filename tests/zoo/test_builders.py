"""Builders for every RNN shape: shapes, weight sharing, masking, training, saving, sampling."""
import numpy as np
import pytest

import keras
from zoo import builders

VOCABULARY = 11


def sampler_inputs(batch, steps, forced=None, temperature=1.0):
    forced = -np.ones((batch, steps), "int32") if forced is None else forced
    return {"forced": forced, "temperature": np.full((batch,), temperature, "float32")}


@pytest.fixture(scope="module")
def trained_language_model():
    """A small 2-layer LSTM language model fitted for a few steps on a repeating pattern."""
    keras.utils.set_random_seed(0)
    model = builders.language_model(VOCABULARY, cell="lstm", units=16, layers=2, pad_id=0)
    pattern = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10] * 3)
    targets = np.stack([np.roll(pattern, -shift)[:12] for shift in range(10)] * 4)
    model.compile(keras.optimizers.Adam(0.03), "sparse_categorical_crossentropy")
    history = model.fit(targets, targets, epochs=12, batch_size=8, verbose=0)
    return model, targets, history.history["loss"]


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_language_model_outputs_a_distribution_per_step(cell):
    model = builders.language_model(VOCABULARY, cell=cell, units=8, layers=2, dropout=0.1)
    probabilities = np.asarray(model(np.ones((3, 7), "int32")))
    assert probabilities.shape == (3, 7, VOCABULARY)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, atol=1e-5)
    assert model.input.name == "tokens" and model.get_layer("logits").units == VOCABULARY


def test_language_model_first_step_sees_zero_input_and_later_steps_the_previous_target():
    model = builders.language_model(VOCABULARY, units=8)
    first = np.asarray(model(np.array([[3, 5, 7]])))
    other_first_target = np.asarray(model(np.array([[9, 5, 7]])))
    np.testing.assert_allclose(first[0, 0], other_first_target[0, 0], atol=1e-6)  # x⟨1⟩ = 0 either way
    assert not np.allclose(first[0, 1], other_first_target[0, 1])                 # x⟨2⟩ = y⟨1⟩ differs


def test_language_model_training_lowers_the_loss(trained_language_model):
    _, _, losses = trained_language_model
    assert losses[-1] < 0.5 * losses[0]


def test_language_model_padding_is_masked():
    model = builders.language_model(VOCABULARY, units=8, pad_id=0)
    padded = np.asarray(model(np.array([[4, 5, 6, 0, 0]])))
    alone = np.asarray(model(np.array([[4, 5, 6]])))
    np.testing.assert_allclose(padded[0, :3], alone[0], atol=1e-6)


def test_sampler_shares_weights_with_the_training_model(trained_language_model):
    model, _, _ = trained_language_model
    generator = builders.sampler(model, 10, seed=0)
    trained = {id(v) for v in model.trainable_variables}
    assert {id(v) for v in generator.trainable_variables} <= trained
    assert len(generator.trainable_variables) == len(model.trainable_variables)


def test_greedy_sampler_matches_the_training_model_step_by_step(trained_language_model):
    model, _, _ = trained_language_model
    steps = 15
    ids = np.asarray(builders.sampler(model, steps, sampling="argmax")(sampler_inputs(2, steps))["ids"])
    teacher_forced = np.asarray(model(ids))        # p(y⟨t⟩ | the generated y⟨<t⟩)
    np.testing.assert_array_equal(ids, teacher_forced.argmax(-1))


def test_sampler_log_probabilities_match_the_training_model(trained_language_model):
    model, _, _ = trained_language_model
    outputs = builders.sampler(model, 12, seed=3)(sampler_inputs(4, 12, temperature=0.8))
    ids, log_probabilities = np.asarray(outputs["ids"]), np.asarray(outputs["log_probabilities"])
    expected = np.log(np.take_along_axis(np.asarray(model(ids)), ids[..., None], -1)[..., 0])
    np.testing.assert_allclose(log_probabilities, expected, atol=1e-4)


def test_same_seed_gives_same_samples_and_another_seed_differs(trained_language_model):
    model, _, _ = trained_language_model
    draw = lambda seed: np.asarray(builders.sampler(model, 30, seed=seed)(sampler_inputs(8, 30, temperature=2.0))["ids"])
    np.testing.assert_array_equal(draw(7), draw(7))
    assert not np.array_equal(draw(7), draw(8))


def test_forced_primer_tokens_are_kept(trained_language_model):
    model, _, _ = trained_language_model
    forced = -np.ones((2, 10), "int32")
    forced[:, :3] = [[9, 1, 4], [2, 2, 2]]
    ids = np.asarray(builders.sampler(model, 10, seed=1)(sampler_inputs(2, 10, forced=forced))["ids"])
    np.testing.assert_array_equal(ids[:, :3], forced[:, :3])


def test_banned_ids_never_appear_and_top_1_equals_argmax(trained_language_model):
    model, _, _ = trained_language_model
    ids = np.asarray(builders.sampler(model, 40, seed=2, banned_ids=(0, 3))(sampler_inputs(16, 40, temperature=5.0))["ids"])
    assert not np.isin(ids, [0, 3]).any()
    greedy = np.asarray(builders.sampler(model, 12, sampling="argmax")(sampler_inputs(2, 12))["ids"])
    top_one = np.asarray(builders.sampler(model, 12, top_k=1, seed=4)(sampler_inputs(2, 12))["ids"])
    np.testing.assert_array_equal(top_one, greedy)


def test_softmax_draws_follow_the_model_distribution():
    keras.utils.set_random_seed(1)
    model = builders.language_model(4, units=4)
    first_step = np.asarray(model(np.zeros((1, 1), "int32")))[0, 0]   # p(y⟨1⟩), x⟨1⟩ = 0
    ids = np.asarray(builders.sampler(model, 1, seed=5)(sampler_inputs(20000, 1))["ids"])[:, 0]
    frequencies = np.bincount(ids, minlength=4) / len(ids)
    np.testing.assert_allclose(frequencies, first_step, atol=0.015)


def test_saved_language_model_rebuilds_an_identical_sampler(trained_language_model, tmp_path):
    model, targets, _ = trained_language_model
    model.save(tmp_path / "lm.keras")
    loaded = keras.models.load_model(tmp_path / "lm.keras")
    np.testing.assert_allclose(np.asarray(loaded(targets[:2])), np.asarray(model(targets[:2])), atol=1e-6)
    draw = lambda m: np.asarray(builders.sampler(m, 20, seed=9)(sampler_inputs(3, 20))["ids"])
    np.testing.assert_array_equal(draw(loaded), draw(model))


def test_sampler_refuses_a_bidirectional_model():
    model = builders.many_to_many(VOCABULARY, 3, units=4, bidirectional=True)
    with pytest.raises(ValueError, match="unidirectional"):
        builders.sampler(model, 5)


@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_many_to_one_shapes_masking_and_training(pooling, bidirectional):
    keras.utils.set_random_seed(0)
    model = builders.many_to_one(20, output_units=1, output_activation="sigmoid", cell="gru", units=8,
                                 layers=2, bidirectional=bidirectional, pooling=pooling, embedding_dim=8)
    padded = np.asarray(model(np.array([[5, 6, 7, 0, 0]])))
    np.testing.assert_allclose(padded, np.asarray(model(np.array([[5, 6, 7]]))), atol=1e-6)
    rng = np.random.default_rng(0)
    tokens = rng.integers(1, 20, (64, 6))
    labels = (tokens[:, 0] > 10).astype("float32")[:, None]    # decided by the first token
    model.compile(keras.optimizers.Adam(0.02), "binary_crossentropy")
    history = model.fit(tokens, labels, epochs=20, verbose=0)
    assert history.history["loss"][-1] < 0.7 * history.history["loss"][0]


def test_many_to_many_tags_every_step_and_trains(tmp_path):
    keras.utils.set_random_seed(0)
    model = builders.many_to_many(20, 3, cell="lstm", units=8, layers=2, embedding_dim=8)
    rng = np.random.default_rng(1)
    tokens = rng.integers(1, 20, (64, 7))
    tags = tokens % 3
    model.compile(keras.optimizers.Adam(0.02), "sparse_categorical_crossentropy")
    history = model.fit(tokens, tags, epochs=8, verbose=0)
    assert model(tokens[:2]).shape == (2, 7, 3)
    assert history.history["loss"][-1] < 0.6 * history.history["loss"][0]
    model.save(tmp_path / "tagger.keras")
    loaded = keras.models.load_model(tmp_path / "tagger.keras")
    np.testing.assert_allclose(np.asarray(loaded(tokens[:3])), np.asarray(model(tokens[:3])), atol=1e-6)


def test_encoder_decoder_trains_and_greedy_decoder_matches_teacher_forcing():
    keras.utils.set_random_seed(0)
    start, steps = 1, 5
    model = builders.encoder_decoder(12, 12, cell="lstm", units=16, layers=2, embedding_dim=8)
    rng = np.random.default_rng(2)
    source = rng.integers(2, 12, (128, 6))
    target = source[:, ::-1][:, :steps]                            # Tx = 6 ≠ Ty = 5
    target_in = np.concatenate([np.full((128, 1), start), target[:, :-1]], axis=1)
    model.compile(keras.optimizers.Adam(0.02), "sparse_categorical_crossentropy")
    history = model.fit({"source": source, "target_in": target_in}, target, epochs=10, verbose=0)
    assert history.history["loss"][-1] < 0.8 * history.history["loss"][0]
    decoder = builders.greedy_decoder(model, steps, start_id=start)
    ids = np.asarray(decoder(source[:4])["ids"])
    fed_back = np.concatenate([np.full((4, 1), start), ids[:, :-1]], axis=1)
    teacher_forced = np.asarray(model({"source": source[:4], "target_in": fed_back}))
    np.testing.assert_array_equal(ids, teacher_forced.argmax(-1))


def test_one_to_one_is_a_plain_network():
    model = builders.one_to_one(4, 3, units=8, layers=2)
    assert model(np.ones((5, 4), "float32")).shape == (5, 3)
    assert not any("recurrent" in layer.name for layer in model.layers)


@pytest.mark.parametrize("arguments,message", [
    ({"cell": "lstmx"}, "cell"), ({"layers": 0}, "layers"), ({"layers": 1.5}, "layers"),
])
def test_bad_builder_arguments_raise_value_error(arguments, message):
    with pytest.raises(ValueError, match=message):
        builders.language_model(VOCABULARY, **arguments)


def test_bad_pooling_and_sampling_raise_value_error(trained_language_model):
    with pytest.raises(ValueError, match="pooling"):
        builders.many_to_one(10, output_units=2, pooling="median")
    with pytest.raises(ValueError, match="sampling"):
        builders.sampler(trained_language_model[0], 5, sampling="beam")
