"""A run killed with SIGKILL mid-epoch and rerun with the same command ends where an
uninterrupted run ends.

Both runs train the tiny model of `_tiny_training` (SimpleRNN(4) + Dropout + Dense on 64
sequences, batch 8, so 8 steps per epoch, 3 epochs) with the same seed in separate processes.
The data order is a function of (seed, epoch) only: fit_with_recovery shuffles arrays with a
stateless generator keyed on both. The backup holds the weights, the optimizer state (Adam's
moments and step count), the step reached in the epoch, the metric states and the dropout
generator's state, and the rerun skips the batches already trained. With op determinism on CPU
the two runs should agree exactly; the tolerance is 1e-6 (absolute) on every weight and on
every epoch's loss in history.csv.
"""
import json
import os
import signal
import time

import numpy as np

from tests.apps.common._processes import finish, run, start, summary

TOLERANCE = 1e-6
COMMON = ["--epochs", 3, "--save-every-steps", 3, "--no-progress", "--seed", 11]


def wait_for_mid_epoch_backup(process, backup_state, epoch: int,
                              timeout: float = 180) -> dict:
    """Poll backup/state.json until it records a step inside `epoch` (from 0); return it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the run ended before it was killed: {finish(process, 5)}")
        if backup_state.exists():
            state = json.loads(backup_state.read_text())  # written atomically: never partial
            if state["epoch"] == epoch and state["step"] > 0:
                return state
        time.sleep(0.02)
    raise AssertionError(f"no mid-epoch backup of epoch {epoch} within {timeout} s")


def history_losses(run_dir) -> list:
    lines = (run_dir / "history.csv").read_text().splitlines()
    header = lines[0].split(",")
    return [float(line.split(",")[header.index("loss")]) for line in lines[1:]]


def test_sigkill_mid_epoch_then_rerun_resumes_and_matches_uninterrupted_run(tmp_path):
    uninterrupted_dir, killed_dir = tmp_path / "uninterrupted", tmp_path / "killed"
    killed_command = COMMON + ["--run-dir", killed_dir, "--weights-out", tmp_path / "killed.npz",
                               "--sleep-per-batch", 0.15]
    uninterrupted = start(COMMON + ["--run-dir", uninterrupted_dir,
                                    "--weights-out", tmp_path / "uninterrupted.npz"])
    victim = start(killed_command)
    try:
        state = wait_for_mid_epoch_backup(victim, killed_dir / "backup" / "state.json", epoch=1)
        os.kill(victim.pid, signal.SIGKILL)
    finally:
        victim.kill()
        finish(victim, 30)
    status, stdout, stderr = finish(uninterrupted, 180)
    assert status == 0, stderr[-3000:]
    reference = summary(stdout)

    resumed = run(killed_command, timeout=180)

    epoch, step = resumed["resumed_from"]
    assert epoch == 2 and step >= state["step"] and step % 3 == 0
    assert f"continuing epoch 2 after step {step} of 8" in resumed["output"]
    assert resumed["epochs_done"] == reference["epochs_done"] == 3
    expected, actual = np.load(tmp_path / "uninterrupted.npz"), np.load(tmp_path / "killed.npz")
    for name in expected.files:
        np.testing.assert_allclose(actual[name], expected[name], rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(history_losses(killed_dir), history_losses(uninterrupted_dir),
                               rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(resumed["losses"], reference["losses"], rtol=0, atol=TOLERANCE)
