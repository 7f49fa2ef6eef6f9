"""The run folder of `python -m apps.ner train`, and loading a trained tagger back.

    run_dir/
        model.keras      the tagger of the best validation F1, copied there when training ends
                         (evaluate and tag read it)
        best_f1.keras    the tagger of the best validation F1 so far (written during training)
        words.json       word vocabulary (zoo.text.Vocabulary, lowercased; <PAD>=0, <UNK>=1)
        chars.json       character vocabulary (case kept; <PAD>=0, <UNK>=1)
        tags.json        tag vocabulary (<PAD>=0, then the tags; label id = tag id - 1)
        ner.json         what tagging needs besides the model (max_word_length, scheme, data
                         folder) and the training settings
        timing.json      wall-clock seconds of every epoch trained
        run.json, backup/, last.keras, best.keras (lowest validation loss), history.csv
                         (loss, f1, val_loss, val_f1 per epoch), loss.png: apps.common.training
"""
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from apps.common.errors import UserError
from zoo.text import Vocabulary

MODEL_FILE = "model.keras"
BEST_F1_FILE = "best_f1.keras"
WORDS_FILE = "words.json"
CHARS_FILE = "chars.json"
TAGS_FILE = "tags.json"
SETTINGS_FILE = "ner.json"
TIMING_FILE = "timing.json"


@dataclass
class TrainedTagger:
    """A trained tagger with what it needs to read text."""

    run_dir: Path
    model_path: Path
    model: object                 # keras.Model: {"words", "casing", "chars"} -> scores
    words: Vocabulary
    chars: Vocabulary
    tags: Vocabulary              # <PAD> then the tag names
    settings: dict                # ner.json

    @property
    def tag_names(self) -> list:
        return self.tags.tokens

    @property
    def members(self) -> list:
        """The runs that tag (one here; apps.ner.ensemble.TaggerEnsemble has several)."""
        return [self]

    @property
    def max_word_length(self) -> int:
        return int(self.settings["max_word_length"])

    def tagger(self):
        from apps.ner.model import Tagger
        return Tagger(self.model)


def choose_model_file(run_dir: Path, checkpoint: str | None) -> Path:
    """The checkpoint to load: --checkpoint, else model.keras, else best_f1.keras (a run still
    training or interrupted), else UserError."""
    if checkpoint:
        path = Path(checkpoint)
        path = path if path.is_absolute() or path.exists() else run_dir / checkpoint
        if not path.is_file():
            raise UserError(f"checkpoint {checkpoint} not found (looked for {path})")
        return path
    if (run_dir / MODEL_FILE).is_file():
        return run_dir / MODEL_FILE
    if (run_dir / BEST_F1_FILE).is_file():
        print(f"note: {run_dir} has no {MODEL_FILE} yet (training unfinished); using "
              f"{BEST_F1_FILE}, the best validation F1 so far", file=sys.stderr, flush=True)
        return run_dir / BEST_F1_FILE
    raise UserError(f"{run_dir} holds no trained tagger ({MODEL_FILE} missing); train first: "
                    f"python -m apps.ner train --run-dir {run_dir}")


def load_run(run_dir, checkpoint: str | None = None) -> TrainedTagger:
    """Load a run folder's tagger and vocabularies (UserError when something is missing)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UserError(f"run folder not found: {run_dir} (train first: python -m apps.ner "
                        f"train --run-dir {run_dir})")
    missing = [name for name in (WORDS_FILE, CHARS_FILE, TAGS_FILE, SETTINGS_FILE)
               if not (run_dir / name).is_file()]
    if missing:
        raise UserError(f"{run_dir} is not a finished apps.ner run ({', '.join(missing)} "
                        f"missing); train first: python -m apps.ner train --run-dir {run_dir}")
    model_path = choose_model_file(run_dir, checkpoint)
    try:
        words, chars, tags = (Vocabulary.load(run_dir / name)
                              for name in (WORDS_FILE, CHARS_FILE, TAGS_FILE))
        settings = json.loads((run_dir / SETTINGS_FILE).read_text(encoding="utf-8"))
    except ValueError as error:
        raise UserError(f"{run_dir}: unreadable vocabulary or settings ({error})") from None
    from apps.common.cli import import_tensorflow_quietly
    import_tensorflow_quietly()
    import keras

    import apps.ner.model  # noqa: F401  (registers the custom layers and the metric)
    import zoo.crf  # noqa: F401
    import zoo.layers  # noqa: F401
    model = keras.saving.load_model(model_path, compile=False)
    return TrainedTagger(run_dir, model_path, model, words, chars, tags, settings)
