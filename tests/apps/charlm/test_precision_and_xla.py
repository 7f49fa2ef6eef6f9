"""--mixed-precision and --xla through a real app command (apps.charlm train), in subprocesses.

Each run is its own process because --mixed-precision sets Keras's global dtype policy.
On a CPU, --mixed-precision means mixed_bfloat16 (apps.common.training.configure_precision).
"""
import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]

LOAD_AND_REPORT = """
import json, sys
from apps.charlm.saved import load_run
run = load_run(sys.argv[1])
policies = sorted({layer.dtype_policy.name for layer in run.model.layers
                   if layer.name.startswith("recurrent")})
print(json.dumps(policies))
"""


def train(names_file, run_dir, *options):
    command = [sys.executable, "-m", "apps.charlm", "train", "--text", str(names_file),
               "--run-dir", str(run_dir), "--cell", "lstm", "--units", "16", "--epochs", "2",
               "--batch-size", "16", "--seed", "3", "--no-progress", *options]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr[-2000:]
    with open(run_dir / "history.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [float(row["loss"]) for row in rows], result


def recurrent_policies(run_dir):
    result = subprocess.run([sys.executable, "-c", LOAD_AND_REPORT, str(run_dir)], cwd=REPO,
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def plain_run(tiny_names_file, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("plain") / "run"
    return run_dir, train(tiny_names_file, run_dir)[0]


def test_mixed_precision_trains_in_bfloat16_on_cpu_and_stays_close(plain_run, tiny_names_file,
                                                                     tmp_path):
    plain_dir, plain_losses = plain_run
    run_dir = tmp_path / "mixed"
    losses, _ = train(tiny_names_file, run_dir, "--mixed-precision")
    assert json.loads((run_dir / "run.json").read_text())["settings"]["mixed_precision"] is True
    assert recurrent_policies(run_dir) == ["mixed_bfloat16"]
    assert recurrent_policies(plain_dir) == ["float32"]
    assert all(math.isfinite(loss) for loss in losses)
    assert losses[-1] < losses[0]                                # it learns
    # bfloat16 keeps 8 bits of mantissa: close to the float32 run, but not identical.
    assert losses != plain_losses
    assert abs(losses[-1] - plain_losses[-1]) < 0.05 * plain_losses[-1]


def test_xla_gives_the_float32_run_within_rounding(plain_run, tiny_names_file, tmp_path):
    _, plain_losses = plain_run
    run_dir = tmp_path / "xla"
    losses, result = train(tiny_names_file, run_dir, "--xla")
    assert json.loads((run_dir / "run.json").read_text())["settings"]["xla"] is True
    # Keras silently falls back to plain graphs (a warning only) when it cannot compile, for
    # example under TensorFlow's deterministic-op mode: the run must really have used XLA.
    assert "support `jit_compile=True`" not in result.stderr
    assert "--xla: TensorFlow's deterministic-op mode is off" in result.stdout
    assert len(losses) == len(plain_losses) == 2
    for compiled, plain in zip(losses, plain_losses):
        assert compiled == pytest.approx(plain, rel=1e-3)
