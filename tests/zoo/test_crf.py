"""zoo.CRF: forward algorithm, Viterbi and forward-backward against brute-force enumeration,
padding, gradients, training, serialization and argument errors."""
import itertools
import textwrap

import numpy as np
import pytest
import tensorflow as tf

import keras
import zoo
from tests.zoo.jax_subprocess import needs_jax, run_under_jax
from zoo.crf import DISALLOWED_SCORE, iob2_constraints

NUM_TAGS = 3
T_MAX = 4
LENGTHS = [4, 3, 1, 2]                        # per row, right-padded to T_MAX
IOB2_NAMES = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]

ALLOWED = np.array([[1, 1, 0], [0, 1, 1], [1, 0, 1]], dtype=bool)
ALLOWED_START = np.array([1, 0, 1], dtype=bool)
ALLOWED_END = np.array([1, 1, 0], dtype=bool)


def make_crf(constrained, seed=0, dtype=None, num_tags=NUM_TAGS):
    """A built CRF with random (non-zero) transition, start and end scores."""
    kwargs = dict(allowed_transitions=ALLOWED, allowed_start=ALLOWED_START,
                  allowed_end=ALLOWED_END) if constrained else {}
    crf = zoo.CRF(num_tags, dtype=dtype, **kwargs)
    crf.build((None, None, num_tags))
    rng = np.random.default_rng(seed)
    crf.transitions.assign(rng.normal(size=(num_tags, num_tags)))
    crf.start_transitions.assign(rng.normal(size=num_tags))
    crf.end_transitions.assign(rng.normal(size=num_tags))
    return crf


def effective_scores(crf):
    """(transitions, start, end) in float64 with the constraint penalties, as numpy."""
    a = np.asarray(crf.transitions.numpy(), np.float64)
    s = np.asarray(crf.start_transitions.numpy(), np.float64)
    e = np.asarray(crf.end_transitions.numpy(), np.float64)
    if crf.allowed_transitions is not None:
        a = a + np.where(crf.allowed_transitions, 0.0, DISALLOWED_SCORE)
        s = s + np.where(crf.allowed_start, 0.0, DISALLOWED_SCORE)
        e = e + np.where(crf.allowed_end, 0.0, DISALLOWED_SCORE)
    return a, s, e


def path_score(p, path, a, s, e):
    score = s[path[0]] + e[path[-1]] + sum(p[t, y] for t, y in enumerate(path))
    return score + sum(a[path[t - 1], path[t]] for t in range(1, len(path)))


def brute_force(p, length, a, s, e):
    """All paths of `length`, their scores and log Z, for one row of potentials p (time, tags)."""
    paths = list(itertools.product(range(a.shape[0]), repeat=length))
    scores = np.array([path_score(p[:length], path, a, s, e) for path in paths])
    return paths, scores, np.logaddexp.reduce(scores)


def random_potentials(seed, batch=len(LENGTHS), time=T_MAX, num_tags=NUM_TAGS):
    return np.random.default_rng(seed).normal(scale=1.5, size=(batch, time, num_tags)).astype("float32")


def length_mask(lengths, time=T_MAX):
    return np.arange(time)[None, :] < np.asarray(lengths)[:, None]


# --------------------------------------------------------------------------------------------------
# Exactness against enumeration

@pytest.mark.parametrize("constrained", [False, True], ids=["free", "constrained"])
def test_log_likelihood_matches_brute_force_and_normalises(constrained):
    crf = make_crf(constrained, seed=1)
    a, s, e = effective_scores(crf)
    potentials = random_potentials(2)
    # Every path of every row in one batch: rows of different lengths, padded with -1 tags.
    rows, tags, lengths, expected = [], [], [], []
    for b, length in enumerate(LENGTHS):
        paths, scores, log_z = brute_force(potentials[b].astype(np.float64), length, a, s, e)
        for path, score in zip(paths, scores):
            rows.append(b)
            tags.append(list(path) + [-1] * (T_MAX - length))
            lengths.append(length)
            expected.append(score - log_z)
    mask = length_mask(lengths)
    got = np.asarray(crf.log_likelihood(potentials[rows], np.array(tags), mask))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4)
    for b in range(len(LENGTHS)):                    # p(path | x) sums to 1 over all paths
        in_row = np.array(rows) == b
        assert np.exp(got[in_row]).sum() == pytest.approx(1.0, abs=1e-5)
    if constrained:                                  # disallowed paths get (almost) no mass
        assert np.min(got) < DISALLOWED_SCORE / 2


@pytest.mark.parametrize("constrained", [False, True], ids=["free", "constrained"])
@pytest.mark.parametrize("masked", [False, True], ids=["full", "masked"])
def test_decode_matches_brute_force(constrained, masked):
    crf = make_crf(constrained, seed=3)
    a, s, e = effective_scores(crf)
    potentials = random_potentials(4)
    lengths = LENGTHS if masked else [T_MAX] * len(LENGTHS)
    tags, best = crf.decode(potentials, length_mask(lengths) if masked else None)
    tags, best = np.asarray(tags), np.asarray(best)
    assert tags.dtype == np.int32 and tags.shape == (len(LENGTHS), T_MAX)
    for b, length in enumerate(lengths):
        paths, scores, _ = brute_force(potentials[b].astype(np.float64), length, a, s, e)
        assert list(tags[b, :length]) == list(paths[int(np.argmax(scores))]), f"row {b}"
        assert np.all(tags[b, length:] == 0)
        assert best[b] == pytest.approx(scores.max(), rel=1e-5, abs=1e-4)
        if constrained:  # the best path uses only allowed moves
            path = tags[b, :length]
            assert ALLOWED_START[path[0]] and ALLOWED_END[path[-1]]
            assert all(ALLOWED[i, j] for i, j in zip(path[:-1], path[1:]))


@pytest.mark.parametrize("constrained", [False, True], ids=["free", "constrained"])
def test_marginals_match_brute_force(constrained):
    crf = make_crf(constrained, seed=5)
    a, s, e = effective_scores(crf)
    potentials = random_potentials(6)
    got = np.asarray(crf.marginals(potentials, length_mask(LENGTHS)))
    for b, length in enumerate(LENGTHS):
        paths, scores, log_z = brute_force(potentials[b].astype(np.float64), length, a, s, e)
        expected = np.zeros((T_MAX, NUM_TAGS))
        for path, score in zip(paths, scores):
            expected[np.arange(length), path] += np.exp(score - log_z)
        np.testing.assert_allclose(got[b], expected, atol=1e-5)


def test_iob2_constraints_and_valid_decoding():
    allowed, start, end = iob2_constraints(IOB2_NAMES)
    index = {name: i for i, name in enumerate(IOB2_NAMES)}
    assert allowed.dtype == bool and allowed.shape == (5, 5) and start.shape == end.shape == (5,)
    assert allowed[index["B-PER"], index["I-PER"]] and allowed[index["I-PER"], index["I-PER"]]
    assert not allowed[index["O"], index["I-PER"]] and not allowed[index["B-LOC"], index["I-PER"]]
    assert not allowed[index["I-LOC"], index["I-PER"]]
    assert allowed[index["I-PER"], index["B-LOC"]] and allowed[index["O"], index["B-PER"]]
    assert list(start) == [True, True, False, True, False] and end.all()

    crf = zoo.CRF(5, allowed_transitions=allowed, allowed_start=start, allowed_end=end)
    rng = np.random.default_rng(7)
    potentials = rng.normal(size=(16, 6, 5)).astype("float32")
    potentials[:, :, [index["I-PER"], index["I-LOC"]]] += 3.0     # emissions push towards I-X
    tags = np.asarray(crf.decode(potentials)[0])
    names = [[IOB2_NAMES[t] for t in row] for row in tags]
    for row in names:
        for t, name in enumerate(row):
            if name.startswith("I-"):
                assert t > 0 and row[t - 1] in ("B-" + name[2:], name), row
    # Without the constraints the same emissions decode to invalid IOB2 (so the check can fail).
    free = np.asarray(zoo.CRF(5).decode(potentials)[0])
    assert any(IOB2_NAMES[row[0]].startswith("I-") for row in free)


# --------------------------------------------------------------------------------------------------
# Padding, empty rows, compiled decoding, dtypes

def test_padding_gives_same_results_and_empty_rows_are_finite():
    crf = make_crf(True, seed=8)
    potentials = random_potentials(9, batch=1, time=3)
    tags = np.array([[0, 1, 2]])
    padded = np.concatenate([potentials, np.full((1, 2, NUM_TAGS), 50.0, "float32")], axis=1)
    padded_tags = np.array([[0, 1, 2, -1, -1]])
    mask = length_mask([3], time=5)
    ll = crf.log_likelihood(potentials, tags)
    np.testing.assert_allclose(crf.log_likelihood(padded, padded_tags, mask), ll, rtol=1e-6)
    np.testing.assert_allclose(crf.log_likelihood(potentials, tags, np.ones((1, 3))), ll, rtol=1e-6)
    path, best = crf.decode(potentials)
    padded_path, padded_best = crf.decode(padded, mask)
    np.testing.assert_array_equal(np.asarray(padded_path)[:, :3], path)
    np.testing.assert_array_equal(np.asarray(padded_path)[:, 3:], 0)
    np.testing.assert_allclose(padded_best, best, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(crf.marginals(padded, mask))[:, :3],
                               crf.marginals(potentials), atol=1e-6)

    # A row of length 0 beside a real one: finite, log-likelihood 0, decodes to 0s, finite gradients.
    two = tf.Variable(np.concatenate([padded, padded], axis=0))
    two_mask = np.stack([mask[0], np.zeros(5, bool)])
    with tf.GradientTape() as tape:
        lls = crf.log_likelihood(two, np.concatenate([padded_tags, -np.ones((1, 5), int)]), two_mask)
        total = -tf.reduce_sum(lls)
    grads = tape.gradient(total, [two] + crf.trainable_weights)
    assert np.asarray(lls)[1] == 0.0 and np.asarray(lls)[0] == pytest.approx(float(ll[0]), rel=1e-6)
    assert all(np.all(np.isfinite(g)) for g in grads)
    assert np.all(np.asarray(grads[0])[1] == 0) and np.all(np.asarray(grads[0])[0, 3:] == 0)
    empty_path, empty_best = crf.decode(two, two_mask)
    assert np.all(np.asarray(empty_path)[1] == 0) and float(empty_best[1]) == 0.0
    assert np.all(np.asarray(crf.marginals(two, two_mask))[1] == 0)


def test_decode_and_likelihood_in_compiled_function_with_unknown_time():
    crf = make_crf(True, seed=10)
    spec = [tf.TensorSpec((None, None, NUM_TAGS), tf.float32), tf.TensorSpec((None, None), tf.bool)]
    decode = tf.function(lambda p, m: crf.decode(p, m), input_signature=spec)
    tags_spec = tf.TensorSpec((None, None), tf.int32)
    likelihood = tf.function(lambda p, y, m: crf.log_likelihood(p, y, m),
                             input_signature=[spec[0], tags_spec, spec[1]])
    potentials, mask = random_potentials(11), length_mask(LENGTHS)
    eager_tags, eager_best = crf.decode(potentials, mask)
    graph_tags, graph_best = decode(potentials, mask)
    np.testing.assert_array_equal(graph_tags, eager_tags)
    np.testing.assert_allclose(graph_best, eager_best, rtol=1e-6)
    tags = np.asarray(eager_tags)
    np.testing.assert_allclose(likelihood(potentials, tags, mask),
                               crf.log_likelihood(potentials, tags, mask), rtol=1e-6)


@pytest.mark.parametrize("batch_dimension", [None, 3])
def test_compiled_functions_with_a_known_batch_and_unknown_time_match_eager(batch_dimension):
    """Traced with shape (B, None, tags), longer than B steps: every step counts (Keras's
    TensorFlow rnn, time-major with an unknown time, once ran only B steps of the forward pass,
    which made the likelihood and the marginals wrong)."""
    crf = make_crf(True, seed=12)
    rng = np.random.default_rng(12)
    lengths = [9, 4, 7]
    potentials = rng.normal(size=(3, 9, NUM_TAGS)).astype("float32")
    mask = np.arange(9)[None, :] < np.array(lengths)[:, None]
    tags = np.asarray(crf.decode(potentials, mask)[0])
    spec = [tf.TensorSpec((batch_dimension, None, NUM_TAGS), tf.float32),
            tf.TensorSpec((batch_dimension, None), tf.bool)]
    marginals = tf.function(lambda p, m: crf.marginals(p, m), input_signature=spec)
    likelihood = tf.function(lambda p, y, m: crf.log_likelihood(p, y, m), input_signature=[
        spec[0], tf.TensorSpec((batch_dimension, None), tf.int32), spec[1]])
    np.testing.assert_allclose(marginals(potentials, mask), crf.marginals(potentials, mask),
                               atol=1e-6)
    np.testing.assert_allclose(np.asarray(marginals(potentials, mask)).sum(-1)[mask], 1.0,
                               atol=1e-5)
    np.testing.assert_allclose(likelihood(potentials, tags, mask),
                               crf.log_likelihood(potentials, tags, mask), rtol=1e-6)


def test_mixed_precision_computes_in_float32():
    crf = zoo.CRF(NUM_TAGS, dtype="mixed_float16")
    potentials = random_potentials(12)
    out = crf(keras.ops.cast(potentials, "float16"))
    assert out.dtype == "float16" and crf.transitions.dtype == "float32"
    ll = crf.log_likelihood(out, np.zeros((len(LENGTHS), T_MAX), int), length_mask(LENGTHS))
    assert ll.dtype == "float32"
    reference = zoo.CRF(NUM_TAGS).log_likelihood(out, np.zeros((len(LENGTHS), T_MAX), int),
                                                  length_mask(LENGTHS))
    np.testing.assert_allclose(ll, reference, rtol=1e-6)


# --------------------------------------------------------------------------------------------------
# Gradients

def test_gradients_match_finite_differences():
    crf = make_crf(True, seed=13, dtype="float64")
    assert crf.transitions.dtype == "float64"
    potentials = random_potentials(14).astype(np.float64)
    tags = np.array([[0, 1, 1, 0], [2, 0, 1, -1], [1, -1, -1, -1], [0, 0, -1, -1]])
    mask = tags >= 0
    loss = zoo.CRFLoss(crf, dtype="float64")

    variable = tf.Variable(potentials)
    with tf.GradientTape() as tape:
        nll = tf.reduce_sum(loss.call(tags, variable))
    weights = [crf.transitions, crf.start_transitions, crf.end_transitions]
    grads = [np.asarray(g) for g in tape.gradient(nll, [variable] + weights)]

    def brute_nll(p, a, s, e):
        a = a + np.where(ALLOWED, 0.0, DISALLOWED_SCORE)
        s = s + np.where(ALLOWED_START, 0.0, DISALLOWED_SCORE)
        e = e + np.where(ALLOWED_END, 0.0, DISALLOWED_SCORE)
        total = 0.0
        for b, row in enumerate(tags):
            length = int(mask[b].sum())
            _, _, log_z = brute_force(p[b], length, a, s, e)
            total -= path_score(p[b], list(row[:length]), a, s, e) - log_z
        return total

    params = [potentials.copy()] + [np.asarray(w.numpy(), np.float64).copy() for w in weights]
    assert float(nll) == pytest.approx(brute_nll(*params), rel=1e-10)
    eps = 1e-5
    for k, (param, grad) in enumerate(zip(params, grads)):
        assert np.all(np.isfinite(grad))
        numeric = np.zeros_like(param)
        for idx in np.ndindex(param.shape):
            saved = param[idx]
            param[idx] = saved + eps
            up = brute_nll(*params)
            param[idx] = saved - eps
            down = brute_nll(*params)
            param[idx] = saved
            numeric[idx] = (up - down) / (2 * eps)
        np.testing.assert_allclose(grad, numeric, atol=1e-6, err_msg=f"parameter {k}")
    assert np.all(grads[0][~mask] == 0)              # padded positions get no gradient


# --------------------------------------------------------------------------------------------------
# Training in a model

def cycle_data(num, time, seed):
    """Tags follow y_t = (y_{t-1} + 1) mod 3; only the first step's input reveals y_0, the rest is
    noise. Right padded (x = 0, y = -1) to `time`."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(3, time + 1, size=num)
    x = np.zeros((num, time, 4), "float32")
    y = -np.ones((num, time), "int32")
    for i, length in enumerate(lengths):
        first = rng.integers(NUM_TAGS)
        y[i, :length] = (first + np.arange(length)) % NUM_TAGS
        x[i, 0, first] = 1.0
        x[i, 1:length, 3] = rng.normal(size=length - 1)
    return x, y, lengths


def crf_model(crf):
    """Input -> Masking -> Dense -> CRF: the padding mask reaches the CRF, which must not pass it
    on to the per-sequence loss (a (batch, time) mask on (batch,) losses fails to broadcast)."""
    inputs = keras.Input((None, 4))
    masked = keras.layers.Masking(0.0)(inputs)
    potentials = keras.layers.Dense(NUM_TAGS, name="emissions")(masked)
    return keras.Model(inputs, crf(potentials))


def test_model_fit_learns_transition_rule(tmp_path):
    keras.utils.set_random_seed(0)
    x, y, lengths = cycle_data(256, 8, seed=0)
    crf = zoo.CRF(NUM_TAGS, name="crf")
    model = crf_model(crf)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=zoo.CRFLoss(crf))
    before = crf.transitions.numpy().copy()
    history = model.fit(x, y, batch_size=32, epochs=12, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.25 * losses[0], losses
    assert np.abs(crf.transitions.numpy() - before).max() > 0.5

    x_test, y_test, test_lengths = cycle_data(128, 8, seed=1)
    mask = y_test >= 0
    potentials = model.predict(x_test, verbose=0)
    tags = np.asarray(crf.decode(potentials, mask)[0])
    crf_accuracy = np.mean(tags[mask] == y_test[mask])
    emission_accuracy = np.mean(np.argmax(potentials, -1)[mask] == y_test[mask])
    # Best any per-token (emission-only) tagger can do: step 0 right, later steps 1 in 3.
    emission_bound = (len(test_lengths) + (test_lengths.sum() - len(test_lengths)) / 3) / test_lengths.sum()
    assert emission_bound < 0.5
    assert crf_accuracy > 0.97 > emission_bound + 0.3, (crf_accuracy, emission_accuracy)
    # The learned transitions encode the cycle 0 -> 1 -> 2 -> 0.
    assert list(np.argmax(crf.transitions.numpy(), axis=1)) == [1, 2, 0]
    # The compiled loss is the mean per-sequence negative log-likelihood, unweighted by any mask.
    nll = -np.asarray(crf.log_likelihood(potentials, y_test, mask))
    assert model.evaluate(x_test, y_test, batch_size=len(x_test), verbose=0) == pytest.approx(
        nll.mean(), rel=1e-5)

    # Save the trained (compiled) model and load it without compiling.
    path = tmp_path / "crf_model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False)
    loaded_crf = loaded.get_layer("crf")
    assert isinstance(loaded_crf, zoo.CRF)
    loaded_potentials = loaded.predict(x_test, verbose=0)
    np.testing.assert_array_equal(loaded_potentials, potentials)
    np.testing.assert_array_equal(loaded_crf.decode(loaded_potentials, mask)[0], tags)
    np.testing.assert_array_equal(loaded_crf.transitions.numpy(), crf.transitions.numpy())
    # Compiling the loaded model from the saved config is impossible; the error says what to do.
    with pytest.raises(ValueError, match="compile=False"):
        keras.saving.load_model(path, compile=True)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="XLA via TensorFlow")
def test_training_compiles_with_xla_and_matches_the_plain_step(xla_allowed):
    """The loss differentiates through the forward algorithm's loop, which XLA compiles only
    with a bounded loop (Keras's TensorFlow ops.scan has none); Keras would otherwise fail."""
    x, y, _ = cycle_data(32, 6, seed=2)
    losses = {}
    for jit_compile in (False, True):
        keras.utils.set_random_seed(0)
        crf = zoo.CRF(NUM_TAGS, name="crf")
        model = crf_model(crf)
        model.compile(optimizer=keras.optimizers.Adam(0.05), loss=zoo.CRFLoss(crf),
                      jit_compile=jit_compile)
        assert model.jit_compile is jit_compile
        losses[jit_compile] = [float(model.train_on_batch(x, y)) for _ in range(3)]
    np.testing.assert_allclose(losses[True], losses[False], rtol=1e-4)
    assert losses[True][-1] < losses[True][0]


def test_config_round_trip_and_saved_constraints(tmp_path):
    allowed, start, end = iob2_constraints(IOB2_NAMES)
    crf = zoo.CRF(5, allowed_transitions=allowed, allowed_start=start, allowed_end=end, name="crf")
    config = crf.get_config()
    assert config["allowed_transitions"] == allowed.tolist() and config["num_tags"] == 5
    clone = zoo.CRF.from_config(config)
    np.testing.assert_array_equal(clone.allowed_transitions, allowed)
    np.testing.assert_array_equal(clone.allowed_start, start)
    assert clone.get_config() == config
    assert zoo.CRF(3).get_config()["allowed_transitions"] is None

    inputs = keras.Input((None, 2))
    model = keras.Model(inputs, crf(keras.layers.Dense(5)(inputs)))
    rng = np.random.default_rng(15)
    crf.transitions.assign(rng.normal(size=(5, 5)))
    path = tmp_path / "constrained.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False)
    x = rng.normal(size=(3, 6, 2)).astype("float32")
    p, q = model.predict(x, verbose=0), loaded.predict(x, verbose=0)
    np.testing.assert_array_equal(p, q)
    np.testing.assert_array_equal(loaded.get_layer("crf").decode(q)[0], crf.decode(p)[0])
    np.testing.assert_array_equal(loaded.get_layer("crf").allowed_transitions, allowed)


# --------------------------------------------------------------------------------------------------
# Errors

def test_clear_errors():
    for bad in (0, -2, 2.5, True, "3"):
        with pytest.raises(ValueError, match="num_tags"):
            zoo.CRF(bad)
    with pytest.raises(ValueError, match=r"allowed_transitions.*shape \(3, 3\).*\(2, 3\)"):
        zoo.CRF(3, allowed_transitions=np.ones((2, 3), bool))
    with pytest.raises(ValueError, match=r"allowed_start.*shape \(3,\)"):
        zoo.CRF(3, allowed_start=[True, False])
    with pytest.raises(ValueError, match="allowed_end.*forbids every tag"):
        zoo.CRF(3, allowed_end=[False, False, False])
    with pytest.raises(ValueError, match="booleans"):
        zoo.CRF(2, allowed_start=[0.5, 1])
    crf = zoo.CRF(3)
    with pytest.raises(ValueError, match=r"last dimension 4.*num_tags=3"):
        crf(keras.Input((None, 4)))
    with pytest.raises(ValueError, match=r"last dimension 5.*num_tags=3"):
        crf.log_likelihood(np.zeros((1, 2, 5), "float32"), np.zeros((1, 2), int))
    with pytest.raises(ValueError, match=r"last dimension 2.*num_tags=3"):
        crf.decode(np.zeros((1, 2, 2), "float32"))
    with pytest.raises(ValueError, match=r"shape \(batch, time\)"):
        crf.log_likelihood(np.zeros((1, 2, 3), "float32"), np.zeros((1, 2, 3), int))
    with pytest.raises(TypeError, match="zoo.CRF"):
        zoo.CRFLoss(keras.layers.Dense(3))
    with pytest.raises(ValueError, match="IOB2"):
        iob2_constraints(["O", "PER"])


# --------------------------------------------------------------------------------------------------
# JAX backend (in a subprocess: the backend is fixed per process)

JAX_SCRIPT = textwrap.dedent("""
    import itertools, numpy as np, jax, keras, zoo
    assert keras.backend.backend() == "jax"
    keras.utils.set_random_seed(0)
    allowed = np.array([[1, 1, 0], [0, 1, 1], [1, 1, 1]], bool)
    crf = zoo.CRF(3, allowed_transitions=allowed, name="crf")
    crf.build((None, None, 3))
    rng = np.random.default_rng(0)
    crf.transitions.assign(rng.normal(size=(3, 3)).astype("float32"))
    p = rng.normal(size=(2, 4, 3)).astype("float32")
    mask = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], bool)
    a = np.asarray(crf.transitions) + np.where(allowed, 0, -1e4)
    def score(row, path):
        return sum(row[t, y] for t, y in enumerate(path)) + sum(a[i, j] for i, j in zip(path, path[1:]))
    rows, tags, expected, best = [], [], [], []
    for b in range(2):
        length = int(mask[b].sum())
        paths = list(itertools.product(range(3), repeat=length))
        scores = np.array([score(p[b], q) for q in paths])
        rows += [b] * len(paths)
        tags += [list(q) + [-1] * (4 - length) for q in paths]
        expected += list(scores - np.logaddexp.reduce(scores))
        best.append(list(paths[int(np.argmax(scores))]) + [0] * (4 - length))
    tags = np.array(tags)
    ll = jax.jit(crf.log_likelihood)(p[rows], tags, tags >= 0)
    np.testing.assert_allclose(np.asarray(ll), expected, rtol=1e-5, atol=1e-4)
    assert np.asarray(jax.jit(crf.decode)(p, mask)[0]).tolist() == best
    x = np.zeros((128, 6, 4), "float32"); y = np.zeros((128, 6), "int32")
    first = rng.integers(3, size=128)
    x[np.arange(128), 0, first] = 1.0
    x[:, 1:, 3] = rng.normal(size=(128, 5))
    y[:] = (first[:, None] + np.arange(6)) % 3
    crf2 = zoo.CRF(3, name="crf")
    inputs = keras.Input((None, 4))
    masked = keras.layers.Masking(0.0)(inputs)
    model = keras.Model(inputs, crf2(keras.layers.Dense(3)(masked)))
    model.compile(keras.optimizers.Adam(0.05), loss=zoo.CRFLoss(crf2))
    history = model.fit(x, y, batch_size=32, epochs=10, verbose=0).history["loss"]
    assert history[-1] < 0.25 * history[0], history
    assert list(np.argmax(np.asarray(crf2.transitions), 1)) == [1, 2, 0], np.asarray(crf2.transitions)
    tags = np.asarray(crf2.decode(model.predict(x, verbose=0))[0])
    assert np.mean(tags == y) > 0.97
    print("JAX OK", history[0], history[-1])
""")


@pytest.mark.slow  # ~15 s: a fresh process importing keras + jax and compiling
@needs_jax
def test_jax_backend_likelihood_decode_and_training():
    assert "JAX OK" in run_under_jax(JAX_SCRIPT)
