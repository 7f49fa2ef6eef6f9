"""`python -m apps.charlm`: bad input ends with one `error:` line and exit status 2; end to end."""
import os
import subprocess
import sys

import pytest

from apps.charlm.__main__ import main
from tests.conftest import REPO_ROOT


def run_main(argv):
    try:
        return main(argv)
    except SystemExit as exit_:                 # argparse's own usage errors
        return exit_.code


def assert_one_error_line(capsys, rc, *fragments):
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert rc == 2, captured.err
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert "Traceback" not in captured.err
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.parametrize("content, fragment", [
    (None, "text file not found"),
    (b"", "is empty"),
    (b"caf\xe9\n", "not UTF-8 text"),
])
def test_train_on_a_missing_empty_or_non_utf8_file_exits_2_with_one_line(tmp_path, capsys,
                                                                        content, fragment):
    path = tmp_path / "names.txt"
    if content is not None:
        path.write_bytes(content)
    rc = run_main(["train", "--text", str(path), "--run-dir", str(tmp_path / "run")])
    assert_one_error_line(capsys, rc, fragment, str(path))


@pytest.mark.parametrize("options, fragment", [
    (["--prime", "Rex9!"], "'9', '!'"),
    (["--temperature", "0"], "--temperature must be a number > 0"),
    (["--temperature", "-1"], "--temperature must be a number > 0"),
    (["--temperature", "hot"], "--temperature"),
    (["--max-length", "0"], "--max-length must be at least 1"),
    (["--count", "0"], "--count must be at least 1"),
    (["--prime", "abcdefgh", "--max-length", "5"], "raise --max-length"),
])
def test_bad_sampling_options_exit_2_with_one_line(trained_run, capsys, options, fragment):
    run_dir, _ = trained_run
    rc = run_main(["sample", "--run-dir", str(run_dir), *options])
    assert_one_error_line(capsys, rc, fragment)


def test_sampling_from_a_folder_without_a_run_exits_2(tmp_path, capsys):
    rc = run_main(["sample", "--run-dir", str(tmp_path / "none")])
    assert_one_error_line(capsys, rc, "run folder not found", str(tmp_path / "none"))


def test_scoring_characters_the_model_never_saw_exits_2(trained_run, capsys):
    run_dir, _ = trained_run
    rc = run_main(["score", "--run-dir", str(run_dir), "abc", "apple & pear"])
    assert_one_error_line(capsys, rc, "text 2", "'&'")


def test_score_prints_a_table_of_log_probability_bits_and_perplexity(trained_run, capsys):
    run_dir, _ = trained_run
    assert run_main(["score", "--run-dir", str(run_dir), "aachenosaurus"]) == 0
    output = capsys.readouterr().out
    assert "bits/char" in output and "perplexity" in output and "'aachenosaurus'" in output


def charlm(*arguments):
    """Run the app as a user would: without tests/conftest.py's TF_CPP_MIN_LOG_LEVEL=2."""
    environment = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run([sys.executable, "-m", "apps.charlm", *arguments], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=300, env=environment)


def test_train_then_sample_end_to_end_as_a_command(tiny_names_file, tmp_path):
    run_dir = str(tmp_path / "run")
    trained = charlm("train", "--text", str(tiny_names_file), "--run-dir", run_dir,
                     "--epochs", "1", "--units", "8", "--no-progress", "--show-samples", "2")
    assert trained.returncode == 0, trained.stderr
    assert "model saved to" in trained.stdout and "samples:" in trained.stdout
    drawn = charlm("sample", "--run-dir", run_dir, "--count", "4", "--seed", "3",
                   "--prime", "a", "--no-unk")
    assert drawn.returncode == 0, drawn.stderr
    assert drawn.stderr == ""                    # no TensorFlow start-up notices either
    lines = drawn.stdout.splitlines()
    assert len(lines) == 4 and all(line.startswith("a") for line in lines)
