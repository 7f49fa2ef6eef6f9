"""Several trained runs read as one classifier: the mean of their predicted probabilities.

`evaluate` and `predict` take `--run-dir` more than once for this. Every run reads each text with
its own vectorizer and model; the probabilities of the sentiment output (and, for IMDB's stars
head, of the rating output) are averaged, and the label, probability and stars come from the
averages. The runs must be of the same data set with the same head and labels (runs trained with
different seeds or settings are what an ensemble is for); anything else is one error line naming
the run and what differs.

The notes about a text describe how the members read it: truncated when any member read only
part of it (with the shortest max_length), "no known word" when no member knew any of its words.
"""
import dataclasses
from pathlib import Path

import numpy as np

from apps.common.errors import UserError
from apps.common.run_folder import check_distinct_runs
from apps.sentiment.saved import Encoded, RunInfo, encode, load_run


@dataclasses.dataclass
class Ensemble(RunInfo):
    """Trained runs (apps.sentiment.saved.TrainedRun) predicted together; what they predict
    (data set, head, labels) is the first run's, which check_members makes everyone's."""

    members: list

    @property
    def run_dir(self) -> Path:
        return Path(self.members[0].run_dir)

    @property
    def info(self) -> dict:
        return self.members[0].info


# What every member must share, as (sentiment.json key, what the error calls it).
SHARED = (("dataset", "data set"), ("head", "head"), ("label_names", "labels"),
          ("rating_values", "rating values"), ("stars", "star scale"))


def check_members(members) -> None:
    """UserError unless the runs predict the same things (data set, head, labels, ratings)."""
    first = members[0]
    check_distinct_runs(member.run_dir for member in members)
    for member in members[1:]:
        for key, name in SHARED:
            mine, theirs = member.info.get(key), first.info.get(key)
            if mine != theirs:
                raise UserError(f"--run-dir {member.run_dir} cannot join an ensemble with "
                                f"{first.run_dir}: its {name} is {mine!r}, not {theirs!r}; "
                                "the runs must be of the same data set and head")


def load_runs(run_dirs):
    """One run (a TrainedRun) or several (an Ensemble), loaded and checked."""
    run_dirs = list(run_dirs)
    if len(run_dirs) == 1:
        return load_run(run_dirs[0])
    members = [load_run(run_dir) for run_dir in run_dirs]
    check_members(members)
    return Ensemble(members)


def mean_outputs(outputs_of_runs) -> dict:
    """The runs' mean prediction: {output name: mean probabilities}, averaged in float64."""
    first = outputs_of_runs[0]
    return {name: np.mean([outputs[name] for outputs in outputs_of_runs], axis=0,
                          dtype=np.float64).astype(np.float32) for name in first}


def read_texts(trained, texts, *, batch_size: int, verbose: bool = False):
    """(outputs, encoded) for `texts`: {output name: probabilities} and the Encoded whose
    tokens, known and max_length the notes use. For an Ensemble, the member mean."""
    from apps.sentiment.batching import predict_in_length_order

    members = trained.members
    results = []
    for number, member in enumerate(members, start=1):
        if verbose and len(members) > 1:
            print(f"run {number} of {len(members)}: {member.run_dir}", flush=True)
        encoded = encode(member.vectorizer, texts)
        outputs = predict_in_length_order(member.model, encoded.ids, batch_size,
                                          verbose=1 if verbose else 0)
        if results and set(outputs) != set(results[0][0]):
            raise UserError(f"{member.run_dir}: its model's outputs {sorted(outputs)} differ "
                            f"from the first run's {sorted(results[0][0])}")
        results.append((outputs, encoded))
    if len(results) == 1:
        return results[0]
    mean = mean_outputs([outputs for outputs, _ in results])
    encodings = [encoded for _, encoded in results]
    shortest = min(encodings, key=lambda encoded: encoded.max_length)
    known = np.max([encoded.known for encoded in encodings], axis=0)
    return mean, Encoded(shortest.ids, shortest.tokens, known, shortest.max_length)
