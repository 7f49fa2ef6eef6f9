"""apps.ner.batching: bucketed epochs use every sentence once, pad little, and resume exactly."""
import numpy as np
import pytest

from apps.ner.batching import (BucketBatcher, EpochStream, encode_flat, evaluation_plan,
                               make_batch, training_dataset)
from apps.ner.data import CONLL2003_TAGS, char_vocabulary, word_vocabulary, Sentence

TAGS = list(CONLL2003_TAGS)


def sentences(count=203, seed=0):
    """Random sentences of 1..60 tokens (a skewed length distribution like CoNLL's)."""
    rng = np.random.default_rng(seed)
    result = []
    for index in range(count):
        length = int(min(60, 1 + rng.geometric(0.08)))
        tokens = [f"w{rng.integers(0, 400)}" if rng.random() < 0.8 else "Ab" for _ in range(length)]
        tags = [TAGS[rng.integers(0, 3)] if token == "Ab" else "O" for token in tokens]
        result.append(Sentence(tokens, ["O" if tag == "I-PER" else tag for tag in tags], index))
    return result


@pytest.fixture(scope="module")
def encoded():
    data = sentences()
    words, chars = word_vocabulary(data), char_vocabulary(data)
    return encode_flat([s.tokens for s in data], words, chars, tag_lists=[s.tags for s in data],
                       tag_names=TAGS, max_word_length=6), data, words


def test_every_sentence_is_in_exactly_one_batch_of_every_epoch(encoded):
    encoded_sentences, data, _ = encoded
    batcher = BucketBatcher(encoded_sentences, batch_size=16, seed=3, chunk_batches=4)
    for epoch in range(3):
        plan = batcher.epoch_plan(epoch)
        assert len(plan) == batcher.steps_per_epoch == int(np.ceil(len(data) / 16))
        assert sorted(np.concatenate(plan).tolist()) == list(range(len(data)))
        assert sum(len(batch) < 16 for batch in plan) == 1             # 203 = 12 x 16 + 11


def test_the_plan_depends_only_on_seed_and_epoch(encoded):
    encoded_sentences, _, _ = encoded
    first = BucketBatcher(encoded_sentences, 16, seed=3).epoch_plan(2)
    again = BucketBatcher(encoded_sentences, 16, seed=3).epoch_plan(2)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    for other in (BucketBatcher(encoded_sentences, 16, seed=3).epoch_plan(1),
                  BucketBatcher(encoded_sentences, 16, seed=4).epoch_plan(2)):
        assert not all(np.array_equal(a, b) for a, b in zip(first, other))


def test_bucketing_pads_far_less_than_padding_to_the_longest(encoded):
    encoded_sentences, data, _ = encoded
    lengths = encoded_sentences.lengths
    def padded(plan):
        return sum(len(batch) * lengths[batch].max() for batch in plan)

    shuffled = padded(np.array_split(np.random.default_rng(0).permutation(len(data)), 13))
    small_chunks = padded(BucketBatcher(encoded_sentences, 16, seed=0, chunk_batches=4)
                          .epoch_plan(0))
    default_chunks = padded(BucketBatcher(encoded_sentences, 16, seed=0).epoch_plan(0))
    assert small_chunks < 0.75 * shuffled
    assert default_chunks < 1.2 * lengths.sum() < 0.5 * shuffled


def test_a_batch_is_padded_to_its_own_longest_sentence_and_word(encoded):
    encoded_sentences, data, words = encoded
    features, labels = make_batch(encoded_sentences, np.array([5, 0, 7]))
    longest = max(len(data[i].tokens) for i in (5, 0, 7))
    assert features["words"].shape == labels.shape == (3, longest)
    assert features["chars"].shape[:2] == (3, longest)
    assert features["chars"].shape[2] == max(min(len(t), 6) for i in (5, 0, 7)
                                             for t in data[i].tokens)
    for row, index in enumerate((5, 0, 7)):
        length = len(data[index].tokens)
        assert features["words"][row, :length].tolist() == words.encode(data[index].tokens)
        assert (features["words"][row, length:] == 0).all()
        assert (labels[row, length:] == -1).all()
        assert [TAGS[i] for i in labels[row, :length]] == data[index].tags


def test_singleton_replacement_touches_only_singletons_and_repeats_per_epoch(encoded):
    encoded_sentences, data, words = encoded
    singletons = np.zeros(len(words), dtype=bool)
    singletons[2:40] = True
    batcher = BucketBatcher(encoded_sentences, 16, seed=1, singletons=singletons,
                            unk_probability=0.5, unk_id=words.unk_id)
    plain = BucketBatcher(encoded_sentences, 16, seed=1)
    replaced_count = 0
    for (features, _), (original, _) in zip(batcher.batches(0), plain.batches(0)):
        changed = features["words"] != original["words"]
        assert (features["words"][changed] == words.unk_id).all()
        assert singletons[original["words"][changed]].all()
        replaced_count += int(changed.sum())
    assert replaced_count > 0
    first = [f["words"] for f, _ in batcher.batches(0)]
    again = [f["words"] for f, _ in batcher.batches(0)]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))


def test_the_stream_yields_epoch_first_plus_n_on_its_nth_pass(encoded):
    encoded_sentences, _, _ = encoded
    batcher = BucketBatcher(encoded_sentences, 64, seed=2)
    dataset, stream = training_dataset(batcher, first_epoch=5)
    assert int(dataset.cardinality()) == batcher.steps_per_epoch
    seen = [features["words"].numpy() for features, _ in dataset.repeat(2)]
    expected = [make_batch(encoded_sentences, batch)[0]["words"]
                for epoch in (5, 6) for batch in batcher.epoch_plan(epoch)]
    assert len(seen) == len(expected) and stream.started[:2] == [5, 6]
    assert all(np.array_equal(a, b) for a, b in zip(seen, expected))


def test_evaluation_batches_are_sorted_by_length_and_cover_everything(encoded):
    encoded_sentences, data, _ = encoded
    plan = evaluation_plan(encoded_sentences, 50)
    order = np.concatenate(plan)
    assert sorted(order.tolist()) == list(range(len(data)))
    assert (np.diff(encoded_sentences.lengths[order]) >= 0).all()


def test_an_epoch_stream_starts_where_it_is_told():
    stream = EpochStream(type("B", (), {"batches": lambda self, epoch: iter([epoch])})(), 3)
    assert [list(stream()) for _ in range(3)] == [[3], [4], [5]]
