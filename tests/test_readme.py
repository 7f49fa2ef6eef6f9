"""The README's Python examples run as written, each on its own, and say what they claim.

A user copies these blocks first; one that raises (an undefined name, a placeholder, a file that
is not there) is the first bug they meet.
"""
import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("keras")

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_the_readme_has_its_examples():
    blocks = python_blocks()
    assert len(blocks) >= 5
    names = " ".join(blocks)
    for name in ("zoo.LSTM", "get_course_weights", "reference.gradient_check",
                 "builders.sampler", "Vocabulary.build"):
        assert name in names, name


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_each_readme_example_runs_on_its_own(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an example may write a file (vocabulary.json)
    namespace = {"__name__": f"readme_block_{index}"}
    exec(compile(python_blocks()[index], f"README.md python block {index}", "exec"), namespace)
    if "gen" in namespace and "out" in namespace:  # the sampler example
        assert namespace["out"]["ids"].shape == (4, 30)
        assert (np.asarray(namespace["out"]["ids"])[:, 0] == 5).all()  # the primer is kept
    if "vocabulary" in namespace and "ids" in namespace:  # the text example
        assert (tmp_path / "vocabulary.json").is_file()
        assert namespace["vocabulary"].decode(namespace["ids"]).startswith("tyrannosaurus")
