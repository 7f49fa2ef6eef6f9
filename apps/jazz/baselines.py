"""Count-based baselines for the jazz model: unigram and bigram models with add-k smoothing.

Both are fitted on token sequences and scored exactly like `evaluate` scores the LSTM: over the
same vocabulary (the model's tokenizer), every in-vocabulary token of every solo scored from
the solo's start, unknown tokens skipped.  The bigram's first token of a solo is conditioned on
a start symbol (the LSTM sees x<1> = 0 there).

    unigram  p(w)     = (c(w) + k) / (N + k V)
    bigram   p(w | u) = (c(u, w) + k) / (c(u) + k V)
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Iterable, Sequence

from apps.jazz.evaluate import Score

START = "<s>"


class NgramModel:
    """A unigram (order 1) or bigram (order 2) model with add-k smoothing over `vocabulary`."""

    def __init__(self, order: int, vocabulary: Sequence[str], k: float = 1.0) -> None:
        if order not in (1, 2):
            raise ValueError(f"order must be 1 or 2, got {order!r}")
        if not k > 0:
            raise ValueError(f"k must be above 0, got {k!r}")
        self.order = order
        self.k = float(k)
        self.vocabulary = [token for token in vocabulary if token != "<UNK>"]
        self.known = set(self.vocabulary)
        self.unigrams: Counter = Counter()
        self.bigrams: Counter = Counter()
        self.contexts: Counter = Counter()

    def fit(self, token_lists: Iterable[Sequence[str]]) -> "NgramModel":
        for tokens in token_lists:
            previous = START
            for token in tokens:
                if token in self.known:
                    self.unigrams[token] += 1
                    self.bigrams[previous, token] += 1
                    self.contexts[previous] += 1
                previous = token
        return self

    def probability(self, token: str, previous: str = START) -> float:
        size = len(self.vocabulary)
        if self.order == 1:
            total = sum(self.unigrams.values())
            return (self.unigrams[token] + self.k) / (total + self.k * size)
        return (self.bigrams[previous, token] + self.k) / (self.contexts[previous] + self.k * size)

    def predict(self, previous: str = START) -> str:
        """The most likely next token."""
        if self.order == 1:
            return max(self.vocabulary, key=lambda token: (self.unigrams[token], token))
        return max(self.vocabulary, key=lambda token: (self.bigrams[previous, token],
                                                       self.unigrams[token], token))

    def score(self, token_lists: Iterable[Sequence[str]]) -> Score:
        """NLL, accuracy and unknown count, as `apps.jazz.evaluate` reports them for the LSTM."""
        total = Score()
        best_cache: dict[str, str] = {}
        for tokens in token_lists:
            previous = START
            for token in tokens:
                total.tokens += 1
                if token not in self.known:
                    total.unknown += 1
                else:
                    total.scored += 1
                    total.nll_sum -= math.log(self.probability(token, previous))
                    key = previous if self.order == 2 else START
                    if key not in best_cache:
                        best_cache[key] = self.predict(previous)
                    total.correct += best_cache[key] == token
                previous = token
        return total
