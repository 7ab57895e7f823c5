"""Finding a ``dot`` program: the system's Graphviz, else the ``graphviz-pure`` wheel, else a clear error.

``Diagram`` is a ``graphviz.Digraph`` whose ``pipe``/``render`` (and so Jupyter's inline
display) use whichever program is found. ``.source`` never needs one.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import graphviz
from graphviz.backend import dot_command

INSTALL_HINT = (
    "install one of them: `pip install graphviz-pure` (a dot command on PyPI, no system packages) "
    "or the Graphviz system package (`apt-get install graphviz`, `brew install graphviz`, "
    "https://graphviz.org/download/)"
)


class DotNotFound(RuntimeError):
    """Neither Graphviz's ``dot`` nor ``graphviz-pure`` is installed."""


def find_dot():
    """Path of the program to lay graphs out with, or None.

    ``MINIGRAD_DOT`` (a program name or path) chooses one; otherwise the system's ``dot`` comes
    first, then ``graphviz-pure`` on the PATH or beside this Python (a venv used without activating it).
    """
    chosen = os.environ.get("MINIGRAD_DOT")
    if chosen:
        return shutil.which(chosen) or _beside_python(chosen)
    found = shutil.which("dot")
    if found:
        return found
    return shutil.which("graphviz-pure") or _beside_python("graphviz-pure")


def _beside_python(name):
    for folder in {sysconfig.get_path("scripts"), os.path.dirname(sys.executable)}:
        candidate = Path(folder) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


class Diagram(graphviz.Digraph):
    """A ``graphviz.Digraph`` that renders with the system ``dot`` or the ``graphviz-pure`` fallback."""

    def _with_dot(self, action, *args, **kwargs):
        program = find_dot()
        if program is None:
            raise DotNotFound(f"cannot render the drawing: no `dot` program found; {INSTALL_HINT}")
        if Path(program).name != "dot":
            kwargs.setdefault("quiet", True)  # graphviz-pure warns about glyph widths of × and ↓
        previous = dot_command.DOT_BINARY
        dot_command.DOT_BINARY = Path(program)
        try:
            return action(*args, **kwargs)
        finally:
            dot_command.DOT_BINARY = previous

    def pipe(self, *args, **kwargs):
        return self._with_dot(super().pipe, *args, **kwargs)

    def render(self, filename=None, directory=None, *args, **kwargs):
        """Write the source and the rendered file; with no dot program, keep the ``.dot`` file and say how to install one."""
        if find_dot() is None:
            saved = self.save(filename, directory=directory)
            raise DotNotFound(f"wrote the graph source to {saved}, but cannot render it: no `dot` program; {INSTALL_HINT}")
        return self._with_dot(super().render, filename, *args, directory=directory, **kwargs)


def pipe_svgs(diagrams, who="explore"):
    """Lay out many diagrams with one run of the dot program; their SVGs, in order (one process instead of
    one per diagram: the explorer draws a view per module)."""
    program = find_dot()
    if program is None:
        raise DotNotFound(f"{who}: cannot draw: no `dot` program found; {INSTALL_HINT}")
    source = "\n".join(d.source for d in diagrams)
    done = subprocess.run([program, "-Tsvg"], input=source.encode("utf-8"), capture_output=True, check=False)
    svgs = [part[part.index("<svg"):] + "</svg>" for part in done.stdout.decode("utf-8").split("</svg>") if "<svg" in part]
    if done.returncode != 0 or len(svgs) != len(diagrams):
        raise RuntimeError(f"{who}: {Path(program).name} failed on {len(diagrams)} drawings (exit {done.returncode}, "
                           f"{len(svgs)} pictures): {done.stderr.decode('utf-8', 'replace')[-500:]}")
    return svgs


def inline_svg(svg, prefix):
    """An SVG ready to sit inline in a page beside others: no XML prologue or comments, every id (and what
    refers to one) prefixed with ``prefix`` so that ids never clash."""
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<!--.*?-->\n?", "", svg, flags=re.DOTALL)
    svg = re.sub(r'\bid="([^"]*)"', rf'id="{prefix}\1"', svg)
    svg = re.sub(r"url\(#([^)]*)\)", rf"url(#{prefix}\1)", svg)
    return re.sub(r'href="#([^"]*)"', rf'href="#{prefix}\1"', svg)
