"""Print a graph's backprop step by step and save its drawing: what the examples and the demo show."""
from __future__ import annotations

from pathlib import Path

from .graph import draw
from .render import DotNotFound


def walkthrough(root, leaves, out=None, name="graph", frames=False):
    """Backprop ``root`` printing one line per Step, then the leaves' gradients; draw into ``out``.

    With ``frames``, also draw the moment after each step (``name-step0.svg``, ...).
    Returns the paths written (``.dot`` source where no dot program is installed).
    """
    steps = list(root.backward_steps())
    for step in steps:
        print(f"  step {step.index}: {step}")
    label = root.label or "f"
    print("  gradients: " + ", ".join(f"d{label}/d{k} = {v.grad:.5g}" for k, v in leaves.items()))
    if out is None:
        return []
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pictures = [(name, draw(root))]
    if frames:
        pictures += [(f"{name}-step{s.index}", s.draw()) for s in steps]
    return [_save(diagram, out / stem) for stem, diagram in pictures]


def _save(diagram, path):
    try:
        return diagram.render(path, format="svg", cleanup=True)
    except DotNotFound as exc:
        print(f"  ({exc})")
        return str(path)
