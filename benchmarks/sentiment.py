"""Quality and speed of apps.sentiment: test accuracy over seeds, and seconds per training step.

    python benchmarks/sentiment.py run --dataset imdb --seeds 1 2 3 [--epochs N]
        [--run-root runs/bench-sentiment] [--tag NAME] [-- any train option, e.g. --units 64]
    python benchmarks/sentiment.py probe --dataset imdb [--batch-size 64] [--steps 20]

run: for every seed, `python -m apps.sentiment train --dataset D --seed S --run-dir
    ROOT/D[-TAG]-seedS` (the data set's default settings plus the options after --), then
    `python -m apps.sentiment evaluate --split test`. A run folder whose sentiment.json already
    reports as many epochs as asked is reused, and an interrupted one resumes, so rerunning the
    command only does what is missing. The epoch of each run is chosen on validation data only
    (IMDB: 10 % of the training reviews; SST: the dev sentences); test is read once, at the end.
    Prints per seed the test accuracy, the validation accuracy of the chosen epoch, the epoch,
    the training time (sum of the epochs' times in timing.json) and the wall time of this call;
    then mean, sample standard deviation, min and max, and the exact commands. Writes
    ROOT/results-D[-TAG].json.
ensemble: python benchmarks/sentiment.py ensemble --runs DIR... --size 3 [--data PATH]
    reads the validation and test texts with each finished run once (its predicted
    probabilities are kept in DIR/predictions-<split>.npz and reused), then scores every run
    alone and the mean prediction of each consecutive group of --size runs (what `python -m
    apps.sentiment evaluate --run-dir A --run-dir B ...` computes): prints per group the
    members' validation and test accuracy and the ensemble's, then the mean, sample standard
    deviation, min and max over the groups, the training time of a group (the sum of its
    runs'), and the equivalent evaluate commands. Writes ROOT/results-ensemble-<dataset>-of-N.json
    beside the first run (ROOT = its parent folder).
probe: times training steps of the data set's default model on its real data without writing
    a run: the batches of one epoch are planned exactly as `train` plans them (length buckets),
    --steps of them are drawn at random (after 3 warm-up steps) and timed one by one; prints
    seconds per step (mean and median), the mean tokens per step, and the estimated epoch time
    = steps per epoch x mean seconds per step. Takes about 1-3 minutes on 2 CPU cores.
"""
import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # run from a checkout

DATASETS = ("imdb", "sst2", "sst5")


# ----------------------------------------------------------------------------------- run
def run_folder(root: Path, dataset: str, tag: str, seed: int) -> Path:
    return root / f"{dataset}{'-' + tag if tag else ''}-seed{seed}"


def tag_of(overrides: list) -> str:
    """A folder-name tag for the extra train options ("" when there are none)."""
    text = "_".join(option.lstrip("-") for option in overrides)
    return re.sub(r"[^A-Za-z0-9._=]+", "-", text)[:80]


def finished(run_dir: Path, epochs) -> bool:
    """True when the run's sentiment.json reports the epochs asked for (or the preset's)."""
    try:
        info = json.loads((run_dir / "sentiment.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return False
    wanted = epochs if epochs is not None else info.get("settings", {}).get("epochs")
    return wanted is not None and info.get("epochs_done", 0) >= wanted


def call(command: list) -> float:
    """Run a command with its output shown; return its wall time; stop on failure."""
    print("$ " + " ".join(shlex.quote(part) for part in command), flush=True)
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=REPO_ROOT)
    if completed.returncode != 0:
        sys.exit(f"error: the command above ended with status {completed.returncode}")
    return time.perf_counter() - started


def summary(values: list) -> dict:
    return {"mean": statistics.fmean(values),
            "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "min": min(values), "max": max(values)}


def run(arguments, overrides: list) -> dict:
    root = Path(arguments.run_root)
    tag = arguments.tag if arguments.tag is not None else tag_of(overrides)
    python = [sys.executable, "-m", "apps.sentiment"]
    rows, commands = [], []
    for seed in arguments.seeds:
        run_dir = run_folder(root, arguments.dataset, tag, seed)
        train = [*python, "train", "--dataset", arguments.dataset, "--seed", str(seed),
                 "--run-dir", str(run_dir), "--no-progress", *overrides]
        if arguments.epochs is not None:
            train += ["--epochs", str(arguments.epochs)]
        if arguments.data:
            train += ["--data", arguments.data]
        evaluate = [*python, "evaluate", "--run-dir", str(run_dir), "--split", "test",
                    "--no-progress"]
        commands += [train, evaluate]
        wall = 0.0
        if finished(run_dir, arguments.epochs):
            print(f"reusing {run_dir} (trained to the end already)", flush=True)
        else:
            wall = call(train)
        call(evaluate)
        info = json.loads((run_dir / "sentiment.json").read_text(encoding="utf-8"))
        report = json.loads((run_dir / "evaluation-test.json").read_text(encoding="utf-8"))
        row = {"seed": seed, "run_dir": str(run_dir), "test_accuracy": report["accuracy"],
               "test_macro_f1": report["macro_f1"],
               "validation_accuracy": info["best_validation_accuracy"],
               "best_epoch": info["best_epoch"], "epochs": info["epochs_done"],
               "training_seconds": info["training_seconds"],
               "wall_seconds_this_call": round(wall, 1)}
        if "stars" in report:
            row["stars_mae"] = report["stars"]["mean_absolute_error"]
        rows.append(row)
        print(json.dumps(row), flush=True)
    accuracies = [row["test_accuracy"] for row in rows]
    result = {"dataset": arguments.dataset, "tag": tag, "overrides": overrides,
              "seeds": arguments.seeds, "runs": rows,
              "test_accuracy": summary(accuracies),
              "training_seconds": summary([row["training_seconds"] for row in rows]),
              "commands": [" ".join(shlex.quote(part) for part in command)
                           for command in commands]}
    if all("stars_mae" in row for row in rows):
        result["stars_mae"] = summary([row["stars_mae"] for row in rows])
    root.mkdir(parents=True, exist_ok=True)
    out = root / f"results-{arguments.dataset}{'-' + tag if tag else ''}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print_table(result)
    print(f"written to {out}")
    return result


def print_table(result: dict) -> None:
    print(f"\n{result['dataset']}{' (' + result['tag'] + ')' if result['tag'] else ''}: "
          f"test accuracy over seeds {result['seeds']}")
    print("| seed | test accuracy | validation accuracy (chosen epoch) | epoch | training time |")
    print("|---|---|---|---|---|")
    for row in result["runs"]:
        chosen = (f"{row['validation_accuracy']:.2%}" if row["best_epoch"] is not None else
                  "none: trained on train+validation")
        epoch = row["best_epoch"] if row["best_epoch"] is not None else "last"
        print(f"| {row['seed']} | {row['test_accuracy']:.2%} | {chosen} "
              f"| {epoch} of {row['epochs']} "
              f"| {row['training_seconds'] / 60:.1f} min |")
    accuracy = result["test_accuracy"]
    print(f"mean {accuracy['mean']:.2%}, std {accuracy['std']:.2%} (min {accuracy['min']:.2%}, "
          f"max {accuracy['max']:.2%}); training time mean "
          f"{result['training_seconds']['mean'] / 60:.1f} min per run")
    if "stars_mae" in result:
        print(f"star rating mean absolute error {result['stars_mae']['mean']:.3f} "
              f"(std {result['stars_mae']['std']:.3f})")
    print("commands:")
    for command in result["commands"]:
        print(f"  {command}")


# ------------------------------------------------------------------------------ ensemble
SCORED_SPLITS = ("validation", "test")


def run_predictions(run_dir: Path, split: str, examples) -> dict:
    """{output name: probabilities} of the run for the split's examples, computed once and
    kept in run_dir/predictions-<split>.npz (recomputed when model.keras is newer)."""
    import numpy as np

    cache = run_dir / f"predictions-{split}.npz"
    if cache.exists() and cache.stat().st_mtime >= (run_dir / "model.keras").stat().st_mtime:
        with np.load(cache) as stored:
            return {name: stored[name] for name in stored.files}
    from apps.sentiment.ensemble import read_texts
    from apps.sentiment.saved import load_run

    started = time.perf_counter()
    outputs, _ = read_texts(load_run(run_dir), examples.texts, batch_size=128)
    print(f"{run_dir} {split}: {len(examples.texts):,} texts read in "
          f"{time.perf_counter() - started:.0f} s", flush=True)
    np.savez(cache, **outputs)
    return outputs


def scores(outputs: dict, examples, run) -> dict:
    """Accuracy, and the star error where the run predicts stars, as evaluate computes them."""
    import numpy as np
    from apps.sentiment.evaluate import predicted_labels, star_report
    from apps.sentiment.model import SENTIMENT

    labels = predicted_labels(outputs[SENTIMENT])
    result = {"accuracy": float(np.mean(labels == examples.labels))}
    stars = star_report(run, examples, outputs, labels)
    if stars is not None:
        result["stars_mae"] = stars["mean_absolute_error"]
    return result


def ensemble(arguments) -> dict:
    from apps.sentiment.ensemble import check_members, mean_outputs
    from apps.sentiment.evaluate import evaluation_data_dir, evaluation_examples
    from apps.sentiment.saved import RunInfo

    class Run(RunInfo):  # what sentiment.json says of a run, without loading its model
        def __init__(self, run_dir: Path):
            self.run_dir = run_dir
            self.info = json.loads((run_dir / "sentiment.json").read_text(encoding="utf-8"))

    runs = [Run(Path(run)) for run in arguments.runs]
    if len(runs) < arguments.size or len(runs) % arguments.size:
        sys.exit(f"error: {len(runs)} runs do not make groups of {arguments.size}")
    groups = [runs[start:start + arguments.size]
              for start in range(0, len(runs), arguments.size)]
    for group in groups:  # the same data set and head, no run twice (as evaluate checks)
        check_members(group)
    first = runs[0]
    data_dir = evaluation_data_dir(first.info, arguments.data)
    examples = {split: evaluation_examples(first.info, split, data_dir)
                for split in SCORED_SPLITS}
    predictions = {(run.run_dir, split): run_predictions(run.run_dir, split, examples[split])
                   for run in runs for split in SCORED_SPLITS}
    rows = []
    for group in groups:
        row = {"runs": [str(run.run_dir) for run in group],
               "seeds": [run.info.get("settings", {}).get("seed") for run in group],
               "training_seconds": sum(run.info["training_seconds"] for run in group)}
        for split in SCORED_SPLITS:
            outputs = [predictions[run.run_dir, split] for run in group]
            mean = mean_outputs(outputs)
            row[split] = {"members": [scores(each, examples[split], first)["accuracy"]
                                      for each in outputs],
                          "ensemble": scores(mean, examples[split], first)}
        rows.append(row)
    tests = [row["test"]["ensemble"]["accuracy"] for row in rows]
    singles = [accuracy for row in rows for accuracy in row["test"]["members"]]
    result = {"dataset": first.dataset, "size": arguments.size, "groups": rows,
              "test_accuracy": summary(tests), "single_run_test_accuracy": summary(singles),
              "commands": [" ".join(["python -m apps.sentiment evaluate"]
                                    + [f"--run-dir {run}" for run in row["runs"]]
                                    + ["--split test"]) for row in rows]}
    out = first.run_dir.parent / f"results-ensemble-{first.dataset}-of-{arguments.size}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"\n{first.dataset}: ensembles of {arguments.size} runs (mean predicted "
          "probabilities)")
    print("| seeds | validation: runs alone | validation: ensemble | test: runs alone "
          "| **test: ensemble** | training time |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        def alone(split):
            return " / ".join(f"{value:.2%}" for value in row[split]["members"])
        print(f"| {', '.join(map(str, row['seeds']))} | {alone('validation')} "
              f"| {row['validation']['ensemble']['accuracy']:.2%} | {alone('test')} "
              f"| **{row['test']['ensemble']['accuracy']:.2%}** "
              f"| {row['training_seconds'] / 60:.1f} min |")
    summary_of = result["test_accuracy"]
    print(f"ensembles: test mean {summary_of['mean']:.2%}, std {summary_of['std']:.2%} "
          f"(min {summary_of['min']:.2%}, max {summary_of['max']:.2%}); the same runs alone: "
          f"mean {result['single_run_test_accuracy']['mean']:.2%}, std "
          f"{result['single_run_test_accuracy']['std']:.2%}")
    if all("stars_mae" in row["test"]["ensemble"] for row in rows):
        print("ensembles' star rating mean absolute error: " + ", ".join(
            f"{row['test']['ensemble']['stars_mae']:.3f}" for row in rows))
    print("the same figures one ensemble at a time:")
    for command in result["commands"]:
        print(f"  {command}")
    print(f"written to {out}")
    return result


# --------------------------------------------------------------------------------- probe
def probe(arguments) -> dict:
    """Seconds per training step of the default model on the real data (see the docstring)."""
    from apps.common import cli
    cli.import_tensorflow_quietly()
    import numpy as np

    from apps.common import training
    from apps.sentiment import saved
    from apps.sentiment.__main__ import build_parser, resolve_presets
    from apps.sentiment.batching import crop, epoch_batches, lengths_of
    from apps.sentiment.datasets import load_training_data, resolve_data_dir
    from apps.sentiment.model import glove_matrix
    from apps.sentiment.tokens import split_all
    from apps.sentiment.train import model_factory, targets_of
    from apps.sentiment.vectorizer import make_vectorizer, vocabulary_of

    argv = ["train", "--dataset", arguments.dataset, "--run-dir", "unused",
            *(["--batch-size", str(arguments.batch_size)] if arguments.batch_size else []),
            *(["--data", arguments.data] if arguments.data else []), *arguments.overrides]
    settings = resolve_presets(build_parser().parse_args(argv))
    started = time.perf_counter()
    data = load_training_data(settings.dataset, resolve_data_dir(settings.dataset, settings.data),
                              phrases=settings.phrases,
                              validation_split=settings.validation_split)
    words = split_all(data["train"].texts)
    vectorizer = make_vectorizer(words, max_tokens=settings.max_tokens,
                                 max_length=settings.max_length, standardize="lower")
    encoded = saved.encode(vectorizer, words, split=False)
    preparation = time.perf_counter() - started
    training.set_seed(0)
    matrix = (glove_matrix(vocabulary_of(vectorizer))[0]
              if settings.embeddings == "glove-50d" else None)
    model = model_factory(settings, len(vocabulary_of(vectorizer)),
                          len(data["train"].label_names), matrix)()
    targets = targets_of(data["train"], settings.head)
    lengths = lengths_of(encoded.ids)
    batches = epoch_batches(lengths, settings.batch_size, seed=0, epoch=0)
    rng = np.random.default_rng(0)
    chosen = rng.choice(len(batches), size=min(len(batches), arguments.steps + 3), replace=False)
    times, tokens = [], []
    for number, index in enumerate(chosen):
        batch = batches[index]
        x = crop(encoded.ids, lengths, batch)
        y = {name: values[batch] for name, values in targets.items()}
        begin = time.perf_counter()
        model.train_on_batch(x, y)
        if number >= 3:  # the first steps trace and compile
            times.append(time.perf_counter() - begin)
            tokens.append(x.size)
    mean = statistics.fmean(times)
    result = {"dataset": settings.dataset, "batch_size": settings.batch_size,
              "cell": settings.cell, "units": settings.units,
              "max_length": settings.max_length, "steps_timed": len(times),
              "seconds_per_step_mean": round(mean, 4),
              "seconds_per_step_median": round(statistics.median(times), 4),
              "padded_tokens_per_step_mean": round(statistics.fmean(tokens), 1),
              "steps_per_epoch": len(batches),
              "estimated_epoch_minutes": round(len(batches) * mean / 60, 2),
              "data_preparation_seconds": round(preparation, 1),
              "cpu_threads": training.cpu_thread_count()}
    print(json.dumps(result), flush=True)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python benchmarks/sentiment.py",
                                     description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    runner = commands.add_parser("run", help="train and test over seeds")
    runner.add_argument("--dataset", choices=DATASETS, required=True)
    runner.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    runner.add_argument("--epochs", type=int, default=None,
                        help="epochs per run (default: the data set's default)")
    runner.add_argument("--run-root", default="runs/bench-sentiment")
    runner.add_argument("--data", default=None, help="the data set's folder (default: shared)")
    runner.add_argument("--tag", default=None,
                        help="name part of the run folders (default: from the extra options)")
    grouper = commands.add_parser("ensemble", help="score runs alone and in groups")
    grouper.add_argument("--runs", nargs="+", required=True, metavar="DIR",
                         help="finished run folders, grouped in the order given")
    grouper.add_argument("--size", type=int, default=3, help="runs per ensemble (default 3)")
    grouper.add_argument("--data", default=None, help="the data set's folder (default: the "
                         "runs' own)")
    prober = commands.add_parser("probe", help="seconds per training step, no run written")
    prober.add_argument("--dataset", choices=DATASETS, default="imdb")
    prober.add_argument("--batch-size", type=int, default=None)
    prober.add_argument("--steps", type=int, default=20)
    prober.add_argument("--data", default=None)
    arguments, overrides = parser.parse_known_args(argv)
    overrides = [option for option in overrides if option != "--"]
    if arguments.command == "run":
        return run(arguments, overrides)
    if arguments.command == "ensemble":
        if overrides:
            parser.error(f"unrecognized arguments: {' '.join(overrides)}")
        return ensemble(arguments)
    arguments.overrides = overrides
    return probe(arguments)


if __name__ == "__main__":
    main()
