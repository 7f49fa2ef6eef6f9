"""Settings of the jazz app's commands: one dataclass per command, and the two training presets.

Presets
-------
``course``: the course's "djmodel" (Coursera DLS course 5 week 1, "Improvise a Jazz Solo with an
LSTM"): one LSTM of n_a = 64 units, a shared Dense softmax, Tx = 30, trained on m = 60 windows
cut at random places from the Metheny file's course values, 100 epochs, Adam(lr 0.01,
beta_1 0.9, beta_2 0.999, decay 0.01), batch 32 (Keras's default there), and the loss reported
the way the course prints it: the cross-entropies of the 30 outputs summed (about 126 at epoch
1 falling to about 6 at epoch 100 in the course).  No validation split: one file.

``default``: the model shipped in data/jazz, for the Weimar Jazz Database solos as pitch and
duration tokens: two LSTM layers of 128 units with dropout 0.2 between them, a 32-wide
embedding of the input tokens, windows of 256 tokens (128 notes), 12-key transposition, a
validation split by whole solo, the mean cross-entropy per token (nats), batch 32, Adam from
lr 0.01 with inverse-time decay (lr / (1 + 0.002 step)) and clipnorm 1, 40 epochs.  A high
initial rate matters: at lr 0.002 the model sat at the bigram's loss (about 2.9 nats) for 20
epochs; at 0.01-0.02 it leaves that plateau within a few hundred steps.

Why 2 x 128 and not wider: the CPU budget of this project (a model trained in about 20 minutes
on 2 shared cores) and the generation target (32 solos of 1,000 tokens in under 2 s on that
CPU); a 2 x 256 model trains about 3 times slower per token and samples 2-3 times slower.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

PRESETS = ("default", "course")
TOKEN_KINDS = ("notes", "course")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides what `train` computes (recorded in the run folder's run.json)."""

    midi: tuple[str, ...]              # MIDI files or folders of .mid files to learn from
    tokens: str = "notes"              # "notes": pitch/duration tokens; "course": course values
    preset: str = "default"            # "default" or "course": where the other defaults come from
    run_dir: str = "runs/jazz/default"  # checkpoints, backup, history, and the model folder
    units: int = 128                   # LSTM units per layer (n_a)
    layers: int = 2                    # stacked LSTM layers
    dropout: float = 0.2               # dropout between LSTM layers (unused with one layer)
    embedding_dim: int | None = 32     # input embedding size; None: one-hot (as the course)
    window: int = 256                  # Tx: tokens per training window
    random_windows: int | None = None  # course: windows at random starts; None: cut whole solos
    augment_keys: bool = True          # train on the 12 transpositions of each training solo
    validation_fraction: float = 0.1   # share of whole solos held out for validation
    summed_loss: bool = False          # loss summed over the window (course) or mean per token
    epochs: int = 40                   # total epochs; an epoch = the windows of one key
    batch_size: int = 32               # windows per training step
    learning_rate: float = 1e-2        # Adam's initial step size
    learning_rate_decay: float = 0.002  # lr / (1 + decay * step), the course's "decay"; 0: none
    clipnorm: float | None = 1.0       # clip each gradient to this L2 norm (None: no clipping)
    clipvalue: float | None = None     # or clip each gradient element to [-v, v]
    seed: int = 0                      # seeds weights, split, windows, shuffling and dropout
    default_length: int = 400          # tokens `generate` writes when --length is not given
    tempo_bpm: float | None = 140.0    # tempo `generate` writes by default (None: the source's)

    def to_settings(self) -> dict:
        """JSON-ready settings for run.json (a resumed run must have the same ones)."""
        settings = dataclasses.asdict(self)
        settings["midi"] = list(self.midi)
        return settings


def preset_defaults(preset: str) -> dict:
    """The TrainConfig fields that a preset sets."""
    if preset == "course":
        return dict(tokens="course", units=64, layers=1, dropout=0.0, embedding_dim=None,
                    window=30, random_windows=60, augment_keys=False, validation_fraction=0.0,
                    summed_loss=True, epochs=100, batch_size=32, learning_rate=0.01,
                    learning_rate_decay=0.01, clipnorm=None, clipvalue=None, default_length=50,
                    tempo_bpm=None)
    if preset == "default":
        return {}
    raise ValueError(f"preset must be one of {PRESETS}, got {preset!r}")


def make_train_config(midi, *, preset: str = "default", **overrides) -> TrainConfig:
    """A TrainConfig from a preset, with the non-None `overrides` on top."""
    values = preset_defaults(preset)
    values.update({name: value for name, value in overrides.items() if value is not None})
    if overrides.get("clipvalue") is not None and overrides.get("clipnorm") is None:
        values["clipnorm"] = None  # --clipvalue replaces the preset's clipnorm
    return TrainConfig(midi=tuple(str(path) for path in midi), preset=preset, **values)


@dataclass(frozen=True)
class GenerateConfig:
    """What `generate` is asked to write."""

    out: str = "jazz_solo.mid"         # MIDI path; with count > 1: <stem>_1.mid, <stem>_2.mid...
    checkpoint: str | None = None      # model folder (None: the shipped data/jazz)
    length: int | None = None          # tokens, primer included (None: the model's default)
    bars: int | None = None            # or about this many 4/4 bars (cut at the bar line)
    temperature: float = 0.9           # softmax temperature (1: the model's own distribution)
    argmax: bool = False               # take the most likely token (the course's inference)
    top_k: int | None = None           # draw only among the k most likely tokens
    seed: int = 0                      # the same seed and settings give the same MIDI bytes
    primer: str | None = None          # MIDI file whose notes start the solo (forced tokens)
    tempo: float | None = None         # beats per minute written (None: the model's default)
    count: int = 1                     # how many solos to write
    force: bool = False                # overwrite existing output files
    pianoroll: bool = True             # write <out>.png beside each MIDI file
