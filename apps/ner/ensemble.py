"""Several trained taggers read as one: the mean of their per-token tag probabilities.

`evaluate` and `tag` take `--run-dir` more than once for this. Each run reads the sentences with
its own vocabularies and model and gives, for every token, a probability for each tag: a CRF
run its marginals p(y_t = tag | sentence) (forward-backward), a softmax run its softmax. The
ensemble averages those and decodes the mean:

    - CRF runs: Viterbi over the logarithms of the mean marginals under the IOB2 constraints of
      the runs' CRF (I-X only after B-X or I-X), so that the tags always form whole entities;
      this picks the valid tag sequence with the largest sum of log mean marginals;
    - softmax runs: the tag of the largest mean probability at each token, as one softmax run.

Marginals, not the CRFs' raw scores, are averaged because they mean the same thing in every run
(probabilities), whatever scale each run's scores and transitions ended up at. On CoNLL-2003's
validation split, three GloVe runs gave 94.33 F1 this way and 94.28 with their scores and
transitions averaged instead; the runs alone gave 94.11 on average (benchmarks/RESULTS.md).

The runs must tag with the same tag set and output layer (runs trained with different seeds or
settings are what an ensemble is for); anything else is one error line naming the run and what
differs.
"""
import dataclasses
from pathlib import Path

import numpy as np

from apps.common.errors import UserError
from apps.common.run_folder import check_distinct_runs
from apps.ner.saved import load_run

LOG_FLOOR = 1e-12  # log(0) would forbid a tag the constraints allow; this only disfavours it


@dataclasses.dataclass
class TaggerEnsemble:
    """Trained taggers (apps.ner.saved.TrainedTagger) that tag together."""

    members: list

    @property
    def tag_names(self) -> list:
        return self.members[0].tag_names

    @property
    def settings(self) -> dict:
        """The first run's ner.json (check_members makes the tag set and output everyone's)."""
        return self.members[0].settings


def describe_models(trained) -> str:
    """"model PATH", or "an ensemble of N models: PATH, PATH, ..." for evaluate's header."""
    members = trained.members
    if len(members) == 1:
        return f"model {members[0].model_path}"
    return (f"an ensemble of {len(members)} models: "
            + ", ".join(str(member.model_path) for member in members))


def output_of(member) -> str:
    """The run's output layer, "crf" or "softmax" (ner.json records it)."""
    return member.settings["output"]


def check_members(members) -> None:
    """UserError unless the runs are distinct and share the tag set and the output layer."""
    check_distinct_runs(member.run_dir for member in members)
    first = members[0]
    for member in members[1:]:
        if member.tag_names != first.tag_names:
            raise UserError(f"--run-dir {member.run_dir} cannot join an ensemble with "
                            f"{first.run_dir}: its tags are {' '.join(member.tag_names)}, not "
                            f"{' '.join(first.tag_names)}; the runs must tag the same types")
        if output_of(member) != output_of(first):
            raise UserError(f"--run-dir {member.run_dir} cannot join an ensemble with "
                            f"{first.run_dir}: its output layer is {output_of(member)}, not "
                            f"{output_of(first)}; combine CRF runs with CRF runs")


def load_taggers(run_dirs, checkpoint=None):
    """One run (a TrainedTagger) or several (a TaggerEnsemble), loaded and checked."""
    run_dirs = [run_dirs] if isinstance(run_dirs, (str, Path)) else list(run_dirs)
    if not run_dirs:
        raise UserError("give at least one --run-dir")
    if len(run_dirs) == 1:
        return load_run(run_dirs[0], checkpoint)
    if checkpoint is not None:
        raise UserError("--checkpoint names one run's model file; with several --run-dir each "
                        "run's model.keras is used (leave out --checkpoint)")
    members = [load_run(run_dir) for run_dir in run_dirs]
    check_members(members)
    return TaggerEnsemble(members)


def constraints_of(crf):
    """A CRF layer with `crf`'s allowed transitions, starts and ends and all weights zero (its
    Viterbi then scores a tag sequence by its inputs alone); None for a softmax run."""
    if crf is None:
        return None
    constraints = type(crf).from_config(crf.get_config())
    constraints.build()
    return constraints


def decode_mean(probabilities, mask, constraints=None):
    """(B, T) tag ids, -1 at padding, from (B, T, tags) mean probabilities: Viterbi over their
    logarithms under `constraints` (a CRF from constraints_of), or the argmax without."""
    from keras import ops

    mask = np.asarray(mask, dtype=bool)
    if constraints is None:
        ids = np.argmax(probabilities, axis=-1).astype(np.int32)
    else:
        logs = np.log(np.maximum(probabilities, LOG_FLOOR)).astype(np.float32)
        ids, _ = constraints.decode(ops.convert_to_tensor(logs), ops.convert_to_tensor(mask))
        ids = np.asarray(ids).astype(np.int32)
    return np.where(mask, ids, -1)
