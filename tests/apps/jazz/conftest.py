"""Shared fixtures for the jazz data-layer tests.

The Metheny file is parsed by music21 once per session (about 5 s), through
`load_corpus` with a session cache folder, and the timing of that first load
is kept so the cache test can compare against it.
"""
import time

import mido
import pytest

from apps.jazz.corpus import load_corpus
from tests.conftest import dataset_path


@pytest.fixture(scope="session")
def metheny_path():
    return dataset_path("jazz", "original_metheny.mid")


@pytest.fixture(scope="session")
def course_cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("course_cache")


@pytest.fixture(scope="session")
def first_course_load(metheny_path, course_cache_dir):
    """(Corpus, seconds) of the first, uncached load of the Metheny file with course tokens."""
    started = time.perf_counter()
    corpus = load_corpus([metheny_path], tokens="course", cache_dir=course_cache_dir, progress=False)
    return corpus, time.perf_counter() - started


@pytest.fixture(scope="session")
def course_corpus(first_course_load):
    return first_course_load[0].solos[0].course


def write_mido_file(path, notes, *, channel=0, ticks_per_beat=96):
    """A one-track MIDI file of (pitch, start beat, length in beats) notes, written with mido."""
    events = []
    for pitch, start, length in notes:
        events.append((round(start * ticks_per_beat), 1, mido.Message(
            "note_on", note=pitch, velocity=80, channel=channel)))
        events.append((round((start + length) * ticks_per_beat), 0, mido.Message(
            "note_off", note=pitch, velocity=0, channel=channel)))
    events.sort(key=lambda item: (item[0], item[1]))
    track, previous = mido.MidiTrack(), 0
    for tick, _, message in events:
        track.append(message.copy(time=tick - previous))
        previous = tick
    midi_file = mido.MidiFile(ticks_per_beat=ticks_per_beat)
    midi_file.tracks.append(track)
    midi_file.save(path)
    return path
