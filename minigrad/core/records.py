"""What backward recorded, so drawings and pages show the numbers it sent instead of recomputing them.

Every node a backprop pass reaches keeps, until the next pass reaches it:

* ``_g``: its complete gradient in that pass, after its hooks (``_hooked``: the gradient before a
  hook replaced it, else None);
* ``_rec``: what its gate sent to each input (None for a leaf; None where an input got nothing);
* ``_pass``: the pass's number, so a drawing never mixes two passes.

With ``retain_graph=True`` (and always for scalar Values, whose gradients are plain floats) the
gradients are kept as they are. After a plain ``backward()`` the arrays are freed as the loop goes;
the record keeps a :class:`Summary` of each one larger than 16 elements -- its shape, dtype, norm,
min and max -- so ``loss.backward(); mg.draw(loss)`` still shows the gradient flow of that step, at
the cost of three reductions per gradient (bench/README.md: recording). A gradient a gate sent is usually also its input's
whole gradient (one consumer): it is summarized once for both records (a hook that changes its
argument in place, instead of returning a new array, is not seen by that second record).

:func:`record_of` reads a node's record as ``(pass, grad, before_hook, sent)``; :func:`replay`
rebuilds the Step stream of the last pass from the records.
"""
from __future__ import annotations

import itertools
import math
import weakref

import numpy as np

from .step import COPY, HOOK, Run, Step
from .text import plain

PASS, GRAD, BEFORE, SENT = range(4)
"""The fields of a record, as :func:`record_of` gives it."""

_passes = itertools.count(1)
_summarized = {}
"""id -> (weak reference, Summary) of the arrays this pass has summarized, so that a gradient recorded as
sent and again as its receiver's gradient is summarized once (the reference tells a reused id apart)."""


def new_pass():
    """The number of a new backprop pass (and the summaries of the last one forgotten)."""
    _summarized.clear()
    return next(_passes)


class Summary:
    """A gradient that was freed, as the record keeps it: ``shape``, ``dtype``, ``size``, ``norm`` (L2), ``min``
    and ``max`` -- of its finite values, ``nonfinite`` counting the others (None when none is finite).
    No mean: a float32 sum costs as much as the min and the max together, past the records' budget."""

    __slots__ = ("shape", "dtype", "norm", "min", "max", "nonfinite")

    def __init__(self, array):
        self.shape, self.dtype = array.shape, array.dtype
        flat = array.reshape(-1)
        if flat.dtype.kind != "f":
            flat = flat.astype(np.float64)
        elif flat.dtype == np.float16:  # Σ g² of 70,000 ones is past float16's 65,504
            flat = flat.astype(np.float32)
        with np.errstate(over="ignore", invalid="ignore"):  # squares past the range: handled below
            self.norm = math.sqrt(float(np.dot(flat, flat)))
        self.nonfinite = 0
        if not math.isfinite(self.norm):  # a NaN or an infinity, or squares past the dtype's range
            finite = flat[np.isfinite(flat)]
            self.nonfinite = flat.size - finite.size
            flat = finite.astype(np.float64)
            if not self.nonfinite:
                self.norm = math.sqrt(float(np.dot(flat, flat)))
        if flat.size:
            self.min, self.max = float(flat.min()), float(flat.max())
        else:
            self.min = self.max = None

    @property
    def size(self):
        return math.prod(self.shape)

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<gradient {self.shape} ‖·‖={self.norm:.6g}, freed after backward>"


SMALL = 16
"""Gradients with at most this many elements are kept whole even after a plain backward (their values
are what a drawing prints for them)."""


def summary(g):
    """What a pass that frees its arrays keeps of gradient ``g``: a Summary, or ``g`` itself when small."""
    if g is None or g.__class__ is float:
        return g
    if g.__class__ is np.ndarray:
        if g.size <= SMALL:
            return g
        known = _summarized.get(id(g))
        if known is not None and known[0]() is g:
            return known[1]
        made = Summary(g)
        _summarized[id(g)] = (weakref.ref(g), made)
        return made
    summarize_parts = getattr(g, "summarize", None)  # several outputs' gradients (core/function.py)
    return summarize_parts(summary) if summarize_parts is not None else g


def plains(sent):
    return None if sent is None else tuple([plain(g) for g in sent])


def summaries(sent):
    """:func:`summary` of each gradient a gate sent."""
    return None if sent is None else tuple([summary(g) for g in sent])


def last_pass(node):
    """The number of the last pass that reached ``node`` (None if none did): the pass a drawing of it shows."""
    return node._pass


def record_of(node, mark):
    """The node's record from pass ``mark`` as ``(pass, grad, before_hook, sent)``, or None."""
    if mark is None or node._pass != mark:
        return None
    return (mark, node._g, node._hooked, node._rec)


def reachable(root):
    """Every node whose gradient comes from ``root``, newest first, and each node's consumer edges
    (``(consumer, input_index)``), without touching the graph. Iterative: no recursion."""
    seen = {root}
    stack = [root]
    consumers = {root: []}
    while stack:
        node = stack.pop()
        for i, parent in enumerate(node._inputs):
            if not parent.requires_grad:
                continue
            if parent not in seen:
                seen.add(parent)
                consumers[parent] = []
                stack.append(parent)
            consumers[parent].append((node, i))
    order = sorted(seen, key=lambda n: n._id, reverse=True)
    return order, consumers


def replay(root, mark=None):
    """The Steps of the last pass that reached ``root`` (or of pass ``mark``), for the graph below ``root``,
    rebuilt from the records: the gradients are the ones backward sent (arrays, or their summaries after
    a plain backward); the local gradients are the gates' rules (arrays only where the gate's saved
    arrays are still there). None when no pass reached ``root``."""
    mark = last_pass(root) if mark is None else mark
    if mark is None or record_of(root, mark) is None:
        return None
    order, consumers = reachable(root)
    root_rec = record_of(root, mark)
    run = Run(root, root_rec[BEFORE] if root_rec[BEFORE] is not None else root_rec[GRAD])
    for node in order:
        rec = record_of(node, mark)
        if rec is None:
            continue
        arrivals = []
        for consumer, i in consumers[node]:
            crec = record_of(consumer, mark)
            if crec is not None and crec[SENT] is not None and crec[SENT][i] is not None:
                arrivals.append(crec[SENT][i])
        received = rec[BEFORE] if rec[BEFORE] is not None else rec[GRAD]
        if len(arrivals) > 1:
            Step("copy", COPY, node, (node,), tuple(arrivals), (1.0,) * len(arrivals), (received,), run)
        if rec[BEFORE] is not None:
            Step("hook", HOOK, node, (node,), rec[BEFORE], ("hook",), (rec[GRAD],), run)
        if node._gate is not None and rec[SENT] is not None:
            Step("gate", node._gate, node, node._inputs, rec[GRAD], node._gate.local(node), tuple(rec[SENT]), run)
    return run.steps
