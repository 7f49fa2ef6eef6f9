"""python -m apps.ner train | evaluate | tag through main(): the run folder, scores, spans,
an exact resume after an interruption, and one-line errors for bad input."""
import csv
import json

import numpy as np
import pytest

from tests.apps.ner.conftest import TINY_TRAIN_ARGUMENTS, run_main, write_conll_folder

HARRY = "Harry Potter and Hermione Granger invented a new spell."


def history_rows(run_dir):
    with open(run_dir / "history.csv", newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


# --------------------------------------------------------------------------------- train
def test_train_leaves_a_complete_run_folder_with_val_f1_every_epoch(trained_run):
    run_dir, stdout = trained_run
    for name in ("model.keras", "best_f1.keras", "best.keras", "last.keras", "words.json",
                 "chars.json", "tags.json", "ner.json", "run.json", "history.csv", "loss.png",
                 "timing.json", "backup/state.json"):
        assert (run_dir / name).exists(), name
    rows = history_rows(run_dir)
    assert [row["epoch"] for row in rows] == ["0", "1"]
    assert all(0.0 <= float(row["val_f1"]) <= 1.0 and float(row["loss"]) > 0 for row in rows)
    settings = json.loads((run_dir / "run.json").read_text())["settings"]
    assert settings["units"] == 8 and settings["output"] == "crf"
    assert settings["embeddings"] == "none" and settings["char_encoder"] == "cnn"
    assert set(settings["data_files"]) == {"train", "valid", "test"}
    saved = json.loads((run_dir / "ner.json").read_text())
    assert saved["tag_names"][0] == "O" and saved["max_word_length"] == 25
    assert "val_f1" in stdout and "best validation entity F1" in stdout


def test_rerunning_a_finished_run_trains_nothing_more(trained_run, conll_folder):
    run_dir, _ = trained_run
    before = (run_dir / "model.keras").read_bytes()
    status, stdout, stderr = run_main(["train", "--data", conll_folder, "--run-dir", run_dir]
                                      + TINY_TRAIN_ARGUMENTS)
    assert status == 0, stderr
    assert "already trained 2 epochs" in stdout
    assert len(history_rows(run_dir)) == 2 and (run_dir / "model.keras").read_bytes() == before


def test_resuming_with_other_settings_is_a_one_line_error(trained_run, conll_folder):
    run_dir, _ = trained_run
    arguments = ["train", "--data", conll_folder, "--run-dir", run_dir] + TINY_TRAIN_ARGUMENTS
    arguments[arguments.index("--units") + 1] = "9"
    status, _, stderr = run_main(arguments)
    assert status == 2 and stderr.startswith("error: ") and stderr.count("\n") == 1
    assert "units: 8 there, 9 now" in stderr


def config_for(*options):
    """The TrainConfig that `train OPTIONS` resolves to (defaults by embeddings filled in)."""
    from apps.ner.__main__ import build_parser, train_config

    return train_config(build_parser().parse_args(["train", *options]))


def test_the_language_model_is_on_by_default_without_pretrained_vectors_only():
    assert config_for().lm_weight == 0.1 and config_for().lm_words == 5000
    assert config_for("--embeddings", "glove-50d").lm_weight == 0.0
    assert config_for("--lm-weight", "0").lm_weight == 0.0
    assert config_for("--embeddings", "glove-50d", "--lm-weight", "0.2",
                      "--lm-words", "100").lm_weight == 0.2


def test_adversarial_training_is_on_by_default_without_pretrained_vectors_only():
    assert config_for().adversarial == 1.0
    assert config_for("--embeddings", "glove-50d").adversarial == 0.0
    assert config_for("--adversarial", "0").adversarial == 0.0
    assert config_for("--embeddings", "glove-50d", "--adversarial", "2").adversarial == 2.0


def test_the_document_memory_is_on_by_default_with_glove_only():
    assert config_for().doc_memory == 0
    assert config_for("--embeddings", "glove-50d").doc_memory == 64
    assert config_for("--embeddings", "glove-50d", "--doc-memory", "0").doc_memory == 0
    assert config_for("--doc-memory", "16").doc_memory == 16


def test_the_default_run_trains_the_language_model(trained_run):
    import keras

    import apps.ner.model  # noqa: F401
    import zoo.crf  # noqa: F401
    import zoo.layers  # noqa: F401

    run_dir, _ = trained_run
    settings = json.loads((run_dir / "run.json").read_text())["settings"]
    assert settings["lm_weight"] == 0.1 and settings["lm_words"] == 5000
    model = keras.saving.load_model(run_dir / "model.keras", compile=False)
    assert model.get_layer("language_model_loss").weight == 0.1
    assert settings["adversarial"] == 1.0
    assert model.get_layer("adversarial_perturbation").epsilon == 1.0


@pytest.mark.parametrize("option, value", [("--lm-weight", "-1"), ("--lm-weight", "nan"),
                                           ("--lm-words", "0")])
def test_bad_language_model_settings_are_one_line_errors(option, value):
    one_line_error(*run_main(["train", option, value])[::2], option)


def test_adversarial_training_trains_tags_and_refuses_bad_settings(conll_folder, tmp_path):
    import keras

    from apps.common.adversarial import AdversarialModel
    import apps.ner.model  # noqa: F401
    import zoo.crf  # noqa: F401
    import zoo.layers  # noqa: F401

    run_dir = tmp_path / "adversarial"
    arguments = ["train", "--data", conll_folder, "--run-dir", run_dir] + TINY_TRAIN_ARGUMENTS
    status, _, stderr = run_main(arguments + ["--adversarial", "0.5", "--epochs", "1"])
    assert status == 0, stderr
    assert json.loads((run_dir / "run.json").read_text())["settings"]["adversarial"] == 0.5
    model = keras.saving.load_model(run_dir / "model.keras", compile=False)
    assert isinstance(model, AdversarialModel)
    assert model.get_layer("adversarial_perturbation").epsilon == 0.5
    status, stdout, stderr = run_main(["tag", "--run-dir", run_dir, HARRY])
    assert status == 0, stderr
    one_line_error(*run_main(arguments + ["--epochs", "1"])[::2],
                   "adversarial: 0.5 there, 1.0 now")
    one_line_error(*run_main(["train", "--adversarial", "-1"])[::2], "--adversarial")
    one_line_error(*run_main(arguments + ["--adversarial", "1", "--distribute", "mirrored"])[::2],
                   "--adversarial trains on one device")


def test_a_run_recorded_before_the_language_model_existed_resumes(conll_folder, tmp_path):
    """An older run.json lacks lm_weight and lm_words: its run trained without a language
    model, so the command that made it (now with --lm-weight 0) still finds it finished, and
    the new default (0.1) is refused as the real difference it is."""
    run_dir = tmp_path / "old"
    arguments = ["train", "--data", conll_folder, "--run-dir", run_dir] + TINY_TRAIN_ARGUMENTS
    status, _, stderr = run_main(arguments + ["--lm-weight", "0", "--adversarial", "0",
                                              "--epochs", "1"])
    assert status == 0, stderr
    record = json.loads((run_dir / "run.json").read_text())
    for name in ("lm_weight", "lm_words", "adversarial"):
        del record["settings"][name]
    (run_dir / "run.json").write_text(json.dumps(record))
    one_line_error(*run_main(arguments + ["--epochs", "1"])[::2],
                   "lm_weight: 0.0 there, 0.1 now")
    status, stdout, stderr = run_main(arguments + ["--lm-weight", "0", "--adversarial", "0",
                                                   "--epochs", "1"])
    assert status == 0, stderr
    assert "already trained 1 epochs" in stdout
    assert json.loads((run_dir / "run.json").read_text())["settings"]["lm_words"] == 5000


def test_another_programs_run_record_is_left_alone(conll_folder, tmp_path):
    run_dir = tmp_path / "foreign"
    run_dir.mkdir()
    foreign = {"settings": {"dataset": "sst2", "units": 150}}
    (run_dir / "run.json").write_text(json.dumps(foreign))
    one_line_error(*run_main(["train", "--data", conll_folder, "--run-dir", run_dir]
                             + TINY_TRAIN_ARGUMENTS)[::2], "written by a different command")
    assert json.loads((run_dir / "run.json").read_text()) == foreign


def test_an_interrupted_run_resumes_to_the_uninterrupted_result(trained_run, conll_folder,
                                                               tmp_path):
    """Interrupted in epoch 2 at step 3 (backup at step 2), then rerun: it continues after
    step 2 and ends with the same weights and history as the run never interrupted."""
    import keras

    from apps.ner.__main__ import build_parser, train_config
    from apps.ner.train import train

    reference_dir, _ = trained_run
    run_dir = tmp_path / "interrupted"
    config = train_config(build_parser().parse_args(
        ["train", "--data", str(conll_folder), "--run-dir", str(run_dir)] + TINY_TRAIN_ARGUMENTS))

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if self.epoch == 1 and batch == 2:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(config, extra_callbacks=[Interrupt()])
    state = json.loads((run_dir / "backup" / "state.json").read_text())
    assert (state["epoch"], state["step"]) == (1, 2)
    summary = train(config)
    assert summary["resumed_from"] == (2, 2) and summary["epochs_done"] == 2
    expected = keras.saving.load_model(reference_dir / "last.keras", compile=False).get_weights()
    actual = keras.saving.load_model(run_dir / "last.keras", compile=False).get_weights()
    for mine, reference in zip(actual, expected):
        np.testing.assert_allclose(mine, reference, rtol=0, atol=1e-6)
    for mine, reference in zip(history_rows(run_dir), history_rows(reference_dir)):
        for column in ("loss", "val_loss", "val_f1"):
            assert float(mine[column]) == pytest.approx(float(reference[column]), abs=1e-6)


# ------------------------------------------------------------------------------ evaluate
def test_evaluate_prints_per_type_and_overall_scores_and_an_error_analysis(trained_run):
    run_dir, _ = trained_run
    status, stdout, stderr = run_main(["evaluate", "--run-dir", run_dir, "--split", "test",
                                       "--examples", "2"])
    assert status == 0, stderr
    lines = stdout.splitlines()
    overall = next(line for line in lines if line.startswith("overall")).split()
    gold_total = int(overall[4])
    per_type = [line.split() for line in lines if line.split()[:1] and line.split()[0] in
                ("LOC", "MISC", "ORG", "PER")]
    assert sum(int(row[4]) for row in per_type) == gold_total > 0
    assert "conlleval-compatible" in stdout
    errors = next(line for line in lines if line.startswith("errors:"))
    assert f"{gold_total} gold entities" in errors
    for kind in ("type", "boundary", "both", "spurious", "missed"):
        assert any(line.strip().startswith(kind) for line in lines)


def iob2_to_iob1_line(line, previous):
    """One CoNLL line with its IOB2 tag written as IOB1 (B- only between same-type entities)."""
    columns = line.split()
    if not columns or columns[0] == "-DOCSTART-":
        return line, "O"
    tag = columns[-1]
    if tag.startswith("B-") and previous[2:] != tag[2:]:
        columns[-1] = "I-" + tag[2:]
    return " ".join(columns), tag


def test_evaluate_scores_any_conll_file_iob1_or_iob2_like_the_split(trained_run, conll_folder,
                                                                   tmp_path):
    run_dir, _ = trained_run
    split = run_main(["evaluate", "--run-dir", run_dir, "--split", "test", "--examples", "1"])
    assert split[0] == 0, split[2]
    lines, previous = [], "O"
    for line in (conll_folder / "test.txt").read_text(encoding="utf-8").split("\n"):
        converted, previous = iob2_to_iob1_line(line, previous)
        lines.append(converted)
    iob1 = tmp_path / "mine.iob1"
    iob1.write_text("\n".join(lines), encoding="utf-8")
    assert iob1.read_text(encoding="utf-8") != (conll_folder / "test.txt").read_text("utf-8")
    for path in (conll_folder / "test.txt", iob1):
        status, stdout, stderr = run_main(["evaluate", "--run-dir", run_dir, "--file", path,
                                           "--examples", "1"])
        assert status == 0, stderr
        assert stdout.splitlines()[0].startswith(f"file {path} (")
        assert stdout.splitlines()[1:] == split[1].splitlines()[1:]
    one_line_error(*run_main(["evaluate", "--run-dir", run_dir, "--file",
                              tmp_path / "absent.txt"])[::2], "absent.txt does not exist")
    one_line_error(*run_main(["evaluate", "--run-dir", run_dir, "--file", iob1, "--split",
                              "valid"])[::2], "leave out --split and --data")


# ----------------------------------------------------------------------------------- tag
def test_tag_prints_entities_whose_spans_index_the_text(trained_run):
    run_dir, _ = trained_run
    status, stdout, stderr = run_main(["tag", "--run-dir", run_dir, HARRY,
                                       "Anna Berg visited Oslo on Monday."])
    assert status == 0, stderr
    texts = {1: HARRY, 2: "Anna Berg visited Oslo on Monday."}
    current = None
    for line in stdout.splitlines():
        if line.startswith("# text "):
            current = texts[int(line.split()[2].rstrip(":"))]
        elif line != "(no entities)":
            entity, kind, span = line.split("\t")
            start, end = map(int, span.split("-"))
            assert current[start:end] == entity and kind in ("PER", "LOC", "ORG", "MISC")
    assert stdout.count("# text ") == 2


def test_tagged_entities_follow_the_tags_exactly(trained_run):
    """With the output pushed to B-PER, every token is its own PER entity with its own span."""
    from apps.ner.saved import load_run
    from apps.ner.tag import format_results, tag_texts
    from apps.ner.tokenize import tokenize

    run_dir, _ = trained_run
    trained = load_run(run_dir)
    bias = trained.model.get_layer("potentials").bias
    values = np.zeros(bias.shape, "float32")
    values[trained.tag_names.index("B-PER")] = 1e3
    bias.assign(values)
    [result] = tag_texts(trained, [("text 1", HARRY)])
    tokens = tokenize(HARRY)
    assert [(e["text"], e["type"], e["start"], e["end"]) for e in result["entities"]] == \
        [(t.token, "PER", t.start, t.end) for t in tokens]
    conll = format_results([result], "conll")
    assert conll == "".join(f"{t.token}\tB-PER\n" for t in tokens)     # blank line after the text


def test_tag_reads_a_file_skipping_blank_lines_and_writes_conll(trained_run, tmp_path):
    run_dir, _ = trained_run
    texts = tmp_path / "texts.txt"
    texts.write_text(f"{HARRY}\n\n  \nOslo .\n", encoding="utf-8")
    status, stdout, stderr = run_main(["tag", "--run-dir", run_dir, "--file", texts,
                                       "--format", "conll"])
    assert status == 0, stderr
    blocks = stdout.strip("\n").split("\n\n")
    assert len(blocks) == 2
    assert [line.split("\t")[0] for line in blocks[1].splitlines()] == ["Oslo", "."]


def test_tag_cuts_a_text_into_sentences_and_tags_each_as_if_alone(trained_run):
    """A two-sentence text gets, sentence by sentence, the tags each sentence gets alone;
    --no-split tags it as one sequence."""
    from apps.ner.saved import load_run
    from apps.ner.tag import format_results, tag_texts

    run_dir, _ = trained_run
    trained = load_run(run_dir)
    second = "Anna Berg visited Oslo on Monday."
    [both, first_alone, second_alone] = tag_texts(
        trained, [("text 1", f"{HARRY} {second}"), ("text 2", HARRY), ("text 3", second)])
    assert both["sentences"] == [(0, 10), (10, 17)]
    assert both["tags"] == first_alone["tags"] + second_alone["tags"]
    assert [block.strip("\n") for block in format_results([both], "conll").split("\n\n")] == \
        [format_results([alone], "conll").strip("\n") for alone in (first_alone, second_alone)]
    [whole] = tag_texts(trained, [("text 1", f"{HARRY} {second}")], split_sentences=False)
    assert whole["sentences"] == [(0, 17)] and len(whole["tags"]) == 17
    status, stdout, stderr = run_main(["tag", "--run-dir", run_dir, "--no-split", "--format",
                                       "conll", f"{HARRY} {second}"])
    assert status == 0, stderr
    assert stdout.strip("\n").count("\n\n") == 0 and len(stdout.split()) == 34


def test_tag_hands_the_tagger_one_sentence_at_a_time(monkeypatch):
    """The tagger sees each sentence as its own sequence, and the tags come back in place; the
    sentences of one text are one story (for a document memory)."""
    import apps.ner.predict as predict_module
    import apps.ner.tag as tag_module

    seen, stories = [], []

    def fake_predict(trained, token_lists, batch_size=None, documents=None):
        seen.extend(token_lists)
        stories.extend(documents)
        return [[f"B-L{len(tokens)}"] + [f"I-L{len(tokens)}"] * (len(tokens) - 1)
                for tokens in token_lists]

    monkeypatch.setattr(predict_module, "predict_tags", fake_predict)
    text = "OSLO 1996-08-30\nAnna Berg won. She left"
    [result] = tag_module.tag_texts(None, [("text 1", text)])
    assert seen == [["OSLO", "1996-08-30"], ["Anna", "Berg", "won", "."], ["She", "left"]]
    assert stories == [0, 0, 0]
    seen.clear()
    stories.clear()
    tag_module.tag_texts(None, [("text 1", "Anna left."), ("text 2", "Oslo. Bergen.")])
    assert stories == [0, 1, 1]
    assert result["tags"] == ["B-L2", "I-L2", "B-L4", "I-L4", "I-L4", "I-L4", "B-L2", "I-L2"]
    assert [entity["text"] for entity in result["entities"]] == \
        ["OSLO 1996-08-30", "Anna Berg won.", "She left"]
    seen.clear()
    stories.clear()
    tag_module.tag_texts(None, [("text 1", text)], split_sentences=False)
    assert seen == [["OSLO", "1996-08-30", "Anna", "Berg", "won", ".", "She", "left"]]


def test_tag_json_lines_hold_the_entities_sentences_and_tagged_tokens(trained_run):
    import json

    run_dir, _ = trained_run
    text = "Anna Berg visited Oslo.\nHe left."
    status, stdout, stderr = run_main(["tag", "--run-dir", run_dir, "--format", "json", HARRY,
                                       text])
    assert status == 0, stderr
    records = [json.loads(line) for line in stdout.splitlines()]
    assert [record["label"] for record in records] == ["text 1", "text 2"]
    assert records[1]["text"] == text and records[1]["sentences"] == [[0, 5], [5, 8]]
    for record in records:
        for token in record["tokens"]:
            assert record["text"][token["start"]:token["end"]] == token["token"]
        tags = [token["tag"] for token in record["tokens"]]
        assert all(tag == "O" or tag[:2] in ("B-", "I-") for tag in tags)
        assert len(record["entities"]) == sum(tag.startswith("B-") for tag in tags)
        for entity in record["entities"]:
            assert record["text"][entity["start"]:entity["end"]] == entity["text"]


def test_tag_reads_a_file_as_paragraphs_with_paragraphs(trained_run, tmp_path, monkeypatch):
    """--paragraphs: each run of non-blank lines is one text, so a wrapped sentence stays one."""
    from apps.ner.tag import read_texts

    texts = tmp_path / "article.txt"
    texts.write_text("OSLO 1996-08-30\nAnna Berg met\nKarl Lund.\n\n\nHe left.\n",
                     encoding="utf-8")
    assert read_texts((), texts, paragraphs=True) == [
        (f"{texts}:1", "OSLO 1996-08-30\nAnna Berg met\nKarl Lund."), (f"{texts}:6", "He left.")]
    assert len(read_texts((), texts)) == 4
    run_dir, _ = trained_run
    status, stdout, stderr = run_main(["tag", "--run-dir", run_dir, "--file", texts,
                                       "--paragraphs", "--format", "conll"])
    assert status == 0, stderr
    blocks = [block.split("\n") for block in stdout.strip("\n").split("\n\n")]
    assert [[line.split("\t")[0] for line in block] for block in blocks] == [
        ["OSLO", "1996-08-30"], ["Anna", "Berg", "met", "Karl", "Lund", "."], ["He", "left", "."]]
    status, stdout, stderr = run_main(["tag", "--run-dir", run_dir, "--file", texts,
                                       "--paragraphs"])
    assert status == 0 and stdout.splitlines()[0].startswith(f"# {texts}:1: OSLO 1996-08-30 Anna")
    one_line_error(*run_main(["tag", "--run-dir", run_dir, "--paragraphs", HARRY])[::2],
                   "--paragraphs reads --file")


# ------------------------------------------------------------------------------ bad input
def one_line_error(status, stderr, *fragments):
    assert status == 2, stderr
    assert stderr.startswith("error: ") and stderr.count("\n") == 1, stderr
    for fragment in fragments:
        assert fragment in stderr, stderr


@pytest.mark.parametrize("text", ["", "   \t "])
def test_empty_text_to_tag_is_a_one_line_error(trained_run, text):
    run_dir, _ = trained_run
    one_line_error(*run_main(["tag", "--run-dir", run_dir, text])[::2], "text 1 is empty")


def test_tag_without_any_text_or_with_a_blank_file_is_a_one_line_error(trained_run, tmp_path):
    run_dir, _ = trained_run
    one_line_error(*run_main(["tag", "--run-dir", run_dir])[::2], "give a text to tag")
    blank = tmp_path / "blank.txt"
    blank.write_text("\n \n", encoding="utf-8")
    one_line_error(*run_main(["tag", "--run-dir", run_dir, "--file", blank])[::2],
                   "holds no text")


def test_tag_with_a_missing_run_folder_is_a_one_line_error(tmp_path):
    one_line_error(*run_main(["tag", "--run-dir", tmp_path / "nothing", HARRY])[::2],
                   "run folder not found")


def broken_copy(conll_folder, tmp_path, split, change):
    folder = write_conll_folder(tmp_path / "broken")
    path = folder / f"{split}.txt"
    lines = path.read_text(encoding="utf-8").split("\n")
    path.write_text("\n".join(change(lines)), encoding="utf-8")
    return folder, path


def train_on(folder, tmp_path):
    return run_main(["train", "--data", folder, "--run-dir", tmp_path / "run"]
                    + TINY_TRAIN_ARGUMENTS)[::2]


def test_a_line_with_the_wrong_column_count_names_file_and_line(conll_folder, tmp_path):
    def drop_a_column(lines):
        lines[5] = " ".join(lines[5].split()[:3])
        return lines
    folder, path = broken_copy(conll_folder, tmp_path, "train", drop_a_column)
    one_line_error(*train_on(folder, tmp_path), f"{path}:6:", "expected 4 columns")


def test_an_unknown_tag_names_file_and_line(conll_folder, tmp_path):
    def bad_tag(lines):
        lines[4] = lines[4].rsplit(" ", 1)[0] + " E-PER"
        return lines
    folder, path = broken_copy(conll_folder, tmp_path, "train", bad_tag)
    one_line_error(*train_on(folder, tmp_path), f"{path}:5:", "IOBES")


def test_a_validation_tag_the_training_split_lacks_names_file_and_line(conll_folder, tmp_path):
    def new_type(lines):
        lines[3] = lines[3].rsplit(" ", 1)[0] + " B-DATE"
        return lines
    folder, path = broken_copy(conll_folder, tmp_path, "valid", new_type)
    one_line_error(*train_on(folder, tmp_path), f"{path}:4:", "'B-DATE' does not occur")


def test_an_empty_file_is_a_one_line_error(conll_folder, tmp_path):
    folder, path = broken_copy(conll_folder, tmp_path, "test", lambda lines: [])
    one_line_error(*train_on(folder, tmp_path), str(path), "no sentences found")


def test_a_missing_data_folder_and_bad_options_are_one_line_errors(tmp_path):
    one_line_error(*train_on(tmp_path / "absent", tmp_path), "does not exist")
    one_line_error(*run_main(["train", "--units", "0"])[::2], "--units")
    one_line_error(*run_main(["train", "--dropout", "1.5"])[::2], "--dropout")
    one_line_error(*run_main(["train", "--output", "hmm"])[::2], "--output")


def test_glove_fixes_the_word_dimension(conll_folder, tmp_path):
    status, _, stderr = run_main(["train", "--data", conll_folder, "--run-dir", tmp_path / "g",
                                  "--embeddings", "glove-50d", "--word-dim", "100"])
    one_line_error(status, stderr, "fixes the word embedding size to 50")


def test_every_option_has_help():
    from apps.ner.__main__ import build_parser

    parser = build_parser()
    commands = next(action for action in parser._actions if action.dest == "command")
    for name, subparser in commands.choices.items():
        for action in subparser._actions:
            if action.dest != "help":
                assert action.help, f"{name} {action.option_strings or action.dest} has no help"


# ------------------------------------------------------------------------- early stopping
def test_best_so_far_ignores_epochs_at_or_after_the_resume_point():
    from apps.ner.train import best_so_far, stopped_early

    history = {"epoch": [0, 1, 2, 3], "val_f1": [0.5, 0.7, 0.6, 0.9]}
    assert best_so_far(history, 3) == (0.7, 1)
    assert best_so_far(history, 10) == (0.9, 3)
    assert best_so_far({}, 3) == (None, None)
    assert stopped_early(3, 1, patience=1) and not stopped_early(3, 1, patience=2)
    assert not stopped_early(9, 1, patience=0)


def test_freeze_embeddings_needs_glove(conll_folder, tmp_path):
    status, _, stderr = run_main(["train", "--data", conll_folder, "--run-dir", tmp_path / "f",
                                  "--freeze-embeddings"])
    one_line_error(status, stderr, "--freeze-embeddings needs --embeddings glove-50d")


# ----------------------------------------------------------------- final model: train+valid
def folder_with_a_validation_only_word(tmp_path):
    """The synthetic folder, with one validation sentence naming a place no other split has."""
    folder = write_conll_folder(tmp_path / "tv")
    with open(folder / "valid.txt", "a", encoding="utf-8") as stream:
        stream.write("\n\nThey NNP B-NP O\nflew NNP B-NP O\nto NNP B-NP O\n"
                     "Zanzibar NNP B-NP B-LOC\n. NNP B-NP O\n")
    return folder


def test_train_plus_valid_fits_both_splits(tmp_path):
    from apps.ner.config import TrainConfig
    from apps.ner.train import prepare_data

    folder = folder_with_a_validation_only_word(tmp_path)
    alone = prepare_data(TrainConfig(data=str(folder)))
    both = prepare_data(TrainConfig(data=str(folder), train_on="train+valid", patience=0))
    assert "zanzibar" not in alone.words.tokens and "zanzibar" in both.words.tokens
    assert len(both.train) == len(alone.train) + len(alone.valid)
    assert len(both.valid) == len(alone.valid)
    assert "Z" in both.chars.tokens and "Z" not in alone.chars.tokens
    assert both.singletons[both.words.encode(["Zanzibar"])[0]]       # seen once, in valid


def test_train_plus_valid_keeps_the_last_epoch_and_evaluate_says_so(tmp_path):
    folder = folder_with_a_validation_only_word(tmp_path)
    run_dir = tmp_path / "final"
    status, stdout, stderr = run_main(["train", "--data", folder, "--run-dir", run_dir,
                                       "--train-on", "train+valid"] + TINY_TRAIN_ARGUMENTS)
    assert status == 0, stderr[-3000:]
    assert "training on train+valid" in stdout and "trained 2 epochs on train+valid" in stdout
    assert "no choice is made on it" in stdout
    assert not (run_dir / "best_f1.keras").exists()
    assert (run_dir / "model.keras").read_bytes() == (run_dir / "last.keras").read_bytes()
    assert "zanzibar" in json.loads((run_dir / "words.json").read_text(encoding="utf-8"))["tokens"]
    settings = json.loads((run_dir / "run.json").read_text())["settings"]
    assert settings["train_on"] == "train+valid" and settings["patience"] == 0
    status, stdout, stderr = run_main(["evaluate", "--run-dir", run_dir, "--split", "valid"])
    assert status == 0, stderr
    assert "this model was trained on the valid sentences" in stdout
    status, stdout, _ = run_main(["evaluate", "--run-dir", run_dir, "--split", "test"])
    assert status == 0 and "this model was trained" not in stdout


def test_train_plus_valid_needs_epochs_and_no_early_stopping(conll_folder, tmp_path):
    base = ["train", "--data", conll_folder, "--run-dir", tmp_path / "x", "--train-on",
            "train+valid"]
    one_line_error(*run_main(base)[::2], "--train-on train+valid needs --epochs N")
    one_line_error(*run_main(base + ["--epochs", "3", "--patience", "2"])[::2],
                   "leave out --patience", "received 2")
