"""What every app's `__main__.py` shares: error handling, the common train options, quiet TF.

    def main(argv=None) -> int:
        parser = argparse.ArgumentParser(prog="python -m apps.charlm")
        ...
        train = commands.add_parser("train", help="train a model")
        cli.add_training_arguments(train, run_dir="runs/charlm", epochs=20)
        arguments = parser.parse_args(argv)
        return cli.run_command(arguments.function, arguments, expected_errors=(CorpusError,))

    if __name__ == "__main__":
        sys.exit(main())

`run_command` turns the errors a user can fix into `error: <one line>` on stderr and exit status
2, Ctrl-C into exit status 130 with a hint that the same command resumes; every other exception
is a bug and propagates with its traceback.

`quiet_tensorflow` (environment and Python loggers, before TensorFlow is imported) and
`import_tensorflow_quietly` (drops TensorFlow's C++ start-up notices about oneDNN and missing CUDA
drivers, which TF_CPP_MIN_LOG_LEVEL does not reach) keep the terminal for the app's own output.
"""
import argparse
import functools
import importlib
import logging
import os
import re
import sys
import tempfile

from apps.common.errors import UserError, one_line

ALWAYS_EXPECTED_ERRORS = (UserError, FileNotFoundError, FileExistsError)
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
INTERRUPTED_MESSAGE = "interrupted; run the same command again to resume"
DISTRIBUTE_CHOICES = ("none", "mirrored", "multiworker")


def error_message(error: BaseException) -> str:
    """The one-line text for an expected error; OS errors read `<reason>: <path>`."""
    if isinstance(error, OSError) and error.strerror and error.filename is not None:
        return one_line(f"{error.strerror}: {error.filename}")
    return one_line(error) or type(error).__name__


def run_command(function, *args, expected_errors: tuple = (), **kwargs) -> int:
    """Call `function(*args, **kwargs)` and return the process exit status.

    The function's own int result is returned (None counts as 0). UserError, FileNotFoundError,
    FileExistsError and the exception classes in `expected_errors` print `error: <message>` (one
    line) to stderr and return 2; KeyboardInterrupt prints `interrupted; run the same command
    again to resume` and returns 130. Anything else propagates with its traceback.
    """
    handled = ALWAYS_EXPECTED_ERRORS + tuple(expected_errors)
    try:
        result = function(*args, **kwargs)
    except KeyboardInterrupt:
        print(INTERRUPTED_MESSAGE, file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    except handled as error:
        print(f"error: {error_message(error)}", file=sys.stderr, flush=True)
        return EXIT_USER_ERROR
    return 0 if result is None else int(result)


def main_guard(*expected_errors):
    """Decorator form of `run_command`: `@main_guard(CorpusError)` or bare `@main_guard`.

    The decorated function returns the exit status instead of raising the expected errors.
    """
    if len(expected_errors) == 1 and not _is_exception_class(expected_errors[0]):
        return main_guard()(expected_errors[0])

    def decorate(function):
        @functools.wraps(function)
        def guarded(*args, **kwargs):
            return run_command(function, *args, expected_errors=expected_errors, **kwargs)
        return guarded
    return decorate


def _is_exception_class(value) -> bool:
    return isinstance(value, type) and issubclass(value, BaseException)


# ----------------------------------------------------------------------------------------------
# The common `train` options.

def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = _parse(int, text, "a whole number")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text}")
    return value


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    value = _parse(int, text, "a whole number")
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    value = _parse(float, text, "a number")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text}")
    return value


def non_negative_float(text: str) -> float:
    """argparse type: a finite number >= 0."""
    value = _parse(float, text, "a number")
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text}")
    return value


def _parse(kind, text: str, description: str):
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {description}, got {text!r}") from None


def add_training_arguments(parser: argparse.ArgumentParser, *, run_dir: str | None = None,
                           epochs: int = 10, batch_size: int = 32, learning_rate: float = 1e-3,
                           seed: int = 0) -> argparse._ArgumentGroup:
    """Add the options every `train` command shares (an argument group); return the group.

    The keyword arguments are the app's defaults; `run_dir=None` makes --run-dir required.
    Destinations: run_dir, epochs, batch_size, learning_rate, seed, clipnorm, clipvalue, logdir,
    distribute, mixed_precision, xla, save_every_steps, no_progress.
    """
    group = parser.add_argument_group("training")
    group.add_argument("--run-dir", required=run_dir is None, default=run_dir, metavar="DIR",
                       help="folder for this run's checkpoints (best.keras, last.keras), backup, "
                            "history.csv, loss.png and run.json; rerunning the same command with "
                            "the same folder resumes an interrupted run"
                            + ("" if run_dir is None else " (default: %(default)s)"))
    group.add_argument("--epochs", type=positive_int, default=epochs, metavar="N",
                       help="total number of passes over the training data, counting epochs "
                            "already done by an interrupted run (default: %(default)s)")
    group.add_argument("--batch-size", type=positive_int, default=batch_size, metavar="N",
                       help="examples per training step, over all devices (default: %(default)s)")
    group.add_argument("--learning-rate", type=positive_float, default=learning_rate,
                       metavar="RATE", help="optimizer step size (default: %(default)s)")
    group.add_argument("--seed", type=non_negative_int, default=seed, metavar="N",
                       help="random seed for weights, shuffling and dropout; the same seed gives "
                            "the same run on CPU (default: %(default)s)")
    clipping = group.add_mutually_exclusive_group()
    clipping.add_argument("--clipnorm", type=positive_float, default=None, metavar="NORM",
                          help="rescale each weight's gradient to at most this L2 norm, against "
                               "exploding gradients (default: no clipping)")
    clipping.add_argument("--clipvalue", type=positive_float, default=None, metavar="VALUE",
                          help="clip each gradient element to [-VALUE, VALUE] "
                               "(default: no clipping)")
    group.add_argument("--logdir", default=None, metavar="DIR",
                       help="also write TensorBoard logs to this folder (default: none)")
    group.add_argument("--distribute", choices=DISTRIBUTE_CHOICES, default="none",
                       help="none: one device; mirrored: all GPUs of this machine (or its logical "
                            "CPUs); multiworker: several machines described by the TF_CONFIG "
                            "environment variable (default: %(default)s)")
    group.add_argument("--mixed-precision", action="store_true",
                       help="compute in 16-bit floats, keep weights in 32-bit (faster on recent "
                            "GPUs; float16 on GPU, bfloat16 on CPU)")
    group.add_argument("--xla", action="store_true",
                       help="compile the training step with XLA (often faster on GPU; "
                            "off by default). It compiles once per batch shape, so the first "
                            "epoch of length-bucketed batches is slow, and it leaves "
                            "TensorFlow's deterministic-op mode off")
    group.add_argument("--save-every-steps", type=positive_int, default=None, metavar="N",
                       help="also back up the training state every N steps inside an epoch, so "
                            "that an interrupted run loses at most N steps (default: back up at "
                            "the end of each epoch only)")
    group.add_argument("--no-progress", action="store_true",
                       help="print one line per epoch instead of a progress bar (for logs)")
    return group


def resolve_clipping(arguments: argparse.Namespace, *, clipnorm: float | None = None,
                     clipvalue: float | None = None) -> tuple:
    """(clipnorm, clipvalue) for training: none with --no-clipping, the user's --clipnorm or
    --clipvalue when given, else the app's default (`clipnorm` or `clipvalue`)."""
    if getattr(arguments, "no_clipping", False):
        return None, None
    if arguments.clipnorm is None and arguments.clipvalue is None:
        return clipnorm, clipvalue
    return arguments.clipnorm, arguments.clipvalue


def check_single_device(adversarial: float, distribute: str) -> None:
    """UserError for --adversarial EPS > 0 with a --distribute strategy: the adversarial step
    (apps.common.adversarial) keeps its perturbation on the layer and runs on one device."""
    if adversarial and distribute != "none":
        raise UserError(f"--adversarial trains on one device; leave out --distribute "
                        f"{distribute}, or pass --adversarial 0")


def settings_from_arguments(arguments: argparse.Namespace, exclude=()) -> dict:
    """The parsed options as a JSON-ready dict for run.json (paths become strings).

    Callables (e.g. a `function` set with `set_defaults`) and the names in `exclude` are left
    out.
    """
    settings = {}
    for name, value in sorted(vars(arguments).items()):
        if name in exclude or callable(value):
            continue
        settings[name] = os.fspath(value) if isinstance(value, os.PathLike) else value
    return settings


# ----------------------------------------------------------------------------------------------
# A quiet TensorFlow.

# TensorFlow's C++ log lines look like "I0000 00:00:1795325671.321016    9008 port.cc:153] ...".
_NATIVE_LOG_LINE = re.compile(r"^([IWEF])\d{4} [\d:.]+\s+\d+ \S+:\d+\] ")
_NATIVE_LOG_PREAMBLE = "WARNING: All log messages before absl::InitializeLog() is called"
_LEVEL_OF_SEVERITY = {"I": 0, "W": 1, "E": 2, "F": 3}


def quiet_tensorflow() -> None:
    """Silence TensorFlow's and absl's informational output; call before importing TensorFlow.

    Sets TF_CPP_MIN_LOG_LEVEL=3 (C++ errors hidden too, but not fatal ones) and
    GRPC_VERBOSITY=ERROR unless the environment already sets them (so TF_CPP_MIN_LOG_LEVEL=0 on
    the command line still shows everything when debugging), and lowers the Python loggers
    `tensorflow` and `absl` to errors only.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    try:
        import absl.logging
    except ImportError:
        return
    absl.logging.set_verbosity(absl.logging.ERROR)


def import_tensorflow_quietly():
    """`quiet_tensorflow()`, then import and return `tensorflow` with its start-up notices dropped.

    The C++ lines printed while the library loads (oneDNN notice, "Could not find cuda drivers")
    ignore TF_CPP_MIN_LOG_LEVEL; they are captured and only those at or above that level are
    written back to stderr. A no-op apart from the return value once TensorFlow is imported.
    """
    quiet_tensorflow()
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    return _import_with_filtered_stderr("tensorflow")


def _import_with_filtered_stderr(module_name: str):
    sys.stderr.flush()
    saved_stderr = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            return importlib.import_module(module_name)
        finally:
            os.dup2(saved_stderr, 2)
            os.close(saved_stderr)
            captured.seek(0)
            sys.stderr.write(filter_native_log(captured.read().decode("utf-8", "replace")))
            sys.stderr.flush()


def filter_native_log(text: str) -> str:
    """`text` without the C++ log lines below TF_CPP_MIN_LOG_LEVEL (and absl's preamble line)."""
    minimum = int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0") or 0)
    kept = []
    for line in text.splitlines(keepends=True):
        match = _NATIVE_LOG_LINE.match(line)
        if match and _LEVEL_OF_SEVERITY[match.group(1)] < minimum:
            continue
        if line.startswith(_NATIVE_LOG_PREAMBLE) and minimum > 0:
            continue
        kept.append(line)
    return "".join(kept)
