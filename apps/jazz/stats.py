"""Statistics that compare generated solos with real ones (used by benchmarks/jazz.py).

All work on melodies as `NoteEvent` lists (quarter-note times), notes only unless said.

- pitch range: highest minus lowest MIDI pitch of a solo (semitones);
- notes per bar: notes / (length in quarter notes / 4);
- interval histogram: semitone steps between consecutive notes, clipped to -13..+13 (the end
  bins collect the larger leaps); two histograms are compared by the Jensen-Shannon divergence
  (base 2: 0 = identical, 1 = disjoint);
- duration histogram: note durations in 1/12-quarter steps, likewise;
- copied share ("novelty" is 1 minus it): the longest run of consecutive notes, as (interval,
  duration) pairs so that a transposed copy counts, that also occurs in some training solo,
  divided by the solo's notes;
- repeated bars: the share of non-empty 4/4 bars whose notes (pitch, onset in the bar,
  duration) are identical to an earlier bar of the same solo.
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Iterable, Sequence

import numpy as np

from apps.jazz.midi_io import NoteEvent
from apps.jazz.note_tokens import GRID

INTERVAL_CLIP = 13
STEPS_PER_BAR = 4 * GRID


def notes_only(events: Sequence[NoteEvent]) -> list[NoteEvent]:
    return [event for event in events if not event.is_rest]


def pitch_range(events: Sequence[NoteEvent]) -> int:
    pitches = [event.pitch for event in notes_only(events)]
    return max(pitches) - min(pitches) if pitches else 0


def notes_per_bar(events: Sequence[NoteEvent]) -> float:
    length = max((event.end for event in events), default=0.0)
    return len(notes_only(events)) / (length / 4) if length > 0 else 0.0


def intervals(events: Sequence[NoteEvent]) -> list[int]:
    pitches = [event.pitch for event in notes_only(events)]
    return [b - a for a, b in zip(pitches, pitches[1:])]


def interval_histogram(solos: Iterable[Sequence[NoteEvent]]) -> np.ndarray:
    """Normalized histogram over -13..+13 semitones (27 bins) of all consecutive-note steps."""
    counts = np.zeros(2 * INTERVAL_CLIP + 1)
    for events in solos:
        for step in intervals(events):
            counts[max(-INTERVAL_CLIP, min(INTERVAL_CLIP, step)) + INTERVAL_CLIP] += 1
    return counts / counts.sum() if counts.sum() else counts


def duration_histogram(solos: Iterable[Sequence[NoteEvent]], max_steps: int = 48) -> np.ndarray:
    counts = np.zeros(max_steps + 1)
    for events in solos:
        for event in notes_only(events):
            counts[min(max_steps, max(0, round(event.duration * GRID)))] += 1
    return counts / counts.sum() if counts.sum() else counts


def jensen_shannon(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon divergence in bits (0..1) between two normalized histograms."""
    p, q = np.asarray(p, float), np.asarray(q, float)
    m = (p + q) / 2

    def kl(a, b):
        mask = a > 0
        return float(np.sum(a[mask] * np.log2(a[mask] / b[mask])))

    return 0.5 * kl(p, m) + 0.5 * kl(q, m)


def bar_repetition(events: Sequence[NoteEvent]) -> float:
    """Share of non-empty bars identical to an earlier bar of the same solo (0 when < 2 bars)."""
    bars: dict[int, list[tuple]] = {}
    for event in notes_only(events):
        start = round(event.onset * GRID)
        bars.setdefault(start // STEPS_PER_BAR, []).append(
            (event.pitch, start % STEPS_PER_BAR, round(event.duration * GRID)))
    if len(bars) < 2:
        return 0.0
    seen, repeated = set(), 0
    for number in sorted(bars):
        signature = tuple(bars[number])
        repeated += signature in seen
        seen.add(signature)
    return repeated / len(bars)


def note_codes(events: Sequence[NoteEvent]) -> np.ndarray:
    """(interval, duration) of each note after the first, as one integer each (key-invariant)."""
    notes = notes_only(events)
    codes = []
    for previous, note in zip(notes, notes[1:]):
        step = max(-64, min(63, note.pitch - previous.pitch)) + 64
        codes.append(step * 64 + min(63, round(note.duration * GRID)))
    return np.asarray(codes, np.uint16)


class CopyDetector:
    """Longest run of a solo's (interval, duration) codes that occurs in some reference solo."""

    def __init__(self, reference_solos: Iterable[Sequence[NoteEvent]]) -> None:
        self.references = [note_codes(events) for events in reference_solos]
        self._grams: dict[int, set] = {}

    def _gram_set(self, length: int) -> set:
        if length not in self._grams:
            grams = set()
            for codes in self.references:
                data = codes.tobytes()
                grams.update(data[2 * i: 2 * (i + length)] for i in range(len(codes) - length + 1))
            self._grams[length] = grams
        return self._grams[length]

    def _has_copy(self, codes: np.ndarray, length: int) -> bool:
        grams = self._gram_set(length)
        data = codes.tobytes()
        return any(data[2 * i: 2 * (i + length)] in grams for i in range(len(codes) - length + 1))

    def longest_copy(self, events: Sequence[NoteEvent]) -> int:
        """Notes in the longest copied run (a run of n codes spans n + 1 notes; 0 if none)."""
        codes = note_codes(events)
        low, high = 0, len(codes)
        while low < high:  # the largest length with a copy; copies of length L imply L - 1
            middle = (low + high + 1) // 2
            if self._has_copy(codes, middle):
                low = middle
            else:
                high = middle - 1
        return low + 1 if low else 0

    def copied_share(self, events: Sequence[NoteEvent]) -> float:
        notes = len(notes_only(events))
        return self.longest_copy(events) / notes if notes else 0.0


def summarize(solos: Sequence[Sequence[NoteEvent]], reference_histograms=None,
              detector: CopyDetector | None = None) -> dict:
    """Medians of the per-solo figures, and JS divergences against `reference_histograms`."""
    result = {
        "solos": len(solos),
        "notes": int(sum(len(notes_only(s)) for s in solos)),
        "pitch_range": float(np.median([pitch_range(s) for s in solos])),
        "notes_per_bar": float(np.median([notes_per_bar(s) for s in solos])),
        "repeated_bars": float(np.mean([bar_repetition(s) for s in solos])),
        "distinct_pitches": float(np.median([len({e.pitch for e in notes_only(s)})
                                             for s in solos])),
    }
    if reference_histograms is not None:
        intervals_ref, durations_ref = reference_histograms
        result["interval_js"] = jensen_shannon(interval_histogram(solos), intervals_ref)
        result["duration_js"] = jensen_shannon(duration_histogram(solos), durations_ref)
    if detector is not None:
        longest = [detector.longest_copy(s) for s in solos]
        shares = [detector.copied_share(s) for s in solos]
        result["longest_copy_notes"] = float(np.median(longest))
        result["copied_share"] = float(np.median(shares))
        result["max_copied_share"] = float(np.max(shares)) if shares else math.nan
    return result


def histogram_pair(solos: Sequence[Sequence[NoteEvent]]):
    return interval_histogram(solos), duration_histogram(solos)


def most_common_intervals(solos, count: int = 5) -> list[tuple[int, int]]:
    return Counter(step for s in solos for step in intervals(s)).most_common(count)
