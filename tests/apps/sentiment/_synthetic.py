"""Small synthetic IMDB and SST data sets in the real layouts, for end-to-end tests of the app.

The texts are built from a few sentiment words, so a tiny model can learn something from them,
and every file name and line has the format the loaders read.
"""
import random

POSITIVE = ("good", "great", "fine", "lovely", "moving", "funny")
NEGATIVE = ("bad", "awful", "dull", "poor", "boring", "silly")
NEUTRAL = ("movie", "film", "story", "plot", "the", "a", "actor", "scene")


def review(rng: random.Random, positive: bool, words: int) -> str:
    """A review of about `words` words with punctuation and capitals, as users write them."""
    chosen = []
    for _ in range(words):
        pool = (POSITIVE if positive else NEGATIVE) if rng.random() < 0.3 else NEUTRAL
        chosen.append(rng.choice(pool))
    chosen[0] = chosen[0].capitalize()
    return " ".join(chosen) + rng.choice((".", "!", "...")) + "<br /><br />The end."


def write_imdb_folder(root, *, train_per_label=24, test_per_label=8, seed=0):
    """An extracted aclImdb/ folder under root with ratings 1-4 and 7-10; returns root."""
    rng = random.Random(seed)
    folder = root / "aclImdb"
    for split, count in (("train", train_per_label), ("test", test_per_label)):
        for polarity, ratings in (("pos", (7, 8, 9, 10)), ("neg", (1, 2, 3, 4))):
            target = folder / split / polarity
            target.mkdir(parents=True, exist_ok=True)
            for number in range(count):
                text = review(rng, polarity == "pos", rng.randint(3, 30))
                (target / f"{number}_{ratings[number % 4]}.txt").write_text(text,
                                                                           encoding="utf-8")
    return root


def tree(words, label, word_labels):
    """A right-branching PTB tree over words, every inner node labelled `label`."""
    nodes = [f"({word_labels.get(word, 2)} {word})" for word in words]
    while len(nodes) > 1:
        nodes = [f"({label} {nodes[0]} {nodes[1]})"] + nodes[2:]
    return nodes[0]


def write_sst_folder(root, *, sentences=(60, 16, 16), seed=0):
    """root/sst/ with stsa.{binary,fine}.{train,dev,test} and trees/{train,dev,test}.txt."""
    rng = random.Random(seed)
    folder = root / "sst"
    (folder / "trees").mkdir(parents=True, exist_ok=True)
    word_labels = {**{word: 4 for word in POSITIVE}, **{word: 0 for word in NEGATIVE}}
    for split, count in zip(("train", "dev", "test"), sentences):
        trees, fine, binary = [], [], []
        for _ in range(count):
            label = rng.choice((0, 1, 2, 3, 4))
            pool = POSITIVE if label > 2 else NEGATIVE if label < 2 else NEUTRAL
            words = [rng.choice(NEUTRAL), rng.choice(pool), rng.choice(NEUTRAL), "."]
            trees.append(tree(words, label, word_labels))
            fine.append(f"{label} {' '.join(words)}")
            if label != 2:
                binary.append(f"{int(label > 2)} {' '.join(words)}")
        (folder / "trees" / f"{split}.txt").write_text("\n".join(trees) + "\n", encoding="utf-8")
        (folder / f"stsa.fine.{split}").write_text("\n".join(fine) + "\n", encoding="utf-8")
        (folder / f"stsa.binary.{split}").write_text("\n".join(binary) + "\n", encoding="utf-8")
    return root
