"""`train`: fit a character language model (zoo.builders.language_model) to a text file.

The model reads y⟨1..T⟩ and predicts each y⟨t⟩ from x⟨1⟩ = 0, x⟨t⟩ = y⟨t−1⟩ (one-hot, as the
course); the loss is the cross-entropy per character in nats (padding after a name's <EOS> is
masked out). Training goes through `apps.common.training.fit_with_recovery`: atomic checkpoints
(last.keras, best.keras), a resumable backup (rerun the same command to continue; a larger
--epochs trains a finished run longer), a nan guard, history.csv and loss.png.

When training ends, the run folder also gets the files sample and score read (apps.charlm.saved):
model.keras (the epoch with the lowest validation loss, or the last one without validation),
vocabulary.json and charlm.json.
"""
import hashlib
import math
import shutil
from pathlib import Path
from types import SimpleNamespace

from apps.common.atomic import atomic_write_json, replacing
from apps.common.errors import UserError
from apps.charlm.config import CELLS, TrainConfig
from apps.charlm.data import load_corpus, resolve_text_path
from apps.charlm.saved import MODEL_FILE, SETTINGS_FILE, VOCABULARY_FILE



def check_config(config: TrainConfig) -> None:
    if config.cell not in CELLS:
        raise UserError(f"--cell must be one of {', '.join(CELLS)}; received {config.cell!r}")
    if not 0.0 <= config.dropout < 1.0:
        raise UserError(f"--dropout must be in [0, 1); received {config.dropout}")
    if config.clipnorm is not None and config.clipvalue is not None:
        raise UserError("give --clipnorm or --clipvalue, not both")


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def build_model_factory(config: TrainConfig, vocabulary_size: int, pad_id):
    """A function returning the built, compiled language model of `config`."""
    import keras

    from zoo import builders

    def build():
        model = builders.language_model(
            vocabulary_size, cell=config.cell, units=config.units, layers=config.layers,
            dropout=config.dropout, embedding_dim=config.embedding_dim, pad_id=pad_id)
        options = {"learning_rate": config.learning_rate}
        if config.clipvalue is not None:
            options["clipvalue"] = config.clipvalue
        if config.clipnorm is not None:
            options["clipnorm"] = config.clipnorm
        model.compile(optimizer=keras.optimizers.Adam(**options),
                      loss=keras.losses.SparseCategoricalCrossentropy(),
                      jit_compile=bool(config.extra.get("xla", False)))
        return model
    return build


def run_settings(config: TrainConfig, text_path: Path, text_format: str) -> dict:
    """What run.json records: the config, the resolved text file and its SHA-256."""
    settings = config.to_json()
    extra = settings.pop("extra")
    settings.update(extra)
    settings.update(text=str(text_path), text_format=text_format,
                    text_sha256=file_digest(text_path))
    return settings


def train(config: TrainConfig, *, show_samples: int = 0, extra_callbacks=()) -> dict:
    """Train as `config` says (resuming the run folder if it holds a run); return a summary.

    `extra_callbacks`: more Keras callbacks for fit_with_recovery (e.g. a time limit).
    """
    check_config(config)
    text_path = resolve_text_path(config.text)
    corpus = load_corpus(text_path, text_format=config.text_format, case=config.case,
                         sequence_length=config.sequence_length,
                         validation_split=config.validation_split, seed=config.seed)
    from apps.common import training
    strategy = training.setup_training(SimpleNamespace(
        distribute=config.extra.get("distribute", "none"), seed=config.seed,
        mixed_precision=bool(config.extra.get("mixed_precision", False)),
        xla=bool(config.extra.get("xla", False))))
    print(corpus.summary(), flush=True)
    run_dir = Path(config.run_dir)
    settings = run_settings(config, text_path, corpus.text_format)
    validation = None if corpus.validation is None else (corpus.validation, corpus.validation)
    result = training.fit_with_recovery(
        build_model_factory(config, len(corpus.vocabulary), corpus.pad_id),
        (corpus.train, corpus.train), validation, run_dir=run_dir, epochs=config.epochs,
        metadata=settings, batch_size=config.batch_size, shuffle_seed=config.seed,
        save_every_steps=config.save_every_steps, logdir=config.extra.get("logdir"),
        verbose=not config.no_progress, strategy=strategy, extra_callbacks=extra_callbacks)
    chosen = result.files.best_model if result.files.best_model.exists() else result.files.last_model
    if not chosen.exists():
        raise UserError(f"{run_dir} holds no checkpoint after training; run the command again")
    with replacing(run_dir / MODEL_FILE) as temporary:
        shutil.copyfile(chosen, temporary)
    corpus.vocabulary.save(run_dir / VOCABULARY_FILE)
    atomic_write_json(run_dir / SETTINGS_FILE, settings)
    summary = summarize(result, corpus, chosen)
    print(format_summary(summary, run_dir), flush=True)
    if show_samples:
        from apps.charlm.sample import sample
        print("samples:", flush=True)
        for text in sample(run_dir, count=show_samples, seed=config.seed):
            print(f"  {text!r}" if corpus.text_format == "running" else f"  {text}", flush=True)
    return summary


def summarize(result, corpus, chosen) -> dict:
    history = result.history
    last = {name: values[-1] for name, values in history.items() if values and name != "epoch"}
    summary = {"epochs_done": result.epochs_done, "resumed_from": result.resumed_from,
               "model": chosen.name, "text_format": corpus.text_format,
               "vocabulary_size": len(corpus.vocabulary)}
    for name in ("loss", "val_loss"):
        if name in last:
            summary[name] = float(last[name])
    if "val_loss" in history and history["val_loss"]:
        summary["best_val_loss"] = float(min(history["val_loss"]))
    return summary


def format_summary(summary: dict, run_dir: Path) -> str:
    parts = [f"trained {summary['epochs_done']} epochs"]
    for name, label in (("loss", "training loss"), ("val_loss", "validation loss"),
                        ("best_val_loss", "best validation loss")):
        if name in summary:
            value = summary[name]
            parts.append(f"{label} {value:.4f} nats/char ({value / math.log(2):.3f} bits/char)")
    return "; ".join(parts) + f"; model saved to {run_dir / MODEL_FILE}"
