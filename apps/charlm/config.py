"""Settings of `python -m apps.charlm train`, with the course's choices as defaults.

The course ("Dinosaurus Island", Sequence Models week 1) trains a basic RNN with 50 hidden units
on lower-cased dinosaur names, one name per sequence, x⟨1⟩ = 0 and x⟨t⟩ = y⟨t−1⟩, and clips every
gradient element to [−5, 5]. Those are the defaults here; the optimizer is Adam on mini-batches
(the course uses plain SGD on one name at a time; `benchmarks/charlm.py` reproduces that too).
"""
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CELLS = ("rnn", "gru", "lstm")
FORMATS = ("auto", "names", "running")
CASES = ("auto", "lower", "keep")
COURSE_CLIPVALUE = 5.0


@dataclass
class TrainConfig:
    # The UTF-8 text to learn from; None means the course's dinos.txt beside the repository.
    text: str | None = None
    # "names": one item per line (each line is a sequence ending with <EOS>, padded to the
    # longest); "running": continuous text cut into contiguous chunks; "auto" decides from the file.
    text_format: str = "auto"
    # "lower" lower-cases the text (as the course does for names), "keep" keeps it; "auto" lowers
    # names and keeps running text.
    case: str = "auto"
    # The recurrent cell: "rnn" (the course's basic RNN), "gru" or "lstm".
    cell: str = "rnn"
    # n_a, the size of the hidden state of every recurrent layer (the course: 50).
    units: int = 50
    # Stacked recurrent layers.
    layers: int = 1
    # Dropout between stacked recurrent layers (needs layers > 1 to have an effect).
    dropout: float = 0.0
    # Embedding size of the inputs; None feeds one-hot vectors, as the course.
    embedding_dim: int | None = None
    # Clip every gradient element to [−clipvalue, clipvalue] (the course's np.clip at 5); None: off.
    clipvalue: float | None = COURSE_CLIPVALUE
    # Rescale each weight's gradient to at most this L2 norm instead; None: off.
    clipnorm: float | None = None
    # Fraction held out for validation: the last part of running text, or a seeded random part
    # of the names.
    validation_split: float = 0.1
    # Passes over the training data (in total, counting those of an interrupted run).
    epochs: int = 20
    # Sequences per training step.
    batch_size: int = 32
    # Adam's step size.
    learning_rate: float = 0.01
    # Characters per training sequence for running text (names use one name per sequence).
    sequence_length: int = 100
    # Folder of the run: model.keras, vocabulary.json, run.json, checkpoints, loss.png.
    run_dir: str = "runs/charlm"
    # Seed of the weights, the split and the shuffling.
    seed: int = 0
    # Print one line per epoch instead of a progress bar.
    no_progress: bool = False
    # Back up the training state every N steps inside an epoch as well (None: each epoch only).
    save_every_steps: int | None = None
    # Settings passed through to apps.common's training (logdir, distribute, xla, ...).
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return asdict(self)


def default_text_path() -> Path:
    """The course's dinosaur names: <repo>/../shared/datasets/charlm/dinos.txt (or $ZOO_DATASETS)."""
    import os
    datasets = Path(os.environ.get("ZOO_DATASETS", REPO_ROOT.parent / "shared" / "datasets"))
    return datasets / "charlm" / "dinos.txt"
