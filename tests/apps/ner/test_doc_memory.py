"""The document memory (--doc-memory): a word reads the other occurrences of that word in the
same story; training and tagging batches hold whole pieces of stories."""
import numpy as np
import pytest

from apps.ner.batching import (STORY_PIECE, BucketBatcher, encode_flat, evaluation_plan,
                               make_batch, story_pieces)
from zoo.text import Vocabulary


def memory_layer(dim=6):
    from apps.ner.model import DocumentMemory
    return DocumentMemory(dim)


def test_a_word_reads_its_other_occurrences_in_the_same_story_only():
    rng = np.random.default_rng(0)
    layer = memory_layer()
    states = rng.normal(size=(3, 5, 8)).astype("float32")
    words = np.array([[5, 6, 7, 0, 0],      # story 0
                      [5, 9, 1, 1, 0],      # story 0: 5 again; 1 is <UNK>, which matches nothing
                      [5, 6, 0, 0, 0]],     # story 1: 5 and 6 again, but another story
                     dtype="int32")
    stories = np.array([0, 0, 1], dtype="int32")
    out = np.asarray(layer([states, words, stories]))
    assert out.shape == (3, 5, 8 + 6 + 1)
    np.testing.assert_array_equal(out[..., :8], states)                 # the state itself
    has_match = np.zeros((3, 5))
    has_match[0, 0] = has_match[1, 0] = 1
    np.testing.assert_array_equal(out[..., -1], has_match)
    value = layer.value.numpy()
    # One match: the attention's value is that token's value, whatever the scores.
    np.testing.assert_allclose(out[0, 0, 8:14], states[1, 0] @ value, atol=1e-5)
    np.testing.assert_allclose(out[1, 0, 8:14], states[0, 0] @ value, atol=1e-5)
    unmatched = has_match == 0
    np.testing.assert_array_equal(out[..., 8:14][unmatched], 0)


def test_the_attention_weighs_several_matches_by_their_scores():
    rng = np.random.default_rng(1)
    layer = memory_layer(4)
    states = rng.normal(size=(3, 2, 5)).astype("float32")
    words = np.array([[7, 2], [7, 3], [7, 4]], dtype="int32")
    out = np.asarray(layer([states, words, np.zeros(3, "int32")]))
    query, key, value = (weight.numpy() for weight in (layer.query, layer.key, layer.value))
    others = states[1:, 0]                                   # the two other 7s, for token (0, 0)
    scores = (states[0, 0] @ query) @ (others @ key).T / 2.0
    weights = np.exp(scores - scores.max())
    weights /= weights.sum()
    np.testing.assert_allclose(out[0, 0, 5:9], weights @ (others @ value), atol=1e-5)


def test_padding_changes_no_real_position():
    rng = np.random.default_rng(2)
    layer = memory_layer()
    states = rng.normal(size=(2, 4, 8)).astype("float32")
    words = np.array([[4, 5, 4, 0], [5, 6, 0, 0]], dtype="int32")
    stories = np.array([3, 3], dtype="int32")
    out = np.asarray(layer([states, words, stories]))
    longer = np.asarray(layer([np.concatenate([states, rng.normal(size=(2, 3, 8))], 1)
                               .astype("float32"),
                               np.pad(words, ((0, 0), (0, 3))), stories]))
    real = words > 0
    np.testing.assert_allclose(longer[:, :4][real], out[real], atol=1e-5)


def encoded_stories(sizes, seed=0):
    """EncodedSentences of stories with the given sentence counts (random lengths 1-9)."""
    rng = np.random.default_rng(seed)
    token_lists, documents = [], []
    for story, size in enumerate(sizes):
        for _ in range(size):
            token_lists.append([f"w{int(i)}" for i in rng.integers(0, 30, rng.integers(1, 10))])
            documents.append(10 * story + 7)           # any integers; only equality matters
    words = Vocabulary.build(token_lists, level="word")
    chars = Vocabulary.build((t for tokens in token_lists for t in tokens), level="char")
    return encode_flat(token_lists, words, chars, documents=documents)


def test_stories_are_cut_into_consecutive_pieces():
    encoded = encoded_stories([3, 40, 1, 70])
    pieces = story_pieces(encoded)
    assert [len(piece) for piece in pieces] == [3, STORY_PIECE, 8, 1, STORY_PIECE, STORY_PIECE, 6]
    np.testing.assert_array_equal(np.concatenate(pieces), np.arange(len(encoded)))
    for piece in pieces:
        assert len(set(encoded.documents[piece])) == 1
    # Without story ids every sentence is its own story.
    vocabularies = Vocabulary.build([["a", "b"]], level="word"), Vocabulary.build(["ab"],
                                                                                 level="char")
    alone = encode_flat([["a"], ["b"], ["a"]], *vocabularies)
    assert [list(piece) for piece in story_pieces(alone)] == [[0], [1], [2]]
    with pytest.raises(ValueError, match="one story id per token list"):
        encode_flat([["a"]], *vocabularies, documents=[1, 2])


def test_story_batches_keep_pieces_whole_and_every_sentence_once():
    encoded = encoded_stories([5, 12, 3, 40, 9, 2, 7, 30, 4, 8, 1, 6], seed=1)
    batcher = BucketBatcher(encoded, 16, seed=3, stories=True)
    pieces = {tuple(piece) for piece in story_pieces(encoded, 16)}    # 40 -> 16 + 16 + 8
    assert {tuple(piece) for piece in batcher.pieces} == pieces
    plans = [batcher.epoch_plan(epoch) for epoch in (0, 1)]
    for plan in plans:
        assert len(plan) == batcher.steps_per_epoch == int(np.ceil(len(encoded) / 16))
        np.testing.assert_array_equal(np.sort(np.concatenate(plan)), np.arange(len(encoded)))
        for batch in plan:
            # The batch is a concatenation of whole pieces.
            position = 0
            while position < len(batch):
                piece = next(piece for piece in pieces if piece[0] == batch[position])
                assert tuple(batch[position:position + len(piece)]) == piece
                position += len(piece)
    assert [list(b) for b in plans[0]] != [list(b) for b in plans[1]]
    again = BucketBatcher(encoded, 16, seed=3, stories=True).epoch_plan(1)
    assert [list(b) for b in again] == [list(b) for b in plans[1]]
    features, labels = next(batcher.batches(0))
    assert set(features) == {"words", "casing", "chars", "documents"} and labels is None
    np.testing.assert_array_equal(features["documents"], encoded.documents[plans[0][0]])
    evaluation = evaluation_plan(encoded, 128, stories=True)
    assert len(evaluation) == int(np.ceil(len(encoded) / STORY_PIECE))
    np.testing.assert_array_equal(np.sort(np.concatenate(evaluation)), np.arange(len(encoded)))
    assert "documents" not in make_batch(encoded, [0, 1])[0]


def test_a_long_story_fills_small_batches():
    encoded = encoded_stories([40])
    plan = BucketBatcher(encoded, 4, seed=0, stories=True).epoch_plan(0)
    assert [len(batch) for batch in plan] == [4] * 10
    assert sorted(int(batch[0]) for batch in plan) == list(range(0, 40, 4))


def story_folder(folder):
    """A CoNLL folder whose splits hold several -DOCSTART- stories."""
    from tests.apps.ner.conftest import conll_text

    folder.mkdir(parents=True, exist_ok=True)
    for name, count, seed in (("train.txt", 60, 0), ("valid.txt", 15, 1), ("test.txt", 15, 2)):
        stories = [conll_text(count // 3, seed * 10 + story) for story in range(3)]
        (folder / name).write_text("\n".join(stories), encoding="utf-8")
    return folder


def test_a_run_with_a_document_memory_trains_evaluates_and_tags(tmp_path):
    from apps.ner.data import read_conll
    from apps.ner.predict import predict_tags
    from apps.ner.saved import load_run
    from tests.apps.ner.conftest import TINY_TRAIN_ARGUMENTS, run_main

    folder = story_folder(tmp_path / "conll")
    assert len({s.document for s in read_conll(folder / "train.txt")}) == 3
    run_dir = tmp_path / "run"
    status, stdout, stderr = run_main(["train", "--data", folder, "--run-dir", run_dir,
                                       "--doc-memory", "4"] + TINY_TRAIN_ARGUMENTS)
    assert status == 0, stderr[-3000:]
    trained = load_run(run_dir)
    assert trained.settings["settings"]["doc_memory"] == 4
    tagger = trained.tagger()
    assert tagger.stories and trained.model.get_layer("document_memory").dim == 4
    status, stdout, stderr = run_main(["evaluate", "--run-dir", run_dir, "--split", "test"])
    assert status == 0, stderr[-3000:]
    assert "entity-level scores" in stdout
    status, stdout, stderr = run_main(["tag", "--run-dir", run_dir,
                                       "Anna Berg visited Oslo . Oslo is cold ."])
    assert status == 0, stderr[-3000:]

    # The memory is wired to the story ids: a sentence's tag probabilities change when a
    # sentence of its story shares a word, and not when the other sentence is another story's.
    first, second = ["Anna", "Berg", "visited", "Oslo", "."], ["Oslo", "shares", "rose", "."]
    encoded = encode_flat([first, second], trained.words, trained.chars,
                          max_word_length=trained.max_word_length, documents=[0, 0])
    together = tagger.posteriors(make_batch(encoded, [0, 1], stories=True)[0])
    apart_features = make_batch(encoded, [0, 1], stories=True)[0]
    apart_features["documents"] = np.array([0, 1], dtype="int32")
    apart = tagger.posteriors(apart_features)
    alone = tagger.posteriors(make_batch(encoded, [0], stories=True)[0])
    np.testing.assert_allclose(apart[0, :5], alone[0, :5], atol=1e-5)
    assert np.abs(together[0, :5] - apart[0, :5]).max() > 1e-4
    # predict_tags: without story ids each sentence is alone; a -DOCSTART- file's stories
    # are what evaluate passes.
    assert predict_tags(trained, [first, second]) == predict_tags(trained, [first, second],
                                                                  documents=[0, 1])
    assert all(len(tags) == len(tokens) for tags, tokens in zip(
        predict_tags(trained, [first, second], documents=[5, 5]), (first, second)))


def test_doc_memory_must_not_be_negative(tmp_path):
    from tests.apps.ner.conftest import run_main

    status, _, stderr = run_main(["train", "--run-dir", tmp_path / "run", "--doc-memory", "-2"])
    assert status == 2 and "--doc-memory" in stderr
