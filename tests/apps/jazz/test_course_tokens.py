"""course_tokens: the course's values from the Metheny file, and values back to music."""
import re
from collections import Counter

import mido
import pytest

from apps.jazz.course_tokens import (CourseChord, CourseCorpus, course_values, melody_events,
                                     parse_course_midi, parse_value, realize_values, tone_type,
                                     values_to_stream)
from apps.jazz.errors import JazzDataError
from apps.jazz.midi_io import read_monophonic, write_midi
from tests.apps.jazz.conftest import write_mido_file

VALUE_PATTERN = re.compile(r"^[CSAXR],\d+\.\d{3}(,<[mMPdA]+-?\d+,[mMPdA]+-?\d+>)?$")


def test_the_course_section_has_18_measures_of_4_4(course_corpus):
    assert len(course_corpus.measures) == 18
    assert [measure.number for measure in course_corpus.measures] == list(range(119, 137))
    assert course_corpus.measure_steps == 48
    assert course_corpus.tempo_bpm == pytest.approx(112, abs=0.01)


def test_every_value_matches_type_duration_and_interval_window_pattern(course_corpus):
    values = course_values(course_corpus)
    assert len(values) > 150
    assert [value for value in values if not VALUE_PATTERN.match(value)] == []


def test_value_vocabulary_size_is_in_the_courses_range(course_corpus):
    assert 70 <= len(set(course_values(course_corpus))) <= 110  # the course reports 78 to 90


def test_values_of_each_measure_add_up_to_four_quarter_notes(course_corpus):
    for measure in course_corpus.measures:
        assert sum(parse_value(value).steps for value in measure.values) == 48, measure.number


def test_rests_and_first_notes_of_a_measure_have_no_interval_window(course_corpus):
    for measure in course_corpus.measures:
        notes = [value for value in measure.values if not value.startswith("R")]
        assert "<" not in notes[0]
        assert all("<" in value for value in notes[1:])
        assert all("<" not in value for value in measure.values if value.startswith("R"))


def test_all_tone_types_occur_and_chord_tones_are_the_most_common(course_corpus):
    kinds = Counter(value[0] for value in course_values(course_corpus))
    assert set(kinds) <= set("CSAXR") and {"C", "S", "A", "R"} <= set(kinds)
    assert kinds.most_common(1)[0][0] == "C"


def test_tone_types_against_a_major_seventh_chord_and_an_open_fifth():
    major_seventh = CourseChord(0, 48, (48, 52, 55, 59), root=0, quality="major")
    assert [tone_type(pitch, major_seventh) for pitch in (60, 62, 63, 66)] == ["C", "S", "A", "A"]
    open_fifth = CourseChord(0, 48, (48, 55), root=0, quality="other")  # C dorian is its scale
    assert [tone_type(pitch, open_fifth) for pitch in (67, 63, 61, 64)] == ["C", "S", "A", "X"]


def test_parse_value_reads_the_interval_window_in_semitones():
    parsed = parse_value("S,0.333,<M3,m-2>")
    assert (parsed.tone_type, parsed.steps, parsed.window) == ("S", 4, (-1, 4))
    assert parse_value("R,1.000").window is None


@pytest.mark.parametrize("value", ["Q,0.250", "C", "C,abc", "C,0.000", "C,0.25,M3,m-2", "C,0.25,<Z9,P1>"])
def test_parse_value_rejects_malformed_values_with_the_value_received(value):
    with pytest.raises(ValueError, match=re.escape(repr(value))):
        parse_value(value)


def test_realizing_the_corpus_values_reproduces_rhythm_and_tone_types(course_corpus):
    values = course_values(course_corpus)
    realization = realize_values(values, course_corpus, seed=0)
    original = melody_events(course_corpus)
    assert [(event.onset, event.duration, event.is_rest) for event in realization.melody] == \
           [(event.onset, event.duration, event.is_rest) for event in original]
    assert realization.measure_indices == list(range(18))
    agree = total = 0
    for value, event in zip(values, realization.melody):
        if event.is_rest:
            continue
        measure = course_corpus.measures[int(event.onset // 4)]
        position = round(event.onset % 4 * 12)
        chord = [chord for chord in measure.harmony if chord.offset <= position][-1]
        agree += tone_type(event.pitch, chord) == value[0]
        total += 1
    assert agree / total >= 0.95


def test_realization_is_reproducible_with_a_seed_and_stays_in_the_melody_range(course_corpus):
    values = course_values(course_corpus)[:80]
    first = realize_values(values, course_corpus, seed=7).melody
    assert realize_values(values, course_corpus, seed=7).melody == first
    assert realize_values(values, course_corpus, seed=8).melody != first
    low, high = course_corpus.melody_range
    assert all(low <= event.pitch <= high for event in first if not event.is_rest)


def test_values_longer_than_the_corpus_wrap_round_its_measures(course_corpus):
    values = ["C,1.000"] * (4 * 20)
    assert realize_values(values, course_corpus, seed=0, start_measure=16).measure_indices == \
           [16, 17] + list(range(18))


def test_values_to_stream_has_melody_and_accompaniment_and_survives_a_midi_round_trip(
        course_corpus, tmp_path):
    values = course_values(course_corpus)[:60]
    score = values_to_stream(values, course_corpus, seed=1)
    parts = list(score.parts)
    assert parts[0].partName == "Melody"
    melody_notes = len(parts[0].flatten().notes)
    assert melody_notes == sum(1 for value in values if not value.startswith("R"))
    assert [part.partName for part in parts[1:]] == ["Piano", "Bass", "Trumpet", "French Horn"]
    assert sum(len(part.flatten().notes) for part in parts[1:]) > 0
    path = write_midi(score, tmp_path / "generated.mid", tempo_bpm=130)
    tracks = mido.MidiFile(path).tracks
    counts = [sum(1 for message in track if message.type == "note_on" and message.velocity > 0)
              for track in tracks]
    assert melody_notes in counts and sum(counts) > melody_notes
    tempos = [mido.tempo2bpm(message.tempo) for track in tracks for message in track
              if message.type == "set_tempo"]
    assert tempos == [pytest.approx(130, abs=0.01)]
    assert len(read_monophonic(path)) > 0


def test_the_course_corpus_survives_a_json_round_trip(course_corpus):
    assert CourseCorpus.from_dict(course_corpus.to_dict()) == course_corpus


def test_a_file_without_the_course_tracks_gives_a_jazz_data_error_naming_them(tmp_path):
    path = write_mido_file(tmp_path / "solo.mid", [(60, 0, 1), (62, 1, 1)])
    with pytest.raises(JazzDataError, match=r"track not found: .*solo\.mid \(no track named 'Guitar'"):
        parse_course_midi(path)
