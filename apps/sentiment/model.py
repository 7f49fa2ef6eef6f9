"""The many-to-one sentiment classifier: masked embedding -> zoo.GRU/LSTM stack -> pooling -> heads.

    tokens (batch, time) int32, 0 = padding
      -> Embedding(mask_zero=True)            random, or GloVe 6B 50d rows (set after building)
      [-> AdversarialPerturbation             --adversarial EPS > 0: the identity, except in
                                              training, where each batch is trained also with
                                              its embeddings moved by the worst-case r of
                                              norm EPS (apps.common.adversarial; the model is
                                              then an AdversarialModel)]
      -> SpatialDropout1D                     drops whole embedding channels (--embedding-dropout)
      -> N x [Bidirectional] zoo.GRU | zoo.LSTM   the mask reaches every recurrent layer
      -> pooling over time                    last | mean | max | max-mean (both, concatenated),
                                              all of them over the unmasked steps only
      [+ BigramBag, --bigrams N > 0:          each pair of neighbouring tokens hashed into N
                                              buckets, embedded, averaged over the text (the
                                              fastText bag of bigrams, Joulin et al. 2017),
                                              concatenated to the pooled states]
      -> Dropout -> heads

Heads (output names are what `fit` logs and `evaluate` reads):

    binary   {"sentiment": P(positive)}                  sigmoid, binary cross-entropy
    classes  {"sentiment": P(class)} over 5 classes       softmax, cross-entropy (SST-5)
    stars    {"sentiment": P(positive),                  the binary head, plus
              "rating": P(rating)} over RATING_VALUES     IMDB's file-name rating, softmax over
                                                          the 8 values it takes (1-4 and 7-10);
                                                          its loss is weighted by rating_weight

This is `zoo.builders.many_to_one` with what sentiment needs beyond it: max-mean pooling,
embedding dropout, GloVe initialisation and a two-output head.
"""
import keras
import numpy as np

from apps.common.adversarial import AdversarialModel, AdversarialPerturbation
from apps.sentiment.config import MAX_BIGRAM_VOCABULARY
from zoo.builders import MaskedGlobalMaxPooling1D
from zoo.layers import GRU, LSTM

RATING_VALUES = (1, 2, 3, 4, 7, 8, 9, 10)
LAYER_CLASSES = {"gru": GRU, "lstm": LSTM}
SENTIMENT, RATING = "sentiment", "rating"


def rating_classes(ratings) -> np.ndarray:
    """IMDB ratings (1-4, 7-10) as class indices 0..7 of RATING_VALUES."""
    ratings = np.asarray(ratings, dtype=np.int64)
    lookup = np.full(max(RATING_VALUES) + 1, -1, dtype=np.int64)
    lookup[list(RATING_VALUES)] = np.arange(len(RATING_VALUES))
    if ratings.size and (ratings.min() < 0 or ratings.max() > max(RATING_VALUES)
                         or (lookup[ratings] < 0).any()):
        raise ValueError(f"IMDB ratings must be among {RATING_VALUES}")
    return lookup[ratings]




@keras.saving.register_keras_serializable(package="apps.sentiment")
class BigramBag(keras.layers.Layer):
    """Token ids (batch, time) -> the mean vector of their bigrams (batch, dim): fastText's bag.

    The pair (a, b) of tokens t and t + 1 goes to bucket (a * vocabulary_size + b) mod buckets
    and takes that bucket's trainable vector; pairs that touch padding (id 0) are left out of
    the mean, and a text with no pair gets zeros. Hashing happens in the model, so a saved model
    needs no bigram vocabulary.
    """

    def __init__(self, vocabulary_size: int, buckets: int, dim: int,
                 embeddings_initializer="uniform", **kwargs):
        super().__init__(**kwargs)
        if not 2 <= int(vocabulary_size) <= MAX_BIGRAM_VOCABULARY:
            raise ValueError(f"bigram hashing needs a vocabulary of 2..{MAX_BIGRAM_VOCABULARY} "
                             f"tokens; received vocabulary_size={vocabulary_size!r}")
        for argument, value in (("buckets", buckets), ("dim", dim)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{argument} must be a positive integer; received "
                                 f"{argument}={value!r}")
        self.vocabulary_size, self.buckets, self.dim = int(vocabulary_size), buckets, dim
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)

    def build(self, input_shape):
        self.embeddings = self.add_weight(shape=(self.buckets, self.dim), name="embeddings",
                                          initializer=self.embeddings_initializer)

    def bucket_ids(self, tokens):
        """(ids (batch, time - 1) int32, real pairs (batch, time - 1) bool)."""
        tokens = keras.ops.cast(tokens, "int32")
        first, second = tokens[:, :-1], tokens[:, 1:]
        ids = keras.ops.mod(first * self.vocabulary_size + second, self.buckets)
        return ids, keras.ops.logical_and(first > 0, second > 0)

    def call(self, tokens):
        ids, real = self.bucket_ids(tokens)
        real = keras.ops.cast(real, self.compute_dtype)[..., None]
        vectors = keras.ops.take(self.embeddings, ids, axis=0) * real
        count = keras.ops.maximum(keras.ops.sum(real, axis=1), 1.0)
        return keras.ops.sum(vectors, axis=1) / count

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.dim)

    def get_config(self):
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size,
                "buckets": self.buckets, "dim": self.dim,
                "embeddings_initializer":
                    keras.initializers.serialize(self.embeddings_initializer)}


def build_model(vocabulary_size: int, *, head: str = "binary", classes: int = 2,
                cell: str = "gru", units: int = 64, layers: int = 1, bidirectional: bool = True,
                embedding_dim: int = 128, embedding_dropout: float = 0.0, dropout: float = 0.0,
                pooling: str = "max-mean", bigrams: int = 0, bigram_dim: int = 16,
                train_embedding: bool = True, adversarial: float = 0.0,
                name: str = "sentiment_classifier") -> keras.Model:
    """The uncompiled classifier (see the module docstring); outputs are a dict by head name."""
    if head not in ("binary", "classes", "stars"):
        raise ValueError(f"head must be 'binary', 'classes' or 'stars'; received head={head!r}")
    if pooling not in ("last", "mean", "max", "max-mean"):
        raise ValueError(f"pooling must be 'last', 'mean', 'max' or 'max-mean'; received "
                         f"pooling={pooling!r}")
    if cell not in LAYER_CLASSES:
        raise ValueError(f"cell must be 'gru' or 'lstm'; received cell={cell!r}")
    if isinstance(layers, bool) or not isinstance(layers, int) or layers < 1:
        raise ValueError(f"layers must be a positive integer; received layers={layers!r}")
    if isinstance(bigrams, bool) or not isinstance(bigrams, int) or bigrams < 0:
        raise ValueError(f"bigrams must be a non-negative integer (0: no bigram branch); "
                         f"received bigrams={bigrams!r}")
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(vocabulary_size, embedding_dim, mask_zero=True,
                               trainable=train_embedding, name="embedding")(tokens)
    if adversarial:
        x = AdversarialPerturbation(float(adversarial), name="adversarial_perturbation")(x)
    if embedding_dropout:
        x = keras.layers.SpatialDropout1D(embedding_dropout, name="embedding_dropout")(x)
    for depth in range(1, layers + 1):
        last = depth == layers
        layer = LAYER_CLASSES[cell](units, return_sequences=not (last and pooling == "last"),
                                    name=f"recurrent_{depth}")
        if bidirectional:
            layer = keras.layers.Bidirectional(layer, name=f"bidirectional_{depth}")
        x = layer(x)
        if dropout and not last:
            x = keras.layers.Dropout(dropout, name=f"dropout_{depth}")(x)
    x = pool(x, pooling)
    if bigrams:
        bag = BigramBag(vocabulary_size, bigrams, bigram_dim, name="bigram_bag")(tokens)
        x = keras.layers.Concatenate(name="with_bigrams")([x, bag])
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout_head")(x)
    outputs = {}
    if head == "classes":
        outputs[SENTIMENT] = keras.layers.Dense(classes, activation="softmax", name=SENTIMENT,
                                                dtype="float32")(x)
    else:
        outputs[SENTIMENT] = keras.layers.Dense(1, activation="sigmoid", name=SENTIMENT,
                                                dtype="float32")(x)
    if head == "stars":
        outputs[RATING] = keras.layers.Dense(len(RATING_VALUES), activation="softmax",
                                             name=RATING, dtype="float32")(x)
    if adversarial:
        return AdversarialModel(tokens, outputs, name=name)
    return keras.Model(tokens, outputs, name=name)


def pool(x, pooling: str):
    """The states pooled over the unmasked time steps ("last": x is already the final state)."""
    if pooling == "last":
        return x
    if pooling == "mean":
        return keras.layers.GlobalAveragePooling1D(name="mean_pooling")(x)
    if pooling == "max":
        return MaskedGlobalMaxPooling1D(name="max_pooling")(x)
    return keras.layers.Concatenate(name="max_mean_pooling")([
        MaskedGlobalMaxPooling1D(name="max_pooling")(x),
        keras.layers.GlobalAveragePooling1D(name="mean_pooling")(x)])


def compile_model(model, *, head: str, rating_weight: float = 0.5, optimizer_options=None,
                  jit_compile: bool = False):
    """Compile with Adam, the head's losses and an accuracy metric per output; returns model."""
    if head == "classes":
        losses = {SENTIMENT: keras.losses.SparseCategoricalCrossentropy()}
        metrics = {SENTIMENT: [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]}
    else:
        losses = {SENTIMENT: keras.losses.BinaryCrossentropy()}
        metrics = {SENTIMENT: [keras.metrics.BinaryAccuracy(name="accuracy")]}
    weights = {SENTIMENT: 1.0}
    if head == "stars":
        losses[RATING] = keras.losses.SparseCategoricalCrossentropy()
        metrics[RATING] = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
        weights[RATING] = float(rating_weight)
    model.compile(optimizer=keras.optimizers.Adam(**(optimizer_options or {})), loss=losses,
                  loss_weights=weights, metrics=metrics, jit_compile=jit_compile)
    return model


def accuracy_log_name(head: str) -> str:
    """The validation accuracy of the sentiment output as `fit` logs it."""
    return "val_sentiment_accuracy" if head == "stars" else "val_accuracy"


def set_embedding_weights(model, matrix) -> None:
    """Load an embedding matrix (vocabulary size, embedding_dim) into the "embedding" layer."""
    layer = model.get_layer("embedding")
    expected = tuple(layer.embeddings.shape)
    if tuple(np.shape(matrix)) != expected:
        raise ValueError(f"embedding matrix of shape {np.shape(matrix)} does not fit the "
                         f"embedding layer {expected}")
    layer.embeddings.assign(np.asarray(matrix, dtype=layer.embeddings.dtype))


def glove_matrix(vocabulary, *, seed: int = 0):
    """(matrix, hit rate) for a vectorizer vocabulary ("" and "[UNK]" first) from GloVe 6B 50d.

    Row 0 (padding) is zero; [UNK] and words GloVe lacks get random rows at GloVe's scale. The
    hit rate counts the vocabulary's words (the two specials excluded).
    """
    from apps.common.glove import embedding_matrix, load_glove_50d

    words, vectors = load_glove_50d()
    matrix, _ = embedding_matrix(list(vocabulary), words, vectors, lowercase=True, seed=seed)
    known = set(words)
    ordinary = list(vocabulary)[2:]
    hits = sum(1 for word in ordinary if word.lower() in known)
    matrix[0] = 0.0
    return matrix, (hits / len(ordinary) if ordinary else 0.0)


def glove_rows(vocabulary) -> np.ndarray:
    """(V,) booleans: the rows `glove_matrix` fills from a GloVe vector (not the two specials,
    not the words GloVe lacks)."""
    from apps.common.glove import load_glove_50d

    words, _ = load_glove_50d()
    known = set(words)
    rows = np.array([str(word).lower() in known for word in vocabulary], dtype=bool)
    rows[:2] = False
    return rows


def stars_of(probabilities, values) -> np.ndarray:
    """The median of each predicted distribution over `values` (the rating that minimises the
    expected absolute error)."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    cumulative = np.cumsum(probabilities, axis=-1)
    index = np.argmax(cumulative >= 0.5 * cumulative[..., -1:], axis=-1)
    return np.asarray(values)[index]


def model_summary(model) -> str:
    """One line: layers and parameter count."""
    return f"{model.name}: {model.count_params():,} parameters"
