"""Quality and speed of apps.charlm, against the course's own figures.

    python benchmarks/charlm.py course  [--names 35000] [--cells rnn,lstm] [--out DIR]
    python benchmarks/charlm.py speed   [--run-dir DIR] [--steps 200]
    python benchmarks/charlm.py shakespeare --minutes 18 [--cell lstm --units 256 ...]

course: "Dinosaurus Island" exactly as the assignment trains it: ONE name per step (the names
    lower-cased and shuffled with np.random.seed(0), taken in order, j % len), x⟨1⟩ = 0, loss =
    the sum over the name's characters (its <EOS> newline included) of the cross-entropy, plain
    SGD with learning rate 0.01, every gradient element clipped to [−5, 5], 50 hidden units.
    The course's "smoothed loss" is `loss = 0.999 * loss + 0.001 * name_loss`, started at
    7·ln 27 (`get_initial_loss(27, 7)`); reported every 2,000 names and after --names names
    (the course prints 22.45 at 34,000 in its expected output). Weights: the course's
    initialization (N(0, 1)·0.01, zero biases) for the basic RNN ("rnn"); "rnn-keras" keeps the
    layers' own initializers (Glorot/orthogonal); the LSTM uses its layer's initializers.
    Then 100 names are sampled (temperature 1, as the course) and those not in dinos.txt counted.
speed: characters per second of `zoo.builders.sampler`'s compiled loop for one sequence and for
    a batch of 64 (best of 3 after a warm-up call), for the model in --run-dir or for freshly
    initialized course-size models when no run is given.
shakespeare: the app's own `train` (apps.charlm.train) on tiny Shakespeare with the last 10 %
    held out, stopped at the first epoch end after --minutes; prints the validation loss in
    nats/char per epoch and the time.

Each command prints JSON lines and writes them to --out/<command>.json.
"""
import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout

import numpy as np  # noqa: E402

from apps.common import cli  # noqa: E402

COURSE_LEARNING_RATE = 0.01
COURSE_CLIP = 5.0
COURSE_UNITS = 50
COURSE_CHARACTERS = 27       # a–z and the newline: the course's vocab_size
COURSE_INITIAL_NAMES = 7     # get_initial_loss(vocab_size, dino_names=7)
SMOOTHING = 0.999


def dataset(*parts):
    from apps.charlm.config import REPO_ROOT
    root = Path(os.environ.get("ZOO_DATASETS", REPO_ROOT.parent / "shared" / "datasets"))
    return root.joinpath(*parts)


def emit(record, out, name):
    print(json.dumps(record), flush=True)
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        with open(Path(out) / f"{name}.json", "a", encoding="utf-8") as stream:
            stream.write(json.dumps(record) + "\n")


# ----------------------------------------------------------------------------------------------
# (a) The course's training loop on dinosaur names.

def course_names():
    from apps.charlm.data import read_text, split_names
    names = split_names(read_text(dataset("charlm", "dinos.txt")).lower())
    examples = list(names)
    np.random.seed(0)
    np.random.shuffle(examples)            # the course: np.random.seed(0); np.random.shuffle(examples)
    return names, examples


def course_initialization(model, vocabulary_size, seed=0):
    """The course's initialize_parameters: W = N(0, 1)·0.01, b = 0 (basic RNN and output layer)."""
    rng = np.random.default_rng(seed)
    layer = model.get_layer("recurrent_1")
    n_a = layer.units
    layer.set_course_weights({"W_a": rng.standard_normal((n_a, n_a + vocabulary_size)) * 0.01,
                              "b_a": np.zeros(n_a)})
    logits = model.get_layer("logits")
    logits.kernel.assign((rng.standard_normal((n_a, vocabulary_size)) * 0.01).astype("float32"))
    logits.bias.assign(np.zeros(vocabulary_size, dtype="float32"))


def train_course(variant, names_to_train, out, seed=0):
    import keras
    import tensorflow as tf

    from apps.common.training import set_seed
    from zoo import builders
    from zoo.text import Vocabulary

    names, examples = course_names()
    vocabulary = Vocabulary.build(names, level="char", eos=True, lowercase=True)
    set_seed(seed)
    cell = "lstm" if variant == "lstm" else "rnn"
    model = builders.language_model(len(vocabulary), cell=cell, units=COURSE_UNITS)
    if variant == "rnn":
        course_initialization(model, len(vocabulary), seed)
    optimizer = keras.optimizers.SGD(COURSE_LEARNING_RATE, clipvalue=COURSE_CLIP)
    variables = model.trainable_variables

    @tf.function  # one trace per name length (about 25)
    def step(targets):
        with tf.GradientTape() as tape:
            probabilities = model(targets, training=True)
            loss = tf.reduce_sum(keras.losses.sparse_categorical_crossentropy(targets, probabilities))
        optimizer.apply(tape.gradient(loss, variables), variables)
        return loss

    encoded = [np.asarray([vocabulary.encode(name, add_eos=True)], dtype=np.int32)
               for name in examples]
    smoothed = -math.log(1.0 / COURSE_CHARACTERS) * COURSE_INITIAL_NAMES
    curve, started = [], time.perf_counter()
    for j in range(names_to_train):
        name_loss = float(step(encoded[j % len(encoded)]))
        smoothed = smoothed * SMOOTHING + name_loss * (1 - SMOOTHING)
        if (j + 1) % 2000 == 0 or j + 1 == names_to_train:
            curve.append((j + 1, round(smoothed, 4)))
            print(f"  {variant}: {j + 1} names, smoothed loss {smoothed:.4f}", flush=True)
    seconds = time.perf_counter() - started
    sampled = sample_names(model, vocabulary, count=100, seed=seed)
    known = set(names)
    novel = [name for name in sampled if name not in known]
    record = {"benchmark": "course", "variant": variant, "cell": cell, "units": COURSE_UNITS,
              "names_trained": names_to_train, "one_name_per_step": True,
              "optimizer": f"SGD {COURSE_LEARNING_RATE}, clipvalue {COURSE_CLIP}",
              "smoothed_loss": round(smoothed, 4), "curve": curve,
              "seconds": round(seconds, 1), "sampled": len(sampled), "novel": len(novel),
              "distinct": len(set(sampled)),
              "ended_without_eos": sum(1 for name in sampled if len(name) >= 50),
              "examples": sampled[:12]}
    emit(record, out, "course")
    keras.backend.clear_session()
    return record


def sample_names(model, vocabulary, count, seed):
    from apps.charlm.sample import sample
    from apps.charlm.saved import TrainedRun
    trained = TrainedRun(Path("."), model, vocabulary, {"text_format": "names"})
    return sample(".", count=count, max_length=50, seed=seed, trained=trained)


# ----------------------------------------------------------------------------------------------
# (b) Sampling speed.

def speed(run_dir, steps, out):
    from apps.charlm.sample import sampling_speed
    from apps.charlm.saved import TrainedRun, load_run
    if run_dir:
        runs = [("run " + str(run_dir), load_run(run_dir))]
    else:
        from zoo import builders
        from zoo.text import Vocabulary
        vocabulary = Vocabulary([chr(ord("a") + i) for i in range(26)], level="char", eos=True)
        runs = []
        for cell in ("rnn", "lstm"):
            model = builders.language_model(len(vocabulary), cell=cell, units=COURSE_UNITS)
            runs.append((f"untrained {cell} {COURSE_UNITS} units, vocabulary {len(vocabulary)}",
                         TrainedRun(Path("."), model, vocabulary, {"text_format": "names"})))
    for name, trained in runs:
        for batch in (1, 64):
            rate = sampling_speed(trained, batch=batch, steps=steps)
            emit({"benchmark": "speed", "model": name, "batch": batch, "steps": steps,
                  "characters_per_second": round(rate)}, out, "speed")


# ----------------------------------------------------------------------------------------------
# (c) Tiny Shakespeare with the app's train, under a time budget.

def shakespeare(arguments):
    import keras

    from apps.charlm.config import TrainConfig
    from apps.charlm.train import train

    class TimeLimit(keras.callbacks.Callback):
        """Stop at the first epoch end after `minutes` (counted from the callback's creation)."""

        def __init__(self, minutes):
            super().__init__()
            self.deadline = time.perf_counter() + minutes * 60
            self.started = time.perf_counter()
            self.epochs = []

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            self.epochs.append({"epoch": epoch + 1, "minutes": round((time.perf_counter()
                                                                      - self.started) / 60, 2),
                                "loss": round(float(logs.get("loss", float("nan"))), 4),
                                "val_loss": round(float(logs.get("val_loss", float("nan"))), 4)})
            print(f"  epoch {epoch + 1}: {json.dumps(self.epochs[-1])}", flush=True)
            if time.perf_counter() >= self.deadline:
                self.model.stop_training = True

    limit = TimeLimit(arguments.minutes)
    config = TrainConfig(text=str(dataset("charlm", "tinyshakespeare", "input.txt")),
                         text_format="running", case="keep", cell=arguments.cell,
                         units=arguments.units, layers=arguments.layers,
                         dropout=arguments.dropout, validation_split=0.1,
                         epochs=arguments.epochs, batch_size=arguments.batch_size,
                         learning_rate=arguments.learning_rate,
                         sequence_length=arguments.sequence_length, run_dir=arguments.run_dir,
                         seed=0, no_progress=True, clipvalue=COURSE_CLIP)
    started = time.perf_counter()
    summary = train(config, show_samples=3, extra_callbacks=[limit])
    record = {"benchmark": "shakespeare", "cell": arguments.cell, "units": arguments.units,
              "layers": arguments.layers, "batch_size": arguments.batch_size,
              "sequence_length": arguments.sequence_length,
              "learning_rate": arguments.learning_rate, "minutes_budget": arguments.minutes,
              "minutes": round((time.perf_counter() - started) / 60, 2),
              "epochs": limit.epochs, "summary": {k: v for k, v in summary.items()
                                                  if k != "resumed_from"}}
    emit(record, arguments.out, "shakespeare")


def main(argv=None):
    cli.import_tensorflow_quietly()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    course = commands.add_parser("course", help="(a) the course's dinosaur-name training")
    course.add_argument("--names", type=int, default=35000, help="names to train on (steps)")
    course.add_argument("--variants", default="rnn,lstm",
                        help="comma list of rnn (course init), rnn-keras, lstm")
    course.add_argument("--out", default="runs/benchmarks/charlm", help="folder for the JSON")
    speed_parser = commands.add_parser("speed", help="(b) sampling speed")
    speed_parser.add_argument("--run-dir", default=None, help="a trained run (default: "
                              "untrained course-size rnn and lstm)")
    speed_parser.add_argument("--steps", type=int, default=200, help="characters per sequence")
    speed_parser.add_argument("--out", default="runs/benchmarks/charlm", help="folder for the JSON")
    text = commands.add_parser("shakespeare", help="(c) tiny Shakespeare under a time budget")
    text.add_argument("--minutes", type=float, default=18, help="stop at the first epoch end "
                      "after this many minutes")
    text.add_argument("--cell", default="lstm", help="rnn, gru or lstm")
    text.add_argument("--units", type=int, default=256, help="hidden units")
    text.add_argument("--layers", type=int, default=1, help="stacked layers")
    text.add_argument("--dropout", type=float, default=0.0, help="dropout between layers")
    text.add_argument("--batch-size", type=int, default=64, help="sequences per step")
    text.add_argument("--sequence-length", type=int, default=100, help="characters per sequence")
    text.add_argument("--learning-rate", type=float, default=0.003, help="Adam step size")
    text.add_argument("--epochs", type=int, default=100, help="upper bound on epochs")
    text.add_argument("--run-dir", default="runs/benchmarks/charlm-shakespeare",
                      help="run folder")
    text.add_argument("--out", default="runs/benchmarks/charlm", help="folder for the JSON")
    arguments = parser.parse_args(argv)
    if arguments.command == "course":
        for variant in arguments.variants.split(","):
            train_course(variant.strip(), arguments.names, arguments.out)
    elif arguments.command == "speed":
        speed(arguments.run_dir, arguments.steps, arguments.out)
    else:
        shakespeare(arguments)


if __name__ == "__main__":
    main()
