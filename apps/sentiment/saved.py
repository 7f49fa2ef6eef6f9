"""What a finished `train` leaves in its run folder, loading it back, and text -> model input.

    run_dir/model.keras        the classifier of the epoch with the best validation accuracy
    run_dir/vectorizer.json    the vocabulary and text settings (apps.sentiment.vectorizer);
                               written when the run starts, reused when it resumes
    run_dir/sentiment.json     data set, head, label names, tokeniser, the train settings, the
                               chosen epoch, its validation accuracy, training time
    run_dir/best-accuracy.keras  the checkpoint model.keras is copied from (kept up to date
                               during training, restored correctly on resume)
    run_dir/timing.json        seconds per epoch
    run_dir/evaluation-<split>.json   written by `evaluate`
    run_dir/run.json, backup/, last.keras, best.keras (lowest validation loss), history.csv,
    loss.png, .lock            apps.common's training records (see apps.common.run_folder)
"""
import dataclasses
import json
from pathlib import Path

import numpy as np

from apps.common.errors import UserError
from apps.sentiment.data import SentimentDataError
from apps.sentiment.tokens import TOKENIZER_NAME, split_all
from apps.sentiment.vectorizer import full_ids, load_vectorizer, vectorizer_settings

MODEL_FILE = "model.keras"
VECTORIZER_FILE = "vectorizer.json"
SETTINGS_FILE = "sentiment.json"
BEST_ACCURACY_FILE = "best-accuracy.keras"
TIMING_FILE = "timing.json"
SETTINGS_FORMAT = "apps.sentiment.run"
SETTINGS_VERSION = 1
UNKNOWN_ID = 1


class RunInfo:
    """What a run's sentiment.json (self.info) says it predicts."""

    @property
    def dataset(self) -> str:
        return self.info["dataset"]

    @property
    def head(self) -> str:
        return self.info["head"]

    @property
    def label_names(self) -> tuple:
        return tuple(self.info["label_names"])


@dataclasses.dataclass
class TrainedRun(RunInfo):
    """A trained classifier with its vectorizer and what sentiment.json says about it."""

    run_dir: Path
    model: object  # keras.Model: "tokens" (batch, time) -> {"sentiment", ["rating"]}
    vectorizer: object  # keras.layers.TextVectorization
    info: dict  # sentiment.json

    @property
    def members(self) -> list:
        """The runs whose predictions are averaged (apps.sentiment.ensemble): this one."""
        return [self]

    @property
    def max_length(self) -> int:
        return int(vectorizer_settings(self.vectorizer)["max_length"])


def load_run(run_dir) -> TrainedRun:
    """Load model.keras, vectorizer.json and sentiment.json (UserError saying what is missing)."""
    run_dir = Path(run_dir)
    train_hint = f"python -m apps.sentiment train --dataset imdb|sst2|sst5 --run-dir {run_dir}"
    if not run_dir.is_dir():
        raise UserError(f"run folder not found: {run_dir} (train first: {train_hint})")
    missing = [name for name in (MODEL_FILE, VECTORIZER_FILE, SETTINGS_FILE)
               if not (run_dir / name).is_file()]
    if missing:
        raise UserError(f"{run_dir} holds no finished training run ({', '.join(missing)} "
                        f"missing); train it to the end first: {train_hint}")
    info = read_info(run_dir / SETTINGS_FILE)
    try:
        vectorizer = load_vectorizer(run_dir / VECTORIZER_FILE)
    except SentimentDataError as error:
        raise UserError(str(error)) from None
    from apps.common.cli import import_tensorflow_quietly
    import_tensorflow_quietly()
    import keras
    import zoo.builders  # noqa: F401  (registers MaskedGlobalMaxPooling1D for loading)
    import zoo.layers  # noqa: F401
    import apps.sentiment.model  # noqa: F401  (registers BigramBag and the adversarial classes)
    try:
        model = keras.saving.load_model(run_dir / MODEL_FILE, compile=False)
    except (OSError, ValueError) as error:
        raise UserError(f"cannot load {run_dir / MODEL_FILE} "
                        f"({' '.join(str(error).split())[:200]}); train the run again") from None
    return TrainedRun(run_dir, model, vectorizer, info)


def read_info(path: Path) -> dict:
    """sentiment.json, checked for the keys the app reads."""
    try:
        info = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(f"{path} is not valid JSON ({error}); train the run again") from None
    if not isinstance(info, dict) or info.get("format") != SETTINGS_FORMAT:
        raise UserError(f"{path} was not written by apps.sentiment train")
    if info.get("version") != SETTINGS_VERSION:
        raise UserError(f"{path}: version {info.get('version')!r}; this code reads version "
                        f"{SETTINGS_VERSION}")
    for key in ("dataset", "head", "label_names", "tokenizer"):
        if key not in info:
            raise UserError(f"{path} lacks {key!r}; train the run again")
    if info["tokenizer"] != TOKENIZER_NAME:
        raise UserError(f"{path}: tokeniser {info['tokenizer']!r}; this code has "
                        f"{TOKENIZER_NAME!r}")
    return info


# ------------------------------------------------------------------------ text -> ids
@dataclasses.dataclass
class Encoded:
    """Texts as model input, with what `predict` tells the user about each text."""

    ids: np.ndarray  # (N, max_length) int32, right-padded; an empty text is one [UNK]
    tokens: np.ndarray  # (N,) tokens of each text before truncation
    known: np.ndarray  # (N,) of those, tokens in the vocabulary
    max_length: int

    @property
    def truncated(self) -> np.ndarray:
        return self.tokens > self.max_length

    @property
    def no_known_word(self) -> np.ndarray:
        return self.known == 0


def encode(vectorizer, texts, *, split: bool = True) -> Encoded:
    """Tokenise (tokens.split_words, unless split=False: already done) and vectorize texts;
    keep the first max_length tokens.

    A text with no token at all becomes a single [UNK], so that the model never sees an
    all-padding row.
    """
    max_length = int(vectorizer_settings(vectorizer)["max_length"])
    rows = full_ids(vectorizer, split_all(texts) if split else texts)
    ids = np.zeros((len(rows), max_length), dtype=np.int32)
    tokens = np.zeros(len(rows), dtype=np.int64)
    known = np.zeros(len(rows), dtype=np.int64)
    for index, row in enumerate(rows):
        tokens[index] = len(row)
        known[index] = int(np.count_nonzero(row > UNKNOWN_ID))
        kept = row[:max_length] if len(row) else np.array([UNKNOWN_ID], dtype=np.int32)
        ids[index, :len(kept)] = kept
    return Encoded(ids, tokens, known, max_length)
