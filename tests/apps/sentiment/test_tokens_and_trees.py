"""apps.sentiment.tokens (PTB-style words) and apps.sentiment.trees (SST phrases)."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.sentiment.data import SentimentDataError, load_sst
from apps.sentiment.tokens import split_all, split_words
from apps.sentiment.trees import (binary_label, load_sst_phrases, parse_tree, phrases_from_lines,
                                  tree_phrases)
from tests.conftest import dataset_path


# ------------------------------------------------------------------------------ tokens
@pytest.mark.parametrize("raw, expected", [
    ("It's not a bad film, but it doesn't work.",
     "it 's not a bad film , but it does n't work ."),
    ("There is nothing to like in this movie.", "there is nothing to like in this movie ."),
    ("I can't -- really!? \"Great\" (not) J.R.R. 2.5 stars...",
     "i ca n't -- really ! ? \" great \" ( not ) j.r.r . 2.5 stars ..."),
    ("the film’s “best” moment", "the film 's \" best \" moment"),
    ("  many\tspaces\n\nhere ", "many spaces here"),
])
def test_split_words_lowercases_and_separates_punctuation_and_clitics(raw, expected):
    assert split_words(raw) == expected


def test_split_words_leaves_sst_sentences_as_they_are():
    sst = ("it 's a charming and often affecting journey .",
           "they presume their audience wo n't sit still for a sociology lesson , however "
           "entertainingly presented .", "um , no . .", "`` the other '' and `` the self , ''")
    assert split_all(sst[:3]) == list(sst[:3])
    assert split_words(sst[3]) == "\" the other \" and \" the self , \""


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=60))
def test_split_words_is_idempotent(text):
    once = split_words(text)
    assert split_words(once) == once


# ------------------------------------------------------------------------------- trees
HAND_TREE = "(3 (2 (2 The) (2 Rock)) (4 (3 (2 is) (4 (2 n't) (3 bad))) (2 .)))"


def test_parse_tree_gives_the_leaves_and_every_node_span():
    leaves, nodes = parse_tree(HAND_TREE)
    assert leaves == ["The", "Rock", "is", "n't", "bad", "."]
    assert sorted(nodes, key=lambda node: (node[1], -node[2])) == [
        (3, 0, 6), (2, 0, 2), (2, 0, 1), (2, 1, 2), (4, 2, 6), (3, 2, 5), (2, 2, 3),
        (4, 3, 5), (2, 3, 4), (3, 4, 5), (2, 5, 6)]


def test_tree_phrases_are_lower_cased_token_strings_one_per_node():
    phrases = tree_phrases(HAND_TREE)
    assert len(phrases) == 11
    assert ("the rock is n't bad .", 3) in phrases
    assert ("is n't bad", 3) in phrases and ("n't bad", 4) in phrases and ("rock", 2) in phrases


def test_a_leaf_may_hold_non_space_whitespace():
    leaves, _ = parse_tree("(2 (2 its) (2 2\xa01\\/2))")
    assert leaves == ["its", "2\xa01\\/2"]


@pytest.mark.parametrize("line, problem", [
    ("(3 (2 a) (2 b)", "unclosed"),
    ("(3 (2 a)) )", "unbalanced"),
    ("(7 (2 a))", "label 0..4"),
    ("(x (2 a))", "label 0..4"),
    ("(2 a b)", "only child"),
    ("(2 (2 a) b)", "only child"),
    ("(2 a (2 b))", "a word and a phrase"),
    ("(2)", "empty node"),
    ("(2 a) (2 b)", "after the end"),
    ("", "no tree"),
])
def test_parse_tree_rejects_malformed_trees(line, problem):
    with pytest.raises(ValueError, match=problem):
        parse_tree(line)


def test_fine_phrases_keep_all_five_labels_and_are_deduplicated():
    lines = [HAND_TREE, "(1 (2 The) (1 (0 awful) (2 Rock)))", ""]
    examples = phrases_from_lines(lines, fine=True)
    # 11 phrases of the first tree + "the awful rock", "awful rock", "awful"; "the", "rock"
    # occur in both trees and count once
    assert len(examples) == 14 and len(set(examples.texts)) == 14
    labels = dict(zip(examples.texts, examples.labels.tolist()))
    assert labels["the rock is n't bad ."] == 3 and labels["awful"] == 0
    assert labels["the awful rock"] == 1 and labels["rock"] == 2
    assert examples.texts[0] == "the"  # order of first occurrence (brackets close first)


def test_binary_phrases_drop_neutral_and_map_0_1_to_negative_3_4_to_positive():
    assert [binary_label(label) for label in range(5)] == [0, 0, None, 1, 1]
    examples = phrases_from_lines([HAND_TREE, "(1 (2 The) (1 (0 awful) (2 Rock)))"], fine=False)
    labels = dict(zip(examples.texts, examples.labels.tolist()))
    assert labels == {"the rock is n't bad .": 1, "is n't bad .": 1, "is n't bad": 1,
                      "n't bad": 1, "bad": 1, "the awful rock": 0, "awful rock": 0, "awful": 0}
    assert examples.label_names == ("negative", "positive")


def test_a_phrase_seen_with_different_labels_keeps_the_most_frequent_then_the_first():
    lines = ["(3 (3 fine))", "(1 (1 fine))", "(1 (1 fine))", "(4 (4 ok))", "(0 (0 ok))"]
    labels = dict(zip(*(lambda e: (e.texts, e.labels.tolist()))(
        phrases_from_lines(lines, fine=True))))
    assert labels == {"fine": 1, "ok": 4}


def test_a_malformed_tree_file_names_the_file_and_line(tmp_path):
    (tmp_path / "trees").mkdir()
    (tmp_path / "trees" / "train.txt").write_text("(2 (2 a) (2 b))\n(2 (2 a)\n")
    with pytest.raises(SentimentDataError, match=r"train\.txt:2: not an SST tree"):
        load_sst_phrases(tmp_path, fine=True)


def test_missing_trees_say_where_they_were_looked_for_and_what_to_do(tmp_path):
    with pytest.raises(SentimentDataError, match=r"SST trees not found: looked for .*trees.*"
                                                 r"--no-phrases"):
        load_sst_phrases(tmp_path, fine=False)


def test_real_sst_phrase_counts_and_every_training_sentence_is_a_phrase():
    folder = dataset_path("sentiment")
    binary = load_sst_phrases(folder, fine=False)
    fine = load_sst_phrases(folder, fine=True)
    assert (len(binary), len(fine)) == (77195, 156816)
    assert binary.label_counts() == {0: 34786, 1: 42409}
    assert fine.label_counts() == {0: 7190, 1: 27511, 2: 79858, 3: 33013, 4: 9244}
    sentences = load_sst(folder, fine=False)
    train = set(split_all(sentences["train"].texts))
    assert train <= set(binary.texts)
    assert len(set(split_all(sentences["test"].texts)) & set(binary.texts)) <= 2
