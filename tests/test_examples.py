"""Examples are documentation that runs: each script is executed with tiny settings."""
import runpy
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(path, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", [str(path), "--out", str(tmp_path), "--quick"])
    runpy.run_path(str(path), run_name="__main__")
    assert capsys.readouterr().out.strip()
