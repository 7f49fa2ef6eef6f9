"""apps.ner.metrics: the in-graph entity counts equal seqeval's (conlleval mode) on random tags."""
import numpy as np
import pytest
from seqeval.metrics import f1_score
from seqeval.metrics.sequence_labeling import get_entities

from apps.ner.data import CONLL2003_TAGS
from apps.ner.metrics import EntityF1, entity_counts

TAGS = list(CONLL2003_TAGS)        # O, B-PER, I-PER, ... : label id = index


def random_batch(rng, batch=16, time=12):
    """Random label ids (ill-formed IOB2 included: I-X after O or after another type), random
    lengths, -1 at padding."""
    lengths = rng.integers(1, time + 1, size=batch)
    true = rng.integers(0, len(TAGS), size=(batch, time))
    predicted = np.where(rng.random((batch, time)) < 0.6, true,
                         rng.integers(0, len(TAGS), size=(batch, time)))
    padding = np.arange(time)[None, :] >= lengths[:, None]
    true[padding] = -1
    return true, predicted, lengths


def as_tags(ids, lengths):
    return [[TAGS[i] for i in row[:length]] for row, length in zip(ids, lengths)]


def seqeval_counts(true_tags, predicted_tags):
    true_entities = {(index, *entity) for index, tags in enumerate(true_tags)
                     for entity in get_entities(tags)}
    predicted_entities = {(index, *entity) for index, tags in enumerate(predicted_tags)
                          for entity in get_entities(tags)}
    return len(true_entities & predicted_entities), len(predicted_entities), len(true_entities)


@pytest.mark.parametrize("seed", range(6))
def test_entity_counts_equal_seqeval_on_random_ill_formed_tags(seed):
    rng = np.random.default_rng(seed)
    true, predicted, lengths = random_batch(rng)
    counts = entity_counts(true, predicted, true >= 0)
    expected = seqeval_counts(as_tags(true, lengths), as_tags(predicted, lengths))
    assert tuple(int(value) for value in counts) == expected
    assert expected[0] > 0 and expected[0] < expected[1]          # the case is not trivial


def test_padded_predictions_never_count():
    true = np.array([[1, 2, -1, -1]])
    predicted = np.array([[1, 2, 3, 4]])            # an entity predicted in the padding
    assert tuple(int(v) for v in entity_counts(true, predicted, true >= 0)) == (1, 1, 1)


def test_a_chunk_cut_short_by_the_other_sequence_is_not_correct():
    # gold B-PER I-PER I-PER; predicted B-PER I-PER B-PER: same start and type, other end
    true, predicted = np.array([[1, 2, 2]]), np.array([[1, 2, 1]])
    assert tuple(int(v) for v in entity_counts(true, predicted, true >= 0)) == (0, 2, 1)


def test_the_metric_accumulates_over_batches_to_seqeval_f1():
    rng = np.random.default_rng(42)
    metric = EntityF1()
    all_true, all_predicted = [], []
    for _ in range(3):
        true, predicted, lengths = random_batch(rng, time=rng.integers(3, 15))
        scores = np.eye(len(TAGS), dtype="float32")[predicted]      # one-hot "probabilities"
        metric.update_state(true, scores)
        all_true += as_tags(true, lengths)
        all_predicted += as_tags(predicted, lengths)
    assert float(metric.result()) == pytest.approx(f1_score(all_true, all_predicted), abs=1e-6)
    metric.reset_state()
    assert float(metric.result()) == 0.0


def test_the_metric_decodes_with_the_function_it_is_given():
    calls = []

    def decode(scores, mask):
        calls.append(mask)
        return np.array([[1, 2, 0]]), None

    metric = EntityF1(decode=decode)
    metric.update_state(np.array([[1, 2, -1]]), np.zeros((1, 3, len(TAGS)), "float32"))
    assert calls and float(metric.result()) == 1.0
    assert not any("decode" in variable.path for variable in metric.variables)
