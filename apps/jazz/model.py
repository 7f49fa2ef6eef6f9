"""The jazz model and the folder it is shipped in.

The network is `zoo.builders.language_model` with `cell="lstm"` (zoo.LSTM layers built on
zoo.LSTMCell): input "tokens" y<1..T>, inside x<1> = 0 and x<t> = y<t-1> (one-hot), stacked
LSTMs, a Dense softmax shared by every step.  It is the training model of the course's
one-to-many generator; `zoo.builders.sampler` runs the same weights with fed-back outputs.

A model folder (the shipped ``data/jazz``, or a run folder after `train`) holds

    model.keras      the network without optimizer state (what `generate`/`evaluate` load)
    tokenizer.json   `JazzTokenizer`: the vocabulary the ids refer to
    model.json       what the app needs besides: token kind, window, default length and tempo,
                     the training settings and validation figures
    course_corpus.json  (course tokens only) the Metheny measures and chords that turn
                     generated values back into notes

Reading model.json and tokenizer.json (`read_model_folder`) does not import TensorFlow, so
bad requests are refused before the slow import; `load_model_folder` loads the network too.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from apps.jazz.corpus import JazzTokenizer
from apps.jazz.course_tokens import CourseCorpus
from apps.jazz.errors import JazzUsageError

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL_DIR = REPOSITORY_ROOT / "data" / "jazz"
MODEL_FILE = "model.keras"
TOKENIZER_FILE = "tokenizer.json"
INFO_FILE = "model.json"
COURSE_CORPUS_FILE = "course_corpus.json"
INFO_FORMAT = "apps.jazz.model"


@dataclass
class ModelFolder:
    """A model folder's small files, read without TensorFlow; `network` is None until loaded."""

    path: Path                     # the folder
    info: dict                     # model.json
    tokenizer: JazzTokenizer       # tokenizer.json
    course_corpus: CourseCorpus | None = None  # course_corpus.json (course tokens only)
    network: object = None         # the keras.Model, once `load_network` ran

    @property
    def token_kind(self) -> str:
        return self.info["tokens"]

    @property
    def window(self) -> int:
        return int(self.info["window"])

    def load_network(self):
        """Load model.keras (imports TensorFlow); returns the keras.Model."""
        if self.network is None:
            self.network = load_network(self.path / MODEL_FILE)
        return self.network


def resolve_model_folder(path: str | Path | None) -> Path:
    """The model folder `path` names: a folder or a model.keras in one (None: the shipped one)."""
    folder = DEFAULT_MODEL_DIR if path is None else Path(path)
    if folder.suffix == ".keras":
        folder = folder.parent
    if not folder.exists():
        raise JazzUsageError(f"checkpoint not found: {folder}")
    if not (folder / MODEL_FILE).is_file():
        hint = (" (a run folder gets it when `train` ends)" if (folder / "run.json").exists()
                else "")
        raise JazzUsageError(f"not a jazz model folder: {folder} (no {MODEL_FILE}{hint})")
    return folder


def read_model_folder(path: str | Path | None = None) -> ModelFolder:
    """model.json, tokenizer.json (and course_corpus.json) of a model folder, or JazzUsageError."""
    folder = resolve_model_folder(path)
    try:
        info = json.loads((folder / INFO_FILE).read_text(encoding="utf-8"))
        if info.get("format") != INFO_FORMAT:
            raise ValueError(f"format is {info.get('format')!r}, expected {INFO_FORMAT!r}")
        tokenizer = JazzTokenizer.load(folder / TOKENIZER_FILE)
        course = None
        if info["tokens"] == "course":
            course = CourseCorpus.from_dict(
                json.loads((folder / COURSE_CORPUS_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise JazzUsageError(f"damaged jazz model folder: {folder} "
                             f"({type(error).__name__}: {error})") from None
    return ModelFolder(folder, info, tokenizer, course)


def load_model_folder(path: str | Path | None = None) -> ModelFolder:
    """`read_model_folder`, then the network."""
    folder = read_model_folder(path)
    folder.load_network()
    return folder


# ----------------------------------------------------------------------------------------------
# the network (these import TensorFlow)


def _keras():
    from apps.common.cli import import_tensorflow_quietly

    import_tensorflow_quietly()
    import keras

    return keras


def build_network(config, vocabulary_size: int):
    """The uncompiled language model for a TrainConfig and a vocabulary size."""
    _keras()
    from zoo.builders import language_model

    return language_model(vocabulary_size, cell="lstm", units=config.units, layers=config.layers,
                          dropout=config.dropout if config.layers > 1 else 0.0,
                          embedding_dim=config.embedding_dim, name="jazz_language_model")


def summed_crossentropy(y_true, y_pred):
    """The course's loss: the cross-entropies of the Tx outputs summed, per window."""
    from keras import losses, ops

    return ops.sum(losses.sparse_categorical_crossentropy(y_true, y_pred), axis=-1)


def compile_network(network, config, optimizer_options: dict, *, jit_compile: bool = False):
    """Compile with Adam (the course's inverse-time decay when set) and the preset's loss.

    optimizer_options: learning_rate and optionally clipnorm/clipvalue.  The per-token loss
    ignores padding through sample weights (mean over the real tokens of a batch); the summed
    loss is the course's sum over the window's outputs.
    """
    keras = _keras()
    options = dict(optimizer_options)
    if config.learning_rate_decay:
        options["learning_rate"] = keras.optimizers.schedules.InverseTimeDecay(
            options["learning_rate"], decay_steps=1, decay_rate=config.learning_rate_decay)
    optimizer = keras.optimizers.Adam(beta_1=0.9, beta_2=0.999, **options)
    if config.summed_loss:
        loss = summed_crossentropy
    else:
        loss = keras.losses.SparseCategoricalCrossentropy(reduction="mean_with_sample_weight",
                                                          name="crossentropy")
    accuracy = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    network.compile(optimizer=optimizer, loss=loss, weighted_metrics=[accuracy],
                    jit_compile=jit_compile)
    return network


def load_network(path: Path):
    keras = _keras()
    import zoo.generation  # noqa: F401 - registers OneHot and ShiftRight
    import zoo.layers  # noqa: F401 - registers the zoo layers

    return keras.saving.load_model(path, compile=False)


def save_model_folder(folder: Path, network, config, tokenizer: JazzTokenizer, info: dict,
                      course_corpus: CourseCorpus | None = None) -> Path:
    """Write a model folder: a fresh copy of `network` without optimizer, tokenizer, model.json."""
    from apps.common.atomic import atomic_save_model, atomic_write_json, atomic_write_text

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    clean = build_network(config, len(tokenizer))
    clean.set_weights(network.get_weights())
    atomic_save_model(clean, folder / MODEL_FILE)
    atomic_write_text(folder / TOKENIZER_FILE, tokenizer.to_json())
    if course_corpus is not None:
        atomic_write_json(folder / COURSE_CORPUS_FILE, course_corpus.to_dict())
    atomic_write_json(folder / INFO_FILE, {"format": INFO_FORMAT, **info})
    return folder
