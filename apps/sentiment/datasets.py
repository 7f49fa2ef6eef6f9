"""Which texts train, choose and test a model of each data set.

    dataset  train                              validation (chooses the epoch)   test
    imdb     IMDB train minus the held-out part  --validation-split of IMDB train  IMDB test
             (stratified, numpy seed 0)
    sst2     SST-2 phrases of the train trees    stsa.binary.dev sentences        stsa.binary.test
             (--phrases) or stsa.binary.train
    sst5     SST-5 phrases (--phrases) or        stsa.fine.dev sentences          stsa.fine.test
             stsa.fine.train

The IMDB test reviews and the SST test sentences are read by `evaluate --split test` only.
`--train-on train+validation` (a final model, once runs on the training texts have chosen the
number of epochs) trains on the validation texts as well.

--data: for IMDB a folder holding aclImdb_v1_train_test.tar.gz, Stanford's aclImdb_v1.tar.gz or
an extracted aclImdb/, or one of those itself; for SST a folder holding stsa.* (and trees/ for
--phrases) directly or in sst/. Left out, the shared data sets folder beside the repository
(<repo>/../shared/datasets/sentiment, or $ZOO_DATASETS/sentiment) is used when it exists;
otherwise IMDB is downloaded from Stanford with keras.utils.get_file (sha256-checked) and SST
fails with a message that says where it looked.
"""
import os
from pathlib import Path

from apps.sentiment import data as sentiment_data
from apps.sentiment.config import BOTH_SPLITS, TRAIN_ON
from apps.sentiment.data import SentimentDataError
from apps.sentiment.trees import load_sst_phrases

REPO_ROOT = Path(__file__).resolve().parents[2]
VALIDATION_SEED = 0


def shared_data_dir() -> Path:
    """<repo>/../shared/datasets/sentiment, or $ZOO_DATASETS/sentiment."""
    root = Path(os.environ.get("ZOO_DATASETS", REPO_ROOT.parent / "shared" / "datasets"))
    return root / "sentiment"


def resolve_data_dir(dataset: str, data):
    """The data location to use: --data as given, else the shared folder if it exists, else
    None (IMDB: download) or a SentimentDataError (SST) that says where it looked."""
    if data is not None:
        return Path(data).expanduser()
    shared = shared_data_dir()
    if shared.exists():
        return shared
    if dataset == "imdb":
        return None
    raise SentimentDataError(f"SST data not found: no --data given and {shared} does not "
                             f"exist; {sentiment_data.HOW_TO_GET_SST}")


def load_training_data(dataset: str, data_dir, *, phrases: bool = False,
                       validation_split=None, cache_dir=None, train_on: str = "train") -> dict:
    """{"train", "validation"}: Examples for training and for choosing the epoch.

    train_on="train+validation" (a final model) appends the validation texts to the training
    texts; "validation" is still the same texts, which the run then reports as fit, not held out.
    """
    if train_on not in TRAIN_ON:
        raise ValueError(f"train_on must be one of {TRAIN_ON}; received {train_on!r}")
    if dataset == "imdb":
        splits = sentiment_data.load_imdb(data_dir, cache_dir=cache_dir)
        train, validation = sentiment_data.validation_split(
            splits["train"], validation_split or 0.1, seed=VALIDATION_SEED)
    else:
        fine = dataset == "sst5"
        splits = sentiment_data.load_sst(data_dir, fine=fine)
        train = load_sst_phrases(data_dir, fine=fine) if phrases else splits["train"]
        validation = splits["dev"]
    if train_on == BOTH_SPLITS:
        train = train.joined(validation)
    return {"train": train, "validation": validation}


def load_evaluation_data(dataset: str, data_dir, split: str, *, validation_split=None,
                         cache_dir=None):
    """The Examples of `split` ("test" or "validation") that `evaluate` scores."""
    if split not in ("test", "validation"):
        raise ValueError(f"split must be 'test' or 'validation'; received {split!r}")
    if dataset == "imdb":
        splits = sentiment_data.load_imdb(data_dir, cache_dir=cache_dir)
        if split == "test":
            return splits["test"]
        return sentiment_data.validation_split(splits["train"], validation_split or 0.1,
                                               seed=VALIDATION_SEED)[1]
    splits = sentiment_data.load_sst(data_dir, fine=dataset == "sst5")
    return splits["test" if split == "test" else "dev"]


def describe(name: str, examples) -> str:
    """"train: 22,500 texts (negative 11,250, positive 11,250)"."""
    counts = ", ".join(f"{examples.label_names[label]} {count:,}"
                       for label, count in examples.label_counts().items())
    return f"{name}: {len(examples):,} texts ({counts})"


__all__ = ["SentimentDataError", "describe", "load_evaluation_data", "load_training_data",
           "resolve_data_dir", "shared_data_dir"]
