"""Settings of `python -m apps.ner train`, their defaults, and why.

The defaults follow the two reference BiLSTM taggers for CoNLL-2003, Lample et al. (2016,
"Neural Architectures for Named Entity Recognition") and Ma & Hovy (2016, "End-to-end Sequence
Labeling via Bi-directional LSTM-CNNs-CRF"), with the training choices Reimers & Gurevych (2017,
"Optimal Hyperparameters for Deep LSTM-Networks for Sequence Labeling Tasks") found robust:

    word embedding     100d random (Lample et al.), or GloVe 6B 50d (--embeddings glove-50d)
    char features      30d char embedding -> CNN, 30 filters of width 3, max over the word
                       (Ma & Hovy)
    casing             8 casing categories -> 8d embedding (Reimers & Gurevych)
    dropout            0.5 on the char embeddings, the BiLSTM input and output (Ma & Hovy)
    recurrent          1 x Bidirectional(zoo.LSTM(100)) (Lample et al.: 100 per direction)
    output             CRF with IOB2 transition constraints, Viterbi decoding (both papers)
    optimizer          Adam, learning rate 0.001, each gradient clipped to norm 5 (as both
                       papers clip)
    batches            32 sentences, bucketed by length (padding is small)
    unknown words      each use of a training word seen once becomes <UNK> with probability 0.5
                       (Lample et al.), so the <UNK> embedding is trained for unseen test words
    language model     without pretrained vectors, an auxiliary loss (weight 0.1; Rei 2017): the
                       BiLSTM's forward states also predict the next word and its backward
                       states the previous one, over the 5,000 most frequent training words;
                       validation F1 +0.57 over seeds 1-3 (90.19 against 89.62); with GloVe
                       no gain (seeds 1-2: 93.87, 93.90 against 94.41, 94.08), so off
    adversarial        without pretrained vectors, adversarial training on the word, character
                       and casing features (Miyato et al. 2017; --adversarial 1.0): validation
                       F1 +1.27 over seeds 1-2 (91.25, 91.36 against 90.11, 89.96), and the
                       final test F1 86.10 +- 0.57 against 84.62 +- 0.41 (5 seeds); with GloVe
                       no gain (eps 1: 94.06, 93.88; eps 0.3: 94.15, 94.06), so off
    stopping           at most 50 epochs; stop after 5 epochs without a better validation F1
                       (Reimers & Gurevych); the model kept is the one of the best validation F1
    document memory    with GloVe, each word also attends over the BiLSTM states of the other
                       occurrences of that word in the same -DOCSTART- story (attention size 64;
                       Luo et al. 2020's document-level memory, read within a batch of whole
                       story pieces): validation F1 +0.31 over seeds 1-4 (94.43 against 94.12),
                       at about 4x the time per epoch; off without pretrained vectors (untested)
    unseen GloVe rows  when training ends, the rows of words met only in validation or test
                       text (never trained, still GloVe's) move by the mean drift of their 5
                       nearest training words (apps/ner/align.py; --align-unseen)
    final model        --train-on train+valid: once a run on the training split has chosen the
                       number of epochs (its best validation epoch), train the same settings on
                       the training and validation sentences together for that many epochs and
                       keep the last epoch (Chiu & Nichols 2016 report their final figures so);
                       with 23 % more labelled sentences, test F1 rose by 0.7 with GloVe and
                       1.1 without (3 seeds each; benchmarks/RESULTS.md)
"""
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CELLS = ("lstm", "gru")
CHAR_ENCODERS = ("cnn", "lstm", "none")
OUTPUTS = ("softmax", "crf")
EMBEDDINGS = ("none", "glove-50d")
GLOVE_WORDS = ("data", "train")
OPTIMIZERS = ("adam", "nadam", "sgd")
SCHEMES = ("auto", "iob1", "iob2")
SPLITS = ("train", "valid", "test")
# What the model is fitted to: the training split (validation chooses the epoch), or the
# training and validation splits together for a fixed number of epochs (the last is kept).
BOTH_SPLITS = "train+valid"
TRAIN_ON = ("train", BOTH_SPLITS)
DEFAULT_EPOCHS = 50
DEFAULT_PATIENCE = 5

DEFAULT_WORD_DIM = 100
GLOVE_DIM = 50
DEFAULT_CHAR_FEATURES = {"cnn": 30, "lstm": 25, "none": 0}
DEFAULT_LEARNING_RATE = {"adam": 0.001, "nadam": 0.002, "sgd": 0.015}
SGD_MOMENTUM = 0.9
SGD_DECAY = 0.05          # Ma & Hovy: learning rate / (1 + 0.05 t) after t epochs
DEFAULT_CLIPNORM = 5.0
DEFAULT_LM_WORDS = 5000    # words the auxiliary language model predicts (the rest as <UNK>)
# --lm-weight by embeddings: the language model helps the random word vectors only (validation).
DEFAULT_LM_WEIGHT = {"none": 0.1, "glove-50d": 0.0}
# --adversarial by embeddings: adversarial training helps the random word vectors only
# (validation, benchmarks/RESULTS.md).
DEFAULT_ADVERSARIAL = {"none": 1.0, "glove-50d": 0.0}
# --align-unseen: with GloVe (--glove-words data), the rows of words met only in validation or
# test text get the mean drift of their K nearest training words when training ends
# (apps/ner/align.py); 0: off. Raised validation F1 on each of 5 default GloVe runs.
DEFAULT_ALIGN_UNSEEN = 5
# --doc-memory by embeddings: the document memory's attention size (apps.ner.model.DocumentMemory).
# With GloVe it raised validation F1 on each of 4 seeds (mean +0.31); untested without.
DEFAULT_DOC_MEMORY = {"none": 0, "glove-50d": 64}
EVAL_BATCH_SIZE = 128


@dataclass
class TrainConfig:
    """Every setting of one training run (recorded in run.json; resuming needs the same ones)."""

    # Folder with train.txt, valid.txt, test.txt (or eng.train, eng.testa, eng.testb);
    # None: <repo>/../shared/datasets/conll2003 (or $ZOO_DATASETS/conll2003).
    data: str | None = None
    # Tag scheme of the files: "auto" detects IOB1 and converts it to IOB2.
    scheme: str = "auto"
    # Word vectors: "none" (random, trained) or "glove-50d" (GloVe 6B 50d, trained further).
    embeddings: str = "none"
    # With GloVe: "data" adds to the vocabulary the GloVe words that occur in any split's text
    # (as Lample et al. do), "train" keeps the training words only.
    glove_words: str = "data"
    # Keep the word vectors as initialised (GloVe) instead of training them further.
    freeze_embeddings: bool = False
    # With glove-50d and glove_words "data": when training ends, move the never-trained rows
    # (words met only in validation or test text) by the mean drift of their K nearest
    # training words (apps/ner/align.py); 0: off.
    align_unseen: int = 0
    # Word embedding size (fixed to 50 by glove-50d).
    word_dim: int = DEFAULT_WORD_DIM
    # Character features of each word: "cnn" (Ma & Hovy), "lstm" (Lample et al.) or "none".
    char_encoder: str = "cnn"
    # Character embedding size.
    char_dim: int = 30
    # CNN filters, or LSTM units per direction, of the character encoder (0 with "none").
    char_features: int = 30
    # Casing embedding size (0: no casing feature).
    casing_dim: int = 8
    # Characters per word seen by the character encoder; longer words keep their first
    # ceil(W/2) and last floor(W/2) characters (the word itself is never cut).
    max_word_length: int = 25
    # Recurrent cell of the word-level BiLSTM/BiGRU.
    cell: str = "lstm"
    # Units per direction of each recurrent layer.
    units: int = 100
    # Stacked bidirectional layers.
    layers: int = 1
    # Dropout rate on the char embeddings, the recurrent input and the recurrent output.
    dropout: float = 0.5
    # "softmax" (independent per-token decisions) or "crf" (Viterbi over IOB2 transitions).
    output: str = "crf"
    # Size of the document memory's attention (apps.ner.model.DocumentMemory): each token
    # also reads the other occurrences of its word in the same -DOCSTART- story; 0: off.
    doc_memory: int = 0
    # Weight of the auxiliary language-model loss (Rei 2017): the top recurrent layer's
    # forward states predict the next word, its backward states the previous one; 0: off.
    lm_weight: float = 0.0
    # The language model predicts the lm_words most frequent training words (others as <UNK>).
    lm_words: int = DEFAULT_LM_WORDS
    # Adversarial training (Miyato et al. 2017) on the concatenated word, character and casing
    # features: the norm of each sentence's perturbation; 0: off.
    adversarial: float = 0.0
    # Probability of replacing a training word seen once by <UNK> (each time it is used).
    unk_singletons: float = 0.5
    # Optimizer; sgd has momentum 0.9 and a learning rate decaying as lr / (1 + 0.05 epoch).
    optimizer: str = "adam"
    # None: the optimizer's default (adam 0.001, nadam 0.002, sgd 0.015).
    learning_rate: float | None = None
    clipnorm: float | None = DEFAULT_CLIPNORM
    clipvalue: float | None = None
    epochs: int = DEFAULT_EPOCHS
    batch_size: int = 32
    # Stop after this many epochs without a better validation F1 (0: never stop early).
    patience: int = DEFAULT_PATIENCE
    # "train", or "train+valid": fit to both splits for exactly `epochs` epochs, keep the last
    # (patience must be 0: no held-out data is left to stop on).
    train_on: str = "train"
    run_dir: str = "runs/ner"
    seed: int = 0
    no_progress: bool = False
    save_every_steps: int | None = None
    # Passed through to apps.common's training (logdir, distribute, mixed_precision, xla).
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return asdict(self)

    @property
    def resolved_learning_rate(self) -> float:
        return self.learning_rate if self.learning_rate is not None else \
            DEFAULT_LEARNING_RATE[self.optimizer]


def datasets_root() -> Path:
    """<repo>/../shared/datasets, or $ZOO_DATASETS."""
    return Path(os.environ.get("ZOO_DATASETS", REPO_ROOT.parent / "shared" / "datasets"))


def default_data_path() -> Path:
    """The CoNLL-2003 folder: <repo>/../shared/datasets/conll2003 (or $ZOO_DATASETS/conll2003)."""
    return datasets_root() / "conll2003"


def resolve_data_path(data) -> Path:
    return Path(data) if data else default_data_path()
