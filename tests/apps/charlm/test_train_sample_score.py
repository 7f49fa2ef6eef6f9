"""train → sample → score through the functions, on a tiny run (see conftest.trained_run)."""
import json
import math

import numpy as np
import pytest

from apps.charlm.sample import sample
from apps.charlm.saved import load_run
from apps.charlm.score import score
from apps.charlm.train import train
from tests.apps.charlm.conftest import tiny_config


def test_train_writes_the_model_vocabulary_settings_checkpoints_and_loss_curve(trained_run):
    run_dir, summary = trained_run
    for name in ("model.keras", "vocabulary.json", "charlm.json", "run.json", "best.keras",
                 "last.keras", "loss.png", "history.csv"):
        assert (run_dir / name).exists(), name
    settings = json.loads((run_dir / "run.json").read_text())["settings"]
    assert settings["cell"] == "rnn" and settings["clipvalue"] == 5.0 and settings["units"] == 16
    assert summary["epochs_done"] == 3 and summary["text_format"] == "names"
    assert math.isfinite(summary["val_loss"]) and summary["val_loss"] < math.log(29)


def test_samples_are_names_from_the_vocabulary(trained_run):
    run_dir, _ = trained_run
    names = sample(run_dir, count=8, seed=1)
    assert len(names) == 8
    vocabulary = load_run(run_dir).vocabulary
    for name in names:
        assert "\n" not in name and len(name) <= 50
        assert not vocabulary.unknown_tokens(name.replace("<UNK>", ""))


def test_the_same_seed_gives_the_same_samples_and_another_seed_others(trained_run):
    run_dir, _ = trained_run
    first = sample(run_dir, count=6, seed=5)
    assert sample(run_dir, count=6, seed=5) == first
    assert sample(run_dir, count=6, seed=6) != first


def test_the_primer_starts_every_sample(trained_run):
    run_dir, _ = trained_run
    names = sample(run_dir, count=5, seed=2, prime="Tyr", max_length=20)
    assert all(name.startswith("tyr") for name in names)       # names are lower-cased
    assert all(len(name) <= 20 for name in names)


def test_no_unk_never_draws_unk_even_when_the_model_prefers_it(trained_run):
    run_dir, _ = trained_run
    trained = load_run(run_dir)                                  # a private copy to tamper with
    vocabulary = trained.vocabulary
    bias = trained.model.get_layer("logits").bias
    values = np.asarray(bias.numpy())
    values[vocabulary.unk_id] = 8.0                              # UNK now the likeliest output
    bias.assign(values)
    with_unk = sample(run_dir, count=20, seed=0, max_length=15, trained=trained)
    assert any("<UNK>" in text for text in with_unk)              # the test can fail
    without = sample(run_dir, count=20, seed=0, max_length=15, no_unk=True, trained=trained)
    assert not any("<UNK>" in text for text in without)


def test_score_gives_a_training_name_a_lower_loss_than_random_letters(trained_run):
    run_dir, _ = trained_run
    name, noise = score(run_dir, ["aachenosaurus", "qxjzvkwfqx"])
    assert name["loss"] < noise["loss"]
    assert name["characters"] == len("aachenosaurus") + 1         # + <EOS>
    assert name["bits_per_char"] == pytest.approx(name["loss"] / math.log(2))
    assert name["perplexity"] == pytest.approx(math.exp(name["loss"]))
    assert name["log_probability"] == pytest.approx(-name["loss"] * name["characters"])


def test_a_second_train_with_more_epochs_continues_from_the_checkpoint(tiny_names_file, tmp_path):
    run_dir = tmp_path / "resumed"
    first = train(tiny_config(tiny_names_file, run_dir, epochs=1, units=8))
    assert first["epochs_done"] == 1 and first["resumed_from"] is None
    second = train(tiny_config(tiny_names_file, run_dir, epochs=2, units=8))
    assert second["resumed_from"] == (2, 0) and second["epochs_done"] == 2
    rows = (run_dir / "history.csv").read_text().strip().splitlines()
    assert len(rows) == 3                                         # header + one row per epoch
