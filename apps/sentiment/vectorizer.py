"""Texts -> padded word ids with keras.layers.TextVectorization, and checks on text to classify.

`make_vectorizer` adapts a TextVectorization layer on the training texts only. Its vocabulary is
Keras' usual one: "" (padding) = 0, "[UNK]" = 1, then the words by decreasing frequency, at most
max_tokens entries in all. Texts are standardised (by default lower-cased with ASCII punctuation
removed) and split on whitespace.

Truncation keeps the FIRST max_length tokens and pads on the right with 0. That is what the layer
itself does with output_sequence_length, so `vectorize` gives exactly the ids the layer gives when
it sits inside a model that reads raw strings (no train/serve skew), and right padding keeps
`Embedding(mask_zero=True)` masks usable by the cuDNN RNN kernels. It is also the choice of the
keras-io IMDB examples. Keeping the last tokens (keras.utils.pad_sequences' default) is a fair
alternative, since reviews often end with the verdict: Sun et al. (2019) report 5.44 % vs 5.63 %
error on IMDB for tail- vs head-only truncation with BERT, a small gap next to the skew risk.
`vectorize` also says which texts were cut, so the app can warn "review truncated at N tokens".

`save_vectorizer` / `load_vectorizer` keep the vocabulary and settings as JSON beside a model.
`check_text` and `known_word_fraction` validate the text given to `predict`; `review_stats`
reports length percentiles (in the vectorizer's tokens) for choosing max_length.
"""
import json
from pathlib import Path

import numpy as np

from apps.common.atomic import atomic_write_text
from apps.sentiment.data import SentimentDataError

STANDARDIZE_OPTIONS = ("lower_and_strip_punctuation", "lower", "strip_punctuation", None)
DEFAULT_STANDARDIZE = "lower_and_strip_punctuation"
DEFAULT_MAX_TOKENS = 20000
DEFAULT_MAX_LENGTH = 256  # IMDB train: median 172 tokens; 71 % of the reviews fit in 256
SPLIT = "whitespace"
TRUNCATION = "keep_first"
PAD_TOKEN, UNKNOWN_TOKEN = "", "[UNK]"
JSON_FORMAT = "apps.sentiment.vectorizer"
JSON_VERSION = 1
BATCH_SIZE = 4096
STATS_PERCENTILES = (50, 75, 90, 95, 99)
STATS_LENGTHS = (128, 256, 512)


# ------------------------------------------------------------------------- text checks
def check_text(text) -> str:
    """The text, unchanged, or SentimentDataError if it is not a non-blank, encodable string."""
    if not isinstance(text, str):
        raise SentimentDataError(f"expected the text as a string; received {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise SentimentDataError(f"the text is not valid Unicode (unpaired surrogate "
                                 f"{text[error.start]!r} at character {error.start})") from None
    if not text.strip():
        raise SentimentDataError("the text is empty or only whitespace; give a sentence to "
                                 "classify, e.g. \"There is nothing to like in this movie.\"")
    return text


def check_texts(texts) -> list:
    """A list of strings (empty strings allowed), or SentimentDataError naming the bad one."""
    if isinstance(texts, (str, bytes)):
        raise SentimentDataError(f"expected a list of texts; received a single "
                                 f"{type(texts).__name__} (wrap it in a list)")
    try:
        texts = list(texts)
    except TypeError:
        raise SentimentDataError(f"expected a list of texts; received "
                                 f"{type(texts).__name__}") from None
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise SentimentDataError(f"text {index}: expected a string; received "
                                     f"{type(text).__name__}")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            raise SentimentDataError(f"text {index} is not valid Unicode (unpaired surrogate at "
                                     f"character {error.start})") from None
    return [str(text) for text in texts]


# -------------------------------------------------------------------------- vectorizer
def make_vectorizer(train_texts, *, max_tokens=DEFAULT_MAX_TOKENS, max_length=DEFAULT_MAX_LENGTH,
                    standardize=DEFAULT_STANDARDIZE):
    """A keras.layers.TextVectorization adapted on train_texts (see the module docstring).

    max_tokens: vocabulary size including "" and "[UNK]" (None: every training word).
    max_length: length of the id sequences; longer texts keep their first max_length tokens.
    standardize: one of STANDARDIZE_OPTIONS (a callable could not be saved to JSON).
    """
    check_settings(max_tokens, max_length, standardize)
    texts = check_texts(train_texts)
    if not texts:
        raise SentimentDataError("no training texts to build the vocabulary from")
    vectorizer = new_layer(max_tokens, max_length, standardize)
    vectorizer.adapt(np.array(texts, dtype=object), batch_size=BATCH_SIZE)
    return vectorizer


def extend_vocabulary(vectorizer, texts, *, known=None):
    """(vectorizer, number added): a new TextVectorization whose vocabulary is the old one
    followed by the words of `texts` it lacks (only those in `known`, when given), most frequent
    first; max_tokens grows to fit. The old words keep their ids.

    The words are those the vectorizer itself sees (a layer with its standardisation and split
    is adapted on `texts`), so that every added word is one the extended vocabulary can match."""
    settings = vectorizer_settings(vectorizer)
    texts = check_texts(texts)
    if not texts:
        return vectorizer, 0
    vocabulary = vocabulary_of(vectorizer)
    reader = new_layer(None, 1, settings["standardize"])
    reader.adapt(np.array(texts, dtype=object), batch_size=BATCH_SIZE)
    present = set(vocabulary)
    added = [word for word in vocabulary_of(reader)[2:]
             if word not in present and (known is None or word in known)]
    if not added:
        return vectorizer, 0
    extended = vocabulary + added
    max_tokens = settings["max_tokens"]
    return new_layer(None if max_tokens is None else max(max_tokens, len(extended)),
                     settings["max_length"], settings["standardize"], extended), len(added)


def check_settings(max_tokens, max_length, standardize):
    """ValueError unless the settings are ones make_vectorizer and the JSON file support."""
    if max_tokens is not None and (isinstance(max_tokens, bool) or
                                   not isinstance(max_tokens, (int, np.integer)) or max_tokens < 3):
        raise ValueError(f"max_tokens must be an integer >= 3 (padding, [UNK] and at least one "
                         f"word) or None; received max_tokens={max_tokens!r}")
    if isinstance(max_length, bool) or not isinstance(max_length, (int, np.integer)) \
            or max_length < 1:
        raise ValueError(f"max_length must be a positive integer; received "
                         f"max_length={max_length!r}")
    if not (standardize is None or isinstance(standardize, str)) \
            or standardize not in STANDARDIZE_OPTIONS:
        raise ValueError(f"standardize must be one of {STANDARDIZE_OPTIONS}; received "
                         f"standardize={standardize!r}")


def new_layer(max_tokens, max_length, standardize, vocabulary=None, *, ragged=False):
    """A TextVectorization in "int" mode, split on whitespace, with these settings."""
    import keras

    return keras.layers.TextVectorization(
        max_tokens=None if max_tokens is None else int(max_tokens), standardize=standardize,
        split=SPLIT, output_mode="int", vocabulary=vocabulary, ragged=ragged,
        output_sequence_length=None if ragged else int(max_length))


def vectorizer_settings(vectorizer) -> dict:
    """max_tokens, max_length, standardize, split and truncation of a vectorizer."""
    config = vectorizer.get_config()
    settings = {"max_tokens": config["max_tokens"], "max_length": config["output_sequence_length"],
                "standardize": config["standardize"], "split": config["split"],
                "truncation": TRUNCATION}
    if settings["split"] != SPLIT or config["output_mode"] != "int" or config["ngrams"]:
        raise ValueError(f"expected a TextVectorization made by make_vectorizer (int output, "
                         f"split on whitespace, no n-grams); received {config['output_mode']!r} "
                         f"output, split={config['split']!r}, ngrams={config['ngrams']!r}")
    check_settings(settings["max_tokens"], settings["max_length"], settings["standardize"])
    return settings


def vocabulary_of(vectorizer) -> list:
    """The vocabulary as plain strings: "", "[UNK]", then the words."""
    return [str(token) for token in vectorizer.get_vocabulary()]


def full_ids(vectorizer, texts) -> list:
    """Untruncated int32 ids of each text, as a list of 1-D arrays."""
    settings = vectorizer_settings(vectorizer)
    layer = new_layer(None, None, settings["standardize"], vocabulary_of(vectorizer), ragged=True)
    return ragged_ids(layer, check_texts(texts))


def ragged_ids(layer, texts: list) -> list:
    """Run a ragged TextVectorization over texts in batches; a list of int32 arrays."""
    rows = []
    for start in range(0, len(texts), BATCH_SIZE):
        batch = layer(np.array(texts[start:start + BATCH_SIZE], dtype=object))
        values = batch.flat_values.numpy().astype(np.int32)
        rows.extend(np.split(values, batch.row_splits.numpy()[1:-1]))
    return rows


def vectorize(vectorizer, texts):
    """(ids int32 (N, max_length), truncated bool (N,)): first max_length ids, right-padded with 0;
    truncated[i] is True when text i had more than max_length tokens."""
    max_length = vectorizer_settings(vectorizer)["max_length"]
    rows = full_ids(vectorizer, texts)
    ids = np.zeros((len(rows), max_length), dtype=np.int32)
    truncated = np.zeros(len(rows), dtype=bool)
    for index, row in enumerate(rows):
        ids[index, :min(len(row), max_length)] = row[:max_length]
        truncated[index] = len(row) > max_length
    return ids, truncated


def known_word_fraction(vectorizer, text) -> float:
    """Fraction of the text's tokens found in the vocabulary (0.0 when it has no token at all)."""
    row = full_ids(vectorizer, [check_text(text)])[0]
    return float(np.mean(row > 1)) if len(row) else 0.0


# ------------------------------------------------------------------------------- stats
def token_counts(texts, *, standardize=DEFAULT_STANDARDIZE) -> np.ndarray:
    """Number of tokens in each text, standardised and split as the vectorizer does."""
    check_settings(None, 1, standardize)
    layer = new_layer(None, None, standardize, ["placeholder"], ragged=True)  # only counts used
    return np.array([len(row) for row in ragged_ids(layer, check_texts(texts))], dtype=np.int64)


def review_stats(texts, *, standardize=DEFAULT_STANDARDIZE, percentiles=STATS_PERCENTILES,
                 lengths=STATS_LENGTHS) -> dict:
    """Length report in tokens: count, mean, min, max, {percentile: tokens} and
    {length: fraction of texts longer than it} for choosing max_length."""
    counts = token_counts(texts, standardize=standardize)
    if not counts.size:
        raise SentimentDataError("no texts to report on")
    return {"count": int(counts.size), "mean": float(counts.mean()), "min": int(counts.min()),
            "max": int(counts.max()),
            "percentiles": {p: float(np.percentile(counts, p)) for p in percentiles},
            "longer_than": {length: float(np.mean(counts > length)) for length in lengths}}


def describe_review_stats(stats: dict) -> str:
    """One line for the console, e.g. "25000 texts, tokens: mean 230, 50% 174, ... max 2470"."""
    percentiles = ", ".join(f"{p}% {value:.0f}" for p, value in stats["percentiles"].items())
    longer = ", ".join(f"{fraction:.1%} over {length}"
                       for length, fraction in stats["longer_than"].items())
    return (f"{stats['count']} texts, tokens: mean {stats['mean']:.0f}, min {stats['min']}, "
            f"{percentiles}, max {stats['max']}; {longer}")


# ------------------------------------------------------------------------ save / load
def save_vectorizer(vectorizer, path):
    """Write the vocabulary and settings as JSON, atomically (apps.common.atomic)."""
    path = Path(path)
    document = {"format": JSON_FORMAT, "version": JSON_VERSION, **vectorizer_settings(vectorizer),
                "vocabulary": vocabulary_of(vectorizer)}
    atomic_write_text(path, json.dumps(document, ensure_ascii=False))


def load_vectorizer(path):
    """The TextVectorization that save_vectorizer wrote, or SentimentDataError saying why not."""
    path = Path(path)
    if not path.is_file():
        raise SentimentDataError(f"vectorizer file not found: {path} (save_vectorizer writes it "
                                 "beside a trained model)")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SentimentDataError(f"{path}: not a vectorizer JSON file ({error})") from None
    vocabulary = check_document(path, document)
    return new_layer(document["max_tokens"], document["max_length"], document["standardize"],
                     vocabulary)


def check_document(path, document) -> list:
    """The vocabulary of a vectorizer JSON document, after checking its format and settings."""
    if not isinstance(document, dict) or document.get("format") != JSON_FORMAT:
        raise SentimentDataError(f"{path}: not a vectorizer JSON file (expected "
                                 f"\"format\": \"{JSON_FORMAT}\")")
    if document.get("version") != JSON_VERSION:
        raise SentimentDataError(f"{path}: vectorizer file version {document.get('version')!r}; "
                                 f"this code reads version {JSON_VERSION}")
    try:
        check_settings(document.get("max_tokens"), document.get("max_length"),
                       document.get("standardize"))
    except ValueError as error:
        raise SentimentDataError(f"{path}: {error}") from None
    if document.get("split") != SPLIT or document.get("truncation") != TRUNCATION:
        raise SentimentDataError(f"{path}: expected split={SPLIT!r} and truncation="
                                 f"{TRUNCATION!r}; found {document.get('split')!r} and "
                                 f"{document.get('truncation')!r}")
    return check_vocabulary(path, document.get("vocabulary"), document["max_tokens"])


def check_vocabulary(path, vocabulary, max_tokens) -> list:
    """"", "[UNK]", then distinct non-empty strings, at most max_tokens in all."""
    if not isinstance(vocabulary, list) or vocabulary[:2] != [PAD_TOKEN, UNKNOWN_TOKEN]:
        raise SentimentDataError(f"{path}: the vocabulary must be a list starting with "
                                 f"{PAD_TOKEN!r}, {UNKNOWN_TOKEN!r}")
    words = vocabulary[2:]
    if not all(isinstance(word, str) and word and word != UNKNOWN_TOKEN for word in words) \
            or len(set(words)) != len(words):
        raise SentimentDataError(f"{path}: the vocabulary words must be distinct non-empty "
                                 f"strings")
    if max_tokens is not None and len(vocabulary) > max_tokens:
        raise SentimentDataError(f"{path}: {len(vocabulary)} vocabulary entries exceed "
                                 f"max_tokens={max_tokens}")
    return vocabulary
