"""`train`: fit the BiLSTM tagger (apps.ner.model) to a CoNLL training split.

Training goes through `apps.common.training.fit_with_recovery` (atomic checkpoints, resumable
backup, nan guard, history.csv, loss.png); rerunning the same command resumes an interrupted
run exactly (apps.ner.batching explains why the bucketed batches allow it). On top of that:

* the entity F1 of the training batches (`f1`) and of the validation split (`val_f1`) is
  computed inside the train and test steps (apps.ner.metrics), so it is on the progress line
  and in history.csv every epoch;
* `BestF1` keeps best_f1.keras, the model of the best val_f1 so far, and stops training after
  --patience epochs without a better val_f1; both survive a resume (they are rebuilt from
  history.csv), and rerunning a run that stopped early trains nothing more;
* the vocabularies and ner.json are written when training starts, model.keras (a copy of
  best_f1.keras) when it ends (apps.ner.saved lists the files).
"""
import hashlib
import json
import math
import shutil
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from apps.common import cli
from apps.common.atomic import atomic_write_json, replacing
from apps.common.errors import UserError
from apps.ner import config as ner_config
from apps.ner.config import TrainConfig
from apps.ner.data import (char_vocabulary, check_known_tags, read_conll, split_paths,
                           tag_names_for, tag_vocabulary, word_vocabulary)
from apps.ner.saved import (BEST_F1_FILE, CHARS_FILE, MODEL_FILE, SETTINGS_FILE, TAGS_FILE,
                            TIMING_FILE, WORDS_FILE)

# Settings that may change when a run is resumed (they do not change what a step computes;
# align_unseen acts only on model.keras when training ends, so rerunning a finished run's
# command with another value re-derives model.keras from its checkpoint that way).
MAY_CHANGE = ("epochs", "no_progress", "logdir", "save_every_steps", "run_dir", "patience",
              "align_unseen")
BOTH_SPLITS = ner_config.BOTH_SPLITS
# Settings added after earlier runs were recorded, with the value those runs trained with.
ADDED_SETTINGS = {"lm_weight": 0.0, "lm_words": ner_config.DEFAULT_LM_WORDS,
                  "adversarial": 0.0, "align_unseen": 0, "doc_memory": 0}


def check_config(config: TrainConfig) -> None:
    """UserError for settings that cannot work together."""
    choices = (("cell", ner_config.CELLS), ("char_encoder", ner_config.CHAR_ENCODERS),
               ("output", ner_config.OUTPUTS), ("embeddings", ner_config.EMBEDDINGS),
               ("glove_words", ner_config.GLOVE_WORDS), ("optimizer", ner_config.OPTIMIZERS),
               ("scheme", ner_config.SCHEMES), ("train_on", ner_config.TRAIN_ON))
    for name, allowed in choices:
        if getattr(config, name) not in allowed:
            raise UserError(f"--{name.replace('_', '-')} must be one of {', '.join(allowed)}; "
                            f"received {getattr(config, name)!r}")
    for name in ("dropout", "unk_singletons"):
        value = getattr(config, name)
        if not 0.0 <= value < 1.0:
            raise UserError(f"--{name.replace('_', '-')} must be in [0, 1); received {value}")
    if not (math.isfinite(config.lm_weight) and config.lm_weight >= 0.0):
        raise UserError(f"--lm-weight must be a number >= 0 (0 turns the language model off); "
                        f"received {config.lm_weight}")
    if not (math.isfinite(config.adversarial) and config.adversarial >= 0.0):
        raise UserError(f"--adversarial must be a number >= 0 (0 turns it off); received "
                        f"{config.adversarial}")
    cli.check_single_device(config.adversarial, config.extra.get("distribute", "none"))
    if config.align_unseen < 0:
        raise UserError(f"--align-unseen must be >= 0 (0 turns it off); received "
                        f"{config.align_unseen}")
    if config.align_unseen and (config.embeddings, config.glove_words) != ("glove-50d", "data"):
        raise UserError("--align-unseen moves the GloVe rows of words met only in validation "
                        "or test text: it needs --embeddings glove-50d --glove-words data")
    if config.doc_memory < 0:
        raise UserError(f"--doc-memory must be >= 0 (0 turns it off); received "
                        f"{config.doc_memory}")
    if config.lm_words < 1:
        raise UserError(f"--lm-words must be >= 1; received {config.lm_words}")
    if config.embeddings == "glove-50d" and config.word_dim != ner_config.GLOVE_DIM:
        raise UserError(f"--embeddings glove-50d fixes the word embedding size to "
                        f"{ner_config.GLOVE_DIM}; leave out --word-dim (received "
                        f"{config.word_dim})")
    if config.freeze_embeddings and config.embeddings != "glove-50d":
        raise UserError("--freeze-embeddings needs --embeddings glove-50d (frozen random word "
                        "vectors would carry no information)")
    if config.char_encoder != "none" and config.char_features < 1:
        raise UserError(f"--char-features must be >= 1 with --char-encoder {config.char_encoder}")
    if config.clipnorm is not None and config.clipvalue is not None:
        raise UserError("give --clipnorm or --clipvalue, not both")
    if config.train_on == BOTH_SPLITS and config.patience:
        raise UserError(f"--train-on {BOTH_SPLITS} trains exactly --epochs epochs and keeps the "
                        f"last: with the validation sentences in training nothing is left to "
                        f"stop early on; leave out --patience (received {config.patience})")


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ----------------------------------------------------------------------------------- data
class PreparedData(SimpleNamespace):
    """paths, sentences, tag_names, vocabularies, encoded splits, GloVe matrix and hit rate."""


def prepare_data(config: TrainConfig) -> PreparedData:
    """Read the splits, build the vocabularies, encode train and valid (and the GloVe matrix)."""
    from apps.ner.batching import encode_flat

    data_dir = ner_config.resolve_data_path(config.data)
    paths = split_paths(data_dir)
    sentences = {split: read_conll(path, scheme=config.scheme) for split, path in paths.items()}
    # What the model is fitted to: the training sentences, or with train+valid the validation
    # sentences too (vocabularies, tags and singletons then come from both).
    fitted = list(sentences["train"])
    if config.train_on == BOTH_SPLITS:
        fitted += sentences["valid"]
    tag_names = tag_names_for(fitted)
    check_known_tags(sentences["valid"], tag_names, paths["valid"])
    glove_words = vectors = None
    extra_words = ()
    if config.embeddings == "glove-50d":
        from apps.common.glove import load_glove_50d
        glove_words, vectors = load_glove_50d()
        if config.glove_words == "data":
            known = set(glove_words)
            extra_words = sorted({token.lower() for split in ("valid", "test")
                                  for sentence in sentences[split] for token in sentence.tokens
                                  if token.lower() in known})
    words = word_vocabulary(fitted, extra_words=extra_words)
    chars = char_vocabulary(fitted)
    tags = tag_vocabulary(tag_names)
    matrix = hit_rate = None
    if vectors is not None:
        from apps.common.glove import embedding_matrix
        matrix, hit_rate = embedding_matrix(words, glove_words, vectors, seed=config.seed)

    def encode(split_sentences, documents):
        return encode_flat([s.tokens for s in split_sentences], words, chars,
                           tag_lists=[s.tags for s in split_sentences], tag_names=tag_names,
                           max_word_length=config.max_word_length, documents=documents)

    # Story ids (the -DOCSTART- documents); the validation stories follow the training ones.
    train_documents = [s.document for s in sentences["train"]]
    valid_documents = [s.document for s in sentences["valid"]]
    fitted_documents = list(train_documents)
    if config.train_on == BOTH_SPLITS:
        first = max(train_documents) + 1
        fitted_documents += [first + document for document in valid_documents]
    return PreparedData(data_dir=data_dir, paths=paths, sentences=sentences,
                        train_on=config.train_on, tag_names=tag_names, words=words, chars=chars,
                        tags=tags, train=encode(fitted, fitted_documents),
                        valid=encode(sentences["valid"], valid_documents),
                        matrix=matrix, hit_rate=hit_rate,
                        singletons=singleton_flags(fitted, words))


def singleton_flags(train_sentences, words) -> np.ndarray:
    """bool per word id: the word occurs exactly once in the sentences trained on."""
    counts = np.zeros(len(words), dtype=np.int64)
    for sentence in train_sentences:
        np.add.at(counts, words.encode(sentence.tokens), 1)
    flags = counts == 1
    flags[:len(words.special_tokens)] = False
    return flags


def describe_data(data: PreparedData) -> str:
    counts = {split: len(sentences) for split, sentences in data.sentences.items()}
    tokens = int(data.train.offsets[-1])
    text = (f"data {data.data_dir}: {counts['train']} training sentences, "
            f"{counts['valid']} validation, {counts['test']} test; ")
    if data.train_on == BOTH_SPLITS:
        text += (f"training on train+valid ({len(data.train)} sentences, {tokens} tokens; the "
                 f"validation F1 below is on sentences the model trains on); ")
    else:
        text += f"training on train ({tokens} tokens); "
    text += f"{len(data.words)} words, {len(data.chars)} characters, tags {' '.join(data.tag_names)}"
    if data.hit_rate is not None:
        text += f"; GloVe 6B 50d covers {data.hit_rate:.1%} of the vocabulary"
    return text


# ---------------------------------------------------------------------------------- model
def build_model_factory(config: TrainConfig, data: PreparedData, steps_per_epoch: int):
    """A function returning the built, compiled tagger of `config`."""

    def build():
        from apps.ner.batching import make_batch
        from apps.ner.model import build_model, compile_model, make_optimizer

        model = build_model(
            word_vocabulary_size=len(data.words), char_vocabulary_size=len(data.chars),
            tag_names=data.tag_names, word_dim=config.word_dim, char_encoder=config.char_encoder,
            char_dim=config.char_dim, char_features=config.char_features,
            casing_dim=config.casing_dim, cell=config.cell, units=config.units,
            layers=config.layers, dropout=config.dropout, output=config.output,
            train_word_embedding=not config.freeze_embeddings, lm_weight=config.lm_weight,
            lm_words=config.lm_words, adversarial=config.adversarial,
            doc_memory=config.doc_memory)
        if data.matrix is not None:
            model.get_layer("word_embedding").embeddings.assign(data.matrix)
        optimizer = make_optimizer(config.optimizer, config.resolved_learning_rate,
                                   clipnorm=config.clipnorm, clipvalue=config.clipvalue,
                                   steps_per_epoch=steps_per_epoch,
                                   momentum=ner_config.SGD_MOMENTUM, decay=ner_config.SGD_DECAY)
        compile_model(model, optimizer, jit_compile=bool(config.extra.get("xla", False)))
        build_metrics(model, make_batch(data.train, np.arange(min(2, len(data.train))),
                                        stories=bool(config.doc_memory)))
        return model
    return build


def build_metrics(model, batch) -> None:
    """Create the loss tracker's and the compiled metrics' variables now, from one batch.

    Keras creates them at the first training step; a resumed run restores the metric states of
    its backup before that step, so without this the resumed epoch's loss and f1 would cover
    only the steps after the resume.
    """
    features, labels = batch
    predictions = model(features, training=False)
    model.compute_loss(x=features, y=labels, y_pred=predictions)
    model.compute_metrics(features, labels, predictions, sample_weight=None)
    model.reset_metrics()


# ------------------------------------------------------------------------ best F1, stopping
def best_so_far(history: dict, before_epoch: int):
    """(best val_f1, its epoch from 0) over the epochs < before_epoch in history, or
    (None, None)."""
    best_value = best_epoch = None
    for epoch, value in zip(history.get("epoch", []), history.get("val_f1", [])):
        better = best_value is None or value > best_value
        if epoch < before_epoch and math.isfinite(value) and better:
            best_value, best_epoch = value, epoch
    return best_value, best_epoch


def stopped_early(epochs_done: int, best_epoch, patience: int) -> bool:
    """True when the last `patience` finished epochs brought no better val_f1."""
    return bool(patience) and best_epoch is not None and epochs_done - 1 - best_epoch >= patience


def make_best_f1_callback(run_dir: Path, **kwargs):
    import keras

    from apps.common.atomic import atomic_save_model

    class BestF1(keras.callbacks.Callback):
        """best_f1.keras on a new highest val_f1; stop after `patience` epochs without one;
        the vocabulary files when training starts; seconds per epoch in timing.json. With
        `selects` False (train+valid) val_f1 is only reported: it is measured on training data
        and chooses nothing."""

        def __init__(self, best_value, best_epoch, patience, write_files, say, selects=True):
            super().__init__()
            self.best_value, self.best_epoch = best_value, best_epoch
            self.patience, self.write_files, self.say = patience, write_files, say
            self.selects = selects
            self.timing_path = run_dir / TIMING_FILE
            self.started = None

        def on_train_begin(self, logs=None):
            self.write_files()

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.record_time(epoch)
            value = (logs or {}).get("val_f1")
            if value is None or not math.isfinite(float(value)):
                return
            value = float(value)
            if not self.selects:
                self.say(f"epoch {epoch + 1}: val_f1 {100 * value:.2f} (on validation sentences "
                         f"the model trains on: no choice is made on it)")
                return
            if self.best_value is None or value > self.best_value:
                atomic_save_model(self.model, run_dir / BEST_F1_FILE)
                self.best_value, self.best_epoch = value, epoch
                self.say(f"epoch {epoch + 1}: val_f1 {100 * value:.2f}, the best so far; saved "
                         f"{BEST_F1_FILE}")
                return
            self.say(f"epoch {epoch + 1}: val_f1 {100 * value:.2f}; best "
                     f"{100 * self.best_value:.2f} at epoch {self.best_epoch + 1}")
            if stopped_early(epoch + 1, self.best_epoch, self.patience):
                self.model.stop_training = True
                self.say(f"stopping early: no better val_f1 for {self.patience} epochs")

        def record_time(self, epoch):
            if self.started is None:
                return
            try:
                timing = json.loads(self.timing_path.read_text(encoding="utf-8"))
            except (FileNotFoundError, ValueError):
                timing = {"epoch_seconds": {}}
            timing.setdefault("epoch_seconds", {})[str(epoch)] = round(
                time.perf_counter() - self.started, 2)
            atomic_write_json(self.timing_path, timing)

    return BestF1(**kwargs)


# ----------------------------------------------------------------------------------- train
def run_settings(config: TrainConfig, data: PreparedData) -> dict:
    """What run.json records: the config, the data files and their SHA-256."""
    settings = config.to_json()
    settings.update(settings.pop("extra"))
    settings["data"] = str(data.data_dir)
    settings["learning_rate"] = config.resolved_learning_rate
    settings["data_files"] = {split: {"path": str(path), "sha256": file_digest(path)}
                              for split, path in data.paths.items()}
    return settings


def save_tagging_files(run_dir: Path, data: PreparedData, settings: dict) -> None:
    """The vocabularies and ner.json (everything evaluate and tag need besides the model)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    for vocabulary, name in ((data.words, WORDS_FILE), (data.chars, CHARS_FILE),
                             (data.tags, TAGS_FILE)):
        with replacing(run_dir / name) as temporary:
            vocabulary.save(temporary)
    atomic_write_json(run_dir / SETTINGS_FILE, {
        "tag_names": data.tag_names, "max_word_length": settings["max_word_length"],
        "scheme": settings["scheme"], "data": settings["data"], "output": settings["output"],
        "settings": settings})


def train(config: TrainConfig, *, extra_callbacks=()) -> dict:
    """Train as `config` says (resuming the run folder if it holds a run); return a summary."""
    check_config(config)
    data = prepare_data(config)
    from apps.common import training
    from apps.common.callbacks import read_backup_state, read_history
    from apps.common.run_folder import RunFiles, check_run_settings
    from apps.ner.batching import BucketBatcher, evaluation_dataset, training_dataset
    from apps.ner.metrics import ExactDecodingForValidation

    strategy = training.setup_training(SimpleNamespace(
        distribute=config.extra.get("distribute", "none"), seed=config.seed,
        mixed_precision=bool(config.extra.get("mixed_precision", False)),
        xla=bool(config.extra.get("xla", False))))
    chief = training.is_chief(strategy)
    say = (lambda text: print(text, flush=True)) if chief else (lambda text: None)
    say(describe_data(data))
    run_dir = Path(config.run_dir)
    files = RunFiles(run_dir)
    settings = run_settings(config, data)
    state = read_backup_state(files.backup_dir) if (run_dir / "run.json").exists() else None
    first_epoch = state.epoch if state else 0
    best_value, best_epoch = best_so_far(read_history(files.history_csv), first_epoch)
    batcher = BucketBatcher(data.train, config.batch_size, config.seed,
                            singletons=data.singletons, unk_probability=config.unk_singletons,
                            unk_id=data.words.unk_id, stories=bool(config.doc_memory))
    result = None
    if state is not None and state.step == 0 and stopped_early(state.epoch, best_epoch,
                                                               config.patience):
        check_run_settings(files, settings, may_change=MAY_CHANGE, added=ADDED_SETTINGS,
                           write=chief)
        say(f"{run_dir} stopped early after epoch {state.epoch} (no better val_f1 for "
            f"{config.patience} epochs since epoch {best_epoch + 1}); nothing to train (a "
            f"larger --patience continues it)")
    else:
        train_data, _ = training_dataset(batcher, first_epoch)
        callback = make_best_f1_callback(
            run_dir, best_value=best_value, best_epoch=best_epoch, patience=config.patience,
            write_files=(lambda: save_tagging_files(run_dir, data, settings)) if chief
            else (lambda: None), say=say, selects=config.train_on != BOTH_SPLITS)
        result = training.fit_with_recovery(
            build_model_factory(config, data, batcher.steps_per_epoch), train_data,
            evaluation_dataset(data.valid, ner_config.EVAL_BATCH_SIZE,
                               stories=bool(config.doc_memory)), run_dir=run_dir,
            epochs=config.epochs, metadata=settings, save_every_steps=config.save_every_steps,
            logdir=config.extra.get("logdir"), verbose=not config.no_progress,
            strategy=strategy, may_change=MAY_CHANGE, added_settings=ADDED_SETTINGS,
            extra_callbacks=[ExactDecodingForValidation(), callback, *extra_callbacks])
    if not chief:
        return {}
    return finish(run_dir, data, settings, result)


def finish(run_dir: Path, data: PreparedData, settings: dict, result) -> dict:
    """Copy the best-F1 model to model.keras, write the tagging files, print a summary."""
    from apps.common.callbacks import read_history

    history = read_history(run_dir / "history.csv")
    # train+valid keeps the last epoch: its validation F1 is measured on training data.
    both = settings.get("train_on") == BOTH_SPLITS
    chosen = run_dir / BEST_F1_FILE
    if both or not chosen.exists():
        chosen = run_dir / "last.keras"
    if not chosen.exists():
        raise UserError(f"{run_dir} holds no checkpoint after training; run the command again")
    with replacing(run_dir / MODEL_FILE) as temporary:
        shutil.copyfile(chosen, temporary)
    aligned = 0
    if settings.get("align_unseen") and data.matrix is not None:
        aligned = align_model_file(run_dir / MODEL_FILE, data.words, settings["align_unseen"])
    save_tagging_files(run_dir, data, settings)
    # With train+valid no epoch is chosen: val_f1 there is fit to training data.
    best_value, best_epoch = (None, None) if both else best_so_far(history, math.inf)
    summary = {"epochs_done": len(history.get("epoch", [])),
               "resumed_from": None if result is None else result.resumed_from,
               "stopped_early": bool(result is None or result.stopped_early),
               "best_val_f1": best_value,
               "best_epoch": None if best_epoch is None else best_epoch + 1,
               "model": chosen.name, "train_seconds": training_seconds(run_dir),
               "aligned_rows": aligned}
    for name in ("loss", "f1", "val_loss", "val_f1"):
        if history.get(name):
            summary[name] = float(history[name][-1])
    if aligned:
        note = (f"moved the GloVe vectors of the {aligned} words of the validation and test "
                f"text that the training sentences lack by the mean drift of their "
                f"{settings['align_unseen']} nearest training words (--align-unseen)")
        if not both:
            from apps.ner.evaluate import validation_f1
            summary["val_f1_aligned"] = validation_f1(run_dir, data)
            note += f"; validation entity F1 {100 * summary['val_f1_aligned']:.2f} after"
            if best_value is not None:
                note += f", {100 * best_value:.2f} before"
        print(note, flush=True)
    if both:
        print(f"trained {summary['epochs_done']} epochs on train+valid in "
              f"{summary['train_seconds']:.0f} s; model saved to {run_dir / MODEL_FILE} (the last "
              f"epoch); next: python -m apps.ner evaluate --run-dir {run_dir} --split test",
              flush=True)
        return summary
    best = "none" if best_value is None else f"{100 * best_value:.2f} at epoch {best_epoch + 1}"
    print(f"trained {summary['epochs_done']} epochs in {summary['train_seconds']:.0f} s; best "
          f"validation entity F1 {best}; model saved to {run_dir / MODEL_FILE} (from "
          f"{chosen.name}); next: python -m apps.ner evaluate --run-dir {run_dir} --split valid",
          flush=True)
    return summary


def align_model_file(path: Path, words, neighbours: int) -> int:
    """Move the GloVe rows that training left untouched in the tagger at `path` (the words of
    the validation and test text that the training sentences lack) by the drift of their
    nearest trained rows (apps/ner/align.py), save it back, and return how many moved."""
    from apps.common.cli import import_tensorflow_quietly
    import_tensorflow_quietly()
    import keras

    import apps.ner.model  # noqa: F401  (registers the custom layers)
    import zoo.crf  # noqa: F401
    import zoo.layers  # noqa: F401
    from apps.ner.align import align_untouched_rows

    model = keras.saving.load_model(path, compile=False)
    variable = model.get_layer("word_embedding").embeddings
    aligned, count = align_untouched_rows(np.asarray(variable.numpy()), words, neighbours)
    if count:
        variable.assign(aligned)
        with replacing(path) as temporary:
            model.save(temporary)
    return count


def training_seconds(run_dir: Path) -> float:
    try:
        timing = json.loads((run_dir / TIMING_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return 0.0
    return float(sum(timing.get("epoch_seconds", {}).values()))
