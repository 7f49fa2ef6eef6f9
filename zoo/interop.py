"""Course weights ↔ Keras's own recurrent layers.

    keras.layers.SimpleRNN          kernel = W_a[:, n_a:]ᵀ, recurrent_kernel = W_a[:, :n_a]ᵀ, bias = b_a
    keras.layers.GRU(reset_after=False)
                                    gate blocks z, r, h with z = 1 − Γ_u, so the z block is −W_u, −b_u
                                    (σ(−x) = 1 − σ(x)); r is Γ_r (W_r, b_r); h is c̃ (W_c, b_c)
    keras.layers.LSTM               gate blocks i, f, c, o = Γ_u, Γ_f, c̃, Γ_o

In each block, the x-half of W_k (columns n_a:) transposed goes into `kernel` and the state half
(columns :n_a) transposed into `recurrent_kernel`. The simplified GRU and the peephole LSTM have
no Keras counterpart.
"""
import numpy as np

# Keras's block order, each entry (course gate, sign).
KERAS_BLOCKS = {
    "simple_rnn": (("a", 1.0),),
    "gru": (("u", -1.0), ("r", 1.0), ("c", 1.0)),
    "lstm": (("u", 1.0), ("f", 1.0), ("c", 1.0), ("o", 1.0)),
}


def _check_kind(kind):
    if kind not in KERAS_BLOCKS:
        raise ValueError(f"kind must be one of {sorted(KERAS_BLOCKS)}; received kind={kind!r}")
    return KERAS_BLOCKS[kind]


def course_to_keras(kind, course_weights):
    """[kernel, recurrent_kernel, bias] for `keras_layer.set_weights` from course weights."""
    blocks = _check_kind(kind)
    n_a = np.shape(course_weights[f"b_{blocks[0][0]}"])[0]
    kernels, recurrent_kernels, biases = [], [], []
    for gate, sign in blocks:
        matrix = sign * np.asarray(course_weights[f"W_{gate}"])
        recurrent_kernels.append(matrix[:, :n_a].T)
        kernels.append(matrix[:, n_a:].T)
        biases.append(sign * np.asarray(course_weights[f"b_{gate}"]))
    return [np.concatenate(kernels, 1), np.concatenate(recurrent_kernels, 1), np.concatenate(biases)]


def keras_to_course(kind, keras_weights):
    """Course weights from a Keras layer's `get_weights()` (kernel, recurrent_kernel, bias)."""
    blocks = _check_kind(kind)
    kernel, recurrent_kernel, bias = (np.asarray(w) for w in keras_weights[:3])
    if bias.ndim != 1:
        raise ValueError(
            f"expected a bias of shape (G·n_a,) (for GRU use reset_after=False); received {bias.shape}"
        )
    n_a = recurrent_kernel.shape[0]
    course = {}
    for index, (gate, sign) in enumerate(blocks):
        columns = slice(index * n_a, (index + 1) * n_a)
        course[f"W_{gate}"] = sign * np.concatenate([recurrent_kernel[:, columns].T, kernel[:, columns].T], 1)
        course[f"b_{gate}"] = sign * bias[columns]
    return course
