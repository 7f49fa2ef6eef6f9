"""Property-based tests of the sentiment file readers: random and mutated bytes for the IMDB
archive, random lines for the SST sentence files and trees. Each either reads or raises the
documented SentimentDataError (one line, naming the file); nothing else may come out."""
import io
import tarfile
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from apps.sentiment.data import (BINARY_LABEL_NAMES, FINE_LABEL_NAMES, SentimentDataError,
                                 read_imdb_archive, read_sst_file)
from apps.sentiment.trees import phrases_from_lines
from tests.apps.sentiment.conftest import write_fake_archive

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def one_line(error) -> str:
    message = str(error)
    assert message and "\n" not in message
    return message


def archive_bytes() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        return write_fake_archive(Path(folder) / "a.tar.gz").read_bytes()


VALID_ARCHIVE = archive_bytes()


@st.composite
def mutated_archives(draw):
    """The fake archive with bytes flipped, cut short, or replaced by random bytes."""
    data = bytearray(VALID_ARCHIVE)
    kind = draw(st.sampled_from(("flip", "truncate", "random")))
    if kind == "random":
        return draw(st.binary(max_size=2000))
    if kind == "truncate":
        return bytes(data[:draw(st.integers(0, len(data) - 1))])
    for _ in range(draw(st.integers(1, 8))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


@SETTINGS
@given(mutated_archives())
@example(b"\x1f\x8b\x08")        # a gzip header cut short: tarfile itself raised TypeError
@example(b"\x1f\x8b")
@example(b"")
def test_damaged_imdb_archives_read_or_raise_a_one_line_error_naming_the_file(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "aclImdb_v1.tar.gz"
        path.write_bytes(data)
        try:
            splits = read_imdb_archive(path)
        except SentimentDataError as error:
            assert str(path) in one_line(error)
        else:
            assert set(splits) == {"train", "test"}
            assert all(len(examples) > 0 for examples in splits.values())


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(("train", "test", "tain")),
                          st.sampled_from(("pos", "neg", "unsup")),
                          st.integers(0, 99), st.integers(0, 12),
                          st.binary(max_size=40)), max_size=8))
def test_archives_of_random_review_files_read_or_raise_a_one_line_error(members):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for split, polarity, number, rating, data in members:
            member = tarfile.TarInfo(f"aclImdb/{split}/{polarity}/{number}_{rating}.txt")
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "reviews.tar.gz"
        path.write_bytes(buffer.getvalue())
        try:
            splits = read_imdb_archive(path)
        except SentimentDataError as error:
            assert str(path) in one_line(error)
        else:
            for examples in splits.values():
                assert set(examples.labels) == {0, 1}
                assert all(isinstance(text, str) for text in examples.texts)


@SETTINGS
@given(st.one_of(st.binary(max_size=300),
                 st.lists(st.tuples(st.integers(-1, 6), st.text(max_size=30)), max_size=6)
                 .map(lambda rows: "\n".join(f"{label} {text}" for label, text in rows)
                      .encode("utf-8"))),
       st.booleans())
def test_sst_sentence_files_read_or_raise_a_one_line_error_naming_the_file(data, fine):
    names = FINE_LABEL_NAMES if fine else BINARY_LABEL_NAMES
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "stsa.fine.train"
        path.write_bytes(data)
        try:
            examples = read_sst_file(path, names)
        except SentimentDataError as error:
            assert str(path) in one_line(error)
        else:
            assert len(examples) > 0
            assert all(0 <= label < len(names) for label in examples.labels)


TREE_PIECES = st.sampled_from(["(", ")", " ", "(2 ", "(4 ", "(9 ", "good", "film", ".", "n't",
                               "\xa0", "(3 (2 a) (3 b))"])


@SETTINGS
@given(st.lists(st.one_of(st.text(max_size=40),
                          st.lists(TREE_PIECES, max_size=14).map("".join)), max_size=5),
       st.booleans())
def test_random_tree_lines_read_or_raise_a_one_line_error_with_the_line_number(lines, fine):
    try:
        examples = phrases_from_lines(lines, fine=fine, where="trees/train.txt")
    except SentimentDataError as error:
        assert one_line(error).startswith("trees/train.txt")
    else:
        assert len(examples) > 0 and len(set(examples.texts)) == len(examples)
