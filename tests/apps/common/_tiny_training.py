"""A tiny train command built like the apps' ones, for the subprocess tests of apps.common.

    python -m tests.apps.common._tiny_training --run-dir DIR [train options] [test options]

Model: Input(5 steps, 3 features) -> SimpleRNN(4) -> Dropout(0.25) -> Dense(1), Adam, mean
squared error; data: 64 random sequences (NumPy seed 0), target = mean of each sequence (a
learnable function), 16 more for validation. The training arrays go to fit_with_recovery with
shuffle_seed=--seed, so the batch order of every epoch is a function of (seed, epoch) only.

Test options: --sleep-per-batch (lets a parent kill the run mid-epoch), --logical-cpus N (split
the CPU into N logical devices before TensorFlow starts, for --distribute mirrored),
--weights-out (final weights as .npz). The last line printed is JSON: losses per epoch,
replicas, epochs done, where the run resumed.
"""
import argparse
import json
import sys
import time

# Keras imports scikit-learn for its sklearn wrappers when it is installed; nothing here uses
# them, and skipping the import saves about 2 s of CPU per test process.
sys.modules.setdefault("sklearn", None)

from apps.common import cli  # noqa: E402

SAMPLES = 64
VALIDATION_SAMPLES = 16
TIME_STEPS = 5
FEATURES = 3


def parse_arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m tests.apps.common._tiny_training")
    cli.add_training_arguments(parser, epochs=3, batch_size=8, learning_rate=0.01, seed=7)
    parser.add_argument("--sleep-per-batch", type=float, default=0.0)
    parser.add_argument("--logical-cpus", type=int, default=0)
    parser.add_argument("--weights-out", default=None)
    return parser.parse_args(argv)


def make_data():
    import numpy as np

    generator = np.random.default_rng(0)
    x = generator.normal(size=(SAMPLES + VALIDATION_SAMPLES, TIME_STEPS, FEATURES))
    y = x.mean(axis=(1, 2))[:, None]
    return (x[:SAMPLES], y[:SAMPLES]), (x[SAMPLES:], y[SAMPLES:])


def split_cpu(count: int) -> None:
    tf = cli.import_tensorflow_quietly()
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)])


def model_factory(arguments):
    import keras

    from apps.common import training

    def build():
        model = keras.Sequential([keras.Input((TIME_STEPS, FEATURES)),
                                  keras.layers.SimpleRNN(4),
                                  keras.layers.Dropout(0.25),
                                  keras.layers.Dense(1)])
        model.compile(keras.optimizers.Adam(**training.optimizer_options(arguments)), "mse",
                      **training.compile_options(arguments))
        return model
    return build


def extra_callbacks_for(arguments) -> list:
    import keras

    callbacks = []
    if arguments.sleep_per_batch:
        callbacks.append(keras.callbacks.LambdaCallback(
            on_train_batch_end=lambda batch, logs: time.sleep(arguments.sleep_per_batch)))
    return callbacks


def train(arguments) -> int:
    if arguments.logical_cpus:
        split_cpu(arguments.logical_cpus)
    from apps.common import training

    strategy = training.setup_training(arguments)
    train_data, validation_data = make_data()
    result = training.fit_with_recovery(
        model_factory(arguments), train_data, validation_data, run_dir=arguments.run_dir,
        epochs=arguments.epochs, batch_size=arguments.batch_size, shuffle_seed=arguments.seed,
        save_every_steps=arguments.save_every_steps, logdir=arguments.logdir,
        extra_callbacks=extra_callbacks_for(arguments), verbose=not arguments.no_progress,
        strategy=strategy, metadata=cli.settings_from_arguments(arguments))
    if arguments.weights_out and training.is_chief(strategy):
        import numpy as np
        np.savez(arguments.weights_out, *result.model.get_weights())
    print(json.dumps({"losses": result.history.get("loss", []),
                      "replicas": strategy.num_replicas_in_sync,
                      "epochs_done": result.epochs_done,
                      "resumed_from": result.resumed_from}), flush=True)
    return 0


def main(argv=None) -> int:
    arguments = parse_arguments(argv)
    return cli.run_command(train, arguments)


if __name__ == "__main__":
    sys.exit(main())
