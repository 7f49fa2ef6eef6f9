"""`train`: fit the sentiment classifier of one data set (apps.sentiment.model) and export it.

    1. read the data (apps.sentiment.datasets): training texts, and validation texts that
       choose the epoch (held-out IMDB training reviews, or the SST dev sentences);
    2. record the settings in run.json (a different command is refused in the same folder);
    3. the vectorizer: adapted on the training texts, saved to vectorizer.json, or read back
       from it when the run resumes;
    4. fit through apps.common.training.fit_with_recovery: progress bar, last.keras, best.keras,
       a resumable backup (rerun the same command to continue; a larger --epochs trains a
       finished run longer), nan guard, history.csv, loss.png; plus best-accuracy.keras, the
       epoch with the best validation accuracy, and timing.json;
    5. model.keras (a copy of best-accuracy.keras) and sentiment.json for evaluate and predict.
"""
import json
import math
import shutil
import tempfile
import time
from pathlib import Path

from apps.common import cli
from apps.common.atomic import atomic_save_model, atomic_write_json, replacing
from apps.common.callbacks import read_backup_state, read_history
from apps.common.errors import UserError
from apps.common.run_folder import RESUMABLE_CHANGES, RunFiles, check_run_settings
from apps.sentiment import saved
from apps.sentiment.config import (BOTH_SPLITS, GLOVE_DIM, HEADS_OF_DATASET,
                                   MAX_BIGRAM_VOCABULARY)
from apps.sentiment.data import FINE_LABEL_NAMES
from apps.sentiment.datasets import describe, load_training_data, resolve_data_dir
from apps.sentiment.tokens import TOKENIZER_NAME, split_all

STANDARDIZE = "lower"  # the text is already lower-cased and split by tokens.split_words
# Not recorded as given: the subcommand's name, and --data (recorded resolved, run_settings).
NOT_SETTINGS = ("command", "data")
# A run may resume with the data set read from another place (a moved or downloaded copy).
MAY_CHANGE = RESUMABLE_CHANGES + ("data",)
# Settings added after earlier runs were recorded, with the value those runs trained with.
ADDED_SETTINGS = {"adversarial": 0.0}


def check_arguments(arguments) -> None:
    """UserError for option combinations that cannot work."""
    allowed = HEADS_OF_DATASET[arguments.dataset]
    if arguments.head not in allowed:
        raise UserError(f"--head {arguments.head} does not fit --dataset {arguments.dataset}; "
                        f"choose {' or '.join(allowed)}")
    if arguments.embeddings == "glove-50d" and arguments.embedding_dim != GLOVE_DIM:
        raise UserError(f"--embeddings glove-50d gives {GLOVE_DIM}-dimensional vectors; leave "
                        f"out --embedding-dim or pass --embedding-dim {GLOVE_DIM}")
    for name in ("dropout", "embedding_dropout"):
        value = getattr(arguments, name)
        if not 0.0 <= value < 1.0:
            raise UserError(f"--{name.replace('_', '-')} must be in [0, 1); received {value}")
    if arguments.bigrams and arguments.max_tokens > MAX_BIGRAM_VOCABULARY:
        raise UserError(f"--bigrams hashes token pairs in 32-bit integers, which needs "
                        f"--max-tokens <= {MAX_BIGRAM_VOCABULARY}; received "
                        f"--max-tokens {arguments.max_tokens}")
    if arguments.freeze_embeddings and arguments.embeddings == "none":
        raise UserError("--freeze-embeddings needs --embeddings glove-50d or cooccurrence "
                        "(frozen random vectors would never learn)")
    if arguments.rating_weight < 0:
        raise UserError(f"--rating-weight must be >= 0; received {arguments.rating_weight}")
    if arguments.phrases and arguments.dataset == "imdb":
        raise UserError("--phrases applies to sst2 and sst5 (IMDB has no parse trees)")
    if arguments.validation_split is not None and arguments.dataset != "imdb":
        raise UserError("--validation-split applies to imdb; SST uses its own dev sentences")
    cli.check_single_device(arguments.adversarial, arguments.distribute)
    if arguments.validation_split is not None and not 0 < arguments.validation_split < 1:
        raise UserError(f"--validation-split must be between 0 and 1; received "
                        f"{arguments.validation_split}")


def uses_bucketing(arguments) -> bool:
    """Length-bucketed batches, unless turned off, distributed, or compiled with XLA."""
    return not arguments.no_bucketing and arguments.distribute == "none" and not arguments.xla


def run_settings(arguments, data_dir) -> dict:
    """What run.json records: the resolved options, where the data came from, the tokeniser."""
    settings = cli.settings_from_arguments(arguments, exclude=NOT_SETTINGS)
    settings.update(data=str(data_dir) if data_dir is not None else "download",
                    tokenizer=TOKENIZER_NAME, bucketing=uses_bucketing(arguments))
    return settings


def targets_of(examples, head: str) -> dict:
    """{output name: (N,) array} that the model's outputs are trained on."""
    import numpy as np

    from apps.sentiment.model import RATING, SENTIMENT, rating_classes

    if head == "classes":
        return {SENTIMENT: examples.labels.astype(np.int32)}
    targets = {SENTIMENT: examples.labels.astype(np.float32)}
    if head == "stars":
        targets[RATING] = rating_classes(examples.ratings).astype(np.int32)
    return targets


def vectorizer_for(run_dir: Path, train_words: list, arguments, other_texts,
                   write: bool = True):
    """The run's vectorizer: read from vectorizer.json when resuming, else adapted (and saved
    when `write`). `other_texts()` gives the data set's other texts (its validation and test
    sentences or reviews); it is called, for their words only, with --glove-words data."""
    from apps.sentiment.vectorizer import (extend_vocabulary, load_vectorizer, make_vectorizer,
                                           save_vectorizer)

    path = run_dir / saved.VECTORIZER_FILE
    if path.is_file():
        return load_vectorizer(path)
    vectorizer = make_vectorizer(train_words, max_tokens=arguments.max_tokens,
                                 max_length=arguments.max_length, standardize=STANDARDIZE)
    if arguments.embeddings == "glove-50d" and arguments.glove_words == "data":
        from apps.common.glove import load_glove_50d

        words, _ = load_glove_50d()
        vectorizer, added = extend_vocabulary(vectorizer, split_all(other_texts()),
                                              known=frozenset(words))
        print(f"--glove-words data: {added:,} words of the validation and test text that GloVe "
              "knows and the training vocabulary lacks added to the vocabulary", flush=True)
    if write:
        save_vectorizer(vectorizer, path)
    return vectorizer


def other_texts(dataset: str, data_dir, data) -> list:
    """The validation texts and the test texts of the data set (words only, labels unused)."""
    from apps.sentiment.datasets import load_evaluation_data

    test = load_evaluation_data(dataset, data_dir, "test")
    return list(data["validation"].texts) + list(test.texts)


def best_accuracy_so_far(files: RunFiles, monitor: str):
    """(best value, its epoch from 0) among the epochs the backup counts as done, or Nones."""
    state = read_backup_state(files.backup_dir)
    if state is None:
        return None, None
    history = read_history(files.history_csv)
    best, best_epoch = None, None
    for epoch, value in zip(history.get("epoch", []), history.get(monitor, [])):
        if epoch < state.epoch and math.isfinite(value) and (best is None or value > best):
            best, best_epoch = value, epoch
    return best, best_epoch


def resume_epoch(files: RunFiles) -> int:
    """The epoch (from 0) that training starts or resumes at."""
    state = read_backup_state(files.backup_dir)
    return 0 if state is None else state.epoch


def make_callbacks(files: RunFiles, monitor: str, chief: bool = True, select: bool = True):
    """(best-accuracy checkpoint, epoch timer) for fit_with_recovery's extra_callbacks; the
    timer alone when `select` is False (--train-on train+validation keeps the last epoch).

    Workers other than the chief (multi-worker training) must save too (saving reads variables
    collectively), into a scratch folder of their own.
    """
    import keras

    folder = files.run_dir if chief else Path(tempfile.mkdtemp(prefix="worker-scratch-"))

    class BestAccuracyCheckpoint(keras.callbacks.Callback):
        """best-accuracy.keras: the model at the epoch with the highest `monitor` so far."""

        def __init__(self, path: Path, best, best_epoch):
            super().__init__()
            self.path, self.best, self.best_epoch = path, best, best_epoch

        def on_epoch_end(self, epoch, logs=None):
            value = (logs or {}).get(monitor)
            if value is None or not math.isfinite(float(value)):
                return
            if self.best is None or float(value) > self.best:
                atomic_save_model(self.model, self.path)
                self.best, self.best_epoch = float(value), epoch

    class EpochTimer(keras.callbacks.Callback):
        """timing.json: {epoch from 0: seconds}, validation and checkpoints included."""

        def __init__(self, path: Path):
            super().__init__()
            self.path, self.started = path, None

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            if self.started is None:
                return
            times = read_timing(self.path)
            times[str(epoch)] = round(time.perf_counter() - self.started, 3)
            atomic_write_json(self.path, times)

    timer = EpochTimer(folder / saved.TIMING_FILE)
    if not select:
        return (timer,)
    best, best_epoch = best_accuracy_so_far(files, monitor)
    return (BestAccuracyCheckpoint(folder / saved.BEST_ACCURACY_FILE, best, best_epoch), timer)


def read_timing(path: Path) -> dict:
    try:
        times = json.loads(Path(path).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return times if isinstance(times, dict) else {}


def model_factory(arguments, vocabulary_size: int, classes: int, embedding_matrix=None):
    """A function returning the built, compiled classifier of these settings."""
    from apps.common import training
    from apps.sentiment.model import build_model, compile_model, set_embedding_weights

    def build():
        model = build_model(
            vocabulary_size, head=arguments.head, classes=classes, cell=arguments.cell,
            units=arguments.units, layers=arguments.layers,
            bidirectional=arguments.bidirectional, embedding_dim=arguments.embedding_dim,
            embedding_dropout=arguments.embedding_dropout, dropout=arguments.dropout,
            pooling=arguments.pooling, bigrams=arguments.bigrams,
            bigram_dim=arguments.bigram_dim,
            train_embedding=not arguments.freeze_embeddings,
            adversarial=arguments.adversarial)
        if embedding_matrix is not None:
            set_embedding_weights(model, embedding_matrix)
        return compile_model(model, head=arguments.head, rating_weight=arguments.rating_weight,
                             optimizer_options=training.optimizer_options(arguments),
                             **training.compile_options(arguments))
    return build


def train(arguments) -> dict:
    """Train as the (preset-resolved) arguments say, resuming the run folder; return a summary."""
    check_arguments(arguments)
    data_dir = resolve_data_dir(arguments.dataset, arguments.data)
    data = load_training_data(arguments.dataset, data_dir, phrases=arguments.phrases,
                              validation_split=arguments.validation_split,
                              train_on=arguments.train_on)
    both = arguments.train_on == BOTH_SPLITS
    from apps.common import training
    from apps.sentiment.batching import TrainingBatches, evaluation_dataset
    from apps.sentiment.model import accuracy_log_name, glove_matrix, model_summary
    from apps.sentiment.vectorizer import vocabulary_of

    strategy = training.setup_training(arguments)
    started = time.perf_counter()
    for name in ("train", "validation"):
        print(describe(name, data[name]), flush=True)
    if both:
        print(f"--train-on {BOTH_SPLITS}: the validation texts are part of the training texts; "
              f"all {arguments.epochs} epochs are trained and the last is kept, and the "
              "validation accuracy logged is on texts the model trains on", flush=True)
    files = RunFiles(Path(arguments.run_dir))
    settings = run_settings(arguments, data_dir)
    chief = training.is_chief(strategy)  # only the chief writes (multi-worker training)
    check_run_settings(files, settings, may_change=MAY_CHANGE, added=ADDED_SETTINGS,
                       write=chief)
    train_words = split_all(data["train"].texts)
    vectorizer = vectorizer_for(
        files.run_dir, train_words, arguments,
        lambda: other_texts(arguments.dataset, data_dir, data), write=chief)
    vocabulary = vocabulary_of(vectorizer)
    if arguments.bigrams and len(vocabulary) > MAX_BIGRAM_VOCABULARY:
        raise UserError(f"--bigrams hashes token pairs in 32-bit integers, which needs a "
                        f"vocabulary of at most {MAX_BIGRAM_VOCABULARY:,} entries; this one has "
                        f"{len(vocabulary):,} (lower --max-tokens, or use --glove-words train)")
    train_encoded = saved.encode(vectorizer, train_words, split=False)
    validation_encoded = saved.encode(vectorizer, data["validation"].texts)
    kept = train_encoded.tokens > 0
    train_examples = data["train"].subset(kept.nonzero()[0])
    train_ids = train_encoded.ids[kept]
    print(f"vocabulary {len(vocabulary):,} entries; {train_encoded.truncated.mean():.1%} of the "
          f"training texts truncated at {arguments.max_length} tokens (their first "
          f"{arguments.max_length} kept)" + (f"; {int((~kept).sum())} empty texts left out"
                                            if (~kept).any() else ""), flush=True)
    matrix = None
    if arguments.embeddings == "glove-50d":
        try:
            matrix, hit_rate = glove_matrix(vocabulary, seed=arguments.seed)
        except ModuleNotFoundError as error:
            raise UserError(f"--embeddings glove-50d: {error}") from None
        print(f"GloVe 6B 50d: {hit_rate:.1%} of the vocabulary's words found", flush=True)
    elif arguments.embeddings == "cooccurrence":
        from apps.sentiment.cooccurrence import cooccurrence_matrix

        if arguments.embedding_dim >= len(vocabulary) - 2:
            raise UserError(f"--embeddings cooccurrence: --embedding-dim "
                            f"{arguments.embedding_dim} must be below the number of words in "
                            f"the vocabulary ({len(vocabulary) - 2:,}); lower --embedding-dim")
        began = time.perf_counter()
        matrix = cooccurrence_matrix(train_ids, len(vocabulary), arguments.embedding_dim,
                                     seed=arguments.seed)
        print(f"--embeddings cooccurrence: {arguments.embedding_dim}-dimensional vectors from "
              f"the training texts' word co-occurrences in {time.perf_counter() - began:.0f} s",
              flush=True)
    classes = len(data["train"].label_names)
    factory = model_factory(arguments, len(vocabulary), classes, matrix)
    monitor = accuracy_log_name(arguments.head)
    train_targets = targets_of(train_examples, arguments.head)
    validation_targets = targets_of(data["validation"], arguments.head)
    if uses_bucketing(arguments):
        batches = TrainingBatches(train_ids, train_targets, batch_size=arguments.batch_size,
                                  seed=arguments.seed, first_epoch=resume_epoch(files))
        train_data, batch_size, shuffle_seed = batches.dataset(), None, None
        validation_data = evaluation_dataset(validation_encoded.ids, validation_targets,
                                             arguments.batch_size)
    else:
        train_data = (train_ids, train_targets)
        validation_data = (validation_encoded.ids, validation_targets)
        batch_size, shuffle_seed = arguments.batch_size, arguments.seed
    steps = math.ceil(len(train_ids) / arguments.batch_size)
    print(f"{len(train_ids):,} training texts: {steps:,} batches of {arguments.batch_size} per "
          "epoch" + (", bucketed by length" if uses_bucketing(arguments) else ""), flush=True)
    callbacks = make_callbacks(files, monitor, chief, select=not both)
    if arguments.embeddings == "glove-50d" and arguments.unseen_neighbours:
        from apps.sentiment.model import glove_rows
        from apps.common.unseen_words import align_callback, neighbour_plan

        plan = neighbour_plan(matrix, glove_rows(vocabulary), train_ids,
                              arguments.unseen_neighbours)
        if plan is not None:
            print(f"--unseen-neighbours {arguments.unseen_neighbours}: the vectors of "
                  f"{plan.unseen.size:,} words training never reads follow their nearest "
                  "training words at each validation", flush=True)
            callbacks = (align_callback(plan),) + tuple(callbacks)
    result = training.fit_with_recovery(
        factory, train_data, validation_data, run_dir=files.run_dir, epochs=arguments.epochs,
        metadata=settings, batch_size=batch_size, shuffle_seed=shuffle_seed,
        save_every_steps=arguments.save_every_steps, logdir=arguments.logdir,
        verbose=not arguments.no_progress, strategy=strategy, may_change=MAY_CHANGE,
        added_settings=ADDED_SETTINGS, extra_callbacks=callbacks)
    if not chief:
        return {}
    info = export(files, result, arguments, settings, data, train_encoded, len(train_ids),
                  len(vocabulary), monitor)
    info["wall_seconds_this_call"] = round(time.perf_counter() - started, 1)
    print(model_summary(result.model), flush=True)
    print(format_summary(info, files.run_dir), flush=True)
    return info


def export(files: RunFiles, result, arguments, settings, data, train_encoded, train_count,
           vocabulary_size, monitor) -> dict:
    """Copy the chosen checkpoint to model.keras and write sentiment.json; return its content."""
    from apps.sentiment.model import RATING_VALUES

    both = arguments.train_on == BOTH_SPLITS
    candidates = ((files.last_model,) if both else
                  (files.run_dir / saved.BEST_ACCURACY_FILE, files.best_model, files.last_model))
    chosen = next((path for path in candidates if path.exists()), None)
    if chosen is None:
        raise UserError(f"{files.run_dir} holds no checkpoint after training; run the command "
                        "again")
    with replacing(files.run_dir / saved.MODEL_FILE) as temporary:
        shutil.copyfile(chosen, temporary)
    history = result.history
    accuracies = [float(value) for value in history.get(monitor, [])]
    best_epoch = (max(range(len(accuracies)), key=lambda index: (accuracies[index], -index))
                  if accuracies and not both else None)
    times = read_timing(files.run_dir / saved.TIMING_FILE)
    stars = (10 if arguments.head == "stars" else
             5 if data["train"].label_names == FINE_LABEL_NAMES else None)
    info = {"format": saved.SETTINGS_FORMAT, "version": saved.SETTINGS_VERSION,
            "dataset": arguments.dataset, "head": arguments.head,
            "label_names": list(data["train"].label_names),
            "rating_values": list(RATING_VALUES) if arguments.head == "stars" else None,
            "stars": stars, "tokenizer": TOKENIZER_NAME, "max_length": arguments.max_length,
            "vocabulary_size": vocabulary_size, "model_file_from": chosen.name,
            "examples": {"train": train_count, "validation": len(data["validation"])},
            "truncated_train_fraction": round(float(train_encoded.truncated.mean()), 5),
            "epochs_done": result.epochs_done,
            "best_epoch": None if best_epoch is None else best_epoch + 1,
            "best_validation_accuracy": None if best_epoch is None else accuracies[best_epoch],
            "validation_accuracy_per_epoch": accuracies, "train_on": arguments.train_on,
            "training_seconds": round(sum(float(value) for value in times.values()), 1),
            "seconds_per_epoch": {str(int(epoch) + 1): value for epoch, value in times.items()},
            "settings": settings}
    atomic_write_json(files.run_dir / saved.SETTINGS_FILE, info)
    return info


def format_summary(info: dict, run_dir: Path) -> str:
    parts = [f"trained {info['epochs_done']} epochs in {info['training_seconds']:.0f} s"]
    if info.get("train_on") == BOTH_SPLITS:
        parts.append(f"the last epoch kept (--train-on {BOTH_SPLITS})")
    if info["best_epoch"] is not None:
        parts.append(f"best validation accuracy {info['best_validation_accuracy']:.2%} at epoch "
                     f"{info['best_epoch']}")
    return ("; ".join(parts) + f"; model saved to {run_dir / saved.MODEL_FILE} (evaluate: "
            f"python -m apps.sentiment evaluate --run-dir {run_dir})")
