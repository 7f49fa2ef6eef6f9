"""apps.common.cli and apps.common.errors: exit statuses, one-line errors, the train options."""
import argparse
import os
from pathlib import Path

import pytest

from apps.common import cli
from apps.common.errors import UserError


def raise_(error):
    raise error


def test_run_command_maps_user_error_to_exit_2_and_one_line_error_on_stderr(capsys):
    status = cli.run_command(raise_, UserError("runs/x/run.json differs\n  (lr: 1 there, 2 now)"))
    captured = capsys.readouterr()
    assert status == 2
    assert captured.err == "error: runs/x/run.json differs (lr: 1 there, 2 now)\n"
    assert captured.out == ""


def test_run_command_maps_keyboard_interrupt_to_exit_130_with_a_resume_hint(capsys):
    status = cli.run_command(raise_, KeyboardInterrupt())
    assert status == 130
    assert capsys.readouterr().err == "interrupted; run the same command again to resume\n"


def test_run_command_maps_missing_and_existing_files_to_exit_2_naming_the_path(capsys, tmp_path):
    missing = tmp_path / "nope.txt"
    assert cli.run_command(open, missing) == 2
    assert capsys.readouterr().err == f"error: No such file or directory: {missing}\n"
    assert cli.run_command(os.mkdir, tmp_path) == 2
    assert capsys.readouterr().err == f"error: File exists: {tmp_path}\n"


def test_run_command_maps_the_apps_expected_errors_and_lets_other_errors_propagate(capsys):
    class CorpusError(ValueError):
        pass

    assert cli.run_command(raise_, CorpusError("bad.mid: not MIDI"),
                           expected_errors=(CorpusError,)) == 2
    assert capsys.readouterr().err == "error: bad.mid: not MIDI\n"
    with pytest.raises(ValueError, match="a bug"):
        cli.run_command(raise_, ValueError("a bug"))
    with pytest.raises(ZeroDivisionError):
        cli.run_command(lambda: 1 / 0)


def test_run_command_returns_the_commands_own_status_and_0_for_none():
    assert cli.run_command(lambda: None) == 0
    assert cli.run_command(lambda value: value, 3) == 3
    assert cli.run_command(lambda *, value: value, value=4) == 4


def test_main_guard_decorates_like_run_command_with_or_without_expected_errors(capsys):
    class DataError(ValueError):
        pass

    @cli.main_guard
    def plain():
        raise UserError("plain")

    @cli.main_guard(DataError)
    def with_errors(argument):
        raise DataError(f"data {argument}")

    assert plain() == 2 and with_errors(7) == 2
    assert capsys.readouterr().err == "error: plain\nerror: data 7\n"
    assert plain.__name__ == "plain"


def training_parser(**defaults) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="app")
    cli.add_training_arguments(parser, **defaults)
    return parser


def test_add_training_arguments_adds_every_option_with_help_and_the_apps_defaults():
    parser = training_parser(run_dir="runs/app", epochs=20, batch_size=64, learning_rate=0.01,
                             seed=3)
    options = {option: action for action in parser._actions
               for option in action.option_strings}
    expected = ["--run-dir", "--epochs", "--batch-size", "--learning-rate", "--seed",
                "--clipnorm", "--clipvalue", "--logdir", "--distribute", "--mixed-precision",
                "--xla", "--save-every-steps", "--no-progress"]
    for option in expected:
        assert option in options, option
        assert options[option].help and len(options[option].help) > 20, option
    arguments = parser.parse_args([])
    assert (arguments.run_dir, arguments.epochs, arguments.batch_size, arguments.learning_rate,
            arguments.seed) == ("runs/app", 20, 64, 0.01, 3)
    assert (arguments.clipnorm, arguments.clipvalue, arguments.logdir, arguments.distribute,
            arguments.mixed_precision, arguments.xla, arguments.save_every_steps,
            arguments.no_progress) == (None, None, None, "none", False, False, None, False)
    arguments = parser.parse_args(["--distribute", "mirrored", "--clipnorm", "5",
                                   "--save-every-steps", "100", "--no-progress", "--xla"])
    assert (arguments.distribute, arguments.clipnorm, arguments.save_every_steps,
            arguments.no_progress, arguments.xla) == ("mirrored", 5.0, 100, True, True)


@pytest.mark.parametrize("argv", [["--epochs", "0"], ["--batch-size", "-1"],
                                  ["--learning-rate", "0"], ["--learning-rate", "nan"],
                                  ["--seed", "-1"], ["--save-every-steps", "x"],
                                  ["--clipnorm", "1", "--clipvalue", "1"],
                                  ["--distribute", "tpu"]])
def test_add_training_arguments_rejects_bad_values_with_a_usage_error(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        training_parser(run_dir="runs/app").parse_args(argv)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_run_dir_is_required_when_the_app_gives_no_default(capsys):
    with pytest.raises(SystemExit):
        training_parser().parse_args([])
    assert "--run-dir" in capsys.readouterr().err


def test_settings_from_arguments_drops_callables_and_excluded_names_and_stringifies_paths():
    arguments = argparse.Namespace(run_dir=Path("runs/x"), epochs=3, function=print, quiet=True)
    assert cli.settings_from_arguments(arguments, exclude=("quiet",)) == {
        "run_dir": "runs/x", "epochs": 3}


def test_quiet_tensorflow_sets_log_levels_but_keeps_a_level_the_user_set(monkeypatch):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    monkeypatch.delenv("GRPC_VERBOSITY", raising=False)
    cli.quiet_tensorflow()
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3"
    assert os.environ["GRPC_VERBOSITY"] == "ERROR"
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    cli.quiet_tensorflow()
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "0"


def test_filter_native_log_drops_tensorflows_startup_notices_below_the_level(monkeypatch):
    text = ("WARNING: All log messages before absl::InitializeLog() is called are written to "
            "STDERR\n"
            "I0000 00:00:1795325671.321016    9008 port.cc:153] oneDNN custom operations are on.\n"
            "W0000 00:00:1795325671.321647    9008 cudart_stub.cc:31] Could not find cuda\n"
            "E0000 00:00:1795325671.321647    9008 x.cc:1] something broke\n"
            "Traceback (most recent call last):\n")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    assert cli.filter_native_log(text) == ("E0000 00:00:1795325671.321647    9008 x.cc:1] "
                                           "something broke\nTraceback (most recent call last):\n")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    assert cli.filter_native_log(text) == text


def test_user_error_message_is_one_line():
    assert str(UserError("a\nb   c\n")) == "a b c"


def test_resolve_clipping_applies_the_app_default_only_when_no_clipping_was_asked_for():
    from argparse import Namespace
    from apps.common.cli import resolve_clipping

    def namespace(clipnorm=None, clipvalue=None, no_clipping=False):
        return Namespace(clipnorm=clipnorm, clipvalue=clipvalue, no_clipping=no_clipping)
    assert resolve_clipping(namespace(), clipvalue=5.0) == (None, 5.0)
    assert resolve_clipping(namespace(), clipnorm=5.0) == (5.0, None)
    assert resolve_clipping(namespace(clipnorm=1.0), clipvalue=5.0) == (1.0, None)
    assert resolve_clipping(namespace(clipvalue=2.0), clipnorm=5.0) == (None, 2.0)
    assert resolve_clipping(namespace(no_clipping=True), clipnorm=5.0) == (None, None)
