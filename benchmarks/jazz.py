"""The jazz app's figures: model quality against n-gram baselines, generated music against the
corpus, generation speed, and the course preset's loss curve.

    python benchmarks/jazz.py quality     # validation NLL/accuracy: LSTM vs unigram and bigram
    python benchmarks/jazz.py music       # generated solos vs real ones (T = 0.9, 1.0, argmax)
    python benchmarks/jazz.py speed       # 32 solos x 1,000 tokens via `python -m apps.jazz`
    python benchmarks/jazz.py course      # train --preset course on the Metheny file, 100 epochs
    python benchmarks/jazz.py all         # everything (about 5 minutes on 2 cores)

Options: --checkpoint DIR (default: the shipped data/jazz), --json PATH (also write the figures
as JSON). The validation solos are the ones named in the model folder's model.json (its
training split); the baselines are fitted on that model's training split, with the same 12-key
augmentation and, separately, without it, for several k; the best baseline figure is reported.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout

import numpy as np  # noqa: E402

DATA = Path(os.environ.get("ZOO_DATASETS", REPO.parent / "shared" / "datasets")) / "jazz"
WJAZZD = DATA / "wjazzd_midi"
METHENY = DATA / "original_metheny.mid"
K_VALUES = (0.01, 0.1, 1.0)


def split_solos(folder):
    """(training solos, validation solos) of the model folder's recorded split."""
    from apps.jazz.corpus import DEFAULT_CACHE_DIR, load_corpus

    corpus = load_corpus(WJAZZD, cache_dir=DEFAULT_CACHE_DIR, progress=False)
    validation_names = set(folder.info["data"]["validation_solos"])
    training_names = set(folder.info["data"]["training_solos"])
    training = [solo for solo in corpus if solo.name in training_names]
    validation = [solo for solo in corpus if solo.name in validation_names]
    return training, validation


def quality(checkpoint=None):
    from apps.jazz.baselines import NgramModel
    from apps.jazz.evaluate import score_token_lists
    from apps.jazz.model import load_model_folder
    from apps.jazz.training import key_versions

    folder = load_model_folder(checkpoint)
    training, validation = split_solos(folder)
    validation_tokens = [list(solo.tokens) for solo in validation]
    lstm = score_token_lists(folder.network, folder.tokenizer, validation_tokens)
    augmented = [tokens for solo in training for tokens in key_versions(solo)]
    original = [list(solo.tokens) for solo in training]
    baselines = {}
    for order, name in ((1, "unigram"), (2, "bigram")):
        candidates = []
        for k in K_VALUES:
            for data_name, data in (("12 keys", augmented), ("original key", original)):
                score = NgramModel(order, folder.tokenizer.vocabulary, k).fit(data).score(
                    validation_tokens)
                candidates.append((score.nll, k, data_name, score))
        nll, k, data_name, score = min(candidates, key=lambda item: item[0])
        baselines[name] = {"nll": nll, "accuracy": score.accuracy, "k": k, "fit_on": data_name,
                           "all": [(c[1], c[2], round(c[0], 4)) for c in candidates]}
    result = {"validation_solos": len(validation), "validation_tokens": lstm.tokens,
              "unknown": lstm.unknown, "lstm": {"nll": lstm.nll, "accuracy": lstm.accuracy,
                                                "perplexity": lstm.perplexity},
              **baselines,
              "below_bigram": 1 - lstm.nll / baselines["bigram"]["nll"],
              "below_unigram": 1 - lstm.nll / baselines["unigram"]["nll"]}
    print("\n## Validation NLL per token (nats), whole solos\n")
    print(f"{len(validation)} validation solos, {lstm.tokens:,} tokens, {lstm.unknown} unknown\n")
    print("| model | NLL | perplexity | accuracy | note |\n|---|---|---|---|---|")
    print(f"| zoo LSTM ({folder.path.name}) | {lstm.nll:.4f} | {lstm.perplexity:.2f} | "
          f"{lstm.accuracy:.4f} | |")
    for name in ("bigram", "unigram"):
        b = baselines[name]
        print(f"| {name}, add-k | {b['nll']:.4f} | {np.exp(b['nll']):.2f} | {b['accuracy']:.4f} | "
              f"best of k in {K_VALUES}: k = {b['k']}, fit on {b['fit_on']} |")
    print(f"\nLSTM NLL is {100 * result['below_bigram']:.1f} % below the bigram's and "
          f"{100 * result['below_unigram']:.1f} % below the unigram's (target: >= 15 % below "
          "the bigram).")
    return result


def generated_solos(folder, count, length, *, temperature=0.9, argmax=False, seed=0):
    from apps.jazz.config import GenerateConfig
    from apps.jazz.generate import decode_solo, sample_ids

    forced = np.full((count, length), -1, np.int32)
    ids = sample_ids(folder.network, length, forced, temperature=temperature, argmax=argmax,
                     top_k=None, seed=seed)
    config = GenerateConfig(seed=seed)
    return [decode_solo(row, folder, config, index, 120.0).melody for index, row in enumerate(ids)]


def music(checkpoint=None, count=32, length=1000):
    from apps.jazz import stats
    from apps.jazz.model import load_model_folder

    folder = load_model_folder(checkpoint)
    training, validation = split_solos(folder)
    training_melodies = [list(solo.events) for solo in training]
    validation_melodies = [list(solo.events) for solo in validation]
    reference = stats.histogram_pair(training_melodies)
    detector = stats.CopyDetector(training_melodies)
    rows = {"validation solos (real)": stats.summarize(validation_melodies, reference, detector)}
    for name, options in (("T = 0.9", dict(temperature=0.9)), ("T = 1.0", dict(temperature=1.0)),
                          ("T = 0.6", dict(temperature=0.6)), ("argmax", dict(argmax=True))):
        solos = generated_solos(folder, count, length, **options)
        rows[f"generated, {name}"] = stats.summarize(solos, reference, detector)
    print(f"\n## Generated solos vs the corpus ({count} solos x {length} tokens each; "
          "real: the validation solos)\n")
    print("Medians per solo; repeated bars: mean share of bars identical to an earlier bar; "
          "JS: Jensen-Shannon divergence (bits) of the pooled histogram against the training "
          "solos'; copied: longest run of (interval, duration) also found in a training solo.\n")
    print("| solos | pitch range | notes/bar | distinct pitches | repeated bars | interval JS | "
          "duration JS | longest copy (notes) | copied share | max copied share |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, row in rows.items():
        print(f"| {name} | {row['pitch_range']:.0f} | {row['notes_per_bar']:.1f} | "
              f"{row['distinct_pitches']:.0f} | {row['repeated_bars']:.3f} | "
              f"{row['interval_js']:.4f} | {row['duration_js']:.4f} | "
              f"{row['longest_copy_notes']:.0f} | {row['copied_share']:.3f} | "
              f"{row['max_copied_share']:.3f} |")
    return rows


def speed(checkpoint=None, rounds=3):
    """Whole-command wall time and the generate step the command reports, `rounds` times each."""
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for index in range(rounds):
            for pianoroll in (False, True):
                out = Path(folder) / f"speed_{index}_{int(pianoroll)}.mid"
                command = [sys.executable, "-m", "apps.jazz", "generate", "--count", "32",
                           "--length", "1000", "--out", str(out), "--seed", str(index)]
                if checkpoint:
                    command += ["--checkpoint", str(checkpoint)]
                if not pianoroll:
                    command.append("--no-pianoroll")
                started = time.perf_counter()
                process = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
                wall = time.perf_counter() - started
                if process.returncode != 0:
                    raise RuntimeError(process.stderr)
                match = re.search(r"in ([\d.]+) s \(model loaded in ([\d.]+) s\)", process.stdout)
                results.append({"pianoroll": pianoroll, "command_s": wall,
                                "generate_s": float(match.group(1)),
                                "load_s": float(match.group(2))})
    print("\n## Generation speed: 32 solos x 1,000 tokens, `python -m apps.jazz generate`\n")
    print("| PNGs | whole command (s), median | generate step (s), median | model load (s) |")
    print("|---|---|---|---|")
    for pianoroll in (False, True):
        rows = [r for r in results if r["pianoroll"] == pianoroll]
        print(f"| {'32 PNGs too' if pianoroll else 'no (--no-pianoroll)'} | "
              f"{np.median([r['command_s'] for r in rows]):.2f} | "
              f"{np.median([r['generate_s'] for r in rows]):.2f} "
              f"(all: {', '.join('%.2f' % r['generate_s'] for r in rows)}) | "
              f"{np.median([r['load_s'] for r in rows]):.2f} |")
    return results


def course(epochs=100):
    with tempfile.TemporaryDirectory() as folder:
        run_dir = Path(folder) / "course"
        command = [sys.executable, "-m", "apps.jazz", "train", "--preset", "course", "--midi",
                   str(METHENY), "--run-dir", str(run_dir), "--epochs", str(epochs),
                   "--no-progress"]
        started = time.perf_counter()
        process = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if process.returncode != 0:
            raise RuntimeError(process.stderr)
        info = json.loads((run_dir / "model.json").read_text())
    loss, accuracy = info["history"]["loss"], info["history"]["accuracy"]
    print("\n## Course preset (djmodel: n_a = 64, Tx = 30, m = 60, summed loss) on the Metheny "
          "values\n")
    print(f"vocabulary {info['vocabulary_size']} values; {seconds:.0f} s for the whole command\n")
    print("| epoch | loss (summed over 30 outputs) | accuracy |\n|---|---|---|")
    for epoch in sorted({1, 10, 50, len(loss)}):
        print(f"| {epoch} | {loss[epoch - 1]:.2f} | {accuracy[epoch - 1]:.3f} |")
    return {"loss": loss, "accuracy": accuracy, "seconds": seconds}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("part", choices=("quality", "music", "speed", "course", "all"),
                        help="which figures to measure")
    parser.add_argument("--checkpoint", default=None, help="model folder (default: data/jazz)")
    parser.add_argument("--json", default=None, help="also write the figures to this JSON file")
    parser.add_argument("--rounds", type=int, default=3,
                        help="speed: runs of each command (default: %(default)s)")
    arguments = parser.parse_args()
    results = {}
    parts = (("quality", "music", "speed", "course") if arguments.part == "all"
             else (arguments.part,))
    for part in parts:
        if part == "quality":
            results[part] = quality(arguments.checkpoint)
        elif part == "music":
            results[part] = music(arguments.checkpoint)
        elif part == "speed":
            results[part] = speed(arguments.checkpoint, arguments.rounds)
        else:
            results[part] = course()
    if arguments.json:
        Path(arguments.json).write_text(json.dumps(results, indent=1, default=float))


if __name__ == "__main__":
    main()
