"""apps.ner.tokenize: CoNLL-like tokens whose spans index the raw text, and entity spans."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.ner.tokenize import Token, spans_from_tags, tokenize

HARRY = "Harry Potter and Hermione Granger invented a new spell."


def test_harry_potter_sentence_tokens_and_spans():
    assert tokenize(HARRY) == [
        ("Harry", 0, 5), ("Potter", 6, 12), ("and", 13, 16), ("Hermione", 17, 25),
        ("Granger", 26, 33), ("invented", 34, 42), ("a", 43, 44), ("new", 45, 48),
        ("spell", 49, 54), (".", 54, 55),
    ]
    assert all(isinstance(token, Token) for token in tokenize(HARRY))


@pytest.mark.parametrize("text, tokens", [
    ("Hermione Granger, a witch", ["Hermione", "Granger", ",", "a", "witch"]),
    ("the U.S. and the U.N.", ["the", "U.S.", "and", "the", "U.N."]),
    ("rose 3.5 pct to 47,600 on 1996-08-22", ["rose", "3.5", "pct", "to", "47,600", "on", "1996-08-22"]),
    ("won 6-4 (EU) ...", ["won", "6-4", "(", "EU", ")", "..."]),
    ("Germany's envoy didn't", ["Germany", "'s", "envoy", "did", "n't"]),
    ("O'Brien at 10 o'clock", ["O'Brien", "at", "10", "o'clock"]),
    ("Mr. J. Smith of Acme Inc. said", ["Mr.", "J.", "Smith", "of", "Acme", "Inc.", "said"]),
    ("a long-term US$ 5 loan -- fine", ["a", "long-term", "US$", "5", "loan", "--", "fine"]),
    ("they're in São Paulo", ["they", "'re", "in", "São", "Paulo"]),
])
def test_tokenization_follows_conll2003_conventions(text, tokens):
    assert [token.token for token in tokenize(text)] == tokens


def test_a_combining_accent_stays_with_its_letter():
    text = "Zu\u0308rich"  # u + combining diaeresis
    assert tokenize(text) == [(text, 0, len(text))]


def test_spans_from_tags_gives_entities_with_exact_character_spans():
    tags = ["B-PER", "I-PER", "O", "B-PER", "I-PER", "O", "O", "O", "O", "O"]
    expected = [{"text": "Harry Potter", "type": "PER", "start": 0, "end": 12},
                {"text": "Hermione Granger", "type": "PER", "start": 17, "end": 33}]
    assert spans_from_tags(tokenize(HARRY), tags) == expected
    assert spans_from_tags(tokenize(HARRY), tags, text=HARRY) == expected


def test_spans_from_tags_joins_touching_tokens_without_a_space():
    text = "the U.S.-based Acme"
    tokens = tokenize(text)
    tags = ["O"] * (len(tokens) - 1) + ["B-ORG"]
    entities = spans_from_tags(tokens, tags)
    assert entities == [{"text": "Acme", "type": "ORG", "start": 15, "end": 19}]
    assert spans_from_tags([("New", 0, 3), ("York-", 4, 9), ("based", 9, 14)],
                           ["B-LOC", "I-LOC", "I-LOC"])[0]["text"] == "New York-based"


def test_spans_from_tags_needs_one_tag_per_token():
    with pytest.raises(ValueError, match="received 10 tokens and 2 tags"):
        spans_from_tags(tokenize(HARRY), ["O", "O"])


def test_tokenize_rejects_non_text_input():
    with pytest.raises(ValueError, match="text must be a string; received bytes"):
        tokenize(b"Harry")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_random_unicode_tokenizes_into_spans_that_index_the_text(text):
    tokens = tokenize(text)
    previous_end = 0
    for token, start, end in tokens:
        assert text[start:end] == token and token and previous_end <= start
        assert not any(character.isspace() for character in token)
        previous_end = end
    assert "".join(token for token, _, _ in tokens) == "".join(c for c in text if not c.isspace())


# ------------------------------------------------------------------------------ sentences
def sentences_of(text):
    from apps.ner.tokenize import sentence_spans

    tokens = tokenize(text)
    spans = sentence_spans(tokens, text)
    assert [first for first, _ in spans] == [0] + [stop for _, stop in spans[:-1]]
    assert spans[-1][1] == len(tokens) and all(first < stop for first, stop in spans)
    return [" ".join(token.token for token in tokens[first:stop]) for first, stop in spans]


@pytest.mark.parametrize("text, sentences", [
    ("Harry met Ron. They went to London!", ["Harry met Ron .", "They went to London !"]),
    ("Is it Oslo? yes it is... and Bergen.", ["Is it Oslo ? yes it is ... and Bergen ."]),
    ('He said "Go." Then (see above.) Next', ['He said " Go . "', "Then ( see above . )",
                                              "Next"]),
    ('Why? "Because," he said.', ["Why ?", '" Because , " he said .']),
    ("Mr. Smith went to the U.S. He left.", ["Mr. Smith went to the U.S. He left ."]),
    ("No end punctuation", ["No end punctuation"]),
])
def test_sentences_end_at_end_punctuation_before_a_word_not_in_lower_case(text, sentences):
    assert sentences_of(text) == sentences


def test_line_breaks_end_headlines_datelines_and_table_rows_but_not_wrapped_lines():
    text = ("GERMANY BEAT ITALY\nBERLIN 1996-08-30\nGermany beat Italy 2-1 in front of\n"
            "John Smith, Anna Berg,\nand Karl.\nYorkshire 250 for 6\nSurrey 300\n"
            "all out\n\nthe end")
    assert sentences_of(text) == ["GERMANY BEAT ITALY", "BERLIN 1996-08-30",
                                  "Germany beat Italy 2-1 in front of John Smith , Anna Berg , "
                                  "and Karl .", "Yorkshire 250 for 6", "Surrey 300 all out",
                                  "the end"]


def test_sentence_spans_of_plain_strings_use_end_punctuation_only():
    from apps.ner.tokenize import sentence_spans

    assert sentence_spans(["A", ".", '"', "B", "C", ".", ")", "D"]) == [(0, 2), (2, 7), (7, 8)]
    assert sentence_spans(["HEADLINE", "Text", "."]) == [(0, 3)]
    assert sentence_spans([]) == []


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('Ab .!?"\n),c')), max_size=60))
def test_sentences_of_any_text_cover_its_tokens_once_in_order(text):
    if tokenize(text):
        sentences_of(text)      # asserts contiguous ranges from 0 to the last token
