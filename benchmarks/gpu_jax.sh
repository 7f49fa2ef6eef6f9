#!/bin/bash
# The layer benchmark on the lent GPU machine (issue 7), which has JAX but no TensorFlow.
#
#   bash benchmarks/gpu_jax.sh prepare   # HERE, once per checkout: Keras and the two packages it
#                                        # needs that the GPU machine lacks, as Python 3.12
#                                        # wheels in .whl/ (git-ignored through .git/info/exclude)
#   bash benchmarks/gpu_jax.sh run       # THERE, through the device tool, e.g.
#       run(command="bash benchmarks/gpu_jax.sh run", carry=[".whl"], timeout_s=540)
#
# `run` installs the wheels into /tmp/site, prints the GPU, then runs benchmarks/layers.py under
# KERAS_BACKEND=jax (Keras's JAX backend compiles every step with XLA) for both sizes, and writes
# the log and the JSON figures to $OUT (or ./gpu-out when $OUT is unset). Tested end to end on
# this project's CPU machine (SKIP_INSTALL=1 PYTHON=<a venv with jax and keras> ROUNDS=3
# LAYERS_ARGS="--sizes jazz" bash benchmarks/gpu_jax.sh run) with JAX 0.10.2 (the GPU machine has 0.11.2): the benchmark runs
# unchanged under JAX; only the device differs.
set -o pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here" || exit 1
case "$1" in
  prepare)
    grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
      --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
      --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
      --platform manylinux1_x86_64 -d .whl keras==3.15.1 namex optree || exit 1
    ls -la .whl
    ;;
  run)
    out="${OUT:-$here/gpu-out}"
    mkdir -p "$out"
    if [ -z "$SKIP_INSTALL" ]; then   # SKIP_INSTALL=1: Keras is already installed (a local test)
      python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site || exit 1
    fi
    export KERAS_BACKEND=jax PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=3
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 | tee "$out/gpu.txt"
    # shellcheck disable=SC2086  # LAYERS_ARGS: extra options for layers.py, word-split
    "${PYTHON:-python3}" benchmarks/layers.py --rounds "${ROUNDS:-30}" $LAYERS_ARGS \
      --json "$out/layers-gpu-jax.json" 2>&1 | tee "$out/layers-gpu-jax.log"
    ;;
  *)
    echo "usage: bash benchmarks/gpu_jax.sh prepare|run" >&2
    exit 2
    ;;
esac
