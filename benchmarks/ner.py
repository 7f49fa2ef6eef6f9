"""Quality of apps.ner on CoNLL-2003: entity F1 over several seeds, with the training time.

    python benchmarks/ner.py --embeddings none --seeds 1 2 3
    python benchmarks/ner.py --embeddings glove-50d --seeds 1 2 3
    python benchmarks/ner.py --embeddings glove-50d --output softmax --seeds 1 2 3 --no-test
    python benchmarks/ner.py --embeddings none --seeds 1 --name units200 -- --units 200
    python benchmarks/ner.py --embeddings glove-50d --epochs 18 --name glove-final \
        -- --train-on train+valid        # the final models: train + valid, a fixed epoch count

For each seed, `python -m apps.ner train` runs in a subprocess (its exact command line is
printed first) into RUN_ROOT/NAME-seedN, where NAME defaults to EMBEDDINGS-OUTPUT; an existing
run folder is resumed, or reused as it is when it has finished. Arguments after `--` go to
every train command unchanged (give another --name with them: a run folder refuses other
settings). Then the run's model (the epoch of the best validation F1) is scored on the test
split with seqeval (conlleval-compatible), unless --no-test: choose settings on the validation
figures, keep the test split for the final ones.

Printed per seed: best validation F1 and its epoch, epochs trained, test precision/recall/F1,
training seconds (sum of the epochs' wall-clock times in timing.json: training and validation
passes, without start-up); then the mean and sample standard deviation (n-1) over the seeds.
Each record is also appended as a JSON line to --out/ner.json.
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # run from a checkout


def parse_arguments(argv):
    parser = argparse.ArgumentParser(prog="python benchmarks/ner.py",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--embeddings", choices=("none", "glove-50d"), default="none",
                        help="word vectors of the runs (default: %(default)s)")
    parser.add_argument("--output", choices=("softmax", "crf"), default="crf",
                        help="output layer of the runs (default: %(default)s)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3], metavar="N",
                        help="one run per seed (default: 1 2 3)")
    parser.add_argument("--epochs", type=int, default=50, metavar="N",
                        help="at most this many epochs per run; early stopping on the "
                             "validation F1 may end it sooner (default: %(default)s)")
    parser.add_argument("--run-root", default="runs/bench-ner", metavar="DIR",
                        help="folder of the run folders (default: %(default)s)")
    parser.add_argument("--name", default=None, metavar="NAME",
                        help="run folder prefix (default: EMBEDDINGS-OUTPUT)")
    parser.add_argument("--data", default=None, metavar="DIR",
                        help="CoNLL folder (default: the app's, ../shared/datasets/conll2003)")
    parser.add_argument("--no-test", action="store_true",
                        help="report the validation figures only (for choosing settings)")
    parser.add_argument("--no-train", action="store_true",
                        help="only score runs that already exist")
    parser.add_argument("--out", default="runs/bench-ner", metavar="DIR",
                        help="append the JSON records to DIR/ner.json (default: %(default)s)")
    arguments, train_extra = parser.parse_known_args(argv)
    if train_extra and train_extra[0] == "--":
        train_extra = train_extra[1:]
    arguments.train_extra = train_extra
    return arguments


def train_command(arguments, seed, run_dir) -> list:
    command = [sys.executable, "-m", "apps.ner", "train", "--embeddings", arguments.embeddings,
               "--output", arguments.output, "--seed", str(seed), "--epochs",
               str(arguments.epochs), "--run-dir", str(run_dir), "--no-progress"]
    if arguments.data:
        command += ["--data", arguments.data]
    return command + list(arguments.train_extra)


def shown(command) -> str:
    """The command as a person would type it from the repository root."""
    words = ["python"] + command[1:] if command[0] == sys.executable else command
    return " ".join(shlex.quote(word) for word in words)


def history_of(run_dir: Path) -> dict:
    from apps.common.callbacks import read_history
    return read_history(run_dir / "history.csv")


def train_seconds(run_dir: Path) -> float:
    try:
        timing = json.loads((run_dir / "timing.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return float("nan")
    return float(sum(timing.get("epoch_seconds", {}).values()))


def run_seed(arguments, seed, name) -> dict:
    run_dir = Path(arguments.run_root) / f"{name}-seed{seed}"
    command = train_command(arguments, seed, run_dir)
    wall = None
    if not arguments.no_train:
        print(f"$ {shown(command)}", flush=True)
        started = time.perf_counter()
        subprocess.run(command, cwd=REPO_ROOT, check=True)
        wall = time.perf_counter() - started
    history = history_of(run_dir)
    values = history.get("val_f1", [])
    best = max(range(len(values)), key=values.__getitem__) if values else None
    run_json = run_dir / "run.json"
    trained_on = (json.loads(run_json.read_text(encoding="utf-8"))["settings"].get(
        "train_on", "train") if run_json.exists() else "train")
    record = {"name": name, "seed": seed, "run_dir": str(run_dir), "command": shown(command),
              "train_on": trained_on,
              "epochs": len(values), "best_epoch": None if best is None else best + 1,
              "val_f1": None if best is None else 100 * values[best],
              "train_seconds": train_seconds(run_dir), "wall_seconds_this_call": wall}
    if not arguments.no_test:
        from apps.ner.evaluate import evaluate
        print(f"$ python -m apps.ner evaluate --run-dir {shlex.quote(str(run_dir))} --split test",
              flush=True)
        result = evaluate(run_dir, split="test", data=arguments.data, examples=0)
        overall = result["scores"]["overall"]
        record.update(test_precision=100 * overall["precision"],
                      test_recall=100 * overall["recall"], test_f1=100 * overall["f1-score"],
                      test_per_type={kind: 100 * values["f1-score"] for kind, values
                                     in result["scores"]["per_type"].items()})
    return record


def mean_and_spread(values) -> str:
    values = [value for value in values if value is not None]
    if not values:
        return "n/a"
    if len(values) == 1:
        return f"{values[0]:.2f} (one seed)"
    return (f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f} (sample std, "
            f"n={len(values)}; min {min(values):.2f}, max {max(values):.2f})")


def main(argv=None) -> int:
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    from apps.common.cli import import_tensorflow_quietly
    import_tensorflow_quietly()
    name = arguments.name or f"{arguments.embeddings}-{arguments.output}"
    records = []
    for seed in arguments.seeds:
        record = run_seed(arguments, seed, name)
        records.append(record)
        print(json.dumps(record), flush=True)
        out = Path(arguments.out)
        out.mkdir(parents=True, exist_ok=True)
        with open(out / "ner.json", "a", encoding="utf-8") as stream:
            stream.write(json.dumps(record) + "\n")
    print(f"\n{name}: {len(records)} seeds ({' '.join(str(s) for s in arguments.seeds)})")
    print(f"{'seed':>4} {'epochs':>6} {'best':>4} {'val F1':>7} {'test P':>7} {'test R':>7} "
          f"{'test F1':>7} {'train s':>8}")
    for record in records:
        test = [record.get(key) for key in ("test_precision", "test_recall", "test_f1")]
        cells = " ".join("      -" if value is None else f"{value:7.2f}" for value in test)
        print(f"{record['seed']:4d} {record['epochs']:6d} {record['best_epoch'] or 0:4d} "
              f"{record['val_f1'] or 0:7.2f} {cells} {record['train_seconds']:8.0f}")
    held_out = all(record["train_on"] == "train" for record in records)
    label = "validation F1" if held_out else "validation F1 (trained on: fit, not held out)"
    print(f"{label}: {mean_and_spread([r['val_f1'] for r in records])}")
    if not arguments.no_test:
        print(f"test F1:       {mean_and_spread([r.get('test_f1') for r in records])}")
    print(f"training time: {mean_and_spread([r['train_seconds'] / 60 for r in records])} minutes "
          f"per run")
    print("commands:")
    for record in records:
        print(f"  {record['command']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
