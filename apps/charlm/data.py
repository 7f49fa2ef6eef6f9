"""Reading a text file and turning it into training sequences for a character language model.

Two kinds of text:

- **names** (the course's dinos.txt): one item per line. Each line is one sequence, its characters
  followed by <EOS> (the newline, as in the course), right-padded with PAD (id 0) to the longest
  line; padded positions are masked out of the loss. Empty lines are skipped.
- **running** text (tiny Shakespeare): the characters cut into contiguous, non-overlapping chunks
  of `sequence_length`; the last partial chunk is dropped (so no chunk needs padding and the
  training takes the layers' fast, unmasked path). There is no <EOS>: the newline is an ordinary
  character.

"auto" picks **running** when the text has a blank line between non-blank ones, or lines longer
than 40 characters on average, and **names** otherwise.

Validation: for names a seeded random `validation_split` fraction of the lines; for running text
the LAST `validation_split` fraction of the characters (a contiguous held-out tail). The
vocabulary is built from the training part only; a character seen only in the validation part
becomes <UNK> there.

Every problem with the file raises `UserError` with one line saying what and where.
"""
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from apps.common.errors import UserError
from apps.charlm.config import CASES, FORMATS, default_text_path
from zoo.text import Vocabulary

AUTO_RUNNING_MEAN_LINE_LENGTH = 40


@dataclass
class Corpus:
    """A text ready for training: its vocabulary and int32 sequences (N, T) of target ids."""

    path: Path
    text_format: str                        # "names" or "running"
    vocabulary: Vocabulary
    train: np.ndarray                       # (N, T) int32, PAD = 0 after the end of a name
    validation: np.ndarray | None           # (M, T') int32, or None without a validation part
    training_items: list = field(default_factory=list)   # names format: the training names
    characters: int = 0                     # characters in the file after reading

    @property
    def pad_id(self):
        """The id masked out of the loss: PAD for names, None for running text (nothing padded)."""
        return self.vocabulary.pad_id if self.text_format == "names" else None

    def summary(self) -> str:
        validation = 0 if self.validation is None else len(self.validation)
        return (f"{self.path}: {self.characters} characters, {self.text_format} format, "
                f"vocabulary of {len(self.vocabulary)} (with PAD, UNK"
                f"{', EOS' if self.vocabulary.eos else ''}), {len(self.train)} training and "
                f"{validation} validation sequences of length {self.train.shape[1]}")


def resolve_text_path(text) -> Path:
    """The file to read: `text`, or the course's dinos.txt beside the repository when None."""
    if text is None:
        path = default_text_path()
        if not path.exists():
            raise UserError(f"the default text file was not found at {path} (looked for "
                            "<repo>/../shared/datasets/charlm/dinos.txt, or $ZOO_DATASETS/charlm/"
                            "dinos.txt); pass --text FILE")
        return path
    return Path(text)


def read_text(path) -> str:
    """The file's text: UTF-8 (a leading BOM dropped), CRLF turned into LF; never empty."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"text file not found: {path}")
    if path.is_dir():
        raise UserError(f"expected a text file, found a folder: {path}")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UserError(f"cannot read the text file {path}: {error.strerror or error}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise UserError(f"{path} is not UTF-8 text: byte 0x{data[error.start]:02x} at offset "
                        f"{error.start} (line {line}) cannot be decoded; convert the file to "
                        "UTF-8") from None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    if not text.strip():
        raise UserError(f"the text file is empty (no characters other than white space): {path}")
    return text


def detect_format(text: str) -> str:
    """"running" if blank lines separate non-blank ones or lines are long, else "names"."""
    lines = text.strip("\n").split("\n")
    if any(not line.strip() for line in lines):
        return "running"
    mean_length = sum(len(line) for line in lines) / len(lines)
    return "running" if mean_length > AUTO_RUNNING_MEAN_LINE_LENGTH else "names"


def check_choice(name, value, choices):
    if value not in choices:
        raise UserError(f"{name} must be one of {', '.join(choices)}; received {value!r}")
    return value


def check_split(validation_split):
    if not 0.0 <= float(validation_split) < 1.0:
        raise UserError(f"--validation-split must be in [0, 1); received {validation_split}")
    return float(validation_split)


def load_corpus(text=None, *, text_format="auto", case="auto", sequence_length=100,
                validation_split=0.1, seed=0) -> Corpus:
    """Read the file `text` (None: the course's dinos.txt) into a `Corpus` (see the module doc)."""
    check_choice("--format", text_format, FORMATS)
    check_choice("--case", case, CASES)
    validation_split = check_split(validation_split)
    if isinstance(sequence_length, bool) or int(sequence_length) < 2:
        raise UserError(f"--sequence-length must be at least 2; received {sequence_length}")
    path = resolve_text_path(text)
    raw = read_text(path)
    if text_format == "auto":
        text_format = detect_format(raw)
    lowercase = case == "lower" or (case == "auto" and text_format == "names")
    if text_format == "names":
        return _names_corpus(path, raw, lowercase, validation_split, seed)
    return _running_corpus(path, raw, lowercase, int(sequence_length), validation_split)


def split_names(text: str) -> list:
    """The non-empty lines of a names file, as the course's `data.split("\\n")`."""
    return [line for line in text.split("\n") if line]


def _names_corpus(path, raw, lowercase, validation_split, seed):
    names = split_names(raw)
    if not names:
        raise UserError(f"no names in {path}: every line is empty")
    order = np.random.default_rng(seed).permutation(len(names))
    held_out = int(round(len(names) * validation_split))
    if validation_split and len(names) >= 2:
        held_out = min(max(held_out, 1), len(names) - 1)
    else:
        held_out = 0
    train_names = [names[i] for i in sorted(order[held_out:])]
    validation_names = [names[i] for i in sorted(order[:held_out])]
    vocabulary = Vocabulary.build(train_names, level="char", eos=True, lowercase=lowercase)
    length = max(len(vocabulary.split(name)) for name in names) + 1      # + <EOS>
    train = vocabulary.encode_batch(train_names, max_length=length, add_eos=True)
    validation = (vocabulary.encode_batch(validation_names, max_length=length, add_eos=True)
                  if validation_names else None)
    items = [vocabulary.decode(vocabulary.encode(name)) for name in train_names]
    return Corpus(path, "names", vocabulary, train, validation, items, len(raw))


def chunk(ids, sequence_length) -> np.ndarray:
    """Contiguous, non-overlapping chunks (N, L) of `ids`, L = min(sequence_length, len(ids)).

    The last partial chunk is dropped, so at most L − 1 ids are lost.
    """
    ids = np.asarray(ids, dtype=np.int32)
    length = min(sequence_length, len(ids))
    count = len(ids) // length
    return ids[: count * length].reshape(count, length)


def _running_corpus(path, raw, lowercase, sequence_length, validation_split):
    if len(raw) < 2:
        raise UserError(f"the text in {path} is too short to learn from ({len(raw)} character)")
    cut = len(raw) - int(round(len(raw) * validation_split))
    cut = min(max(cut, 2), len(raw))
    train_text, validation_text = raw[:cut], raw[cut:]
    vocabulary = Vocabulary.build([train_text], level="char", eos=False, lowercase=lowercase)
    train = chunk(vocabulary.encode(train_text), sequence_length)
    validation = (chunk(vocabulary.encode(validation_text), sequence_length)
                  if len(validation_text) >= 2 else None)
    return Corpus(path, "running", vocabulary, train, validation, [], len(raw))
