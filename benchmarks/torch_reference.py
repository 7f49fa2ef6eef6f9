"""How fast is PyTorch's LSTM here? The yardstick the layers issue quotes, measured.

Issue 2 sets the target "zoo training step <= 0.5 x keras.layers.LSTM" and justifies it with
"torch.nn.LSTM is about 2.5x faster than keras.layers.LSTM here". This script checks that premise
on the machine it runs on: it times, interleaved round by round in one process, a full training
step (forward + backward + Adam update, loss MSE on every step's output) of

  - torch.nn.LSTM / torch.nn.GRU (PyTorch's CPU kernels; its GRU is the reset-after variant),
  - keras.layers.LSTM / keras.layers.GRU(reset_after=False),
  - zoo.LSTM / zoo.GRU,

at the sizes of benchmarks/layers.py, with the same number of threads for both frameworks (the
CPUs this process may run on), and prints medians and the ratios to Keras.

PyTorch is not a dependency of the project; install it for this script only:

    pip install torch==2.13.0          # the CPU build
    taskset -c 0 python benchmarks/torch_reference.py --rounds 15
"""
import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from benchmarks.layers import (PAIRS, SIZES, interleaved_medians, make_model,  # noqa: E402
                               train_step)


def torch_step(kind, size, threads):
    """A closure running one torch training step of the layer at this size."""
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    batch, steps, features, units = SIZES[size]
    layer_class = torch.nn.LSTM if kind == "lstm" else torch.nn.GRU
    layer = layer_class(features, units, batch_first=True)
    optimizer = torch.optim.Adam(layer.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.standard_normal((batch, steps, features)).astype("float32"))
    y = torch.from_numpy(rng.standard_normal((batch, steps, units)).astype("float32"))

    def step():
        optimizer.zero_grad(set_to_none=True)
        outputs, _ = layer(x)
        loss = torch.nn.functional.mse_loss(outputs, y)
        loss.backward()
        optimizer.step()

    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--pairs", nargs="+", default=list(PAIRS), choices=list(PAIRS))
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds (median reported)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed rounds first")
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        sys.exit("this benchmark needs PyTorch: pip install torch==2.13.0 (not a project "
                 "dependency)")
    import keras

    threads = len(os.sched_getaffinity(0))
    print(f"torch {torch.__version__} (mkldnn {torch.backends.mkldnn.is_available()}), "
          f"keras {keras.__version__} on {keras.backend.backend()}, {threads} thread(s)")
    rows = []
    for size in args.sizes:
        for kind in args.pairs:
            steps = {"torch": torch_step(kind, size, threads)}
            for impl in ("keras", "zoo"):
                steps[impl] = train_step(*make_model(impl, kind, size))
            seconds = interleaved_medians(steps, args.rounds, args.warmup)
            ms = {name: 1e3 * value for name, value in seconds.items()}
            row = (f"{size:6} {kind:5} torch {ms['torch']:8.2f}  keras {ms['keras']:8.2f}  "
                   f"zoo {ms['zoo']:8.2f}   torch/keras {ms['torch'] / ms['keras']:5.2f}  "
                   f"zoo/keras {ms['zoo'] / ms['keras']:5.2f}  zoo/torch "
                   f"{ms['zoo'] / ms['torch']:5.2f}")
            rows.append(row)
            print(row, flush=True)
    print("\ntraining step medians, ms (forward + backward + Adam)")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
