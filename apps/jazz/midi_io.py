"""Reading, checking and writing MIDI files for the jazz app.

Reading uses `mido`, not music21: a Weimar Jazz Database solo is one track of
a few hundred notes, and mido reads it in milliseconds, where music21's MIDI
translation takes about a second per file.

Method of `read_monophonic`:

1. `validate_midi` opens the file with mido and collects every note, pairing
   each note-on with the earliest open note-off of the same channel and pitch
   (a note left open is closed at the end of its track).  Notes are grouped by
   (track, channel); channel 10 (index 9) is General MIDI percussion and is
   never melody.
2. The melody line is the non-drum group with the most notes in the piano
   range 21..108 (ties: the earlier track).
3. The line is made monophonic by the "skyline" rule: of notes that start
   together the highest is kept, and a note that is still sounding when the
   next one starts is cut at that onset (legato overlaps are common in
   performed solos).  Silences between notes become rest events.

Times are in quarter notes (MIDI ticks / ticks per beat), so they follow the
file's beat grid whatever its tempo.  In the WJazzD files that grid is a
constant average tempo laid over a performance: the fraction of a beat at which
notes start is spread uniformly, so absolute bar and beat positions carry no
metric meaning there, while durations and inter-onset intervals do.

Writing (`write_midi`) accepts either a list of `NoteEvent` (one melody track,
written with mido) or a music21 stream (written with music21), and always goes
through a temporary file in the destination folder followed by `os.replace`,
so a reader never sees a half-written file.  It refuses to replace an existing
file unless ``force=True``.
"""
from __future__ import annotations

import contextlib
import copy
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import mido

from apps.common.atomic import replacing
from apps.jazz.errors import JazzDataError

LOWEST_PITCH = 21    # A0, the lowest piano key
HIGHEST_PITCH = 108  # C8, the highest piano key
DRUM_CHANNEL = 9     # "channel 10" in the 1-based numbering of the MIDI standard
DEFAULT_TEMPO_BPM = 120.0
WRITE_TICKS_PER_BEAT = 480


@dataclass(frozen=True)
class NoteEvent:
    """One note or rest of a melody; times in quarter notes."""

    pitch: int | None  # MIDI note number, or None for a rest
    onset: float
    duration: float

    @property
    def is_rest(self) -> bool:
        return self.pitch is None

    @property
    def end(self) -> float:
        return self.onset + self.duration


@dataclass(frozen=True)
class _RawNote:
    pitch: int
    start_tick: int
    end_tick: int


# ----------------------------------------------------------------------------
# validation


def _read_midi_file(path: Path) -> mido.MidiFile:
    if not path.exists():
        raise JazzDataError("file not found", path)
    if not path.is_file():
        raise JazzDataError("not a file", path, "it is a directory or a special file")
    try:
        with path.open("rb") as handle:
            header = handle.read(4)
    except OSError as error:
        raise JazzDataError("cannot read file", path, error.strerror or str(error)) from error
    if not header:
        raise JazzDataError("not a MIDI file", path, "file is empty, 0 bytes")
    if header != b"MThd":
        raise JazzDataError("not a MIDI file", path, "no MThd header")
    try:
        midi_file = mido.MidiFile(path)
    except Exception as error:  # mido raises OSError, EOFError, ValueError, KeyError... on bad bytes
        raise JazzDataError("not a MIDI file", path,
                            f"unreadable: {type(error).__name__}: {error}") from error
    if midi_file.ticks_per_beat <= 0:
        raise JazzDataError("not a MIDI file", path,
                            f"ticks per beat is {midi_file.ticks_per_beat}, expected a positive number")
    return midi_file


def _notes_of_track(track: mido.MidiTrack) -> dict[int, list[_RawNote]]:
    """Notes of one track, by channel; each note-off closes the earliest open note of its pitch."""
    open_notes: dict[tuple[int, int], list[int]] = {}
    notes: dict[int, list[_RawNote]] = {}
    tick = 0
    for message in track:
        tick += message.time
        if message.type not in ("note_on", "note_off"):
            continue
        key = (message.channel, message.note)
        if message.type == "note_on" and message.velocity > 0:
            open_notes.setdefault(key, []).append(tick)
        elif open_notes.get(key):
            start = open_notes[key].pop(0)
            notes.setdefault(message.channel, []).append(_RawNote(message.note, start, tick))
    for (channel, pitch), starts in open_notes.items():
        for start in starts:
            notes.setdefault(channel, []).append(_RawNote(pitch, start, tick))
    return notes


def _note_groups(midi_file: mido.MidiFile) -> dict[tuple[int, int], list[_RawNote]]:
    groups = {}
    for track_index, track in enumerate(midi_file.tracks):
        for channel, notes in _notes_of_track(track).items():
            groups[(track_index, channel)] = notes
    return groups


def _in_piano_range(note: _RawNote) -> bool:
    return LOWEST_PITCH <= note.pitch <= HIGHEST_PITCH


def _check_note_groups(groups: dict[tuple[int, int], list[_RawNote]], path: Path) -> None:
    if not any(groups.values()):
        raise JazzDataError("empty MIDI (no tracks with notes)", path)
    melodic = {key: notes for key, notes in groups.items() if key[1] != DRUM_CHANNEL and notes}
    if not melodic:
        raise JazzDataError("drum-only MIDI", path, "every note is on channel 10, the percussion channel")
    if not any(_in_piano_range(note) for notes in melodic.values() for note in notes):
        raise JazzDataError(f"no notes in range {LOWEST_PITCH}..{HIGHEST_PITCH}", path)


def _load_checked(path: str | os.PathLike) -> tuple[mido.MidiFile, dict[tuple[int, int], list[_RawNote]]]:
    path = Path(path)
    midi_file = _read_midi_file(path)
    groups = _note_groups(midi_file)
    _check_note_groups(groups, path)
    return midi_file, groups


def validate_midi(path: str | os.PathLike) -> mido.MidiFile:
    """Check that `path` is a MIDI file with non-drum notes in 21..108; return it opened with mido.

    Raises `JazzDataError` (one line naming the file) for: a missing path, a
    file that is not MIDI (empty, no MThd header, or unreadable), a MIDI file
    without notes, one with drum notes only, or one with no notes in range.
    """
    midi_file, _ = _load_checked(path)
    return midi_file


# ----------------------------------------------------------------------------
# reading


def _melody_notes(groups: dict[tuple[int, int], list[_RawNote]]) -> list[_RawNote]:
    candidates = []
    for (track_index, channel), notes in groups.items():
        if channel == DRUM_CHANNEL:
            continue
        in_range = [note for note in notes if _in_piano_range(note)]
        candidates.append((len(in_range), -track_index, -channel, in_range))
    return max(candidates, key=lambda candidate: candidate[:3])[3]


def _skyline(notes: Sequence[_RawNote]) -> list[_RawNote]:
    """Keep the highest of notes starting together and cut each note at the next onset."""
    by_onset = sorted(notes, key=lambda note: (note.start_tick, -note.pitch))
    starts = []
    for note in by_onset:
        if not starts or note.start_tick != starts[-1].start_tick:
            starts.append(note)
    line = []
    for index, note in enumerate(starts):
        end = note.end_tick
        if index + 1 < len(starts):
            end = min(end, starts[index + 1].start_tick)
        line.append(_RawNote(note.pitch, note.start_tick, max(end, note.start_tick)))
    return line


def _to_events(line: Sequence[_RawNote], ticks_per_beat: int) -> list[NoteEvent]:
    events = []
    for index, note in enumerate(line):
        if note.end_tick > note.start_tick:
            events.append(NoteEvent(note.pitch, note.start_tick / ticks_per_beat,
                                    (note.end_tick - note.start_tick) / ticks_per_beat))
        if index + 1 < len(line) and line[index + 1].start_tick > note.end_tick:
            gap = line[index + 1].start_tick - note.end_tick
            events.append(NoteEvent(None, note.end_tick / ticks_per_beat, gap / ticks_per_beat))
    return events


def read_monophonic(path: str | os.PathLike) -> list[NoteEvent]:
    """The melody line of a MIDI file as notes and rests (quarter-note times), from the first note on.

    The melody is the non-drum track/channel with the most notes in 21..108,
    made monophonic by keeping the top note (see the module docstring).
    Raises `JazzDataError` for any unusable file.
    """
    midi_file, groups = _load_checked(path)
    line = _skyline(_melody_notes(groups))
    events = _to_events(line, midi_file.ticks_per_beat)
    if not any(not event.is_rest for event in events):
        raise JazzDataError("no notes with a duration", Path(path),
                            "every note in the melody track ends where it starts")
    return events


# ----------------------------------------------------------------------------
# writing


@contextlib.contextmanager
def atomic_destination(path: str | os.PathLike, *, force: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it replaces `path` (apps.common.atomic).

    Raises FileExistsError when `path` exists and `force` is false.
    """
    destination = Path(path)
    if destination.exists() and not force:
        raise FileExistsError(f"{destination} already exists; use --force to overwrite it")
    with replacing(destination) as temporary:
        yield temporary


def _events_to_midi_file(events: Sequence[NoteEvent], tempo_bpm: float, program: int,
                         velocity: int) -> mido.MidiFile:
    ticks = WRITE_TICKS_PER_BEAT
    timed = []  # (tick, order, message); order puts note-offs before note-ons at the same tick
    for event in events:
        if event.is_rest:
            continue
        start = round(event.onset * ticks)
        end = max(round(event.end * ticks), start + 1)
        timed.append((start, 1, mido.Message("note_on", note=event.pitch, velocity=velocity)))
        timed.append((end, 0, mido.Message("note_off", note=event.pitch, velocity=0)))
    timed.sort(key=lambda item: (item[0], item[1]))
    track = mido.MidiTrack([
        mido.MetaMessage("track_name", name="Melody", time=0),
        mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo_bpm), time=0),
        mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0),
        mido.Message("program_change", program=program, time=0),
    ])
    previous_tick = 0
    for tick, _, message in timed:
        track.append(message.copy(time=tick - previous_tick))
        previous_tick = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    midi_file = mido.MidiFile(type=1, ticks_per_beat=ticks)
    midi_file.tracks.append(track)
    return midi_file


def _check_events(events: Sequence[NoteEvent]) -> None:
    for event in events:
        if not isinstance(event, NoteEvent):
            raise ValueError(f"expected NoteEvent items or a music21 stream, got an item of type "
                             f"{type(event).__name__}")
        if event.pitch is not None and not 0 <= event.pitch <= 127:
            raise ValueError(f"MIDI pitch must be in 0..127, got {event.pitch}")
        if event.onset < 0 or event.duration < 0:
            raise ValueError(f"onset and duration must be non-negative, got {event}")


def _stream_with_tempo(music_stream, tempo_bpm: float | None):
    """A copy of the stream whose only tempo mark is `tempo_bpm` at offset 0 (None: unchanged)."""
    from music21 import tempo

    if tempo_bpm is None:
        return music_stream
    result = copy.deepcopy(music_stream)
    for mark in list(result.recurse().getElementsByClass(tempo.MetronomeMark)):
        mark.activeSite.remove(mark)
    result.insert(0, tempo.MetronomeMark(number=tempo_bpm))
    return result


def _stream_to_bytes(music_stream, tempo_bpm: float | None) -> bytes:
    from music21 import midi as music21_midi

    midi_file = music21_midi.translate.streamToMidiFile(_stream_with_tempo(music_stream, tempo_bpm))
    return midi_file.writestr()


def write_midi(events_or_stream, path: str | os.PathLike, *, tempo_bpm: float | None = None,
               force: bool = False, program: int = 0, velocity: int = 90) -> Path:
    """Write note events (one melody track) or a music21 stream to `path` atomically; return the path.

    tempo_bpm: for events, the tempo to write (None: 120); for a stream, None
    keeps the stream's own tempo marks and a number replaces them.
    program/velocity apply to events only.  Refuses to overwrite an existing
    file unless `force` (FileExistsError).
    """
    if tempo_bpm is not None and not tempo_bpm > 0:
        raise ValueError(f"tempo_bpm must be a positive number of beats per minute, got {tempo_bpm!r}")
    if not 0 <= program <= 127 or not 1 <= velocity <= 127:
        raise ValueError(f"program must be in 0..127 and velocity in 1..127, got {program} and {velocity}")
    if hasattr(events_or_stream, "recurse"):
        data = _stream_to_bytes(events_or_stream, tempo_bpm)
        with atomic_destination(path, force=force) as temporary:
            temporary.write_bytes(data)
        return Path(path)
    events = list(events_or_stream)
    _check_events(events)
    midi_file = _events_to_midi_file(events, tempo_bpm or DEFAULT_TEMPO_BPM, program, velocity)
    with atomic_destination(path, force=force) as temporary:
        midi_file.save(temporary)
    return Path(path)
