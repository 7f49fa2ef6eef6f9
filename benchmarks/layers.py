"""Speed of zoo's recurrent layers against Keras's own, side by side in one run.

For each size and each pair (zoo.LSTM vs keras.layers.LSTM, zoo.GRU vs
keras.layers.GRU(reset_after=False)) it times, interleaved round by round so that machine noise
hits both alike:
  - a full training step: forward + backward + Adam update (`model.train_on_batch`);
  - a forward pass (`model.predict_on_batch`);
and reports medians, the zoo/Keras ratios, and the peak resident memory of a separate process
that builds the model and runs a few training steps (`--memory`).

    python benchmarks/layers.py                    # both sizes, 30 rounds
    python benchmarks/layers.py --rounds 10 --sizes jazz
    python benchmarks/layers.py --memory           # also peak memory, one subprocess per model
    python benchmarks/layers.py --unroll --sizes jazz   # both layers with unroll=True
    KERAS_BACKEND=jax python benchmarks/layers.py    # under JAX (the GPU machine: benchmarks/gpu_jax.sh)
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout

import numpy as np  # noqa: E402

SIZES = {
    # name: (batch, time steps, features, units)
    "large": (64, 100, 128, 256),
    "jazz": (32, 30, 90, 64),
}
PAIRS = ("lstm", "gru")


def make_layer(implementation, kind, units, unroll=False):
    """The recurrent layer under test: zoo's or Keras's, with sequences returned."""
    import keras

    import zoo

    if implementation == "zoo":
        layer_class = zoo.LSTM if kind == "lstm" else zoo.GRU
        return layer_class(units, return_sequences=True, unroll=unroll)
    if kind == "lstm":
        return keras.layers.LSTM(units, return_sequences=True, unroll=unroll)
    return keras.layers.GRU(units, return_sequences=True, reset_after=False, unroll=unroll)


def make_model(implementation, kind, size, jit_compile="auto", unroll=False):
    import keras

    batch, steps, features, units = SIZES[size]
    keras.utils.set_random_seed(0)
    inputs = keras.Input((steps, features), batch_size=batch)
    outputs = make_layer(implementation, kind, units, unroll)(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse", jit_compile=jit_compile)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, steps, features)).astype("float32")
    y = rng.standard_normal((batch, steps, units)).astype("float32")
    return model, x, y


def timed(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def interleaved_medians(runs, rounds, warmup):
    """{name: median seconds} of the callables in `runs` ({name: function}), each run `warmup`
    times untimed, then once per round in turn, so that machine noise hits all alike."""
    for run in runs.values():
        for _ in range(warmup):
            run()
    times = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            times[name].append(timed(run))
    return {name: statistics.median(values) for name, values in times.items()}


def train_step(model, x, y):
    return lambda: model.train_on_batch(x, y)


def time_pair(kind, size, rounds, warmup, jit_compile, unroll=False):
    """Median seconds per training step and per forward pass for zoo and Keras, interleaved."""
    runs = {}
    for impl in ("zoo", "keras"):
        model, x, y = make_model(impl, kind, size, jit_compile, unroll)
        runs[(impl, "train")] = train_step(model, x, y)
        runs[(impl, "forward")] = (lambda m, a: lambda: m.predict_on_batch(a))(model, x)
    return interleaved_medians(runs, rounds, warmup)


def peak_memory_mib(implementation, kind, size):
    """(peak, growth) resident memory in MiB of a fresh process that builds the model and trains
    5 steps: the process's whole peak, and the peak reached while building and training above the
    memory resident just before (Linux: the peak is reset through /proc/self/clear_refs after the
    imports and the data, so the 1 GB that importing TensorFlow passes through does not hide it)."""
    code = (
        "import resource, sys; sys.path.insert(0, %r); import keras, benchmarks.layers as b\n"
        "def status(key):\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith(key): return int(line.split()[1]) / 1024\n"
        "whole = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "open('/proc/self/clear_refs', 'w').write('5')\n"
        "resident = status('VmRSS')\n"
        "m, x, y = b.make_model(%r, %r, %r)\n"
        "for _ in range(5): m.train_on_batch(x, y)\n"
        "print(max(whole, status('VmHWM')), status('VmHWM') - resident)"
    ) % (os.path.dirname(os.path.dirname(os.path.abspath(__file__))), implementation, kind, size)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    total, growth = result.stdout.strip().splitlines()[-1].split()
    return float(total), float(growth)


def backend_and_devices():
    """The backend's version and the devices it sees (TensorFlow, or JAX on the GPU machine)."""
    import keras

    if keras.backend.backend() == "jax":
        import jax
        return f"jax {jax.__version__}, devices {[str(d) for d in jax.devices()]}"
    import tensorflow as tf
    return (f"tensorflow {tf.__version__}, "
            f"devices {[d.device_type for d in tf.config.list_physical_devices()]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES),
                        help="which sizes to time (default: all)")
    parser.add_argument("--pairs", nargs="+", default=list(PAIRS), choices=list(PAIRS),
                        help="which layer pairs to time (default: lstm gru)")
    parser.add_argument("--rounds", type=int, default=30, help="timed rounds per model (median reported)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed rounds first (graph tracing)")
    parser.add_argument("--jit", choices=["auto", "true", "false"], default="auto",
                        help="jit_compile for both models (auto = Keras's default: off on CPU)")
    parser.add_argument("--memory", action="store_true",
                        help="also measure peak RSS per model, and its growth past the imports")
    parser.add_argument("--unroll", action="store_true",
                        help="unroll=True for both layers (straight-line code instead of a loop)")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()
    jit = {"auto": "auto", "true": True, "false": False}[args.jit]

    import keras

    print(f"keras {keras.__version__}, backend {keras.backend.backend()}, {backend_and_devices()}, "
          f"jit_compile={args.jit}, unroll={args.unroll}")
    header = (f"{'size':6} {'layer':5} {'zoo train ms':>12} {'keras train ms':>14} {'ratio':>6} "
              f"{'zoo fwd ms':>10} {'keras fwd ms':>12} {'ratio':>6}")
    rows, figures = [], []
    for size in args.sizes:
        for kind in args.pairs:
            t = time_pair(kind, size, args.rounds, args.warmup, jit, args.unroll)
            record = {
                "size": size, "shape": SIZES[size], "layer": kind,
                "zoo_train_ms": 1e3 * t[("zoo", "train")], "keras_train_ms": 1e3 * t[("keras", "train")],
                "zoo_forward_ms": 1e3 * t[("zoo", "forward")], "keras_forward_ms": 1e3 * t[("keras", "forward")],
            }
            record["train_ratio"] = record["zoo_train_ms"] / record["keras_train_ms"]
            record["forward_ratio"] = record["zoo_forward_ms"] / record["keras_forward_ms"]
            if args.memory:
                record["zoo_peak_mib"], record["zoo_peak_growth_mib"] = peak_memory_mib("zoo", kind, size)
                record["keras_peak_mib"], record["keras_peak_growth_mib"] = peak_memory_mib(
                    "keras", kind, size)
            figures.append(record)
            row = (f"{size:6} {kind:5} {record['zoo_train_ms']:12.2f} {record['keras_train_ms']:14.2f} "
                   f"{record['train_ratio']:6.2f} {record['zoo_forward_ms']:10.2f} "
                   f"{record['keras_forward_ms']:12.2f} {record['forward_ratio']:6.2f}")
            if args.memory:
                row += (f"   peak RSS zoo {record['zoo_peak_mib']:.0f} MiB (+{record['zoo_peak_growth_mib']:.0f}"
                        f" for model and training), keras {record['keras_peak_mib']:.0f} MiB"
                        f" (+{record['keras_peak_growth_mib']:.0f})")
            rows.append(row)
            print(row, flush=True)
    print("\n" + header)
    print("\n".join(rows))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(figures, handle, indent=2)


if __name__ == "__main__":
    main()
