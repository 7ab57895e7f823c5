"""The graph core: gates, the topological order, and backprop as one loop that emits Steps.

A graph is made of *nodes* (a scalar ``Value`` or a ``Tensor``) and the *gates* that made them.
Every node carries four engine fields:

    _gate     the Gate that produced it (None for a leaf)
    _inputs   the nodes the gate consumed, in order (``a + a`` has two edges to ``a``)
    _id       a creation counter: a node is always created after its inputs, so sorting the
              reachable nodes by ``_id`` (newest first) is a valid backprop order
    _g        the gradient of the root with respect to this node, summed over the edges
              that have delivered so far ("copy gate: gradient adder")

Backprop is the loop in :func:`backprop`: for every node, newest first, ask its gate for the
downstream gradients (downstream = local x upstream) and add them into the inputs' ``_g``.
The same loop drives ``backward()``, ``backward_steps()``, the debugger and the drawings:
it only builds ``Step`` objects when someone asks for them, so plain ``backward()`` pays
nothing for the stream.
"""
from __future__ import annotations

import itertools
from operator import attrgetter

_ids = itertools.count()
new_id = _ids.__next__
"""Next creation number; every node takes one when it is made."""

_by_id = attrgetter("_id")


class Gate:
    """A gate: a forward rule and a local-gradient rule, plus the words the drawings print.

    Subclasses set ``name`` (the step's ``gate`` string), ``symbol`` (drawn in the gate's
    circle) and ``formula`` (the local-gradient rule as text), and implement

    * ``local(node)``: one local gradient per input (numbers for scalar gates; text or arrays
      for tensor gates) -- what the drawing writes as "local";
    * ``backward(node, upstream)``: one downstream gradient per input (None where an input
      needs none). For scalar gates this is literally local x upstream.
    """

    __slots__ = ()
    name = "gate"
    symbol = "?"
    formula = ""

    def local(self, node):
        raise NotImplementedError

    def backward(self, node, upstream):
        raise NotImplementedError

    def release(self):
        """Drop whatever the gate saved for backward (called when the graph is not retained)."""

    def __repr__(self):
        return f"<gate {self.name}>"


class Step:
    """One gate's work during backprop: ``downstream = local x upstream``.

    ``gate`` is the gate's name ("add", "mul", "copy", ...); ``output`` is the node whose
    gradient is being pushed back; ``inputs`` the nodes that receive it; ``upstream`` the
    gradient arriving at the gate (for a copy step, the tuple of gradients arriving from each
    consumer); ``local`` and ``downstream`` have one entry per input.
    """

    __slots__ = ("gate", "output", "inputs", "upstream", "local", "downstream", "index", "rule", "_run")

    def __init__(self, gate, output, inputs, upstream, local, downstream, rule, run):
        self.gate = gate
        self.output = output
        self.inputs = inputs
        self.upstream = upstream
        self.local = local
        self.downstream = downstream
        self.rule = rule
        self._run = run
        self.index = len(run.steps)
        run.steps.append(self)

    @property
    def formula(self):
        """The gate's local-gradient rule in words, as the drawings print it."""
        return self.rule.formula

    def __str__(self):
        from .text import describe_step

        return describe_step(self)

    def __repr__(self):
        return f"<Step {self.index}: {self}>"

    def draw(self, **kwargs):
        """Draw the graph as it stands at this step: this gate highlighted, the gradients known so far."""
        from ..viz.graph import draw_step

        return draw_step(self, **kwargs)


class _CopyGate:
    """Fan-out: a node consumed by several gates. Backprop sums what its consumers send."""

    name = "copy"
    symbol = "copy"
    formula = "dL/dx = sum of the gradients from every consumer (copy gate: gradient adder)"


COPY = _CopyGate()


class Run:
    """What one pass of the backprop loop has produced so far (for drawing a step in the middle)."""

    __slots__ = ("root", "seed", "order", "steps")

    def __init__(self, root, seed, order):
        self.root = root
        self.seed = seed
        self.order = order
        self.steps = []


class _Waiting:
    """Marks the nodes of one backprop pass that have not received any gradient yet."""

    __slots__ = ()

    def __repr__(self):
        return "<waiting for a gradient>"


def has_gradient(node):
    """Whether ``node._g`` holds a gradient (not None, not a pass's waiting mark)."""
    g = node._g
    return g is not None and g.__class__ is not _Waiting


def topological_order(root, waiting=None, previous=None):
    """Every node the gradient of ``root`` reaches, newest first (a valid backprop order).

    One iterative pass (no recursion: a 1,000,000-gate chain is fine) collects the nodes and
    marks their gradient slots ``waiting``, which is also how the pass knows a node is already
    collected; sorting by creation number orders them, since a node is created after its inputs.
    ``previous``, a list, receives each node's gradient slot as it was, to put back later.
    """
    waiting = waiting or _Waiting()
    if previous is not None:
        previous.append((root, root._g))
    root._g = waiting
    order = [root]
    stack = [root]
    while stack:
        for parent in stack.pop()._inputs:
            if parent._g is not waiting and parent.requires_grad:
                if previous is not None:
                    previous.append((parent, parent._g))
                parent._g = waiting
                order.append(parent)
                stack.append(parent)
    order.sort(key=_by_id, reverse=True)
    return order


def backprop(root, grad, *, steps=False, retain=True, dry=False):
    """The backprop loop. A generator: it yields a Step per gate only when ``steps`` is true.

    For each node, newest first: its gradient ``_g`` is complete (every consumer has been
    processed), so hand it to the node (hooks, ``.grad``), ask the gate for the downstream
    gradients and add them into the inputs. With ``steps``, a node that several gates
    consumed first yields a ``copy`` step, and every gate yields its step before the
    downstream gradients are sent (so a breakpoint sees them unsent).

    ``retain=False`` releases each gate's saved arrays and the node's gradient as soon as
    the gate is done, so memory is freed as the loop goes. ``dry=True`` computes without
    touching ``.grad`` or calling hooks, and puts every node's gradient slot back as it was
    when it ends (used to draw frames): the graph is left exactly as it was.
    """
    waiting = _Waiting()
    previous = [] if dry else None
    order = topological_order(root, waiting, previous)
    root._g = grad
    run = Run(root, grad, order) if steps else None
    arrivals = {} if steps else None
    anomaly = _anomaly.enabled
    try:
        for node in order:
            total = node._g
            if total is waiting:  # no gradient reached it (its consumers sent None)
                node._g = None
                continue
            if steps:
                received = arrivals.pop(node, ())
                if len(received) > 1:
                    yield Step("copy", node, (node,), tuple(received), (1.0,) * len(received), (total,), COPY, run)
            if not dry:
                total = node._receive(total)
            gate = node._gate
            if gate is None:
                continue
            inputs = node._inputs
            downstream = gate.backward(node, total)
            if anomaly:
                _anomaly.check_backward(node, gate, downstream)
            if steps:
                yield Step(gate.name, node, inputs, total, tuple(gate.local(node)), tuple(downstream), gate, run)
            for parent, g in zip(inputs, downstream):
                if g is not None:
                    if steps:
                        arrivals.setdefault(parent, []).append(g)
                    pending = parent._g
                    parent._g = g if pending is waiting else pending + g
            if not retain:
                gate.release()
                node._g = None
    finally:
        for node, g in previous or ():  # a dry run leaves the graph as it found it
            node._g = g


def run_backward(root, grad, *, retain=True, breakpoint=None):
    """Run the loop to the end; with ``breakpoint``, stop in the debugger where it returns true."""
    if breakpoint is None:
        for _ in backprop(root, grad, retain=retain):
            pass
        return
    import builtins

    for step in backprop(root, grad, steps=True, retain=retain):  # noqa: B007 -- `step` is for the debugger
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


# --- grad mode and anomaly mode: process-wide switches read by the gates ---------------------


class _GradMode:
    enabled = True


grad_mode = _GradMode()


class no_grad:
    """Context manager (and decorator) in which operations build no graph, as ``torch.no_grad``."""

    def __enter__(self):
        self._prev = grad_mode.enabled
        grad_mode.enabled = False
        return self

    def __exit__(self, *exc):
        grad_mode.enabled = self._prev
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with no_grad():
                return fn(*args, **kwargs)

        return wrapper


class enable_grad(no_grad):
    """Context manager that switches graph building back on inside a ``no_grad`` block."""

    def __enter__(self):
        self._prev = grad_mode.enabled
        grad_mode.enabled = True
        return self


def is_grad_enabled():
    return grad_mode.enabled


class _Scope:
    """Where new nodes are being made: the path of the Module whose forward is running."""

    module = None


scope = _Scope()


def current_module():
    return scope.module


class _Anomaly:
    """Anomaly mode's switch; ``minigrad.debug`` installs the checks when it is on."""

    enabled = False

    @staticmethod
    def check_forward(node, gate):
        pass

    @staticmethod
    def check_backward(node, gate, downstream):
        pass


_anomaly = _Anomaly()
