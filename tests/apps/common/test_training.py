"""apps.common.training in this process: run folder files, nan, resuming, settings, data order.

Tiny models (Dense on 64 random samples). These tests seed Keras but do not call
`training.set_seed`, which would switch on TensorFlow's op determinism for the whole pytest
process; the exact-resume test runs in subprocesses (test_resume.py).
"""
import json

import numpy as np
import pytest

training = pytest.importorskip("apps.common.training")
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from apps.common import callbacks as callbacks_module  # noqa: E402
from apps.common import cli  # noqa: E402
from apps.common.errors import UserError  # noqa: E402

SETTINGS = {"learning_rate": 0.05, "batch_size": 8, "epochs": 2, "seed": 0}


def tiny_data(seed=0, count=64):
    generator = np.random.default_rng(seed)
    x = generator.normal(size=(count, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]], dtype="float32")).astype("float32")
    return x, y


def tiny_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.05), "mse", run_eagerly=True)  # no tracing: faster here
    return model


def fit(run_dir, settings=SETTINGS, **options):
    options = {"epochs": settings["epochs"], "batch_size": 8, "shuffle_seed": 0,
               "verbose": False, **options}
    return training.fit_with_recovery(tiny_model, tiny_data(), tiny_data(seed=1, count=16),
                                      run_dir=run_dir, metadata=settings, **options)


class PoisonWeights(keras.callbacks.Callback):
    """Set the kernel to nan just before (epoch, step), both counted from 1."""

    def __init__(self, epoch, step):
        super().__init__()
        self.at, self.epoch = (epoch, step), None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1

    def on_train_batch_begin(self, batch, logs=None):
        if (self.epoch, batch + 1) == self.at:
            kernel = self.model.layers[0].kernel
            kernel.assign(np.full(kernel.shape, np.nan, dtype="float32"))


def test_describe_device_names_the_cpu_threads_and_library_versions(capsys):
    description = training.describe_device()
    assert description.startswith(("running on CPU (", "running on GPU", "running on "))
    assert f"tensorflow {tf.__version__}, keras {keras.__version__}" in description
    training.log_device()
    assert capsys.readouterr().out == description + "\n"


def test_make_strategy_none_is_the_default_strategy_and_bad_requests_are_user_errors(
        monkeypatch):
    assert training.make_strategy("none") is tf.distribute.get_strategy()
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(UserError, match="needs the TF_CONFIG environment variable"):
        training.make_strategy("multiworker")
    monkeypatch.setenv("TF_CONFIG", "{cluster")
    with pytest.raises(UserError, match="TF_CONFIG is not valid JSON"):
        training.make_strategy("multiworker")
    with pytest.raises(UserError, match="unknown --distribute"):
        training.make_strategy("tpu")


def test_options_helpers_turn_train_options_into_keras_arguments():
    import argparse
    parser = argparse.ArgumentParser()
    cli.add_training_arguments(parser, run_dir="r", learning_rate=0.1)
    arguments = parser.parse_args(["--clipnorm", "5", "--xla"])
    assert training.optimizer_options(arguments) == {"learning_rate": 0.1, "clipnorm": 5.0}
    assert training.compile_options(arguments) == {"jit_compile": True}
    try:
        assert training.configure_precision(True) in ("mixed_bfloat16", "mixed_float16")
    finally:
        assert training.configure_precision(False) == "float32"


def test_a_run_writes_its_files_and_best_keras_is_the_epoch_with_the_lowest_val_loss(tmp_path):
    result = fit(tmp_path / "run", save_every_steps=3)
    files = result.files
    for path in (files.run_json, files.last_model, files.best_model, files.history_csv,
                 files.loss_plot, files.backup_dir / "state.json"):
        assert path.is_file(), path
    assert files.loss_plot.read_bytes().startswith(b"\x89PNG")
    assert result.epochs_done == 2 and result.resumed_from is None
    assert result.history["epoch"] == [0, 1] and len(result.history["val_loss"]) == 2
    state = json.loads((files.backup_dir / "state.json").read_text())
    assert (state["epoch"], state["step"]) == (2, 0)
    assert state["best_epoch"] == int(np.argmin(result.history["val_loss"]))
    assert sorted(path.name for path in files.backup_dir.iterdir()) == [
        "state-e2-s0.npz", "state-e2-s0.weights.h5", "state.json"]
    assert not [path for path in files.run_dir.rglob(".tmp-*")]
    best = keras.saving.load_model(files.best_model)
    assert best.evaluate(*tiny_data(seed=1, count=16), verbose=0) == pytest.approx(
        min(result.history["val_loss"]), rel=1e-5)


def test_nan_loss_stops_with_a_user_error_naming_epoch_and_step_and_keeps_last_keras(
        tmp_path, capsys):
    run_dir = tmp_path / "run"
    status = cli.run_command(fit, run_dir, {**SETTINGS, "epochs": 3}, save_every_steps=2,
                             extra_callbacks=[PoisonWeights(epoch=2, step=3)])
    error = capsys.readouterr().err
    assert status == 2
    assert error == (f"error: loss became nan at epoch 2, step 3; the last good checkpoint is "
                     f"kept at {run_dir / 'last.keras'}; try gradient clipping (--clipnorm 5) "
                     f"or a lower --learning-rate, in a new --run-dir\n")
    last = keras.saving.load_model(run_dir / "last.keras")
    assert all(np.isfinite(weight).all() for weight in last.get_weights())
    history = (run_dir / "history.csv").read_text().splitlines()
    assert len(history) == 2  # the header and epoch 1: nothing from the bad epoch
    state = json.loads((run_dir / "backup" / "state.json").read_text())
    assert (state["epoch"], state["step"]) == (1, 2)  # the save before the nan, none after


def test_weights_gone_nan_at_an_epoch_end_are_never_saved(tmp_path):
    class PoisonAtEpochEnd(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 7:  # the last step of epoch 1; its loss was still finite
                kernel = self.model.layers[0].kernel
                kernel.assign(np.full(kernel.shape, np.inf, dtype="float32"))

    with pytest.raises(UserError, match="a weight became inf at epoch 1;.*no checkpoint"):
        fit(tmp_path / "run", extra_callbacks=[PoisonAtEpochEnd()])
    assert not (tmp_path / "run" / "last.keras").exists()


def test_same_command_resumes_only_what_is_left_and_different_settings_are_refused(tmp_path):
    run_dir = tmp_path / "run"
    first = fit(run_dir)
    again = fit(run_dir)
    assert again.resumed_from == (3, 0) and again.epochs_done == 2
    np.testing.assert_array_equal(again.model.get_weights()[0], first.model.get_weights()[0])
    longer = fit(run_dir, {**SETTINGS, "epochs": 3})
    assert longer.resumed_from == (3, 0) and longer.epochs_done == 3
    assert longer.history["epoch"] == [0, 1, 2]
    with pytest.raises(UserError, match="learning_rate: 0.05 there, 0.5 now"):
        fit(run_dir, {**SETTINGS, "epochs": 3, "learning_rate": 0.5})


def test_a_backup_write_that_fails_leaves_the_previous_backup_usable(tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    real_save = callbacks_module.atomic_save_weights
    calls = []

    def save_then_fail(model, path):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real_save(model, path)
    monkeypatch.setattr(callbacks_module, "atomic_save_weights", save_then_fail)
    with pytest.raises(OSError, match="No space left"):
        fit(run_dir, save_every_steps=3)
    state = json.loads((run_dir / "backup" / "state.json").read_text())
    assert (state["epoch"], state["step"]) == (0, 6)
    assert (run_dir / "backup" / state["weights_file"]).is_file()
    monkeypatch.setattr(callbacks_module, "atomic_save_weights", real_save)
    resumed = fit(run_dir, save_every_steps=3)
    assert resumed.resumed_from == (1, 6) and resumed.epochs_done == 2


def test_array_batches_follow_a_seeded_order_that_depends_only_on_the_epoch():
    x = np.arange(10, dtype="float32")[:, None]
    batches = training.training_batches((x, x), batch_size=4, shuffle_seed=5)
    assert batches.steps_per_epoch == 3

    def rows(dataset):
        return [batch[0][:, 0].numpy().astype(int).tolist() for batch in dataset]
    stream = rows(batches.make_epochs(0, 3))
    assert [len(batch) for batch in stream] == [4, 4, 2] * 3
    assert rows(batches.epoch(1)) == stream[3:6]
    assert rows(batches.epoch(2, skip=1)) == stream[7:9]
    assert sorted(sum(stream[3:6], [])) == list(range(10)) and stream[0:3] != stream[3:6]
    again = training.training_batches((x, x), batch_size=4, shuffle_seed=5)
    assert rows(again.epoch(1)) == stream[3:6]
    in_order = training.training_batches((x, x), batch_size=4, shuffle_seed=None)
    assert rows(in_order.epoch(4)) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_examples_per_epoch_draws_a_new_subset_each_epoch_from_seed_and_epoch_alone():
    x = np.arange(20, dtype="float32")[:, None]
    batches = training.training_batches((x, x), 4, 3, examples_per_epoch=6)
    assert batches.steps_per_epoch == 2

    def rows(dataset):
        return [batch[0][:, 0].numpy().astype(int).tolist() for batch in dataset]
    epochs = [sum(rows(batches.epoch(epoch)), []) for epoch in range(4)]
    assert all(len(epoch) == len(set(epoch)) == 6 for epoch in epochs)
    assert len({tuple(sorted(epoch)) for epoch in epochs}) == 4      # another subset each epoch
    full = training.training_batches((x, x), 4, 3)                   # the same order, cut at 6
    assert epochs[2] == sum(rows(full.epoch(2)), [])[:6]
    again = training.training_batches((x, x), 4, 3, examples_per_epoch=6)
    assert rows(again.epoch(3, skip=1)) == rows(batches.epoch(3))[1:]  # a resumed epoch
    for wrong in (0, 21):
        with pytest.raises(ValueError, match="examples_per_epoch"):
            training.training_batches((x, x), 4, 3, examples_per_epoch=wrong)


def test_a_dataset_of_unknown_length_is_counted_and_float64_arrays_become_float32():
    dataset = tf.data.Dataset.range(10).filter(lambda value: value < 7).batch(2)
    assert training.training_batches(dataset, None, None).steps_per_epoch == 4
    with pytest.raises(ValueError, match="infinite"):
        training.training_batches(dataset.repeat(), None, None)
    batches = training.training_batches((np.zeros((4, 2)), np.zeros(4)), 2, None)
    assert next(iter(batches.epoch(0)))[0].dtype == tf.float32


def test_model_factory_must_return_a_built_and_compiled_model(tmp_path):
    def unbuilt():
        model = keras.Sequential([keras.layers.Dense(1)])
        model.compile("sgd", "mse")
        return model
    with pytest.raises(ValueError, match="built model"):
        training.fit_with_recovery(unbuilt, tiny_data(), run_dir=tmp_path / "a", epochs=1,
                                   batch_size=8, metadata={})
    with pytest.raises(ValueError, match="compiled model"):
        training.fit_with_recovery(lambda: keras.Sequential([keras.Input((3,)),
                                                             keras.layers.Dense(1)]),
                                   tiny_data(), run_dir=tmp_path / "b", epochs=1, batch_size=8,
                                   metadata={})
