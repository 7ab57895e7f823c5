"""The graph core: the topological order, and backprop as one loop that emits Steps.

A graph is made of *nodes* (a scalar ``Value`` or a ``Tensor``) and the *gates* that made them.
Every node carries these engine fields:

    _gate     the Gate that produced it (None for a leaf)
    _inputs   the nodes the gate consumed, in order (``a + a`` has two edges to ``a``)
    _id       a creation counter: a node is always created after its inputs, so sorting the
              reachable nodes by ``_id`` (newest first) is a valid backprop order
    _g        during a backprop pass, the gradient delivered so far, summed over the edges that
              have delivered ("copy gate: gradient adder"); after the pass, the gradient it got
    _rec      what its gate sent on each edge in the last pass; ``_pass`` that pass's number and
              ``_hooked`` the gradient a hook replaced (``core/records.py``), so drawings show
              backward's numbers instead of recomputing them

Backprop is the loop in :func:`backprop`: for every node, newest first, its gradient is complete;
hooks may replace it; its gate sends ``downstream = local x upstream`` into the inputs. The same
loop drives ``backward()``, ``backward_steps()``, the debugger and the drawings: it builds ``Step``
objects only when someone asks for them, so plain ``backward()`` pays nothing for the stream.
"""
from __future__ import annotations

import builtins
import contextlib
import functools
import itertools
import threading
from operator import attrgetter

from . import records
from .step import COPY, HOOK, Run, Step

_ids = itertools.count()
new_id = _ids.__next__
"""Next creation number; every node takes one when it is made."""

_by_id = attrgetter("_id")


class GraphFreedError(RuntimeError):
    """Backward through a graph whose saved arrays an earlier backward freed (``retain_graph=False``)."""


# --- grad mode, anomaly mode and the module scope: per thread, as in PyTorch -------------------------


class _Modes(threading.local):
    """The switches gates read while a graph is built. Each thread has its own (class values are the defaults)."""

    grad = True  # build graphs (off inside no_grad)
    anomaly = None  # the anomaly checker while detect_anomaly is on (debug/anomaly.py), else None
    module = None  # the path of the Module whose forward is running (nodes record it, drawings box it)
    record = True  # backward records each edge's gradient for the drawings (records.py)
    left_graph = None  # in the last create_graph pass, a user gate whose gradients left the graph (function.py)


modes = _Modes()

anomalous = 0
"""How many threads have anomaly mode on. Gates read their thread's checker only when this is not 0,
which keeps the hot path of a scalar gate free of a second thread-local lookup."""
_anomaly_lock = threading.Lock()


def set_anomaly(checker):
    """Switch this thread's anomaly mode (``detect_anomaly`` does): ``checker`` or None; returns the previous one."""
    global anomalous
    with _anomaly_lock:
        previous = modes.anomaly
        modes.anomaly = checker
        anomalous += (checker is not None) - (previous is not None)
    return previous


class no_grad:
    """Context manager (and decorator) in which operations build no graph, as ``torch.no_grad``."""

    enabled = False

    def __enter__(self):
        self._prev = modes.grad
        modes.grad = self.enabled
        return self

    def __exit__(self, *exc):
        modes.grad = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class enable_grad(no_grad):
    """Context manager that switches graph building back on inside a ``no_grad`` block."""

    enabled = True


def is_grad_enabled():
    return modes.grad


class recording(no_grad):
    """``with recording(False):`` backward records nothing for the drawings (``core/records.py``); on by
    default. For measuring what recording costs: a drawing of such a pass shows no gradients."""

    def __init__(self, enabled=True):
        self.enabled = bool(enabled)

    def __enter__(self):
        self._prev = modes.record
        modes.record = self.enabled
        return self

    def __exit__(self, *exc):
        modes.record = self._prev
        return False


def current_module():
    return modes.module


class _Waiting:
    """Marks the nodes of one backprop pass that have not received any gradient yet."""

    __slots__ = ()

    def __repr__(self):
        return "<waiting for a gradient>"


def has_gradient(node):
    """Whether, in the pass running now, some gate has already sent ``node`` a gradient (for the debugger)."""
    g = node._g
    return g is not None and g.__class__ is not _Waiting


def topological_order(root, waiting=None):
    """Every node the gradient of ``root`` (a node, or a list of them) reaches, newest first: a valid backprop order.

    One iterative pass (no recursion: a 1,000,000-gate chain is fine) collects the nodes and marks
    their gradient slots ``waiting``, which is also how the pass knows a node is already collected;
    sorting by creation number orders them, since a node is created after its inputs. Without
    ``waiting`` (a call from outside the loop) the marks are cleared again.
    """
    if waiting is None:
        order = topological_order(root, _Waiting())
        for node in order:
            node._g = None
        return order
    roots = root if isinstance(root, list) else [root]
    order, stack = [], []
    for r in roots:
        if r._g is not waiting:
            r._g = waiting
            order.append(r)
            stack.append(r)
    while stack:
        for parent in stack.pop()._inputs:
            if parent._g is not waiting and parent.requires_grad:
                parent._g = waiting
                order.append(parent)
                stack.append(parent)
    order.sort(key=_by_id, reverse=True)
    return order


# --- the loop ------------------------------------------------------------------------------------------


def backprop(root, grad, *, steps=False, retain=True, dry=False, graph=False, capture=None):
    """The backprop loop. A generator: it yields a Step per gate only when ``steps`` is true.

    For each node, newest first, its gradient ``_g`` is complete (every consumer has been processed):
    its hooks may replace it, it is handed to the node (``.grad``), and its gate sends the downstream
    gradients into the inputs. With ``steps``, a node that several gates consumed first yields a
    ``copy`` step, a hook that changed the gradient a ``hook`` step, and every gate yields its step
    before the downstream gradients are sent (so a breakpoint sees them unsent).

    Each node then records the pass (``core/records.py``): ``_g`` keeps its gradient, ``_rec`` what its
    gate sent on each edge, ``_hooked`` the gradient a hook replaced -- the arrays themselves when the
    graph is retained, else their shapes and norms -- so a drawing after ``backward()`` shows exactly
    this pass. ``retain=False`` releases each gate's saved arrays as soon as the gate is done, so
    memory is freed as the loop goes. ``dry=True`` computes the steps without touching ``.grad`` or
    the records (hooks still run: they are part of what backward computes).

    ``graph=True`` (``create_graph``) runs every gate's backward in Tensor (or Value) operations, so the
    gradients carry graphs of their own and can be differentiated again. ``capture``, a dict whose keys
    are nodes, receives each one's complete gradient instead of ``.grad`` (``autograd.grad``). ``root``
    and ``grad`` may be lists (several outputs, each with its gradient).
    """
    roots, seeds = (root, grad) if isinstance(root, list) else ([root], [grad])
    waiting = _Waiting()
    order = topological_order(roots, waiting)
    for r, g in zip(roots, seeds):
        r._g = g if r._g is waiting else r._g + g
    run = Run(roots[0], seeds[0])
    arrivals = {} if steps else None
    anomaly = modes.anomaly if anomalous else None
    record = modes.record and not dry
    summary = None if retain or not record else records.summary  # a freed pass keeps shapes and norms
    plain = records.plain if graph else None  # records hold arrays, never the backward's graph (no cycles)
    if graph:
        modes.left_graph = None
    mark = records.new_pass() if record else None
    finished = False
    try:
        for node in order:
            total = node._g
            if total is waiting:  # no gradient reached it (its consumers sent None)
                node._g = None
                continue
            if steps:
                received = arrivals.pop(node, ())
                if len(received) > 1:
                    yield Step("copy", COPY, node, (node,), tuple(received), (1.0,) * len(received), (total,), run)
            if node._hooks:
                hooked = node._run_hooks(total)
                if hooked is not total:
                    if record:
                        node._hooked = plain(total) if plain else total if summary is None else summary(total)
                    if steps:
                        yield Step("hook", HOOK, node, (node,), total, ("hook",), (hooked,), run)
                    total = hooked
            if capture is not None:
                if node in capture:
                    capture[node] = total
            elif not dry:
                node._receive(total)
            gate = node._gate
            if gate is None:
                sent = None
            else:
                sent = gate.send_graph(node, total) if graph else gate.send(node, total)
                if anomaly is not None:
                    anomaly.check_backward(node, gate, sent, total)
                if steps:
                    yield Step("gate", gate, node, node._inputs, total, gate.local(node), tuple(sent), run)
                for parent, g in zip(node._inputs, sent):
                    if g is not None:
                        if steps:
                            arrivals.setdefault(parent, []).append(g)
                        pending = parent._g
                        parent._g = g if pending is waiting else pending + g
                if not retain:
                    gate.release()
            if record:
                node._pass = mark
                if plain is not None:
                    node._g, node._rec = plain(total), records.plains(sent)
                elif summary is None:
                    node._g, node._rec = total, sent
                else:
                    node._g, node._rec = summary(total), records.summaries(sent)
            else:
                node._g = None
        finished = True
    finally:
        if not finished:  # stopped early (an error, or the stream was not read to the end)
            for node in order:
                node._g = None


def run_backward(root, grad, *, retain=True, breakpoint=None, graph=False, capture=None):
    """Run the loop to the end; with ``breakpoint``, stop in the debugger where it returns true. With ``graph``
    (create_graph) the backward's own graph is built whatever grad mode the caller is in."""
    with enable_grad() if graph else contextlib.nullcontext():
        if breakpoint is None:
            for _ in backprop(root, grad, retain=retain, graph=graph, capture=capture):
                pass
            return
        for step in backprop(root, grad, steps=True, retain=retain, graph=graph, capture=capture):  # noqa: B007
            try:
                hit = breakpoint(step)
            except Exception as exc:
                raise RuntimeError(
                    f"backward: the breakpoint predicate raised {type(exc).__name__}: {exc} "
                    f"on step {step.index} ({step.gate}); make it return True or False for every step"
                ) from exc
            if hit:
                builtins.breakpoint()
                here = "stopped before this step's downstream gradients are sent"  # noqa: F841
                # `p step` shows the gate and its numbers (step.upstream, step.local, step.downstream),
                # `step.draw()` renders the graph as it is right now; `c` continues backprop.
