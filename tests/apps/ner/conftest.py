"""Shared fixtures for apps.ner: synthetic CoNLL files and one tiny trained run.

The files hold patterned sentences ("Anna Berg visited Oslo ...") in the four CoNLL-2003
columns, with -DOCSTART- lines; the run (2 epochs, 8 units, batches of 8) trains through
`python -m apps.ner train` (main) in a few seconds and is shared by the evaluate and tag tests
and, as the uninterrupted reference, by the resume test.
"""
import contextlib
import io

import numpy as np
import pytest

FIRST = ["Anna", "Boris", "Clara", "Dmitri", "Elena", "Farid"]
LAST = ["Berg", "Ivanov", "Lopez", "Okafor"]
PLACES = ["Oslo", "Lima", "New York", "Cape Town", "Kyoto"]
COMPANIES = ["Acme Corp", "Nordbank", "Blue River Mining"]
EVENTS = ["World Cup", "Olympics"]
TEMPLATES = [
    "{PER} visited {LOC} on Monday .",
    "{ORG} shares rose 5 percent in {LOC} .",
    "{PER} , who works for {ORG} , watched the {MISC} .",
    "The {MISC} starts in {LOC} next year .",
    "Nothing happened today .",
]
TINY_TRAIN_ARGUMENTS = ["--epochs", "2", "--units", "8", "--word-dim", "8", "--char-dim", "4",
                        "--char-features", "4", "--casing-dim", "4", "--batch-size", "8",
                        "--save-every-steps", "2", "--no-progress", "--seed", "3"]


def fill(template, rng):
    """(tokens, IOB2 tags) of one template with random names."""
    tokens, tags = [], []
    choices = {"PER": lambda: f"{rng.choice(FIRST)} {rng.choice(LAST)}",
               "LOC": lambda: str(rng.choice(PLACES)), "ORG": lambda: str(rng.choice(COMPANIES)),
               "MISC": lambda: str(rng.choice(EVENTS))}
    for piece in template.split():
        if piece.startswith("{"):
            kind = piece.strip("{}")
            words = choices[kind]().split()
            tokens += words
            tags += [f"B-{kind}"] + [f"I-{kind}"] * (len(words) - 1)
        else:
            tokens.append(piece)
            tags.append("O")
    return tokens, tags


def conll_text(count, seed) -> str:
    rng = np.random.default_rng(seed)
    lines = ["-DOCSTART- -X- -X- O", ""]
    for index in range(count):
        tokens, tags = fill(TEMPLATES[index % len(TEMPLATES)], rng)
        lines += [f"{token} NNP B-NP {tag}" for token, tag in zip(tokens, tags)] + [""]
    return "\n".join(lines)


def write_conll_folder(folder, counts=(48, 12, 12)):
    folder.mkdir(parents=True, exist_ok=True)
    for name, count, seed in zip(("train.txt", "valid.txt", "test.txt"), counts, (0, 1, 2)):
        (folder / name).write_text(conll_text(count, seed), encoding="utf-8")
    return folder


def run_main(argv) -> tuple:
    """(exit status, stdout, stderr) of `python -m apps.ner ARGV`, in this process."""
    from apps.ner.__main__ import main

    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            status = main([str(argument) for argument in argv])
        except SystemExit as exit_:           # argparse usage errors
            status = exit_.code
    return status, stdout.getvalue(), stderr.getvalue()


@pytest.fixture(scope="session")
def conll_folder(tmp_path_factory):
    return write_conll_folder(tmp_path_factory.mktemp("ner_data") / "conll")


@pytest.fixture(scope="session")
def trained_run(conll_folder, tmp_path_factory):
    """(run_dir, stdout) of a tiny run trained through main()."""
    run_dir = tmp_path_factory.mktemp("ner_run") / "run"
    status, stdout, stderr = run_main(["train", "--data", conll_folder, "--run-dir", run_dir]
                                      + TINY_TRAIN_ARGUMENTS)
    assert status == 0, stderr[-3000:]
    return run_dir, stdout
