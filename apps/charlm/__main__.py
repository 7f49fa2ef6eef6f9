"""python -m apps.charlm {train,sample,score,diagnose}: a character-level language model.

    python -m apps.charlm train --run-dir runs/dinos                  # the course's dinosaur names
    python -m apps.charlm sample --run-dir runs/dinos --count 10 --seed 1
    python -m apps.charlm train --text ../shared/datasets/charlm/tinyshakespeare/input.txt \\
        --cell lstm --units 256 --layers 2 --run-dir runs/shakespeare
    python -m apps.charlm score --run-dir runs/shakespeare "apple and pear salad" "apple and pair salad"
    python -m apps.charlm diagnose --out runs/diagnose

Every problem the user can fix ends with one line `error: ...` on stderr and exit status 2.
"""
import argparse
import sys

from apps.common import cli
from apps.charlm.config import CASES, CELLS, COURSE_CLIPVALUE, FORMATS, TrainConfig


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line `error: ...` (exit 2), like the app's own."""

    def error(self, message):
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def parse_temperature(text):
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def parse_int(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def build_parser():
    parser = OneLineErrorParser(prog="python -m apps.charlm",
                                description="Character-level language model (Course 5, week 1: "
                                            "Dinosaurus Island), with diagnostics.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser("train", help="train a model on a text file",
                                description="Train a character language model; rerun the same "
                                            "command to resume an interrupted run.")
    train.add_argument("--text", default=None, metavar="FILE",
                       help="UTF-8 text to learn from (default: the course's dinosaur names at "
                            "<repo>/../shared/datasets/charlm/dinos.txt)")
    train.add_argument("--format", dest="text_format", choices=FORMATS, default="auto",
                       help="names: one sequence per line, ending with <EOS>; running: contiguous "
                            "chunks of --sequence-length characters; auto: running if the text has "
                            "blank lines or long lines (default: %(default)s)")
    train.add_argument("--case", choices=CASES, default="auto",
                       help="lower: lower-case the text (the course does for names); keep: keep "
                            "it; auto: lower names, keep running text (default: %(default)s)")
    train.add_argument("--cell", choices=CELLS, default="rnn",
                       help="recurrent cell: the course's basic rnn, gru or lstm "
                            "(default: %(default)s)")
    train.add_argument("--units", type=cli.positive_int, default=50, metavar="N",
                       help="hidden state size n_a of each layer (default: %(default)s, as the "
                            "course)")
    train.add_argument("--layers", type=cli.positive_int, default=1, metavar="N",
                       help="stacked recurrent layers (default: %(default)s)")
    train.add_argument("--dropout", type=float, default=0.0, metavar="RATE",
                       help="dropout between stacked layers, in [0, 1) (default: %(default)s)")
    train.add_argument("--embedding-dim", type=cli.positive_int, default=None, metavar="N",
                       help="learn an embedding of this size instead of one-hot inputs "
                            "(default: one-hot, as the course)")
    train.add_argument("--validation-split", type=float, default=0.1, metavar="FRACTION",
                       help="held out for validation: random names, or the last part of running "
                            "text (default: %(default)s)")
    train.add_argument("--sequence-length", type=cli.positive_int, default=100, metavar="N",
                       help="characters per training sequence for running text; names always "
                            "use one name per sequence (default: %(default)s)")
    train.add_argument("--no-clipping", action="store_true",
                       help="train without gradient clipping (the default clips every gradient "
                            f"element to [-{COURSE_CLIPVALUE:g}, {COURSE_CLIPVALUE:g}] as the "
                            "course)")
    train.add_argument("--show-samples", type=cli.non_negative_int, default=5, metavar="N",
                       help="print N samples when training ends (default: %(default)s)")
    cli.add_training_arguments(train, run_dir="runs/charlm", epochs=20, batch_size=32,
                               learning_rate=0.01, seed=0)
    for action in train._actions:
        if action.dest == "clipvalue":
            action.help = (f"clip each gradient element to [-VALUE, VALUE] (default: "
                           f"{COURSE_CLIPVALUE:g}, the course's np.clip)")
    train.set_defaults(function=run_train)

    sample = commands.add_parser("sample", help="sample new text from a trained model",
                                 description="Draw sequences as the course does: softmax draw, "
                                             "feed back, stop at <EOS> or --max-length.")
    sample.add_argument("--run-dir", default="runs/charlm", metavar="DIR",
                        help="folder of a finished train run (default: %(default)s)")
    sample.add_argument("--count", type=parse_int, default=10, metavar="N",
                        help="how many sequences to draw, in one batch (default: %(default)s)")
    sample.add_argument("--max-length", type=parse_int, default=None, metavar="N",
                        help="stop after N characters, primer included (default: 50 for names, "
                             "300 for running text)")
    sample.add_argument("--temperature", type=parse_temperature, default=1.0, metavar="T",
                        help="draw from softmax(logits / T); > 0, lower is more conservative "
                             "(default: %(default)s)")
    sample.add_argument("--top-k", type=parse_int, default=None, metavar="K",
                        help="draw only among the K most likely characters (default: all)")
    sample.add_argument("--prime", default="", metavar="TEXT",
                        help="start every sequence with TEXT and let the model continue it")
    sample.add_argument("--no-unk", action="store_true",
                        help="never draw <UNK> (same as the course's redrawing)")
    sample.add_argument("--seed", type=parse_int, default=None, metavar="N",
                        help="seed of the draws: the same seed gives the same samples "
                             "(default: a new draw every time)")
    sample.set_defaults(function=run_sample)

    score = commands.add_parser("score", help="log-probability of texts under a trained model",
                                description="Log-probability, loss per character, bits per "
                                            "character and perplexity of each TEXT.")
    score.add_argument("texts", nargs="+", metavar="TEXT", help="texts to score")
    score.add_argument("--run-dir", default="runs/charlm", metavar="DIR",
                       help="folder of a finished train run (default: %(default)s)")
    score.set_defaults(function=run_score)

    diagnose = commands.add_parser("diagnose", help="vanishing/exploding gradients and memory",
                                   description="(1) gradient norms back through time for rnn, gru "
                                               "and lstm; (2) exploding gradients with and "
                                               "without clipping; (3) long-range memory task.")
    diagnose.add_argument("--out", default="runs/charlm-diagnose", metavar="DIR",
                          help="folder for the PNGs and diagnose.md (default: %(default)s)")
    diagnose.add_argument("--text", default=None, metavar="FILE",
                          help="text for parts 1 and 2 (default: the course's dinosaur names)")
    diagnose.add_argument("--parts", default="1,2,3", metavar="LIST",
                          help="which parts to run, e.g. 1,3 (default: %(default)s)")
    diagnose.add_argument("--length", type=cli.positive_int, default=100, metavar="T",
                          help="sequence length of parts 1 and 2 (default: %(default)s)")
    diagnose.add_argument("--units", type=cli.positive_int, default=50, metavar="N",
                          help="hidden units of the part 1 and 2 models (default: %(default)s)")
    diagnose.add_argument("--train-steps", type=cli.positive_int, default=300, metavar="N",
                          help="training steps of parts 1 and 2 (default: %(default)s)")
    diagnose.add_argument("--gaps", default="10,25,50,100", metavar="LIST",
                          help="part 3: filler tokens between subject and verb "
                               "(default: %(default)s)")
    diagnose.add_argument("--memory-units", type=cli.positive_int, default=32, metavar="N",
                          help="part 3: hidden units (default: %(default)s)")
    diagnose.add_argument("--memory-examples", type=cli.positive_int, default=2000, metavar="N",
                          help="part 3: training sequences per gap (default: %(default)s)")
    diagnose.add_argument("--memory-epochs", type=cli.positive_int, default=10, metavar="N",
                          help="part 3: training epochs per gap and cell (default: %(default)s)")
    diagnose.add_argument("--seed", type=cli.non_negative_int, default=0, metavar="N",
                          help="random seed (default: %(default)s)")
    diagnose.set_defaults(function=run_diagnose)
    return parser


def run_train(arguments):
    from apps.charlm.train import train
    clipnorm, clipvalue = cli.resolve_clipping(arguments, clipvalue=COURSE_CLIPVALUE)
    config = TrainConfig(
        text=arguments.text, text_format=arguments.text_format, case=arguments.case,
        cell=arguments.cell, units=arguments.units, layers=arguments.layers,
        dropout=arguments.dropout, embedding_dim=arguments.embedding_dim, clipvalue=clipvalue,
        clipnorm=clipnorm, validation_split=arguments.validation_split, epochs=arguments.epochs,
        batch_size=arguments.batch_size, learning_rate=arguments.learning_rate,
        sequence_length=arguments.sequence_length, run_dir=arguments.run_dir,
        seed=arguments.seed, no_progress=arguments.no_progress,
        save_every_steps=arguments.save_every_steps,
        extra={"logdir": arguments.logdir, "distribute": arguments.distribute,
               "mixed_precision": arguments.mixed_precision, "xla": arguments.xla})
    train(config, show_samples=arguments.show_samples)


def run_sample(arguments):
    from apps.charlm.sample import check_sampling_options, sample
    from apps.charlm.saved import load_run
    check_sampling_options(count=arguments.count, max_length=arguments.max_length,
                           temperature=arguments.temperature, top_k=arguments.top_k)
    trained = load_run(arguments.run_dir)
    texts = sample(arguments.run_dir, count=arguments.count, max_length=arguments.max_length,
                   temperature=arguments.temperature, top_k=arguments.top_k,
                   prime=arguments.prime, no_unk=arguments.no_unk, seed=arguments.seed,
                   trained=trained)
    for index, text in enumerate(texts):
        if trained.text_format == "running" and index:
            print("-" * 40)                  # running text spans lines: separate the samples
        print(text)


def run_score(arguments):
    from apps.charlm.score import format_scores, score
    from apps.charlm.saved import load_run
    trained = load_run(arguments.run_dir)
    results = score(arguments.run_dir, arguments.texts, trained=trained)
    print(format_scores(results, with_eos=trained.vocabulary.eos))


def run_diagnose(arguments):
    from apps.charlm.diagnose import diagnose, parse_list
    diagnose(arguments.out, text=arguments.text, parts=parse_list("--parts", arguments.parts),
             length=arguments.length, units=arguments.units, train_steps=arguments.train_steps,
             gaps=parse_list("--gaps", arguments.gaps), memory_units=arguments.memory_units,
             memory_examples=arguments.memory_examples, memory_epochs=arguments.memory_epochs,
             seed=arguments.seed)


def main(argv=None) -> int:
    cli.quiet_tensorflow()
    arguments = build_parser().parse_args(argv)
    cli.import_tensorflow_quietly()   # before zoo (which imports Keras): no start-up notices
    return cli.run_command(arguments.function, arguments)


if __name__ == "__main__":
    sys.exit(main())
