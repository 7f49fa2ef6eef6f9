"""apps.ner.data: reading CoNLL files (errors with file:line, IOB1 -> IOB2), and feature arrays."""
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from seqeval.metrics.sequence_labeling import get_entities

from apps.ner.data import (CASING_CATEGORIES, CONLL2003_TAGS, ConllFormatError, Sentence,
                           casing_feature, char_vocabulary, encode_sentences, entity_counts,
                           iob1_to_iob2, load_splits, read_conll, shorten_word, tag_vocabulary,
                           tags_from_ids, word_vocabulary)
from tests.conftest import dataset_path

IOB2_TEXT = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER
"""
IOB1_TEXT = IOB2_TEXT.replace("B-ORG", "I-ORG").replace("B-MISC", "I-MISC").replace("B-PER", "I-PER")


def write(tmp_path, text, name="sample.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------ reading
def test_read_conll_skips_docstart_and_splits_sentences_on_blank_lines(tmp_path):
    sentences = read_conll(write(tmp_path, IOB2_TEXT))
    assert [s.tokens for s in sentences] == [["EU", "rejects", "German"], ["Peter", "Blackburn"]]
    assert [s.tags for s in sentences] == [["B-ORG", "O", "B-MISC"], ["B-PER", "I-PER"]]
    assert [s.line for s in sentences] == [3, 7]


def test_each_sentence_records_its_story_the_docstart_lines_before_it(tmp_path):
    second_story = "-DOCSTART- -X- -X- O\n\nOslo NNP B-NP B-LOC\n\n\nwins VBZ B-VP O\n"
    sentences = read_conll(write(tmp_path, IOB2_TEXT + "\n" + second_story))
    assert [s.document for s in sentences] == [1, 1, 2, 2]
    assert [s.document for s in read_conll(write(tmp_path, "A NN O\n\nB NN O\n", "a.txt"))] == \
        [0, 0]


def test_iob1_is_detected_and_converted_to_the_same_iob2_tags(tmp_path):
    expected = read_conll(write(tmp_path, IOB2_TEXT, "iob2.txt"))
    assert read_conll(write(tmp_path, IOB1_TEXT, "iob1.txt")) == expected
    assert read_conll(tmp_path / "iob1.txt", scheme="iob1") == expected


def test_iob1_to_iob2_starts_entities_after_o_another_type_or_sentence_start():
    assert iob1_to_iob2(["I-PER", "I-PER", "O", "I-LOC", "I-ORG", "B-ORG", "I-ORG"]) == \
        ["B-PER", "I-PER", "O", "B-LOC", "B-ORG", "B-ORG", "I-ORG"]


def test_scheme_iob2_rejects_an_iob1_file_naming_the_line(tmp_path):
    path = write(tmp_path, IOB1_TEXT)
    expected = rf"^{re.escape(str(path))}:3: an I- tag starts an entity.*scheme='iob1'"
    with pytest.raises(ConllFormatError, match=expected):
        read_conll(path, scheme="iob2")


def test_a_line_with_another_column_count_names_file_and_line(tmp_path):
    path = write(tmp_path, "EU NNP B-NP B-ORG\nrejects VBZ B-VP O\nGerman JJ B-MISC\n")
    with pytest.raises(ConllFormatError) as caught:
        read_conll(path)
    assert str(caught.value) == f"{path}:3: expected 4 columns like the lines before, found 3"
    assert (caught.value.path, caught.value.line) == (str(path), 3)


@pytest.mark.parametrize("tag, message", [
    ("B-", "unknown tag 'B-'"),
    ("PER", "unknown tag 'PER'"),
    ("E-PER", "tag 'E-PER' is IOBES"),
    ("S-LOC", "tag 'S-LOC' is IOBES"),
])
def test_an_unknown_tag_is_a_format_error_at_its_line(tmp_path, tag, message):
    path = write(tmp_path, f"EU B-ORG\n\nBlackburn {tag}\n")
    with pytest.raises(ConllFormatError, match=rf"^{re.escape(str(path))}:3: {message}"):
        read_conll(path)


@pytest.mark.parametrize("text", ["", "\n\n", "-DOCSTART- -X- -X- O\n\n"])
def test_a_file_without_sentences_is_a_format_error(tmp_path, text):
    with pytest.raises(ConllFormatError, match="no sentences found"):
        read_conll(write(tmp_path, text))


def test_a_single_column_file_is_a_format_error(tmp_path):
    with pytest.raises(ConllFormatError, match=r":1: expected at least 2 columns"):
        read_conll(write(tmp_path, "EU\n"))


def test_bytes_that_are_not_utf8_are_a_format_error_at_their_line(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("EU B-ORG\n\nM\u00fcller B-PER\n".encode("latin-1"))
    with pytest.raises(ConllFormatError, match=rf"^{re.escape(str(path))}:3: not UTF-8 text"):
        read_conll(path)


def test_tag_column_selects_another_column_and_is_checked(tmp_path):
    path = write(tmp_path, "EU B-NP B-ORG\nrejects B-VP O\n")
    assert read_conll(path, tag_column=1)[0].tags == ["B-NP", "B-VP"]
    with pytest.raises(ConllFormatError, match="tag_column=3 does not name a tag column"):
        read_conll(path, tag_column=3)
    with pytest.raises(ConllFormatError, match="tag_column=0 does not name a tag column"):
        read_conll(path, tag_column=0)


def test_bad_scheme_is_a_value_error_listing_the_choices(tmp_path):
    expected = r"scheme must be one of \('auto', 'iob1', 'iob2'\); received scheme='bio'"
    with pytest.raises(ValueError, match=expected):
        read_conll(write(tmp_path, IOB2_TEXT), scheme="bio")


def test_load_splits_accepts_the_original_file_names(tmp_path):
    for name in ("eng.train", "eng.testa", "eng.testb"):
        write(tmp_path, IOB1_TEXT, name)
    splits = load_splits(tmp_path)
    assert set(splits) == {"train", "valid", "test"}
    assert splits["test"][0].tags == ["B-ORG", "O", "B-MISC"]


def test_load_splits_says_where_it_looked_and_what_it_expected(tmp_path):
    write(tmp_path, IOB2_TEXT, "train.txt")
    with pytest.raises(FileNotFoundError) as caught:
        load_splits(tmp_path)
    message = str(caught.value)
    assert str(tmp_path) in message and "train.txt, valid.txt, test.txt" in message
    assert "eng.train, eng.testa, eng.testb" in message and "holds: train.txt" in message
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_splits(tmp_path / "absent")


LINE = st.one_of(
    st.text(max_size=40),
    st.just(""),
    st.just("-DOCSTART- -X- -X- O"),
    st.builds(lambda token, tag: f"{token} {tag}",
              st.text(alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc")),
                      min_size=1, max_size=8),
              st.sampled_from(CONLL2003_TAGS + ("E-PER", "B-", "X"))),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(LINE, max_size=12))
def test_random_lines_either_read_as_iob2_or_raise_a_one_line_conll_format_error(tmp_path, lines):
    path = tmp_path / "random.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    try:
        sentences = read_conll(path)
    except ConllFormatError as error:
        assert str(error).startswith(str(path)) and "\n" not in str(error)
        return
    for sentence in sentences:
        assert len(sentence.tokens) == len(sentence.tags) > 0
        assert iob1_to_iob2(sentence.tags) == sentence.tags  # valid IOB2 after reading


# ----------------------------------------------------------------------- the data set
SOURCE_COUNTS = {  # SOURCE.md: sentences, tokens, entities (PER / LOC / ORG / MISC)
    "train": (14041, 203621, 23499, {"PER": 6600, "LOC": 7140, "ORG": 6321, "MISC": 3438}),
    "valid": (3250, 51362, 5942, {"PER": 1842, "LOC": 1837, "ORG": 1341, "MISC": 922}),
    "test": (3453, 46435, 5648, {"PER": 1617, "LOC": 1668, "ORG": 1661, "MISC": 702}),
}


@pytest.fixture(scope="module")
def conll_splits():
    dataset_path("conll2003", "train.txt")
    return load_splits(dataset_path("conll2003"))


@pytest.fixture(scope="module")
def conll_iob1_splits():
    dataset_path("conll2003", "original_iob1", "eng.train")
    return load_splits(dataset_path("conll2003", "original_iob1"))


@pytest.mark.parametrize("split", ["train", "valid", "test"])
def test_conll2003_counts_match_source_md(conll_splits, split):
    sentences, tokens, entities, per_type = SOURCE_COUNTS[split]
    counts = entity_counts(conll_splits[split])
    assert (counts["sentences"], counts["tokens"], counts["entities"]) == (sentences, tokens, entities)
    assert counts["per_type"] == per_type


@pytest.mark.parametrize("split", ["train", "valid", "test"])
def test_iob1_and_iob2_copies_give_identical_entity_spans(conll_splits, conll_iob1_splits, split):
    iob2, iob1 = conll_splits[split], conll_iob1_splits[split]
    assert [s.tokens for s in iob1] == [s.tokens for s in iob2]
    assert [get_entities(s.tags) for s in iob1] == [get_entities(s.tags) for s in iob2]


def test_conll2003_training_features_have_one_padding_mask(conll_splits):
    train = conll_splits["train"]
    features, labels = encode_sentences(train, word_vocabulary(train), char_vocabulary(train),
                                        tag_vocabulary())
    real = labels != 0
    assert labels.shape == (14041, 113) and real.sum() == 203621
    for name in ("words", "casing"):
        np.testing.assert_array_equal(features[name] != 0, real)
    np.testing.assert_array_equal(features["chars"][:, :, 0] != 0, real)


# ----------------------------------------------------------------------------- features
SENTENCES = [
    Sentence(["Harry", "Potter", "visited", "the", "U.S.", "in", "1996"],
             ["B-PER", "I-PER", "O", "O", "B-LOC", "O", "O"], 1),
    Sentence(["Hermione", "laughed", "."], ["B-PER", "O", "O"], 9),
]


def test_tag_vocabulary_is_pad_then_the_nine_tags_in_fixed_order():
    vocabulary = tag_vocabulary()
    assert [vocabulary.id_to_token(i) for i in range(len(vocabulary))] == ["<PAD>", *CONLL2003_TAGS]
    with pytest.raises(ValueError, match="'B-DATE' is not in"):
        vocabulary.encode(["B-DATE"])


@pytest.mark.parametrize("token, category", [
    ("1996", "numeric"), ("1996-08-22", "mostly_numeric"), ("6-4", "mostly_numeric"),
    ("spell", "all_lower"), ("'s", "all_lower"), ("EU", "all_upper"), ("U.S.", "all_upper"),
    ("Harry", "initial_upper"), ("McDonald", "initial_upper"), ("x4Y", "contains_digit"),
    (".", "other"), ("--", "other"),
])
def test_casing_feature_categories(token, category):
    assert CASING_CATEGORIES[casing_feature(token)] == category
    assert casing_feature(token) != 0  # 0 is padding


def test_word_vocabulary_lowercases_and_appends_extra_words():
    vocabulary = word_vocabulary(SENTENCES, extra_words=["Hogwarts", "the"])
    assert vocabulary.token_to_id("HARRY") == vocabulary.token_to_id("harry") != vocabulary.unk_id
    assert vocabulary.tokens[-1] == "hogwarts" and vocabulary.tokens.count("the") == 1


def test_encode_sentences_pads_every_array_with_zero():
    words, chars, tags = word_vocabulary(SENTENCES), char_vocabulary(SENTENCES), tag_vocabulary()
    features, labels = encode_sentences(SENTENCES, words, chars, tags, max_length=8, max_word_length=6)
    assert features["words"].shape == features["casing"].shape == labels.shape == (2, 8)
    assert features["chars"].shape == (2, 8, 6)
    assert all(array.dtype == np.int32 for array in [*features.values(), labels])
    assert (labels[1, 3:] == 0).all() and (features["chars"][1, 3:] == 0).all()
    assert tags.decode(labels[0]) == SENTENCES[0].tags
    assert chars.decode(features["chars"][0, 4]) == "U.S."


def test_a_word_longer_than_max_word_length_keeps_its_first_and_last_characters():
    assert shorten_word("internationalization", 7) == "inteion"
    assert shorten_word("Potter", 6) == "Potter"
    chars = char_vocabulary(SENTENCES)
    features, _ = encode_sentences(SENTENCES, word_vocabulary(SENTENCES), chars, max_word_length=5)
    assert chars.decode(features["chars"][1, 0]) == "Herne"  # "Her" + "ne"


def test_a_sentence_longer_than_max_length_is_an_error_not_truncated():
    with pytest.raises(ValueError, match=r"sentence 0 \(line 1\) has 7 tokens, more than max_length=5"):
        encode_sentences(SENTENCES, word_vocabulary(SENTENCES), char_vocabulary(SENTENCES),
                         tag_vocabulary(), max_length=5)


def test_untagged_token_lists_encode_without_labels_and_unknowns_map_to_unk():
    words, chars = word_vocabulary(SENTENCES), char_vocabulary(SENTENCES)
    features, labels = encode_sentences([["Harry", "met", "Ώ"]], words, chars)
    assert labels is None
    assert features["words"][0, 1] == words.unk_id and features["chars"][0, 2, 0] == chars.unk_id


def test_tags_from_ids_cuts_to_sentence_length_and_reads_pad_as_o():
    tags = tag_vocabulary()
    ids = np.array([[1, 4, 0, 0], [0, 8, 9, 0]])
    assert tags_from_ids(ids, [3, 3], tags) == [["O", "B-LOC", "O"], ["O", "B-MISC", "I-MISC"]]
