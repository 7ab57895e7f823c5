"""The `minigrad` command."""
import subprocess
import sys

from minigrad.cli import main


def test_help_works():
    out = subprocess.run([sys.executable, "-m", "minigrad", "--help"], capture_output=True, text=True, check=True)
    assert "demo" in out.stdout


def test_demo_prints_steps_and_writes_drawings(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "mul: upstream 1.0 × local (-4.0, 3.0) = downstream (-4.0, 3.0)" in out
    assert "copy: upstream" in out
    assert (tmp_path / "simple.svg").read_text().count("<svg") == 1
