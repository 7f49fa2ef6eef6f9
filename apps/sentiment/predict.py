"""`predict`: the label, its probability and the stars of each text, with notes on bad input.

For each text one line

    negative (probability 0.97), 2 of 10 stars: "There is nothing to like in this movie."

stars for the models that predict them (IMDB's stars head: 1-4 or 7-10 of 10, the median of
the predicted rating distribution; SST-5: 1-5, the class). Below it, indented, a note when the
text had more tokens than the model reads ("note: truncated: only its first 800 of 12,043
tokens were read") or when none of its words is in the vocabulary ("note: no word of it is in
the vocabulary, so the prediction says nothing about the text"). Empty or whitespace-only
texts on the command line are an error (one line, exit status 2); in a --file, blank lines are
skipped.
"""
import dataclasses
from pathlib import Path

import numpy as np

from apps.common.errors import UserError
from apps.sentiment.data import SentimentDataError
from apps.sentiment.vectorizer import check_text

PREVIEW_CHARACTERS = 70


@dataclasses.dataclass
class Prediction:
    text: str
    label: str
    probability: float  # of the predicted label
    positive_probability: float | None  # P(positive) for the binary and stars heads
    stars: int | None
    stars_scale: int | None
    tokens: int  # tokens of the text before truncation
    known: int  # of those, in the vocabulary
    max_length: int

    @property
    def truncated(self) -> bool:
        return self.tokens > self.max_length

    def notes(self) -> list:
        notes = []
        if self.truncated:
            notes.append(f"truncated: only its first {self.max_length:,} of {self.tokens:,} "
                         "tokens were read")
        if self.known == 0:
            notes.append("no word of it is in the vocabulary, so the prediction says nothing "
                         "about the text")
        return notes


def read_texts(texts, file) -> list:
    """The texts to classify: the command-line texts (each must have a word), then the
    non-blank lines of --file ("-" reads standard input)."""
    texts = list(texts or [])
    for index, text in enumerate(texts, start=1):
        try:
            check_text(text)
        except SentimentDataError as error:
            where = f"text {index}: " if len(texts) > 1 else ""
            raise UserError(f"{where}{error}") from None
    if file is not None:
        texts.extend(read_lines(file))
    if not texts:
        raise UserError("nothing to classify: give one or more texts, e.g. python -m "
                        "apps.sentiment predict \"There is nothing to like in this movie.\", "
                        "or --file FILE with one text per line")
    return texts


def read_lines(file) -> list:
    import sys

    if str(file) == "-":
        content = sys.stdin.read()
    else:
        path = Path(file).expanduser()
        if not path.is_file():
            raise UserError(f"--file {path}: no such file")
        try:
            content = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as error:
            raise UserError(f"--file {path}: not UTF-8 text ({error.reason} at byte "
                            f"{error.start})") from None
    lines = [line for line in content.splitlines() if line.strip()]
    if not lines:
        raise UserError(f"--file {file}: no text in it (every line is blank); put one text "
                        "per line")
    for number, line in enumerate(lines, start=1):
        try:
            check_text(line)
        except SentimentDataError as error:
            raise UserError(f"--file {file}, text {number}: {error}") from None
    return lines


def predict(trained, texts, *, batch_size: int = 64) -> list:
    """A Prediction per text, from a loaded run (apps.sentiment.saved.TrainedRun) or several
    (apps.sentiment.ensemble.Ensemble: their mean probabilities)."""
    from apps.sentiment.ensemble import read_texts
    from apps.sentiment.evaluate import predicted_labels
    from apps.sentiment.model import RATING, SENTIMENT, stars_of

    outputs, encoded = read_texts(trained, texts, batch_size=batch_size)
    sentiment = np.asarray(outputs[SENTIMENT])
    labels = predicted_labels(sentiment)
    names = trained.label_names
    results = []
    for index, text in enumerate(texts):
        label = int(labels[index])
        if sentiment.shape[1] > 1:
            probability, positive = float(sentiment[index, label]), None
        else:
            positive = float(sentiment[index, 0])
            probability = positive if label == 1 else 1.0 - positive
        stars, scale = None, None
        if trained.head == "stars":
            stars = int(stars_of(outputs[RATING][index], trained.info["rating_values"]))
            scale = 10
        elif trained.info.get("stars") == 5:
            stars, scale = label + 1, 5
        results.append(Prediction(text, names[label], probability, positive, stars, scale,
                                  int(encoded.tokens[index]), int(encoded.known[index]),
                                  encoded.max_length))
    return results


def preview(text: str) -> str:
    """The text on one line, shortened to PREVIEW_CHARACTERS, quoted."""
    flat = " ".join(text.split())
    if len(flat) > PREVIEW_CHARACTERS:
        flat = flat[:PREVIEW_CHARACTERS - 3] + "..."
    return f'"{flat}"'


def format_prediction(prediction: Prediction) -> str:
    line = f"{prediction.label} (probability {prediction.probability:.2f})"
    if prediction.stars is not None:
        line += f", {prediction.stars} of {prediction.stars_scale} stars"
    lines = [f"{line}: {preview(prediction.text)}"]
    lines.extend(f"  note: {note}" for note in prediction.notes())
    return "\n".join(lines)
