"""The README opens with the two commands of a new user, and CI runs exactly its test command."""
from pathlib import Path

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
