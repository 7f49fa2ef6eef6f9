"""`evaluate`: accuracy, per-class precision/recall/F1 and the confusion matrix of a trained run.

The split is "test" (IMDB's 25,000 test reviews, the SST test sentences) or "validation" (the
held-out IMDB training reviews, the SST dev sentences: what chose the epoch). Star ratings are
scored too: for IMDB's stars head the mean absolute error between the true file-name rating
and the predicted one (the median of the predicted distribution over 1-4 and 7-10, the value
that minimises the expected absolute error) and the exact-match rate; for SST-5 the mean
absolute error in classes (1-5 stars). The report is printed and written to
run_dir/evaluation-<split>.json.
"""
from pathlib import Path

import numpy as np

from apps.common.atomic import atomic_write_json
from apps.common.errors import UserError
from apps.sentiment.config import BOTH_SPLITS
from apps.sentiment.datasets import load_evaluation_data
from apps.sentiment.model import RATING, SENTIMENT, rating_classes, stars_of

SPLITS = ("test", "validation")


def predicted_labels(sentiment) -> np.ndarray:
    """Class indices from the sentiment output: P(positive) >= 0.5, or the argmax."""
    sentiment = np.asarray(sentiment)
    if sentiment.ndim == 2 and sentiment.shape[1] > 1:
        return np.argmax(sentiment, axis=1)
    return (sentiment.reshape(-1) >= 0.5).astype(np.int64)


def classification_report(true, predicted, label_names) -> dict:
    """accuracy, confusion matrix (rows true, columns predicted), per-class scores, macro F1."""
    true, predicted = np.asarray(true, np.int64), np.asarray(predicted, np.int64)
    count = len(label_names)
    confusion = np.zeros((count, count), dtype=np.int64)
    np.add.at(confusion, (true, predicted), 1)
    per_class = {}
    for index, name in enumerate(label_names):
        hits = int(confusion[index, index])
        predicted_count, support = int(confusion[:, index].sum()), int(confusion[index].sum())
        precision = hits / predicted_count if predicted_count else 0.0
        recall = hits / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[name] = {"precision": precision, "recall": recall, "f1": f1,
                           "support": support}
    return {"examples": int(len(true)),
            "accuracy": float(np.mean(true == predicted)) if len(true) else 0.0,
            "macro_f1": float(np.mean([scores["f1"] for scores in per_class.values()])),
            "per_class": per_class, "confusion_matrix": confusion.tolist(),
            "label_names": list(label_names)}


def star_report(trained, examples, outputs, predicted) -> dict | None:
    """Rating scores for the stars head (IMDB) and the five-class head (SST-5)."""
    if trained.head == "stars":
        values = np.asarray(trained.info["rating_values"])
        stars = stars_of(outputs[RATING], values)
        true_class = rating_classes(examples.ratings)
        return {"scale": "1-4 and 7-10 of 10",
                "mean_absolute_error": float(np.mean(np.abs(stars - examples.ratings))),
                "exact": float(np.mean(np.argmax(outputs[RATING], axis=1) == true_class))}
    if trained.info.get("stars") == 5:
        return {"scale": "1-5",
                "mean_absolute_error": float(np.mean(np.abs(predicted - examples.labels))),
                "exact": float(np.mean(predicted == examples.labels))}
    return None


def evaluation_data_dir(info: dict, data=None):
    """Where the texts to score are: `data` if given, else where the run was trained from
    (None: the download cache)."""
    if data is not None:
        return Path(data).expanduser()
    recorded = info.get("settings", {}).get("data")
    return None if recorded in (None, "download") else Path(recorded)


def evaluation_examples(info: dict, split: str, data_dir):
    """The Examples of `split` for a run with this sentiment.json (its held-out share)."""
    return load_evaluation_data(info["dataset"], data_dir, split,
                                validation_split=info.get("settings", {}).get("validation_split"))


def evaluate(run_dir, *, split: str = "test", data=None, batch_size: int = 128,
             verbose: bool = True, trained=None) -> dict:
    """Score the run on `split`; save the report; return it.

    run_dir may be a list of run folders: their mean prediction is scored (apps.sentiment.
    ensemble), and the report, which names them, goes into the first as
    evaluation-<split>-ensemble-of-<N>.json.
    """
    from apps.sentiment.ensemble import load_runs, read_texts

    if trained is None:
        trained = load_runs(run_dir if isinstance(run_dir, (list, tuple)) else [run_dir])
    members = trained.members
    held_out = {member.info.get("settings", {}).get("validation_split") for member in members}
    if split == "validation" and len(held_out) > 1:
        raise UserError("the runs held out different validation texts (validation_split "
                        f"{', '.join(sorted(map(str, held_out)))}), so some of them trained on "
                        "what the others are scored on; score the ensemble on --split test")
    data_dir = evaluation_data_dir(trained.info, data)
    examples = evaluation_examples(trained.info, split, data_dir)
    outputs, encoded = read_texts(trained, examples.texts, batch_size=batch_size,
                                  verbose=verbose)
    predicted = predicted_labels(outputs[SENTIMENT])
    trained_on = [member.info.get("train_on", "train") for member in members]
    report = {"dataset": trained.dataset, "split": split, "run_dir": str(trained.run_dir),
              "data": None if data_dir is None else str(data_dir),
              **classification_report(examples.labels, predicted, examples.label_names),
              "truncated": int(encoded.truncated.sum()), "max_length": encoded.max_length,
              "no_known_word": int(encoded.no_known_word.sum()),
              "train_on": BOTH_SPLITS if BOTH_SPLITS in trained_on else "train"}
    stars = star_report(trained, examples, outputs, predicted)
    if stars is not None:
        report["stars"] = stars
    name = f"evaluation-{split}.json"
    if len(members) > 1:
        report["ensemble"] = [str(member.run_dir) for member in members]
        name = f"evaluation-{split}-ensemble-of-{len(members)}.json"
    atomic_write_json(Path(trained.run_dir) / name, report)
    return report


def format_report(report: dict) -> str:
    """The report as a few aligned lines of text."""
    names = report["label_names"]
    width = max(12, *(len(name) + 2 for name in names))
    lines = []
    if report.get("ensemble"):
        lines.append(f"ensemble of {len(report['ensemble'])} runs (mean predicted "
                     f"probabilities): {', '.join(report['ensemble'])}")
    lines += [f"{report['dataset']} {report['split']}: {report['examples']:,} texts; accuracy "
              f"{report['accuracy']:.2%}; macro F1 {report['macro_f1']:.4f}",
             f"{'':{width}}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}"]
    for name in names:
        scores = report["per_class"][name]
        lines.append(f"{name:{width}}{scores['precision']:>10.4f}{scores['recall']:>10.4f}"
                     f"{scores['f1']:>10.4f}{scores['support']:>10,}")
    lines.append("confusion matrix (rows: true label, columns: predicted)")
    lines.append(f"{'':{width}}" + "".join(f"{name[:14]:>15}" for name in names))
    for name, row in zip(names, report["confusion_matrix"]):
        lines.append(f"{name:{width}}" + "".join(f"{value:>15,}" for value in row))
    if "stars" in report:
        stars = report["stars"]
        lines.append(f"stars ({stars['scale']}): mean absolute error "
                     f"{stars['mean_absolute_error']:.3f} stars, exactly right "
                     f"{stars['exact']:.2%}")
    if report["truncated"]:
        share = report["truncated"] / report["examples"]
        lines.append(f"{report['truncated']:,} texts ({share:.1%})"
                     f" were longer than {report['max_length']} tokens; their first "
                     f"{report['max_length']} were read")
    if report["no_known_word"]:
        lines.append(f"{report['no_known_word']:,} texts had no word of the vocabulary")
    if report["split"] == "validation" and report.get("train_on") == BOTH_SPLITS:
        lines.append(f"note: {'a run of the ensemble' if report.get('ensemble') else 'this model'}"
                     f" was trained on these validation texts (--train-on "
                     f"{BOTH_SPLITS}), so this is its fit to training data, not a held-out "
                     "score")
    return "\n".join(lines)
