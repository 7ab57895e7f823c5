"""A Step: one gate's work during backprop, as the debugger, the drawings and the pages see it."""
from __future__ import annotations

from .text import describe_step


# --- steps ---------------------------------------------------------------------------------------------


class Step:
    """One gate's work during backprop: ``downstream = local x upstream``.

    ``gate`` is the gate's name ("add", "mul", "copy", "hook", ...); ``kind`` is "gate", "copy" (a
    node used by several gates: the sum of what its consumers sent) or "hook" (a hook replaced the
    gradient: ``upstream`` in, the hook's result out). ``output`` is the node whose gradient is being
    pushed back; ``inputs`` the nodes that receive it; ``upstream`` the gradient arriving (for a copy
    step, the tuple of gradients from each consumer); ``local`` and ``downstream`` have one entry per input.
    ``gate_object`` is the gate itself (its rules, its symbol).
    """

    __slots__ = ("gate", "kind", "output", "inputs", "upstream", "local", "downstream", "index", "gate_object", "_run")

    def __init__(self, kind, gate_object, output, inputs, upstream, local, downstream, run):
        self.kind = kind
        self.gate = gate_object.name
        self.gate_object = gate_object
        self.output = output
        self.inputs = inputs
        self.upstream = upstream
        self.local = local
        self.downstream = downstream
        self._run = run
        self.index = len(run.steps)
        run.steps.append(self)

    @property
    def formula(self):
        """The gate's local-gradient rules in words, as the drawings print them."""
        return self.gate_object.formula

    @property
    def root(self):
        """The node backprop started from."""
        return self._run.root

    def __str__(self):
        return describe_step(self)

    def __repr__(self):
        return f"<Step {self.index}: {self}>"

    def draw(self, **kwargs):
        """Shortcut for ``minigrad.draw(step)``: the graph at this step, this gate highlighted.
        (The drawing package is loaded on first use; the engine itself never imports it.)"""
        import minigrad

        return minigrad.draw(self, **kwargs)


class _Marker:
    """The pseudo-gates of the two steps that are not a gate's: fan-out (copy) and a hook."""

    __slots__ = ("name", "symbol", "pattern", "formula")

    def __init__(self, name, formula, pattern=""):
        self.name = self.symbol = name
        self.pattern, self.formula = pattern, formula


COPY = _Marker("copy", "dL/dx = the sum of the gradients from every consumer", "gradient adder")
HOOK = _Marker("hook", "a hook registered on this tensor replaced its gradient")


class Run:
    """One backprop pass (or its replay from records): where it started and the Steps it has produced so far."""

    __slots__ = ("root", "seed", "steps")

    def __init__(self, root, seed):
        self.root, self.seed = root, seed
        self.steps = []
