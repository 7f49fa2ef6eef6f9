"""Sentences -> length-bucketed batches, epoch by epoch, resumable exactly.

CoNLL-2003 training sentences have 1 to 113 tokens (14.5 on average); padding every batch to the
longest would multiply the recurrent work by 7.8, random batches by 3. Each epoch is therefore
planned like this
("sort within shuffled chunks"):

    1. shuffle all sentences with a generator seeded by (seed, epoch);
    2. cut the order into chunks of `chunk_batches` x batch_size sentences and sort each chunk
       by length, so that a batch holds sentences of nearly equal length;
    3. cut each chunk into batches (only the very last batch of the epoch can be short), and
       shuffle the order of the batches.

Every sentence appears exactly once per epoch, there are always ceil(N / batch_size) batches,
and the plan is a function of (seed, epoch) only. On CoNLL-2003 train, with batches of 32, the
padding adds about 5 % to the real tokens. Each batch is padded to its own longest
sentence (and its chars to its own longest word, at most max_word_length).

With `unk_probability` > 0 the training batches also replace each occurrence of a word seen
once in training (a "singleton") by <UNK> with that probability (Lample et al., 2016), drawn
from a generator seeded by (seed, epoch) as well, so that the <UNK> embedding, which unseen test
words get, is trained.

`training_dataset` wraps the batches in a tf.data.Dataset for `fit_with_recovery`, which
repeats a dataset as it is, once per epoch, and may start with a resumed, partly trained epoch.
The dataset's generator is called once per pass, in order, so its n-th call (from 0) yields the
batches of epoch `first_epoch + n`; `first_epoch` is the epoch recorded in the run's backup (the
one the resumed training continues with). fit_with_recovery skips the batches of a partly
trained epoch itself, so a resumed run sees exactly the batches an uninterrupted one would.

Story batches (`stories=True`, for a tagger with a document memory, apps.ner.model): each
sentence records its story (CoNLL-2003's `-DOCSTART-` documents), and the memory lets a word
read the other occurrences of that word in the batch's sentences of the same story. So a story
must be read together: its consecutive sentences are cut into pieces of at most STORY_PIECE
sentences (and at most batch_size, so that there are enough pieces for the batches), and each
epoch

    1. shuffles the pieces with a generator seeded by (seed, epoch);
    2. deals them, largest first (ties in the shuffled order), each to the batch with the fewest
       sentences so far, into the same ceil(N / batch_size) batches as above;
    3. shuffles the order of the batches.

A batch then holds whole pieces of stories, about batch_size sentences of mixed lengths (about
3 times the padding of length buckets). Every batch carries "documents" (B,), each sentence's
story id; the evaluation batches are dealt the same way, in story order.
"""
import dataclasses
import math

import numpy as np

from apps.ner.data import casing_feature, shorten_word

CHUNK_BATCHES = 50
STORY_PIECE = 32   # sentences of one story read together, at most (and at most a batch)
FEATURE_NAMES = ("words", "casing", "chars")
LABEL_PAD = -1


@dataclasses.dataclass
class EncodedSentences:
    """Sentences as flat per-token arrays; sentence i holds tokens offsets[i]:offsets[i+1]."""

    offsets: np.ndarray          # (N + 1,) int64
    words: np.ndarray            # (tokens,) int32 word ids
    casing: np.ndarray           # (tokens,) int32 casing ids (1..7)
    chars: np.ndarray            # (tokens, max_word_length) int32 char ids, 0-padded
    char_lengths: np.ndarray     # (tokens,) characters kept of each word
    labels: np.ndarray | None    # (tokens,) int32 label ids (index in the tag names), or None
    documents: np.ndarray | None = None  # (N,) int32 story id of each sentence

    def __len__(self):
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)


def encode_flat(token_lists, word_vocab, char_vocab, *, tag_lists=None, tag_names=None,
                max_word_length=25, documents=None) -> EncodedSentences:
    """Encode lists of tokens (and their tags, given tag_names) as EncodedSentences.

    `documents` gives each token list's story id (integers; sentences of one story share one);
    None makes every token list a story of its own.

    Words longer than max_word_length keep their first and last characters for the character
    features only (apps.ner.data.shorten_word); the word id always comes from the whole word.
    """
    lengths = [len(tokens) for tokens in token_lists]
    offsets = np.zeros(len(token_lists) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(lengths)
    total = int(offsets[-1])
    words = np.zeros(total, dtype=np.int32)
    casing = np.zeros(total, dtype=np.int32)
    chars = np.zeros((total, max_word_length), dtype=np.int32)
    char_lengths = np.zeros(total, dtype=np.int32)
    position = 0
    for tokens in token_lists:
        words[position:position + len(tokens)] = word_vocab.encode(list(tokens))
        for token in tokens:
            casing[position] = casing_feature(token)
            ids = char_vocab.encode(shorten_word(token, max_word_length))
            chars[position, :len(ids)] = ids
            char_lengths[position] = len(ids)
            position += 1
    labels = None
    if tag_lists is not None:
        index = {tag: position for position, tag in enumerate(tag_names)}
        labels = np.fromiter((index[tag] for tags in tag_lists for tag in tags), dtype=np.int32,
                             count=total)
    if documents is None:
        documents = np.arange(len(token_lists))
    documents = np.asarray(documents)
    if documents.shape != (len(token_lists),):
        raise ValueError(f"documents must hold one story id per token list ({len(token_lists)}); "
                         f"received shape {documents.shape}")
    # Story ids as consecutive int32 (any integers may come in; only equality matters).
    _, documents = np.unique(documents, return_inverse=True)
    return EncodedSentences(offsets, words, casing, chars, char_lengths, labels,
                            documents.astype(np.int32))


def make_batch(encoded: EncodedSentences, indices, *, replace=None, stories=False):
    """(features, labels) of the sentences `indices`, padded to their longest sentence and word.

    features: {"words", "casing": (B, T), "chars": (B, T, W)} int32, 0 at padding, and with
    `stories` "documents" (B,), each sentence's story id; labels (B, T) int32 with -1 at
    padding (None when `encoded` has no labels). `replace(words)` may return the word ids with
    some replaced (singleton <UNK> replacement).
    """
    indices = np.asarray(indices)
    starts, stops = encoded.offsets[indices], encoded.offsets[indices + 1]
    lengths = stops - starts
    time = int(lengths.max()) if len(indices) else 0
    token_rows = np.concatenate([np.arange(start, stop) for start, stop in zip(starts, stops)]) \
        if len(indices) else np.zeros(0, dtype=np.int64)
    rows = np.repeat(np.arange(len(indices)), lengths)
    columns = np.arange(len(token_rows)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    width = max(int(encoded.char_lengths[token_rows].max()) if len(token_rows) else 1, 1)
    words = np.zeros((len(indices), time), dtype=np.int32)
    casing = np.zeros_like(words)
    chars = np.zeros((len(indices), time, width), dtype=np.int32)
    token_words = encoded.words[token_rows]
    words[rows, columns] = replace(token_words) if replace is not None else token_words
    casing[rows, columns] = encoded.casing[token_rows]
    chars[rows, columns] = encoded.chars[token_rows, :width]
    features = {"words": words, "casing": casing, "chars": chars}
    if stories:
        features["documents"] = story_ids(encoded)[indices]
    if encoded.labels is None:
        return features, None
    labels = np.full((len(indices), time), LABEL_PAD, dtype=np.int32)
    labels[rows, columns] = encoded.labels[token_rows]
    return features, labels


def story_ids(encoded: EncodedSentences) -> np.ndarray:
    """(N,) int32 story id of each sentence (each its own when none were given)."""
    if encoded.documents is None:
        return np.arange(len(encoded), dtype=np.int32)
    return encoded.documents.astype(np.int32)


def story_pieces(encoded: EncodedSentences, piece: int = STORY_PIECE) -> list:
    """Sentence index arrays: runs of consecutive sentences of one story, at most `piece` each."""
    documents = story_ids(encoded)
    pieces, start = [], 0
    for index in range(1, len(documents) + 1):
        if (index == len(documents) or documents[index] != documents[start]
                or index - start == piece):
            pieces.append(np.arange(start, index))
            start = index
    return pieces


def deal_pieces(pieces, count: int) -> list:
    """At most `count` batches (sentence index arrays): the pieces, largest first (the given
    order breaks ties), each to the batch with the fewest sentences so far."""
    order = sorted(range(len(pieces)), key=lambda index: -len(pieces[index]))
    loads = np.zeros(count, dtype=np.int64)
    batches = [[] for _ in range(count)]
    for index in order:
        target = int(np.argmin(loads))
        batches[target].append(pieces[index])
        loads[target] += len(pieces[index])
    return [np.concatenate(parts) for parts in batches if parts]


class BucketBatcher:
    """The training batches of every epoch (see the module docstring); with `stories`, batches
    of whole pieces of stories."""

    def __init__(self, encoded: EncodedSentences, batch_size: int, seed: int, *,
                 chunk_batches: int = CHUNK_BATCHES, singletons=None,
                 unk_probability: float = 0.0, unk_id: int = 1, stories: bool = False):
        if len(encoded) == 0:
            raise ValueError("no training sentences to batch")
        self.encoded = encoded
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.chunk_batches = int(chunk_batches)
        self.singletons = singletons          # bool per word id: seen once in training
        self.unk_probability = float(unk_probability)
        self.unk_id = int(unk_id)
        self.stories = bool(stories)
        # Pieces of at most batch_size sentences are at least as many as the batches.
        self.pieces = (story_pieces(encoded, min(STORY_PIECE, self.batch_size))
                       if self.stories else None)

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.encoded) / self.batch_size)

    def epoch_plan(self, epoch: int) -> list:
        """The sentence indices of each batch of `epoch`, in training order."""
        rng = np.random.default_rng([self.seed, int(epoch)])
        if self.stories:
            pieces = [self.pieces[index] for index in rng.permutation(len(self.pieces))]
            batches = deal_pieces(pieces, self.steps_per_epoch)
            return [batches[index] for index in rng.permutation(len(batches))]
        order = rng.permutation(len(self.encoded))
        lengths = self.encoded.lengths
        chunk = self.batch_size * self.chunk_batches
        batches = []
        for start in range(0, len(order), chunk):
            part = order[start:start + chunk]
            part = part[np.argsort(lengths[part], kind="stable")]
            batches.extend(part[index:index + self.batch_size]
                           for index in range(0, len(part), self.batch_size))
        return [batches[index] for index in rng.permutation(len(batches))]

    def batches(self, epoch: int):
        """Yield the (features, labels) of every batch of `epoch`."""
        replace = None
        if self.unk_probability > 0 and self.singletons is not None:
            rng = np.random.default_rng([self.seed, int(epoch), 1])
            singletons, probability, unk_id = self.singletons, self.unk_probability, self.unk_id

            def replace(words):
                chosen = singletons[words] & (rng.random(words.shape) < probability)
                return np.where(chosen, unk_id, words).astype(np.int32)
        for indices in self.epoch_plan(epoch):
            yield make_batch(self.encoded, indices, replace=replace, stories=self.stories)


def evaluation_plan(encoded: EncodedSentences, batch_size: int, *, stories=False) -> list:
    """Sentence indices of fixed evaluation batches: sorted by length, `batch_size` each; with
    `stories`, whole pieces of stories dealt into batches of about min(batch_size,
    STORY_PIECE) sentences (the document memory compares every pair of a batch's tokens)."""
    if stories:
        size = min(batch_size, STORY_PIECE)
        return deal_pieces(story_pieces(encoded, size), math.ceil(len(encoded) / size))
    order = np.argsort(encoded.lengths, kind="stable")
    return [order[index:index + batch_size] for index in range(0, len(order), batch_size)]


# ---------------------------------------------------------------------------------- tf.data
def signature(with_labels: bool = True, stories: bool = False):
    import tensorflow as tf

    features = {"words": tf.TensorSpec((None, None), tf.int32, name="words"),
                "casing": tf.TensorSpec((None, None), tf.int32, name="casing"),
                "chars": tf.TensorSpec((None, None, None), tf.int32, name="chars")}
    if stories:
        features["documents"] = tf.TensorSpec((None,), tf.int32, name="documents")
    if not with_labels:
        return features
    return features, tf.TensorSpec((None, None), tf.int32, name="labels")


class EpochStream:
    """The generator function of the training dataset: its n-th call yields epoch first + n."""

    def __init__(self, batcher: BucketBatcher, first_epoch: int):
        self.batcher = batcher
        self.next_epoch = int(first_epoch)
        self.started = []                    # the epochs whose batches were requested, in order

    def __call__(self):
        epoch = self.next_epoch
        self.next_epoch += 1
        self.started.append(epoch)
        return self.batcher.batches(epoch)


def training_dataset(batcher: BucketBatcher, first_epoch: int):
    """(one epoch of batches as a tf.data.Dataset that fit_with_recovery repeats, its stream)."""
    import tensorflow as tf

    stream = EpochStream(batcher, first_epoch)
    dataset = tf.data.Dataset.from_generator(stream,
                                             output_signature=signature(stories=batcher.stories))
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(batcher.steps_per_epoch))
    return dataset.prefetch(4), stream


def evaluation_dataset(encoded: EncodedSentences, batch_size: int, *, stories=False):
    """The labelled evaluation batches (sorted by length, or story batches) as a
    tf.data.Dataset, for Keras."""
    import tensorflow as tf

    batches = [make_batch(encoded, indices, stories=stories)
               for indices in evaluation_plan(encoded, batch_size, stories=stories)]
    dataset = tf.data.Dataset.from_generator(lambda: iter(batches),
                                             output_signature=signature(stories=stories))
    return dataset.apply(tf.data.experimental.assert_cardinality(len(batches))).prefetch(2)
