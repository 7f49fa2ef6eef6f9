"""How likely a trained character model finds a text: the course's "apple and pear salad" test.

For a text y⟨1⟩…y⟨T⟩ the model gives P(y) = Π_t p(y⟨t⟩ | y⟨1⟩…y⟨t−1⟩) (x⟨1⟩ = 0, so the first
character is predicted from nothing). Reported per text:

    log_probability   ln P(y), in nats (Σ_t ln p(y⟨t⟩ | …))
    loss              −ln P(y) / T, the cross-entropy per character in nats (the training loss)
    bits_per_char     loss / ln 2
    perplexity        exp(loss)

With a names model (trained with <EOS>) the scored characters include the final <EOS>, as the
course's loss of a name does; T counts it.
"""
import math

import numpy as np

from apps.common.errors import UserError
from apps.charlm.saved import load_run


def encode_for_scoring(vocabulary, texts, run_dir):
    """Ids of every text (with <EOS> for a names model); UserError on unknown characters."""
    encoded = []
    for index, text in enumerate(texts, start=1):
        unknown = vocabulary.unknown_tokens(text)
        if unknown:
            shown = ", ".join(repr(token) for token in unknown)
            raise UserError(f"text {index} ({text!r:.60}) has characters not in the vocabulary "
                            f"of {run_dir}: {shown}")
        ids = vocabulary.encode(text, add_eos=vocabulary.eos)
        if not ids:
            raise UserError(f"text {index} is empty; give at least one character")
        encoded.append(ids)
    return encoded


def score(run_dir, texts, *, trained=None) -> list:
    """One dict per text: text, characters, log_probability, loss, bits_per_char, perplexity."""
    if not texts:
        raise UserError("give at least one text to score, e.g. score \"apple and pear salad\"")
    trained = trained or load_run(run_dir)
    encoded = encode_for_scoring(trained.vocabulary, list(texts), run_dir)
    length = max(len(ids) for ids in encoded)
    batch = np.zeros((len(encoded), length), dtype=np.int32)
    for row, ids in enumerate(encoded):
        batch[row, :len(ids)] = ids
    probabilities = np.asarray(trained.model.predict(batch, batch_size=len(batch), verbose=0),
                               dtype=np.float64)
    results = []
    for row, (text, ids) in enumerate(zip(texts, encoded)):
        chosen = probabilities[row, np.arange(len(ids)), ids]
        log_probability = float(np.sum(np.log(np.maximum(chosen, 1e-300))))
        loss = -log_probability / len(ids)
        results.append({"text": text, "characters": len(ids), "log_probability": log_probability,
                        "loss": loss, "bits_per_char": loss / math.log(2),
                        "perplexity": math.exp(loss)})
    return results


def format_scores(results, with_eos=False) -> str:
    """A plain-text table of `score`'s results."""
    header = (f"{'log P (nats)':>13} {'loss/char':>10} {'bits/char':>10} {'perplexity':>11} "
              f"{'chars':>6}  text")
    lines = [header]
    for result in results:
        lines.append(f"{result['log_probability']:13.3f} {result['loss']:10.4f} "
                     f"{result['bits_per_char']:10.4f} {result['perplexity']:11.3f} "
                     f"{result['characters']:6d}  {result['text']!r}")
    if with_eos:
        lines.append("(chars include the final <EOS>, as the course's loss of a name does)")
    return "\n".join(lines)
