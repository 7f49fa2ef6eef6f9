"""diagnose: its BPTT gradient norms equal autodiff's, and a tiny run writes every file."""
import numpy as np
import pytest
import tensorflow as tf

import keras
from apps.charlm import diagnose
from zoo import builders


def autodiff_norms(model, targets):
    """‖∂L⟨T⟩/∂a⟨t⟩‖ (and c⟨t⟩) per sequence, by TensorFlow autodiff over a step-by-step loop."""
    cell = model.get_layer("recurrent_1").cell
    logits = model.get_layer("logits")
    m, steps = targets.shape
    x = np.asarray(diagnose.shifted_one_hot(targets, logits.units).transpose(1, 2, 0), "float32")
    with tf.GradientTape() as tape:
        states = [tf.zeros((m, cell.units))] * cell.state_count
        a_states, c_states = [], []
        for t in range(steps):
            _, states = cell(x[:, t], list(states))
            a_states.append(states[0])
            c_states.append(states[-1])
        loss = tf.reduce_sum(keras.losses.sparse_categorical_crossentropy(
            targets[:, -1], logits(a_states[-1]), from_logits=True))
    gradients = tape.gradient(loss, a_states + c_states)
    norms = np.stack([np.linalg.norm(g, axis=1) for g in gradients[:steps]], axis=1)
    c_norms = np.stack([np.linalg.norm(g, axis=1) for g in gradients[steps:]], axis=1)
    return norms, c_norms


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_bptt_gradient_norms_match_autodiff(cell):
    keras.utils.set_random_seed(1)
    model = builders.language_model(7, cell=cell, units=5)
    targets = np.random.default_rng(0).integers(0, 7, size=(3, 9)).astype("int32")
    norms, c_norms, agreement = diagnose.gradient_norms(model, cell, targets)
    expected, expected_c = autodiff_norms(model, targets)
    assert agreement < 1e-5
    np.testing.assert_allclose(norms, expected, rtol=2e-3, atol=1e-7)
    if cell == "lstm":
        np.testing.assert_allclose(c_norms, expected_c, rtol=2e-3, atol=1e-7)


def test_memory_task_puts_the_deciding_token_first_and_the_verb_last():
    data = diagnose.memory_data(50, 7, np.random.default_rng(0))
    assert data.shape == (50, 9)
    was, were = 3 + diagnose.MEMORY_FILLERS, 4 + diagnose.MEMORY_FILLERS
    assert np.all(np.where(data[:, 0] == 2, were, was) == data[:, -1])
    assert set(np.unique(data[:, 1:-1])) <= set(range(3, 3 + diagnose.MEMORY_FILLERS))


def test_diagnose_on_tiny_settings_writes_its_plots_and_tables(dinos_path, tmp_path):
    report = diagnose.diagnose(tmp_path / "out", text=str(dinos_path), length=12, units=4,
                               train_steps=3, gaps=(2,), memory_units=4, memory_examples=32,
                               memory_epochs=1)
    for name in ("vanishing.png", "exploding.png", "memory.png", "diagnose.md"):
        assert (tmp_path / "out" / name).stat().st_size > 0, name
    text = report.read_text(encoding="utf-8")
    for heading in ("## 1. Vanishing gradients", "## 2. Exploding gradients",
                    "## 3. Long-range memory"):
        assert heading in text
    assert "| lstm | c⟨t⟩ | trained |" in text
