"""Anomaly mode: the first NaN/Inf in forward or backward raises, naming the gate and the line of
your code that made the node (creation sites are recorded only while the mode is on)."""
from __future__ import annotations

import functools
import linecache
import math
import os
import sys

import numpy as np

from ..core import engine

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep  # the minigrad package

class AnomalyError(FloatingPointError):
    """The first NaN/Inf that anomaly mode saw: ``gate`` (its name), ``phase`` ("forward" or
    "backward"), ``site`` ("file:line: code" of the user code that made the node, or None) and,
    in backward, ``input`` (the index of the input whose gradient was not finite)."""

    def __init__(self, message, gate, phase, site=None, input=None):
        super().__init__(message)
        self.gate, self.phase, self.site, self.input = gate, phase, site, input


class detect_anomaly:
    """Context manager (and decorator): the first NaN/Inf produced in forward or backward raises.

    >>> import minigrad as mg
    >>> x = mg.tensor([1.0, -1.0], requires_grad=True)
    >>> with mg.detect_anomaly():
    ...     y = x.log()          # doctest: +SKIP
    AnomalyError: log produced nan in forward (created at example.py:3: y = x.log()) ...

    In this mode every tensor gate's output is checked as it is made, and every downstream
    gradient as backprop sends it; the error (``AnomalyError``, a ``FloatingPointError``) names
    the gate and the first line *outside the minigrad package* that created the node -- your
    line. Only in this mode does minigrad record where nodes are made (``Tensor._site``);
    outside it the cost is one ``if`` per gate.

    What is checked: outputs of tensor gates that are part of a graph (an input requires grad
    and grad mode is on; results computed under ``no_grad`` are not checked), every scalar
    ``Value`` gate's output (an overflow to inf, inf − inf = nan), and every downstream gradient
    in backward, for tensors and Values alike. Scalar math that is undefined raises on its own,
    in or out of this mode (``Value(-1.0).log()`` is a ``ValueError`` naming log).

    ``detect_anomaly(False)`` switches the mode off inside an enclosing one. Leaving the block
    restores whatever was in force before, so blocks nest.
    """

    def __init__(self, enabled=True):
        self.enabled = bool(enabled)
        self._saved = []

    def __enter__(self):
        # this thread's mode: another thread's graphs are not checked
        self._saved.append(engine.set_anomaly(CHECKS if self.enabled else None))
        return self

    def __exit__(self, *exc):
        engine.set_anomaly(self._saved.pop())
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.enabled):
                return fn(*args, **kwargs)

        return wrapper


def _user_frame():
    """(filename, line) of the innermost frame outside the minigrad package, or None."""
    frame = sys._getframe(2)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame = frame.f_back
    return None if frame is None else (frame.f_code.co_filename, frame.f_lineno)


def _site_text(site):
    if site is None:
        return None
    filename, line = site
    shown = os.path.relpath(filename) if os.path.abspath(filename).startswith(os.getcwd() + os.sep) else filename
    code = linecache.getline(filename, line).strip()
    return f"{shown}:{line}: {code}" if code else f"{shown}:{line}"


def _bad(array):
    """'nan', 'inf' or '-inf' if ``array`` (or number) holds one, else None; with the count and size."""
    a = np.asarray(array)
    if a.dtype.kind not in "fc":
        return None
    finite = np.isfinite(a)
    if finite.all():
        return None
    bad = a[~finite]
    word = "nan" if np.isnan(bad).any() else ("inf" if (bad.real > 0).any() else "-inf")
    return word, int(bad.size), int(a.size)


def _values(node):
    """A node's value: a tensor's array or a Value's float."""
    return node._data if hasattr(node, "_data") else node.data


def _check_forward(node, gate):
    """Tensor._make and Value._make call this in anomaly mode for a node a gate made: note where, then check its value."""
    node._site = _user_frame()
    found = _bad(_values(node))
    if found is None:
        return
    word, count, size = found
    site = _site_text(node._site)
    where = f"created at {site}" if site else "created inside minigrad, called from no file outside it"
    message = f"{gate.name} produced {word} in forward ({where})"
    if size > 1:
        message += f"; {count} of the {size} elements of its {tuple(node.shape)} output are not finite"
    for i, x in enumerate(node._inputs):
        if _bad(_values(x)) is not None:
            message += (
                f"; but its input {i} already held {_bad(_values(x))[0]}, made outside the checked graph "
                f"(a leaf, data, or a result computed under no_grad): look there first"
            )
            break
    else:
        if gate.hint:
            message += f"; hint: {gate.hint}"
    raise AnomalyError(message, gate.name, "forward", site)


def _check_backward(node, gate, downstream, upstream):
    """The backprop loop calls this in anomaly mode with the gradients a gate is about to send."""
    for i, g in enumerate(downstream):
        if g is None:
            continue
        if g.__class__ is not np.ndarray and not isinstance(g, float):
            continue  # the parts of a several-output gate's gradient: each output's own gate checks its part
        if isinstance(g, float):
            if math.isfinite(g):
                continue
            found = ("nan" if math.isnan(g) else ("inf" if g > 0 else "-inf"), 1, 1)
        else:
            found = _bad(g)
            if found is None:
                continue
        word, count, size = found
        site = _site_text(getattr(node, "_site", None))
        where = f"created at {site}" if site else "created before anomaly mode was on"
        message = f"{gate.name} produced {word} in backward while sending the gradient to input {i} ({where})"
        if size > 1:
            message += f"; {count} of the {size} elements of that gradient are not finite"
        if upstream is not None and _bad(upstream) is not None:
            message += (
                f"; but the upstream gradient it received already held {_bad(upstream)[0]} "
                f"(from the gradient given to backward(), a hook's result, or a sum of several consumers' "
                f"gradients that overflowed)"
            )
        elif gate.hint:
            message += f"; hint: {gate.hint}"
        raise AnomalyError(message, gate.name, "backward", site, i)


class CHECKS:
    """What anomaly mode does, as the engine calls it (``modes.anomaly``)."""

    check_forward = staticmethod(_check_forward)
    check_backward = staticmethod(_check_backward)
