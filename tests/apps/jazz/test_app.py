"""The jazz commands: generate from the shipped model, train and resume, evaluate, bad input."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from apps.jazz import generate as generate_module
from apps.jazz import note_tokens
from apps.jazz.__main__ import main
from apps.jazz.baselines import NgramModel
from apps.jazz.config import GenerateConfig, make_train_config
from apps.jazz.corpus import JazzTokenizer
from apps.jazz.errors import JazzUsageError
from apps.jazz.midi_io import NoteEvent, read_monophonic
from apps.jazz.model import DEFAULT_MODEL_DIR, read_model_folder
from apps.jazz.stats import CopyDetector, bar_repetition, jensen_shannon
from apps.jazz.training import consecutive_windows, key_versions, transpose_tokens
from tests.apps.jazz.conftest import write_mido_file
from tests.conftest import REPO_ROOT, dataset_path

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PRIMER_NOTES = [(62, 0, 0.5), (65, 0.5, 0.5), (69, 1, 0.5), (72, 1.5, 1.0), (71, 3, 0.25)]


def run_generate(tmp_path, name="solo.mid", **options):
    config = GenerateConfig(out=str(tmp_path / name), **{"length": 60, **options})
    return generate_module.generate(config, log=lambda text: None)


@pytest.fixture(scope="session")
def shipped():
    """The shipped model folder (data/jazz): it must be there for `generate` to work at all."""
    return read_model_folder(None)


@pytest.fixture
def primer_file(tmp_path):
    return write_mido_file(tmp_path / "primer.mid", PRIMER_NOTES)


# ----------------------------------------------------------------------------------------------
# generate


def test_the_shipped_model_folder_is_a_small_note_model(shipped):
    assert shipped.path == DEFAULT_MODEL_DIR
    assert shipped.token_kind == "notes"
    size = sum(path.stat().st_size for path in DEFAULT_MODEL_DIR.iterdir() if path.is_file())
    assert size < 5_000_000
    assert (DEFAULT_MODEL_DIR / "MODEL_CARD.md").is_file()


def test_generate_from_the_shipped_model_writes_a_readable_midi_and_a_png(tmp_path, shipped):
    [midi] = run_generate(tmp_path, length=120, seed=3)
    notes = [event for event in read_monophonic(midi) if not event.is_rest]
    assert len(notes) >= 10
    assert all(21 <= note.pitch <= 108 for note in notes)
    assert midi.with_suffix(".png").read_bytes().startswith(PNG_SIGNATURE)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["solo.mid", "solo.png"]


def test_generate_same_seed_gives_the_same_bytes_and_another_seed_another_solo(tmp_path, shipped):
    first = run_generate(tmp_path, "a.mid", seed=5, pianoroll=False)[0].read_bytes()
    again = run_generate(tmp_path, "b.mid", seed=5, pianoroll=False)[0].read_bytes()
    other = run_generate(tmp_path, "c.mid", seed=6, pianoroll=False)[0].read_bytes()
    assert first == again
    assert first != other


def test_generate_count_writes_numbered_files(tmp_path, shipped):
    paths = run_generate(tmp_path, "take.mid", count=2, length=30, pianoroll=False)
    assert [path.name for path in paths] == ["take_1.mid", "take_2.mid"]
    assert paths[0].read_bytes() != paths[1].read_bytes()


def test_generate_refuses_to_overwrite_without_force(tmp_path, shipped):
    existing = tmp_path / "solo.mid"
    existing.write_bytes(b"keep me")
    with pytest.raises(JazzUsageError, match="--force"):
        run_generate(tmp_path)
    assert existing.read_bytes() == b"keep me"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["solo.mid"]
    run_generate(tmp_path, force=True)
    assert existing.read_bytes().startswith(b"MThd")


def test_generate_leaves_nothing_behind_when_writing_fails(tmp_path, shipped, monkeypatch):
    def broken_pianoroll(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("apps.jazz.pianoroll.save_pianoroll", broken_pianoroll)
    with pytest.raises(OSError, match="disk full"):
        run_generate(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_generate_starts_the_solo_with_the_primer_tokens(tmp_path, shipped, primer_file):
    primer_tokens = note_tokens.encode_solo(read_monophonic(primer_file))
    [midi] = run_generate(tmp_path, primer=str(primer_file), length=40, pianoroll=False)
    tokens = note_tokens.encode_solo(read_monophonic(midi))
    # the last primer duration can merge with a very short generated rest when read back
    assert tokens[:len(primer_tokens) - 1] == primer_tokens[:-1]
    assert len(tokens) > len(primer_tokens)


def test_a_primer_as_long_as_the_solo_is_refused_and_nothing_is_written(tmp_path, shipped,
                                                                          primer_file):
    with pytest.raises(JazzUsageError, match=r"primer too long: .*primer\.mid"):
        run_generate(tmp_path, primer=str(primer_file), length=10)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["primer.mid"]


# ----------------------------------------------------------------------------------------------
# train and evaluate


def tiny_training_files():
    folder = dataset_path("jazz", "wjazzd_midi")
    return [str(folder / name) for name in ("KidOry_SavoyBlues_FINAL.mid",
                                            "LouisArmstrong_GutBucketBlues_FINAL.mid",
                                            "KidOry_GutBucketBlues_FINAL.mid")]


def test_train_writes_the_run_folder_and_a_second_train_resumes(tmp_path, capsys):
    from apps.jazz.training import train

    run_dir = tmp_path / "run"
    settings = dict(run_dir=str(run_dir), units=8, layers=1, window=64, batch_size=16)
    info = train(make_train_config(tiny_training_files(), epochs=1, **settings), progress=False)
    for name in ("model.keras", "tokenizer.json", "model.json", "run.json", "best.keras",
                 "last.keras", "history.csv", "loss.png"):
        assert (run_dir / name).is_file(), name
    assert info["epochs_done"] == 1 and len(info["data"]["validation_solos"]) == 1
    assert np.isfinite(info["validation"]["nll"]) and 0 <= info["validation"]["accuracy"] <= 1
    assert JazzTokenizer.load(run_dir / "tokenizer.json").vocabulary == \
        read_model_folder(run_dir).tokenizer.vocabulary
    capsys.readouterr()

    info = train(make_train_config(tiny_training_files(), epochs=2, **settings), progress=False)
    assert "resuming" in capsys.readouterr().out
    assert info["epochs_done"] == 2 and len(info["history"]["loss"]) == 2
    assert json.loads((run_dir / "run.json").read_text())["settings"]["epochs"] == 2

    # Each epoch draws its windows from the 12 keys by (seed, epoch) alone, so the resumed run
    # ends on the weights of a run that trained both epochs at once.
    import keras
    assert info["settings"]["augment_keys"]
    once = dict(settings, run_dir=str(tmp_path / "once"))
    train(make_train_config(tiny_training_files(), epochs=2, **once), progress=False)
    resumed = keras.saving.load_model(run_dir / "last.keras", compile=False).get_weights()
    straight = keras.saving.load_model(tmp_path / "once" / "last.keras", compile=False).get_weights()
    for a, b in zip(resumed, straight):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_evaluate_prints_nll_accuracy_and_the_unknown_token_count(tmp_path, shipped, capsys):
    known = [int(token[1:]) for token in shipped.tokenizer.vocabulary if token.startswith("p")]
    unseen = next(pitch for pitch in range(21, 109) if f"p{pitch}" not in shipped.tokenizer)
    notes = [(known[0], 0, 0.5), (known[1], 0.5, 0.5), (unseen, 1, 0.5), (known[0], 1.5, 1)]
    path = write_mido_file(tmp_path / "odd.mid", notes)
    assert main(["evaluate", "--midi", str(path), "--per-file"]) == 0
    output = capsys.readouterr().out
    assert "NLL" in output and "accuracy" in output
    assert "8 tokens" in output and "1 unknown to the vocabulary" in output


# ----------------------------------------------------------------------------------------------
# bad input: one line on stderr, exit status 2


def bad_inputs(tmp_path, primer_file):
    not_midi = tmp_path / "notes.mid"
    not_midi.write_text("these are not MIDI bytes")
    empty = tmp_path / "empty.mid"
    empty.write_bytes(b"")
    drums = write_mido_file(tmp_path / "drums.mid", [(36, 0, 1), (38, 1, 1)], channel=9)
    low = write_mido_file(tmp_path / "low.mid", [(10, 0, 1), (12, 1, 1)])
    missing = tmp_path / "missing.mid"
    out = str(tmp_path / "out.mid")
    return [
        (["generate", "--out", out, "--primer", str(not_midi)], "not a MIDI file", not_midi),
        (["generate", "--out", out, "--primer", str(empty)], "not a MIDI file", empty),
        (["generate", "--out", out, "--primer", str(drums)], "drum-only", drums),
        (["generate", "--out", out, "--primer", str(low)], "no notes in range", low),
        (["generate", "--out", out, "--primer", str(missing)], "file not found", missing),
        (["generate", "--out", out, "--primer", str(primer_file), "--length", "4"],
         "primer too long", primer_file),
        (["evaluate", "--midi", str(not_midi)], "not a MIDI file", not_midi),
        (["evaluate", "--midi", str(drums)], "drum-only", drums),
        (["evaluate", "--midi", str(missing)], "file not found", missing),
        (["train", "--midi", str(missing), "--run-dir", str(tmp_path / "r")], "file not found",
         missing),
        (["train", "--midi", str(empty), "--run-dir", str(tmp_path / "r")], "no usable MIDI",
         empty),
    ]


def test_every_bad_input_is_one_error_line_naming_the_file_and_exit_status_2(tmp_path, capsys,
                                                                              primer_file):
    for argv, problem, path in bad_inputs(tmp_path, primer_file):
        assert main(argv) == 2, argv
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (argv, captured.err)
        assert problem in lines[0] and path.name in lines[0], (argv, lines[0])
    assert not (tmp_path / "out.mid").exists() and not (tmp_path / "r").exists()


def test_bad_input_through_python_dash_m_is_one_line_and_status_2(tmp_path):
    not_midi = tmp_path / "notes.mid"
    not_midi.write_text("these are not MIDI bytes")
    process = subprocess.run([sys.executable, "-m", "apps.jazz", "generate", "--primer",
                              str(not_midi), "--out", str(tmp_path / "x.mid")],
                             cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
                             env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert process.returncode == 2
    assert process.stderr.strip().splitlines() == [
        f"error: not a MIDI file: {not_midi} (no MThd header)"]
    assert list(tmp_path.iterdir()) == [not_midi]


def test_a_bad_option_is_one_line_and_status_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["generate", "--temperature", "-1"])
    assert exit_info.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


# ----------------------------------------------------------------------------------------------
# the course preset and the pieces of the method


def test_the_course_preset_is_the_course_djmodel_64_units_tx_30():
    from apps.jazz.model import build_network
    from zoo.builders import recurrent_layers_of

    config = make_train_config(["original_metheny.mid"], preset="course")
    assert (config.tokens, config.units, config.layers, config.window) == ("course", 64, 1, 30)
    assert (config.random_windows, config.epochs, config.summed_loss) == (60, 100, True)
    network = build_network(config, vocabulary_size=91)
    [lstm] = recurrent_layers_of(network)
    assert lstm.cell.units == 64
    assert network.output_shape == (None, None, 91)


def test_the_summed_loss_is_the_window_length_times_the_mean_per_token_loss():
    import keras

    from apps.jazz.model import summed_crossentropy

    rng = np.random.default_rng(0)
    targets = rng.integers(0, 5, size=(3, 30))
    probabilities = rng.dirichlet(np.ones(5), size=(3, 30)).astype("float32")
    summed = np.mean(keras.ops.convert_to_numpy(summed_crossentropy(targets, probabilities)))
    mean = np.mean(keras.ops.convert_to_numpy(
        keras.losses.sparse_categorical_crossentropy(targets, probabilities)))
    assert summed == pytest.approx(30 * mean, rel=1e-5)


def test_windows_cover_every_token_once_and_weight_the_padding_zero():
    ids, weights = consecutive_windows([[1, 2, 3, 4, 5], [6, 7]], window=2)
    assert ids.tolist() == [[1, 2], [3, 4], [5, 0], [6, 7]]
    assert weights.tolist() == [[1, 1], [1, 1], [1, 0], [1, 1]]


def test_token_transposition_equals_transposing_the_notes_then_tokenizing():
    from apps.jazz.corpus import Solo

    events = note_tokens.quantize_solo([NoteEvent(60, 0, 0.5), NoteEvent(64, 0.5, 0.25),
                                        NoteEvent(105, 1.5, 1.0)])
    solo = Solo("s", "s.mid", "hash", tuple(note_tokens.encode_solo(events)), tuple(events))
    expected = [note_tokens.encode_solo(moved) for _, moved in
                sorted(note_tokens.augment_keys(events), key=lambda item: (item[0] != 0, item[0]))]
    assert key_versions(solo) == expected
    assert len(expected) == 9  # +4..+6 would put 105 above 108
    assert transpose_tokens(["p60", "d3", "rest", "d6"], 2) == ["p62", "d3", "rest", "d6"]


def test_ngram_baselines_are_normalized_and_the_bigram_sees_the_previous_token():
    vocabulary = ["<UNK>", "a", "b", "c"]
    bigram = NgramModel(2, vocabulary, k=0.5).fit([["a", "b", "a", "b", "c"]])
    for previous in ("<s>", "a", "b", "c"):
        assert sum(bigram.probability(t, previous) for t in "abc") == pytest.approx(1.0)
    assert bigram.predict("a") == "b"
    score = bigram.score([["a", "b", "x"]])
    assert (score.tokens, score.scored, score.unknown) == (3, 2, 1)


def test_music_statistics_see_repeated_bars_copies_and_identical_histograms():
    bar = [NoteEvent(60 + i, i, 1.0) for i in range(4)]
    looped = bar + [NoteEvent(e.pitch, e.onset + 4, e.duration) for e in bar]
    assert bar_repetition(looped) == 0.5
    assert CopyDetector([looped]).copied_share(looped) == 1.0
    transposed = [NoteEvent(e.pitch + 5, e.onset, e.duration) for e in looped]
    assert CopyDetector([looped]).longest_copy(transposed) == 8
    assert jensen_shannon(np.array([0.5, 0.5]), np.array([0.5, 0.5])) == 0.0
    assert jensen_shannon(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == pytest.approx(1.0)
