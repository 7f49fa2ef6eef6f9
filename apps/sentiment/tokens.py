"""Words and punctuation as separate tokens, the way the Stanford Sentiment Treebank writes them.

SST's sentences are already tokenised in the Penn Treebank style, lower-cased by Kim (2014):
"it 's not a bad film , but it does n't work ." A user's text is not: "It's not a bad film, but
it doesn't work." `split_words` brings both to the same form, so that a model trained on SST
understands raw text (without it, "work." and "doesn't" would be unknown words and the negation
lost), and it gives IMDB reviews the same treatment:

    - lower-case;
    - every kind of double quote (" “ ” `` '') becomes the one token `"`;
    - the clitics n't 's 're 've 'll 'd 'm are split from the word before them
      (don't -> do n't, can't -> ca n't, it's -> it 's), as the Treebank does;
    - . , ! ? ; : ( ) [ ] { } " and runs of dots or dashes (... --) become tokens of their own;
      a dot inside a token (2.5, j.r.r) stays;
    - tokens are joined by single spaces.

The function is idempotent (tokenised text comes back unchanged), so SST's own sentences keep
their tokens, and it is applied before `apps.sentiment.vectorizer`, to training text and to the
text given to `predict` alike.
"""
import re

TOKENIZER_NAME = "ptb-lower"
DOUBLE_QUOTES = re.compile(r"``|''|[\"“”„«»]")
CLITICS = re.compile(r"(?<=\w)(n't|'s|'re|'ve|'ll|'d|'m)\b")
PUNCTUATION = re.compile(r"(\.{2,}|-{2,}|…|[,!?;:()\[\]{}\"])")
FINAL_DOT = re.compile(r"(?<=[^\s.])\.(?=\s|$)")
SPACES = re.compile(r"\s+")


def split_words(text: str) -> str:
    """The text lower-cased, with words, clitics and punctuation separated by single spaces."""
    text = DOUBLE_QUOTES.sub(' " ', text.lower().replace("’", "'"))
    text = CLITICS.sub(r" \1", text)
    text = PUNCTUATION.sub(r" \1 ", text)
    text = FINAL_DOT.sub(" .", text)
    return SPACES.sub(" ", text).strip()


def split_all(texts) -> list:
    """`split_words` of every text."""
    return [split_words(text) for text in texts]
