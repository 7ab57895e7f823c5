"""The package layout: layers that import downwards, and the paths from before the split still working."""
import importlib
import subprocess
import sys

import pytest

from minigrad._moved import MOVED


def _run(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_importing_the_core_loads_neither_graphviz_nor_matplotlib():
    out = _run("import sys, minigrad.core; print('graphviz' in sys.modules, 'matplotlib' in sys.modules)")
    assert out == "False False"


def test_importing_minigrad_loads_graphviz_only_when_something_is_drawn():
    out = _run("import sys, minigrad as mg; a = 'graphviz' in sys.modules; mg.draw; print(a, 'graphviz' in sys.modules)")
    assert out == "False True"


@pytest.mark.parametrize("old", sorted(MOVED))
def test_an_old_import_path_gives_the_module_at_its_new_place(old):
    assert importlib.import_module(old) is importlib.import_module(MOVED[old])
    assert importlib.import_module(MOVED[old]).__spec__.name == MOVED[old]


def test_old_module_names_do_not_replace_the_packages_functions():
    out = _run("import minigrad as mg, minigrad.tensor, minigrad.engine; print(callable(mg.tensor), mg.tensor([1.0]).shape)")
    assert out == "True (1,)"


def test_from_imports_through_old_paths_work():
    out = _run("from minigrad.training import fit; from minigrad.engine import no_grad; "
               "from minigrad.recipes import search; import minigrad.models as m; print(fit.__module__, m.__name__)")
    assert out == "minigrad.train.loop minigrad.nn.models"


def test_the_engine_imports_nothing_above_the_core():
    out = _run("import sys, minigrad.core.engine; "
               "print(sorted(m.__name__ for m in sys.modules.values() if getattr(m, '__name__', '').startswith('minigrad.viz')))")
    assert out == "[]"


def test_training_imports_nothing_that_draws():
    # train/ sits below viz: a plot (lr_find's path=) imports its plotting module when asked for
    out = _run("import sys, pkgutil, importlib, minigrad.train as t; "
               "[importlib.import_module('minigrad.train.' + m.name) for m in pkgutil.iter_modules(t.__path__)]; "
               "print(sorted(m.__name__ for m in sys.modules.values() if getattr(m, '__name__', '').startswith('minigrad.viz')), "
               "'matplotlib' in sys.modules)")
    assert out == "[] False"


# the layers, bottom up (README's Architecture); a package may import those below it and its own level
LAYERS = {"core": 0, "ops": 1, "nn": 2, "optim": 3, "data": 3, "train": 4, "debug": 5, "onnx": 5, "viz": 6, "app": 7}
# the upward imports there are, each with its reason (README's Architecture says the same)
ALLOWED_UP = {
    ("core/tensor_ops.py", "ops"): "Tensor's methods hand over to the gates (bind_ops, once Tensor exists)",
    ("train/recipes.py", "viz"): "lr_find(path=) draws its plot, importing matplotlib's module only then",
}


def _upward_imports():
    import ast
    import pathlib

    import minigrad

    root = pathlib.Path(minigrad.__file__).parent
    found = set()
    for f in sorted(root.rglob("*.py")):
        parts = f.relative_to(root).parts
        if len(parts) < 2 or parts[0] not in LAYERS:
            continue
        for node in ast.walk(ast.parse(f.read_text())):
            targets = []
            if isinstance(node, ast.ImportFrom) and node.level:
                here = list(parts[:-1])
                base = here[: len(here) - (node.level - 1)]
                target = base + (node.module.split(".") if node.module else [])
                targets = [target[0]] if target else [a.name for a in node.names]
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                targets = [n.split(".")[1] for n in names if n and n.startswith("minigrad.") and n.count(".") >= 1]
            for t in targets:
                if t in LAYERS and LAYERS[t] > LAYERS[parts[0]]:
                    found.add(("/".join(parts), t))
    return found


def test_packages_import_only_the_layers_below_them():
    assert _upward_imports() == set(ALLOWED_UP)


def test_a_file_over_400_lines_says_why_in_its_docstring():
    import ast
    import pathlib

    import minigrad

    root = pathlib.Path(minigrad.__file__).parent
    unexplained = []
    for f in sorted(root.rglob("*.py")):
        text = f.read_text()
        if text.count("\n") > 400 and "400 lines" not in (ast.get_docstring(ast.parse(text)) or ""):
            unexplained.append(str(f.relative_to(root)))
    assert not unexplained
