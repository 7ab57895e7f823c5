"""Finding a ``dot`` program: the system's Graphviz, else the ``graphviz-pure`` wheel, else a clear error.

``Diagram`` is a ``graphviz.Digraph`` whose ``pipe``/``render`` (and so Jupyter's inline
display) use whichever program is found. ``.source`` never needs one. Its ``render`` lays the
graph out in memory and writes each file with ``atomic_write``: a kill mid-render leaves the old
file or none, never an empty or truncated one, and no stray DOT source.
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
from graphviz.backend import dot_command, rendering

from ..core.files import atomic_write

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

    def render(self, filename=None, directory=None, view=False, cleanup=False, format=None, renderer=None,
               formatter=None, neato_no_op=None, quiet=False, quiet_view=False, *, outfile=None, engine=None,
               raise_if_result_exists=False, overwrite_source=False):
        """graphviz's ``render`` (same arguments and return value: the rendered file's path), written atomically.

        The layout runs in memory (``pipe``); the rendered file, and the source unless ``cleanup``,
        are then written with ``atomic_write`` (folders are made as graphviz makes them). With no
        dot program, the ``.dot`` source is written and DotNotFound says how to install one.
        """
        if outfile is not None:
            outfile = Path(outfile)
            format = self._get_format(outfile, format=format)
            if directory is None:
                outfile = Path(self.directory, outfile)
            if filename is None:
                filename = self._get_filepath(outfile)
        if filename is not None:  # as graphviz's save(): the diagram remembers where it went
            self.filename = os.fspath(filename)
        if directory is not None:
            self.directory = os.fspath(directory)
        source_path = self.filepath
        if find_dot() is None:
            self._write(source_path, self.source.encode(self.encoding))
            raise DotNotFound(
                f"wrote the graph source to {source_path}, but cannot render it: no `dot` program; {INSTALL_HINT}"
            )
        format = format or self.format
        target = os.fspath(outfile if outfile is not None else rendering.get_outfile(
            source_path, format=format, renderer=renderer, formatter=formatter))
        if os.path.abspath(target) == os.path.abspath(source_path) and not overwrite_source:
            raise ValueError(f"render: outfile {target!r} is the source file; pass overwrite_source=True to allow it")
        if raise_if_result_exists and os.path.exists(target):
            raise graphviz.FileExistsError(f"output file exists: {target!r}")
        data = self.pipe(format=format, renderer=renderer, formatter=formatter, neato_no_op=neato_no_op,
                         quiet=quiet, engine=engine)
        if not cleanup:
            self._write(source_path, self.source.encode(self.encoding))
        self._write(target, data)
        if view or quiet_view:
            self._view(target, format=format, quiet=quiet_view)
        return target

    @staticmethod
    def _write(path, data):
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        with atomic_write(path, "render") as f:
            f.write(data)


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
