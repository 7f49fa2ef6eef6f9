"""Sampling novel sequences, as the course's "Sampling" step of Dinosaurus Island.

x⟨1⟩ = 0; at every step the model gives ŷ⟨t⟩ = softmax(logits / temperature), one character is
drawn from it, and its one-hot vector becomes x⟨t+1⟩; a name stops at <EOS> (the newline) or
after `max_length` characters. The whole generation is one compiled loop over a batch of `count`
sequences (`zoo.builders.sampler`, Gumbel-max draws), so the same seed gives the same samples.

PAD is never drawn (it is not a character); `no_unk` also bans <UNK>, which is the same
distribution as the course's "redraw if <UNK>". `top_k` draws among the k most likely characters
only. A `prime` is forced as the first characters and the model continues it.
"""
import math
import time

import numpy as np

from apps.common.errors import UserError
from apps.charlm.saved import load_run

DEFAULT_MAX_LENGTH = {"names": 50, "running": 300}


def check_sampling_options(*, count, max_length, temperature, top_k):
    if isinstance(count, bool) or int(count) < 1:
        raise UserError(f"--count must be at least 1; received {count}")
    if max_length is not None and int(max_length) < 1:
        raise UserError(f"--max-length must be at least 1; received {max_length}")
    if not (isinstance(temperature, (int, float)) and math.isfinite(temperature)
            and temperature > 0):
        raise UserError(f"--temperature must be a number > 0 (1 = the model's own distribution, "
                        f"lower = more conservative); received {temperature}")
    if top_k is not None and int(top_k) < 1:
        raise UserError(f"--top-k must be at least 1; received {top_k}")


def prime_ids(vocabulary, prime, run_dir):
    """The primer's ids; UserError naming the characters the vocabulary lacks."""
    unknown = vocabulary.unknown_tokens(prime)
    if unknown:
        shown = ", ".join(repr(token) for token in unknown)
        known = "".join(token for token in vocabulary.tokens if token.isprintable())
        raise UserError(f"--prime {prime!r} has characters not in the vocabulary of {run_dir}: "
                        f"{shown} (it knows {known!r})")
    return vocabulary.encode(prime)


def build_generator(trained, steps, *, top_k=None, no_unk=False, seed=None):
    """The compiled sampling model for `trained` (see zoo.builders.sampler)."""
    from zoo import builders
    vocabulary = trained.vocabulary
    banned = [vocabulary.pad_id] + ([vocabulary.unk_id] if no_unk and vocabulary.unk else [])
    if top_k is not None:
        top_k = min(int(top_k), len(vocabulary))
    return builders.sampler(trained.model, steps, top_k=top_k,
                            banned_ids=[i for i in banned if i is not None], seed=seed)


def generate_ids(generator, count, steps, forced_prefix=(), temperature=1.0):
    """Run the generator once: ids and log-probabilities, (count, steps) each."""
    forced = np.full((count, steps), -1, dtype=np.int32)
    forced[:, :len(forced_prefix)] = forced_prefix
    temperatures = np.full((count,), temperature, dtype=np.float32)
    outputs = generator.predict({"forced": forced, "temperature": temperatures},
                                batch_size=count, verbose=0)
    return np.asarray(outputs["ids"]), np.asarray(outputs["log_probabilities"])


def cut_at_eos(ids, vocabulary, start):
    """The ids up to (not including) the first <EOS> at or after position `start`."""
    ids = list(ids)
    if vocabulary.eos:
        for position in range(start, len(ids)):
            if ids[position] == vocabulary.eos_id:
                return ids[:position]
    return ids


def sample(run_dir, *, count=10, max_length=None, temperature=1.0, top_k=None, prime="",
           no_unk=False, seed=None, trained=None) -> list:
    """`count` sampled texts from the model in `run_dir`, each starting with `prime`."""
    check_sampling_options(count=count, max_length=max_length, temperature=temperature,
                           top_k=top_k)
    trained = trained or load_run(run_dir)
    vocabulary = trained.vocabulary
    steps = int(max_length or DEFAULT_MAX_LENGTH[trained.text_format])
    primer = prime_ids(vocabulary, prime or "", run_dir)
    if len(primer) >= steps:
        raise UserError(f"--prime has {len(primer)} characters, not fewer than --max-length "
                        f"{steps}; raise --max-length")
    generator = build_generator(trained, steps, top_k=top_k, no_unk=no_unk, seed=seed)
    ids, _ = generate_ids(generator, int(count), steps, primer, temperature)
    return [vocabulary.decode(cut_at_eos(row, vocabulary, len(primer))) for row in ids]


def sampling_speed(trained, *, batch, steps=200, repeats=3, seed=0):
    """Characters per second of the compiled loop for `batch` sequences of `steps` characters.

    The first call (tracing and compiling) is not timed; the best of `repeats` timed calls counts.
    """
    generator = build_generator(trained, steps, seed=seed)
    generate_ids(generator, batch, steps)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        generate_ids(generator, batch, steps)
        best = min(best, time.perf_counter() - started)
    return batch * steps / best
