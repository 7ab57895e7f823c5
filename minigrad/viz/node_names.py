"""How the explorer names each node in its panel: by its label, else by what made it or what it is.

``relu #2 in layer1.0`` (the gate and the module it ran in, numbered when a module makes several),
``relu → (8, 3)`` outside any module (the gate and what it made; a scalar's value: ``tanh → 0.761594``),
and leaves by what they are: ``leaf (3, 4) requires grad``, ``parameter (3, 4)``, ``data (8, 4)``,
``constant 2.0`` -- never an anonymous "input #1" or "(mul output)".
"""
from __future__ import annotations

from ..core.text import fmt_number
from .frames import is_tensor


def names(nodes, owners):
    """node -> its name (``owners``: node -> module path or None). Names that would repeat are numbered, oldest
    first: ``relu #2 in layer1.0``, ``data #2 (8, 4)``."""
    base = {}
    for node in nodes:
        if node.label:
            base[node] = node.label
        elif node._gate is not None:
            where = owners.get(node)
            base[node] = f"{node._gate.name} in {where}" if where else f"{node._gate.name} → {_made(node)}"
        elif not is_tensor(node):
            base[node] = f"{'leaf' if node.requires_grad else 'constant'} {fmt_number(node.data)}"
        elif node.requires_grad:
            shape = _shape(node.shape)
            base[node] = f"parameter {shape}" if type(node).__name__ == "Parameter" else f"leaf {shape} requires grad"
        else:
            base[node] = f"constant {fmt_number(node.item())}" if node.numel() == 1 else f"data {_shape(node.shape)}"
    counts, seen, named = {}, {}, {}
    for name in base.values():
        counts[name] = counts.get(name, 0) + 1
    for node in nodes:  # oldest first: #1 is the first the forward made
        name = base[node]
        if counts[name] > 1 and not node.label:
            seen[name] = seen.get(name, 0) + 1
            head, space, rest = name.partition(" ")
            name = f"{head} #{seen[name]}{space}{rest}"
        named[node] = name
    return named


def _made(node):
    """What a gate's output is, for its name: a tensor's shape, a single number's value."""
    if is_tensor(node) and node.ndim:
        return _shape(node.shape)
    return fmt_number(node.item() if is_tensor(node) else node.data)


def _shape(shape):
    return str(tuple(shape))
