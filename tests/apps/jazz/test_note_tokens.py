"""note_tokens: quantization, encode/decode round trips, transposition, vocabulary size."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.jazz.midi_io import NoteEvent, read_monophonic
from apps.jazz.note_tokens import (GRID, PITCH_RANGE, NoteTokenSettings, augment_keys, decode_tokens,
                                   encode_solo, quantize_solo, transpose)
from tests.conftest import dataset_path


def events_from_steps(items):
    """NoteEvents laid end to end from (pitch or None, steps of 1/12 quarter note) pairs."""
    events, position = [], 0
    for pitch, steps in items:
        events.append(NoteEvent(pitch, position / GRID, steps / GRID))
        position += steps
    return events


def test_encode_gives_alternating_pitch_and_duration_tokens():
    solo = events_from_steps([(67, 6), (65, 6), (None, 12), (60, 48)])
    assert encode_solo(solo) == ["p67", "d6", "p65", "d6", "rest", "d12", "p60", "d48"]


@st.composite
def quantized_solos(draw):
    """Solos already on the grid: notes of 1..48 steps, rests of 3..48 steps between some of them."""
    items = []
    for _ in range(draw(st.integers(1, 40))):
        if items and items[-1][0] is not None and draw(st.booleans()):
            items.append((None, draw(st.integers(3, 48))))
        items.append((draw(st.integers(*PITCH_RANGE)), draw(st.integers(1, 48))))
    return events_from_steps(items)


@settings(max_examples=50, deadline=None)
@given(solo=quantized_solos())
def test_decode_of_encode_gives_back_a_quantized_solo_exactly(solo):
    assert decode_tokens(encode_solo(solo), strict=True) == solo


@settings(max_examples=50, deadline=None)
@given(notes=st.lists(st.tuples(st.integers(*PITCH_RANGE), st.floats(0, 200), st.floats(0, 10)),
                      min_size=1, max_size=30))
def test_decode_of_encode_equals_quantize_for_any_input(notes):
    solo = [NoteEvent(pitch, onset, duration) for pitch, onset, duration in notes]
    assert decode_tokens(encode_solo(solo), strict=True) == quantize_solo(solo)
    assert quantize_solo(quantize_solo(solo)) == quantize_solo(solo)


def test_quantize_rounds_to_twelfths_cuts_overlaps_and_keeps_the_top_of_a_chord():
    solo = [NoteEvent(60, 10.01, 2.0), NoteEvent(64, 10.0, 0.2), NoteEvent(62, 10.34, 0.3)]
    assert quantize_solo(solo) == events_from_steps([(64, 4), (62, 4)])


def test_short_gaps_join_the_note_before_and_long_ones_become_rests():
    solo = [NoteEvent(60, 0.0, 0.5), NoteEvent(62, 0.5 + 2 / GRID, 0.5), NoteEvent(64, 2.0, 0.5)]
    assert quantize_solo(solo) == events_from_steps([(60, 8), (62, 6), (None, 10), (64, 6)])


def test_long_notes_and_rests_are_clipped_to_the_maximum_duration():
    solo = [NoteEvent(60, 0.0, 9.0), NoteEvent(62, 20.0, 1.0)]
    assert encode_solo(solo) == ["p60", "d48", "rest", "d48", "p62", "d12"]
    short = NoteTokenSettings(max_duration_steps=24)
    assert encode_solo(solo, settings=short) == ["p60", "d24", "rest", "d24", "p62", "d12"]


def test_input_rest_events_are_ignored_and_rederived_from_gaps():
    with_rests = [NoteEvent(60, 0.0, 1.0), NoteEvent(None, 1.0, 1.0), NoteEvent(62, 2.0, 1.0)]
    assert encode_solo(with_rests) == encode_solo([with_rests[0], with_rests[2]])


def test_lenient_decode_skips_broken_alternation_and_unknown_tokens():
    tokens = ["d6", "p60", "p62", "d6", "<UNK>", "rest", "d3", "p64"]
    assert decode_tokens(tokens) == events_from_steps([(62, 6), (None, 3)])


@pytest.mark.parametrize("tokens", [["d6"], ["p60", "p62", "d6"], ["p60"], ["p60", "x"], ["p300", "d3"]])
def test_strict_decode_rejects_malformed_token_sequences(tokens):
    with pytest.raises(ValueError, match="token|pitch"):
        decode_tokens(tokens, strict=True)


def test_settings_reject_nonsense_with_the_value_received():
    with pytest.raises(ValueError, match="got 0"):
        NoteTokenSettings(max_duration_steps=0)


def test_transpose_moves_every_pitch_and_keeps_rhythm_and_rests():
    solo = events_from_steps([(60, 6), (None, 6), (67, 12)])
    assert transpose(solo, 5) == events_from_steps([(65, 6), (None, 6), (72, 12)])
    assert transpose(transpose(solo, -7), 7) == solo


def test_transpose_refuses_to_leave_the_pitch_range():
    with pytest.raises(ValueError, match="108 to 110, outside the allowed range 21..108"):
        transpose([NoteEvent(108, 0.0, 1.0)], 2)


def test_augment_keys_gives_twelve_keys_and_drops_those_out_of_range():
    middle = events_from_steps([(60, 6), (72, 6)])
    assert [shift for shift, _ in augment_keys(middle)] == list(range(-5, 7))
    high = events_from_steps([(60, 6), (105, 6)])
    kept = augment_keys(high)
    assert [shift for shift, _ in kept] == list(range(-5, 4))
    assert all(max(event.pitch for event in notes) <= PITCH_RANGE[1] for _, notes in kept)


def test_vocabulary_of_all_possible_tokens_is_under_two_thousand():
    pitches = PITCH_RANGE[1] - PITCH_RANGE[0] + 1
    assert pitches + 1 + NoteTokenSettings().max_duration_steps + 1 < 2000


def test_a_real_solo_round_trips_through_tokens():
    path = dataset_path("jazz", "wjazzd_midi", "CharlieParker_Billie'sBounce_FINAL.mid")
    quantized = quantize_solo(read_monophonic(path))
    tokens = encode_solo(quantized)
    assert len(tokens) == 2 * len(quantized)
    assert sum(1 for event in quantized if not event.is_rest) == 303  # notes in the file (SOURCE.md)
    assert decode_tokens(tokens, strict=True) == quantized
