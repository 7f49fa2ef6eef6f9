"""Speed of masked (padded) sequences: zoo's fused fast path against its cell path and Keras.

The apps feed right-padded sequences with `Embedding(mask_zero=True)`, so every recurrent layer
sees a mask. For each case below it times one training step (`model.train_on_batch`: forward,
backward and Adam update, compiled by Keras) of three otherwise identical models:

  zoo       zoo.LSTM (fast_path=True: masked hand-written BPTT, zoo/_fused.py)
  zoo-cell  zoo.LSTM(fast_path=False): the cell run by keras_backend.rnn, autodiff
  keras     keras.layers.LSTM

Cases (lengths drawn uniformly, the rest of each row padded with token 0):
  ner        Embedding(10000, 100, mask_zero) -> Bidirectional(LSTM(100, return_sequences=True))
             -> Dense(9, softmax); batch 32, padded length 40, lengths 5..40
  sentiment  Embedding(20000, 128, mask_zero) -> Bidirectional(LSTM(64)) -> Dense(1, sigmoid);
             batch 32, padded length 400, lengths 100..400

Rounds are interleaved (each round times every model once, in turn) after untimed warm-up steps,
and the medians and the ratios to Keras are printed.

    python benchmarks/masked.py                  # both cases, 15 timed rounds
    python benchmarks/masked.py --repeats 15 --cases ner
    python benchmarks/masked.py --quick          # a smoke run: 7 rounds, 1 warm-up step
"""
import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout

import numpy as np  # noqa: E402

CASES = {
    # name: (vocabulary, embedding size, units, return_sequences, output classes, batch, padded length,
    #        shortest length, longest length)
    "ner": (10000, 100, 100, True, 9, 32, 40, 5, 40),
    "sentiment": (20000, 128, 64, False, 1, 32, 400, 100, 400),
}
IMPLEMENTATIONS = ("zoo", "zoo-cell", "keras")


def make_layer(implementation, units, return_sequences):
    import keras

    import zoo

    if implementation == "keras":
        return keras.layers.LSTM(units, return_sequences=return_sequences)
    return zoo.LSTM(units, return_sequences=return_sequences, fast_path=implementation == "zoo")


def make_data(case, seed=0):
    """Token ids right-padded with 0 (lengths uniform in [shortest, longest]) and labels."""
    vocabulary, _, _, return_sequences, classes, batch, steps, shortest, longest = CASES[case]
    rng = np.random.default_rng(seed)
    lengths = rng.integers(shortest, longest + 1, size=batch)
    tokens = np.zeros((batch, steps), dtype="int32")
    for row, length in enumerate(lengths):
        tokens[row, :length] = rng.integers(1, vocabulary, size=length)
    if return_sequences:
        labels = rng.integers(0, classes, size=(batch, steps))
    else:
        labels = rng.integers(0, 2, size=(batch, 1)).astype("float32")
    return tokens, labels, lengths


def make_model(implementation, case, jit_compile="auto"):
    import keras

    vocabulary, embedding, units, return_sequences, classes, _, steps, _, _ = CASES[case]
    keras.utils.set_random_seed(0)
    inputs = keras.Input((steps,), dtype="int32")
    x = keras.layers.Embedding(vocabulary, embedding, mask_zero=True)(inputs)
    x = keras.layers.Bidirectional(make_layer(implementation, units, return_sequences))(x)
    if return_sequences:
        outputs = keras.layers.Dense(classes, activation="softmax")(x)
        loss = "sparse_categorical_crossentropy"
    else:
        outputs = keras.layers.Dense(1, activation="sigmoid")(x)
        loss = "binary_crossentropy"
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss, jit_compile=jit_compile)
    return model


def timed(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def time_case(case, implementations, repeats, warmup, jit_compile):
    """Median seconds per training step of each implementation (rounds interleaved), and the loss
    of each model's first step (zoo and zoo-cell start from the same weights: equal losses)."""
    tokens, labels, _ = make_data(case)
    models = {impl: make_model(impl, case, jit_compile) for impl in implementations}
    first_losses = {}
    for impl, model in models.items():
        first_losses[impl] = float(model.train_on_batch(tokens, labels))
        for _ in range(warmup - 1):
            model.train_on_batch(tokens, labels)
    times = {impl: [] for impl in models}
    for _ in range(repeats):
        for impl, model in models.items():
            times[impl].append(timed(lambda: model.train_on_batch(tokens, labels)))
    return {impl: statistics.median(values) for impl, values in times.items()}, first_losses


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES),
                        help="which cases to time (default: all)")
    parser.add_argument("--implementations", nargs="+", default=list(IMPLEMENTATIONS),
                        choices=list(IMPLEMENTATIONS), help="which models to time (default: all three)")
    parser.add_argument("--repeats", type=int, default=15,
                        help="timed rounds per model, the median is reported (default 15, at least 7 advised)")
    parser.add_argument("--warmup", type=int, default=3,
                        help="untimed training steps first, the tracing one included (default 3)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 7 rounds and 1 warm-up step, whatever --repeats/--warmup say")
    parser.add_argument("--jit", choices=["auto", "true", "false"], default="auto",
                        help="jit_compile for every model (auto = Keras's default: off on CPU)")
    args = parser.parse_args()
    if args.quick:
        args.repeats, args.warmup = 7, 1
    if args.repeats < 1 or args.warmup < 1:
        parser.error("--repeats and --warmup must be at least 1")
    jit = {"auto": "auto", "true": True, "false": False}[args.jit]

    import keras
    import tensorflow as tf

    print(f"keras {keras.__version__}, backend {keras.backend.backend()}, tensorflow {tf.__version__}, "
          f"devices {[d.device_type for d in tf.config.list_physical_devices()]}, jit_compile={args.jit}, "
          f"{args.repeats} timed rounds after {args.warmup} warm-up steps, median train_on_batch ms")
    rows = []
    for case in args.cases:
        medians, first_losses = time_case(case, args.implementations, args.repeats, args.warmup, jit)
        _, _, units, _, _, batch, steps, shortest, longest = CASES[case]
        _, _, lengths = make_data(case)
        cells = "  ".join(f"{impl} {1e3 * seconds:8.1f}" for impl, seconds in medians.items())
        ratios = ""
        if "keras" in medians:
            ratios = "  ".join(f"{impl}/keras {seconds / medians['keras']:.2f}"
                               for impl, seconds in medians.items() if impl != "keras")
        if "zoo" in medians and "zoo-cell" in medians:
            ratios += f"  zoo/zoo-cell {medians['zoo'] / medians['zoo-cell']:.2f}"
        row = (f"{case:9} (batch {batch}, padded {steps}, lengths {shortest}..{longest}, mean "
               f"{lengths.mean():.0f}, BiLSTM({units})): {cells}  |  {ratios}")
        rows.append(row)
        print(row, flush=True)
        print(" " * 10 + "first-step loss: " + "  ".join(f"{impl} {loss:.6f}" for impl, loss in first_losses.items()),
              flush=True)


if __name__ == "__main__":
    main()
