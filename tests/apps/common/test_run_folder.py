"""apps.common.run_folder: run.json decides whether a command may resume a run folder."""
import json

import pytest

from apps.common.errors import UserError
from apps.common.run_folder import RunFiles, check_run_settings, locked

SETTINGS = {"learning_rate": 0.001, "batch_size": 32, "epochs": 10, "vocabulary": "data/v.txt"}


def test_a_new_run_folder_records_its_settings_and_library_versions(tmp_path):
    files = RunFiles(tmp_path / "run")
    assert check_run_settings(files, SETTINGS) is False
    record = json.loads(files.run_json.read_text())
    assert record["settings"] == SETTINGS
    assert {"created", "tensorflow", "keras"} <= set(record)


def test_run_json_mismatch_refuses_to_resume_and_names_each_difference(tmp_path):
    files = RunFiles(tmp_path / "run")
    check_run_settings(files, SETTINGS)
    before = files.run_json.read_text()
    changed = {**SETTINGS, "learning_rate": 0.01, "vocabulary": "other.txt"}
    with pytest.raises(UserError) as error:
        check_run_settings(files, changed)
    message = str(error.value)
    assert message.startswith(f"{files.run_json} was written by a different command")
    assert "learning_rate: 0.001 there, 0.01 now" in message
    assert 'vocabulary: "data/v.txt" there, "other.txt" now' in message
    assert "pass a new --run-dir" in message and "\n" not in message
    assert files.run_json.read_text() == before  # a refused command changes nothing


def test_a_setting_missing_on_one_side_is_a_difference_too(tmp_path):
    files = RunFiles(tmp_path / "run")
    check_run_settings(files, SETTINGS)
    with pytest.raises(UserError, match="dropout: \\(unset\\) there, 0.5 now"):
        check_run_settings(files, {**SETTINGS, "dropout": 0.5})


def test_a_setting_added_since_the_record_counts_as_its_old_value_and_is_then_recorded(tmp_path):
    files = RunFiles(tmp_path / "run")
    check_run_settings(files, SETTINGS)                  # recorded before "dropout" existed
    added = {"dropout": 0.0}
    with pytest.raises(UserError, match="dropout: 0.0 there, 0.5 now"):
        check_run_settings(files, {**SETTINGS, "dropout": 0.5}, added=added)
    assert "dropout" not in json.loads(files.run_json.read_text())["settings"]
    assert check_run_settings(files, {**SETTINGS, "dropout": 0.0}, added=added) is True
    assert json.loads(files.run_json.read_text())["settings"]["dropout"] == 0.0


def test_same_settings_resume_and_a_new_epoch_count_is_recorded(tmp_path):
    files = RunFiles(tmp_path / "run")
    check_run_settings(files, SETTINGS)
    assert check_run_settings(files, dict(SETTINGS)) is True
    assert check_run_settings(files, {**SETTINGS, "epochs": 20, "no_progress": True}) is True
    assert json.loads(files.run_json.read_text())["settings"]["epochs"] == 20


def test_settings_are_compared_as_json_so_tuples_and_paths_match_their_reread_form(tmp_path):
    from pathlib import Path
    files = RunFiles(tmp_path / "run")
    check_run_settings(files, {"sizes": (1, 2), "data": Path("d/x.txt")})
    assert check_run_settings(files, {"sizes": [1, 2], "data": "d/x.txt"}) is True


def test_a_folder_with_files_but_no_run_json_is_not_taken_over(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="no run.json"):
        check_run_settings(RunFiles(tmp_path), SETTINGS)
    assert not (tmp_path / "run.json").exists()


def test_a_damaged_run_json_is_reported_not_overwritten(tmp_path):
    files = RunFiles(tmp_path)
    files.run_json.write_text("{not json")
    with pytest.raises(UserError, match="is not valid JSON"):
        check_run_settings(files, SETTINGS)
    assert files.run_json.read_text() == "{not json"


def test_a_worker_that_does_not_write_checks_without_creating_run_json(tmp_path):
    files = RunFiles(tmp_path / "run")
    assert check_run_settings(files, SETTINGS, write=False) is False
    assert not files.run_json.exists()


def test_a_second_trainer_on_a_busy_run_folder_is_refused_until_the_first_ends(tmp_path):
    files = RunFiles(tmp_path / "run")
    with locked(files):
        with pytest.raises(UserError, match="is in use by another training process"):
            with locked(files):
                pass
    with locked(files):
        pass
