"""The Keras callbacks behind `apps.common.training.fit_with_recovery`.

    NaNGuard          stops training at the first batch whose loss is nan or inf (UserError)
    ModelCheckpoints  last.keras every epoch, best.keras on a new lowest loss; both atomic
    LossCurvePlot     loss.png from history.csv after every epoch
    StepBackup        the resumable training state in run_dir/backup, every N steps and epoch
    RunProgress       Keras's progress bar, counting epochs against the run's total

Order matters, and `fit_with_recovery` puts them in this one: NaNGuard first, so that nothing is
saved after a bad batch; StepBackup last, so that an epoch counts as done in the backup only
once its checkpoints and history row are written.

Epochs and steps in messages count from 1, as Keras's progress bar does; the epoch column of
history.csv and `epoch` in backup/state.json count from 0, as Keras's callbacks do.
"""
import csv
import dataclasses
import io
import json
import math
from pathlib import Path

import keras
import numpy as np

from apps.common.atomic import atomic_save_model, atomic_save_weights, atomic_write_bytes
from apps.common.atomic import atomic_write_json, replacing
from apps.common.errors import UserError

BACKUP_STATE_FILE = "state.json"
NAN_ADVICE = ("try gradient clipping (--clipnorm 5) or a lower --learning-rate, in a new "
              "--run-dir")


# ----------------------------------------------------------------------------------------------
# Stopping on nan.

def require_finite(value, what: str, epoch: int, step: int | None, last_model: Path) -> None:
    """Raise the nan UserError when `value` (a float or None) is nan or inf.

    `epoch` counts from 0 and `step` (steps done in it, or None) from 1; the message counts both
    from 1.
    """
    if value is None or math.isfinite(value):
        return
    where = f"epoch {epoch + 1}" + ("" if step is None else f", step {step}")
    kept = (f"the last good checkpoint is kept at {last_model}" if Path(last_model).exists()
            else "no checkpoint was written before it")
    raise UserError(f"{what} became {value} at {where}; {kept}; {NAN_ADVICE}")


def first_nonfinite_weight(model) -> float | None:
    """nan or inf when some weight of `model` is not finite, else None."""
    for variable in model.weights:
        values = np.asarray(variable.numpy())
        finite = np.isfinite(values)
        if not finite.all():
            return float(values[~finite].flat[0])
    return None


class NaNGuard(keras.callbacks.Callback):
    """Raise a UserError at the first batch whose loss is nan or inf.

    Raising (rather than setting `stop_training`) skips every later callback hook, so neither
    the checkpoints nor the backup are written from the bad weights. `step_offset` is the
    number of steps of the first epoch done before this `fit` call (a resumed epoch).
    """

    def __init__(self, last_model: Path, step_offset: int = 0):
        super().__init__()
        self.last_model = Path(last_model)  # named in the message as the checkpoint to fall back on
        self.step_offset = step_offset  # steps of the first epoch done before this fit call
        self.first_epoch = None  # the epoch this fit call starts with (the offset applies to it)
        self.epoch = 0  # the epoch in progress, from 0

    def on_epoch_begin(self, epoch, logs=None):
        self.first_epoch = epoch if self.first_epoch is None else self.first_epoch
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        offset = self.step_offset if self.epoch == self.first_epoch else 0
        require_finite(float(loss), "loss", self.epoch, batch + 1 + offset, self.last_model)

    def on_epoch_end(self, epoch, logs=None):
        require_finite(_float_or_none((logs or {}).get("loss")), "loss", epoch, None,
                       self.last_model)


def _float_or_none(value):
    return None if value is None else float(value)


class RunProgress(keras.callbacks.ProgbarLogger):
    """Keras's progress bar, but "Epoch 3/10" counts against the run's total epochs.

    `fit_with_recovery` trains a resumed epoch in a `fit` call of its own, whose `epochs` is
    not the run's total; Keras's own logger would print "Epoch 3/3" there.
    """

    def __init__(self, total_epochs: int):
        super().__init__()
        self.total_epochs = total_epochs  # the run's --epochs

    def set_params(self, params):
        super().set_params(params)
        self.epochs = self.total_epochs


# ----------------------------------------------------------------------------------------------
# last.keras and best.keras.

@dataclasses.dataclass
class BestSoFar:
    """The lowest monitored loss so far; shared by ModelCheckpoints and the backup."""

    value: float | None = None  # the lowest value seen at an epoch end, None before the first
    epoch: int | None = None  # that epoch, from 0


class ModelCheckpoints(keras.callbacks.Callback):
    """At every epoch end write last.keras, and best.keras when `monitor` reached a new low.

    Both are written atomically (`atomic_save_model`), so a reader or a killed process never
    leaves a partial file; weights that are not finite raise the nan UserError instead of
    being saved.
    """

    def __init__(self, last_model: Path, best_model: Path, best: BestSoFar, monitor: str,
                 last_model_for_messages: Path | None = None):
        super().__init__()
        self.last_model = Path(last_model)  # rewritten at every epoch end
        self.last_model_for_messages = Path(last_model_for_messages or last_model)  # in nan errors
        self.best_model = Path(best_model)  # rewritten when `monitor` improves
        self.best = best  # the lowest `monitor` so far, restored from the backup on resume
        self.monitor = monitor  # "val_loss", or "loss" without validation data

    def on_epoch_end(self, epoch, logs=None):
        require_finite(first_nonfinite_weight(self.model), "a weight", epoch, None,
                       self.last_model_for_messages)
        atomic_save_model(self.model, self.last_model)
        value = _float_or_none((logs or {}).get(self.monitor))
        if value is None or not math.isfinite(value):
            return
        if self.best.value is None or value < self.best.value:
            atomic_save_model(self.model, self.best_model)
            self.best.value, self.best.epoch = value, epoch


# ----------------------------------------------------------------------------------------------
# history.csv and loss.png.

def read_history(history_csv: Path) -> dict:
    """history.csv as {column: [value per epoch]}; a repeated epoch keeps its last row.

    A run resumed from a mid-epoch backup may have written a row for an epoch it then trained
    again; the later row is the one that matches the checkpoints.
    """
    try:
        text = Path(history_csv).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    rows_by_epoch = {}
    for row in csv.DictReader(io.StringIO(text)):
        if row.get("epoch", "").strip():
            rows_by_epoch[int(row["epoch"])] = row
    columns = {}
    for epoch in sorted(rows_by_epoch):
        for name, value in rows_by_epoch[epoch].items():
            columns.setdefault(name, []).append(int(value) if name == "epoch" else _number(value))
    return columns


def _number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def plot_loss_curves(history: dict, png_path: Path, title: str = "") -> None:
    """Write a PNG of `loss` and `val_loss` per epoch (numbered from 1), atomically."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(6, 4), dpi=100)
    axes = figure.subplots()
    epochs = [epoch + 1 for epoch in history.get("epoch", [])]
    for name, label in (("loss", "training"), ("val_loss", "validation")):
        if name in history:
            axes.plot(epochs, history[name], marker="o", label=label)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    if axes.get_legend_handles_labels()[0]:
        axes.legend()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    atomic_write_bytes(png_path, buffer.getvalue())


class LossCurvePlot(keras.callbacks.Callback):
    """After every epoch redraw `png_path` from `history_csv` (put it after the CSVLogger)."""

    def __init__(self, history_csv: Path, png_path: Path, title: str = ""):
        super().__init__()
        self.history_csv = Path(history_csv)  # the CSVLogger's file, read after each epoch
        self.png_path = Path(png_path)  # loss.png
        self.title = title  # the plot's title, e.g. the run folder

    def on_epoch_end(self, epoch, logs=None):
        plot_loss_curves(read_history(self.history_csv), self.png_path, self.title)


# ----------------------------------------------------------------------------------------------
# The resumable backup.

@dataclasses.dataclass
class BackupState:
    """What backup/state.json says: where training stands and which files hold its state."""

    epoch: int  # the epoch to continue with, from 0 (equals the epochs done when step is 0)
    step: int  # steps of that epoch already trained (0: start the epoch from its first batch)
    weights_file: str  # name in the backup folder of the weights and optimizer variables
    extra_file: str  # name of the .npz with metric and random-generator states
    best_value: float | None  # the lowest monitored loss so far (for best.keras)
    best_epoch: int | None  # the epoch of best_value, from 0


def read_backup_state(backup_dir: Path) -> BackupState | None:
    """The state recorded in `backup_dir`, None when there is none, UserError when damaged."""
    path = Path(backup_dir) / BACKUP_STATE_FILE
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
        state = BackupState(**values)
    except FileNotFoundError:
        return None
    except (ValueError, TypeError) as error:
        raise damaged_backup(backup_dir, f"{path.name}: {error}") from None
    for name in (state.weights_file, state.extra_file):
        if not (Path(backup_dir) / name).is_file():
            raise damaged_backup(backup_dir, f"{name} is missing")
    return state


def damaged_backup(backup_dir: Path, detail: str) -> UserError:
    return UserError(f"the backup in {backup_dir} is damaged ({detail}); delete that folder to "
                     "train this run again from its first epoch, or pass a new --run-dir")


def extra_variables(model) -> tuple[list, list]:
    """(metric variables, random-generator states): the training state outside the weights."""
    weight_ids = {id(variable) for variable in model.weights}
    seed_states = [variable for variable in model.variables if id(variable) not in weight_ids]
    return list(model.metrics_variables), seed_states


def extra_state_arrays(model) -> dict:
    """The metric and random-generator states of `model`, as arrays named metric_i and seed_i.

    Under MultiWorkerMirroredStrategy reading a metric variable sums it over the workers (a
    collective operation), so every worker must call this at the same point.
    """
    metrics, seeds = extra_variables(model)
    arrays = {f"metric_{index}": np.asarray(variable.numpy())
              for index, variable in enumerate(metrics)}
    arrays.update({f"seed_{index}": np.asarray(variable.numpy())
                   for index, variable in enumerate(seeds)})
    return arrays


def save_arrays(arrays: dict, path: Path) -> None:
    """Write named arrays to an .npz file, atomically."""
    with replacing(path) as temporary:
        with open(temporary, "wb") as file:
            np.savez(file, **arrays)


def load_extra_state(model, path: Path, part: str) -> bool:
    """Assign the saved `part` ("metric" or "seed") variables; False when they do not match."""
    metrics, seeds = extra_variables(model)
    variables = metrics if part == "metric" else seeds
    with np.load(path) as arrays:
        saved = [arrays[f"{part}_{index}"] for index in range(len(variables))
                 if f"{part}_{index}" in arrays]
        count = sum(1 for name in arrays.files if name.startswith(f"{part}_"))
    if count != len(variables) or any(value.shape != tuple(variable.shape)
                                      for value, variable in zip(saved, variables)):
        return False
    for variable, value in zip(variables, saved):
        variable.assign(value)
    return True


def restore_backup(model, backup_dir: Path, state: BackupState) -> None:
    """Load the weights, optimizer variables and random-generator states saved in the backup.

    Call inside the strategy scope, after the model is built and compiled. The metric states
    are restored separately (`load_extra_state(..., "metric")`) once the resumed epoch begins,
    because `fit` resets metrics at every epoch start.
    """
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    try:
        model.load_weights(Path(backup_dir) / state.weights_file)
    except (OSError, ValueError) as error:
        raise UserError(f"cannot load the backup {Path(backup_dir) / state.weights_file} into "
                        f"this model ({' '.join(str(error).split())[:300]}); was the model "
                        "changed? pass a new --run-dir") from None
    load_extra_state(model, Path(backup_dir) / state.extra_file, "seed")


class StepBackup(keras.callbacks.Callback):
    """Keep the resumable training state in `backup_dir`: every `save_every_steps` steps (None:
    never inside an epoch) and at every epoch end.

    Like keras.callbacks.BackupAndRestore (Keras 3.15) it saves the weights with the optimizer
    variables, but it also (1) records the step reached inside the epoch, which
    `fit_with_recovery` uses to skip the batches already trained (BackupAndRestore restarts the
    epoch from its first batch, so a resumed run trains those batches twice), (2) saves the
    metric states, so the resumed epoch reports the same loss as an uninterrupted one, and the
    random-generator states (dropout), and (3) never leaves an inconsistent backup: each save
    writes new files, then replaces state.json, which names them, atomically, then deletes the
    old files. Under MultiWorkerMirroredStrategy every worker must run it (saving reads
    variables collectively); the workers other than the chief give it a scratch folder.
    """

    def __init__(self, backup_dir: Path, *, save_every_steps: int | None, steps_per_epoch: int,
                 best: BestSoFar, last_model: Path, step_offset: int = 0,
                 restore_metrics_from: Path | None = None):
        super().__init__()
        self.backup_dir = Path(backup_dir)  # run_dir/backup
        self.save_every_steps = save_every_steps  # None: at epoch ends only
        self.steps_per_epoch = steps_per_epoch  # batches in a full epoch
        self.best = best  # the lowest monitored loss, saved with the state
        self.step_offset = step_offset  # steps of the first epoch done before this fit call
        self.last_model = Path(last_model)  # the run's last.keras, named in nan messages
        self.restore_metrics_from = restore_metrics_from  # .npz to load when the first epoch begins
        self.first_epoch = None  # the epoch this fit call starts with (the offset applies to it)
        self.epoch = 0  # the epoch in progress, from 0
        self.steps_since_save = 0  # steps trained since the last save

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        if self.first_epoch is not None:
            return
        self.first_epoch = epoch
        if self.restore_metrics_from is not None:
            if not load_extra_state(self.model, self.restore_metrics_from, "metric"):
                print("note: the backup's metric states do not fit this model; the loss shown "
                      "for this epoch covers only the steps after the resume", flush=True)

    def on_train_batch_end(self, batch, logs=None):
        offset = self.step_offset if self.epoch == self.first_epoch else 0
        steps_done = batch + 1 + offset
        self.steps_since_save += 1
        if (self.save_every_steps and self.steps_since_save >= self.save_every_steps
                and steps_done < self.steps_per_epoch):
            self.save(self.epoch, steps_done)

    def on_epoch_end(self, epoch, logs=None):
        self.save(epoch + 1, 0)

    def save(self, epoch: int, step: int) -> None:
        """Write the state reached after `step` steps of `epoch` (step 0: the epoch's start)."""
        self.steps_since_save = 0
        seen_epoch, seen_step = (epoch - 1, None) if step == 0 else (epoch, step)
        require_finite(first_nonfinite_weight(self.model), "a weight", seen_epoch, seen_step,
                       self.last_model)
        name = f"state-e{epoch}-s{step}"
        atomic_save_weights(self.model, self.backup_dir / f"{name}.weights.h5")
        save_arrays(extra_state_arrays(self.model), self.backup_dir / f"{name}.npz")
        state = BackupState(epoch, step, f"{name}.weights.h5", f"{name}.npz",
                            self.best.value, self.best.epoch)
        atomic_write_json(self.backup_dir / BACKUP_STATE_FILE, dataclasses.asdict(state))
        remove_stale_backup_files(self.backup_dir, keep={state.weights_file, state.extra_file})


def remove_stale_backup_files(backup_dir: Path, keep: set) -> None:
    """Delete the backup's state-* files other than `keep` (left by earlier saves or kills)."""
    for path in Path(backup_dir).iterdir():
        is_state_file = path.name.startswith(("state-", ".tmp-state-"))
        if is_state_file and path.name not in keep:
            path.unlink(missing_ok=True)
