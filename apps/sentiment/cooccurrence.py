"""Word vectors from the training texts themselves: PPMI of window co-occurrences, then SVD.

`--embeddings cooccurrence` starts the embedding from these instead of random rows. They use no
text beyond the training split (IMDB's quality target forbids pretraining on external text):

    1. count, over the token ids of the training texts, every pair of words at most `window`
       tokens apart, weighted 1/distance (GloVe's weighting), both directions;
    2. positive pointwise mutual information with the context counts raised to 0.75 (Levy,
       Goldberg & Dagan 2015: the smoothing word2vec's negative sampling applies);
    3. a truncated SVD of that sparse matrix, the word vectors U * sqrt(S) (the symmetric
       weighting Levy et al. recommend), each row scaled to length `row_norm`.

Padding (id 0), [UNK] (id 1) and words that never meet another word keep zero / small random
rows, as a random embedding would give them.
"""
import numpy as np


def cooccurrence_counts(ids, vocabulary_size: int, window: int = 5):
    """Sparse (V, V) float64 counts of word pairs at most `window` apart, weighted 1/distance.

    ids: (texts, time) int token ids, 0 = padding, 1 = [UNK]; both are left out.
    """
    import scipy.sparse

    ids = np.asarray(ids)
    if ids.ndim != 2:
        raise ValueError(f"ids must be (texts, time); received shape {ids.shape}")
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise ValueError(f"window must be a positive integer; received window={window!r}")
    total = scipy.sparse.csr_matrix((vocabulary_size, vocabulary_size), dtype=np.float64)
    for distance in range(1, min(window, ids.shape[1] - 1) + 1):
        first, second = ids[:, :-distance], ids[:, distance:]
        real = (first > 1) & (second > 1)
        rows, columns = first[real].astype(np.int64), second[real].astype(np.int64)
        if not rows.size:
            continue
        weights = np.full(rows.size, 1.0 / distance)
        pairs = scipy.sparse.coo_matrix((weights, (rows, columns)),
                                        shape=(vocabulary_size, vocabulary_size)).tocsr()
        total = total + pairs + pairs.T
    total.sum_duplicates()
    return total


def ppmi(counts, smoothing: float = 0.75):
    """Positive PMI of a sparse count matrix, context counts raised to `smoothing`."""
    import scipy.sparse

    counts = scipy.sparse.csr_matrix(counts, dtype=np.float64)
    word_totals = np.asarray(counts.sum(axis=1)).ravel()
    context = np.asarray(counts.sum(axis=0)).ravel() ** smoothing
    context_total = context.sum()
    coo = counts.tocoo()
    keep = coo.data > 0
    rows, columns, values = coo.row[keep], coo.col[keep], coo.data[keep]
    pmi = np.log(values * context_total / (word_totals[rows] * context[columns]))
    positive = pmi > 0
    return scipy.sparse.csr_matrix((pmi[positive], (rows[positive], columns[positive])),
                                   shape=counts.shape)


def cooccurrence_matrix(ids, vocabulary_size: int, dim: int, *, window: int = 5,
                        row_norm: float = 1.0, seed: int = 0) -> np.ndarray:
    """(vocabulary_size, dim) float32 embedding rows from the texts' own co-occurrences."""
    import scipy.sparse.linalg

    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
        raise ValueError(f"dim must be a positive integer; received dim={dim!r}")
    if dim >= vocabulary_size - 2:
        raise ValueError(f"dim ({dim}) must be below the number of words "
                         f"({vocabulary_size - 2}) for a truncated SVD")
    matrix = ppmi(cooccurrence_counts(ids, vocabulary_size, window))
    random = np.random.default_rng(seed)
    start = random.uniform(-1.0, 1.0, matrix.shape[0])
    u, s, _ = scipy.sparse.linalg.svds(matrix, k=dim, v0=start / np.linalg.norm(start),
                                       random_state=seed)
    order = np.argsort(s)[::-1]  # svds gives ascending singular values
    vectors = u[:, order] * np.sqrt(s[order])
    lengths = np.linalg.norm(vectors, axis=1)
    seen = lengths > 1e-12
    out = random.uniform(-0.05, 0.05, (vocabulary_size, dim))  # Keras's Embedding default
    out[seen] = vectors[seen] / lengths[seen, None] * row_norm
    out[0] = 0.0
    return out.astype(np.float32)
