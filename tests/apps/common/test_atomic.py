"""apps.common.atomic: a target is the complete old or the complete new file, never partial."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.common import atomic

REPO_ROOT = Path(__file__).resolve().parents[3]


def leftovers(folder: Path) -> list:
    return sorted(path.name for path in folder.iterdir() if path.name.startswith(".tmp-"))


@settings(max_examples=25, deadline=None)
@given(old=st.binary(max_size=2000), new=st.binary(max_size=2000))
def test_atomic_write_bytes_replaces_the_content_and_leaves_no_temporary_file(tmp_path_factory,
                                                                               old, new):
    folder = tmp_path_factory.mktemp("atomic")
    target = folder / "data.bin"
    atomic.atomic_write_bytes(target, old)
    atomic.atomic_write_bytes(target, new)
    assert target.read_bytes() == new
    assert leftovers(folder) == []


def test_a_write_that_fails_midway_keeps_the_old_file_and_removes_its_temporary(tmp_path,
                                                                                 monkeypatch):
    target = tmp_path / "run.json"
    atomic.atomic_write_text(target, "old complete content\n")

    def failing_sync(path):
        assert Path(path).read_bytes().startswith(b"new")  # the new bytes were being written
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(atomic, "sync_file", failing_sync)
    with pytest.raises(OSError, match="No space left"):
        atomic.atomic_write_text(target, "new content that never lands\n")
    assert target.read_text() == "old complete content\n"
    assert leftovers(tmp_path) == []


def test_a_failing_rename_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "loss.png"
    atomic.atomic_write_bytes(target, b"old")
    monkeypatch.setattr(atomic.os, "replace", lambda *args: (_ for _ in ()).throw(
        PermissionError(13, "Permission denied")))
    with pytest.raises(PermissionError):
        atomic.atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old" and leftovers(tmp_path) == []


def test_atomic_write_creates_missing_folders_and_keeps_the_suffixes_in_the_temporary_name(
        tmp_path):
    atomic.atomic_write_json(tmp_path / "a" / "b" / "state.json", {"epoch": 1})
    assert (tmp_path / "a" / "b" / "state.json").read_text() == '{\n  "epoch": 1\n}\n'
    temporary = atomic.temporary_path_for(tmp_path / "last.weights.h5")
    assert temporary.parent == tmp_path and temporary.name.endswith(".weights.h5")
    assert temporary.name.startswith(".tmp-last-")


def test_atomic_save_model_failing_midway_keeps_the_old_model_file(tmp_path):
    class HalfSavingModel:
        def save(self, path):
            Path(path).write_bytes(b"PK\x03\x04 half a zip")
            raise OSError(5, "Input/output error")

    class SavingModel:
        def save(self, path):
            assert str(path).endswith(".keras")
            Path(path).write_bytes(b"complete model")

    target = tmp_path / "last.keras"
    atomic.atomic_save_model(SavingModel(), target)
    with pytest.raises(OSError):
        atomic.atomic_save_model(HalfSavingModel(), target)
    assert target.read_bytes() == b"complete model" and leftovers(tmp_path) == []
    with pytest.raises(ValueError, match=".keras"):
        atomic.atomic_save_model(SavingModel(), tmp_path / "model.h5")


WRITER = """
import sys
from apps.common.atomic import atomic_write_bytes
target, size = sys.argv[1], int(sys.argv[2])
atomic_write_bytes(target, bytes([0]) * size)
print("ready", flush=True)
round_number = 0
while True:
    round_number += 1
    atomic_write_bytes(target, bytes([round_number % 256]) * size)
"""


def test_sigkill_during_repeated_writes_leaves_a_complete_file(tmp_path):
    target, size = tmp_path / "big.bin", 2_000_000
    for attempt in range(3):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(target), str(size)],
                                  cwd=REPO_ROOT, stdout=subprocess.PIPE)
        try:
            assert writer.stdout.readline() == b"ready\n"
            time.sleep(0.2 + 0.15 * attempt)
        finally:
            os.kill(writer.pid, signal.SIGKILL)
            writer.wait(timeout=30)
            writer.stdout.close()
        data = target.read_bytes()
        assert len(data) == size and data == data[:1] * size  # one complete round, not a mix
