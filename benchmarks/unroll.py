"""The fast path's loop against the same steps written out, at any size: what chose
zoo._fused.AUTO_UNROLL_MAX_STEPS.

For each length and layer it times, interleaved in one process, a training step
(`train_on_batch`: forward, backward, Adam) of zoo's layer with its compiled loop ("loop",
forced by setting AUTO_UNROLL_MAX_STEPS to 0), of the same layer with unroll=True
("unrolled") and of Keras's layer, and prints the medians and unrolled / loop.

    taskset -c 0 python benchmarks/unroll.py --lengths 16 30 48 64 100          # jazz width
    taskset -c 0 python benchmarks/unroll.py --dims 64 128 256 --lengths 32 64 100
"""
import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import layers  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dims", type=int, nargs=3, default=[32, 90, 64],
                        metavar=("BATCH", "FEATURES", "UNITS"),
                        help="batch, input features, units (default: the jazz size, 32 90 64)")
    parser.add_argument("--lengths", type=int, nargs="+", default=[16, 30, 48, 64, 100],
                        metavar="T", help="time steps to try (default: 16 30 48 64 100)")
    parser.add_argument("--pairs", nargs="+", default=list(layers.PAIRS), choices=layers.PAIRS,
                        help="which layers to time (default: lstm gru)")
    parser.add_argument("--rounds", type=int, default=25, help="timed rounds (median reported)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed rounds first")
    args = parser.parse_args()
    from zoo import _fused

    batch, features, units = args.dims
    print(f"(batch, features, units) = ({batch}, {features}, {units}); training step medians, ms")
    for steps in args.lengths:
        layers.SIZES["sweep"] = (batch, steps, features, units)
        for kind in args.pairs:
            # Built and traced (at the warm-up) with the automatic unrolling off, so that the
            # unroll=False layer keeps its loop; unroll=True writes the steps out regardless.
            saved, _fused.AUTO_UNROLL_MAX_STEPS = _fused.AUTO_UNROLL_MAX_STEPS, 0
            try:
                runs = {name: layers.train_step(*layers.make_model(impl, kind, "sweep",
                                                                   unroll=unroll))
                        for name, impl, unroll in (("loop", "zoo", False),
                                                   ("unrolled", "zoo", True),
                                                   ("keras", "keras", False))}
                ms = {name: 1e3 * value for name, value in
                      layers.interleaved_medians(runs, args.rounds, args.warmup).items()}
            finally:
                _fused.AUTO_UNROLL_MAX_STEPS = saved
            print(f"T={steps:4d} {kind:5} loop {ms['loop']:8.2f}  unrolled {ms['unrolled']:8.2f}"
                  f"  keras {ms['keras']:8.2f}   unrolled/loop {ms['unrolled'] / ms['loop']:5.2f}",
                  flush=True)


if __name__ == "__main__":
    main()
