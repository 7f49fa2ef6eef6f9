"""Shared fixtures for apps.charlm: a 200-name slice of dinos.txt and one tiny trained run.

The run (basic RNN, 16 units, 3 epochs, batch 8) takes a few seconds on a CPU and is shared by
the sample and score tests of the session; tests that change a model load their own copy.
"""
import pytest

from tests.conftest import dataset_path

TINY_NAMES = 200


@pytest.fixture(scope="session")
def dinos_path():
    return dataset_path("charlm", "dinos.txt")


@pytest.fixture(scope="session")
def tiny_names_file(dinos_path, tmp_path_factory):
    """The first 200 dinosaur names, one per line."""
    names = dinos_path.read_text(encoding="utf-8").split("\n")[:TINY_NAMES]
    path = tmp_path_factory.mktemp("charlm_data") / "dinos200.txt"
    path.write_text("\n".join(names), encoding="utf-8")
    return path


def tiny_config(text, run_dir, **changes):
    from apps.charlm.config import TrainConfig
    settings = dict(text=str(text), cell="rnn", units=16, epochs=3, batch_size=8,
                    learning_rate=0.02, run_dir=str(run_dir), seed=0, no_progress=True,
                    validation_split=0.1)
    settings.update(changes)
    return TrainConfig(**settings)


@pytest.fixture(scope="session")
def trained_run(tiny_names_file, tmp_path_factory):
    """(run_dir, summary) of a tiny run trained through apps.charlm.train.train."""
    from apps.charlm.train import train
    run_dir = tmp_path_factory.mktemp("charlm_run") / "run"
    summary = train(tiny_config(tiny_names_file, run_dir))
    return run_dir, summary
