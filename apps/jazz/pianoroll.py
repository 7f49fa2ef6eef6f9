"""Piano-roll pictures of melodies, for looking at generated solos.

`save_pianoroll` draws each note as a rectangle - time in bars on the x axis,
MIDI pitch on the y axis - with light vertical lines at the bar lines and
light horizontal lines at every C, using matplotlib's non-interactive Agg
backend (no display needed).  The PNG is written to a temporary file beside
the destination and moved into place with `os.replace`.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first
from matplotlib.collections import PatchCollection  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from apps.jazz.midi_io import NoteEvent, atomic_destination  # noqa: E402

NOTE_COLOR = "#1f5f99"
GRID_COLOR = "#d0d0d0"


def _note_names(low: int, high: int) -> list[tuple[int, str]]:
    return [(pitch, f"C{pitch // 12 - 1}") for pitch in range(low, high + 1) if pitch % 12 == 0]


def _draw(axes, notes: Sequence[NoteEvent], beats_per_bar: int) -> None:
    bars = [Rectangle((event.onset / beats_per_bar, event.pitch - 0.4), event.duration / beats_per_bar, 0.8)
            for event in notes]
    axes.add_collection(PatchCollection(bars, facecolor=NOTE_COLOR, edgecolor="none"))
    end_bar = max(event.end for event in notes) / beats_per_bar
    low = min(event.pitch for event in notes) - 2
    high = max(event.pitch for event in notes) + 2
    for bar in range(int(end_bar) + 2):
        axes.axvline(bar, color=GRID_COLOR, linewidth=0.6, zorder=0)
    names = _note_names(low, high)
    for pitch, _ in names:
        axes.axhline(pitch, color=GRID_COLOR, linewidth=0.4, linestyle=":", zorder=0)
    axes.set_yticks([pitch for pitch, _ in names], [name for _, name in names])
    axes.set_xlim(min(event.onset for event in notes) / beats_per_bar, max(end_bar, 1.0))
    axes.set_ylim(low, high)
    axes.set_xlabel(f"bar ({beats_per_bar} quarter notes)")
    axes.set_ylabel("pitch")


def save_pianoroll(events: Sequence[NoteEvent], png_path: str | os.PathLike, *, title: str = "",
                   beats_per_bar: int = 4, force: bool = False) -> Path:
    """Draw the notes of `events` (rests are ignored) as a piano roll PNG at `png_path`.

    Refuses to replace an existing file unless `force` (FileExistsError);
    ValueError when `events` has no notes or `beats_per_bar` is not positive.
    """
    if beats_per_bar < 1:
        raise ValueError(f"beats_per_bar must be a positive integer, got {beats_per_bar!r}")
    notes = [event for event in events if not event.is_rest]
    if not notes:
        raise ValueError(f"expected at least one note to draw, got {len(events)} events and no notes")
    bars = max(event.end for event in notes) / beats_per_bar
    figure, axes = plt.subplots(figsize=(min(4 + 0.6 * bars, 40), 5), dpi=100)
    try:
        _draw(axes, notes, beats_per_bar)
        if title:
            axes.set_title(title)
        figure.tight_layout()
        with atomic_destination(png_path, force=force) as temporary:
            figure.savefig(temporary, format="png")
    finally:
        plt.close(figure)
    return Path(png_path)
