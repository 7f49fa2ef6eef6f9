"""`evaluate`: how well a model predicts the tokens of any MIDI files.

Each file is read with the model's own token kind, and each whole solo is run through the
network in one pass from its first token (x<1> = 0, as in training and generation), so every
token is predicted from everything before it in its solo.  For every token the negative
log-likelihood -ln p(token | earlier tokens) (nats) and whether it was the most likely token
are recorded.  A token outside the model's vocabulary (it would be <UNK>) cannot be scored: it is
counted as unknown and left out of the averages, and fed to the network as <UNK>.

Results: the NLL per scored token (and perplexity = exp(NLL)), the accuracy, and the number of
unknown tokens, over all files together (a token-weighted average) and per file.
"""
from __future__ import annotations

import math
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from apps.jazz.corpus import JazzTokenizer
from apps.jazz.errors import JazzDataError

BATCH_TOKENS = 60_000  # padded tokens per network call (memory: that x vocabulary x 4 bytes)


@dataclass
class Score:
    """Summed figures over some tokens; `nll`, `accuracy` and `perplexity` are the averages."""

    tokens: int = 0        # tokens in the files
    scored: int = 0        # tokens in the vocabulary (scored)
    unknown: int = 0       # tokens outside the vocabulary (not scored)
    nll_sum: float = 0.0   # sum of -ln p over the scored tokens
    correct: int = 0       # scored tokens that were the most likely token

    @property
    def nll(self) -> float:
        return self.nll_sum / self.scored if self.scored else math.nan

    @property
    def accuracy(self) -> float:
        return self.correct / self.scored if self.scored else math.nan

    @property
    def perplexity(self) -> float:
        return math.exp(self.nll) if self.scored else math.nan

    def add(self, other: "Score") -> "Score":
        return Score(self.tokens + other.tokens, self.scored + other.scored,
                     self.unknown + other.unknown, self.nll_sum + other.nll_sum,
                     self.correct + other.correct)

    def to_dict(self) -> dict:
        return {**asdict(self), "nll": self.nll, "accuracy": self.accuracy,
                "perplexity": self.perplexity}

    def summary(self) -> str:
        return (f"NLL {self.nll:.4f} nats/token (perplexity {self.perplexity:.2f}), accuracy "
                f"{self.accuracy:.4f}, {self.scored:,} tokens scored, {self.unknown:,} unknown "
                "to the vocabulary")


@dataclass
class Evaluation:
    """The total and the per-file scores of `evaluate_files`."""

    total: Score
    files: list[tuple[str, Score]] = field(default_factory=list)


def _predict_function(network):
    """A compiled forward pass accepting any (batch, time): traced once."""
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32)], reduce_retracing=True)
    def forward(ids):
        return network(ids, training=False)

    return forward


def score_id_lists(network, id_lists, *, forward=None) -> list[Score]:
    """One Score per id sequence, each run whole from its first token; id 0 (<UNK>) not scored."""
    forward = forward or _predict_function(network)
    order = sorted(range(len(id_lists)), key=lambda index: len(id_lists[index]))
    scores: list[Score | None] = [None] * len(id_lists)
    position = 0
    while position < len(order):
        longest = len(id_lists[order[position]])
        batch = [order[position]]
        while position + len(batch) < len(order):
            candidate = order[position + len(batch)]
            if (len(batch) + 1) * max(longest, len(id_lists[candidate])) > BATCH_TOKENS:
                break
            batch.append(candidate)
            longest = max(longest, len(id_lists[candidate]))
        position += len(batch)
        padded = np.zeros((len(batch), max(longest, 1)), np.int32)
        for row, index in enumerate(batch):
            padded[row, :len(id_lists[index])] = id_lists[index]
        probabilities = np.asarray(forward(padded))
        for row, index in enumerate(batch):
            ids = np.asarray(id_lists[index], np.int64)
            known = ids != 0
            rows = probabilities[row, :len(ids)]
            chosen = rows[np.arange(len(ids)), ids]
            nll = -np.log(np.maximum(chosen[known].astype(np.float64), 1e-30))
            correct = int(np.sum(rows.argmax(axis=-1)[known] == ids[known]))
            scores[index] = Score(len(ids), int(known.sum()), int((~known).sum()),
                                  float(nll.sum()), correct)
    return scores


def score_token_lists(network, tokenizer: JazzTokenizer, token_lists) -> Score:
    """The total Score of token sequences (unknown tokens counted, not scored)."""
    total = Score()
    for score in score_id_lists(network, [tokenizer.encode(tokens) for tokens in token_lists]):
        total = total.add(score)
    return total


def evaluate_files(paths, checkpoint=None, *, progress: bool = True) -> Evaluation:
    """Score every MIDI file of `paths` (files or folders) with the model folder `checkpoint`.

    Every named file must be usable: the first that is not raises JazzDataError naming it.
    """
    import warnings

    from apps.jazz.corpus import DEFAULT_CACHE_DIR, load_corpus, midi_paths
    from apps.jazz.model import read_model_folder
    from apps.jazz.training import check_paths_exist

    check_paths_exist(paths)
    folder = read_model_folder(checkpoint)
    files = midi_paths(paths)
    if not files:
        raise JazzDataError("no MIDI files (.mid, .midi) in the folder", paths[0])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            corpus = load_corpus(files, tokens=folder.token_kind, cache_dir=DEFAULT_CACHE_DIR,
                                 progress=progress and sys.stderr.isatty())
    except JazzDataError:
        _raise_reason(files[0], folder.token_kind)
    if corpus.skipped:
        _raise_reason(Path(corpus.skipped[0][0]), folder.token_kind)
    network = folder.load_network()
    scores = score_id_lists(network, [folder.tokenizer.encode(solo.tokens) for solo in corpus])
    total = Score()
    for score in scores:
        total = total.add(score)
    return Evaluation(total, [(solo.path, score) for solo, score in zip(corpus, scores)])


def _raise_reason(path: Path, token_kind: str) -> None:
    """Re-read one unusable file to raise its own JazzDataError (the message names it)."""
    from apps.jazz import course_tokens, note_tokens
    from apps.jazz.midi_io import read_monophonic

    if token_kind == "notes":
        note_tokens.encode_solo(read_monophonic(path))
    else:
        course_tokens.parse_course_midi(path)
    raise JazzDataError("cannot be tokenized", path)
