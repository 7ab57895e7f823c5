"""How numbers, arrays and steps read in text: in ``str(step)``, the drawings and the stepper."""
from __future__ import annotations

import math

MAX_SHOWN = 16
"""Arrays with at most this many elements are written out in full; larger ones as shape and norm."""


def fmt_number(x, digits=6):
    """A float the way the lectures write it: ``-4.0``, ``0.731059``, ``1e-08``."""
    x = float(plain(x))
    if math.isfinite(x) and x == int(x) and abs(x) < 1e15:
        return f"{x:.1f}"
    return f"{x:.{digits}g}"


def fmt_value(v, digits=6):
    """A number, an array (values when small, else shape and norm), text, or a tuple of those."""
    if v is None:
        return "—"
    if isinstance(v, str):
        return v
    v = plain(v)
    if isinstance(v, tuple):
        return "(" + ", ".join(fmt_value(x, digits) for x in v) + ")"
    shape = getattr(v, "shape", None)
    if shape is not None and shape != ():
        return fmt_array(v, digits)
    return fmt_number(v, digits)


def fmt_array(a, digits=6):
    """Small arrays in full (``[4.0, 0.0, 5.0, 0.0]``); larger ones as ``(64, 10) ‖·‖=0.31``."""
    import numpy as np

    a = plain(a)
    norm = getattr(a, "norm", None)
    if norm is not None and not isinstance(a, np.ndarray):  # a freed gradient, as backward recorded it
        return f"{tuple(a.shape)} ‖·‖={fmt_number(norm, digits)}"
    a = np.asarray(a)
    if a.size <= MAX_SHOWN:
        return _nested(a.tolist(), digits)
    norm = float(np.linalg.norm(a.astype(np.float64)))
    return f"{tuple(a.shape)} ‖·‖={fmt_number(norm, digits)}"


def plain(g):
    """A gradient of a ``create_graph`` pass -- a Tensor or a Value -- as the numbers it holds (what the
    records keep, what steps print and drawings show); arrays, numbers and summaries pass through."""
    data = getattr(g, "_data", None)
    if data is not None:
        return data
    if hasattr(g, "_inputs"):  # a Value
        return g.data
    if g is not None and g.__class__ is not float and hasattr(g, "summarize"):
        return g.summarize(plain)  # several outputs' gradients (core/function.py)
    return g


def _nested(x, digits):
    if isinstance(x, list):
        return "[" + ", ".join(_nested(e, digits) for e in x) + "]"
    return fmt_number(x, digits)


def describe_step(step):
    """``mul: upstream 1.0 × local (-4.0, 3.0) = downstream (-4.0, 3.0)``."""
    if step.kind == "copy":
        parts = " + ".join(_term(fmt_value(g)) for g in step.upstream)
        return f"copy: upstream {parts} = downstream {fmt_value(step.downstream[0])}"
    if step.kind == "hook":
        who = f" on {step.output.label}" if step.output.label else ""
        return f"hook{who}: upstream {fmt_value(step.upstream)} replaced by the hook's {fmt_value(step.downstream[0])}"
    return (
        f"{step.gate}: upstream {fmt_value(step.upstream)} × local {fmt_value(step.local)}"
        f" = downstream {fmt_value(step.downstream)}"
    )


def _term(text):
    """A summand as written in a sum: negative numbers in parentheses."""
    return f"({text})" if text.startswith("-") else text
