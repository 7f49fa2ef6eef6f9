"""The run folder (`--run-dir`): which files live there, its run.json, and its lock.

    run_dir/
        run.json        the settings of the command that started the run (see below)
        backup/         the training state to resume from: state.json, which names the
                        state-*.weights.h5 (weights and optimizer) and state-*.npz (metric and
                        random-generator states) written with it; replaced every
                        --save-every-steps steps and at the end of every epoch
        last.keras      the whole model (optimizer included) at the end of the latest epoch
        best.keras      the whole model at the end of the epoch with the lowest validation loss
                        (training loss when there is no validation data)
        history.csv     one row per epoch: epoch (from 0), loss, val_loss, other metrics
        loss.png        training and validation loss per epoch
        .lock           held while a process trains in this folder

run.json holds {"settings": {...}, "created": ..., "tensorflow": ..., "keras": ...}. A command
may resume a run only when its settings equal the recorded ones, apart from the names in
`may_change` (by default those that cannot change the result of a step, plus --epochs so that
a finished run can be trained longer); otherwise it is refused with a UserError that lists the
differences, so that two different commands never silently mix in one folder. A setting added
to a program after a run was recorded is compared, when the record lacks it, with the value
given in `added` (the one the older runs trained with), and recorded when the run resumes.
"""
import contextlib
import dataclasses
import datetime
import importlib.metadata
import json
import os
from pathlib import Path

from apps.common.atomic import atomic_write_json
from apps.common.errors import UserError

# Settings that may differ when resuming: they do not change what a training step computes.
RESUMABLE_CHANGES = ("epochs", "no_progress", "logdir", "save_every_steps", "run_dir")


@dataclasses.dataclass(frozen=True)
class RunFiles:
    """The paths of one run folder; nothing is created by making one."""

    run_dir: Path  # the run folder itself (--run-dir)

    @property
    def run_json(self) -> Path:
        return self.run_dir / "run.json"

    @property
    def backup_dir(self) -> Path:
        return self.run_dir / "backup"

    @property
    def last_model(self) -> Path:
        return self.run_dir / "last.keras"

    @property
    def best_model(self) -> Path:
        return self.run_dir / "best.keras"

    @property
    def history_csv(self) -> Path:
        return self.run_dir / "history.csv"

    @property
    def loss_plot(self) -> Path:
        return self.run_dir / "loss.png"

    @property
    def lock_file(self) -> Path:
        return self.run_dir / ".lock"


def json_ready(settings: dict) -> dict:
    """`settings` as it reads back from JSON: tuples become lists, paths and others strings."""
    return json.loads(json.dumps(settings, default=str, sort_keys=True))


def read_run_record(path: Path) -> dict | None:
    """The content of a run.json, or None when there is none."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        raise UserError(f"{path} is not valid JSON ({error}); restore it, or pass a new "
                        "--run-dir") from None
    if not isinstance(record, dict) or not isinstance(record.get("settings"), dict):
        raise UserError(f"{path} has no \"settings\" object, so it was not written by this "
                        "program; pass a new --run-dir")
    return record


def settings_differences(recorded: dict, current: dict, may_change=RESUMABLE_CHANGES,
                         added=None) -> list:
    """`name: <recorded> there, <current> now` for each setting that differs and may not.
    `added`: {name: value} of settings newer than some records; a record without one of them
    counts as holding that value."""
    recorded = {**(added or {}), **recorded}
    differences = []
    for name in sorted(set(recorded) | set(current)):
        if name in may_change:
            continue
        before, now = _shown(recorded, name), _shown(current, name)
        if before != now:
            differences.append(f"{name}: {before} there, {now} now")
    return differences


def _shown(settings: dict, name: str) -> str:
    return json.dumps(settings[name]) if name in settings else "(unset)"


def check_run_settings(files: RunFiles, settings: dict, *, may_change=RESUMABLE_CHANGES,
                       added=None, write: bool = True) -> bool:
    """Refuse (UserError) to reuse `files.run_dir` for different settings; record them.

    Returns True when the folder already belonged to a run with these settings (a resume),
    False when it is new. With write=True (the chief process) run.json is written atomically:
    created for a new run, updated when a setting in `may_change` differs.
    """
    current = json_ready(settings)
    record = read_run_record(files.run_json)
    if record is None:
        refuse_foreign_folder(files)
        if write:
            atomic_write_json(files.run_json, new_run_record(current))
        return False
    differences = settings_differences(record["settings"], current, may_change, added)
    if differences:
        raise UserError(f"{files.run_json} was written by a different command "
                        f"({'; '.join(differences)}); rerun with the original settings to "
                        "resume, or pass a new --run-dir")
    if write and record["settings"] != current:
        record.update(settings=current, updated=now_text())
        atomic_write_json(files.run_json, record)
    return True


def refuse_foreign_folder(files: RunFiles) -> None:
    """UserError when a folder without run.json already holds files (not a run folder)."""
    if not files.run_dir.is_dir():
        return
    visible = sorted(entry.name for entry in files.run_dir.iterdir()
                     if not entry.name.startswith("."))
    if visible:
        raise UserError(f"{files.run_dir} already holds files ({', '.join(visible[:3])}"
                        f"{', ...' if len(visible) > 3 else ''}) but no run.json, so it is not "
                        "a run folder of this program; pass a new or empty --run-dir")


def new_run_record(settings: dict) -> dict:
    """run.json's content for a new run: the settings and the library versions."""
    record = {"settings": settings, "created": now_text()}
    for package in ("tensorflow", "keras"):
        try:
            record[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            record[package] = "not installed"
    return record


def check_distinct_runs(run_dirs) -> None:
    """UserError when a run folder is given twice to an ensemble (`--run-dir` more than once),
    which combines different runs."""
    seen = set()
    for run_dir in run_dirs:
        where = Path(run_dir).resolve()
        if where in seen:
            raise UserError(f"--run-dir {run_dir} is given twice; an ensemble combines "
                            "different runs")
        seen.add(where)


def now_text() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


@contextlib.contextmanager
def locked(files: RunFiles):
    """Hold the run folder's lock (created if missing) for the `with` block, or UserError.

    The lock is an flock on run_dir/.lock, so the system drops it when the process dies, even
    by SIGKILL. Where flock does not exist (Windows) nothing is locked.
    """
    try:
        import fcntl
    except ImportError:
        yield
        return
    files.run_dir.mkdir(parents=True, exist_ok=True)
    with open(files.lock_file, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise UserError(f"{files.run_dir} is in use by another training process (pid "
                            f"{holder}); wait for it to end, or pass another --run-dir") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
