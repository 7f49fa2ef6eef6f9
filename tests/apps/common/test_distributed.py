"""--distribute mirrored and multiworker, each in subprocesses on this machine's CPU.

Mirrored: the subprocess splits the CPU into two logical devices before TensorFlow starts
(tf.config.set_logical_device_configuration must precede the runtime's start), so that
MirroredStrategy has two replicas. Multi-worker: two worker processes on 127.0.0.1 (free ports
found by binding port 0), TF_CONFIG set for each; both are killed after their timeout at the
latest, so a hang fails the test instead of stalling the suite.
"""
import json
import math

import pytest

from tests.apps.common._processes import finish, free_local_port, run, start, summary

WORKER_TIMEOUT = 240  # seconds; it takes 25 s on 2 idle cores, 75 s on busy ones


def test_distribute_mirrored_over_two_logical_cpus_trains_and_lowers_the_loss(tmp_path):
    result = run(["--run-dir", tmp_path / "run", "--distribute", "mirrored",
                  "--logical-cpus", 2, "--epochs", 2, "--no-progress"], timeout=180)
    assert result["replicas"] == 2
    assert "distributing over 2 replicas (--distribute mirrored)" in result["output"]
    losses = result["losses"]
    assert len(losses) == 2 and all(math.isfinite(loss) for loss in losses)
    assert losses[-1] < 0.8 * losses[0]
    assert (tmp_path / "run" / "last.keras").is_file()


def worker_config(ports: list, index: int) -> str:
    return json.dumps({"cluster": {"worker": [f"127.0.0.1:{port}" for port in ports]},
                       "task": {"type": "worker", "index": index}})


@pytest.mark.slow
def test_multiworker_two_local_workers_train_with_finite_loss_and_only_the_chief_writes(tmp_path):
    ports = [free_local_port(), free_local_port()]
    while ports[0] == ports[1]:
        ports[1] = free_local_port()
    run_dir = tmp_path / "run"
    arguments = ["--run-dir", run_dir, "--distribute", "multiworker", "--epochs", 2,
                 "--save-every-steps", 3, "--no-progress"]
    workers = [start(arguments, TF_CONFIG=worker_config(ports, index), TMPDIR=str(tmp_path))
               for index in range(2)]
    try:
        outcomes = [finish(worker, WORKER_TIMEOUT) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()
    for status, stdout, stderr in outcomes:
        assert status == 0, f"stdout: {stdout[-2000:]}; stderr: {stderr[-3000:]}"
    chief, other = (summary(stdout) for _, stdout, _ in outcomes)
    for result in (chief, other):
        assert result["replicas"] == 2 and len(result["losses"]) == 2
        assert all(math.isfinite(loss) for loss in result["losses"])
    assert chief["losses"] == pytest.approx(other["losses"], rel=1e-6)  # one synchronous model
    assert "running on CPU" in chief["output"] and "running on" not in other["output"]
    for name in ("run.json", "last.keras", "best.keras", "history.csv", "loss.png"):
        assert (run_dir / name).is_file(), name
    assert not list(tmp_path.glob("worker-scratch-*"))  # the other worker's scratch is removed
