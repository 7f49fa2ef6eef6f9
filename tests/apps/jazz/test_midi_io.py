"""midi_io: bad input gives one-line JazzDataErrors naming the file; reading and writing MIDI."""
import tempfile
from pathlib import Path

import mido
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.jazz.errors import JazzDataError
from apps.jazz.midi_io import NoteEvent, read_monophonic, validate_midi, write_midi
from tests.apps.jazz.conftest import write_mido_file

READERS = [validate_midi, read_monophonic]


def assert_one_line_error_naming(error_info, path, reason_words):
    message = str(error_info.value)
    assert "\n" not in message
    assert str(path) in message
    assert reason_words in message


def drums_only_file(path):
    return write_mido_file(path, [(36, 0, 1), (38, 1, 1)], channel=9)


def no_notes_file(path):
    midi_file = mido.MidiFile()
    midi_file.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500000, time=0)]))
    midi_file.save(path)
    return path


def bytes_file(data):
    def make(path):
        path.write_bytes(data)
        return path
    return make


BAD_FILES = {
    "missing": (lambda path: path, "file not found"),
    "empty_file": (bytes_file(b""), "not a MIDI file"),
    "random_bytes": (bytes_file(bytes(range(7, 256)) * 2), "not a MIDI file"),
    "truncated_after_header": (bytes_file(b"MThd\x00\x00\x00\x06\x00\x01"), "not a MIDI file"),
    "drums_only": (drums_only_file, "drum-only MIDI"),
    "no_notes": (no_notes_file, "empty MIDI (no tracks with notes)"),
    "notes_out_of_range": (lambda path: write_mido_file(path, [(10, 0, 1), (120, 1, 1)]),
                           "no notes in range 21..108"),
}


@pytest.mark.parametrize("reader", READERS, ids=lambda reader: reader.__name__)
@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_every_bad_input_gives_a_one_line_jazz_data_error_naming_the_file(tmp_path, case, reader):
    make, reason = BAD_FILES[case]
    path = tmp_path / f"{case}.mid"
    make(path)
    with pytest.raises(JazzDataError) as error_info:
        reader(path)
    assert_one_line_error_naming(error_info, path, reason)


def test_a_directory_is_not_a_midi_file(tmp_path):
    with pytest.raises(JazzDataError) as error_info:
        validate_midi(tmp_path)
    assert_one_line_error_naming(error_info, tmp_path, "not a file")


def test_jazz_data_error_is_a_value_error_with_reason_and_path(tmp_path):
    with pytest.raises(ValueError) as error_info:
        validate_midi(tmp_path / "nothing.mid")
    assert error_info.value.reason == "file not found"
    assert error_info.value.path == str(tmp_path / "nothing.mid")


def test_read_monophonic_keeps_the_top_note_cuts_overlaps_and_adds_rests(tmp_path):
    path = write_mido_file(tmp_path / "line.mid", [(60, 0, 1.5), (64, 0, 0.5), (67, 1, 1), (65, 3, 1)])
    assert read_monophonic(path) == [
        NoteEvent(64, 0.0, 0.5), NoteEvent(None, 0.5, 0.5), NoteEvent(67, 1.0, 1.0),
        NoteEvent(None, 2.0, 1.0), NoteEvent(65, 3.0, 1.0)]


def test_read_monophonic_picks_the_track_with_most_notes_and_ignores_drums(tmp_path):
    midi_file = mido.MidiFile()
    for channel, pitches in ((9, [36] * 8), (0, [60, 62]), (1, [70, 72, 74])):
        track = mido.MidiTrack()
        for pitch in pitches:
            track += [mido.Message("note_on", note=pitch, velocity=80, channel=channel, time=0),
                      mido.Message("note_off", note=pitch, velocity=0, channel=channel, time=480)]
        midi_file.tracks.append(track)
    midi_file.save(tmp_path / "three.mid")
    assert [event.pitch for event in read_monophonic(tmp_path / "three.mid")] == [70, 72, 74]


def test_write_midi_then_read_monophonic_gives_the_same_events(tmp_path):
    events = [NoteEvent(60, 0.0, 0.5), NoteEvent(None, 0.5, 0.25), NoteEvent(62, 0.75, 1 / 3),
              NoteEvent(64, 0.75 + 1 / 3, 2.0)]
    write_midi(events, tmp_path / "out.mid", tempo_bpm=150)
    read = read_monophonic(tmp_path / "out.mid")
    assert [event.pitch for event in read] == [event.pitch for event in events]
    for got, expected in zip(read, events):
        assert got.onset == pytest.approx(expected.onset, abs=1e-3)
        assert got.duration == pytest.approx(expected.duration, abs=1e-3)
    tempo = next(message for message in mido.MidiFile(tmp_path / "out.mid").tracks[0]
                 if message.type == "set_tempo")
    assert mido.tempo2bpm(tempo.tempo) == pytest.approx(150)


def test_write_midi_refuses_to_overwrite_without_force_and_leaves_the_file_alone(tmp_path):
    path = tmp_path / "taken.mid"
    path.write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="--force"):
        write_midi([NoteEvent(60, 0.0, 1.0)], path)
    assert path.read_bytes() == b"precious"
    write_midi([NoteEvent(60, 0.0, 1.0)], path, force=True)
    assert validate_midi(path)


def test_write_midi_leaves_no_temporary_files_even_when_it_fails(tmp_path):
    with pytest.raises(ValueError, match="pitch"):
        write_midi([NoteEvent(200, 0.0, 1.0)], tmp_path / "bad.mid")
    write_midi([NoteEvent(60, 0.0, 1.0)], tmp_path / "good.mid")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["good.mid"]


def test_write_midi_rejects_bad_arguments_with_what_it_got(tmp_path):
    with pytest.raises(ValueError, match="tempo_bpm.*got -5"):
        write_midi([NoteEvent(60, 0.0, 1.0)], tmp_path / "x.mid", tempo_bpm=-5)
    with pytest.raises(ValueError, match="got an item of type str"):
        write_midi(["p60"], tmp_path / "x.mid")


def _valid_midi_bytes():
    with tempfile.TemporaryDirectory() as folder:
        path = write_mido_file(Path(folder) / "seed.mid", [(60 + step, step / 2, 0.5) for step in range(12)])
        return path.read_bytes()


VALID_MIDI = _valid_midi_bytes()


@st.composite
def mutated_midi(draw):
    data = bytearray(VALID_MIDI)
    for _ in range(draw(st.integers(1, 8))):
        position = draw(st.integers(0, len(data) - 1))
        data[position] = draw(st.integers(0, 255))
    cut = draw(st.integers(4, len(data)))
    return bytes(data[:cut])


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(st.binary(max_size=300), mutated_midi()))
def test_random_or_mutated_bytes_raise_only_jazz_data_error(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.mid"
        path.write_bytes(data)
        for reader in READERS:
            try:
                reader(path)
            except JazzDataError as error:
                assert str(path) in str(error) and "\n" not in str(error)
