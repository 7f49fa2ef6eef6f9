"""The Coursera "Improvise a Jazz Solo with an LSTM" data pipeline, rewritten with music21.

The course (after Ji-Sung Kim's deepjazz) learns from one file, a sequenced
MIDI of Pat Metheny's "And Then I Knew", and models the guitar melody not as
pitches but as *values*: the role of each note against the chord under it,
its duration, and a window for the interval from the previous note.  This
module implements that method from its description (no code is copied).

Forward: MIDI -> values (`parse_course_midi`, `course_values`)
--------------------------------------------------------------
1. The file is checked with `validate_midi`; the tracks the course uses are
   picked by name - the melody ("Guitar"), the chord track ("Piano") and the
   accompaniment ("Piano", "Bass", "Trumpet", "French Horn", the parts the
   course plays under the solo) - and only those are translated by music21
   (with its default quantization of onsets and durations to 1/4 and 1/3 of a
   quarter note), which is four times faster than translating all 25 tracks.
2. Only the section the course uses is kept, by default quarter notes
   476..548 of the song: 18 measures of 4/4 (``section=None`` keeps the song).
3. The melody is made monophonic (top note of a double stop; a note is cut at
   the next onset and at the bar line; silences shorter than a sixteenth are
   added to the note before them; others become rests), so that the values of
   every measure tile it exactly: their durations add up to 4 quarter notes.
4. The chords are the piano's chord objects (2 or more simultaneous notes).
   The chord that governs a melody note is the last chord that started at or
   before it, carried over from earlier measures when a measure does not begin
   with a chord.
5. Each note gets a TYPE against that chord: C (its pitch class is in the
   chord), S (in the chord's scale), A (approach tone: a semitone from a chord
   tone), X (anything else); rests are R.  The chord's scale is, as in
   deepjazz, a major scale for a major chord and a dorian scale otherwise, in
   the transposition that contains the most chord tones (ties: the one built
   on the chord's root).
6. A value is ``TYPE,duration`` with the duration in quarter notes to three
   decimals (``C,0.250``, ``S,0.333``), and for every note but the first of a
   measure also ``,<max interval,min interval>``: the interval from the
   previous note of the measure plus and minus a minor third, written with
   music21's interval names (``C,0.500,<M3,m-2>`` for a step up of a major
   second).  Intervals are named from the number of semitones, so one step
   always gets one name whatever the MIDI file's enharmonic spelling.

Inverse: values -> music (`realize_values`, `values_to_stream`)
----------------------------------------------------------------
Values are laid out measure after measure against the chords of the corpus
measures (cycling through them): a measure is filled until its 4 quarter notes
are used up, a value that would cross the bar line is shortened to end on it.
For each value a pitch is drawn (seeded, reproducible) among the pitches of
the right TYPE under the current chord that lie within the value's interval
window from the previous note; without a window (or before the first note) the
pitch is drawn within a tritone of the previous note, or in the octave above
middle C at the start.  With no pitch of that type in the window the pitch is
a whole step from the previous one, as in deepjazz.  Pitches are kept within
the range of the original melody.  Then the accompaniment of those measures is
added, as the course does.

Differences from the course/deepjazz, all deliberate: values tile measures
exactly (the course's durations came from overlapping voices and did not add
up), the interval window crosses bar lines when generating, no random
rounding of durations, no rewriting of A/X values as C.
"""
from __future__ import annotations

import io
import random
from dataclasses import asdict, dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import mido

from apps.jazz.errors import JazzDataError
from apps.jazz.midi_io import DRUM_CHANNEL, NoteEvent, validate_midi

COURSE_VERSION = "course-1"
STEPS_PER_QUARTER = 12
COURSE_SECTION = (476.0, 548.0)  # quarter notes: the solo section the course trains on
MELODY_TRACK = "Guitar"
CHORD_TRACK = "Piano"
ACCOMPANIMENT_TRACKS = ("Piano", "Bass", "Trumpet", "French Horn")
MIN_REST_STEPS = 3  # a sixteenth note
GRACE_NOTE_STEPS = 3  # zero-length notes become a sixteenth, as deepjazz does
START_REGISTER = (60, 72)  # where the first generated note is drawn: the octave above middle C
TONE_TYPES = ("C", "S", "A", "X", "R")
MAJOR_STEPS = (0, 2, 4, 5, 7, 9, 11)
DORIAN_STEPS = (0, 2, 3, 5, 7, 9, 10)


# ----------------------------------------------------------------------------
# data


@dataclass(frozen=True)
class CourseChord:
    """A chord; offset and duration in steps of 1/12 quarter note from its measure's start."""

    offset: int
    duration: int
    pitches: tuple[int, ...]
    root: int       # pitch class 0..11
    quality: str    # music21's Chord.quality: "major", "minor", "diminished", "augmented", "other"

    @property
    def pitch_classes(self) -> frozenset[int]:
        return frozenset(pitch % 12 for pitch in self.pitches)

    @property
    def scale_pitch_classes(self) -> frozenset[int]:
        return chord_scale(self.pitch_classes, self.root, self.quality)


@dataclass(frozen=True)
class StepNote:
    """A note (pitch None: rest) in steps of 1/12 quarter note from its measure's start."""

    pitch: int | None
    offset: int
    duration: int
    velocity: int = 90
    part: int = 0  # index into CourseCorpus.accompaniment_parts, for accompaniment notes


@dataclass(frozen=True)
class CourseMeasure:
    number: int                              # measure number in the song, from 0
    values: tuple[str, ...]
    melody: tuple[StepNote, ...]             # notes and rests tiling the measure
    chords: tuple[CourseChord, ...]          # chords starting in this measure
    harmony: tuple[CourseChord, ...]         # chords governing it; the first is at offset 0
    accompaniment: tuple[StepNote, ...]      # notes of the accompaniment parts starting here


@dataclass(frozen=True)
class CourseCorpus:
    """Everything the course pipeline needs from the Metheny file, in plain (JSON-able) data."""

    source: str
    measures: tuple[CourseMeasure, ...]
    accompaniment_parts: tuple[tuple[str, int], ...]   # (track name, General MIDI program)
    tempo_bpm: float
    measure_steps: int
    melody_range: tuple[int, int]
    section: tuple[float, float] | None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "CourseCorpus":
        def chords(items):
            return tuple(CourseChord(item["offset"], item["duration"], tuple(item["pitches"]),
                                     item["root"], item["quality"]) for item in items)

        def notes(items):
            return tuple(StepNote(**item) for item in items)

        measures = tuple(CourseMeasure(item["number"], tuple(item["values"]), notes(item["melody"]),
                                       chords(item["chords"]), chords(item["harmony"]),
                                       notes(item["accompaniment"])) for item in data["measures"])
        section = tuple(data["section"]) if data["section"] is not None else None
        return cls(data["source"], measures, tuple(tuple(part) for part in data["accompaniment_parts"]),
                   data["tempo_bpm"], data["measure_steps"], tuple(data["melody_range"]), section)


@dataclass(frozen=True)
class Realization:
    """Generated melody (quarter-note times from 0) and the corpus measure under each output measure."""

    melody: list[NoteEvent]
    measure_indices: list[int]


# ----------------------------------------------------------------------------
# music theory


def chord_scale(chord_pitch_classes: frozenset[int], root: int, quality: str) -> frozenset[int]:
    """Major scale (major chords) or dorian scale (others) holding the most chord tones."""
    steps = MAJOR_STEPS if quality == "major" else DORIAN_STEPS
    best = None
    for distance in range(12):
        tonic = (root + distance) % 12
        scale = frozenset((tonic + step) % 12 for step in steps)
        score = (len(scale & chord_pitch_classes), tonic == root, -distance)
        if best is None or score > best[0]:
            best = (score, scale)
    return best[1]


def tone_type(pitch: int, chord: CourseChord) -> str:
    """C (chord tone), S (scale tone), A (approach tone) or X (other) of `pitch` against `chord`."""
    pitch_class = pitch % 12
    chord_classes = chord.pitch_classes
    if pitch_class in chord_classes:
        return "C"
    if pitch_class in chord.scale_pitch_classes:
        return "S"
    if (pitch_class + 1) % 12 in chord_classes or (pitch_class - 1) % 12 in chord_classes:
        return "A"
    return "X"


@lru_cache(maxsize=None)
def interval_name(semitones: int) -> str:
    """music21's directed name of an interval of `semitones` (7 -> 'P5', -3 -> 'm-3')."""
    from music21 import interval

    return interval.Interval(semitones).directedName


@lru_cache(maxsize=None)
def interval_semitones(name: str) -> int:
    """Semitones of a directed interval name such as 'M3' or 'd-5'; ValueError if not one."""
    from music21 import interval

    try:
        return int(interval.Interval(name).semitones)
    except Exception as error:  # music21 raises several types for unparsable names
        raise ValueError(f"expected an interval name such as 'M3' or 'P-4', got {name!r}") from error


# ----------------------------------------------------------------------------
# values


@dataclass(frozen=True)
class ParsedValue:
    tone_type: str
    steps: int
    window: tuple[int, int] | None  # (lowest, highest) semitones from the previous note


def format_value(kind: str, steps: int, interval_from_previous: int | None) -> str:
    """``TYPE,duration[,<max,min>]`` for one note or rest (see the module docstring)."""
    value = f"{kind},{steps / STEPS_PER_QUARTER:.3f}"
    if interval_from_previous is not None:
        value += (f",<{interval_name(interval_from_previous + 3)},"
                  f"{interval_name(interval_from_previous - 3)}>")
    return value


def parse_value(value: str) -> ParsedValue:
    """Split a value into type, duration steps and interval window; ValueError if malformed."""
    expected = "expected a value like 'C,0.250' or 'S,0.500,<M3,m-2>'"
    terms = value.split(",")
    if len(terms) not in (2, 4) or terms[0] not in TONE_TYPES:
        raise ValueError(f"{expected}, got {value!r}")
    try:
        steps = round(float(terms[1]) * STEPS_PER_QUARTER)
    except ValueError as error:
        raise ValueError(f"{expected}, got {value!r} (duration is not a number)") from error
    if steps <= 0:
        raise ValueError(f"{expected}, got {value!r} (duration shorter than 1/12 quarter note)")
    if len(terms) == 2:
        return ParsedValue(terms[0], steps, None)
    if not (terms[2].startswith("<") and terms[3].endswith(">")):
        raise ValueError(f"{expected}, got {value!r} (interval window not in <...>)")
    try:
        first, second = interval_semitones(terms[2][1:]), interval_semitones(terms[3][:-1])
    except ValueError as error:
        raise ValueError(f"{expected}, got {value!r} ({error})") from error
    return ParsedValue(terms[0], steps, (min(first, second), max(first, second)))


# ----------------------------------------------------------------------------
# parsing the MIDI file


def _track_names(midi_file: mido.MidiFile) -> list[str]:
    return [track.name.strip() for track in midi_file.tracks]


def _has_notes(track: mido.MidiTrack) -> bool:
    return any(message.type == "note_on" and message.velocity > 0 for message in track)


def _find_track(midi_file: mido.MidiFile, name: str, path: Path) -> int:
    names = [track_name.casefold() for track_name in _track_names(midi_file)]
    for index, track_name in enumerate(names):
        if track_name == name.casefold() and _has_notes(midi_file.tracks[index]):
            return index
    with_notes = [track.name.strip() for track in midi_file.tracks if _has_notes(track)]
    raise JazzDataError("track not found", path,
                        f"no track named {name!r} with notes; tracks with notes: {', '.join(with_notes)}")


def _program(track: mido.MidiTrack) -> int:
    for message in track:
        if message.type == "program_change":
            return message.program
    return 0


def _first_meta(midi_file: mido.MidiFile, kind: str):
    for track in midi_file.tracks:
        for message in track:
            if message.type == kind:
                return message
    return None


def _translate_tracks(midi_file: mido.MidiFile, indices: Sequence[int], path: Path):
    """music21 parts for the chosen tracks (in order), plus the file's meta-only tracks."""
    from music21 import midi as music21_midi

    chosen = mido.MidiFile(type=1, ticks_per_beat=midi_file.ticks_per_beat)
    chosen.tracks = [track for track in midi_file.tracks if not _has_notes(track)]
    chosen.tracks += [midi_file.tracks[index] for index in indices]
    buffer = io.BytesIO()
    chosen.save(file=buffer)
    try:
        music21_file = music21_midi.MidiFile()
        music21_file.readstr(buffer.getvalue())
        score = music21_midi.translate.midiFileToStream(music21_file)
    except Exception as error:  # music21 raises many exception types on odd MIDI data
        raise JazzDataError("music21 could not translate the MIDI file", path,
                            f"{type(error).__name__}: {error}") from error
    parts = list(score.parts)
    if len(parts) != len(indices):
        raise JazzDataError("music21 could not translate the MIDI file", path,
                            f"expected {len(indices)} parts, got {len(parts)}")
    return parts


def _to_steps(quarter_length) -> int:
    return round(float(quarter_length) * STEPS_PER_QUARTER)


def _melody_notes(part) -> list[StepNote]:
    notes = []
    for element in part.flatten().notes:
        pitch = max(p.midi for p in element.pitches)
        duration = _to_steps(element.quarterLength) or GRACE_NOTE_STEPS
        notes.append(StepNote(pitch, _to_steps(element.offset), duration))
    return notes


def _chords(part) -> list[tuple[int, CourseChord]]:
    """(absolute onset step, chord with absolute offset) of the part's chord objects."""
    from music21 import chord as music21_chord

    chords = []
    for element in part.flatten().getElementsByClass(music21_chord.Chord):
        pitches = tuple(sorted({p.midi for p in element.pitches}))
        if len(pitches) < 2:
            continue
        onset = _to_steps(element.offset)
        chords.append((onset, CourseChord(onset, _to_steps(element.quarterLength), pitches,
                                          element.root().pitchClass, element.quality)))
    return sorted(chords, key=lambda item: item[0])


def _accompaniment_notes(part, part_index: int) -> list[StepNote]:
    notes = []
    for element in part.flatten().notes:
        velocity = element.volume.velocity or 90
        for p in element.pitches:
            notes.append(StepNote(p.midi, _to_steps(element.offset),
                                  max(_to_steps(element.quarterLength), 1), velocity, part_index))
    return notes


# ----------------------------------------------------------------------------
# melody -> measures of values


def _monophonic_line(notes: Iterable[StepNote], measure_steps: int) -> list[StepNote]:
    """Top note per onset; each note cut at the next onset and at its bar line."""
    by_onset: dict[int, StepNote] = {}
    for note in notes:
        if note.offset not in by_onset or note.pitch > by_onset[note.offset].pitch:
            by_onset[note.offset] = note
    onsets = sorted(by_onset)
    line = []
    for index, onset in enumerate(onsets):
        bar_end = (onset // measure_steps + 1) * measure_steps
        end = min(onset + by_onset[onset].duration, bar_end)
        if index + 1 < len(onsets):
            end = min(end, onsets[index + 1])
        line.append(StepNote(by_onset[onset].pitch, onset, end - onset))
    return line


def _tile_measure(notes: Sequence[StepNote], measure_start: int, measure_steps: int) -> list[StepNote]:
    """Notes of one measure (relative offsets) with rests filling every gap up to the bar line."""
    tiled, position = [], 0
    for note in notes:
        offset = note.offset - measure_start
        if offset > position:
            tiled.append(StepNote(None, position, offset - position))
        tiled.append(StepNote(note.pitch, offset, note.duration))
        position = offset + note.duration
    if position < measure_steps:
        tiled.append(StepNote(None, position, measure_steps - position))
    return _absorb_short_rests(tiled)


def _absorb_short_rests(tiled: list[StepNote]) -> list[StepNote]:
    """Add a rest shorter than a sixteenth to the note before it (articulation, not a rest)."""
    merged: list[StepNote] = []
    for item in tiled:
        short_rest = item.pitch is None and item.duration < MIN_REST_STEPS
        if short_rest and merged and merged[-1].pitch is not None:
            previous = merged[-1]
            merged[-1] = StepNote(previous.pitch, previous.offset, previous.duration + item.duration)
        else:
            merged.append(item)
    return merged


def _chord_at(harmony: Sequence[CourseChord], offset: int) -> CourseChord:
    current = harmony[0]
    for chord in harmony:
        if chord.offset <= offset:
            current = chord
    return current


def measure_values(melody: Sequence[StepNote], harmony: Sequence[CourseChord]) -> list[str]:
    """The values of one measure's tiled melody against its harmony."""
    values, previous_pitch = [], None
    for note in melody:
        if note.pitch is None:
            values.append(format_value("R", note.duration, None))
            continue
        kind = tone_type(note.pitch, _chord_at(harmony, note.offset))
        step = None if previous_pitch is None else note.pitch - previous_pitch
        values.append(format_value(kind, note.duration, step))
        previous_pitch = note.pitch
    return values


def _relative_chord(chord: CourseChord, measure_start: int, offset: int | None = None) -> CourseChord:
    relative = chord.offset - measure_start if offset is None else offset
    return CourseChord(relative, chord.duration, chord.pitches, chord.root, chord.quality)


def _measure_harmony(chords: Sequence[tuple[int, CourseChord]], start: int, end: int
                     ) -> tuple[tuple[CourseChord, ...], tuple[CourseChord, ...]]:
    """(chords starting in [start, end), chords governing it with the first at offset 0).

    A measure that does not start with a chord is governed first by the last
    chord before it, or, before the song's first chord, by that first chord.
    """
    inside = tuple(_relative_chord(chord, start) for onset, chord in chords if start <= onset < end)
    before = [chord for onset, chord in chords if onset < start]
    if inside and inside[0].offset == 0:
        return inside, inside
    if before:
        return inside, (_relative_chord(before[-1], start, 0),) + inside
    after = [chord for onset, chord in chords if onset >= start]
    if after:  # before the first chord of the song: the first chord stands in
        return inside, (_relative_chord(after[0], start, 0),) + inside[1 if inside else 0:]
    return inside, ()


def _section_measures(section: tuple[float, float] | None, last_step: int, measure_steps: int,
                      path: Path) -> range:
    if section is None:
        return range(0, last_step // measure_steps + 1)
    start, end = (_to_steps(bound) for bound in section)
    if not 0 <= start < end or start % measure_steps or end % measure_steps:
        raise ValueError(f"section must be (start, end) quarter notes on bar lines with start < end, "
                         f"got {section}")
    if start > last_step:
        raise JazzDataError("section is past the end of the song", path,
                            f"section starts at quarter note {section[0]}, the song ends at "
                            f"{last_step / STEPS_PER_QUARTER:g}")
    return range(start // measure_steps, end // measure_steps)


def _measure_steps(midi_file: mido.MidiFile, path: Path) -> int:
    signature = _first_meta(midi_file, "time_signature")
    if signature is None:
        return 4 * STEPS_PER_QUARTER
    steps = signature.numerator * 4 * STEPS_PER_QUARTER // signature.denominator
    if steps <= 0:
        raise JazzDataError("unusable time signature", path,
                            f"{signature.numerator}/{signature.denominator}")
    return steps


def _tempo_bpm(midi_file: mido.MidiFile) -> float:
    message = _first_meta(midi_file, "set_tempo")
    return round(mido.tempo2bpm(message.tempo), 3) if message is not None else 120.0


def _build_measure(number: int, measure_steps: int, line: Sequence[StepNote],
                   chords: Sequence[tuple[int, CourseChord]], accompaniment: Sequence[StepNote],
                   path: Path) -> CourseMeasure:
    start, end = number * measure_steps, (number + 1) * measure_steps
    melody = _tile_measure([note for note in line if start <= note.offset < end], start, measure_steps)
    starting, harmony = _measure_harmony(chords, start, end)
    if not harmony:
        raise JazzDataError("no chords to analyse the melody against", path,
                            "the chord track has no chords of two or more notes")
    comp = tuple(StepNote(note.pitch, note.offset - start, note.duration, note.velocity, note.part)
                 for note in accompaniment if start <= note.offset < end)
    return CourseMeasure(number, tuple(measure_values(melody, harmony)), tuple(melody),
                         starting, harmony, comp)


def _course_tracks(midi_file: mido.MidiFile, path: Path, melody_track: str, chord_track: str,
                   accompaniment_tracks: Sequence[str]) -> tuple[int, int, list[int]]:
    """Track indices of the melody, the chords and the (non-drum) accompaniment."""
    melody = _find_track(midi_file, melody_track, path)
    chords = _find_track(midi_file, chord_track, path)
    accompaniment = [_find_track(midi_file, name, path) for name in accompaniment_tracks]
    return melody, chords, [index for index in accompaniment
                            if not _is_drum_track(midi_file.tracks[index])]


def _is_drum_track(track: mido.MidiTrack) -> bool:
    channels = {message.channel for message in track if message.type == "note_on"}
    return channels == {DRUM_CHANNEL}


def parse_course_midi(path, *, section: tuple[float, float] | None = COURSE_SECTION,
                      melody_track: str = MELODY_TRACK, chord_track: str = CHORD_TRACK,
                      accompaniment_tracks: Sequence[str] = ACCOMPANIMENT_TRACKS) -> CourseCorpus:
    """Parse the course MIDI file into measures of values, chords and accompaniment.

    section: (start, end) in quarter notes, on bar lines; None for the whole
    song.  Track names select the parts (the defaults are the course's).  The
    measure length comes from the file's first time signature (4/4 here).
    Raises JazzDataError for unusable files, ValueError for a bad section.
    """
    path = Path(path)
    midi_file = validate_midi(path)
    measure_steps = _measure_steps(midi_file, path)
    melody_index, chord_index, comp_indices = _course_tracks(
        midi_file, path, melody_track, chord_track, accompaniment_tracks)
    indices = list(dict.fromkeys([melody_index, chord_index, *comp_indices]))
    parts = dict(zip(indices, _translate_tracks(midi_file, indices, path)))
    line = _monophonic_line(_melody_notes(parts[melody_index]), measure_steps)
    if not line:
        raise JazzDataError("no melody notes", path, f"track {melody_track!r} has no notes")
    chords = _chords(parts[chord_index])
    accompaniment = [note for number, index in enumerate(comp_indices)
                     for note in _accompaniment_notes(parts[index], number)]
    measures = tuple(_build_measure(number, measure_steps, line, chords, accompaniment, path)
                     for number in _section_measures(section, line[-1].offset, measure_steps, path))
    pitches = [note.pitch for measure in measures for note in measure.melody if note.pitch is not None]
    if not pitches:
        raise JazzDataError("no melody notes in the section", path, f"section {section}")
    comp_parts = tuple((midi_file.tracks[index].name.strip(), _program(midi_file.tracks[index]))
                       for index in comp_indices)
    return CourseCorpus(str(path), measures, comp_parts, _tempo_bpm(midi_file), measure_steps,
                        (min(pitches), max(pitches)), tuple(section) if section else None)


def course_values(corpus: CourseCorpus) -> list[str]:
    """All values of the corpus, measure after measure (the course's training sequence)."""
    return [value for measure in corpus.measures for value in measure.values]


def melody_events(corpus: CourseCorpus) -> list[NoteEvent]:
    """The corpus melody as notes and rests, quarter-note times from the first measure's start."""
    events = []
    for position, measure in enumerate(corpus.measures):
        start = position * corpus.measure_steps
        events += [NoteEvent(note.pitch, (start + note.offset) / STEPS_PER_QUARTER,
                             note.duration / STEPS_PER_QUARTER) for note in measure.melody]
    return events


# ----------------------------------------------------------------------------
# values -> melody


def _candidates_of_type(kind: str, low: int, high: int, chord: CourseChord) -> list[int]:
    return [pitch for pitch in range(low, high + 1) if tone_type(pitch, chord) == kind]


def _keep_in_range(pitch: int, melody_range: tuple[int, int]) -> int:
    """`pitch` moved by octaves into the range (clamped when the range is under an octave)."""
    low, high = melody_range
    while pitch < low:
        pitch += 12
    while pitch > high:
        pitch -= 12
    return min(max(pitch, low), high)


def choose_pitch(value: ParsedValue, chord: CourseChord, previous_pitch: int | None,
                 melody_range: tuple[int, int], rng: random.Random) -> int:
    """A pitch of the value's type under `chord`, within its interval window of `previous_pitch`."""
    low_limit, high_limit = melody_range
    if previous_pitch is None:
        low, high = START_REGISTER
    elif value.window is None:
        low, high = previous_pitch - 6, previous_pitch + 6
    else:
        low, high = previous_pitch + value.window[0], previous_pitch + value.window[1]
    low, high = max(low, low_limit), min(high, high_limit)
    candidates = _candidates_of_type(value.tone_type, low, high, chord)
    if value.tone_type == "C" and len(candidates) > 1 and previous_pitch in candidates:
        candidates.remove(previous_pitch)
    if candidates:
        return rng.choice(candidates)
    if previous_pitch is None:
        return _keep_in_range(rng.choice(range(*START_REGISTER)), melody_range)
    return _keep_in_range(previous_pitch + rng.choice((-2, 2)), melody_range)


def _check_corpus(corpus: CourseCorpus) -> None:
    if not corpus.measures or any(not measure.harmony for measure in corpus.measures):
        raise ValueError("expected a CourseCorpus with measures that all have chords, got one "
                         f"with {len(corpus.measures)} measures, some without chords")


def realize_values(values: Sequence[str], corpus: CourseCorpus, *, seed: int,
                   start_measure: int = 0) -> Realization:
    """Turn values into melody notes measure by measure against the corpus chords (see docstring).

    start_measure: index of the corpus measure whose chords go under the first
    value; later measures follow in order, wrapping round.  ValueError for a
    malformed value.
    """
    _check_corpus(corpus)
    rng = random.Random(seed)
    parsed = [parse_value(value) for value in values]
    melody, measure_indices = [], []
    measure_position, elapsed, previous_pitch = corpus.measure_steps, -corpus.measure_steps, None
    for value in parsed:
        if measure_position >= corpus.measure_steps:
            measure_index = (start_measure + len(measure_indices)) % len(corpus.measures)
            measure_indices.append(measure_index)
            measure_position, elapsed = 0, elapsed + corpus.measure_steps
        steps = min(value.steps, corpus.measure_steps - measure_position)
        pitch = None
        if value.tone_type != "R":
            chord = _chord_at(corpus.measures[measure_index].harmony, measure_position)
            pitch = choose_pitch(value, chord, previous_pitch, corpus.melody_range, rng)
            previous_pitch = pitch
        melody.append(NoteEvent(pitch, (elapsed + measure_position) / STEPS_PER_QUARTER,
                                steps / STEPS_PER_QUARTER))
        measure_position += steps
    return Realization(melody, measure_indices)


# ----------------------------------------------------------------------------
# music21 streams


def _quarter_length(steps: int) -> Fraction:
    return Fraction(steps, STEPS_PER_QUARTER)


def _accompaniment_parts(corpus: CourseCorpus, measure_indices: Sequence[int]) -> list:
    from music21 import instrument, note, stream

    parts = []
    for part_index, (name, program) in enumerate(corpus.accompaniment_parts):
        part = stream.Part(id=name)
        part.partName = name
        part.insert(0, instrument.instrumentFromMidiProgram(program))
        for position, measure_index in enumerate(measure_indices):
            start = position * corpus.measure_steps
            for item in corpus.measures[measure_index].accompaniment:
                if item.part != part_index:
                    continue
                sounding = note.Note(item.pitch, quarterLength=_quarter_length(item.duration))
                sounding.volume.velocity = item.velocity
                part.insert(_quarter_length(start + item.offset), sounding)
        parts.append(part)
    return parts


def accompaniment_stream(corpus: CourseCorpus, measure_indices: Sequence[int] | None = None):
    """A music21 Score of the accompaniment parts for the given corpus measures (default: all)."""
    from music21 import stream, tempo

    indices = range(len(corpus.measures)) if measure_indices is None else measure_indices
    score = stream.Score()
    score.insert(0, tempo.MetronomeMark(number=corpus.tempo_bpm))
    for part in _accompaniment_parts(corpus, list(indices)):
        score.insert(0, part)
    return score


def _melody_part(events: Sequence[NoteEvent]):
    from music21 import instrument, note, stream

    part = stream.Part(id="Melody")
    part.partName = "Melody"
    part.insert(0, instrument.ElectricGuitar())
    for event in events:
        length = Fraction(event.duration).limit_denominator(STEPS_PER_QUARTER)
        element = (note.Rest(quarterLength=length) if event.is_rest
                   else note.Note(event.pitch, quarterLength=length))
        part.insert(Fraction(event.onset).limit_denominator(STEPS_PER_QUARTER), element)
    return part


def values_to_stream(values: Sequence[str], corpus: CourseCorpus, *, seed: int,
                     start_measure: int = 0, tempo_bpm: float | None = None):
    """A music21 Score: the melody realized from `values`, then the accompaniment of its measures.

    The melody is the first part (an electric guitar, as in the course).
    tempo_bpm: None keeps the corpus tempo.
    """
    from music21 import stream, tempo

    realization = realize_values(values, corpus, seed=seed, start_measure=start_measure)
    score = stream.Score()
    score.insert(0, tempo.MetronomeMark(number=tempo_bpm or corpus.tempo_bpm))
    score.insert(0, _melody_part(realization.melody))
    for part in _accompaniment_parts(corpus, realization.measure_indices):
        score.insert(0, part)
    return score
