"""Reading text files into names or running-text sequences, and rejecting bad files in one line."""
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from apps.charlm import data
from apps.common.errors import UserError


def write(tmp_path, content, name="text.txt"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def test_dinosaur_names_are_read_as_lowercased_names_ending_with_eos(dinos_path):
    corpus = data.load_corpus(dinos_path, validation_split=0.1, seed=0)
    vocabulary = corpus.vocabulary
    assert corpus.text_format == "names"
    assert len(vocabulary) == 29                  # a-z and the newline (EOS), plus PAD and UNK
    assert len(corpus.train) + len(corpus.validation) == 1536
    first = corpus.train[0]
    assert vocabulary.decode(first) == "aachenosaurus"
    assert first[len("aachenosaurus")] == vocabulary.eos_id
    assert np.all(first[len("aachenosaurus") + 1:] == vocabulary.pad_id)
    assert corpus.pad_id == 0


def test_running_text_is_cut_into_contiguous_chunks_with_the_last_part_held_out(tmp_path):
    text = "To be, or not to be.\n\nThat is the question.\n" * 20
    corpus = data.load_corpus(write(tmp_path, text), sequence_length=10, validation_split=0.25)
    vocabulary = corpus.vocabulary
    assert corpus.text_format == "running" and not vocabulary.eos and corpus.pad_id is None
    cut = len(text) - round(len(text) * 0.25)
    assert corpus.train.shape == (cut // 10, 10)
    assert vocabulary.decode(corpus.train.reshape(-1)) == text[: (cut // 10) * 10]
    assert vocabulary.decode(corpus.validation.reshape(-1)) == text[cut:][: (len(text) - cut) // 10 * 10]
    assert "T" in vocabulary                       # running text keeps its case by default


def test_format_detection_tells_name_lists_from_prose():
    assert data.detect_format("Aachenosaurus\nAardonyx\nAbelisaurus") == "names"
    assert data.detect_format("First Citizen:\nBefore we proceed.\n\nAll:\nSpeak, speak.") == "running"
    assert data.detect_format("x" * 200 + "\n" + "y" * 200) == "running"


def test_a_validation_split_keeps_at_least_one_training_name(tmp_path):
    corpus = data.load_corpus(write(tmp_path, "ab\ncd"), validation_split=0.9)
    assert len(corpus.train) == 1 and len(corpus.validation) == 1


@pytest.mark.parametrize("content, expected", [
    (b"", "empty"),
    (b" \n\n\t ", "empty"),
    (b"abc\n\xff\xfeabc", "not UTF-8 text: byte 0xff at offset 4 (line 2)"),
])
def test_unusable_files_raise_one_line_errors_naming_the_file(tmp_path, content, expected):
    path = write(tmp_path, content)
    with pytest.raises(UserError) as caught:
        data.load_corpus(path)
    message = str(caught.value)
    assert expected in message and str(path) in message and "\n" not in message


def test_a_missing_file_or_a_folder_is_named(tmp_path):
    with pytest.raises(UserError, match="text file not found: .*nothing.txt"):
        data.load_corpus(tmp_path / "nothing.txt")
    with pytest.raises(UserError, match="found a folder"):
        data.load_corpus(tmp_path)


def test_the_default_text_error_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_DATASETS", str(tmp_path))
    with pytest.raises(UserError) as caught:
        data.load_corpus(None)
    assert str(tmp_path / "charlm" / "dinos.txt") in str(caught.value)


def test_crlf_line_ends_and_a_bom_are_not_characters(tmp_path):
    corpus = data.load_corpus(write(tmp_path, b"\xef\xbb\xbfAb\r\nCd\r\n"), validation_split=0)
    assert sorted(corpus.vocabulary.tokens) == ["a", "b", "c", "d"]


@settings(max_examples=60, deadline=None)
@given(content=st.binary(max_size=300), text_format=st.sampled_from(["auto", "names", "running"]))
def test_random_bytes_either_load_or_raise_a_one_line_user_error(content, text_format):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "random.txt"
        path.write_bytes(content)
        try:
            corpus = data.load_corpus(path, text_format=text_format, sequence_length=8,
                                      validation_split=0.2)
        except UserError as error:
            assert "\n" not in str(error) and str(error)
            return
    assert corpus.train.ndim == 2 and len(corpus.train) >= 1
    assert corpus.train.dtype == np.int32
    assert corpus.train.max() < len(corpus.vocabulary)
