"""apps.sentiment.cooccurrence: word vectors from the training texts' own co-occurrences."""
import numpy as np
import pytest

from apps.sentiment.cooccurrence import cooccurrence_counts, cooccurrence_matrix, ppmi


def test_counts_weight_pairs_by_one_over_distance_in_both_directions():
    ids = np.array([[2, 3, 4, 0, 0],
                    [3, 1, 2, 0, 0]])  # 1 = [UNK], 0 = padding: never counted
    counts = cooccurrence_counts(ids, 5, window=2).toarray()
    expected = np.zeros((5, 5))
    for a, b, weight in ((2, 3, 1.0), (3, 4, 1.0), (2, 4, 0.5), (3, 2, 0.5)):
        expected[a, b] += weight
        expected[b, a] += weight
    np.testing.assert_allclose(counts, expected)


def test_counts_refuse_a_bad_window_or_shape():
    with pytest.raises(ValueError, match="window"):
        cooccurrence_counts(np.ones((2, 3), dtype=int), 4, window=0)
    with pytest.raises(ValueError, match=r"\(texts, time\)"):
        cooccurrence_counts(np.ones(3, dtype=int), 4)


def test_ppmi_is_the_positive_part_of_smoothed_pmi():
    counts = np.array([[0.0, 4.0, 1.0],
                       [4.0, 0.0, 2.0],
                       [1.0, 2.0, 6.0]])
    got = ppmi(counts, smoothing=0.75).toarray()
    words = counts.sum(axis=1)
    context = counts.sum(axis=0) ** 0.75
    with np.errstate(divide="ignore"):
        pmi = np.log(counts * context.sum() / np.outer(words, context))
    np.testing.assert_allclose(got, np.where(counts > 0, np.maximum(pmi, 0.0), 0.0))


def synthetic_corpus(seed=0, texts=400, length=30):
    """Two topics: words 2-11 only ever appear with words 2-11, words 12-21 with 12-21."""
    random = np.random.default_rng(seed)
    topics = random.integers(0, 2, texts)
    ids = 2 + 10 * topics[:, None] + random.integers(0, 10, (texts, length))
    ids[:5, -3:] = 0  # some padding
    return ids


def test_words_that_share_contexts_get_closer_vectors():
    vectors = cooccurrence_matrix(synthetic_corpus(), 24, 4, window=3, seed=1)
    cosine = vectors @ vectors.T  # rows of seen words have length 1
    same = [cosine[a, b] for a in range(2, 12) for b in range(2, 12) if a != b]
    other = [cosine[a, b] for a in range(2, 12) for b in range(12, 22)]
    assert min(same) > max(other)


def test_rows_padding_unseen_words_and_determinism():
    vectors = cooccurrence_matrix(synthetic_corpus(), 24, 4, window=3, row_norm=0.5, seed=1)
    assert vectors.shape == (24, 4) and vectors.dtype == np.float32
    np.testing.assert_array_equal(vectors[0], 0.0)  # padding
    np.testing.assert_allclose(np.linalg.norm(vectors[2:22], axis=1), 0.5, rtol=1e-5)
    # [UNK] and the never-seen ids 22, 23 keep Keras's default random rows
    assert np.abs(vectors[[1, 22, 23]]).max() <= 0.05
    assert np.abs(vectors[[1, 22, 23]]).min() > 0
    again = cooccurrence_matrix(synthetic_corpus(), 24, 4, window=3, row_norm=0.5, seed=1)
    np.testing.assert_array_equal(vectors, again)


@pytest.mark.parametrize("dim", [0, 22, 2.5])
def test_bad_dimensions_are_refused(dim):
    with pytest.raises(ValueError, match="dim"):
        cooccurrence_matrix(synthetic_corpus(), 24, dim)
