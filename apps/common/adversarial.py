"""Adversarial training on word embeddings (Miyato, Dai & Goodfellow, 2017, "Adversarial
training methods for semi-supervised text classification", ICLR).

Each training step adds to the loss the loss of the same batch with its embedded inputs moved by
the small perturbation that raises the loss fastest:

    L(theta)       the loss of the batch, e its embedded inputs (batch, time, dim)
    g = dL/de      (one gradient, taken through the whole network)
    r = epsilon * g / ||g||      ||.|| over each example's (time, dim) entries
    train on  L(theta; e) + L(theta; e + r),  r held constant

which makes the classifier flat around each training text in embedding space (the paper's
equation 4, "adversarial training"; its virtual-adversarial, semi-supervised variant is not
here). Padding steps get no perturbation: masked layers give them no gradient.

How a model takes part:

    x = keras.layers.Embedding(..., mask_zero=True)(tokens)
    x = AdversarialPerturbation(epsilon=1.0, name="adversarial_perturbation")(x)
    ...
    model = AdversarialModel(tokens, outputs)     # a functional model, fit as usual

`AdversarialPerturbation` is the identity outside `AdversarialModel.train_step`, so evaluation,
prediction and a loaded model behave as a plain model of the same weights. With several
perturbation layers each gets its own r, normalised on its own. The step costs a second forward
and backward pass (about 1.7x the time of a plain step for apps.sentiment's SST-2 model here).
The loss `fit` logs is the clean loss L, so runs with and without it log comparable numbers.

The gradient needs the backend's automatic differentiation; this is the TensorFlow version
(the backend the apps train with). Other backends raise a clear error when training starts.
Single-device only: the apps refuse it with --distribute (apps.common.cli.check_single_device).
"""
import math
import threading

import keras


@keras.saving.register_keras_serializable(package="apps.common")
class AdversarialPerturbation(keras.layers.Layer):
    """The identity, except inside AdversarialModel.train_step: records its input there, and
    adds the perturbation the step sets. Passes the mask on."""

    def __init__(self, epsilon: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        if (isinstance(epsilon, bool) or not isinstance(epsilon, (int, float))
                or not math.isfinite(epsilon) or epsilon <= 0):
            raise ValueError(f"epsilon must be a positive finite number (the norm of each "
                             f"example's perturbation); received epsilon={epsilon!r}")
        self.epsilon = float(epsilon)
        self.supports_masking = True
        # Per thread: what a training step is doing with this layer (see AdversarialModel).
        self._step = threading.local()

    def call(self, inputs):
        self._step.inputs = inputs
        delta = getattr(self._step, "delta", None)
        if delta is None:
            return inputs
        return inputs + keras.ops.cast(delta, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


def perturbation_layers(model) -> list:
    """The model's AdversarialPerturbation layers, in the order of model.layers."""
    return [layer for layer in model.layers if isinstance(layer, AdversarialPerturbation)]


@keras.saving.register_keras_serializable(package="apps.common")
class AdversarialModel(keras.Model):
    """A functional model whose training step is Miyato et al.'s adversarial training on the
    inputs of its AdversarialPerturbation layers (see the module docstring). Built and used
    like keras.Model(inputs, outputs); with no such layer it trains like keras.Model."""

    def train_step(self, data):
        layers = perturbation_layers(self)
        if not layers:
            return super().train_step(data)
        if keras.backend.backend() != "tensorflow":
            raise RuntimeError(
                f"AdversarialModel trains with the TensorFlow backend only; this one is "
                f"{keras.backend.backend()!r} (set KERAS_BACKEND=tensorflow, or build the "
                "model without AdversarialPerturbation layers)")
        import tensorflow as tf

        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape(persistent=True) as tape:
            y_pred = self(x, training=True)
            loss = self._compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                      training=True)
            seen = [layer._step.inputs for layer in layers]
        gradients = tape.gradient(loss, seen, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        try:
            with tape:
                for layer, gradient in zip(layers, gradients):
                    layer._step.delta = layer.epsilon * _unit_per_example(
                        tf.stop_gradient(tf.cast(gradient, "float32")))
                y_adversarial = self(x, training=True)
                adversarial_loss = self._compute_loss(x=x, y=y, y_pred=y_adversarial,
                                                      sample_weight=sample_weight,
                                                      training=True)
                total = loss + adversarial_loss
                if self.optimizer is not None:
                    total = self.optimizer.scale_loss(total)
        finally:
            for layer in layers:
                layer._step.delta = None
                layer._step.inputs = None
        first_input = next(value for value in tf.nest.flatten(x) if value is not None)
        self._loss_tracker.update_state(loss, sample_weight=tf.shape(first_input)[0])
        weights = self.trainable_weights
        self.optimizer.apply_gradients(zip(tape.gradient(total, weights), weights))
        del tape
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)


def _unit_per_example(gradient):
    """gradient / its L2 norm over all axes but the first (zero stays zero)."""
    import tensorflow as tf

    axes = list(range(1, gradient.shape.rank))
    norm = tf.sqrt(tf.reduce_sum(tf.square(gradient), axis=axes, keepdims=True))
    return gradient / (norm + 1e-12)
