"""Running `python -m tests.apps.common._tiny_training` in subprocesses, for the tests here."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
TINY_TRAINING = [sys.executable, "-m", "tests.apps.common._tiny_training"]


def environment(**extra) -> dict:
    """This environment, with TF_CONFIG removed unless given, and quiet TensorFlow logs."""
    variables = {name: value for name, value in os.environ.items() if name != "TF_CONFIG"}
    variables.update(TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1", **extra)
    return variables


def start(arguments: list, **extra_environment) -> subprocess.Popen:
    """Start the tiny training command with `arguments`; its output is captured as text."""
    return subprocess.Popen(TINY_TRAINING + [str(argument) for argument in arguments],
                            cwd=REPO_ROOT, env=environment(**extra_environment),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen, timeout: float) -> tuple:
    """(exit status, stdout, stderr), killing the process if it outlives `timeout` seconds."""
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        raise AssertionError(f"timed out after {timeout} s; stdout: {stdout[-2000:]}; "
                             f"stderr: {stderr[-3000:]}") from None
    return process.returncode, stdout, stderr


def run(arguments: list, timeout: float = 120, **extra_environment) -> dict:
    """Run the tiny training command to its end; return its final JSON line (exit 0 asserted)."""
    status, stdout, stderr = finish(start(arguments, **extra_environment), timeout)
    assert status == 0, f"exit status {status}; stdout: {stdout[-2000:]}; stderr: {stderr[-3000:]}"
    return summary(stdout)


def summary(stdout: str) -> dict:
    """The JSON object the tiny training command prints last, plus its other output."""
    lines = stdout.strip().splitlines()
    return {**json.loads(lines[-1]), "output": stdout}


def free_local_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
