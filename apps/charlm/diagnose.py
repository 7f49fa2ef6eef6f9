"""`diagnose`: why the course moves from the basic RNN to GRUs and LSTMs, measured.

1. Vanishing gradients. For a basic RNN, a GRU and an LSTM language model on T-character chunks
   of the text, the norm of ∂L⟨T⟩/∂a⟨t⟩ for t = T … 1, where L⟨T⟩ is the cross-entropy of the last
   character only: how much the last prediction can still teach the state t steps back. Computed
   in float64 with the course's step-by-step backward (`zoo.reference.*_cell_backward`) on the
   trained Keras weights (`get_course_weights`), at initialization and after a short training;
   the mean over a batch of chunks. For the LSTM also ∂L⟨T⟩/∂c⟨t⟩, the memory cell's gradient
   (c⟨t⟩ reaches the loss through c⟨t+1⟩ and through a⟨t⟩ = Γ_o * tanh(c⟨t⟩)).
2. Exploding gradients. A basic RNN whose recurrent weights are scaled up (W_aa ~ N(0, s²/n_a),
   spectral radius ≈ s) trained with the course's SGD (learning rate 0.01) without clipping and
   with the course's clipping of every gradient element to [−5, 5]: gradient norm (before
   clipping) and loss per step, and where they stop being finite. ReLU and tanh activations.
3. Long-range memory. Token sequences "cat|cats, <gap> random filler tokens, was|were": the
   first token decides the last. A basic RNN, a GRU and an LSTM language model learn it (loss on
   the last token only) for gaps 10, 25, 50, 100; accuracy on fresh sequences (chance = 50 %).

Everything goes to `out`: vanishing.png, exploding.png, memory.png and diagnose.md (tables,
settings). Small models and few steps: it runs in minutes on a CPU and reports what it sees.
"""
import math
import time
from pathlib import Path

import numpy as np

from apps.common.atomic import atomic_write_text, replacing
from apps.common.errors import UserError
from apps.charlm.config import CELLS
from apps.charlm.data import chunk, detect_format, read_text, resolve_text_path
from zoo import reference
from zoo.text import Vocabulary

GRADIENT_SEQUENCES = 16          # chunks averaged over in part 1
EXPLODING_SCALE = 2.0            # s: the recurrent weights' spectral radius in part 2
EXPLODING_LEARNING_RATE = 0.01   # the course's SGD step
COURSE_CLIPVALUE = 5.0
MEMORY_FILLERS = 10              # distinct filler tokens in part 3
MEMORY_TEST_EXAMPLES = 500


def parse_list(name, text) -> list:
    try:
        values = [int(part) for part in str(text).split(",") if part.strip()]
    except ValueError:
        raise UserError(f"{name} must be a comma-separated list of whole numbers; received "
                        f"{text!r}") from None
    if not values or any(value < 1 for value in values):
        raise UserError(f"{name} must list whole numbers >= 1; received {text!r}")
    return values


# ----------------------------------------------------------------------------------------------
# Part 1: ∂L⟨T⟩/∂a⟨t⟩ with the course's backward.

def text_chunks(text, length):
    """(vocabulary, chunks (N, length)) of the file as running text (names lower-cased)."""
    path = resolve_text_path(text)
    raw = read_text(path)
    lowercase = detect_format(raw) == "names"
    vocabulary = Vocabulary.build([raw], level="char", eos=False, lowercase=lowercase)
    ids = vocabulary.encode(raw)
    if len(ids) < length:
        raise UserError(f"{path} has {len(ids)} characters, fewer than --length {length}")
    return vocabulary, chunk(ids, length)


def shifted_one_hot(targets, depth):
    """x (n_x, m, T) of the course layout: x⟨1⟩ = 0, x⟨t⟩ = one-hot(y⟨t−1⟩)."""
    m, steps = targets.shape
    x = np.zeros((depth, m, steps))
    for t in range(1, steps):
        x[targets[:, t - 1], np.arange(m), t] = 1.0
    return x


def gradient_norms(model, cell, targets):
    """Per-sequence norms (m, T) of ∂L⟨T⟩/∂a⟨t⟩, of ∂L⟨T⟩/∂c⟨t⟩ (LSTM, else None; the total
    derivative, through c⟨t+1⟩ and through a⟨t⟩ = Γ_o * tanh(c⟨t⟩)), and the
    largest |p_reference − p_keras| at step T (the reference must run the same network)."""
    layer = model.get_layer("recurrent_1")
    parameters = {key: np.asarray(value, dtype=np.float64)
                  for key, value in layer.get_course_weights().items()}
    logits = model.get_layer("logits")
    W_y = np.asarray(logits.kernel.numpy(), dtype=np.float64).T          # (V, n_a)
    b_y = np.asarray(logits.bias.numpy(), dtype=np.float64)
    m, steps = targets.shape
    x = shifted_one_hot(targets, W_y.shape[0])
    if cell == "rnn":
        a, (caches, _) = reference.rnn_forward(x, None, parameters)
    elif cell == "gru":
        a, (caches, _) = reference.gru_forward(x, None, parameters)
    else:
        a, _, (caches, _) = reference.lstm_forward(x, None, parameters)
    z = W_y @ a[:, :, -1] + b_y[:, None]
    p = np.exp(z - z.max(axis=0))
    p /= p.sum(axis=0)
    keras_p = np.asarray(model(targets, training=False), dtype=np.float64)[:, -1, :].T
    agreement = float(np.max(np.abs(p - keras_p)))
    dz = p.copy()
    dz[targets[:, -1], np.arange(m)] -= 1.0                               # ŷ⟨T⟩ − y⟨T⟩
    da = W_y.T @ dz                                                       # ∂L⟨T⟩/∂a⟨T⟩
    dc = np.zeros_like(da)
    norms = np.zeros((m, steps))
    norms[:, -1] = np.linalg.norm(da, axis=0)
    c_norms = None
    if cell == "lstm":                                                    # ∂L⟨T⟩/∂c⟨T⟩ via a⟨T⟩
        c_next, gamma_o = caches[-1][1], caches[-1][7]
        c_norms = np.zeros((m, steps))
        c_norms[:, -1] = np.linalg.norm(da * gamma_o * (1 - np.tanh(c_next) ** 2), axis=0)
    for t in range(steps - 1, 0, -1):                                     # back to a⟨1⟩
        if cell == "rnn":
            da = reference.rnn_cell_backward(da, caches[t])["da_prev"]
        elif cell == "gru":
            da = reference.gru_cell_backward(da, caches[t])["dc_prev"]
        else:
            step = reference.lstm_cell_backward(da, dc, caches[t])
            da, dc = step["da_prev"], step["dc_prev"]
            c_prev, gamma_o = caches[t - 1][1], caches[t - 1][7]             # c⟨t−1⟩ also feeds a⟨t−1⟩
            c_norms[:, t - 1] = np.linalg.norm(
                dc + da * gamma_o * (1 - np.tanh(c_prev) ** 2), axis=0)
        norms[:, t - 1] = np.linalg.norm(da, axis=0)
    return norms, c_norms, agreement


def train_steps_on(model, data, steps, batch_size, seed, learning_rate=0.01, clipvalue=5.0):
    """Adam for `steps` batches of `data` (targets (N, T)); returns the last 20 steps' mean loss."""
    import keras
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipvalue=clipvalue),
                  loss=keras.losses.SparseCategoricalCrossentropy())
    rng = np.random.default_rng(seed)
    batches = rng.integers(0, len(data), size=(steps, batch_size))
    losses = [float(model.train_on_batch(data[rows], data[rows])) for rows in batches]
    return float(np.mean(losses[-20:]))


def vanishing_part(text, length, units, train_steps, seed, out):
    import keras
    from apps.common.training import set_seed
    from zoo import builders
    vocabulary, chunks = text_chunks(text, length)
    probe = chunks[:GRADIENT_SEQUENCES]
    rows = []
    for cell in CELLS:
        set_seed(seed)
        model = builders.language_model(len(vocabulary), cell=cell, units=units)
        started = time.perf_counter()
        init_norms, init_c, init_agreement = gradient_norms(model, cell, probe)
        loss = train_steps_on(model, chunks, train_steps, 32, seed)
        trained_norms, trained_c, trained_agreement = gradient_norms(model, cell, probe)
        rows.append({"cell": cell, "state": "a", "init": init_norms.mean(axis=0),
                     "trained": trained_norms.mean(axis=0), "loss": loss,
                     "agreement": max(init_agreement, trained_agreement),
                     "seconds": time.perf_counter() - started})
        if init_c is not None:
            rows.append({**rows[-1], "state": "c", "init": init_c.mean(axis=0),
                         "trained": trained_c.mean(axis=0)})
        keras.backend.clear_session()
    plot_vanishing(rows, length, out / "vanishing.png")
    return vanishing_markdown(rows, length, units, train_steps, len(vocabulary))


def plot_vanishing(rows, length, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axis = plt.subplots(figsize=(7, 4.5))
    colors = {"rnn": "tab:red", "gru": "tab:blue", "lstm": "tab:green"}
    back = np.arange(length)                                               # T − t
    for row in rows:
        name = row["cell"] + (" c⟨t⟩" if row["state"] == "c" else "")
        width = 1.0 if row["state"] == "c" else 1.8
        axis.semilogy(back, row["init"][::-1], color=colors[row["cell"]], linestyle="--",
                      linewidth=width, alpha=0.8, label=f"{name} at initialization")
        axis.semilogy(back, row["trained"][::-1], color=colors[row["cell"]], linewidth=width,
                      linestyle=":" if row["state"] == "c" else "-", label=f"{name} trained")
    axis.set_xlabel("steps back from the last character, T − t")
    axis.set_ylabel("‖∂L⟨T⟩/∂a⟨t⟩‖ (LSTM also c⟨t⟩), mean over sequences")
    axis.set_title(f"Gradient of the last step's loss back through time (T = {length})")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    save_figure(figure, path)
    plt.close(figure)


def save_figure(figure, path):
    with replacing(path) as temporary:
        figure.savefig(temporary, dpi=110, format="png")


def vanishing_markdown(rows, length, units, train_steps, vocabulary_size):
    distances = [d for d in (0, 1, 10, 25, 50, length - 1) if d < length]
    distances = list(dict.fromkeys(distances))
    header = ("| cell | state | weights | "
              + " | ".join(f"t = T−{d}" if d else "t = T" for d in distances)
              + " | ratio t = 1 / t = T |")
    lines = [f"## 1. Vanishing gradients: ‖∂L⟨T⟩/∂a⟨t⟩‖, T = {length}", "",
             f"Language models with {units} units on {GRADIENT_SEQUENCES} chunks of {length} "
             f"characters (vocabulary {vocabulary_size}); mean norm over the chunks; "
             f"\"trained\" = after {train_steps} Adam steps (batch 32, learning rate 0.01, clip 5). "
             "Float64 backward of zoo.reference on the Keras weights.", "", header,
             "|" + " --- |" * (len(distances) + 4)]
    for row in rows:
        for state in ("init", "trained"):
            norms = row[state]
            values = [norms[length - 1 - d] for d in distances]
            ratio = norms[0] / norms[-1] if norms[-1] > 0 else float("nan")
            lines.append(f"| {row['cell']} | {row['state']}⟨t⟩ | "
                         f"{'initial' if state == 'init' else 'trained'} | "
                         + " | ".join(f"{v:.3g}" for v in values) + f" | {ratio:.3g} |")
    cells = [row for row in rows if row["state"] == "a"]
    lines += ["", "For the LSTM, a⟨t⟩ and c⟨t⟩ are separate states: the a⟨t⟩ row is the gradient "
              "with respect to a⟨t⟩, the c⟨t⟩ row the one with respect to the memory cell "
              "(through c⟨t+1⟩, the path the forget gate keeps open, and through a⟨t⟩). "
              "For the GRU a⟨t⟩ = c⟨t⟩.",
              "", "Training loss after the short training (nats/char, last 20 steps): "
              + ", ".join(f"{row['cell']} {row['loss']:.3f}" for row in cells) + ".",
              "Largest |p_reference − p_keras| at step T (checks that the reference runs the "
              "same network): " + ", ".join(f"{row['cell']} {row['agreement']:.1e}"
                                             for row in cells) + ".", ""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# Part 2: exploding gradients with and without clipping.

def exploding_run(chunks, vocabulary_size, units, activation, clipvalue, steps, seed):
    """Per-step (loss, gradient norm before clipping) of SGD on a big-weight basic RNN."""
    import keras
    import tensorflow as tf
    from apps.common.training import set_seed
    from zoo import builders
    set_seed(seed)
    model = builders.language_model(vocabulary_size, cell="rnn", units=units,
                                    cell_options={"activation": activation})
    logits_model = keras.Model(model.input, model.get_layer("logits").output)
    recurrent = model.get_layer("recurrent_1").cell.recurrent_kernel
    rng = np.random.default_rng(seed)
    recurrent.assign((rng.standard_normal((units, units)) * EXPLODING_SCALE / math.sqrt(units))
                     .astype("float32"))
    options = {} if clipvalue is None else {"clipvalue": clipvalue}
    optimizer = keras.optimizers.SGD(EXPLODING_LEARNING_RATE, **options)
    variables = model.trainable_variables

    @tf.function
    def step(targets):
        with tf.GradientTape() as tape:
            logits = logits_model(targets, training=True)
            loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(
                targets, logits, from_logits=True))
        gradients = tape.gradient(loss, variables)
        norm = tf.linalg.global_norm(gradients)
        optimizer.apply(gradients, variables)
        return loss, norm

    batches = rng.integers(0, len(chunks), size=(steps, 32))
    record = np.array([[float(v) for v in step(tf.constant(chunks[rows]))] for rows in batches])
    weights_finite = all(np.isfinite(v.numpy()).all() for v in variables)
    keras.backend.clear_session()
    return record, weights_finite


def exploding_part(text, length, units, train_steps, seed, out):
    vocabulary, chunks = text_chunks(text, length)
    runs = []
    for activation in ("relu", "tanh"):
        for clipvalue in (None, COURSE_CLIPVALUE):
            record, weights_finite = exploding_run(chunks, len(vocabulary), units, activation,
                                                   clipvalue, train_steps, seed)
            runs.append({"activation": activation, "clipvalue": clipvalue, "record": record,
                         "weights_finite": weights_finite})
    plot_exploding(runs, out / "exploding.png")
    return exploding_markdown(runs, length, units, train_steps, len(vocabulary))


def first_nonfinite(values):
    bad = np.flatnonzero(~np.isfinite(values))
    return None if bad.size == 0 else int(bad[0]) + 1


def plot_exploding(runs, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(7.5, 7), sharex=True)
    styles = {None: "-", COURSE_CLIPVALUE: "--"}
    colors = {"relu": "tab:red", "tanh": "tab:blue"}
    for run in runs:
        steps = np.arange(1, len(run["record"]) + 1)
        label = (f"{run['activation']}, "
                 + ("no clipping" if run["clipvalue"] is None else f"clip {run['clipvalue']:g}"))
        norms = np.where(np.isfinite(run["record"][:, 1]), run["record"][:, 1], np.nan)
        losses = np.where(np.isfinite(run["record"][:, 0]), run["record"][:, 0], np.nan)
        top.semilogy(steps, norms, styles[run["clipvalue"]], color=colors[run["activation"]],
                     label=label)
        bottom.semilogy(steps, losses, styles[run["clipvalue"]], color=colors[run["activation"]],
                        label=label)
        bad = first_nonfinite(run["record"][:, 0])
        if bad is not None:
            bottom.axvline(bad, color=colors[run["activation"]], alpha=0.4)
            bottom.annotate(f"  {label}: loss nan from step {bad}", (bad, 0.9),
                            xycoords=("data", "axes fraction"), fontsize=8,
                            color=colors[run["activation"]])
    top.set_ylabel("gradient norm before clipping")
    top.set_title(f"Basic RNN with recurrent spectral radius ≈ {EXPLODING_SCALE:g}, "
                  f"SGD {EXPLODING_LEARNING_RATE:g}")
    bottom.set_ylabel("loss, nats/char (log scale; nan not drawn)")
    bottom.set_xlabel("training step")
    for axis in (top, bottom):
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=8)
    figure.tight_layout()
    save_figure(figure, path)
    plt.close(figure)


def exploding_markdown(runs, length, units, train_steps, vocabulary_size):
    lines = [f"## 2. Exploding gradients: basic RNN, recurrent weights ~ N(0, {EXPLODING_SCALE:g}²/n_a)",
             "", f"{units} units, chunks of {length} characters, SGD learning rate "
             f"{EXPLODING_LEARNING_RATE:g} (the course's), batch 32, {train_steps} steps; loss "
             "computed from the logits. Gradient norm = global L2 norm of all gradients before "
             f"clipping; chance-level loss = ln {vocabulary_size} = {math.log(vocabulary_size):.3f}.",
             "", "| activation | clipping | gradient norm, step 1 | largest finite norm | "
             "steps with nan/inf gradient | first nan/inf loss | loss, last 20 steps | "
             "weights finite at end |", "|" + " --- |" * 8]
    for run in runs:
        record = run["record"]
        norms, losses = record[:, 1], record[:, 0]
        finite_norms = norms[np.isfinite(norms)]
        bad_loss = first_nonfinite(losses)
        tail = losses[-20:]
        tail_text = (f"{np.mean(tail):.3f}" if np.all(np.isfinite(tail)) else "nan")
        lines.append(
            f"| {run['activation']} | "
            + ("none" if run["clipvalue"] is None else f"clipvalue {run['clipvalue']:g}")
            + f" | {norms[0]:.3g} | {finite_norms.max() if finite_norms.size else float('nan'):.3g}"
            f" | {int(np.sum(~np.isfinite(norms)))} of {len(norms)} | "
            + ("never" if bad_loss is None else f"step {bad_loss}")
            + f" | {tail_text} | {'yes' if run['weights_finite'] else 'no'} |")
    lines.append("")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# Part 3: long-range memory.

def memory_data(count, gap, rng):
    """Targets (count, gap + 2): subject (1 cat / 2 cats), `gap` fillers, verb (was / were)."""
    fillers = 3 + np.arange(MEMORY_FILLERS)
    was, were = 3 + MEMORY_FILLERS, 4 + MEMORY_FILLERS
    plural = rng.integers(0, 2, size=count)
    data = np.empty((count, gap + 2), dtype=np.int32)
    data[:, 0] = 1 + plural
    data[:, 1:-1] = rng.choice(fillers, size=(count, gap))
    data[:, -1] = np.where(plural == 1, were, was)
    return data


def memory_accuracy(cell, gap, units, examples, epochs, seed):
    import keras
    from apps.common.training import set_seed
    from zoo import builders
    set_seed(seed)
    rng = np.random.default_rng(seed + gap)
    vocabulary_size = 5 + MEMORY_FILLERS
    train, test = memory_data(examples, gap, rng), memory_data(MEMORY_TEST_EXAMPLES, gap, rng)
    weights = np.zeros(train.shape, dtype=np.float32)
    weights[:, -1] = 1.0                                                  # the verb only
    model = builders.language_model(vocabulary_size, cell=cell, units=units)
    model.compile(optimizer=keras.optimizers.Adam(0.01, clipvalue=COURSE_CLIPVALUE),
                  loss=keras.losses.SparseCategoricalCrossentropy())
    started = time.perf_counter()
    model.fit(train, train, sample_weight=weights, batch_size=32, epochs=epochs, verbose=0,
              shuffle=True)
    seconds = time.perf_counter() - started
    probabilities = np.asarray(model(test, training=False))[:, -1, :]
    was, were = 3 + MEMORY_FILLERS, 4 + MEMORY_FILLERS
    predicted = np.where(probabilities[:, were] > probabilities[:, was], were, was)
    keras.backend.clear_session()
    return float(np.mean(predicted == test[:, -1])), seconds


def memory_part(gaps, units, examples, epochs, seed, out):
    results = {}
    for gap in gaps:
        for cell in CELLS:
            results[(cell, gap)] = memory_accuracy(cell, gap, units, examples, epochs, seed)
    plot_memory(results, gaps, out / "memory.png")
    lines = ["## 3. Long-range memory: \"cat|cats … was|were\"", "",
             f"The first token decides the last; between them `gap` tokens drawn uniformly from "
             f"{MEMORY_FILLERS} fillers. One-hot language models with {units} units, loss on the "
             f"verb only, Adam 0.01 (clip 5), {examples} training sequences, {epochs} epochs, "
             f"batch 32; accuracy on {MEMORY_TEST_EXAMPLES} fresh sequences (chance 50 %).", "",
             "| gap | " + " | ".join(CELLS) + " |", "|" + " --- |" * (len(CELLS) + 1)]
    for gap in gaps:
        lines.append(f"| {gap} | " + " | ".join(f"{results[(cell, gap)][0]:.1%}" for cell in CELLS)
                     + " |")
    total = sum(seconds for _, seconds in results.values())
    lines += ["", f"Training time for the {len(results)} models: {total:.0f} s.", ""]
    return "\n".join(lines)


def plot_memory(results, gaps, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axis = plt.subplots(figsize=(6.5, 4))
    width = 0.8 / len(CELLS)
    positions = np.arange(len(gaps))
    for index, cell in enumerate(CELLS):
        axis.bar(positions + index * width, [results[(cell, gap)][0] for gap in gaps], width,
                 label=cell)
    axis.axhline(0.5, color="gray", linestyle=":", label="chance")
    axis.set_xticks(positions + width * (len(CELLS) - 1) / 2, [str(gap) for gap in gaps])
    axis.set_xlabel("gap (filler tokens between subject and verb)")
    axis.set_ylabel("accuracy of was/were")
    axis.set_ylim(0, 1.05)
    axis.set_title("Long-range agreement: basic RNN vs GRU vs LSTM")
    axis.legend(fontsize=8)
    figure.tight_layout()
    save_figure(figure, path)
    plt.close(figure)


# ----------------------------------------------------------------------------------------------

def diagnose(out, *, text=None, parts=(1, 2, 3), length=100, units=50, train_steps=300,
             gaps=(10, 25, 50, 100), memory_units=32, memory_examples=2000, memory_epochs=10,
             seed=0) -> Path:
    """Run the chosen parts, write PNGs and diagnose.md to `out`; return diagnose.md's path."""
    unknown = sorted(set(parts) - {1, 2, 3})
    if unknown:
        raise UserError(f"--parts lists {unknown}; the parts are 1, 2 and 3")
    if length < 2:
        raise UserError(f"--length must be at least 2; received {length}")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file; give a folder")
    out.mkdir(parents=True, exist_ok=True)
    from apps.common.training import log_device
    log_device()
    sections = ["# apps.charlm diagnose", "",
                f"Settings: length {length}, units {units}, train steps {train_steps}, gaps "
                f"{list(gaps)}, memory units {memory_units}, memory examples {memory_examples}, "
                f"memory epochs {memory_epochs}, seed {seed}.", ""]
    steps = [(1, "vanishing gradients", lambda: vanishing_part(text, length, units, train_steps,
                                                               seed, out)),
             (2, "exploding gradients", lambda: exploding_part(text, length, units, train_steps,
                                                               seed, out)),
             (3, "long-range memory", lambda: memory_part(list(gaps), memory_units,
                                                          memory_examples, memory_epochs, seed,
                                                          out))]
    for number, title, run in steps:
        if number not in parts:
            continue
        started = time.perf_counter()
        print(f"part {number}: {title} ...", flush=True)
        section = run()
        print(section, flush=True)
        sections.append(section + f"\n(part {number} took {time.perf_counter() - started:.0f} s)\n")
        atomic_write_text(out / "diagnose.md", "\n".join(sections))
    print(f"wrote {out / 'diagnose.md'} and the PNGs in {out}", flush=True)
    return out / "diagnose.md"
