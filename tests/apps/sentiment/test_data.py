"""apps.sentiment.data: IMDB from archives or folders (cached), SST files, validation split."""
import collections
import re
import time

import keras
import numpy as np
import pytest

from apps.sentiment import data
from apps.sentiment.data import (BINARY_LABEL_NAMES, FINE_LABEL_NAMES, IMDB_SHA256, IMDB_URL,
                                 Examples, SentimentDataError, clean_review, load_imdb, load_sst,
                                 validation_split)
from tests.apps.sentiment.conftest import FAKE_REVIEWS, fake_files, write_fake_archive
from tests.conftest import dataset_path


def expected_fake_split(split):
    """(texts, labels, ratings) of the fake reviews of a split: negatives, then positives, by id."""
    rows = sorted((polarity == "pos", number, rating, clean_review(text))
                  for name, polarity, number, rating, text in FAKE_REVIEWS if name == split)
    return [row[3] for row in rows], [int(row[0]) for row in rows], [row[2] for row in rows]


# --------------------------------------------------------------------- IMDB, fake data
def test_archive_extracted_folder_and_canonical_archive_give_identical_examples(fake_imdb,
                                                                               tmp_path):
    from_folder = load_imdb(fake_imdb["folder"], cache_dir=tmp_path / "cache")
    from_archive = load_imdb(fake_imdb["archive"], cache_dir=tmp_path / "cache")
    from_canonical = load_imdb(fake_imdb["canonical"], use_cache=False)
    for split in ("train", "test"):
        assert from_folder[split] == from_archive[split] == from_canonical[split]
        texts, labels, ratings = expected_fake_split(split)
        assert from_archive[split].texts == texts
        assert from_archive[split].labels.tolist() == labels
        assert from_archive[split].ratings.tolist() == ratings


def test_reviews_are_negatives_then_positives_by_id_with_line_breaks_as_spaces(fake_imdb):
    train = load_imdb(fake_imdb["folder"])["train"]
    assert train.labels.tolist() == [0, 0, 1, 1]
    assert train.ratings.tolist() == [4, 1, 7, 9]
    assert train.texts[1] == "Dull and far too long. Avoid."
    assert train.texts[3] == "A wonderful film.  I loved every minute."
    assert train.label_names == BINARY_LABEL_NAMES


def test_unsup_and_other_files_are_skipped(fake_imdb):
    splits = load_imdb(fake_imdb["archive"], use_cache=False)
    assert set(splits) == {"train", "test"}
    assert len(splits["train"]) == 4 and len(splits["test"]) == 2
    assert "An unlabelled review." not in splits["train"].texts


@pytest.mark.parametrize("given", ["archive file", "folder holding the archive",
                                   "aclImdb folder", "folder holding aclImdb"])
def test_data_dir_may_name_an_archive_an_aclimdb_folder_or_a_folder_holding_one(fake_imdb,
                                                                                given):
    path = {"archive file": fake_imdb["archive"],
            "folder holding the archive": fake_imdb["archive"].parent,
            "aclImdb folder": fake_imdb["folder"],
            "folder holding aclImdb": fake_imdb["folder"].parent}[given]
    assert len(load_imdb(path, use_cache=False)["train"]) == 4


def test_missing_path_error_says_where_it_looked_and_how_to_get_the_data(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(SentimentDataError) as caught:
        load_imdb(missing)
    message = str(caught.value)
    assert "\n" not in message
    assert str(missing) in message and "does not exist" in message
    assert "downloaded automatically" in message and "--data DIR" in message
    for name in ("aclImdb_v1_train_test.tar.gz", "aclImdb_v1.tar.gz", "aclImdb/"):
        assert name in message


def test_folder_without_imdb_data_lists_what_was_looked_for(tmp_path):
    (tmp_path / "notes.txt").write_text("nothing here")
    expected = rf"IMDB data not found in {re.escape(str(tmp_path))}: looked for aclImdb_v1_train_"
    with pytest.raises(SentimentDataError, match=expected):
        load_imdb(tmp_path)


def test_rating_outside_its_folder_range_is_an_error_naming_the_file(tmp_path):
    files = fake_files()
    files["train/pos/11_3.txt"] = "A three-star review filed as positive."
    archive = write_fake_archive(tmp_path / "bad.tar.gz", files)
    with pytest.raises(SentimentDataError, match=r"train/pos/11_3\.txt: rating 3 .* \(expected "
                                                 r"7\.\.10\)"):
        load_imdb(archive, use_cache=False)


def test_archive_missing_a_polarity_is_an_error(tmp_path):
    files = {name: text for name, text in fake_files().items() if not name.startswith("test/neg")}
    archive = write_fake_archive(tmp_path / "partial.tar", files, mode="w")
    with pytest.raises(SentimentDataError, match=r"found no reviews under test/neg/"):
        load_imdb(archive, use_cache=False)


def test_damaged_archive_is_a_sentiment_data_error(tmp_path):
    broken = tmp_path / "aclImdb_v1.tar.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00" + b"not really gzip" * 10)
    with pytest.raises(SentimentDataError, match=r"not a readable tar archive"):
        load_imdb(broken, use_cache=False)


def test_second_load_of_an_archive_comes_from_the_cache(fake_imdb, tmp_path, monkeypatch):
    first = load_imdb(fake_imdb["archive"], cache_dir=tmp_path)
    assert len(list(tmp_path.glob("imdb-parsed-*.npz"))) == 1

    def refuse(path):
        raise AssertionError("the archive was read again")

    monkeypatch.setattr(data, "read_imdb_archive", refuse)
    second = load_imdb(fake_imdb["archive"], cache_dir=tmp_path)
    assert second["train"] == first["train"] and second["test"] == first["test"]


def test_damaged_cache_is_read_again_from_the_archive(fake_imdb, tmp_path):
    first = load_imdb(fake_imdb["archive"], cache_dir=tmp_path)
    (cache_file,) = tmp_path.glob("imdb-parsed-*.npz")
    cache_file.write_bytes(b"garbage")
    assert load_imdb(fake_imdb["archive"], cache_dir=tmp_path)["train"] == first["train"]
    assert cache_file.stat().st_size > len(b"garbage")


def test_no_data_dir_downloads_the_canonical_archive_with_its_sha256(fake_imdb, tmp_path,
                                                                      monkeypatch):
    calls = []

    def fake_get_file(fname, origin, **options):
        calls.append((fname, origin, options))
        return str(fake_imdb["canonical"])

    monkeypatch.setattr(keras.utils, "get_file", fake_get_file)
    splits = load_imdb(cache_dir=tmp_path)
    assert len(splits["train"]) == 4
    ((fname, origin, options),) = calls
    assert fname == "aclImdb_v1.tar.gz" and origin == IMDB_URL
    assert options["file_hash"] == IMDB_SHA256 and options["cache_dir"] == str(tmp_path)


def test_failed_download_explains_how_to_get_the_data(tmp_path, monkeypatch):
    def failing_get_file(*args, **options):
        raise Exception("URL fetch failure on https://ai.stanford.edu/: None -- "
                        "[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(keras.utils, "get_file", failing_get_file)
    with pytest.raises(SentimentDataError) as caught:
        load_imdb(cache_dir=tmp_path)
    message = str(caught.value)
    assert "could not download" in message and "name resolution" in message
    assert "--data DIR" in message and "\n" not in message


def test_canonical_archive_hash_is_the_tfds_sha256():
    assert re.fullmatch(r"[0-9a-f]{64}", IMDB_SHA256)
    assert IMDB_SHA256.startswith("c40f74a18d3b") and data.IMDB_ARCHIVE_SIZE == 84125825


def test_clean_review_turns_every_br_form_into_a_space():
    assert clean_review("a<br />b<br/>c<BR>d<br  />e") == "a b c d e"


# ---------------------------------------------------------------------- IMDB, real data
def test_imdb_train_and_test_have_12500_reviews_of_each_label(imdb_splits):
    for split in ("train", "test"):
        assert len(imdb_splits[split]) == 25000
        assert imdb_splits[split].label_counts() == {0: 12500, 1: 12500}


def test_imdb_train_star_ratings_match_source_md(imdb_splits):
    train = imdb_splits["train"]
    positive = collections.Counter(train.ratings[train.labels == 1].tolist())
    negative = collections.Counter(train.ratings[train.labels == 0].tolist())
    assert positive == {7: 2496, 8: 3009, 9: 2263, 10: 4732}
    assert negative == {1: 5100, 2: 2284, 3: 2420, 4: 2696}


def test_imdb_binary_label_agrees_with_the_star_rating(imdb_splits):
    for examples in imdb_splits.values():
        assert np.array_equal(examples.labels, (examples.ratings >= 7).astype(np.int64))
        assert set(examples.ratings.tolist()) == {1, 2, 3, 4, 7, 8, 9, 10}


def test_imdb_reviews_have_no_html_line_breaks_and_are_not_empty(imdb_splits):
    for examples in imdb_splits.values():
        assert not any("<br" in text.lower() for text in examples.texts)
        assert all(text.strip() for text in examples.texts)


def test_second_imdb_load_uses_the_cache_and_is_fast_and_identical(imdb_first_load, imdb_archive,
                                                                   imdb_cache_dir, monkeypatch):
    first, first_seconds = imdb_first_load

    def refuse(path):
        raise AssertionError("the archive was read again")

    monkeypatch.setattr(data, "read_imdb_archive", refuse)
    started = time.perf_counter()
    second = load_imdb(imdb_archive, cache_dir=imdb_cache_dir)
    seconds = time.perf_counter() - started
    assert second["train"] == first["train"] and second["test"] == first["test"]
    assert seconds < max(5.0, first_seconds / 2), (seconds, first_seconds)


# ------------------------------------------------------------------------------- SST
def write_sst(folder, prefix, lines_per_split):
    folder.mkdir(parents=True, exist_ok=True)
    for split, lines in lines_per_split.items():
        (folder / f"{prefix}.{split}").write_text("".join(f"{line}\n" for line in lines))


def test_sst_files_give_labels_and_sentences_and_may_sit_in_an_sst_subfolder(tmp_path):
    write_sst(tmp_path / "sst", "stsa.fine", {"train": ["4 a stirring , funny film", "",
                                                        "0 dull ."],
                                             "dev": ["2 um , no. ."], "test": ["3 fine"]})
    splits = load_sst(tmp_path, fine=True)
    assert splits["train"].texts == ["a stirring , funny film", "dull ."]
    assert splits["train"].labels.tolist() == [4, 0]
    assert splits["train"].label_names == FINE_LABEL_NAMES
    assert splits["train"].ratings is None
    assert splits["dev"].texts == ["um , no. ."]


def test_sst_label_out_of_range_is_an_error_with_file_and_line(tmp_path):
    write_sst(tmp_path, "stsa.binary", {"train": ["1 good", "3 too high"], "dev": ["0 bad"],
                                       "test": ["1 ok"]})
    with pytest.raises(SentimentDataError, match=r"stsa\.binary\.train:2: expected '<label> "
                                                 r"<sentence>' with a label in 0\.\.1"):
        load_sst(tmp_path, fine=False)


def test_missing_sst_files_error_says_where_it_looked(tmp_path):
    with pytest.raises(SentimentDataError) as caught:
        load_sst(tmp_path, fine=False)
    message = str(caught.value)
    assert str(tmp_path) in message and "stsa.binary.train" in message and "--data DIR" in message


def test_sst_fine_must_be_a_bool(tmp_path):
    with pytest.raises(ValueError, match=r"fine must be True .* received fine=5"):
        load_sst(tmp_path, fine=5)


@pytest.mark.parametrize("fine, expected", [
    (False, {"train": {0: 3310, 1: 3610}, "dev": {0: 428, 1: 444}, "test": {0: 912, 1: 909}}),
    (True, {"train": {0: 1092, 1: 2218, 2: 1624, 3: 2322, 4: 1288},
            "dev": {0: 139, 1: 289, 2: 229, 3: 279, 4: 165},
            "test": {0: 279, 1: 633, 2: 389, 3: 510, 4: 399}}),
])
def test_sst_sentence_and_label_counts_match_source_md(fine, expected):
    splits = load_sst(dataset_path("sentiment"), fine=fine)
    assert {split: examples.label_counts() for split, examples in splits.items()} == expected
    sizes = {split: len(examples) for split, examples in splits.items()}
    assert sizes == ({"train": 8544, "dev": 1101, "test": 2210} if fine else
                     {"train": 6920, "dev": 872, "test": 1821})


# ------------------------------------------------------------------ validation split
def make_examples(labels):
    return Examples([f"text {index}" for index in range(len(labels))], labels, None,
                    FINE_LABEL_NAMES)


def test_validation_split_is_stratified_disjoint_complete_and_ordered():
    examples = make_examples([0] * 50 + [1] * 30 + [4] * 20)
    train, validation = validation_split(examples, fraction=0.1, seed=3)
    assert validation.label_counts() == {0: 5, 1: 3, 2: 0, 3: 0, 4: 2}
    assert train.label_counts() == {0: 45, 1: 27, 2: 0, 3: 0, 4: 18}
    assert sorted(train.texts + validation.texts) == sorted(examples.texts)
    order = [examples.texts.index(text) for text in train.texts]
    assert order == sorted(order)


def test_validation_split_is_deterministic_and_depends_on_the_seed():
    examples = make_examples([0, 1] * 50)
    first = validation_split(examples, seed=0)[1].texts
    assert validation_split(examples, seed=0)[1].texts == first
    assert validation_split(examples, seed=1)[1].texts != first


@pytest.mark.parametrize("fraction", [0, 1, -0.1, 1.5, "0.1", True])
def test_validation_split_rejects_a_fraction_outside_zero_to_one(fraction):
    with pytest.raises(ValueError, match=r"fraction must be a number between 0 and 1"):
        validation_split(make_examples([0, 1] * 5), fraction=fraction)


def test_validation_split_that_leaves_validation_empty_is_an_error():
    with pytest.raises(ValueError, match=r"empty validation part"):
        validation_split(make_examples([0, 1, 1]), fraction=0.1)


def test_imdb_validation_split_takes_1250_of_each_label(imdb_splits):
    train, validation = validation_split(imdb_splits["train"])
    assert validation.label_counts() == {0: 1250, 1: 1250}
    assert len(train) == 22500 and validation.ratings is not None


def test_examples_reject_mismatched_lengths_and_out_of_range_labels():
    with pytest.raises(ValueError, match=r"one label per text; received 2 texts and 1 labels"):
        Examples(["a", "b"], [0])
    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.1"):
        Examples(["a"], [2])


def test_joined_examples_keep_order_labels_and_ratings():
    from apps.sentiment.data import FINE_LABEL_NAMES, Examples

    first = Examples(["a", "b"], [0, 1], [2, 9])
    second = Examples(["c"], [1], [8])
    both = first.joined(second)
    assert both.texts == ["a", "b", "c"] and both.labels.tolist() == [0, 1, 1]
    assert both.ratings.tolist() == [2, 9, 8]
    with pytest.raises(ValueError, match="ratings"):
        first.joined(Examples(["c"], [1]))
    with pytest.raises(ValueError, match="label names"):
        first.joined(Examples(["c"], [4], label_names=FINE_LABEL_NAMES))


def test_training_data_on_train_and_validation_appends_the_validation_texts(fake_imdb,
                                                                            tmp_path):
    from apps.sentiment.datasets import load_training_data

    folder, cache = fake_imdb["folder"], tmp_path / "cache"
    held_out = load_training_data("imdb", folder, validation_split=0.5, cache_dir=cache)
    both = load_training_data("imdb", folder, validation_split=0.5, cache_dir=cache,
                              train_on="train+validation")
    assert len(held_out["train"]) == len(held_out["validation"]) == 2
    assert both["validation"] == held_out["validation"]
    assert both["train"] == held_out["train"].joined(held_out["validation"])
    with pytest.raises(ValueError, match="train_on"):
        load_training_data("imdb", folder, cache_dir=cache, train_on="everything")
