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


def test_second_derivatives_checks_its_numbers(tmp_path, monkeypatch, capsys):
    import numpy as np

    path = Path(__file__).parent.parent / "examples" / "second_derivatives.py"
    monkeypatch.setattr(sys, "argv", [str(path), "--out", str(tmp_path), "--quick"])
    names = runpy.run_path(str(path), run_name="__main__")
    t = np.tanh(0.5)
    assert names["second"].item() == pytest.approx(-2 * t * (1 - t * t), rel=1e-12)
    assert names["third"].item() == pytest.approx(-2 * (1 - t * t) ** 2 + 4 * t * t * (1 - t * t), rel=1e-12)
    assert names["worst"] < 1e-8  # H·v against central differences of the gradient
    np.testing.assert_allclose(names["g_after"], 0, atol=1e-12)  # on a quadratic, one Newton step lands on ∇f = 0
    np.testing.assert_allclose(names["hessian"], [[2.0, 1.0], [1.0, 20.0]])
    assert "largest difference from finite differences" in capsys.readouterr().out
