"""Training that people can trust with hours of work: resumable, atomic, loud about nan.

Every app's `train` command does the same four things:

    strategy = training.setup_training(arguments)   # strategy, seed, precision, device line
    result = training.fit_with_recovery(
        build_model, (x_train, y_train), (x_valid, y_valid),
        run_dir=arguments.run_dir, epochs=arguments.epochs, batch_size=arguments.batch_size,
        shuffle_seed=arguments.seed, save_every_steps=arguments.save_every_steps,
        logdir=arguments.logdir, verbose=not arguments.no_progress, strategy=strategy,
        metadata=cli.settings_from_arguments(arguments) | {"vocabulary": str(vocabulary_path)})

where `build_model()` returns a built (keras.Input) and compiled model, e.g. compiled with
`keras.optimizers.Adam(**training.optimizer_options(arguments))` and
`**training.compile_options(arguments)`.

What `fit_with_recovery` guarantees (the files are listed in `apps.common.run_folder`):

* Resuming. The training state (weights, optimizer, epoch, step inside the epoch, metric and
  random-generator states) is backed up in run_dir/backup every `save_every_steps` steps and at
  every epoch end. Rerunning the same command after a crash, Ctrl-C or SIGKILL continues from
  the last backup and skips the batches already trained in that epoch; with the same seed on
  CPU the result equals that of a run never interrupted (tests/apps/common checks this).
  Exact equality needs a data order that depends only on the epoch: arrays given to
  `fit_with_recovery` are shuffled with a stateless generator keyed on (shuffle_seed, epoch);
  a tf.data.Dataset must yield the same batches at every pass (or it resumes with another
  order: still correct training, not bit-equal).
* run.json. A run folder is resumed only by a command with the same settings (`metadata`),
  apart from --epochs and options that do not change the computation; otherwise UserError.
* Checkpoints. last.keras (every epoch) and best.keras (lowest val_loss) are whole models,
  written to a temporary file and renamed, so they are never partial.
* nan. The first batch with a nan or inf loss stops training with a UserError naming the epoch
  and step; nothing is saved from the bad weights, last.keras stays as it was.
* history.csv (appended) and loss.png after every epoch; TensorBoard when `logdir` is given.

Under MultiWorkerMirroredStrategy only the chief (worker 0) writes files and prints; run_dir
must be on a file system that every worker sees for the workers to resume together.

Importing this module imports TensorFlow (quietly, see `cli.import_tensorflow_quietly`).
"""
import contextlib
import dataclasses
import json
import math
import os
import shutil
import tempfile
from pathlib import Path

from apps.common.cli import import_tensorflow_quietly

tf = import_tensorflow_quietly()
import keras  # noqa: E402  (after TensorFlow's quiet import)
import numpy as np  # noqa: E402

from apps.common.atomic import atomic_save_model, atomic_write_bytes  # noqa: E402,F401
from apps.common.atomic import atomic_write_json, atomic_write_text  # noqa: E402,F401
from apps.common.callbacks import (BestSoFar, LossCurvePlot, ModelCheckpoints,  # noqa: E402
                                   NaNGuard, RunProgress, StepBackup,
                                   read_backup_state, read_history,
                                   restore_backup)
from apps.common.errors import UserError  # noqa: E402
from apps.common.run_folder import (RESUMABLE_CHANGES, RunFiles,  # noqa: E402
                                    check_run_settings, locked)


# ----------------------------------------------------------------------------------------------
# Seed, device, strategy, precision.

def set_seed(seed: int, deterministic: bool = True) -> None:
    """Seed Python, NumPy, TensorFlow and Keras, and ask TensorFlow for deterministic kernels.

    CPU: with the same seed, thread count and library versions a training run repeats exactly
    (tests/apps/common checks it bit for bit for a SimpleRNN with dropout, across a SIGKILL and
    resume). GPU: `tf.config.experimental.enable_op_determinism()` selects deterministic
    cuDNN/cuBLAS algorithms where they exist (slower), but not every GPU kernel has one; ops
    without one raise UnimplementedError naming the op. Pass deterministic=False there to
    trade exactness for speed and coverage; the seed still fixes the initial weights, the
    shuffling and the dropout masks.
    """
    keras.utils.set_random_seed(int(seed))
    if deterministic:
        with contextlib.suppress(AttributeError, RuntimeError):
            tf.config.experimental.enable_op_determinism()


def describe_device() -> str:
    """One line naming the device(s) and versions, e.g. "running on CPU (2 threads) with ..."."""
    versions = f"tensorflow {tf.__version__}, keras {keras.__version__}"
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return f"running on CPU ({cpu_thread_count()} threads) with {versions}"
    names = [gpu_name(gpu) for gpu in gpus]
    if len(names) == 1:
        return f"running on GPU: {names[0]} with {versions}"
    return f"running on {len(names)} GPUs: {', '.join(names)} with {versions}"


def cpu_thread_count() -> int:
    """The threads TensorFlow's ops may use: its setting, else the CPUs this process may use."""
    configured = tf.config.threading.get_intra_op_parallelism_threads()
    if configured:
        return configured
    with contextlib.suppress(AttributeError):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def gpu_name(gpu) -> str:
    with contextlib.suppress(Exception):
        return tf.config.experimental.get_device_details(gpu).get("device_name") or gpu.name
    return gpu.name


def log_device() -> None:
    """Print `describe_device()` (every app logs which device it runs on)."""
    print(describe_device(), flush=True)


def make_strategy(name: str = "none"):
    """The tf.distribute strategy for --distribute: "none", "mirrored" or "multiworker".

    none: the default strategy (one device). mirrored: MirroredStrategy over this machine's
    GPUs, or over its logical CPUs when it has no GPU (tests split the CPU in two with
    tf.config.set_logical_device_configuration). multiworker: MultiWorkerMirroredStrategy over
    the cluster in the TF_CONFIG environment variable (UserError when it is missing or not
    JSON). Call it first, before any other TensorFlow work (set_seed included): the
    multi-worker strategy must configure the runtime before it starts.
    """
    if name == "none":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = gpus or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([device.name for device in devices])
    if name == "multiworker":
        require_tf_config()
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise UserError(f"unknown --distribute {name!r}; choose none, mirrored or multiworker")


def require_tf_config() -> dict:
    """The parsed TF_CONFIG environment variable, or a UserError saying how to set it."""
    example = ('TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
               '"task": {"type": "worker", "index": 0}}\'')
    text = os.environ.get("TF_CONFIG", "").strip()
    if not text:
        raise UserError("--distribute multiworker needs the TF_CONFIG environment variable on "
                        f"every worker, e.g. {example} (index 1 on the second)")
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise UserError(f"TF_CONFIG is not valid JSON ({error}); expected e.g. {example}") from None
    if not isinstance(config, dict) or "cluster" not in config or "task" not in config:
        raise UserError(f"TF_CONFIG needs \"cluster\" and \"task\"; expected e.g. {example}")
    return config


def is_chief(strategy=None) -> bool:
    """True in the process that writes files: always, except on multi-worker workers > 0."""
    resolver = getattr(strategy, "cluster_resolver", None)
    task_type = getattr(resolver, "task_type", None)
    if not task_type:
        return True
    cluster = resolver.cluster_spec().as_dict()
    if "chief" in cluster:
        return task_type == "chief"
    return task_type == "worker" and int(resolver.task_id or 0) == 0


def configure_precision(mixed_precision: bool) -> str:
    """Set Keras's global dtype policy for --mixed-precision and return its name.

    mixed_float16 on GPU (Keras then scales the loss), mixed_bfloat16 on CPU, float32 without
    the option. Call before building the model.
    """
    policy = "float32"
    if mixed_precision:
        policy = "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"
    keras.mixed_precision.set_global_policy(policy)
    return policy


def compile_options(arguments) -> dict:
    """Keyword arguments for `model.compile` from the train options: {"jit_compile": --xla}."""
    return {"jit_compile": bool(getattr(arguments, "xla", False))}


def optimizer_options(arguments) -> dict:
    """Keyword arguments for a Keras optimizer: learning_rate, and clipnorm or clipvalue if set."""
    options = {"learning_rate": arguments.learning_rate}
    for name in ("clipnorm", "clipvalue"):
        if getattr(arguments, name, None) is not None:
            options[name] = getattr(arguments, name)
    return options


def setup_training(arguments):
    """The start of every train command; returns the strategy.

    In this order: `make_strategy(--distribute)`, `set_seed(--seed)` (without deterministic
    ops under --xla),
    `configure_precision(--mixed-precision)`, `log_device()` (plus the replica count when
    distributed).
    """
    strategy = make_strategy(arguments.distribute)
    xla = bool(getattr(arguments, "xla", False))
    # Keras will not compile with XLA while TensorFlow's deterministic-op mode is on (it turns
    # jit_compile off with a warning), so --xla leaves that mode off.
    set_seed(arguments.seed, deterministic=not xla)
    configure_precision(arguments.mixed_precision)
    if is_chief(strategy):
        log_device()
        if xla:
            print("--xla: TensorFlow's deterministic-op mode is off (XLA does not compile under "
                  "it); the seed still fixes weights, order and dropout, but a rerun may differ "
                  "in rounding", flush=True)
        if strategy.num_replicas_in_sync > 1:
            print(f"distributing over {strategy.num_replicas_in_sync} replicas "
                  f"(--distribute {arguments.distribute})", flush=True)
    return strategy


# ----------------------------------------------------------------------------------------------
# The training batches of every epoch.

@dataclasses.dataclass(frozen=True)
class EpochBatches:
    """The training batches, epoch by epoch, in an order that depends only on the epoch."""

    steps_per_epoch: int  # batches in one epoch
    make_epochs: object  # (first, stop) -> tf.data.Dataset of the batches of epochs first..stop-1

    def epoch(self, epoch: int, skip: int = 0):
        """The batches of one epoch, without its first `skip` batches (a resumed epoch)."""
        return self.make_epochs(epoch, epoch + 1).skip(skip)


def training_batches(train_data, batch_size: int | None, shuffle_seed: int | None,
                     examples_per_epoch: int | None = None) -> EpochBatches:
    """`train_data` (arrays or a tf.data.Dataset of batches) as EpochBatches.

    Arrays: a tuple (x, y) or (x, y, sample_weight), each an array or a dict/list of arrays of
    equal length; batched by `batch_size` (required); shuffled per epoch by a stateless
    generator keyed on (shuffle_seed, epoch), kept in order when shuffle_seed is None; with
    `examples_per_epoch`, each epoch is the first that many examples of its order (a different
    subset every epoch, still a function of (shuffle_seed, epoch) alone, so a resumed run sees
    exactly the examples an uninterrupted one would).
    A tf.data.Dataset: already batched, finite (one epoch), repeated as it is.
    """
    if isinstance(train_data, tf.data.Dataset):
        if examples_per_epoch is not None:
            raise ValueError("examples_per_epoch applies to training arrays, not to a dataset")
        return batches_from_dataset(train_data)
    if batch_size is None:
        raise ValueError("fit_with_recovery needs batch_size when train_data holds arrays")
    return batches_from_arrays(as_tensors(train_data), int(batch_size), shuffle_seed,
                               examples_per_epoch)


def as_tensors(arrays):
    """A tuple (x, y[, sample_weight]) of arrays as tensors, float64 cast to Keras's floatx."""
    if not isinstance(arrays, (tuple, list)) or not 1 <= len(arrays) <= 3:
        raise ValueError("training arrays must be a tuple (x, y) or (x, y, sample_weight); got "
                         f"{type(arrays).__name__}")
    def convert(array):
        array = np.asarray(array) if not tf.is_tensor(array) else array
        if array.dtype == np.float64 or array.dtype == tf.float64:
            return tf.convert_to_tensor(array, dtype=keras.config.floatx())
        return tf.convert_to_tensor(array)
    return tf.nest.map_structure(convert, tuple(arrays))


def batches_from_arrays(tensors, batch_size: int, shuffle_seed: int | None,
                        examples_per_epoch: int | None = None) -> EpochBatches:
    lengths = {int(leaf.shape[0]) for leaf in tf.nest.flatten(tensors)}
    if len(lengths) != 1 or 0 in lengths:
        raise ValueError(f"training arrays must be non-empty and of one length; got lengths "
                         f"{sorted(lengths)}")
    count = lengths.pop()
    per_epoch = count if examples_per_epoch is None else int(examples_per_epoch)
    if not 1 <= per_epoch <= count:
        raise ValueError(f"examples_per_epoch must be in 1..{count} (the training examples); "
                         f"received {examples_per_epoch}")

    def epoch_order(epoch):
        if shuffle_seed is None:
            order = tf.range(count, dtype=tf.int64)
        else:
            seed = tf.stack([tf.constant(int(shuffle_seed), tf.int64), tf.cast(epoch, tf.int64)])
            keys = tf.random.stateless_uniform([count], seed=seed)
            order = tf.argsort(keys, stable=True)
        return tf.data.Dataset.from_tensor_slices(order[:per_epoch]).batch(batch_size)

    def gather(indices):
        return tf.nest.map_structure(lambda tensor: tf.gather(tensor, indices), tensors)

    def make_epochs(first, stop):
        dataset = (tf.data.Dataset.range(first, stop).flat_map(epoch_order)
                   .map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
                   .prefetch(tf.data.AUTOTUNE))
        return with_distribution_options(dataset)

    return EpochBatches(math.ceil(per_epoch / batch_size), make_epochs)


def batches_from_dataset(dataset) -> EpochBatches:
    steps = int(dataset.cardinality())
    if steps == tf.data.INFINITE_CARDINALITY:
        raise ValueError("train_data is an infinite dataset; give fit_with_recovery one epoch "
                         "of batches (no .repeat())")
    if steps == tf.data.UNKNOWN_CARDINALITY:
        steps = int(dataset.reduce(np.int64(0), lambda total, _: total + 1))
    if steps == 0:
        raise ValueError("train_data is an empty dataset")
    dataset = with_distribution_options(dataset)
    return EpochBatches(steps, lambda first, stop: dataset.repeat(stop - first))


def validation_batches(validation_data, batch_size: int | None):
    """`validation_data` (None, arrays or a batched tf.data.Dataset) as a Dataset or None."""
    if validation_data is None or isinstance(validation_data, tf.data.Dataset):
        return None if validation_data is None else with_distribution_options(validation_data)
    if batch_size is None:
        raise ValueError("fit_with_recovery needs batch_size when validation_data holds arrays")
    dataset = tf.data.Dataset.from_tensor_slices(as_tensors(validation_data)).batch(batch_size)
    return with_distribution_options(dataset)


def with_distribution_options(dataset):
    """Deterministic order, and sharding by data (each worker takes its part of each batch)."""
    options = tf.data.Options()
    options.deterministic = True
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


# ----------------------------------------------------------------------------------------------
# fit_with_recovery.

@dataclasses.dataclass
class TrainingResult:
    """What `fit_with_recovery` returns."""

    model: object  # the keras.Model after the last step trained (best.keras holds the best epoch)
    history: dict  # column -> per-epoch values of the whole run, from history.csv (on workers
    #                other than the chief: of this call only)
    epochs_done: int  # epochs completed in the run folder, this call's and earlier ones
    resumed_from: tuple | None  # (epoch from 1, steps already done in it), None for a new start
    stopped_early: bool  # a callback (e.g. EarlyStopping) ended training before `epochs`
    files: RunFiles  # the paths of the run folder


@dataclasses.dataclass
class _Plan:
    """Everything one `model.fit` call of a run needs beyond its data and epochs."""

    files: RunFiles  # the run folder, read to resume
    output: RunFiles  # where this process writes: the run folder, or scratch on other workers
    chief: bool  # this process writes the run folder and prints
    best: BestSoFar  # the lowest monitored loss so far
    monitor: str  # "val_loss" or "loss"
    steps_per_epoch: int  # batches in a full epoch
    save_every_steps: int | None  # backup frequency inside an epoch
    logdir: str | None  # TensorBoard folder
    extra_callbacks: tuple  # the caller's callbacks, between the checkpoints and the backup
    verbose: int  # Keras's verbose: 1 progress bar, 2 one line per epoch, 0 silent
    total_epochs: int  # the run's total epochs, for "Epoch 3/10"


def fit_with_recovery(model_factory, train_data, validation_data=None, *, run_dir, epochs: int,
                      metadata: dict, batch_size: int | None = None,
                      shuffle_seed: int | None = None, examples_per_epoch: int | None = None,
                      save_every_steps: int | None = None,
                      logdir=None, extra_callbacks=(), verbose: bool = True, strategy=None,
                      may_change=RESUMABLE_CHANGES, added_settings=None) -> TrainingResult:
    """Train `model_factory()` for `epochs` epochs in total, resuming what `run_dir` holds.

    model_factory: called without arguments inside `strategy.scope()`; returns a built and
        compiled keras.Model.
    train_data, validation_data: see `training_batches` / `validation_batches`.
    shuffle_seed, examples_per_epoch: see `training_batches`.
    run_dir: the run folder (created; see apps.common.run_folder for its files).
    epochs: the total, counting the epochs of earlier, interrupted calls.
    metadata: the command's settings (JSON-ready), recorded in run.json; resuming with other
        values for keys outside `may_change` raises UserError; `added_settings` {name: value}
        are settings newer than older records, which count as holding that value.
    save_every_steps: back up inside each epoch every N steps (None: at epoch ends only).
    logdir: TensorBoard folder, or None. extra_callbacks: more Keras callbacks (they see one
        `fit` for the resumed part of an epoch and one for the rest, so a stateful one such as
        EarlyStopping restarts its patience there). verbose: progress bar (True) or one line
        per epoch (False). strategy: a tf.distribute strategy (default: the current one).

    Raises UserError for a nan/inf loss, a foreign or busy run folder, different settings, or a
    damaged backup.
    """
    strategy = strategy or tf.distribute.get_strategy()
    files = RunFiles(Path(run_dir))
    chief = is_chief(strategy)
    with locked(files) if chief else contextlib.nullcontext():
        check_run_settings(files, metadata, may_change=may_change, added=added_settings,
                           write=chief)
        batches = training_batches(train_data, batch_size, shuffle_seed, examples_per_epoch)
        validation = validation_batches(validation_data, batch_size)
        with output_folder(files, chief) as output:
            plan = _Plan(files, output, chief, BestSoFar(),
                         "val_loss" if validation is not None else "loss",
                         batches.steps_per_epoch, save_every_steps,
                         logdir if chief or not logdir else output.run_dir / "tensorboard",
                         tuple(extra_callbacks), (1 if verbose else 2) if chief else 0, epochs)
            return _train(model_factory, batches, validation, epochs, plan, strategy)


@contextlib.contextmanager
def output_folder(files: RunFiles, chief: bool):
    """The run folder for the chief; a scratch folder, removed afterwards, for other workers.

    Under MultiWorkerMirroredStrategy every worker must save (saving reads variables with
    collective operations, which all workers join), but only the chief's files are kept: the
    pattern TensorFlow's multi-worker guide recommends.
    """
    if chief:
        yield files
        return
    scratch = Path(tempfile.mkdtemp(prefix="worker-scratch-"))
    try:
        yield RunFiles(scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _train(model_factory, batches: EpochBatches, validation, epochs: int, plan: _Plan,
           strategy) -> TrainingResult:
    say = print if plan.chief else (lambda *args, **kwargs: None)
    with strategy.scope():
        model = model_factory()
        _check_model(model)
        if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
            build_from_local_batch(model, strategy)
            average_step_logs_over_workers()
        state = read_backup_state(plan.files.backup_dir)
        if state is not None:
            restore_backup(model, plan.files.backup_dir, state)
    epoch, step = (state.epoch, state.step) if state else (0, 0)
    if step >= plan.steps_per_epoch:
        raise UserError(f"the backup in {plan.files.backup_dir} is at step {step} of epoch "
                        f"{epoch + 1}, but an epoch now has {plan.steps_per_epoch} steps: the "
                        "training data changed since the run started; pass a new --run-dir")
    if state is not None:
        plan.best.value, plan.best.epoch = state.best_value, state.best_epoch
        say(f"resuming {plan.files.run_dir}: {_position(epoch, step, plan.steps_per_epoch)}",
            flush=True)
    resumed_from = (epoch + 1, step) if state else None
    if epoch >= epochs:
        say(f"{plan.files.run_dir} has already trained {epoch} epochs, as many as --epochs "
            f"{epochs} asks; pass a larger --epochs to train longer", flush=True)
    histories = []
    if step > 0 and epoch < epochs:
        metrics_file = plan.files.backup_dir / state.extra_file
        histories.append(_fit(model, batches.epoch(epoch, skip=step), validation, epoch,
                              epoch + 1, plan.steps_per_epoch - step, plan, step, metrics_file))
        epoch += 1
    stopped_early = bool(histories) and bool(model.stop_training)
    if epoch < epochs and not stopped_early:
        histories.append(_fit(model, batches.make_epochs(epoch, epochs), validation, epoch,
                              epochs, plan.steps_per_epoch, plan))
        stopped_early = bool(model.stop_training)
    epochs_done = (state.epoch if state else 0) + sum(len(history.epoch) for history in histories)
    history = read_history(plan.output.history_csv)
    return TrainingResult(model, history, epochs_done, resumed_from, stopped_early, plan.files)


def _position(epoch: int, step: int, steps_per_epoch: int) -> str:
    if step == 0:
        return f"{epoch} epochs done, continuing with epoch {epoch + 1}"
    return f"continuing epoch {epoch + 1} after step {step} of {steps_per_epoch}"


def _check_model(model) -> None:
    if not isinstance(model, keras.Model):
        raise ValueError(f"model_factory must return a keras.Model; got {type(model).__name__}")
    if not model.built:
        raise ValueError("model_factory must return a built model (start it with keras.Input) "
                         "so that a backup can be loaded into it")
    if getattr(model, "optimizer", None) is None:
        raise ValueError("model_factory must return a compiled model (call model.compile)")


def _fit(model, data, validation, first_epoch: int, stop_epoch: int, steps: int, plan: _Plan,
         step_offset: int = 0, metrics_file: Path | None = None):
    callbacks = _callbacks(plan, step_offset, metrics_file)
    return model.fit(data, validation_data=validation, initial_epoch=first_epoch,
                     epochs=stop_epoch, steps_per_epoch=steps, shuffle=False, callbacks=callbacks,
                     verbose=plan.verbose)


def _callbacks(plan: _Plan, step_offset: int, metrics_file: Path | None) -> list:
    output, last_model = plan.output, plan.files.last_model
    callbacks = [NaNGuard(last_model, step_offset)]
    if plan.verbose:
        callbacks.append(RunProgress(plan.total_epochs))
    callbacks += [ModelCheckpoints(output.last_model, output.best_model, plan.best, plan.monitor,
                                   last_model),
                  keras.callbacks.CSVLogger(str(output.history_csv), append=True),
                  LossCurvePlot(output.history_csv, output.loss_plot, str(plan.files.run_dir))]
    if plan.logdir:
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(plan.logdir)))
    callbacks += list(plan.extra_callbacks)
    callbacks.append(StepBackup(output.backup_dir, save_every_steps=plan.save_every_steps,
                                steps_per_epoch=plan.steps_per_epoch, best=plan.best,
                                last_model=last_model, step_offset=step_offset,
                                restore_metrics_from=metrics_file))
    return callbacks


# Keras 3.15's TensorFlow trainer fails under MultiWorkerMirroredStrategy with several workers
# (keras-team/keras#20585) in two places; these two workarounds make `fit` and `evaluate` run.

def build_from_local_batch(model, strategy) -> None:
    """Make `model` build its metrics from the local replica's part of the first batch.

    Before training, Keras builds the model's metrics from one batch, which it first averages
    over the replicas with `strategy.reduce("MEAN", batch)`; with several workers that call
    fails ("Attempt to convert a value (PerReplica...) ... to a Tensor"). The batch serves only
    for its shapes and dtypes, so the local part does as well, with no communication.
    """
    keras_build = model._maybe_symbolic_build

    def local_part(value):
        if isinstance(value, tf.distribute.DistributedValues):
            return strategy.experimental_local_results(value)[0]
        return value

    def symbolic_build(iterator=None, data_batch=None):
        if iterator is not None:
            for _, _, batches in iterator:
                data_batch = tf.nest.map_structure(local_part, next(batches))
                break
        return keras_build(data_batch=data_batch)

    model._maybe_symbolic_build = symbolic_build


def average_step_logs_over_workers() -> None:
    """Make Keras average each step's logs over the replicas value by value (once per process).

    Keras's `reduce_per_replica` averages them with `strategy.reduce("MEAN", value, axis=0)`
    on several workers, which fails for the scalar loss ("Invalid reduction dimension 0 for
    input with 0 dimensions"); with one worker it averages the replicas' values element by
    element, which is `axis=None`. Only multi-worker "mean" reductions are changed.
    """
    from keras.src.backend.tensorflow import trainer as tensorflow_trainer

    keras_reduce = tensorflow_trainer.reduce_per_replica
    if getattr(keras_reduce, "averages_over_workers", False):
        return

    def reduce_per_replica(values, strategy, reduction):
        multi_worker = (isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
                        and strategy.extended._in_multi_worker_mode())
        if not multi_worker or reduction not in ("auto", "mean"):
            return keras_reduce(values, strategy, reduction)
        return tf.nest.map_structure(lambda value: strategy.reduce("MEAN", value, axis=None),
                                     values)

    reduce_per_replica.averages_over_workers = True
    tensorflow_trainer.reduce_per_replica = reduce_per_replica
