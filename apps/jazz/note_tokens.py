"""Tokens for monophonic solos: one pitch token, then one duration token, per note or rest.

Token design
------------
Each note becomes two tokens, ``p<MIDI number>`` then ``d<steps>``; each rest
becomes ``rest`` then ``d<steps>``.  A model step predicts one token, so a
window of Tx tokens holds Tx / 2 notes.  Example: ``p67 d6 p65 d6 rest d12``.

Why separate pitch and duration tokens rather than one compound ``p67_d6``:
with 88 pitches (plus rest) and 48 durations the compound vocabulary would be
up to 4,272 tokens, most of them seen a handful of times even with 12-key
augmentation; split tokens give a vocabulary of at most 138 (89 pitch + 48
duration + ``<UNK>`` in the tokenizer), every duration is learnt from all
pitches and every pitch from all durations, and the strict pitch/duration
alternation is trivial for an LSTM to learn.  The cost is sequences twice as
long.  `decode_tokens` tolerates a broken alternation (see there).

Time grid
---------
Durations are counted in steps of 1/12 of a quarter note (``GRID = 12``), the
smallest grid holding both sixteenths (3 steps) and eighth-note triplets (4
steps).  Quantization (`quantize_solo`):

1. onsets and note ends are rounded to the grid; notes that land on the same
   step keep the highest pitch; a note is cut at the next onset;
2. a silence shorter than ``min_rest_steps`` (default 3 = a sixteenth) is
   articulation, not a rest, and is added to the note before it; a longer one
   becomes a rest;
3. every duration (note or rest) is clipped to 1..``max_duration_steps``
   (default 48 = four quarter notes, a 4/4 bar); longer notes and rests are
   shortened to that;
4. the result is laid end to end from time 0, so the solo's timeline is the
   running sum of durations.

No bar-position tokens: in the Weimar Jazz Database MIDI files the beat grid
is a constant average tempo laid over a performance, and note onsets fall
uniformly at every fraction of a beat, so a "position in the bar" would be
noise.  Durations and inter-onset intervals are meaningful and are kept.

Transposition for 12-key augmentation shifts every pitch by the same number of
semitones and is refused (`transpose`) or dropped (`augment_keys`) when a pitch
would leave the stated range, by default the 88 piano keys 21..108.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterable, Sequence

from apps.jazz.midi_io import HIGHEST_PITCH, LOWEST_PITCH, NoteEvent

TOKENIZER_VERSION = "notes-1"
GRID = 12  # steps per quarter note
REST_TOKEN = "rest"
PITCH_PREFIX = "p"
DURATION_PREFIX = "d"
PITCH_RANGE = (LOWEST_PITCH, HIGHEST_PITCH)
DEFAULT_SHIFTS = tuple(range(-5, 7))  # the 12 keys: down a fourth .. up a tritone


@dataclass(frozen=True)
class NoteTokenSettings:
    """How solos are quantized before they become tokens (see the module docstring)."""

    max_duration_steps: int = 4 * GRID
    min_rest_steps: int = 3

    def __post_init__(self) -> None:
        if self.max_duration_steps < 1:
            raise ValueError(f"max_duration_steps must be at least 1, got {self.max_duration_steps}")
        if self.min_rest_steps < 1:
            raise ValueError(f"min_rest_steps must be at least 1, got {self.min_rest_steps}")

    def to_dict(self) -> dict:
        return {"version": TOKENIZER_VERSION, "grid": GRID, **asdict(self)}


DEFAULT_SETTINGS = NoteTokenSettings()


# ----------------------------------------------------------------------------
# quantization


def _to_steps(quarter_notes: float) -> int:
    return round(quarter_notes * GRID)


def _quantized_notes(events: Iterable[NoteEvent]) -> list[tuple[int, int, int]]:
    """(pitch, start step, end step) of the notes, one per start step (the highest wins)."""
    by_start: dict[int, tuple[int, int, int]] = {}
    for event in events:
        if event.is_rest:
            continue
        start, end = _to_steps(event.onset), _to_steps(event.end)
        current = by_start.get(start)
        if current is None or event.pitch > current[0]:
            by_start[start] = (event.pitch, start, end)
    return [by_start[start] for start in sorted(by_start)]


def _steps_sequence(events: Iterable[NoteEvent],
                    settings: NoteTokenSettings) -> list[tuple[int | None, int]]:
    """(pitch or None, duration steps) of notes and rests, after steps 1-3 of the method."""
    notes = _quantized_notes(events)
    sequence = []
    for index, (pitch, start, end) in enumerate(notes):
        next_start = notes[index + 1][1] if index + 1 < len(notes) else None
        stop = max(end, start + 1) if next_start is None else max(min(end, next_start), start + 1)
        gap = 0 if next_start is None else next_start - stop
        if 0 < gap < settings.min_rest_steps:
            stop, gap = next_start, 0
        sequence.append((pitch, min(stop - start, settings.max_duration_steps)))
        if gap > 0:
            sequence.append((None, min(gap, settings.max_duration_steps)))
    return sequence


def _events_from_steps(sequence: Iterable[tuple[int | None, int]]) -> list[NoteEvent]:
    events, position = [], 0
    for pitch, steps in sequence:
        events.append(NoteEvent(pitch, position / GRID, steps / GRID))
        position += steps
    return events


def quantize_solo(events: Sequence[NoteEvent], *,
                  settings: NoteTokenSettings = DEFAULT_SETTINGS) -> list[NoteEvent]:
    """The solo as `encode_solo` sees it: notes and rests on the 1/12 grid, laid end to end from 0.

    Rest events in the input are ignored; rests are re-derived from the gaps
    between notes.  decode_tokens(encode_solo(x)) == quantize_solo(x).
    """
    return _events_from_steps(_steps_sequence(events, settings))


# ----------------------------------------------------------------------------
# tokens


def pitch_token(pitch: int | None) -> str:
    return REST_TOKEN if pitch is None else f"{PITCH_PREFIX}{pitch}"


def duration_token(steps: int) -> str:
    return f"{DURATION_PREFIX}{steps}"


def encode_solo(notes: Sequence[NoteEvent], *,
                settings: NoteTokenSettings = DEFAULT_SETTINGS) -> list[str]:
    """Tokens of a solo: ``p<pitch>``/``rest`` then ``d<steps>`` for each quantized note or rest."""
    tokens = []
    for pitch, steps in _steps_sequence(notes, settings):
        tokens += [pitch_token(pitch), duration_token(steps)]
    return tokens


def _parse_pitch(token: str) -> int | None | str:
    """The pitch of a pitch token (None for rest), or the string "not a pitch"."""
    if token == REST_TOKEN:
        return None
    digits = token[len(PITCH_PREFIX):]
    if token.startswith(PITCH_PREFIX) and digits.isdigit() and 0 <= int(digits) <= 127:
        return int(digits)
    return "not a pitch"


def _parse_duration(token: str) -> int | None:
    digits = token[len(DURATION_PREFIX):]
    if token.startswith(DURATION_PREFIX) and digits.isdigit() and int(digits) > 0:
        return int(digits)
    return None


def decode_tokens(tokens: Iterable[str], *, strict: bool = False) -> list[NoteEvent]:
    """Notes and rests from tokens, laid end to end from time 0.

    A pitch (or ``rest``) token followed by a duration token makes one event.
    When ``strict`` is false (the default, for model output) anything else is
    skipped: a duration with no pitch before it, a pitch followed by another
    pitch (the first is dropped), unknown tokens such as ``<UNK>``, and a
    trailing pitch.  When ``strict`` is true these raise ValueError.
    """
    sequence: list[tuple[int | None, int]] = []
    pending: int | None | str = "nothing"
    for position, token in enumerate(tokens):
        pitch = _parse_pitch(token)
        steps = _parse_duration(token)
        if pitch != "not a pitch":
            if strict and pending != "nothing":
                raise ValueError(f"token {position} ({token!r}): expected a duration token "
                                 f"after a pitch token, got another pitch token")
            pending = pitch
        elif steps is not None and pending != "nothing":
            sequence.append((pending, steps))
            pending = "nothing"
        elif strict:
            raise ValueError(f"token {position} ({token!r}): expected a pitch token "
                             f"('p<0..127>' or 'rest') followed by a duration token ('d<steps>')")
    if strict and pending != "nothing":
        raise ValueError("the tokens end with a pitch token that has no duration token after it")
    return _events_from_steps(sequence)


# ----------------------------------------------------------------------------
# transposition


def transpose(notes: Sequence[NoteEvent], semitones: int, *,
              pitch_range: tuple[int, int] = PITCH_RANGE) -> list[NoteEvent]:
    """The notes moved by `semitones`; ValueError if a pitch would leave `pitch_range` (inclusive)."""
    low, high = pitch_range
    moved = []
    for event in notes:
        if event.is_rest:
            moved.append(event)
            continue
        pitch = event.pitch + semitones
        if not low <= pitch <= high:
            raise ValueError(f"transposing by {semitones} semitones moves pitch {event.pitch} to "
                             f"{pitch}, outside the allowed range {low}..{high}")
        moved.append(NoteEvent(pitch, event.onset, event.duration))
    return moved


def augment_keys(notes: Sequence[NoteEvent], shifts: Iterable[int] = DEFAULT_SHIFTS, *,
                 pitch_range: tuple[int, int] = PITCH_RANGE) -> list[tuple[int, list[NoteEvent]]]:
    """(shift, transposed notes) for each shift whose result stays in `pitch_range`; others are dropped."""
    kept = []
    for shift in shifts:
        try:
            kept.append((shift, transpose(notes, shift, pitch_range=pitch_range)))
        except ValueError:
            continue
    return kept
