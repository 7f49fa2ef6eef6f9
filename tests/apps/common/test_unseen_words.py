"""apps.common.unseen_words: which rows count as unseen, and where they move."""
import numpy as np
import pytest

from apps.common.unseen_words import neighbour_plan


def tiny_embedding():
    # rows: 0 padding, 1 [UNK], 2-4 training words, 5 a training word GloVe lacks (random row),
    # 6-7 words of the other splits only
    initial = np.array([[0, 0], [0.3, 0.3], [1, 0], [0, 1], [-1, 0], [5, 5], [0.9, 0.1],
                        [-0.1, 0.9]], dtype=np.float32)
    in_glove = np.array([False, False, True, True, True, False, True, True])
    train_ids = np.array([[2, 3, 0], [4, 5, 1]])
    return initial, in_glove, train_ids


def test_unseen_rows_are_the_glove_rows_training_never_reads():
    initial, in_glove, train_ids = tiny_embedding()
    plan = neighbour_plan(initial, in_glove, train_ids, 1)
    assert plan.unseen.tolist() == [6, 7]
    assert plan.trained.tolist() == [2, 3, 4]  # row 5 has no GloVe vector to measure from
    assert plan.trained[plan.neighbours[:, 0]].tolist() == [2, 3]  # nearest by cosine


def test_each_unseen_row_moves_by_its_neighbours_mean_displacement():
    initial, in_glove, train_ids = tiny_embedding()
    trained = initial.copy()
    trained[2] += [0.5, 0.0]
    trained[3] += [0.0, -0.2]
    trained[4] += [1.0, 1.0]
    trained[5] += [9.0, 9.0]
    nearest = neighbour_plan(initial, in_glove, train_ids, 1).apply(trained)
    np.testing.assert_allclose(nearest[6], initial[6] + [0.5, 0.0], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(nearest[7], initial[7] + [0.0, -0.2], rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(nearest[:6], trained[:6])  # nothing else changes
    both = neighbour_plan(initial, in_glove, train_ids, 2).apply(trained)
    # the two nearest to row 6 are rows 2 and 3
    np.testing.assert_allclose(both[6], initial[6] + [0.25, -0.1], rtol=1e-6, atol=1e-7)
    every = neighbour_plan(initial, in_glove, train_ids, 10).apply(trained)  # K clamped to 3
    np.testing.assert_allclose(every[7], initial[7] + np.array([1.5, 0.8]) / 3, rtol=1e-6,
                               atol=1e-7)


def test_nothing_to_move_gives_no_plan_and_bad_arguments_say_what_was_wrong():
    initial, in_glove, train_ids = tiny_embedding()
    assert neighbour_plan(initial, in_glove, train_ids, 0) is None
    assert neighbour_plan(initial, in_glove, np.arange(8), 3) is None  # every row is read
    with pytest.raises(ValueError, match="count must be a non-negative integer; received "
                                         "count=-1"):
        neighbour_plan(initial, in_glove, train_ids, -1)
    with pytest.raises(ValueError, match=r"initial must be \(V, d\) and in_glove \(V,\)"):
        neighbour_plan(initial, in_glove[:3], train_ids, 1)
