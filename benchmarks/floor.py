"""The matrix-product floor of a recurrent training step on this machine, beside the layers.

A training step of an LSTM (G = 4 gate blocks) or GRU (G = 3) layer that returns its sequences
must do, whatever the implementation, these matrix products (n_x features, n_a units, batch B,
T steps; the input is data, so no gradient for it is needed):

    forward   x·W_x for all steps          (B·T × n_x) · (n_x × G·n_a)      once
              a⟨t−1⟩·U per step              (B × n_a) · (n_a × G·n_a)        T times
    backward  dz⟨t⟩·Uᵀ per step               (B × G·n_a) · (G·n_a × n_a)      T times
              dU = Σ_t a⟨t−1⟩ᵀ·dz⟨t⟩          (n_a × B·T) · (B·T × G·n_a)      once (or T small ones)
              dW_x = Σ_t x⟨t⟩ᵀ·dz⟨t⟩          (n_x × B·T) · (B·T × G·n_a)      once

that is 2·B·T·G·n_a·(2·n_x + 3·n_a) floating-point operations. This script times exactly those
products with TensorFlow's own matmul (the kernel every TensorFlow layer uses), at the sizes of
`benchmarks/layers.py`, each in its best form (the per-step products as T products inside one
compiled loop, the others as single large products), and adds them up: no implementation built on
TensorFlow's float32 matmul can train faster than that on this machine. Beside it, in the same
run, it times the Keras layer's and zoo's training step (`train_on_batch`, as layers.py does) and
prints floor / Keras: where that is above 0.5, a zoo step of at most 0.5 × Keras's is out of reach
in float32 here.

    taskset -c 0 python benchmarks/floor.py --rounds 7     # one pinned core, one TF thread
"""
import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout

import numpy as np  # noqa: E402

from benchmarks.layers import PAIRS, SIZES, time_pair  # noqa: E402

GATE_BLOCKS = {"lstm": 4, "gru": 3}


def flops(kind, size):
    batch, steps, features, units = SIZES[size]
    return 2 * batch * steps * GATE_BLOCKS[kind] * units * (2 * features + 3 * units)


def median_seconds(function, rounds):
    function()  # trace and warm up
    function()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def product_floor(kind, size, rounds):
    """Median seconds of each required product group, timed with TensorFlow's matmul."""
    import tensorflow as tf

    batch, steps, features, units = SIZES[size]
    width = GATE_BLOCKS[kind] * units
    rng = np.random.default_rng(0)

    def constant(*shape):
        return tf.constant(rng.standard_normal(shape).astype("float32"))

    x_rows, w_x = constant(batch * steps, features), constant(features, width)
    a_t, u = constant(batch, units), constant(units, width)
    dz_t, u_t = constant(batch, width), constant(width, units)
    a_rows_t, dz_rows = constant(units, batch * steps), constant(batch * steps, width)
    x_rows_t = constant(features, batch * steps)

    @tf.function
    def per_step(left, right):
        # T dependent products, as a recurrence forces: each step's left operand is the previous
        # product, cut (forward) or tiled (backward) back to the left operand's shape, so none
        # can be batched or hoisted. `right` is scaled so that the values stay near 1.
        right = right / float(np.sqrt(right.shape[0]))

        def body(i, value):
            product = tf.matmul(value, right)
            if product.shape[1] >= value.shape[1]:
                return i + 1, product[:, : value.shape[1]]
            return i + 1, tf.tile(product, [1, value.shape[1] // product.shape[1]])
        return tf.while_loop(lambda i, _: i < steps, body, (tf.constant(0), left))[1]

    single = tf.function(lambda left, right: tf.matmul(left, right))
    parts = {
        "forward x·W_x": lambda: single(x_rows, w_x).numpy(),
        "forward a·U (per step)": lambda: per_step(a_t, u).numpy(),
        "backward dz·Uᵀ (per step)": lambda: per_step(dz_t, u_t).numpy(),
        "backward dU": lambda: single(a_rows_t, dz_rows).numpy(),
        "backward dW_x": lambda: single(x_rows_t, dz_rows).numpy(),
    }
    return {name: median_seconds(function, rounds) for name, function in parts.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--pairs", nargs="+", default=list(PAIRS), choices=list(PAIRS))
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds (median reported)")
    parser.add_argument("--threads", type=int, default=1,
                        help="TensorFlow intra-op threads (default 1: pin the process to one core)")
    arguments = parser.parse_args()

    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(arguments.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    print(f"TensorFlow {tf.__version__}, {arguments.threads} thread(s), medians of {arguments.rounds}")
    header = ("size", "layer", "GFLOP", "floor ms", "GFLOP/s", "Keras ms", "zoo ms",
              "floor/Keras", "zoo/Keras", "0.5 x Keras ms")
    rows = []
    for size in arguments.sizes:
        for kind in arguments.pairs:
            parts = product_floor(kind, size, arguments.rounds)
            for name, seconds in parts.items():
                print(f"  {size} {kind} {name}: {1000 * seconds:.2f} ms")
            floor = sum(parts.values())
            layers = time_pair(kind, size, arguments.rounds, 3, "auto")
            keras_ms, zoo_ms = 1000 * layers[("keras", "train")], 1000 * layers[("zoo", "train")]
            rows.append((size, kind, f"{flops(kind, size) / 1e9:.3f}", f"{1000 * floor:.1f}",
                         f"{flops(kind, size) / floor / 1e9:.0f}", f"{keras_ms:.1f}", f"{zoo_ms:.1f}",
                         f"{1000 * floor / keras_ms:.2f}", f"{zoo_ms / keras_ms:.2f}",
                         f"{keras_ms / 2:.1f}"))
            print("  " + " | ".join(rows[-1]), flush=True)
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
