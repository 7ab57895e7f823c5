"""The lectures' worked examples as graphs, ready to print, draw and step through.

Used by ``examples/``, ``minigrad demo`` and the tests, so the numbers live in one place.
"""
from __future__ import annotations

from ..core.scalar import Value


def simple():
    """f(x, y, z) = (x + y)·z at x = −2, y = 5, z = −4: f = −12; df/dx = df/dy = −4, df/dz = 3."""
    x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
    q = x + y
    q.label = "q"
    f = q * z
    f.label = "f"
    return f, {"x": x, "y": y, "z": z}


def _neuron_inputs():
    names = ("w0", "x0", "w1", "x1", "w2")
    values = (2.0, -1.0, -3.0, -2.0, -3.0)
    return {n: Value(v, n) for n, v in zip(names, values)}


def neuron_gates():
    """The 2-D sigmoid neuron σ(w0·x0 + w1·x1 + w2) built from primitive gates: ·(−1), exp, +1, 1/x."""
    p = _neuron_inputs()
    s = p["w0"] * p["x0"] + p["w1"] * p["x1"] + p["w2"]
    s.label = "s"
    f = 1.0 / (1.0 + (-s).exp())
    f.label = "f"
    return f, p


def neuron_sigmoid():
    """The same neuron with the single sigmoid gate (local gradient σ(1 − σ)): the graph is not unique."""
    p = _neuron_inputs()
    s = p["w0"] * p["x0"] + p["w1"] * p["x1"] + p["w2"]
    s.label = "s"
    f = s.sigmoid()
    f.label = "f"
    return f, p


def fanout():
    """A value used twice: f = x·y + x at x = 3, y = −2. The copy gate adds: df/dx = y + 1 = −1."""
    x, y = Value(3.0, "x"), Value(-2.0, "y")
    f = x * y + x
    f.label = "f"
    return f, {"x": x, "y": y}


def max_gate():
    """The max gate routes: f = max(x, y)·z at x = 3, y = 1, z = 2 sends df/dx = 2, df/dy = 0."""
    x, y, z = Value(3.0, "x"), Value(1.0, "y"), Value(2.0, "z")
    m = x.max(y)
    m.label = "m"
    f = m * z
    f.label = "f"
    return f, {"x": x, "y": y, "z": z}


EXAMPLES = {
    "simple": simple,
    "neuron_gates": neuron_gates,
    "neuron_sigmoid": neuron_sigmoid,
    "fanout": fanout,
    "max_gate": max_gate,
}
