"""The README opens with the two commands of a new user, CI runs exactly its test command, and its
Python examples run as written."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def commands():
    text = (ROOT / "README.md").read_text()
    blocks = text.split("```bash\n")[1:3]
    return [b.split("\n```")[0].strip() for b in blocks]


def test_readme_starts_with_the_demo_and_the_test_commands():
    demo, test = commands()
    assert demo.endswith("minigrad demo")
    assert test.endswith("pytest")


def test_ci_runs_exactly_the_readme_test_command():
    # .ci/run may install system dependencies first (Chromium for the stepper's browser test);
    # its last command is the README's test command, exactly
    _, test = commands()
    lines = [l for l in (ROOT / ".ci" / "run").read_text().splitlines() if l and not l.startswith(("#", "set ", "cd "))]
    assert lines[-1] == test
    assert test not in lines[:-1]


PLACEHOLDERS = ("torch_model",)
"""Blocks that show code against objects the reader brings (a PyTorch model): shown, not run."""


def python_blocks():
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```python\n(.*?)```", text, re.S)


@pytest.mark.slow
def test_the_readmes_python_examples_run_as_written(tmp_path, monkeypatch, capsys):
    """Every ```python block, in order, in one namespace (as a reader pastes them into one session)."""
    import minigrad as mg

    monkeypatch.chdir(tmp_path)  # they write files (checkpoints, pictures)
    namespace = {}
    ran = 0
    for k, block in enumerate(python_blocks()):
        if any(name in block for name in PLACEHOLDERS):
            continue
        try:
            exec(compile(block, f"README.md python block {k}", "exec"), namespace)
        except mg.AnomalyError:
            assert "detect_anomaly" in block  # the anomaly example raises, as its comment says
        printed = capsys.readouterr().out
        # a print whose comment shows its output (not elided with ...) prints exactly that
        for shown in re.findall(r"^print\(.*\)  # (.*)$", block, re.M):
            if "..." not in shown and "…" not in shown:
                assert shown in printed, f"README block {k} says {shown!r} but printed {printed!r}"
        ran += 1
    assert ran >= 12


def test_the_debugger_session_in_the_readme_stops_where_the_engine_does():
    engine = (ROOT / "minigrad" / "core" / "engine.py").read_text().splitlines()
    line = next(k for k, text in enumerate(engine, 1) if text.strip().startswith('here = "stopped before'))
    assert f"> minigrad/core/engine.py({line})run_backward()" in (ROOT / "README.md").read_text()
