"""Running a script under KERAS_BACKEND=jax in a fresh process (the backend is fixed per process).

Used by the JAX-backend tests; `needs_jax` skips them where jax is not installed.
"""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

needs_jax = pytest.mark.skipif(importlib.util.find_spec("jax") is None,
                               reason="jax is not installed in this environment "
                                      "(requirements.txt has it)")


def run_under_jax(script: str, timeout: int = 300) -> str:
    """Run `script` with Keras on JAX (CPU) and the repository importable; assert it exited 0 and
    return its standard output."""
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu",
           "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout
