"""Rendering: the system dot, else graphviz-pure, else a clear error and the .dot source kept."""
import html
import os
import shutil
from pathlib import Path

import pytest

from minigrad import draw, lectures
from minigrad.viz import DotNotFound, find_dot, render


def hide_system_dot(monkeypatch):
    real_which = shutil.which
    monkeypatch.setattr(render.shutil, "which", lambda name, *a, **k: None if name == "dot" else real_which(name, *a, **k))


def test_svg_renders_through_the_graphviz_pure_fallback(monkeypatch, tmp_path):
    hide_system_dot(monkeypatch)
    program = find_dot()
    assert program is not None and program.endswith("graphviz-pure"), "pip install graphviz-pure (the test extra)"
    f, _ = lectures.simple()
    f.backward()
    svg = html.unescape(draw(f).pipe(format="svg").decode())
    assert "<svg" in svg and "-12.0" in svg
    out = draw(f).render(tmp_path / "simple", format="svg")
    assert out.endswith(".svg") and "<svg" in open(out).read()


def test_without_any_dot_program_the_source_is_kept_and_the_error_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(render, "find_dot", lambda: None)
    f, _ = lectures.simple()
    d = draw(f)
    assert "digraph" in d.source  # .source needs no program
    with pytest.raises(DotNotFound, match="pip install graphviz-pure"):
        d.pipe(format="svg")
    with pytest.raises(DotNotFound, match="wrote the graph source"):
        d.render(tmp_path / "simple", format="svg")
    assert (tmp_path / "simple").read_text().startswith("digraph")


def test_rendering_leaves_graphviz_settings_as_they_were(monkeypatch):
    from graphviz.backend import dot_command

    before = dot_command.DOT_BINARY
    f, _ = lectures.simple()
    draw(f).pipe(format="svg")
    assert dot_command.DOT_BINARY == before


RENDER_FOREVER = """
import sys
from minigrad import draw, lectures
f, _ = lectures.neuron_gates()
f.backward()
while True:
    draw(f).render(sys.argv[1], format="svg", cleanup=True)
    print("rendered", flush=True)
"""


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_a_kill_during_render_leaves_the_old_svg_or_none_and_no_stray_dot_file(tmp_path):
    """graphviz's own render() wrote the .dot source, then let dot write the SVG in place: 7 of 40 kills left an
    empty or cut SVG and a stray DOT file. Now the layout runs in memory and the SVG is renamed into place."""
    import random
    import subprocess
    import sys
    import time

    if find_dot() is None:
        pytest.skip("no dot program is installed (pip install graphviz-pure)")
    root = Path(__file__).parent.parent.parent
    stem = tmp_path / "neuron"
    delays = random.Random(0)
    for _ in range(5):
        proc = subprocess.Popen([sys.executable, "-c", RENDER_FOREVER, str(stem)], stdout=subprocess.PIPE, text=True,
                                cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
        try:
            assert proc.stdout.readline() == "rendered\n"
            time.sleep(delays.uniform(0, 0.2))  # somewhere in a later render
        finally:
            proc.kill()
            proc.wait(timeout=10)
        svg = (tmp_path / "neuron.svg").read_text()
        assert svg.rstrip().endswith("</svg>") and svg.count("<svg") == 1
        assert not stem.exists()  # the DOT source of cleanup=True never touches the disk
    assert {p.name for p in tmp_path.iterdir()} - {"neuron.svg"} <= {p.name for p in tmp_path.glob(".neuron.svg.*.tmp")}


def test_render_writes_through_one_atomic_write_and_a_failed_layout_keeps_the_old_file(monkeypatch, tmp_path):
    f, _ = lectures.simple()
    f.backward()
    (tmp_path / "simple.svg").write_text("<svg>old</svg>")

    def failing_pipe(self, *args, **kwargs):
        raise RuntimeError("dot crashed")

    monkeypatch.setattr(render, "find_dot", lambda: "/usr/bin/dot")
    monkeypatch.setattr(render.Diagram, "pipe", failing_pipe)
    with pytest.raises(RuntimeError, match="dot crashed"):
        draw(f).render(tmp_path / "simple", format="svg", cleanup=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["simple.svg"]
    assert (tmp_path / "simple.svg").read_text() == "<svg>old</svg>"
    monkeypatch.setattr(render.Diagram, "pipe", lambda self, *a, **k: b"<svg>new</svg>")
    out = draw(f).render(tmp_path / "simple", format="svg")  # no cleanup: the source is kept, as graphviz does
    assert out == str(tmp_path / "simple.svg") and (tmp_path / "simple.svg").read_bytes() == b"<svg>new</svg>"
    assert (tmp_path / "simple").read_text().startswith("digraph")
