"""python -m apps.jazz generate | train | evaluate  (see `python -m apps.jazz <command> --help`).

    python -m apps.jazz generate                      # jazz_solo.mid + jazz_solo.png, shipped model
    python -m apps.jazz generate --count 4 --seed 7 --out solos/take.mid
    python -m apps.jazz train --midi /path/to/wjazzd_midi --run-dir runs/jazz/wjazzd
    python -m apps.jazz train --preset course --midi original_metheny.mid --run-dir runs/jazz/course
    python -m apps.jazz evaluate --midi held_out/*.mid

Errors a user can fix (a file that is not MIDI, a missing path, a primer longer than the solo,
an existing output without --force) print one `error: ...` line and exit with status 2.
"""
from __future__ import annotations

import argparse
import os
import sys

from apps.common import cli
from apps.jazz.config import PRESETS, TOKEN_KINDS, GenerateConfig, make_train_config
from apps.jazz.errors import JazzDataError, JazzUsageError

PROG = "python -m apps.jazz"


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one `error:` line (and exit status 2)."""

    def error(self, message):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def nonnegative_float(text: str) -> float:
    return cli.positive_float(text) if text.strip() not in ("0", "0.0") else 0.0


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog=PROG, description="Jazz solos with a zoo LSTM: generate, train, "
                           "evaluate.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     parser_class=OneLineParser)

    generate = commands.add_parser("generate", help="write jazz solos as MIDI (+ piano-roll PNG)",
                                   description="Write a jazz solo as a MIDI file and a piano-roll "
                                   "PNG beside it, from the shipped model (data/jazz) or "
                                   "--checkpoint.")
    generate.add_argument("--out", default="jazz_solo.mid", metavar="MIDI",
                          help="MIDI file to write; the PNG goes beside it as <name>.png; with "
                               "--count N: <stem>_1.mid ... <stem>_N.mid (default: %(default)s "
                               "in the current folder)")
    size = generate.add_mutually_exclusive_group()
    size.add_argument("--length", type=cli.positive_int, default=None, metavar="TOKENS",
                      help="tokens to generate, primer included (a note is 2 tokens: pitch, "
                           "duration; default: the model's, 400 for the shipped one)")
    size.add_argument("--bars", type=cli.positive_int, default=None, metavar="BARS",
                      help="instead of --length: about this many 4/4 bars (cut at the bar line)")
    generate.add_argument("--temperature", type=cli.positive_float, default=0.9, metavar="T",
                          help="sampling temperature: lower is safer and more repetitive, higher "
                               "wilder (default: %(default)s)")
    generate.add_argument("--argmax", action="store_true",
                          help="always take the most likely token, as the course's inference does "
                               "(it tends to loop; ignores --temperature and --seed)")
    generate.add_argument("--top-k", type=cli.positive_int, default=None, metavar="K",
                          help="draw only among the K most likely tokens (default: all)")
    generate.add_argument("--seed", type=cli.non_negative_int, default=0, metavar="N",
                          help="random seed: the same seed and options give the same MIDI bytes "
                               "(default: %(default)s)")
    generate.add_argument("--primer", default=None, metavar="MIDI",
                          help="MIDI file whose melody starts the solo (its notes are forced, "
                               "the model continues them); it must be shorter than --length")
    generate.add_argument("--tempo", type=cli.positive_float, default=None, metavar="BPM",
                          help="tempo written to the MIDI file (default: the model's, 140 for "
                               "the shipped one)")
    generate.add_argument("--count", type=cli.positive_int, default=1, metavar="N",
                          help="number of solos to write (default: %(default)s)")
    generate.add_argument("--checkpoint", default=None, metavar="DIR",
                          help="model folder (model.keras, tokenizer.json, model.json), e.g. a "
                               "train --run-dir (default: the shipped data/jazz)")
    generate.add_argument("--force", action="store_true",
                          help="overwrite output files that already exist")
    generate.add_argument("--no-pianoroll", action="store_true",
                          help="do not write the piano-roll PNG")
    generate.set_defaults(function=run_generate)

    train = commands.add_parser("train", help="train a model on MIDI files",
                                description="Train the zoo LSTM language model on MIDI files; "
                                "rerunning the same command resumes. The run folder ends up "
                                "holding a model folder for generate/evaluate --checkpoint.")
    train.add_argument("--midi", nargs="+", required=True, metavar="PATH",
                       help="MIDI files and/or folders of .mid files to learn from")
    train.add_argument("--preset", choices=PRESETS, default="default",
                       help="default: 2 x 128 LSTM on note tokens with 12-key augmentation "
                            "(the shipped model); course: the course's djmodel (64 units, "
                            "Tx = 30, 60 windows, 100 epochs, summed loss) (default: %(default)s)")
    train.add_argument("--tokens", choices=TOKEN_KINDS, default=None,
                       help="notes: pitch and duration tokens of the melody (any monophonic "
                            "solo); course: the course's chord-relative values (needs the "
                            "Metheny file's tracks) (default: the preset's)")
    train.add_argument("--units", type=cli.positive_int, default=None, metavar="N",
                       help="LSTM units per layer (default: the preset's, 128 or 64)")
    train.add_argument("--layers", type=cli.positive_int, default=None, metavar="N",
                       help="stacked LSTM layers (default: the preset's, 2 or 1)")
    train.add_argument("--dropout", type=nonnegative_float, default=None, metavar="RATE",
                       help="dropout between LSTM layers (default: the preset's, 0.2 or 0)")
    train.add_argument("--window", type=cli.positive_int, default=None, metavar="TOKENS",
                       help="Tx, tokens per training window (default: the preset's, 256 or 30)")
    train.add_argument("--validation-fraction", type=float, default=None, metavar="F",
                       help="share of whole solos held out for validation (default: the "
                            "preset's, 0.1 or 0)")
    train.add_argument("--no-augment", action="store_true",
                       help="do not transpose the training solos to the 12 keys")
    group = cli.add_training_arguments(train, run_dir="runs/jazz/PRESET")
    for action in group._group_actions:  # the presets decide these defaults
        if action.dest in ("epochs", "batch_size", "learning_rate", "run_dir"):
            action.default = None
            action.help = action.help.replace("(default: %(default)s)", "(default: the preset's"
                                              + (", runs/jazz/PRESET)" if action.dest == "run_dir"
                                                 else ")"))
        if action.dest == "clipnorm":
            action.help = action.help.replace("(default: no clipping)",
                                              "(default: the preset's, 1.0 or none)")
    train.set_defaults(function=run_train)

    evaluate = commands.add_parser("evaluate", help="score a model on MIDI files",
                                   description="Negative log-likelihood per token, accuracy and "
                                   "the count of tokens unknown to the vocabulary, on any MIDI "
                                   "files.")
    evaluate.add_argument("--midi", nargs="+", required=True, metavar="PATH",
                          help="MIDI files and/or folders of .mid files to score")
    evaluate.add_argument("--checkpoint", default=None, metavar="DIR",
                          help="model folder (default: the shipped data/jazz)")
    evaluate.add_argument("--per-file", action="store_true", help="also print one line per file")
    evaluate.set_defaults(function=run_evaluate)
    return parser


def run_generate(arguments) -> int:
    from apps.jazz.generate import generate

    config = GenerateConfig(out=arguments.out, checkpoint=arguments.checkpoint,
                            length=arguments.length, bars=arguments.bars,
                            temperature=arguments.temperature, argmax=arguments.argmax,
                            top_k=arguments.top_k, seed=arguments.seed, primer=arguments.primer,
                            tempo=arguments.tempo, count=arguments.count, force=arguments.force,
                            pianoroll=not arguments.no_pianoroll)
    generate(config, log=lambda text: print(text, flush=True))
    return 0


def run_train(arguments) -> int:
    from apps.jazz.training import train

    fraction = arguments.validation_fraction
    if fraction is not None and not 0 <= fraction < 1:
        raise JazzUsageError(f"--validation-fraction must be in [0, 1), got {fraction}")
    config = make_train_config(
        arguments.midi, preset=arguments.preset, tokens=arguments.tokens,
        run_dir=arguments.run_dir or f"runs/jazz/{arguments.preset}",
        units=arguments.units, layers=arguments.layers, dropout=arguments.dropout,
        window=arguments.window, validation_fraction=fraction,
        augment_keys=False if arguments.no_augment else None, epochs=arguments.epochs,
        batch_size=arguments.batch_size, learning_rate=arguments.learning_rate,
        clipnorm=arguments.clipnorm, clipvalue=arguments.clipvalue, seed=arguments.seed)
    train(config, arguments=arguments, progress=not arguments.no_progress)
    return 0


def run_evaluate(arguments) -> int:
    from apps.jazz.evaluate import evaluate_files

    result = evaluate_files(arguments.midi, arguments.checkpoint)
    if arguments.per_file:
        for path, score in result.files:
            print(f"{path}: {score.summary()}")
    total = result.total
    print(f"{len(result.files)} file{'s' if len(result.files) != 1 else ''}, {total.tokens:,} "
          f"tokens: {total.summary()}")
    return 0


def main(argv=None) -> int:
    arguments = build_parser().parse_args(argv)
    try:
        return cli.run_command(arguments.function, arguments, expected_errors=(JazzDataError,))
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        sys.stdout = open(os.devnull, "w")
        return 0


if __name__ == "__main__":
    sys.exit(main())
