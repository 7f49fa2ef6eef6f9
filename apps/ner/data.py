"""CoNLL-2003 named-entity data: reading column files, vocabularies, and model-ready arrays.

Reading. `read_conll` reads any CoNLL column file (token first, tag last by default): blank lines
end sentences, `-DOCSTART-` lines are skipped (each sentence records how many came before it,
its `document`), every line must have the column count of the lines
before it, and tags must be `O`, `B-TYPE` or `I-TYPE`. Problems raise `ConllFormatError`, a
ValueError whose one-line message starts with `path:line:`. The original CoNLL-2003 files use
IOB1 (`I-` starts an entity, `B-` only where two entities of one type touch); with scheme="auto"
a file is IOB1 when some `I-X` follows `O`, another type, or a sentence start, and is then
converted to IOB2, so both copies of the data set give the same tags.

Features (Lample et al., 2016, plus the casing feature of Reimers & Gurevych, 2017):

    words   (N, T)     word ids, lowercased by default     Embedding(mask_zero=True)
    casing  (N, T)     casing category of each word (8 ids, PAD=0)
    chars   (N, T, W)  character ids of each word, case kept
    labels  (N, T)     tag ids: PAD=0, then O, B-PER, I-PER, B-LOC, I-LOC, B-ORG, I-ORG, B-MISC, I-MISC

Every array is right-padded with 0. A sentence longer than max_length raises ValueError (no
silent truncation); a word longer than max_word_length keeps its first ceil(W/2) and last
floor(W/2) characters, so both its prefix and its suffix (the morphology) survive.
"""
import dataclasses
import re
from pathlib import Path

import numpy as np

from zoo.text import Vocabulary

CONLL2003_TAGS = ("O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC")
SCHEMES = ("auto", "iob1", "iob2")
DOCSTART = "-DOCSTART-"
SPLIT_FILE_NAMES = (
    {"train": "train.txt", "valid": "valid.txt", "test": "test.txt"},
    {"train": "eng.train", "valid": "eng.testa", "test": "eng.testb"},
)
TAG_PATTERN = re.compile(r"(?P<prefix>[BI])-(?P<type>\S+)\Z")
IOBES_PATTERN = re.compile(r"[ESLU]-\S+\Z")

CASING_CATEGORIES = ("<PAD>", "numeric", "mostly_numeric", "all_lower", "all_upper",
                     "initial_upper", "contains_digit", "other")
CASING_IDS = {name: index for index, name in enumerate(CASING_CATEGORIES)}
DEFAULT_MAX_WORD_LENGTH = 25  # CoNLL-2003 train: 99.9 % of tokens have at most 15 characters


class ConllFormatError(ValueError):
    """A CoNLL file that cannot be read; the message is one line, `path:line: what is wrong`."""

    def __init__(self, path, line, problem):
        self.path, self.line, self.problem = str(path), line, problem
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")


@dataclasses.dataclass
class Sentence:
    """One sentence of a column file: its tokens, their tags, its first line (1-based), and its
    document (the number of `-DOCSTART-` lines before it: sentences of one story share it)."""

    tokens: list
    tags: list
    line: int = 0
    document: int = 0

    def __len__(self):
        return len(self.tokens)


# ----------------------------------------------------------------------------- reading
def read_conll(path, *, scheme="auto", tag_column=-1) -> list:
    """Sentences of a CoNLL column file, tags in IOB2 (see the module docstring)."""
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}; received scheme={scheme!r}")
    if isinstance(tag_column, bool) or not isinstance(tag_column, int):
        raise ValueError(f"tag_column must be an integer column index; received {tag_column!r}")
    lines = read_lines(path)
    sentences, first_iob1_line = parse_sentences(path, lines, tag_column)
    if not sentences:
        raise ConllFormatError(path, None, "no sentences found (the file is empty or holds only "
                                           "blank and -DOCSTART- lines)")
    if scheme == "iob2" and first_iob1_line is not None:
        raise ConllFormatError(path, first_iob1_line, "an I- tag starts an entity, which IOB2 "
                               "forbids; this looks like IOB1: pass scheme='iob1' or 'auto'")
    if scheme == "iob1" or first_iob1_line is not None:
        for sentence in sentences:
            sentence.tags = iob1_to_iob2(sentence.tags)
    return sentences


def read_lines(path) -> list:
    """The lines of a UTF-8 file (split on "\\n" only), or ConllFormatError naming the bad line."""
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ConllFormatError(path, line, f"not UTF-8 text ({error.reason} at byte "
                                           f"{error.start})") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.split("\n")


def parse_sentences(path, lines, tag_column):
    """(sentences, line of the first IOB1-only tag or None), checking column counts and tags."""
    sentences, pending, expected_columns, iob1_line = [], [], None, None
    document = 0
    for number, line in enumerate(lines + [""], start=1):
        columns = line.split()
        if not columns or columns[0] == DOCSTART:
            if pending:
                sentences.append(make_sentence(pending, document))
                iob1_line = iob1_line or find_iob1_evidence(pending)
            pending = []
            document += bool(columns)
            continue
        if expected_columns is None:
            expected_columns = check_first_columns(path, number, len(columns), tag_column)
        elif len(columns) != expected_columns:
            raise ConllFormatError(path, number, f"expected {expected_columns} columns like the "
                                                 f"lines before, found {len(columns)}")
        pending.append((columns[0], check_tag(path, number, columns[tag_column]), number))
    return sentences, iob1_line


def make_sentence(rows, document=0) -> Sentence:
    """A Sentence from (token, tag, line number) rows."""
    return Sentence([row[0] for row in rows], [row[1] for row in rows], rows[0][2], document)


def check_first_columns(path, number, count, tag_column) -> int:
    """The first data line fixes the column count; the tag column must be a later column."""
    if count < 2:
        raise ConllFormatError(path, number, f"expected at least 2 columns (token ... tag), "
                                             f"found {count}")
    if not -count <= tag_column < count or tag_column % count == 0:
        raise ConllFormatError(path, number, f"tag_column={tag_column} does not name a tag column "
                                             f"of a {count}-column line (expected 1..{count - 1} "
                                             f"or -1..-{count - 1})")
    return count


def check_tag(path, number, tag) -> str:
    """`O`, `B-TYPE` or `I-TYPE`; anything else is a ConllFormatError."""
    if tag == "O" or TAG_PATTERN.match(tag):
        return tag
    if IOBES_PATTERN.match(tag):
        raise ConllFormatError(path, number, f"tag {tag!r} is IOBES; expected IOB1 or IOB2 tags "
                                             "(O, B-TYPE, I-TYPE): convert the file first")
    raise ConllFormatError(path, number, f"unknown tag {tag!r}; expected O, B-TYPE or I-TYPE")


def find_iob1_evidence(rows):
    """Line of the first `I-X` that starts an entity (after O, another type, or at the start)."""
    previous = "O"
    for _, tag, number in rows:
        if tag.startswith("I-") and (previous == "O" or previous[2:] != tag[2:]):
            return number
        previous = tag
    return None


def iob1_to_iob2(tags) -> list:
    """IOB1 -> IOB2: an `I-X` that starts an entity becomes `B-X`; IOB2 input is unchanged."""
    converted, previous = [], "O"
    for tag in tags:
        starts_entity = tag.startswith("I-") and (previous == "O" or previous[2:] != tag[2:])
        converted.append("B-" + tag[2:] if starts_entity else tag)
        previous = tag
    return converted


def load_splits(directory, **read_options) -> dict:
    """{"train", "valid", "test"}: sentences of train.txt, valid.txt, test.txt in `directory`,
    or of eng.train, eng.testa, eng.testb (the original names). Options go to read_conll."""
    return {split: read_conll(path, **read_options)
            for split, path in split_paths(directory).items()}


def split_paths(directory) -> dict:
    """{"train", "valid", "test"}: the paths of the three split files in `directory`."""
    directory = Path(directory)
    expected = " or ".join(", ".join(names.values()) for names in SPLIT_FILE_NAMES)
    if not directory.is_dir():
        raise FileNotFoundError(f"CoNLL data folder {directory} does not exist; expected a folder "
                                f"holding {expected}")
    for names in SPLIT_FILE_NAMES:
        paths = {split: directory / name for split, name in names.items()}
        if all(path.is_file() for path in paths.values()):
            return paths
    present = sorted(path.name for path in directory.iterdir())
    raise FileNotFoundError(f"looked in {directory} for {expected}, and found neither set complete "
                            f"(the folder holds: {', '.join(present[:20]) or 'nothing'})")


def entity_counts(sentences) -> dict:
    """Counts for SOURCE.md-style checks: sentences, tokens, entities, and entities per type."""
    from seqeval.metrics.sequence_labeling import get_entities  # slow import (scikit-learn)

    per_type = {}
    for sentence in sentences:
        for entity_type, _, _ in get_entities(list(sentence.tags)):
            per_type[entity_type] = per_type.get(entity_type, 0) + 1
    return {"sentences": len(sentences), "tokens": sum(len(s.tokens) for s in sentences),
            "entities": sum(per_type.values()), "per_type": dict(sorted(per_type.items()))}


# ---------------------------------------------------------------------------- features
def word_vocabulary(train_sentences, *, lowercase=True, min_count=1, max_size=None,
                    extra_words=()) -> Vocabulary:
    """Word vocabulary of the training sentences (PAD=0, UNK=1, then by frequency).

    `extra_words` (for example the GloVe words that occur in the validation or test text) are
    appended after the training words, so that pretrained vectors can reach them.
    """
    vocabulary = Vocabulary.build((sentence.tokens for sentence in train_sentences), level="word",
                                  lowercase=lowercase, min_count=min_count, max_size=max_size)
    return add_words(vocabulary, extra_words)


def add_words(vocabulary, words) -> Vocabulary:
    """The word vocabulary with `words` it lacks appended (ids of its own words unchanged);
    the same vocabulary when it has them all."""
    known = set(vocabulary.tokens)
    added = [word for word in dict.fromkeys(vocabulary.normalize(w) for w in words)
             if word not in known and word not in vocabulary.special_tokens]
    if not added:
        return vocabulary
    return Vocabulary(vocabulary.tokens + added, level="word", lowercase=vocabulary.lowercase)


def char_vocabulary(train_sentences, *, min_count=1, max_size=None) -> Vocabulary:
    """Character vocabulary of the training tokens, case kept (PAD=0, UNK=1, then by frequency)."""
    return Vocabulary.build((token for sentence in train_sentences for token in sentence.tokens),
                            level="char", min_count=min_count, max_size=max_size)


def tag_vocabulary(tags=CONLL2003_TAGS) -> Vocabulary:
    """Tag vocabulary: PAD=0, then the tags in the given fixed order; no UNK (unknown tags raise)."""
    return Vocabulary(list(tags), level="word", pad=True, unk=False)


def casing_feature(token) -> int:
    """Casing category id of a token: 1 numeric, 2 mostly numeric, 3 all lower, 4 all upper,
    5 initial upper, 6 contains a digit, 7 other (0 is padding). Tested in this order."""
    if not isinstance(token, str):
        raise ValueError(f"token must be a string; received {type(token).__name__} {token!r:.40}")
    digits = sum(character.isdigit() for character in token)
    if token and digits == len(token):
        return CASING_IDS["numeric"]
    if token and digits / len(token) > 0.5:
        return CASING_IDS["mostly_numeric"]
    if token.islower():
        return CASING_IDS["all_lower"]
    if token.isupper():
        return CASING_IDS["all_upper"]
    if token[:1].isupper():
        return CASING_IDS["initial_upper"]
    if digits:
        return CASING_IDS["contains_digit"]
    return CASING_IDS["other"]


def shorten_word(token, max_word_length) -> str:
    """`token` if short enough, else its first ceil(W/2) and last floor(W/2) characters."""
    if len(token) <= max_word_length:
        return token
    tail = max_word_length // 2
    return token[:max_word_length - tail] + (token[-tail:] if tail else "")


def sentence_tokens(sentence, index) -> list:
    """Tokens of a Sentence or of a plain list of token strings."""
    tokens = sentence.tokens if isinstance(sentence, Sentence) else sentence
    if isinstance(tokens, str) or not all(isinstance(token, str) for token in tokens):
        raise ValueError(f"sentence {index} must be a Sentence or a list of token strings; "
                         f"received {sentence!r:.80}")
    return list(tokens)


def encode_sentences(sentences, word_vocab, char_vocab, tag_vocab=None, *, max_length=None,
                     max_word_length=DEFAULT_MAX_WORD_LENGTH):
    """({"words": (N, T), "casing": (N, T), "chars": (N, T, W)}, labels (N, T)), int32, 0-padded.

    `sentences` are Sentence objects, or lists of tokens when tag_vocab is None (tagging raw
    text; labels is then None). T is max_length, or the longest sentence when None; a longer
    sentence raises ValueError. W is max_word_length; longer words are shortened (module docstring).
    """
    for name, value in (("max_length", max_length), ("max_word_length", max_word_length)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
            raise ValueError(f"{name} must be a positive integer or None; received {name}={value!r}")
    token_lists = [sentence_tokens(sentence, index) for index, sentence in enumerate(sentences)]
    length = max_length or max((len(tokens) for tokens in token_lists), default=0)
    word_length = max_word_length or max((len(t) for tokens in token_lists for t in tokens), default=0)
    check_sentence_lengths(sentences, token_lists, length)
    words = np.zeros((len(token_lists), length), dtype=np.int32)
    casing = np.zeros_like(words)
    chars = np.zeros((len(token_lists), length, word_length), dtype=np.int32)
    for row, tokens in enumerate(token_lists):
        words[row, :len(tokens)] = word_vocab.encode(tokens)
        casing[row, :len(tokens)] = [casing_feature(token) for token in tokens]
        for column, token in enumerate(tokens):
            character_ids = char_vocab.encode(shorten_word(token, word_length))
            chars[row, column, :len(character_ids)] = character_ids
    features = {"words": words, "casing": casing, "chars": chars}
    labels = None if tag_vocab is None else encode_tags(sentences, tag_vocab, length)
    return features, labels


def check_sentence_lengths(sentences, token_lists, length):
    """No silent truncation: a sentence longer than the padded length is an error."""
    for index, tokens in enumerate(token_lists):
        if len(tokens) > length:
            where = f" (line {sentences[index].line})" if isinstance(sentences[index], Sentence) else ""
            raise ValueError(f"sentence {index}{where} has {len(tokens)} tokens, more than "
                             f"max_length={length}; raise max_length or split the sentence")


def encode_tags(sentences, tag_vocab, length) -> np.ndarray:
    """(N, T) int32 tag ids, right-padded with PAD=0."""
    labels = np.zeros((len(sentences), length), dtype=np.int32)
    for row, sentence in enumerate(sentences):
        if not isinstance(sentence, Sentence) or len(sentence.tags) != len(sentence.tokens):
            raise ValueError(f"sentence {row} needs one tag per token to encode labels; received "
                             f"{sentence!r:.80} (pass tag_vocab=None for untagged text)")
        labels[row, :len(sentence.tags)] = tag_vocab.encode(sentence.tags)
    return labels


def tags_from_ids(label_ids, lengths, tag_vocab) -> list:
    """Tag strings of predicted ids (N, T), cut to each sentence length; PAD predictions read O."""
    label_ids = np.asarray(label_ids)
    if label_ids.ndim != 2 or len(lengths) != label_ids.shape[0]:
        raise ValueError(f"expected ids of shape (N, T) and N lengths; received shape "
                         f"{label_ids.shape} and {len(lengths)} lengths")
    tag_lists = []
    for row, length in zip(label_ids, lengths):
        tags = [tag_vocab.id_to_token(int(index)) for index in row[:length]]
        tag_lists.append(["O" if tag == Vocabulary.PAD else tag for tag in tags])
    return tag_lists


# ------------------------------------------------------------------------------- tag sets
def tag_names_for(train_sentences) -> list:
    """The tag set of a model: CONLL2003_TAGS when the training tags fit in it, else O and then
    B-TYPE, I-TYPE for each type in alphabetical order. Either way O comes first and every type
    has its B- and I- tag side by side (apps.ner.metrics counts chunks from that layout)."""
    seen = {tag for sentence in train_sentences for tag in sentence.tags}
    if seen <= set(CONLL2003_TAGS):
        return list(CONLL2003_TAGS)
    types = sorted({tag[2:] for tag in seen if tag != "O"})
    return ["O"] + [f"{prefix}-{name}" for name in types for prefix in ("B", "I")]


def check_known_tags(sentences, tag_names, path) -> None:
    """ConllFormatError at `path:line` for the first tag that is not in `tag_names` (a tag the
    training split never uses, so the model has no output for it)."""
    known = set(tag_names)
    for sentence in sentences:
        for offset, tag in enumerate(sentence.tags):
            if tag not in known:
                types = sorted({name[2:] for name in tag_names if name != "O"})
                raise ConllFormatError(path, sentence.line + offset if sentence.line else None,
                                       f"tag {tag!r} does not occur in the training split, so "
                                       f"the model cannot predict it (entity types there: "
                                       f"{', '.join(types) or 'none'})")
