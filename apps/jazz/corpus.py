"""Loading many jazz MIDI files into token sequences, and preparing them for training.

`load_corpus` parses each file into tokens - ``tokens="notes"``: the solo's
melody line read with mido and tokenized by `note_tokens`; ``tokens="course"``:
the course's values from `course_tokens` (music21) - with a tqdm progress bar.
A file that cannot be used is skipped, and one warning at the end names every
skipped file with its reason and counts them.

Each file's result is cached on disk as a small JSON file whose name is a hash
of the file's bytes, the tokenizer's name and version, and the settings used,
so a second load of an unchanged corpus reads only JSON; changing a file, the
tokenizer version or a setting makes a new entry.  Failures are cached too,
so a bad file is not re-parsed every time.

`split_by_solo` splits whole solos (files) into training and validation, so
that no part of a validation solo is ever seen in training; windows are cut
afterwards, inside each side (`make_windows`).  `JazzTokenizer` maps tokens to
integer ids, with ``<UNK>`` (id 0) for tokens not seen when fitting, and saves
itself as JSON next to a model checkpoint.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np
from tqdm import tqdm

from apps.jazz import course_tokens, note_tokens
from apps.jazz.errors import JazzDataError
from apps.jazz.midi_io import NoteEvent, atomic_destination, read_monophonic

CACHE_FORMAT = 1
DEFAULT_CACHE_DIR = Path(__file__).resolve().parents[2] / "cache" / "jazz"  # /cache/ is git-ignored
TOKEN_KINDS = ("notes", "course")
MIDI_SUFFIXES = (".mid", ".midi")


class SkippedFilesWarning(UserWarning):
    """Some input files could not be used and were left out of the corpus."""


@dataclass(frozen=True)
class Solo:
    """One file's tokens, its melody as note events, and (course tokens only) its course corpus."""

    name: str
    path: str
    content_hash: str
    tokens: tuple[str, ...]
    events: tuple[NoteEvent, ...]
    course: course_tokens.CourseCorpus | None = None


@dataclass
class Corpus:
    """The solos that loaded, and (path, reason) for each file that was skipped."""

    solos: list[Solo]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    token_kind: str = "notes"

    def __len__(self) -> int:
        return len(self.solos)

    def __iter__(self) -> Iterator[Solo]:
        return iter(self.solos)

    def __getitem__(self, index: int) -> Solo:
        return self.solos[index]

    @property
    def token_lists(self) -> list[list[str]]:
        return [list(solo.tokens) for solo in self.solos]

    @property
    def token_count(self) -> int:
        return sum(len(solo.tokens) for solo in self.solos)


# ----------------------------------------------------------------------------
# loading


def midi_paths(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> list[Path]:
    """The files named by `paths`: a file, a folder (its *.mid/*.midi files, sorted), or a list of them."""
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    found: list[Path] = []
    for item in items:
        item = Path(item)
        if item.is_dir():
            found += sorted(child for child in item.iterdir()
                            if child.suffix.lower() in MIDI_SUFFIXES and child.is_file())
        else:
            found.append(item)
    return found


def _settings(token_kind: str, note_settings: note_tokens.NoteTokenSettings,
              course_section: tuple[float, float] | None) -> dict:
    if token_kind == "notes":
        return {"cache_format": CACHE_FORMAT, "kind": "notes", **note_settings.to_dict()}
    return {"cache_format": CACHE_FORMAT, "kind": "course", "version": course_tokens.COURSE_VERSION,
            "section": list(course_section) if course_section else None}


def _cache_file(cache_dir: Path, content_hash: str, settings: dict) -> Path:
    key = hashlib.sha256((content_hash + json.dumps(settings, sort_keys=True)).encode()).hexdigest()
    return cache_dir / f"{settings['kind']}-{key[:40]}.json"


def _events_to_json(events: Sequence[NoteEvent]) -> list:
    return [[event.pitch, event.onset, event.duration] for event in events]


def _events_from_json(items: Sequence) -> tuple[NoteEvent, ...]:
    return tuple(NoteEvent(pitch, onset, duration) for pitch, onset, duration in items)


def _parse_file(path: Path, content_hash: str, token_kind: str,
                note_settings: note_tokens.NoteTokenSettings,
                course_section: tuple[float, float] | None) -> Solo:
    if token_kind == "notes":
        events = note_tokens.quantize_solo(read_monophonic(path), settings=note_settings)
        tokens = note_tokens.encode_solo(events, settings=note_settings)
        return Solo(path.name, str(path), content_hash, tuple(tokens), tuple(events))
    corpus = course_tokens.parse_course_midi(path, section=course_section)
    return Solo(path.name, str(path), content_hash, tuple(course_tokens.course_values(corpus)),
                tuple(course_tokens.melody_events(corpus)), corpus)


def _solo_to_json(solo: Solo) -> dict:
    return {"tokens": list(solo.tokens), "events": _events_to_json(solo.events),
            "course": solo.course.to_dict() if solo.course else None}


def _solo_from_json(data: dict, path: Path, content_hash: str) -> Solo:
    course = course_tokens.CourseCorpus.from_dict(data["course"]) if data.get("course") else None
    return Solo(path.name, str(path), content_hash, tuple(data["tokens"]),
                _events_from_json(data["events"]), course)


def _read_cache(cache_file: Path) -> dict | None:
    try:
        return json.loads(cache_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # absent or damaged: parse the file again


def _write_cache(cache_file: Path, data: dict) -> None:
    try:
        with atomic_destination(cache_file, force=True) as temporary:
            temporary.write_text(json.dumps(data), encoding="utf-8")
    except OSError as error:
        warnings.warn(f"could not write the corpus cache {cache_file}: {error}", stacklevel=3)


def _load_one(path: Path, token_kind: str, settings: dict, cache_dir: Path | None,
              note_settings: note_tokens.NoteTokenSettings,
              course_section: tuple[float, float] | None) -> Solo:
    """The file's Solo, from the cache when possible; raises JazzDataError for an unusable file."""
    try:
        content_hash = hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError as error:
        raise JazzDataError("file not found", path) from error
    except OSError as error:
        raise JazzDataError("cannot read file", path, error.strerror or str(error)) from error
    cache_file = _cache_file(cache_dir, content_hash, settings) if cache_dir else None
    cached = _read_cache(cache_file) if cache_file else None
    if cached is not None and "error" in cached:
        raise JazzDataError(cached["error"]["reason"], path, cached["error"]["detail"])
    if cached is not None:
        return _solo_from_json(cached, path, content_hash)
    try:
        solo = _parse_file(path, content_hash, token_kind, note_settings, course_section)
    except JazzDataError as error:
        if cache_file:
            _write_cache(cache_file, {"error": {"reason": error.reason, "detail": error.detail}})
        raise
    if cache_file:
        _write_cache(cache_file, _solo_to_json(solo))
    return solo


def _skipped_message(skipped: Sequence[tuple[str, str]], total: int) -> str:
    listed = ", ".join(f"{Path(path).name} ({reason})" for path, reason in skipped)
    return f"skipped {len(skipped)} of {total} files: {listed}"


def load_corpus(paths, tokens: str = "notes", cache_dir: str | os.PathLike | None = None, *,
                note_settings: note_tokens.NoteTokenSettings = note_tokens.DEFAULT_SETTINGS,
                course_section: tuple[float, float] | None = course_tokens.COURSE_SECTION,
                progress: bool = True) -> Corpus:
    """Parse MIDI files into token sequences, skipping (and warning about) unusable files.

    paths: a file, a folder of .mid files, or a list of either.  tokens:
    "notes" (note_tokens) or "course" (course values).  cache_dir: where
    parsed files are cached (None: no cache; `DEFAULT_CACHE_DIR` is the
    git-ignored /cache/jazz of the repository).  Emits one SkippedFilesWarning
    naming every skipped file; raises JazzDataError when no file is usable.
    """
    if tokens not in TOKEN_KINDS:
        raise ValueError(f"tokens must be one of {TOKEN_KINDS}, got {tokens!r}")
    files = midi_paths(paths)
    if not files:
        raise ValueError(f"expected at least one MIDI file, got none from {paths!r}")
    settings = _settings(tokens, note_settings, course_section)
    cache = Path(cache_dir) if cache_dir is not None else None
    solos, skipped = [], []
    for path in tqdm(files, desc=f"reading MIDI ({tokens})", unit="file", disable=not progress):
        try:
            solos.append(_load_one(path, tokens, settings, cache, note_settings, course_section))
        except JazzDataError as error:
            skipped.append((str(path), error.reason))
    if not solos:
        raise JazzDataError("no usable MIDI files", files[0].parent, _skipped_message(skipped, len(files)))
    if skipped:
        warnings.warn(_skipped_message(skipped, len(files)), SkippedFilesWarning, stacklevel=2)
    return Corpus(solos, skipped, tokens)


# ----------------------------------------------------------------------------
# splitting and windows


def split_by_solo(solos: Sequence[Solo], validation_fraction: float, seed: int
                  ) -> tuple[list[Solo], list[Solo]]:
    """(training, validation) solos, split by whole file, never by window.

    Files with identical bytes count as one solo, so a duplicate cannot land on
    both sides.  The split depends only on the files and the seed, not on the
    order of `solos`.  With a fraction above 0 and two or more distinct solos,
    each side gets at least one.
    """
    if not 0.0 <= validation_fraction < 1.0:
        raise ValueError(f"validation_fraction must be in [0, 1), got {validation_fraction!r}")
    groups: dict[str, list[int]] = {}
    for index, solo in enumerate(solos):
        groups.setdefault(solo.content_hash, []).append(index)
    keys = sorted(groups)
    random.Random(seed).shuffle(keys)
    count = round(validation_fraction * len(keys))
    if validation_fraction > 0 and len(keys) >= 2:
        count = min(max(count, 1), len(keys) - 1)
    validation_indices = {index for key in keys[:count] for index in groups[key]}
    training = [solo for index, solo in enumerate(solos) if index not in validation_indices]
    validation = [solo for index, solo in enumerate(solos) if index in validation_indices]
    return training, validation


def make_windows(token_ids: Sequence[int], Tx: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, targets), each of shape (windows, Tx): targets are the inputs shifted one token on.

    Window i covers ids[i*stride : i*stride + Tx + 1]; a sequence shorter than
    Tx + 1 gives no window.  Call it per solo so that no window spans two solos.
    """
    if Tx < 1 or stride < 1:
        raise ValueError(f"Tx and stride must be positive integers, got Tx={Tx!r}, stride={stride!r}")
    ids = np.asarray(token_ids, dtype=np.int32)
    starts = range(0, len(ids) - Tx, stride)
    if not starts:
        return np.zeros((0, Tx), np.int32), np.zeros((0, Tx), np.int32)
    windows = np.stack([ids[start:start + Tx + 1] for start in starts])
    return windows[:, :-1], windows[:, 1:]


def make_windows_for_solos(id_lists: Iterable[Sequence[int]], Tx: int, stride: int
                           ) -> tuple[np.ndarray, np.ndarray]:
    """`make_windows` applied to each solo separately, stacked."""
    pairs = [make_windows(ids, Tx, stride) for ids in id_lists]
    if not pairs:
        return np.zeros((0, Tx), np.int32), np.zeros((0, Tx), np.int32)
    return np.concatenate([pair[0] for pair in pairs]), np.concatenate([pair[1] for pair in pairs])


# ----------------------------------------------------------------------------
# tokenizer


class JazzTokenizer:
    """Token <-> id mapping with ``<UNK>`` at id 0; saved as JSON beside a model checkpoint."""

    UNKNOWN = "<UNK>"
    FORMAT = "apps.jazz.JazzTokenizer"
    VERSION = 1

    def __init__(self, vocabulary: Sequence[str] = (), metadata: dict | None = None) -> None:
        tokens = [token for token in vocabulary if token != self.UNKNOWN]
        if len(set(tokens)) != len(tokens):
            raise ValueError(f"vocabulary must not repeat tokens, got {len(tokens)} tokens of which "
                             f"{len(set(tokens))} are distinct")
        self.vocabulary = [self.UNKNOWN, *tokens]
        self.ids = {token: index for index, token in enumerate(self.vocabulary)}
        self.metadata = dict(metadata or {})

    def fit(self, token_lists: Iterable[Iterable[str]], *, min_count: int = 1) -> "JazzTokenizer":
        """Set the vocabulary to the tokens seen at least `min_count` times (most frequent first)."""
        counts = Counter(token for tokens in token_lists for token in tokens)
        kept = sorted((token for token, count in counts.items() if count >= min_count),
                      key=lambda token: (-counts[token], token))
        self.__init__(kept, self.metadata)
        return self

    def __len__(self) -> int:
        return len(self.vocabulary)

    def __contains__(self, token: str) -> bool:
        return token in self.ids

    def encode(self, tokens: Iterable[str]) -> list[int]:
        return [self.ids.get(token, 0) for token in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        tokens = []
        for value in ids:
            index = int(value)
            if not 0 <= index < len(self.vocabulary):
                raise ValueError(f"token id must be in 0..{len(self.vocabulary) - 1}, got {index}")
            tokens.append(self.vocabulary[index])
        return tokens

    def count_unknown(self, tokens: Iterable[str]) -> int:
        """How many of `tokens` are not in the vocabulary (would encode as <UNK>)."""
        return sum(1 for token in tokens if token not in self.ids)

    def to_json(self) -> str:
        return json.dumps({"format": self.FORMAT, "version": self.VERSION,
                           "metadata": self.metadata, "vocabulary": self.vocabulary}, indent=1)

    @classmethod
    def from_json(cls, text: str) -> "JazzTokenizer":
        try:
            data = json.loads(text)
        except ValueError as error:
            raise ValueError(f"expected tokenizer JSON, got text that is not JSON ({error})") from error
        if not isinstance(data, dict) or data.get("format") != cls.FORMAT:
            raise ValueError(f"expected JSON with format {cls.FORMAT!r}, got "
                             f"{data.get('format') if isinstance(data, dict) else type(data).__name__!r}")
        vocabulary = data.get("vocabulary")
        if not isinstance(vocabulary, list) or not vocabulary or vocabulary[0] != cls.UNKNOWN:
            raise ValueError(f"expected a 'vocabulary' list starting with {cls.UNKNOWN!r}")
        return cls(vocabulary, data.get("metadata"))

    def save(self, path: str | os.PathLike, *, force: bool = False) -> Path:
        """Write `to_json()` to `path` atomically (FileExistsError unless `force` if it exists)."""
        with atomic_destination(path, force=force) as temporary:
            temporary.write_text(self.to_json(), encoding="utf-8")
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "JazzTokenizer":
        return cls.from_json(Path(path).read_text(encoding="utf-8"))

