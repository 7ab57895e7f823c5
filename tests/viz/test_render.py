"""Rendering: the system dot, else graphviz-pure, else a clear error and the .dot source kept."""
import html
import shutil

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
