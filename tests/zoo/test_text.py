"""zoo.text.Vocabulary: id order, top-k building, UNK/EOS, one-hot, padding, persistence, errors."""
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zoo.text import Vocabulary

DINOSAURS = ["aachenosaurus\n", "aardonyx\n", "abdallahsaurus\n", "abelisaurus\n"]


def test_ids_are_pad_then_unk_then_eos_then_tokens_in_given_order():
    vocabulary = Vocabulary(["b", "a"], level="char", eos=True)
    tokens = [vocabulary.id_to_token(i) for i in range(len(vocabulary))]
    assert tokens == ["<PAD>", "<UNK>", "\n", "b", "a"]
    assert (vocabulary.pad_id, vocabulary.unk_id, vocabulary.eos_id) == (0, 1, 2)


def test_vocabulary_without_specials_starts_at_zero():
    vocabulary = Vocabulary(["x", "y"], level="word", pad=False, unk=False)
    assert vocabulary.token_to_id("x") == 0 and len(vocabulary) == 2
    assert vocabulary.pad_id is None and vocabulary.unk_id is None


def test_build_keeps_the_most_frequent_tokens_with_alphabetical_ties():
    corpus = [["b", "a", "c", "c"], "d b a c"]  # c:3, a:2, b:2, d:1
    vocabulary = Vocabulary.build(corpus, level="word", max_size=3)
    assert vocabulary.tokens == ["c", "a", "b"]
    assert Vocabulary.build(reversed(corpus), level="word", max_size=3).tokens == ["c", "a", "b"]


def test_build_min_count_drops_rare_tokens():
    vocabulary = Vocabulary.build(["aab", "ac"], level="char", min_count=2, pad=False, unk=False)
    assert vocabulary.tokens == ["a"]


def test_unknown_tokens_map_to_unk_and_are_reported():
    vocabulary = Vocabulary.build([["The", "cat"]], level="word", lowercase=True)
    assert vocabulary.tokens == ["cat", "the"]  # a tie, broken alphabetically
    assert vocabulary.encode("the CAT sat") == [3, 2, vocabulary.unk_id]
    assert vocabulary.unknown_tokens(["Sat", "cat", "sat", "mat"]) == ["sat", "mat"]
    assert "THE" in vocabulary and "mat" not in vocabulary


def test_unknown_token_without_unk_raises_value_error_naming_it():
    vocabulary = Vocabulary(["O"], level="word", unk=False)
    with pytest.raises(ValueError, match="'B-XYZ' is not in"):
        vocabulary.token_to_id("B-XYZ")


def test_char_level_eos_is_the_newline_that_ends_each_dinosaur_name():
    vocabulary = Vocabulary.build(DINOSAURS, level="char", eos=True)
    assert "\n" not in vocabulary.tokens
    ids = vocabulary.encode("aardonyx\n")
    assert ids[-1] == vocabulary.eos_id
    assert vocabulary.encode("aardonyx", add_eos=True) == ids
    assert vocabulary.decode(ids) == "aardonyx"
    assert vocabulary.decode(ids, strip_special=False) == "aardonyx\n"


def test_word_level_decode_returns_tokens_and_drops_padding():
    vocabulary = Vocabulary(["hello", "world"], level="word", eos=True)
    assert vocabulary.eos_token == "<EOS>"
    ids = vocabulary.encode("hello world", add_eos=True) + [0, 0]
    assert vocabulary.decode(ids) == ["hello", "world"]
    assert vocabulary.decode(ids, strip_special=False) == ["hello", "world", "<EOS>", "<PAD>", "<PAD>"]


def test_one_hot_has_vocabulary_width_and_one_one_per_position():
    vocabulary = Vocabulary.build(DINOSAURS, level="char", eos=True)
    ids = np.array([vocabulary.encode("aard"), vocabulary.encode("abel")])
    encoded = vocabulary.one_hot(ids)
    assert encoded.shape == (2, 4, len(vocabulary)) and encoded.dtype == np.float32
    np.testing.assert_array_equal(encoded.sum(-1), 1.0)
    np.testing.assert_array_equal(encoded.argmax(-1), ids)


def test_encode_batch_right_pads_with_pad_id_zero():
    vocabulary = Vocabulary(["a", "b"], level="char")
    batch = vocabulary.encode_batch(["ab", "a", ""])
    assert batch.dtype == np.int32
    np.testing.assert_array_equal(batch, [[2, 3], [2, 0], [0, 0]])
    assert vocabulary.encode_batch(["a"], max_length=4).shape == (1, 4)


def test_encode_batch_refuses_silent_truncation():
    vocabulary = Vocabulary(["a"], level="char")
    with pytest.raises(ValueError, match="sequence 1 has length 3, longer than max_length=2"):
        vocabulary.encode_batch(["a", "aaa"], max_length=2)
    truncated = vocabulary.encode_batch(["aaa"], max_length=2, truncate=True)
    np.testing.assert_array_equal(truncated, [[2, 2]])


def test_save_then_load_gives_an_equal_vocabulary(tmp_path):
    vocabulary = Vocabulary.build([["Über", "café", "the"]], level="word", lowercase=True, eos=True)
    path = tmp_path / "vocabulary.json"
    vocabulary.save(path)
    loaded = Vocabulary.load(path)
    assert loaded == vocabulary and loaded.encode("CAFÉ über") == vocabulary.encode("café über")
    assert list(tmp_path.iterdir()) == [path]  # the temporary file was renamed away
    assert json.loads(path.read_text(encoding="utf-8"))["tokens"] == vocabulary.tokens


@pytest.mark.parametrize("make, message", [
    (lambda: Vocabulary([], level="sentence"), "level must be one of"),
    (lambda: Vocabulary(["ab"], level="char"), "single character"),
    (lambda: Vocabulary(["a", "a"], level="char"), "must be distinct"),
    (lambda: Vocabulary(["<PAD>"], level="word"), "special token"),
    (lambda: Vocabulary.build("a single string", level="char"), "single string"),
    (lambda: Vocabulary.build(["ab"], level="char", max_size=0), "max_size must be a positive"),
    (lambda: Vocabulary.build([[1, 2]], level="word"), "must be a string"),
    (lambda: Vocabulary(["a"], level="char").id_to_token(5), r"in \[0, 3\)"),
    (lambda: Vocabulary(["a"], level="char").one_hot([3]), r"in \[0, 3\)"),
    (lambda: Vocabulary(["a"], level="char").encode("a", add_eos=True), "eos=True"),
    (lambda: Vocabulary(["a"], level="char", pad=False).encode_batch(["a"]), "pad=False"),
    (lambda: Vocabulary.from_json({"tokens": []}), "format"),
])
def test_bad_arguments_raise_value_error_saying_what_was_received(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=30), min_size=1, max_size=5))
def test_in_vocabulary_text_round_trips_through_encode_and_decode(texts):
    characters = Vocabulary.build(texts, level="char", eos=True)
    for text in texts:
        assert characters.decode(characters.encode(text), strip_special=False) == text
        assert characters.unknown_tokens(text) == []
    words = Vocabulary.build(texts, level="word")
    for text in texts:
        assert words.decode(words.encode(text)) == text.split()
