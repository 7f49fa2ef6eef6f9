"""Raw text -> CoNLL-2003-like tokens with character spans, and tagged tokens -> entity spans.

The CoNLL-2003 (Reuters, Penn-Treebank-like) tokenization, which the tagger was trained on:

- punctuation is split off words: "Granger," -> "Granger" ","; "(EU)" -> "(" "EU" ")"
- clitics are split: "Germany's" -> "Germany" "'s"; "don't" -> "do" "n't"; "they're" -> "they" "'re"
- an apostrophe inside a name stays: "O'Brien", "o'clock"
- hyphenated words and numbers stay whole: "long-term", "1996-08-22", "6-4", "3.5", "47,600", "1/2"
- abbreviations keep their dots: "U.S.", "a.m.", "Mr.", "Inc.", initials such as "J." before a
  capitalised word; "..." and "--" are one token each; currencies: "$", "US$", "C$"

Every token is a slice of the input: text[start:end] == token, whatever the input (combining
marks stay with the letter before them).

Sentences (`sentence_spans`): the tagger was trained on single sentences, and tags a story
read as one sequence worse, so `tag` cuts each text into sentences first (benchmarks/RESULTS.md,
"Paragraphs"). A sentence ends
- after a ".", "!", "?" or "..." token (and the closing quotes and brackets right after it; a
  straight quote only if it touches the word before) when the next token does not start with
  a lower-case letter;
- at a blank line;
- at a line break, unless the line ends in a lower-case word or in , ; : - ( [ & / or the next
  line starts with a lower-case letter (a line wrapped inside a sentence), so that headlines,
  datelines and table rows on lines of their own are tagged alone.
An abbreviation token that ends the sentence ("in the U.S.") does not end it here: the next
sentence is then tagged together with this one.
"""
import functools
import re
import sys
import unicodedata
from typing import NamedTuple

ABBREVIATIONS = ("Mr", "Mrs", "Ms", "Dr", "Prof", "St", "Jr", "Sr", "Inc", "Corp", "Ltd", "Co",
                 "Bros", "vs", "Gen", "Sen", "Rep", "Gov", "Lt", "Col", "Capt", "Sgt", "Rev", "No",
                 "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec")
CLITICS = ("s", "S", "re", "RE", "ve", "VE", "ll", "LL", "m", "M", "d", "D")
APOSTROPHES = "'\u2019"
SENTENCE_ENDS = frozenset({".", "!", "?", "..."})
CLOSERS = frozenset({"\u2019", "\u201d", ")", "]", "}", "''", "\u00bb"})
CONTINUING = frozenset({",", ";", ":", "-", "--", "(", "[", "&", "/"})   # a line may not end so
STRAIGHT_QUOTES = frozenset({'"', "'"})   # open or close: a closer only touching the word before
BLANK_LINE = re.compile(r"\n[^\S\n]*\n")


class Token(NamedTuple):
    """A token and its span in the original text: text[start:end] == token."""

    token: str
    start: int
    end: int


@functools.lru_cache(maxsize=1)
def combining_marks() -> str:
    """A regex class body of every combining mark (Unicode category M*), built once (~0.3 s)."""
    ranges, start, previous = [], None, None
    for code in range(sys.maxunicode + 1):
        if unicodedata.category(chr(code)).startswith("M"):
            if start is None or code != previous + 1:
                if start is not None:
                    ranges.append((start, previous))
                start = code
            previous = code
    ranges.append((start, previous))
    return "".join(f"\\U{low:08x}-\\U{high:08x}" for low, high in ranges)


@functools.lru_cache(maxsize=1)
def token_pattern() -> re.Pattern:
    """The tokenizer: alternatives tried in order at each position."""
    letter = rf"[\w{combining_marks()}]"  # \w plus combining marks, so "e\u0301" is one letter
    apostrophe = f"[{APOSTROPHES}]"
    clitic = "|".join(CLITICS)
    alternatives = [
        r"(?:[A-Za-z]\.){2,}",                                         # U.S.  a.m.  F.C.
        rf"(?:{'|'.join(ABBREVIATIONS)})\.(?!{letter})",               # Mr.  Inc.  vs.
        r"[A-Z]\.(?=\s+[A-Z])",                                        # initials: J. Smith
        r"(?:[A-Z]{1,2})?\$",                                          # $  US$  C$
        rf"\d+(?:[.,:/-]\d+)*(?!{letter})",                            # 3.5  47,600  1996-08-22
        rf"\.\d+(?!{letter})",                                         # .500
        rf"{letter}+?(?=n{apostrophe}t(?!{letter}))",                  # do|n't
        rf"n{apostrophe}t(?!{letter})",                                # n't
        rf"{apostrophe}(?:{clitic})(?!{letter})",                      # 's  're  'll
        rf"{letter}+(?:-{letter}+)*"                                   # long-term, O'Brien
        rf"(?:{apostrophe}(?!(?:{clitic})(?!{letter})){letter}+(?:-{letter}+)*)*",
        r"\.{2,}|-{2,}",                                               # ...  --
        rf"[^\s{combining_marks()}][{combining_marks()}]*",            # any other character
        rf"[{combining_marks()}]+",                                    # stray marks
    ]
    return re.compile("|".join(f"(?:{alternative})" for alternative in alternatives))


def tokenize(text) -> list:
    """CoNLL-like tokens of raw text as Token(token, start, end) tuples (module docstring)."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a string; received {type(text).__name__} {text!r:.60}")
    return [Token(match.group(), match.start(), match.end())
            for match in token_pattern().finditer(text)]


def spans_from_tags(tokens_with_spans, tags, text=None) -> list:
    """Entities of tagged tokens as dicts {text, type, start, end} (end exclusive, characters).

    `tags` are IOB2 strings, one per token; ill-formed sequences (an I-X after O) are read as
    conlleval and seqeval read them, starting an entity. With the original `text`, an entity's
    text is its exact slice; without it, tokens are joined with one space where a gap separated them.
    """
    from seqeval.metrics.sequence_labeling import get_entities  # slow import (scikit-learn)

    tokens_with_spans, tags = list(tokens_with_spans), list(tags)
    if len(tokens_with_spans) != len(tags):
        raise ValueError(f"expected one tag per token; received {len(tokens_with_spans)} tokens "
                         f"and {len(tags)} tags")
    entities = []
    for entity_type, first, last in get_entities(tags):
        pieces = tokens_with_spans[first:last + 1]
        start, end = pieces[0][1], pieces[-1][2]
        entity_text = text[start:end] if text is not None else join_tokens(pieces)
        entities.append({"text": entity_text, "type": entity_type, "start": start, "end": end})
    return entities


def join_tokens(tokens_with_spans) -> str:
    """Tokens joined as they stood: no space between touching tokens, one space across a gap."""
    pieces, previous_end = [], None
    for token, start, end in tokens_with_spans:
        if previous_end is not None and start > previous_end:
            pieces.append(" ")
        pieces.append(token)
        previous_end = end
    return "".join(pieces)


def sentence_spans(tokens, text=None) -> list:
    """(first, stop) token index ranges of the sentences of a token list (module docstring).

    `tokens` are Token tuples or plain strings; line breaks end sentences only when they are
    Tokens and `text` is the text they index. The ranges cover every token once, in order; an
    empty list has no sentences.
    """
    strings = [token if isinstance(token, str) else token[0] for token in tokens]
    spans, first, index = [], 0, 0
    while index < len(strings):
        stop = index + 1
        end_here = strings[index] in SENTENCE_ENDS
        if end_here:
            while stop < len(strings) and (strings[stop] in CLOSERS or (
                    strings[stop] in STRAIGHT_QUOTES and not isinstance(tokens[stop], str)
                    and tokens[stop][1] == tokens[stop - 1][2])):
                stop += 1
            end_here = stop < len(strings) and not strings[stop][:1].islower()
        if not end_here and text is not None and stop < len(strings):
            gap = text[tokens[stop - 1][2]:tokens[stop][1]]
            end_here = BLANK_LINE.search(gap) is not None or (
                "\n" in gap and not strings[stop][:1].islower()
                and not strings[stop - 1][:1].islower() and strings[stop - 1] not in CONTINUING)
        if end_here:
            spans.append((first, stop))
            first = stop
        index = stop
    if first < len(strings):
        spans.append((first, len(strings)))
    return spans
