"""Shared fixtures for the sentiment data-layer tests.

Tiny fakes (`fake_imdb`) build Stanford's aclImdb layout in tmp_path, as a folder and as tar
archives, so most tests run without the shared data. The real project archive is parsed once
per session (`imdb_first_load`, about 5-15 s on 2 busy cores) into a session cache folder, and
the time of that first load is kept so the cache test can compare against it.
"""
import io
import tarfile
import time

import pytest

from apps.sentiment.data import load_imdb
from tests.conftest import dataset_path

# (split, polarity, id, rating, text); the ids are out of order on purpose
FAKE_REVIEWS = (
    ("train", "pos", 10, 9, "A wonderful film.<br /><br />I loved every minute."),
    ("train", "pos", 2, 7, "Good acting, fine story."),
    ("train", "neg", 7, 1, "Dull and far too long.<br/>Avoid."),
    ("train", "neg", 3, 4, "Not my kind of movie."),
    ("test", "pos", 5, 10, "Brilliant, moving, funny."),
    ("test", "neg", 0, 2, "There is nothing to like in this movie."),
)
EXTRA_FILES = {
    "README": "Large Movie Review Dataset v1.0",
    "imdb.vocab": "the\nand\n",
    "train/unsup/0_0.txt": "An unlabelled review.",
    "train/urls_pos.txt": "http://www.imdb.com/title/tt0000000/usercomments",
    "train/labeledBow.feat": "9 0:9 1:1",
}


def fake_files():
    """{relative path inside aclImdb/: text} for the fake reviews and the extra files."""
    files = {f"{split}/{polarity}/{number}_{rating}.txt": text
             for split, polarity, number, rating, text in FAKE_REVIEWS}
    files.update(EXTRA_FILES)
    return files


def write_fake_folder(root, files=None):
    """An extracted aclImdb/ folder under root; returns its path."""
    folder = root / "aclImdb"
    for relative, text in (files or fake_files()).items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text, encoding="utf-8")
    return folder


def write_fake_archive(path, files=None, *, mode="w:gz"):
    """A tar archive of aclImdb/<files> at path (members in reverse-sorted order)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, mode) as archive:
        for relative, text in sorted((files or fake_files()).items(), reverse=True):
            data = text.encode("utf-8")
            member = tarfile.TarInfo(f"aclImdb/{relative}")
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    return path


@pytest.fixture
def fake_imdb(tmp_path):
    """{"folder", "archive", "canonical"}: the same fake reviews as a folder and two archives."""
    return {"folder": write_fake_folder(tmp_path / "extracted"),
            "archive": write_fake_archive(tmp_path / "project" / "aclImdb_v1_train_test.tar.gz"),
            "canonical": write_fake_archive(tmp_path / "stanford" / "aclImdb_v1.tar.gz")}


@pytest.fixture(scope="session")
def imdb_archive():
    return dataset_path("sentiment", "aclImdb_v1_train_test.tar.gz")


@pytest.fixture(scope="session")
def imdb_cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("imdb_cache")


@pytest.fixture(scope="session")
def imdb_first_load(imdb_archive, imdb_cache_dir):
    """(splits, seconds) of the first, uncached load of the project archive."""
    started = time.perf_counter()
    splits = load_imdb(imdb_archive, cache_dir=imdb_cache_dir)
    return splits, time.perf_counter() - started


@pytest.fixture(scope="session")
def imdb_splits(imdb_first_load):
    return imdb_first_load[0]
