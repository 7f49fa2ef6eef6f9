"""Text vocabularies shared by the apps: characters or words <-> integer ids.

A `Vocabulary` maps tokens to ids in a fixed, documented order:

    PAD = 0 (if pad=True), then UNK (if unk=True), then EOS (if eos=True), then the tokens

so `keras.layers.Embedding(mask_zero=True)` masks the padding that `encode_batch` adds.

Two levels:

- "char": a text is a string and its tokens are its characters. With eos=True the EOS token is
  the newline "\\n" by default: the course's dinosaur names end each name with "\\n", so
  `encode("aachenosaurus\\n")` ends with the EOS id and `decode` gives the name back.
- "word": a text is a list of tokens (a string is split on whitespace). The EOS token is "<EOS>".

Unknown tokens map to UNK (or raise ValueError when the vocabulary has no UNK). With
lowercase=True every token is lowercased before lookup, both when building and when encoding.
`to_json` / `from_json` / `save` / `load` keep a vocabulary beside a trained model.
"""
import collections
import json
import os
import tempfile
from pathlib import Path
from collections.abc import Iterable, Sequence

import numpy as np

LEVELS = ("char", "word")
JSON_FORMAT = "zoo.text.Vocabulary"
JSON_VERSION = 1


def check_level(level):
    """`level` is "char" or "word"."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}; received level={level!r}")
    return level


def check_optional_positive_int(name, value):
    """None, or a positive Python or NumPy integer (bool excluded)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer or None; received {name}={value!r}")
    return int(value)


def default_eos_token(level):
    """The newline ends a name at char level (the dinosaur names); "<EOS>" at word level."""
    return "\n" if level == "char" else Vocabulary.EOS


class Vocabulary:
    """Tokens <-> ids; PAD=0 if present, then UNK, then EOS, then `tokens` in the given order.

    Args:
        tokens: the ordinary tokens, distinct strings, none equal to a special token.
            At char level each token is one character.
        level: "char" or "word".
        pad, unk, eos: whether the vocabulary holds PAD, UNK and EOS.
        eos_token: the string of the EOS token; default "\\n" at char level, "<EOS>" at word level.
        lowercase: lowercase every text before lookup (set by `build(lowercase=True)`).
    """

    PAD = "<PAD>"
    UNK = "<UNK>"
    EOS = "<EOS>"

    def __init__(self, tokens, *, level, pad=True, unk=True, eos=False, eos_token=None,
                 lowercase=False):
        self.level = check_level(level)
        self.pad, self.unk, self.eos = bool(pad), bool(unk), bool(eos)
        self.eos_token = default_eos_token(level) if eos_token is None else eos_token
        self.lowercase = bool(lowercase)
        if not isinstance(self.eos_token, str) or not self.eos_token:
            raise ValueError(f"eos_token must be a non-empty string; received {eos_token!r}")
        self._specials = frozenset(self.special_tokens)
        self.tokens = self._checked_tokens(tokens)
        self._id_to_token = self.special_tokens + self.tokens
        self._token_to_id = {token: index for index, token in enumerate(self._id_to_token)}

    # ----------------------------------------------------------------- construction helpers
    @property
    def special_tokens(self) -> list:
        """The special tokens present, in id order (PAD, UNK, EOS)."""
        present = [(self.pad, self.PAD), (self.unk, self.UNK), (self.eos, self.eos_token)]
        return [token for wanted, token in present if wanted]

    def _checked_tokens(self, tokens):
        if isinstance(tokens, str) or not isinstance(tokens, Iterable):
            raise ValueError(f"tokens must be a list of strings; received {type(tokens).__name__} "
                             f"{tokens!r:.80}")
        tokens = list(tokens)
        specials = set(self.special_tokens)
        seen = set()
        for index, token in enumerate(tokens):
            if not isinstance(token, str) or not token:
                raise ValueError(f"tokens[{index}] must be a non-empty string; received {token!r}")
            if self.level == "char" and len(token) != 1:
                raise ValueError(f"tokens[{index}] must be a single character at char level; "
                                 f"received {token!r} ({len(token)} characters)")
            if token in specials:
                raise ValueError(f"tokens[{index}] is {token!r}, a special token of this vocabulary "
                                 f"(specials: {sorted(specials)}); leave it out of tokens")
            if token in seen:
                raise ValueError(f"tokens[{index}] is {token!r}, which appears earlier in tokens; "
                                 "tokens must be distinct")
            seen.add(token)
        return tokens

    @classmethod
    def build(cls, corpus, *, level, max_size=None, min_count=1, lowercase=False, pad=True,
              unk=True, eos=False, eos_token=None):
        """Count the corpus and keep the `max_size` most frequent tokens seen `min_count`+ times.

        Char level counts the characters of each string; word level counts the tokens of each
        token list (a string is split on whitespace). Ties are broken alphabetically, so the
        result does not depend on the order of the corpus. `max_size` counts ordinary tokens only
        (the specials come on top). With eos=True the `eos_token` (default "\\n" at char level,
        "<EOS>" at word level) is the EOS special and is not counted as an ordinary token.
        """
        check_level(level)
        max_size = check_optional_positive_int("max_size", max_size)
        min_count = check_optional_positive_int("min_count", min_count)
        if min_count is None:
            raise ValueError("min_count must be a positive integer; received min_count=None")
        vocabulary = cls([], level=level, pad=pad, unk=unk, eos=eos, eos_token=eos_token,
                         lowercase=lowercase)
        counts = collections.Counter()
        for text in iterate_corpus(corpus, level):
            counts.update(vocabulary.split(text))
        for special in vocabulary.special_tokens:
            counts.pop(special, None)
        kept = sorted((token for token, count in counts.items() if count >= min_count),
                      key=lambda token: (-counts[token], token))
        if max_size is not None:
            kept = kept[:max_size]
        return cls(kept, level=level, pad=pad, unk=unk, eos=eos, eos_token=eos_token,
                   lowercase=lowercase)

    # ----------------------------------------------------------------------- lookups
    def __len__(self):
        return len(self._id_to_token)

    def __contains__(self, token):
        return isinstance(token, str) and self.normalize(token) in self._token_to_id

    def __eq__(self, other):
        return isinstance(other, Vocabulary) and self.to_json() == other.to_json()

    def __repr__(self):
        return (f"Vocabulary(level={self.level!r}, size={len(self)}, pad={self.pad}, "
                f"unk={self.unk}, eos={self.eos}, lowercase={self.lowercase})")

    @property
    def pad_id(self):
        """0 when the vocabulary has PAD, else None."""
        return 0 if self.pad else None

    @property
    def unk_id(self):
        return self._token_to_id[self.UNK] if self.unk else None

    @property
    def eos_id(self):
        return self._token_to_id[self.eos_token] if self.eos else None

    def normalize(self, token):
        """Lowercase when the vocabulary lowercases; special tokens stay as they are."""
        if not self.lowercase or token in self._specials:
            return token
        return token.lower()

    def token_to_id(self, token) -> int:
        """The id of `token`, the UNK id when it is unknown (ValueError without UNK)."""
        found = self._token_to_id.get(self.normalize(token))
        if found is not None:
            return found
        if self.unk:
            return self._token_to_id[self.UNK]
        raise ValueError(f"token {token!r} is not in this {self.level}-level vocabulary of "
                         f"{len(self)} tokens, which has no UNK to map it to")

    def id_to_token(self, index) -> str:
        """The token of id `index` (0 <= index < len(self))."""
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise ValueError(f"id must be an integer; received {index!r}")
        if not 0 <= index < len(self):
            raise ValueError(f"id must be in [0, {len(self)}) for this vocabulary; received {index}")
        return self._id_to_token[int(index)]

    # ----------------------------------------------------------------------- encoding
    def split(self, text_or_tokens) -> list:
        """The (normalized) tokens of one text: characters at char level, words at word level."""
        if isinstance(text_or_tokens, str) and self.level == "char":
            # Lowercase the whole text: "İ".lower() is two characters, both then in the text.
            return list(text_or_tokens.lower() if self.lowercase else text_or_tokens)
        if isinstance(text_or_tokens, str):
            return [self.normalize(token) for token in text_or_tokens.split()]
        if isinstance(text_or_tokens, Iterable):
            tokens = list(text_or_tokens)
            for index, token in enumerate(tokens):
                if not isinstance(token, str):
                    raise ValueError(f"token {index} must be a string; received {token!r}")
            return [self.normalize(token) for token in tokens]
        raise ValueError(f"expected a string or a list of string tokens; received "
                         f"{type(text_or_tokens).__name__} {text_or_tokens!r:.80}")

    def encode(self, text_or_tokens, *, add_eos=False) -> list:
        """Ids of one text (string or token list); add_eos appends the EOS id."""
        ids = [self.token_to_id(token) for token in self.split(text_or_tokens)]
        if add_eos:
            if not self.eos:
                raise ValueError("add_eos=True needs a vocabulary built with eos=True; "
                                 "this one has no EOS")
            ids.append(self.eos_id)
        return ids

    def decode(self, ids, *, strip_special=True):
        """Tokens of `ids`: a string at char level, a list of tokens at word level.

        strip_special drops PAD and EOS; UNK stays visible as "<UNK>" so that lost tokens show.
        """
        dropped = ({self.pad_id, self.eos_id} - {None}) if strip_special else set()
        tokens = [self.id_to_token(int(index)) for index in np.asarray(ids).reshape(-1)
                  if int(index) not in dropped]
        return "".join(tokens) if self.level == "char" else tokens

    def one_hot(self, ids) -> np.ndarray:
        """float32 one-hot of any integer array of ids, shape (..., len(self))."""
        ids = np.asarray(ids)
        if ids.size and not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"ids must be integers; received an array of dtype {ids.dtype}")
        ids = ids.astype(np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(f"ids must be in [0, {len(self)}); received values from {ids.min()} "
                             f"to {ids.max()}")
        encoded = np.zeros(ids.shape + (len(self),), dtype=np.float32)
        np.put_along_axis(encoded, ids[..., np.newaxis], 1.0, axis=-1)
        return encoded

    def encode_batch(self, sequences, *, max_length=None, truncate=False, add_eos=False):
        """int32 array (N, T) of encoded texts, right-padded with PAD (id 0).

        T is `max_length`, or the longest sequence when None. A sequence longer than max_length
        raises ValueError naming it, unless truncate=True (then it keeps its first T ids).
        """
        if not self.pad:
            raise ValueError("encode_batch pads with PAD; this vocabulary has pad=False")
        max_length = check_optional_positive_int("max_length", max_length)
        if isinstance(sequences, str):
            raise ValueError("sequences must be a list of texts; received a single string "
                             "(wrap it in a list)")
        encoded = [self.encode(sequence, add_eos=add_eos) for sequence in sequences]
        if max_length is None:
            max_length = max((len(ids) for ids in encoded), default=0)
        batch = np.zeros((len(encoded), max_length), dtype=np.int32)
        for row, ids in enumerate(encoded):
            if len(ids) > max_length and not truncate:
                raise ValueError(f"sequence {row} has length {len(ids)}, longer than "
                                 f"max_length={max_length}; raise max_length or pass truncate=True")
            ids = ids[:max_length]
            batch[row, :len(ids)] = ids
        return batch

    def unknown_tokens(self, text_or_tokens) -> list:
        """The distinct (normalized) tokens of a text missing from the vocabulary, first-seen order."""
        missing = [token for token in self.split(text_or_tokens) if token not in self._token_to_id]
        return list(dict.fromkeys(missing))

    # ------------------------------------------------------------------- persistence
    def to_json(self) -> dict:
        return {"format": JSON_FORMAT, "version": JSON_VERSION, "level": self.level,
                "pad": self.pad, "unk": self.unk, "eos": self.eos, "eos_token": self.eos_token,
                "lowercase": self.lowercase, "tokens": list(self.tokens)}

    @classmethod
    def from_json(cls, data):
        if not isinstance(data, dict) or data.get("format") != JSON_FORMAT:
            raise ValueError(f"expected a dict with format={JSON_FORMAT!r} (from "
                             f"Vocabulary.to_json); received {data!r:.120}")
        if data.get("version") != JSON_VERSION:
            raise ValueError(f"expected vocabulary version {JSON_VERSION}; received "
                             f"version={data.get('version')!r}")
        missing = {"level", "pad", "unk", "eos", "eos_token", "lowercase", "tokens"} - set(data)
        if missing:
            raise ValueError(f"vocabulary JSON lacks the keys {sorted(missing)}")
        return cls(data["tokens"], level=data["level"], pad=data["pad"], unk=data["unk"],
                   eos=data["eos"], eos_token=data["eos_token"], lowercase=data["lowercase"])

    def save(self, path):
        """Write JSON atomically: a temporary file in the same folder, then os.replace."""
        path = Path(path)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(self.to_json(), stream, ensure_ascii=False)
            os.replace(temporary, path)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as stream:
            try:
                data = json.load(stream)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}: not a vocabulary JSON file ({error})") from None
        return cls.from_json(data)


def iterate_corpus(corpus, level) -> Iterable:
    """The texts of a corpus: strings at char level; strings or token lists at word level."""
    if isinstance(corpus, str):
        raise ValueError("corpus must be an iterable of texts; received a single string "
                         "(wrap it in a list: [text])")
    if not isinstance(corpus, Iterable):
        raise ValueError(f"corpus must be an iterable of texts; received {type(corpus).__name__}")
    for index, text in enumerate(corpus):
        if level == "char" and not isinstance(text, str):
            raise ValueError(f"a char-level corpus holds strings; item {index} is "
                             f"{type(text).__name__} {text!r:.80}")
        if level == "word" and not isinstance(text, (str, Sequence)):
            raise ValueError(f"a word-level corpus holds token lists or strings; item {index} is "
                             f"{type(text).__name__} {text!r:.80}")
        yield text
