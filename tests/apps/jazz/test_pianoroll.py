"""pianoroll: a PNG piano roll is written atomically and refuses to overwrite."""
import pytest

from apps.jazz.midi_io import NoteEvent
from apps.jazz.pianoroll import save_pianoroll

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EVENTS = [NoteEvent(60, 0.0, 1.0), NoteEvent(None, 1.0, 1.0), NoteEvent(67, 2.0, 0.5),
          NoteEvent(72, 5.5, 3.0)]


def test_save_pianoroll_writes_a_png_and_nothing_else(tmp_path):
    path = save_pianoroll(EVENTS, tmp_path / "roll.png", title="test solo")
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    assert [item.name for item in tmp_path.iterdir()] == ["roll.png"]


def test_save_pianoroll_refuses_to_overwrite_without_force(tmp_path):
    path = tmp_path / "roll.png"
    path.write_bytes(b"keep")
    with pytest.raises(FileExistsError, match="--force"):
        save_pianoroll(EVENTS, path)
    assert path.read_bytes() == b"keep"
    save_pianoroll(EVENTS, path, force=True)
    assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_save_pianoroll_needs_at_least_one_note(tmp_path):
    with pytest.raises(ValueError, match="no notes"):
        save_pianoroll([NoteEvent(None, 0.0, 1.0)], tmp_path / "empty.png")
