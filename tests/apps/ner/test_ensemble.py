"""apps.ner.ensemble: several taggers read together (mean tag probabilities, constrained decoding)."""
from types import SimpleNamespace

import numpy as np
import pytest

from apps.common.errors import UserError
from apps.ner.data import read_conll, split_paths
from apps.ner.ensemble import (TaggerEnsemble, check_members, constraints_of, decode_mean,
                               load_taggers)
from tests.apps.ner.conftest import TINY_TRAIN_ARGUMENTS, run_main

HARRY = "Harry Potter and Hermione Granger invented a new spell."


@pytest.fixture(scope="module")
def second_run(conll_folder, tmp_path_factory):
    """A second tiny run, another seed (the shared `trained_run` has seed 3)."""
    run_dir = tmp_path_factory.mktemp("ner_run_b") / "run"
    arguments = [argument if argument != "3" else "4" for argument in TINY_TRAIN_ARGUMENTS]
    status, _, stderr = run_main(["train", "--data", conll_folder, "--run-dir", run_dir]
                                 + arguments)
    assert status == 0, stderr[-3000:]
    return run_dir


def numpy_viterbi(log_probabilities, allowed, allowed_start, allowed_end):
    """The best tag path of (T, K) scores under the constraints, written out independently."""
    impossible = -np.inf
    score = np.where(allowed_start, log_probabilities[0], impossible)
    pointers = []
    for row in log_probabilities[1:]:
        candidates = score[:, None] + np.where(allowed, 0.0, impossible)   # [from, to]
        pointers.append(np.argmax(candidates, axis=0))
        score = candidates.max(axis=0) + row
    score = np.where(allowed_end, score, impossible)
    path = [int(np.argmax(score))]
    for pointer in reversed(pointers):
        path.append(int(pointer[path[-1]]))
    return path[::-1]


def test_posteriors_are_probabilities_at_real_tokens_and_zero_at_padding(trained_run):
    from apps.ner.batching import encode_flat, make_batch
    from apps.ner.saved import load_run

    trained = load_run(trained_run[0])
    encoded = encode_flat([HARRY.split(), ["Anna", "Berg"]], trained.words, trained.chars,
                          max_word_length=trained.max_word_length)
    features, _ = make_batch(encoded, [0, 1])
    posteriors = trained.tagger().posteriors(features)
    real = features["words"] > 0
    assert posteriors.shape == real.shape + (len(trained.tag_names),)
    np.testing.assert_allclose(posteriors[real].sum(axis=-1), 1.0, atol=1e-5)
    assert np.all(posteriors[~real] == 0) and np.all(posteriors >= 0)


def path_score(log_probabilities, path, allowed, allowed_start, allowed_end):
    """Sum of the path's log probabilities; -inf if the constraints forbid it."""
    ok = allowed_start[path[0]] and allowed_end[path[-1]] and all(
        allowed[a, b] for a, b in zip(path[:-1], path[1:]))
    return float(sum(log_probabilities[t, tag] for t, tag in enumerate(path))) if ok else -np.inf


def test_an_ensemble_decodes_the_mean_marginals_under_the_iob2_constraints(
        trained_run, second_run, conll_folder):
    """predict_tags of two runs gives, sentence by sentence, the best path of a NumPy Viterbi
    over the log of the two runs' mean CRF marginals with the CRF's allowed transitions (the
    same path, or one that scores the same within float32 rounding: tiny runs have near ties)."""
    from apps.ner.batching import encode_flat, make_batch
    from apps.ner.predict import predict_tags

    ensemble = load_taggers([trained_run[0], second_run])
    assert isinstance(ensemble, TaggerEnsemble) and len(ensemble.members) == 2
    sentences = read_conll(split_paths(conll_folder)["test"])
    token_lists = [sentence.tokens for sentence in sentences]
    predicted = predict_tags(ensemble, token_lists, batch_size=5)
    taggers = [member.tagger() for member in ensemble.members]
    crf = taggers[0].crf
    allowed = np.asarray(crf.allowed_transitions)
    start, end = np.asarray(crf.allowed_start), np.asarray(crf.allowed_end)
    index_of = {name: index for index, name in enumerate(ensemble.tag_names)}
    differs_from_a_member = False
    for index, tokens in enumerate(token_lists):
        marginals = []
        for member, tagger in zip(ensemble.members, taggers):
            encoded = encode_flat([tokens], member.words, member.chars,
                                  max_word_length=member.max_word_length)
            features, _ = make_batch(encoded, [0])
            marginals.append(tagger.posteriors(features)[0])
        logs = np.log(np.maximum(np.mean(marginals, axis=0), 1e-12))
        best = numpy_viterbi(logs, allowed, start, end)
        mine = [index_of[tag] for tag in predicted[index]]
        assert path_score(logs, mine, allowed, start, end) == pytest.approx(
            path_score(logs, best, allowed, start, end), abs=1e-4), index
        for single in marginals:
            single_logs = np.log(np.maximum(single, 1e-12))
            single_best = numpy_viterbi(single_logs, allowed, start, end)
            differs_from_a_member |= (path_score(logs, single_best, allowed, start, end)
                                      < path_score(logs, best, allowed, start, end) - 1e-3)
    # somewhere a run's own best path is clearly worse for the mean: the runs disagree, so the
    # test does not pass by reading one run's output
    assert differs_from_a_member


def test_decode_mean_keeps_entities_whole_and_softmax_takes_the_argmax(trained_run):
    from apps.ner.saved import load_run

    crf = load_run(trained_run[0]).tagger().crf
    names = load_run(trained_run[0]).tag_names
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(len(names)) * 0.3, size=(16, 12)).astype(np.float32)
    mask = np.arange(12)[None, :] < rng.integers(1, 13, size=16)[:, None]
    ids = decode_mean(probabilities, mask, constraints_of(crf))
    assert np.all(ids[~mask] == -1) and np.all(ids[mask] >= 0)
    for row, real in zip(ids, mask):
        tags = [names[tag] for tag in row[real]]
        for previous, tag in zip(["O"] + tags, tags):
            if tag.startswith("I-"):   # IOB2: I-X only after B-X or I-X
                assert previous in (f"B-{tag[2:]}", tag), tags
    argmax = decode_mean(probabilities, mask, None)
    np.testing.assert_array_equal(argmax[mask], probabilities.argmax(-1)[mask])
    assert constraints_of(None) is None


def member(run_dir, tags=("O", "B-PER", "I-PER"), output="crf"):
    return SimpleNamespace(run_dir=run_dir, tag_names=list(tags),
                           settings={"output": output, "settings": {"output": output}})


def test_members_must_be_distinct_runs_with_one_tag_set_and_output(tmp_path):
    check_members([member(tmp_path / "a"), member(tmp_path / "b")])
    with pytest.raises(UserError, match="given twice"):
        check_members([member(tmp_path / "a"), member(tmp_path / "a")])
    with pytest.raises(UserError, match=r"its tags are O B-LOC I-LOC, not O B-PER I-PER"):
        check_members([member(tmp_path / "a"), member(tmp_path / "b", ("O", "B-LOC", "I-LOC"))])
    with pytest.raises(UserError, match="its output layer is softmax, not crf"):
        check_members([member(tmp_path / "a"), member(tmp_path / "b", output="softmax")])


def test_evaluate_and_tag_take_several_run_folders(trained_run, second_run):
    status, stdout, stderr = run_main(["evaluate", "--run-dir", trained_run[0], "--run-dir",
                                       second_run, "--split", "test", "--examples", "0"])
    assert status == 0, stderr
    assert "an ensemble of 2 models: " in stdout.splitlines()[0]
    assert str(second_run) in stdout.splitlines()[0]
    assert any(line.startswith("overall") for line in stdout.splitlines())
    status, stdout, stderr = run_main(["tag", "--run-dir", trained_run[0], "--run-dir",
                                       second_run, "--format", "conll", "Anna Berg visited Oslo ."])
    assert status == 0, stderr
    assert [line.split("\t")[0] for line in stdout.splitlines() if line] == \
        ["Anna", "Berg", "visited", "Oslo", "."]


def test_several_runs_with_a_checkpoint_or_one_run_twice_are_one_line_errors(trained_run,
                                                                             second_run):
    for command in (["evaluate", "--split", "test"], ["tag", HARRY]):
        status, stdout, stderr = run_main(command + ["--run-dir", trained_run[0], "--run-dir",
                                                     second_run, "--checkpoint", "last.keras"])
        assert status == 2 and stdout == ""
        assert stderr.startswith("error:") and "--checkpoint" in stderr
        assert stderr.count("\n") == 1
    status, _, stderr = run_main(["tag", HARRY, "--run-dir", trained_run[0], "--run-dir",
                                  trained_run[0]])
    assert status == 2 and "given twice" in stderr and stderr.count("\n") == 1
