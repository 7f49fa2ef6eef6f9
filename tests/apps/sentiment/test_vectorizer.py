"""apps.sentiment.vectorizer: ids and truncation flags, JSON round trip, checks on input text."""
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.sentiment.data import SentimentDataError
from apps.sentiment.vectorizer import (check_text, describe_review_stats, extend_vocabulary,
                                       known_word_fraction, load_vectorizer, make_vectorizer,
                                       review_stats, save_vectorizer, token_counts, vectorize)

TRAIN_TEXTS = ["A good movie, a GOOD story!", "a bad movie", "Good acting; bad script.",
               "the movie was good"]


@pytest.fixture(scope="module")
def small_vectorizer():
    return make_vectorizer(TRAIN_TEXTS, max_tokens=20, max_length=4)


def test_vocabulary_has_padding_and_unknown_first_then_training_words_by_frequency(
        small_vectorizer):
    vocabulary = small_vectorizer.get_vocabulary()
    assert vocabulary[:2] == ["", "[UNK]"]
    assert vocabulary[2:5] == ["good", "movie", "a"]
    assert "story" in vocabulary and "," not in vocabulary and "GOOD" not in vocabulary


def test_vocabulary_is_capped_at_max_tokens_including_the_two_specials():
    vectorizer = make_vectorizer(TRAIN_TEXTS, max_tokens=5, max_length=3)
    assert vectorizer.get_vocabulary() == ["", "[UNK]", "good", "movie", "a"]


def test_extend_vocabulary_appends_the_known_new_words_and_keeps_the_old_ids():
    vectorizer = make_vectorizer(TRAIN_TEXTS, max_tokens=5, max_length=3)
    extended, added = extend_vocabulary(vectorizer, ["Great GREAT movie", "zzz great story ok"],
                                        known={"great", "story", "movie"})
    # story was cut by max_tokens=5 from the training vocabulary; zzz and ok are not known
    assert added == 2
    assert extended.get_vocabulary() == ["", "[UNK]", "good", "movie", "a", "great", "story"]
    assert extended.get_config()["max_tokens"] == 7
    ids, _ = vectorize(extended, ["good great ok"])
    assert ids.tolist() == [[2, 5, 1]]
    unchanged, none_added = extend_vocabulary(vectorizer, ["good movie"], known=None)
    assert none_added == 0 and unchanged is vectorizer


def test_extend_vocabulary_without_a_known_set_adds_every_new_word_and_leaves_room():
    vectorizer = make_vectorizer(TRAIN_TEXTS, max_tokens=50, max_length=3)
    extended, added = extend_vocabulary(vectorizer, ["Brand-new words!"])
    assert added == 2 and set(extended.get_vocabulary()[-2:]) == {"brandnew", "words"}
    assert extended.get_config()["max_tokens"] == 50


def test_vectorize_keeps_the_first_tokens_pads_right_and_flags_truncated_texts(small_vectorizer):
    ids, truncated = vectorize(small_vectorizer, ["good movie", "a good movie a bad movie",
                                                  "a good bad movie", "", "zzz good"])
    good, movie, a, bad = (small_vectorizer.get_vocabulary().index(word)
                           for word in ("good", "movie", "a", "bad"))
    assert ids.dtype == np.int32 and ids.shape == (5, 4)
    assert ids.tolist() == [[good, movie, 0, 0], [a, good, movie, a], [a, good, bad, movie],
                            [0, 0, 0, 0], [1, good, 0, 0]]
    assert truncated.tolist() == [False, True, False, False, False]


def test_vectorize_gives_the_same_ids_as_the_layer_itself(small_vectorizer):
    texts = TRAIN_TEXTS + ["an unseen review that runs well past four tokens", "bad"]
    ids, _ = vectorize(small_vectorizer, texts)
    assert np.array_equal(ids, np.asarray(small_vectorizer(np.array(texts, dtype=object))))


def test_vectorize_of_no_texts_is_an_empty_batch(small_vectorizer):
    ids, truncated = vectorize(small_vectorizer, [])
    assert ids.shape == (0, 4) and truncated.shape == (0,)


@pytest.mark.parametrize("standardize", ["lower_and_strip_punctuation", "lower", None])
def test_json_round_trip_gives_identical_vocabulary_settings_and_ids(tmp_path, standardize):
    vectorizer = make_vectorizer(TRAIN_TEXTS, max_tokens=50, max_length=6,
                                 standardize=standardize)
    path = tmp_path / "vectorizer.json"
    save_vectorizer(vectorizer, path)
    loaded = load_vectorizer(path)
    texts = TRAIN_TEXTS + ["Good, GOOD good! unseen words here and more"]
    assert loaded.get_vocabulary() == vectorizer.get_vocabulary()
    for original, restored in zip(vectorize(vectorizer, texts), vectorize(loaded, texts)):
        assert np.array_equal(original, restored)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["max_length"] == 6 and document["standardize"] == standardize
    assert document["truncation"] == "keep_first"
    assert [entry.name for entry in tmp_path.iterdir()] == ["vectorizer.json"]


def test_save_vectorizer_replaces_an_existing_file(tmp_path, small_vectorizer):
    path = tmp_path / "vectorizer.json"
    path.write_text("old")
    save_vectorizer(small_vectorizer, path)
    assert load_vectorizer(path).get_vocabulary() == small_vectorizer.get_vocabulary()


def test_load_vectorizer_of_a_missing_file_names_it(tmp_path):
    with pytest.raises(SentimentDataError, match=r"vectorizer file not found: .*missing\.json"):
        load_vectorizer(tmp_path / "missing.json")


@pytest.mark.parametrize("content, problem", [
    ("not json", r"not a vectorizer JSON file"),
    ('{"format": "something else"}', r"expected \"format\""),
    ('{"format": "apps.sentiment.vectorizer", "version": 9}', r"version 9"),
    ('{"format": "apps.sentiment.vectorizer", "version": 1, "max_tokens": 10, "max_length": 0, '
     '"standardize": null, "split": "whitespace", "truncation": "keep_first"}', r"max_length"),
    ('{"format": "apps.sentiment.vectorizer", "version": 1, "max_tokens": 10, "max_length": 3, '
     '"standardize": null, "split": "whitespace", "truncation": "keep_first", '
     '"vocabulary": ["[UNK]", "a"]}', r"starting with '', '\[UNK\]'"),
    ('{"format": "apps.sentiment.vectorizer", "version": 1, "max_tokens": 10, "max_length": 3, '
     '"standardize": null, "split": "whitespace", "truncation": "keep_first", '
     '"vocabulary": ["", "[UNK]", "a", "a"]}', r"distinct"),
])
def test_load_vectorizer_rejects_a_malformed_file(tmp_path, content, problem):
    path = tmp_path / "vectorizer.json"
    path.write_text(content)
    with pytest.raises(SentimentDataError, match=problem):
        load_vectorizer(path)


@pytest.mark.parametrize("options, problem", [
    ({"max_length": 0}, r"max_length must be a positive integer; received max_length=0"),
    ({"max_length": 2.5}, r"max_length must be a positive integer"),
    ({"max_tokens": 2}, r"max_tokens must be an integer >= 3"),
    ({"standardize": str.lower}, r"standardize must be one of"),
    ({"standardize": "upper"}, r"standardize must be one of"),
])
def test_make_vectorizer_rejects_unsupported_settings(options, problem):
    with pytest.raises(ValueError, match=problem):
        make_vectorizer(TRAIN_TEXTS, **options)


def test_make_vectorizer_needs_a_list_of_texts():
    with pytest.raises(SentimentDataError, match=r"received a single str"):
        make_vectorizer("a good movie")
    with pytest.raises(SentimentDataError, match=r"no training texts"):
        make_vectorizer([])


# ------------------------------------------------------------------------ predict input
@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_check_text_rejects_empty_or_whitespace_only_text(text):
    with pytest.raises(SentimentDataError, match=r"empty or only whitespace"):
        check_text(text)


@pytest.mark.parametrize("value", [None, 3, b"bytes", ["a list"]])
def test_check_text_rejects_what_is_not_a_string(value):
    with pytest.raises(SentimentDataError, match=r"expected the text as a string; received"):
        check_text(value)


def test_check_text_rejects_unpaired_surrogates_and_returns_good_text_unchanged():
    with pytest.raises(SentimentDataError, match=r"not valid Unicode"):
        check_text("bad \ud800 text")
    assert check_text(" There is nothing to like in this movie. ") == \
        " There is nothing to like in this movie. "


def test_known_word_fraction_counts_vocabulary_words_among_all_tokens(small_vectorizer):
    assert known_word_fraction(small_vectorizer, "Good movie!") == 1.0
    assert known_word_fraction(small_vectorizer, "good zzz qqq xxx") == 0.25
    assert known_word_fraction(small_vectorizer, "zzz qqq") == 0.0
    assert known_word_fraction(small_vectorizer, "!!! ...") == 0.0  # no token at all
    with pytest.raises(SentimentDataError):
        known_word_fraction(small_vectorizer, "  ")


# st.text() never yields unpaired surrogates, which Python strings may hold: join characters
ANY_CHARACTER = st.one_of(st.characters(), st.sampled_from(["\ud800", "\udbff", "\udc00"]),
                          st.sampled_from(" \t\n\r\x00\x1c\u2028\u200b\ufeff<>/.,!'"))


def any_text(max_size):
    return st.lists(ANY_CHARACTER, max_size=max_size).map("".join)


@settings(max_examples=60, deadline=None)
@given(any_text(40))
def test_check_text_of_random_text_raises_only_sentiment_data_error(text):
    try:
        assert check_text(text) is text
    except SentimentDataError as error:
        assert "\n" not in str(error)


@settings(max_examples=30, deadline=None)
@given(st.lists(any_text(30), max_size=4))
def test_vectorize_of_random_texts_raises_only_sentiment_data_error(small_vectorizer, texts):
    try:
        ids, truncated = vectorize(small_vectorizer, texts)
    except SentimentDataError:
        return
    assert ids.shape == (len(texts), 4) and truncated.shape == (len(texts),)
    assert ids.min(initial=0) >= 0 and ids.max(initial=0) < len(small_vectorizer.get_vocabulary())


@settings(max_examples=30, deadline=None)
@given(st.one_of(st.none(), st.integers(), st.binary(), st.text(max_size=10),
                 st.lists(st.one_of(st.text(max_size=5), st.integers(), st.none()), max_size=3)))
def test_vectorize_of_random_values_raises_only_sentiment_data_error(small_vectorizer, value):
    try:
        vectorize(small_vectorizer, value)
    except SentimentDataError:
        pass


# ---------------------------------------------------------------------------- stats
def test_review_stats_reports_token_percentiles_and_fractions_over_lengths():
    texts = [" ".join(["word"] * count) for count in range(1, 101)]
    stats = review_stats(texts, percentiles=(50, 90), lengths=(10, 95))
    assert stats["count"] == 100 and stats["min"] == 1 and stats["max"] == 100
    assert stats["mean"] == 50.5 and stats["percentiles"] == pytest.approx({50: 50.5, 90: 90.1})
    assert stats["longer_than"] == {10: 0.9, 95: 0.05}
    assert describe_review_stats(stats).startswith("100 texts, tokens: mean 50")


def test_token_counts_follow_the_vectorizer_standardization():
    assert token_counts(["Hello, world !", "a - b"]).tolist() == [2, 2]
    assert token_counts(["Hello, world !", "a - b"], standardize=None).tolist() == [3, 3]


def test_imdb_train_review_lengths_median_172_and_90th_percentile_452_tokens(imdb_splits):
    stats = review_stats(imdb_splits["train"].texts)
    assert stats["percentiles"][50] == 172 and stats["percentiles"][90] == 452
    assert 0.28 < stats["longer_than"][256] < 0.29
