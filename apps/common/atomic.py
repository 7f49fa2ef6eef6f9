"""Writing files so that a reader never sees a partial one.

Every helper writes to a temporary file in the target's own folder (same file system, so the
final rename is atomic), flushes it to disk, and then `os.replace`s the target. If the process
dies or the write fails at any point, the target is either the complete old file or the complete
new one, never a mixture; a failed write removes its temporary file and re-raises. A process
killed with SIGKILL can leave a `.tmp-*` file behind in the folder; it is never read, and the
next successful write of the same target does not depend on it.

Temporary names start with `.tmp-` and keep the target's suffix (Keras insists on `.keras` or
`.weights.h5`), e.g. `runs/x/.tmp-last-4711.keras` for `runs/x/last.keras`.
"""
import contextlib
import json
import os
from pathlib import Path


def temporary_path_for(path: Path) -> Path:
    """A temporary file name beside `path`, unique to this process, with the same suffixes."""
    path = Path(path)
    suffixes = "".join(path.suffixes)
    stem = path.name[: len(path.name) - len(suffixes)] if suffixes else path.name
    return path.with_name(f".tmp-{stem}-{os.getpid()}{suffixes}")


def sync_file(path: Path) -> None:
    """Flush a written file's contents to disk (so that a rename after it is durable)."""
    with open(path, "rb") as file:
        os.fsync(file.fileno())


def sync_folder(folder: Path) -> None:
    """Flush a folder's entries (the rename) to disk; a no-op where folders cannot be opened."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


@contextlib.contextmanager
def replacing(path: str | os.PathLike):
    """Yield a temporary path to write; on success it replaces `path`, on failure it is removed.

    The folder of `path` is created if missing.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_path_for(path)
    try:
        yield temporary
        sync_file(temporary)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise
    sync_folder(path.parent)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` atomically (old content or new content, never a partial file)."""
    with replacing(path) as temporary:
        with open(temporary, "wb") as file:
            file.write(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write `text` (UTF-8) to `path` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, value) -> None:
    """Write `value` as indented JSON (keys sorted, a final newline) to `path` atomically."""
    atomic_write_text(path, json.dumps(value, indent=2, sort_keys=True) + "\n")


def atomic_save_model(model, path: str | os.PathLike) -> None:
    """`model.save(path)` atomically; `path` ends in `.keras` (whole model, optimizer too)."""
    if not str(path).endswith(".keras"):
        raise ValueError(f"atomic_save_model writes .keras files; got {path}")
    with replacing(path) as temporary:
        model.save(temporary)


def atomic_save_weights(model, path: str | os.PathLike) -> None:
    """`model.save_weights(path)` atomically; `path` must end in `.weights.h5`.

    Keras 3 writes the optimizer's variables into the same file, so this is a full backup of
    the training state apart from metric and random-generator states.
    """
    if not str(path).endswith(".weights.h5"):
        raise ValueError(f"atomic_save_weights writes .weights.h5 files; got {path}")
    with replacing(path) as temporary:
        model.save_weights(temporary)
