"""`evaluate`: entity-level precision, recall and F1 of a trained tagger, and where it errs.

Scores come from seqeval in its default mode, which is compatible with conlleval.pl (the
CoNLL-2003 shared task's script): a chunk starts at B-X, or at I-X after O or after another
type; an entity counts as correct only with exactly the gold first token, last token and type.
Precision, recall and F1 are per type and micro-averaged over all entities ("overall", the
figure papers report).

Error analysis, entity by entity (each wrong prediction is counted once, on the predicted side;
a gold entity that no prediction touches is "missed"):

    type         the predicted span equals a gold span, the type differs
    boundary     the predicted span overlaps a gold entity of its type, but is not its span
    both         the predicted span overlaps gold entities, none of its type (nor its span)
    spurious     the predicted entity overlaps no gold entity
    missed       a gold entity that no predicted entity overlaps

plus the most frequent (gold type -> predicted type) confusions among type and both errors, and
a few sentences with errors, gold and predicted entities side by side.
"""
import collections
from pathlib import Path

from apps.common.errors import UserError
from apps.ner.config import BOTH_SPLITS, SPLITS
from apps.ner.data import check_known_tags, read_conll, split_paths
from apps.ner.predict import predict_tags
from apps.ner.ensemble import describe_models, load_taggers


def entities_of(tags) -> list:
    """(type, first token, last token) of each chunk, conlleval's way (seqeval.get_entities)."""
    from seqeval.metrics.sequence_labeling import get_entities
    return get_entities(list(tags))


def analyse_errors(gold_lists, predicted_lists) -> dict:
    """Counts of correct/type/boundary/both/spurious/missed, confusions and sentence indices."""
    counts = collections.Counter()
    confusions = collections.Counter()
    sentences_with_errors = []
    for index, (gold_tags, predicted_tags) in enumerate(zip(gold_lists, predicted_lists)):
        gold, predicted = entities_of(gold_tags), entities_of(predicted_tags)
        gold_set = set(gold)
        counts["gold"] += len(gold)
        counts["predicted"] += len(predicted)
        wrong = False
        for entity in predicted:
            kind, gold_type = classify_prediction(entity, gold, gold_set)
            counts[kind] += 1
            wrong |= kind != "correct"
            if kind in ("type", "both"):
                confusions[(gold_type, entity[0])] += 1
        for entity in gold:
            if not any(overlaps(entity, other) for other in predicted):
                counts["missed"] += 1
                wrong = True
        if wrong:
            sentences_with_errors.append(index)
    return {"counts": counts, "confusions": confusions, "sentences": sentences_with_errors}


def overlaps(first, second) -> bool:
    return first[1] <= second[2] and second[1] <= first[2]


def classify_prediction(entity, gold, gold_set):
    """(kind, gold type involved or None) of one predicted entity (see the module docstring)."""
    if entity in gold_set:
        return "correct", None
    touching = [other for other in gold if overlaps(entity, other)]
    if not touching:
        return "spurious", None
    same_span = [other for other in touching if other[1:] == entity[1:]]
    if same_span:
        return "type", same_span[0][0]
    if any(other[0] == entity[0] for other in touching):
        return "boundary", None
    return "both", touching[0][0]


def score(gold_lists, predicted_lists) -> dict:
    """seqeval's conlleval-compatible per-type and overall precision, recall, F1 (0..1)."""
    from seqeval.metrics import classification_report

    report = classification_report(gold_lists, predicted_lists, output_dict=True,
                                   zero_division=0, mode=None)
    per_type = {name: values for name, values in report.items() if "avg" not in name}
    predicted_per_type = collections.Counter(entity[0] for tags in predicted_lists
                                             for entity in entities_of(tags))
    for name, values in per_type.items():
        values["predicted"] = predicted_per_type.get(name, 0)
    overall = dict(report["micro avg"])
    overall["predicted"] = sum(predicted_per_type.values())
    return {"per_type": per_type, "overall": overall}


def format_scores(scores: dict) -> str:
    lines = [f"{'type':<8} {'precision':>9} {'recall':>9} {'F1':>9} {'gold':>7} {'predicted':>9}"]
    rows = sorted(scores["per_type"].items()) + [("overall", scores["overall"])]
    for name, values in rows:
        lines.append(f"{name:<8} {100 * values['precision']:9.2f} {100 * values['recall']:9.2f} "
                     f"{100 * values['f1-score']:9.2f} {int(values['support']):7d} "
                     f"{int(values['predicted']):9d}")
    return "\n".join(lines)


def describe_entities(tokens, entities) -> str:
    if not entities:
        return "(none)"
    return " ".join(f"[{' '.join(tokens[first:last + 1])} {kind}]"
                    for kind, first, last in entities)


def format_errors(analysis: dict, sentences, predicted_lists, examples: int) -> str:
    counts = analysis["counts"]
    errors = sum(counts[kind] for kind in ("type", "boundary", "both", "spurious", "missed"))
    lines = [f"errors: {counts['gold']} gold entities, {counts['predicted']} predicted, "
             f"{counts['correct']} correct, {errors} errors:",
             f"  type      right span, wrong type                     {counts['type']:6d}",
             f"  boundary  overlaps a gold entity of its type          {counts['boundary']:6d}",
             f"  both      overlaps gold entities of other types only  {counts['both']:6d}",
             f"  spurious  overlaps no gold entity                     {counts['spurious']:6d}",
             f"  missed    gold entity no prediction overlaps          {counts['missed']:6d}"]
    if analysis["confusions"]:
        top = ", ".join(f"{gold} -> {predicted} {count}" for (gold, predicted), count
                        in analysis["confusions"].most_common(6))
        lines.append(f"most confused types (gold -> predicted): {top}")
    shown = analysis["sentences"][:examples]
    if shown:
        lines.append(f"first {len(shown)} of {len(analysis['sentences'])} sentences with errors:")
    for index in shown:
        sentence = sentences[index]
        lines.append(f"  line {sentence.line}: {' '.join(sentence.tokens)}")
        gold = describe_entities(sentence.tokens, entities_of(sentence.tags))
        predicted = describe_entities(sentence.tokens, entities_of(predicted_lists[index]))
        lines.append(f"    gold:      {gold}")
        lines.append(f"    predicted: {predicted}")
    return "\n".join(lines)


def validation_f1(run_dir, data) -> float:
    """Entity F1 (0..1) of the run's model.keras on `data.sentences["valid"]` (prepared data of
    apps.ner.train), printed nowhere."""
    trained = load_taggers(run_dir, None)
    sentences = data.sentences["valid"]
    predicted = predict_tags(trained, [sentence.tokens for sentence in sentences],
                             documents=[sentence.document for sentence in sentences])
    return float(score([sentence.tags for sentence in sentences],
                       predicted)["overall"]["f1-score"])


def evaluate(run_dir, *, split="test", data=None, checkpoint=None, examples=5,
             batch_size=128, trained=None, file=None) -> dict:
    """Score the run's tagger on a split, or on any CoNLL column file `file` (token in the first
    column, tag in the last, IOB1 or IOB2; then `split` and `data` are not used); print the
    table and the error analysis; return both."""
    if file is None and split not in SPLITS:
        raise UserError(f"--split must be one of {', '.join(SPLITS)}; received {split!r}")
    if file is not None and not Path(file).is_file():
        raise UserError(f"--file {file} does not exist (or is not a file); give a CoNLL column "
                        f"file: token in the first column, tag in the last")
    trained = trained or load_taggers(run_dir, checkpoint)
    if file is not None:
        split, path = "file", Path(file)
        where = f"file {path}"
    else:
        data_dir = Path(data) if data else Path(trained.settings["data"])
        path = split_paths(data_dir)[split]
        where = f"{split} split: {path}"
    sentences = read_conll(path, scheme=trained.settings.get("scheme", "auto"))
    check_known_tags(sentences, trained.tag_names, path)
    predicted = predict_tags(trained, [sentence.tokens for sentence in sentences],
                             batch_size=batch_size,
                             documents=[sentence.document for sentence in sentences])
    gold = [sentence.tags for sentence in sentences]
    scores = score(gold, predicted)
    analysis = analyse_errors(gold, predicted)
    print(f"{where} ({len(sentences)} sentences); {describe_models(trained)}")
    trained_on = BOTH_SPLITS if any(
        member.settings.get("settings", {}).get("train_on") == BOTH_SPLITS
        for member in trained.members) else "train"
    if split == "train" or (split == "valid" and trained_on == BOTH_SPLITS):
        print(f"note: this model was trained on the {split} sentences (--train-on {trained_on}): "
              f"these scores measure fit, not generalisation; the test split does")
    print("entity-level scores (seqeval, conlleval-compatible mode):")
    print(format_scores(scores))
    print(format_errors(analysis, sentences, predicted, examples), flush=True)
    return {"split": split, "path": str(path), "scores": scores,
            "errors": dict(analysis["counts"]),
            "confusions": {f"{g}->{p}": n for (g, p), n in analysis["confusions"].items()}}
