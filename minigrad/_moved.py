"""Import paths from before the package was split into layers, kept working.

``import minigrad.training`` (or ``from minigrad.engine import no_grad``) gives the module at its
new place, the very same module object. New code should use the new paths.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

MOVED = {
    "minigrad.engine": "minigrad.core.engine",
    "minigrad.scalar": "minigrad.core.scalar",
    "minigrad.tensor": "minigrad.core.tensor",
    "minigrad.creation": "minigrad.core.creation",
    "minigrad.files": "minigrad.core.files",
    "minigrad.allocator": "minigrad.core.allocator",
    "minigrad.viz.text": "minigrad.core.text",
    "minigrad.models": "minigrad.nn.models",
    "minigrad.training": "minigrad.train.loop",
    "minigrad.checkpoint": "minigrad.train.checkpoint",
    "minigrad.recipes": "minigrad.train.recipes",
    "minigrad.search": "minigrad.train.search",
    "minigrad.curves": "minigrad.train.curves",
    "minigrad.multitask": "minigrad.train.multitask",
    "minigrad.cli": "minigrad.app.cli",
    "minigrad.jobs": "minigrad.app.jobs",
    "minigrad.lectures": "minigrad.app.lectures",
    "minigrad.autograd": "minigrad.core.autograd",  # not moved: the short name PyTorch users expect
}


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old module name and loads it as the module at its new place."""

    def find_spec(self, name, path=None, target=None):
        if name not in MOVED:
            return None
        return importlib.util.spec_from_loader(name, self)

    def create_module(self, spec):
        module = importlib.import_module(MOVED[spec.name])
        spec.loader_state = module.__spec__  # the import system is about to overwrite it with this alias spec
        return module

    def exec_module(self, module):
        module.__spec__ = module.__spec__.loader_state  # already executed under its new name: keep its own spec


def install():
    """Make the old names importable. Those whose module is already loaded are entered in ``sys.modules`` at
    once, so importing them never sets an attribute of the package (``minigrad.tensor`` stays the function
    ``mg.tensor``, not the old module of that name); the rest are found on first import."""
    for old, new in MOVED.items():
        if new in sys.modules:
            sys.modules.setdefault(old, sys.modules[new])
    if not any(isinstance(finder, _Alias) for finder in sys.meta_path):
        sys.meta_path.append(_Alias())
