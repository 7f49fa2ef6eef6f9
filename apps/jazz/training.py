"""`train`: MIDI files -> token windows -> zoo LSTM language model -> a model folder.

Method
------
1. The files are read into tokens with `load_corpus` (cached in /cache/jazz): note tokens
   (``p<pitch> d<steps>`` pairs) or the course's values.  Unusable files are skipped with one
   warning line; if none is usable the command stops with an error naming the first file.
2. Whole solos are split into training and validation (`split_by_solo`), so no part of a
   validation solo is trained on.
3. With key augmentation each training solo is transposed to the 12 keys (shifts -5..+6
   semitones, a shift that leaves the piano range is dropped) before tokenizing.  The
   tokenizer's vocabulary is fitted on the training tokens (augmented) only.
4. Windows: each token sequence is cut into consecutive windows of ``window`` tokens from its
   start; the last, shorter window is padded with id 0 and a sample weight of 0, so every token
   of every solo is trained on exactly once per pass and padding is never scored.  No window
   spans two solos.  The course preset instead draws ``random_windows`` windows at random
   starts, as the course does (m = 60, Tx = 30).
5. An epoch is as many windows as the training solos give in one key, drawn (a new draw every
   epoch, from (seed, epoch) alone, so a resumed run is identical to an uninterrupted one) from
   the windows of all 12 keys; so 12 epochs show each transposition about once.
   Without augmentation an epoch is every window once.
6. `apps.common.training.fit_with_recovery` trains: progress bar, validation loss and accuracy
   per epoch, last.keras/best.keras, a backup to resume from, history.csv, loss.png, run.json
   (a rerun with the same settings resumes; --epochs may grow).
7. The best epoch's weights (lowest validation loss; training loss without validation) are
   written as the model folder (model.keras, tokenizer.json, model.json) inside the run
   folder, with the validation figures of `evaluate` on the whole validation solos.
"""
from __future__ import annotations

import math
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from apps.jazz import note_tokens
from apps.jazz.config import TrainConfig
from apps.jazz.corpus import (DEFAULT_CACHE_DIR, JazzTokenizer, SkippedFilesWarning, Solo,
                              load_corpus, split_by_solo)
from apps.jazz.errors import JazzDataError, JazzUsageError
from apps.jazz.model import TOKENIZER_FILE


@dataclass
class TrainingData:
    """Token sequences of both sides of the split, and the tokenizer fitted on the training side."""

    training: list[Solo]                 # training solos (original key)
    validation: list[Solo]               # validation solos (original key)
    training_tokens: list[list[str]]     # training token sequences, every key when augmenting
    validation_tokens: list[list[str]]   # validation token sequences (original key)
    tokenizer: JazzTokenizer             # fitted on training_tokens
    skipped: list[tuple[str, str]]       # (path, reason) of unusable files


def check_paths_exist(paths) -> None:
    """JazzDataError naming the first path (file or folder) that does not exist."""
    for path in paths:
        if not Path(path).exists():
            raise JazzDataError("file not found", path)


def load_solos(paths, token_kind: str, *, progress: bool = True):
    """The corpus of `paths`; a skipped-files warning is printed as one `warning:` line.

    The reading progress bar is shown on a terminal only, so that logs and error output stay
    one line per message.
    """
    check_paths_exist(paths)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SkippedFilesWarning)
        corpus = load_corpus(paths, tokens=token_kind, cache_dir=DEFAULT_CACHE_DIR,
                             progress=progress and sys.stderr.isatty())
    for warning in caught:
        if issubclass(warning.category, SkippedFilesWarning):
            print(f"warning: {warning.message}", flush=True)
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno)
    return corpus


def transpose_tokens(tokens, semitones: int,
                     pitch_range=note_tokens.PITCH_RANGE) -> list[str] | None:
    """Note tokens moved by `semitones` (pitch tokens only), or None if a pitch leaves the range.

    The same as tokenizing `note_tokens.transpose` of the solo's events (quantization does not
    depend on the key), without re-quantizing: 12 keys of the 408 WJazzD solos in ~1 s.
    """
    low, high = pitch_range
    prefix = note_tokens.PITCH_PREFIX
    moved = []
    for token in tokens:
        if token.startswith(prefix) and token[len(prefix):].isdigit():
            pitch = int(token[len(prefix):]) + semitones
            if not low <= pitch <= high:
                return None
            token = f"{prefix}{pitch}"
        moved.append(token)
    return moved


def key_versions(solo: Solo, shifts=note_tokens.DEFAULT_SHIFTS) -> list[list[str]]:
    """The solo's tokens in every key of `shifts` that stays in the piano range (shift 0 first)."""
    ordered = sorted(shifts, key=lambda shift: (shift != 0, shift))
    versions = [transpose_tokens(solo.tokens, shift) for shift in ordered]
    return [version for version in versions if version is not None]


def prepare_data(config: TrainConfig, *, progress: bool = True) -> TrainingData:
    """Read, split, augment and tokenize the training files of `config`."""
    corpus = load_solos(config.midi, config.tokens, progress=progress)
    training, validation = split_by_solo(corpus.solos, config.validation_fraction, config.seed)
    if config.augment_keys and config.tokens == "notes":
        training_tokens = [tokens for solo in training for tokens in key_versions(solo)]
    else:
        training_tokens = [list(solo.tokens) for solo in training]
    tokenizer = JazzTokenizer(metadata={"tokens": config.tokens}).fit(training_tokens)
    return TrainingData(training, validation, training_tokens,
                        [list(solo.tokens) for solo in validation], tokenizer, corpus.skipped)


def consecutive_windows(id_lists, window: int) -> tuple[np.ndarray, np.ndarray]:
    """(ids, weights) of shape (windows, window): each sequence cut from its start, the last
    window of each padded with id 0 and weight 0."""
    rows, weights = [], []
    for ids in id_lists:
        ids = np.asarray(ids, dtype=np.int32)
        for start in range(0, len(ids), window):
            piece = ids[start:start + window]
            row = np.zeros(window, np.int32)
            row[:len(piece)] = piece
            weight = np.zeros(window, np.float32)
            weight[:len(piece)] = 1.0
            rows.append(row)
            weights.append(weight)
    if not rows:
        return np.zeros((0, window), np.int32), np.zeros((0, window), np.float32)
    return np.stack(rows), np.stack(weights)


def random_windows(id_lists, window: int, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The course's sampling: `count` windows of `window` tokens at random starts (with
    replacement)."""
    rng = np.random.default_rng(seed)
    sequences = [np.asarray(ids, np.int32) for ids in id_lists if len(ids) >= window]
    if not sequences:
        longest = max((len(ids) for ids in id_lists), default=0)
        raise JazzUsageError(f"the training data has no sequence of {window} tokens (the longest "
                             f"has {longest}); lower --window")
    rows = []
    for _ in range(count):
        ids = sequences[rng.integers(len(sequences))]
        start = rng.integers(len(ids) - window + 1)
        rows.append(ids[start:start + window])
    return np.stack(rows), np.ones((count, window), np.float32)


def training_windows(config: TrainConfig, data: TrainingData):
    """(x, weights) for training and (x, weights) for validation (or None)."""
    encode = data.tokenizer.encode
    train_ids = [encode(tokens) for tokens in data.training_tokens]
    if config.random_windows:
        train = random_windows(train_ids, config.window, config.random_windows, config.seed)
    else:
        train = consecutive_windows(train_ids, config.window)
    validation = None
    if data.validation_tokens:
        validation = consecutive_windows([encode(t) for t in data.validation_tokens], config.window)
    return train, validation


def windows_per_epoch(config: TrainConfig, data: TrainingData, total: int) -> int:
    """Windows in one epoch: those of one key when augmenting, else all."""
    if not (config.augment_keys and config.tokens == "notes"):
        return total
    one_key = sum(math.ceil(len(solo.tokens) / config.window) for solo in data.training)
    return max(1, min(total, one_key))


def _check_tokenizer(run_dir: Path, tokenizer: JazzTokenizer) -> None:
    saved_path = run_dir / TOKENIZER_FILE
    if not saved_path.exists():
        return
    saved = JazzTokenizer.load(saved_path)
    if saved.vocabulary != tokenizer.vocabulary:
        raise JazzUsageError(f"{saved_path} holds another vocabulary ({len(saved)} tokens) than "
                             f"these files give ({len(tokenizer)}); were the MIDI files changed? "
                             "restore them, or pass a new --run-dir")


def train(config: TrainConfig, *, arguments=None, progress: bool = True) -> dict:
    """Train as `config` says, resuming its run folder; returns the model folder's model.json.

    arguments: the parsed command line (for the shared options: --save-every-steps, --logdir,
    --distribute, --mixed-precision, --xla, --no-progress); None uses their defaults.
    """
    data = prepare_data(config, progress=progress)
    if not data.training_tokens:
        raise JazzUsageError("no training solos left after the validation split; add files or "
                             "lower --validation-fraction")
    print(f"{len(data.training)} training and {len(data.validation)} validation solos, "
          f"{sum(len(t) for t in data.training_tokens):,} training tokens"
          + (" (12 keys)" if config.augment_keys and config.tokens == "notes" else "")
          + f", vocabulary {len(data.tokenizer)}", flush=True)
    run_dir = Path(config.run_dir)
    _check_tokenizer(run_dir, data.tokenizer)
    (x_train, w_train), validation = training_windows(config, data)
    if len(x_train) == 0:
        raise JazzUsageError("the training files give no windows; add files")

    from apps.common import training as common  # imports TensorFlow
    from apps.common.atomic import atomic_write_text
    import keras

    from apps.jazz import model as jazz_model

    options = _shared_options(arguments)
    strategy = common.setup_training(_namespace(config, options))
    per_epoch = windows_per_epoch(config, data, len(x_train))
    # A subset of the windows of all keys per epoch (per_epoch < all of them), drawn from
    # (seed, epoch) alone, so a resumed run trains on exactly the windows of an uninterrupted one.
    if config.summed_loss and per_epoch == len(x_train):
        train_data = (x_train, x_train)  # one loss value per window: no per-token weights
    else:
        train_data = (x_train, x_train, w_train)
    batch_size = config.batch_size
    validation_data = None
    if validation is not None:
        validation_data = ((validation[0], validation[0]) if config.summed_loss
                           else (validation[0], validation[0], validation[1]))
    optimizer_options = {"learning_rate": config.learning_rate}
    if config.clipnorm is not None:
        optimizer_options["clipnorm"] = config.clipnorm
    elif config.clipvalue is not None:
        optimizer_options["clipvalue"] = config.clipvalue

    def model_factory():
        network = jazz_model.build_network(config, len(data.tokenizer))
        return jazz_model.compile_network(network, config, optimizer_options,
                                          jit_compile=options["xla"])

    class SaveTokenizer(keras.callbacks.Callback):
        """Write tokenizer.json into the run folder once training starts (run.json exists then)."""

        def on_train_begin(self, logs=None):
            path = run_dir / TOKENIZER_FILE
            if not path.exists():
                atomic_write_text(path, data.tokenizer.to_json())

    print(f"{per_epoch} windows of {config.window} tokens per epoch, batch {config.batch_size}",
          flush=True)
    started = time.perf_counter()
    result = common.fit_with_recovery(
        model_factory, train_data, validation_data, run_dir=run_dir, epochs=config.epochs,
        metadata=config.to_settings(), batch_size=batch_size, shuffle_seed=config.seed,
        examples_per_epoch=per_epoch, save_every_steps=options["save_every_steps"], logdir=options["logdir"],
        extra_callbacks=[SaveTokenizer()], verbose=progress and not options["no_progress"],
        strategy=strategy)
    seconds = time.perf_counter() - started
    return _export(config, data, result, seconds)


def _export(config: TrainConfig, data: TrainingData, result, seconds: float) -> dict:
    """Write the best epoch as the run folder's model folder, with its validation figures."""
    from apps.jazz import model as jazz_model
    from apps.jazz.evaluate import score_token_lists

    files = result.files
    best_path = files.best_model if files.best_model.exists() else files.last_model
    if not best_path.exists():
        raise JazzUsageError(f"{files.run_dir} holds no trained epoch yet; run train again")
    best = jazz_model.load_network(best_path)
    history = {name: column for name, column in result.history.items()
               if name == "epoch" or np.isfinite(np.asarray(column, float)).any()}
    monitor = "val_loss" if "val_loss" in history else "loss"
    values = history.get(monitor, [])
    best_epoch = int(np.nanargmin(values)) if values else None
    info = {
        "tokens": config.tokens,
        "window": config.window,
        "default_length": config.default_length,
        "tempo_bpm": config.tempo_bpm,
        "vocabulary_size": len(data.tokenizer),
        "settings": config.to_settings(),
        "epochs_done": result.epochs_done,
        "best_epoch": None if best_epoch is None else best_epoch + 1,
        "history": {name: [float(v) for v in column] for name, column in history.items()
                    if name != "epoch"},
        "data": {"training_solos": [solo.name for solo in data.training],
                 "validation_solos": [solo.name for solo in data.validation],
                 "training_tokens": sum(len(t) for t in data.training_tokens),
                 "validation_tokens": sum(len(t) for t in data.validation_tokens),
                 "skipped": [[path, reason] for path, reason in data.skipped]},
        "training_seconds_this_call": round(seconds, 1),
    }
    if data.validation_tokens:
        score = score_token_lists(best, data.tokenizer, data.validation_tokens)
        info["validation"] = score.to_dict()
        print(f"validation (whole solos, best epoch {info['best_epoch']}): "
              f"{score.summary()}", flush=True)
    course = data.training[0].course if config.tokens == "course" and data.training else None
    jazz_model.save_model_folder(files.run_dir, best, config, data.tokenizer, info, course)
    print(f"wrote {files.run_dir / jazz_model.MODEL_FILE} (epoch {info['best_epoch']} of "
          f"{result.epochs_done}); generate with: python -m apps.jazz generate --checkpoint "
          f"{files.run_dir}", flush=True)
    return info


SHARED_DEFAULTS = {"save_every_steps": None, "logdir": None, "distribute": "none",
                   "mixed_precision": False, "xla": False, "no_progress": False}


def _shared_options(arguments) -> dict:
    return {name: getattr(arguments, name, default) if arguments is not None else default
            for name, default in SHARED_DEFAULTS.items()}


def _namespace(config: TrainConfig, options: dict):
    from argparse import Namespace

    return Namespace(seed=config.seed, **options)
