"""Phrase-level training data from the Stanford Sentiment Treebank's parse trees.

`trees/{train,dev,test}.txt` hold one PTB-style tree per line with a sentiment label 0..4 on every
node, leaves included:

    (3 (2 (2 The) (2 Rock)) (4 (3 (2 is) ...) (2 .)))

Every node covers a phrase: the words of the leaves below it. Tai et al. (2015) and Socher et al.
(2013) train on all the labelled phrases of the training trees (the published BiLSTM figures,
SST-2 87.5 % and SST-5 49.1 %, come from that); dev and test are scored on whole sentences only.
`load_sst_phrases` reads the training trees into `Examples`:

    - the text of a phrase is its leaves joined by spaces, through `tokens.split_words` (so it is
      lower-cased and tokenised exactly like the stsa.* sentences and like text given to predict);
    - SST-5 (fine=True) keeps the labels 0..4; SST-2 drops the neutral phrases (2) and maps
      0, 1 -> 0 (negative) and 3, 4 -> 1 (positive), as stsa.binary does for sentences;
    - phrases are deduplicated by text (the same phrase occurs in many trees: "the", "a movie");
      a text seen with different labels keeps its most frequent label, the first seen on a tie;
    - the order is that of first occurrence, so every load gives the same examples.
"""
from collections import Counter
from pathlib import Path

from apps.sentiment.data import (BINARY_LABEL_NAMES, FINE_LABEL_NAMES, Examples,
                                 SentimentDataError)
from apps.sentiment.tokens import split_words

TREE_FOLDER = "trees"
TREE_LABELS = range(5)
NEUTRAL = 2
HOW_TO_GET_TREES = ("phrase-level training needs the SST parse trees (trainDevTestTrees_PTB: "
                    "trees/train.txt with a 0-4 label on every node) in DIR/trees or "
                    "DIR/sst/trees; pass --no-phrases to train on whole sentences only")


class TreeSyntaxError(ValueError):
    """A line that is not one well-formed labelled tree; the message says where and why."""


def parse_tree(line: str):
    """(leaves, nodes) of one tree: leaves are the words in order, nodes the (label, start, end)
    of every node (leaf spans [start, end) over the leaves), in the order their brackets close.

    Tokens are split on spaces only: a leaf may hold other whitespace (SST has "2\\xa01\\/2").
    """
    text = line.strip()
    leaves, nodes, stack = [], [], []  # stack: [label, start, has_children] per open node
    position, length = 0, len(text)
    while position < length:
        character = text[position]
        if character == " ":
            position += 1
        elif character == "(":
            end = position + 1
            while end < length and text[end] not in " ()":
                end += 1
            label_text = text[position + 1:end]
            if not label_text.isdigit() or int(label_text) not in TREE_LABELS:
                raise TreeSyntaxError(f"expected a label 0..4 after '(' at character "
                                      f"{position + 1}; found {label_text!r}")
            if stack:
                if not stack[-1][2] and len(leaves) > stack[-1][1]:
                    raise TreeSyntaxError(f"a node holds a word and a phrase at character "
                                          f"{position + 1}")
                stack[-1][2] = True
            elif nodes:
                raise TreeSyntaxError(f"text after the end of the tree at character "
                                      f"{position + 1}")
            stack.append([int(label_text), len(leaves), False])
            position = end
        elif character == ")":
            if not stack:
                raise TreeSyntaxError(f"unbalanced ')' at character {position + 1}")
            label, start, has_children = stack.pop()
            if not has_children and len(leaves) == start:
                raise TreeSyntaxError(f"empty node before character {position + 1}")
            nodes.append((label, start, len(leaves)))
            position += 1
        else:
            end = position
            while end < length and text[end] not in " ()":
                end += 1
            if not stack or stack[-1][2] or len(leaves) > stack[-1][1]:
                raise TreeSyntaxError(f"a word must be the only child of its node; found "
                                      f"{text[position:end]!r} at character {position + 1}")
            leaves.append(text[position:end])
            position = end
    if stack:
        raise TreeSyntaxError(f"{len(stack)} unclosed '(' at the end of the line")
    if not nodes:
        raise TreeSyntaxError("no tree on the line")
    return leaves, nodes


def tree_phrases(line: str):
    """[(phrase text, label)] of every node of one tree (see the module docstring for the text)."""
    leaves, nodes = parse_tree(line)
    words = [split_words(leaf) for leaf in leaves]  # word by word: the same as the whole text
    return [(" ".join(word for word in words[start:end] if word), label)
            for label, start, end in nodes]


def binary_label(label: int):
    """SST-2's label of an SST-5 label: 0 for 0-1, 1 for 3-4, None for neutral (2)."""
    return None if label == NEUTRAL else int(label > NEUTRAL)


def phrases_from_lines(lines, *, fine: bool, where: str = "<trees>") -> Examples:
    """Deduplicated phrase Examples from tree lines (blank lines skipped)."""
    labels_of_text = {}  # text -> Counter of labels, in order of first occurrence
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            phrases = tree_phrases(line)
        except TreeSyntaxError as error:
            raise SentimentDataError(f"{where}:{number}: not an SST tree ({error})") from None
        for text, label in phrases:
            label = label if fine else binary_label(label)
            if label is not None and text:
                labels_of_text.setdefault(text, Counter())[label] += 1
    if not labels_of_text:
        raise SentimentDataError(f"{where}: no labelled phrases found")
    texts = list(labels_of_text)
    labels = [majority(labels_of_text[text]) for text in texts]
    return Examples(texts, labels, None, FINE_LABEL_NAMES if fine else BINARY_LABEL_NAMES)


def majority(counts: Counter) -> int:
    """The most frequent label; on a tie the one counted first (Counter keeps insertion order)."""
    best = max(counts.values())
    return next(label for label, count in counts.items() if count == best)


def find_tree_file(data_dir, split: str = "train") -> Path:
    """DIR/trees/<split>.txt or DIR/sst/trees/<split>.txt, or SentimentDataError."""
    if data_dir is None:
        raise SentimentDataError(f"SST data folder not given; {HOW_TO_GET_TREES}")
    path = Path(data_dir).expanduser()
    candidates = [path / TREE_FOLDER / f"{split}.txt", path / "sst" / TREE_FOLDER / f"{split}.txt"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise SentimentDataError(f"SST trees not found: looked for {candidates[0]} and "
                             f"{candidates[1]}; {HOW_TO_GET_TREES}")


def load_sst_phrases(data_dir, *, fine: bool, split: str = "train") -> Examples:
    """The labelled phrases of the `split` trees (see the module docstring)."""
    path = find_tree_file(data_dir, split)
    try:
        lines = path.read_bytes().decode("utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise SentimentDataError(f"{path}: not UTF-8 text ({error.reason} at byte "
                                 f"{error.start})") from None
    return phrases_from_lines(lines, fine=fine, where=str(path))
