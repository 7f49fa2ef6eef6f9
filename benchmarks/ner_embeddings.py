"""What training did to the GloVe rows of an apps.ner run, and what the untrained rows are worth.

    python benchmarks/ner_embeddings.py RUN_DIR [--split valid test] [--neighbours 5 20]

RUN_DIR is a finished `python -m apps.ner train --embeddings glove-50d --glove-words data` run
on the training split. Its word vocabulary holds the training words first, then the words GloVe
knows that occur only in the validation or test text; training never reads the latter, so their
rows stay GloVe's (in best_f1.keras, which is read when the run's model.keras had them moved by
`--align-unseen`; "5 nearest" below is what that option does).

Printed:
- drift: the mean distance of the training words' rows from their GloVe vectors, as a fraction
  of a GloVe vector's mean length; R²: how much of the trained rows a least-squares affine map
  from GloVe explains (1 = the rows moved as one linear transformation);
- entity F1 (seqeval, as `python -m apps.ner evaluate`) on each split with the added rows
  as trained (GloVe's), mapped by that affine map, replaced by the `<UNK>` row, or moved by the
  mean drift of their K nearest training words (cosine similarity of the GloVe vectors).

The model files are not changed. Use the validation split to decide; the test split is for
final figures only.
"""
import argparse
import contextlib
import io
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # run from a checkout


def parse_arguments(argv):
    parser = argparse.ArgumentParser(prog="python benchmarks/ner_embeddings.py",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", help="a finished apps.ner run trained with --embeddings "
                                        "glove-50d and --glove-words data")
    parser.add_argument("--split", nargs="+", choices=("valid", "test"), default=["valid"],
                        help="splits to score (default: valid)")
    parser.add_argument("--neighbours", nargs="*", type=int, default=[5, 20], metavar="K",
                        help="neighbour counts for the nearest-words variant (default: 5 20)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    arguments = parse_arguments(argv)
    import numpy as np

    from apps.common.glove import load_glove_50d
    from apps.ner.align import align_untouched_rows
    from apps.ner.data import read_conll, split_paths, word_vocabulary
    from apps.ner.evaluate import evaluate
    from apps.ner.saved import load_run

    trained = load_run(arguments.run_dir)
    options = trained.settings.get("settings", {})
    if options.get("align_unseen"):
        # model.keras had its unseen rows moved when training ended (--align-unseen); the
        # checkpoint it was copied from still has them as training left them.
        trained = load_run(arguments.run_dir, "best_f1.keras")
    if (options.get("embeddings"), options.get("glove_words")) != ("glove-50d", "data"):
        print(f"error: {arguments.run_dir} was not trained with --embeddings glove-50d "
              "--glove-words data", file=sys.stderr)
        return 2
    vocabulary = trained.words
    data_dir = Path(trained.settings["data"])
    train_words = word_vocabulary(read_conll(
        split_paths(data_dir)["train"], scheme=trained.settings.get("scheme", "auto"))).tokens
    if vocabulary.tokens[:len(train_words)] != train_words:
        print("error: the run's vocabulary does not start with the training words of "
              f"{data_dir}", file=sys.stderr)
        return 2
    glove_words, vectors = load_glove_50d()
    glove_row = {}
    for index, word in enumerate(glove_words):
        glove_row.setdefault(word, index)

    def ids(words):  # ids count the special tokens (<PAD>, <UNK>) first
        return np.array([vocabulary.token_to_id(word) for word in words], dtype=np.int64)

    variable = trained.model.get_layer("word_embedding").embeddings
    trained_rows = np.array(variable.numpy())
    known = [word for word in train_words if word in glove_row]
    glove_known = np.stack([vectors[glove_row[word]] for word in known])
    rows_known = trained_rows[ids(known)]
    design = np.hstack([glove_known, np.ones((len(known), 1))])
    affine, *_ = np.linalg.lstsq(design, rows_known, rcond=None)
    residual = ((design @ affine - rows_known) ** 2).sum()
    r_squared = 1 - residual / ((rows_known - rows_known.mean(0)) ** 2).sum()
    drift = (np.linalg.norm(rows_known - glove_known, axis=1).mean()
             / np.linalg.norm(glove_known, axis=1).mean())
    added = vocabulary.tokens[len(train_words):]
    summary = {"run_dir": str(arguments.run_dir), "training_words": len(train_words),
               "training_words_in_glove": len(known), "added_words": len(added),
               "drift": round(float(drift), 4), "r_squared": round(float(r_squared), 4)}
    print(f"{len(known):,} of {len(train_words):,} training words in GloVe: drift "
          f"{drift:.1%} of a GloVe vector's length, R² of the affine map {r_squared:.3f}; "
          f"{len(added):,} words added from validation and test text", flush=True)
    if not added:
        print(json.dumps(summary))
        return 0
    added_ids = ids(added)
    glove_added = np.stack([vectors[glove_row[word]] for word in added])
    print(f"largest difference of an added row from its GloVe vector: "
          f"{np.abs(trained_rows[added_ids] - glove_added).max():.3g}", flush=True)

    def with_added_rows(rows):
        matrix = trained_rows.copy()
        matrix[added_ids] = rows
        return matrix

    unk = vocabulary.token_to_id(vocabulary.UNK)
    variants = {"as trained": trained_rows,
                "affine map": with_added_rows(
                    np.hstack([glove_added, np.ones((len(added), 1))]) @ affine),
                "<UNK> row": with_added_rows(np.repeat(trained_rows[unk:unk + 1], len(added), 0))}
    for count in arguments.neighbours:   # what --align-unseen COUNT does (apps/ner/align.py)
        variants[f"{count} nearest"] = align_untouched_rows(trained_rows, vocabulary, count)[0]
    summary["f1"] = {}
    try:
        for name, matrix in variants.items():
            variable.assign(matrix.astype(trained_rows.dtype))
            scores = {}
            for split in arguments.split:
                with contextlib.redirect_stdout(io.StringIO()):
                    report = evaluate(arguments.run_dir, split=split, trained=trained)
                scores[split] = round(100 * report["scores"]["overall"]["f1-score"], 2)
            summary["f1"][name] = scores
            print(f"added rows {name:>12}: " + ", ".join(
                f"{split} F1 {value:.2f}" for split, value in scores.items()), flush=True)
    finally:
        variable.assign(trained_rows)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
