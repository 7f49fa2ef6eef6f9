"""Shared fixtures: where the data sets live, and a quiet, deterministic Keras."""
import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO_ROOT = Path(__file__).resolve().parents[1]
# The data sets live beside the repository (../shared/datasets), never inside it.
# ZOO_DATASETS overrides the location.
DATASETS = Path(os.environ.get("ZOO_DATASETS", REPO_ROOT.parent / "shared" / "datasets"))


def dataset_path(*parts: str) -> Path:
    """Path to a file or folder under ../shared/datasets, or skip the test with the reason."""
    path = DATASETS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"data set not found at {path} (set ZOO_DATASETS to the folder holding "
                    "the shared data sets; see the README's Data section)")
    return path


@pytest.fixture
def datasets_dir() -> Path:
    return dataset_path()


@pytest.fixture
def xla_allowed():
    """TensorFlow's deterministic-op mode off for the test, as it was afterwards.

    Keras quietly compiles without XLA while that mode is on, and an earlier test in the same
    process (an app's set_seed) may have turned it on."""
    from tensorflow.python.framework import config as tf_config

    deterministic = tf_config.is_op_determinism_enabled()
    if deterministic:
        tf_config.disable_op_determinism()
    yield
    if deterministic:
        tf_config.enable_op_determinism()
