"""What a finished `train` leaves in its run folder, and loading it back for sample and score.

    run_dir/model.keras        the trained language model (zoo.builders.language_model)
    run_dir/vocabulary.json    its zoo.text.Vocabulary (character <-> id)
    run_dir/charlm.json        the corpus format ("names" or "running") and the train settings
    run_dir/run.json, best.keras, last.keras, loss.png, ...   apps.common's training records
"""
import json
from dataclasses import dataclass
from pathlib import Path

from apps.common.errors import UserError
from zoo.text import Vocabulary

MODEL_FILE = "model.keras"
VOCABULARY_FILE = "vocabulary.json"
SETTINGS_FILE = "charlm.json"


@dataclass
class TrainedRun:
    """A trained model with its vocabulary and settings."""

    run_dir: Path
    model: object                 # keras.Model, input "tokens" (batch, time) -> (batch, time, V)
    vocabulary: Vocabulary
    settings: dict                # charlm.json: text_format, and the TrainConfig fields

    @property
    def text_format(self) -> str:
        return self.settings.get("text_format", "names" if self.vocabulary.eos else "running")


def load_run(run_dir) -> TrainedRun:
    """Load model.keras, vocabulary.json and charlm.json from `run_dir` (UserError if missing)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UserError(f"run folder not found: {run_dir} (train first: python -m apps.charlm "
                        f"train --run-dir {run_dir})")
    missing = [name for name in (MODEL_FILE, VOCABULARY_FILE) if not (run_dir / name).exists()]
    if missing:
        raise UserError(f"{run_dir} holds no finished training run ({' and '.join(missing)} "
                        f"missing); run python -m apps.charlm train --run-dir {run_dir}")
    try:
        vocabulary = Vocabulary.load(run_dir / VOCABULARY_FILE)
    except ValueError as error:
        raise UserError(f"{run_dir / VOCABULARY_FILE}: unreadable vocabulary ({error})") from None
    settings = {}
    if (run_dir / SETTINGS_FILE).exists():
        settings = json.loads((run_dir / SETTINGS_FILE).read_text(encoding="utf-8"))
    from apps.common.cli import import_tensorflow_quietly
    import_tensorflow_quietly()
    import keras
    import zoo.generation  # noqa: F401  (registers OneHot, ShiftRight for loading)
    import zoo.layers  # noqa: F401
    model = keras.saving.load_model(run_dir / MODEL_FILE, compile=False)
    return TrainedRun(run_dir, model, vocabulary, settings)
