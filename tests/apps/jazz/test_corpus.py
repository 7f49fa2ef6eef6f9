"""corpus: loading with a cache, skipping bad files, splitting by solo, windows, tokenizer."""
import shutil
import time

import numpy as np
import pytest

from apps.jazz import corpus as corpus_module
from apps.jazz.corpus import (JazzTokenizer, SkippedFilesWarning, Solo, load_corpus, make_windows,
                              make_windows_for_solos, split_by_solo)
from apps.jazz.errors import JazzDataError
from apps.jazz.note_tokens import NoteTokenSettings
from tests.apps.jazz.conftest import write_mido_file
from tests.conftest import dataset_path

SOLO_COUNT = 24


@pytest.fixture(scope="module")
def some_solos(tmp_path_factory):
    """A folder with copies of the first WJazzD solos (names with apostrophes included)."""
    source = dataset_path("jazz", "wjazzd_midi")
    folder = tmp_path_factory.mktemp("solos")
    names = sorted(path.name for path in source.glob("*.mid"))[:SOLO_COUNT - 1]
    names.append("CharlieParker_Billie'sBounce_FINAL.mid")
    for name in names:
        shutil.copy(source / name, folder / name)
    return folder


def test_second_load_comes_from_the_cache_and_is_identical(some_solos, tmp_path, monkeypatch):
    first = load_corpus(some_solos, tokens="notes", cache_dir=tmp_path, progress=False)
    assert len(first) == SOLO_COUNT and first.skipped == []

    def must_not_parse(path):
        raise AssertionError(f"parsed {path} although it was cached")

    monkeypatch.setattr(corpus_module, "read_monophonic", must_not_parse)
    started = time.perf_counter()
    second = load_corpus(some_solos, tokens="notes", cache_dir=tmp_path, progress=False)
    assert time.perf_counter() - started < 2.0
    assert second.solos == first.solos


def test_course_corpus_second_load_is_fast_and_identical(first_course_load, metheny_path,
                                                         course_cache_dir):
    first, first_seconds = first_course_load
    started = time.perf_counter()
    second = load_corpus([metheny_path], tokens="course", cache_dir=course_cache_dir, progress=False)
    second_seconds = time.perf_counter() - started
    assert second.solos == first.solos
    assert second_seconds < 1.0 and second_seconds < first_seconds / 3


def test_changing_a_setting_or_the_file_misses_the_cache(some_solos, tmp_path):
    load_corpus(some_solos, cache_dir=tmp_path, progress=False)
    entries = len(list(tmp_path.iterdir()))
    load_corpus(some_solos, cache_dir=tmp_path, progress=False,
                note_settings=NoteTokenSettings(max_duration_steps=24))
    assert len(list(tmp_path.iterdir())) == 2 * entries
    changed = tmp_path / "changed.mid"
    write_mido_file(changed, [(60, 0, 1)])
    before = load_corpus([changed], cache_dir=tmp_path, progress=False)
    write_mido_file(changed, [(62, 0, 1)])
    after = load_corpus([changed], cache_dir=tmp_path, progress=False)
    assert (before[0].tokens, after[0].tokens) == (("p60", "d12"), ("p62", "d12"))


def test_unreadable_files_are_skipped_with_one_warning_naming_and_counting_them(some_solos, tmp_path):
    bad_folder = tmp_path / "mixed"
    shutil.copytree(some_solos, bad_folder)
    (bad_folder / "a.mid").write_bytes(b"not midi at all")
    write_mido_file(bad_folder / "b.mid", [(36, 0, 1)], channel=9)
    with pytest.warns(SkippedFilesWarning) as caught:
        loaded = load_corpus(bad_folder, cache_dir=tmp_path / "cache", progress=False)
    assert len(loaded) == SOLO_COUNT
    message = str(caught[0].message)
    assert message.startswith(f"skipped 2 of {SOLO_COUNT + 2} files: ")
    assert "a.mid (not a MIDI file)" in message and "b.mid (drum-only MIDI)" in message
    assert [reason for _, reason in loaded.skipped] == ["not a MIDI file", "drum-only MIDI"]
    with pytest.warns(SkippedFilesWarning, match="skipped 2 of"):  # failures are cached too
        load_corpus(bad_folder, cache_dir=tmp_path / "cache", progress=False)


def test_no_usable_file_is_a_jazz_data_error(tmp_path):
    (tmp_path / "x.mid").write_bytes(b"")
    with pytest.raises(JazzDataError, match="no usable MIDI files.*x.mid"):
        load_corpus([tmp_path / "x.mid", tmp_path / "missing.mid"], progress=False)


def test_load_corpus_rejects_an_unknown_token_kind():
    with pytest.raises(ValueError, match="got 'chords'"):
        load_corpus([], tokens="chords")


def test_real_solos_give_tokens_from_a_small_vocabulary(some_solos):
    loaded = load_corpus(some_solos, progress=False)
    tokenizer = JazzTokenizer().fit(loaded.token_lists)
    assert loaded.token_count > 10_000
    assert 40 < len(tokenizer) < 200


def fake_solo(name, content_hash=None, length=10):
    return Solo(name, f"/data/{name}", content_hash or f"hash-{name}", ("p60", "d6") * length, ())


def test_split_is_by_whole_solo_with_no_file_on_both_sides():
    solos = [fake_solo(f"s{index}.mid") for index in range(40)]
    training, validation = split_by_solo(solos, 0.2, seed=3)
    assert len(validation) == 8 and len(training) == 32
    assert {solo.name for solo in training}.isdisjoint(solo.name for solo in validation)
    assert sorted(training + validation, key=lambda solo: solo.name) == sorted(solos, key=lambda s: s.name)


def test_split_depends_on_seed_not_on_input_order_and_keeps_duplicates_together():
    solos = [fake_solo(f"s{index}.mid") for index in range(30)] + [fake_solo("copy.mid", "hash-s0.mid")]
    _, validation = split_by_solo(solos, 0.3, seed=1)
    _, reversed_validation = split_by_solo(solos[::-1], 0.3, seed=1)
    assert {solo.name for solo in validation} == {solo.name for solo in reversed_validation}
    names = {solo.name for solo in validation}
    assert ("s0.mid" in names) == ("copy.mid" in names)
    assert {solo.name for solo in split_by_solo(solos, 0.3, seed=2)[1]} != names


def test_split_keeps_one_solo_on_each_side_and_rejects_bad_fractions():
    training, validation = split_by_solo([fake_solo("a"), fake_solo("b")], 0.01, seed=0)
    assert len(training) == len(validation) == 1
    with pytest.raises(ValueError, match="got 1.0"):
        split_by_solo([fake_solo("a")], 1.0, seed=0)


def test_make_windows_gives_inputs_and_targets_shifted_by_one():
    inputs, targets = make_windows(list(range(10)), Tx=4, stride=3)
    assert inputs.tolist() == [[0, 1, 2, 3], [3, 4, 5, 6]]
    assert targets.tolist() == [[1, 2, 3, 4], [4, 5, 6, 7]]
    assert make_windows([1, 2, 3], Tx=3, stride=1)[0].shape == (0, 3)
    with pytest.raises(ValueError, match="Tx=0"):
        make_windows([1, 2, 3], Tx=0, stride=1)


def test_windows_for_solos_never_span_two_solos():
    inputs, targets = make_windows_for_solos([[1] * 6, [2] * 6], Tx=5, stride=1)
    assert inputs.shape == (2, 5)
    assert all(len(set(row)) == 1 for row in np.concatenate([inputs, targets], axis=1).tolist())


def test_tokenizer_encodes_decodes_and_maps_unseen_tokens_to_unk():
    tokenizer = JazzTokenizer(metadata={"kind": "notes"}).fit([["p60", "d6", "p62", "d6"], ["rest", "d6"]])
    assert tokenizer.vocabulary[:2] == ["<UNK>", "d6"]
    ids = tokenizer.encode(["p60", "d6", "p99"])
    assert ids[-1] == 0 and tokenizer.decode(ids) == ["p60", "d6", "<UNK>"]
    assert tokenizer.count_unknown(["p60", "p99", "x"]) == 2
    with pytest.raises(ValueError, match="got 99"):
        tokenizer.decode([99])


def test_tokenizer_json_round_trip_and_save_next_to_a_checkpoint(tmp_path):
    tokenizer = JazzTokenizer(metadata={"kind": "course", "Tx": 30}).fit([["C,0.250", "R,0.500"]])
    restored = JazzTokenizer.from_json(tokenizer.to_json())
    assert restored.vocabulary == tokenizer.vocabulary and restored.metadata == tokenizer.metadata
    path = tokenizer.save(tmp_path / "tokenizer.json")
    assert JazzTokenizer.load(path).vocabulary == tokenizer.vocabulary
    with pytest.raises(FileExistsError):
        tokenizer.save(path)
    with pytest.raises(ValueError, match="format"):
        JazzTokenizer.from_json('{"vocabulary": ["<UNK>"]}')


def test_tokenizer_min_count_drops_rare_tokens():
    tokenizer = JazzTokenizer().fit([["a", "a", "b"]], min_count=2)
    assert tokenizer.vocabulary == ["<UNK>", "a"]
