"""What a drawing knows: which nodes and edges a graph has, and where their gradients come from.

* no frame (before backward): the forward pass only, no misleading zero gradients;
* :class:`StateFrame`: what the last backward left on the graph;
* :class:`StepFrame`: the moment just after one Step of backprop -- only the gradients known by then.
"""
from __future__ import annotations

from ..core import engine


# --- which nodes and edges ---------------------------------------------------------------------


def collect(root):
    """Every node that ``root`` depends on, oldest first, and each node's consumer edges.

    Iterative (no recursion); ``consumers[node]`` lists ``(consumer, input_index)``.
    """
    seen = {root}
    stack = [root]
    consumers = {root: []}
    while stack:
        node = stack.pop()
        for i, parent in enumerate(node._inputs):
            if parent not in seen:
                seen.add(parent)
                consumers[parent] = []
                stack.append(parent)
            consumers[parent].append((node, i))
    nodes = sorted(seen, key=lambda n: n._id)
    return nodes, consumers


# --- frames: where the gradients come from -----------------------------------------------------


class StateFrame:
    """The gradients the last backward left on the graph (``.grad``, and ``_g`` where retained)."""

    current = None

    def __init__(self):
        self._edges = {}

    def grad(self, node):
        if not engine.has_gradient(node):
            return None
        grad = getattr(node, "grad", None)
        if node._gate is not None or grad is None:
            return node._g if is_tensor(node) else grad
        return grad

    def edge(self, node, i):
        """(upstream, local, downstream) on the edge into input ``i`` of ``node``'s gate, or None."""
        if node not in self._edges:
            self._edges[node] = None
            if engine.has_gradient(node) and node._gate is not None:
                try:
                    gate = node._gate
                    self._edges[node] = (node._g, tuple(gate.local(node)), tuple(gate.backward(node, node._g)))
                except Exception:  # a freed tensor graph: its gradients are gone, draw none
                    pass
        found = self._edges[node]
        if found is None:
            return None
        upstream, local, downstream = found
        return upstream, local[i], downstream[i]


class StepFrame:
    """The graph just after ``steps[-1]``: gradients known by then, that step's gate highlighted."""

    def __init__(self, steps, run):
        self.current = steps[-1] if steps else None
        self._edges = {}
        self._delivered = {}
        for step in steps:
            if step.gate == "copy":
                continue
            for i, (parent, g) in enumerate(zip(step.inputs, step.downstream)):
                self._edges[(step.output, i)] = (step.upstream, step.local[i], g)
                if g is not None:
                    self._delivered.setdefault(parent, []).append(g)
        self._root, self._seed = run.root, run.seed
        self._expected = None

    def expect(self, consumers):
        """Learn how many gradient-carrying edges each node has (from the drawing's edge list)."""
        self._expected = {
            node: sum(1 for consumer, i in edges if node.requires_grad and consumer._gate is not None)
            for node, edges in consumers.items()
        }

    def grad(self, node):
        if node is self._root:
            return self._seed
        received = self._delivered.get(node)
        if not received or len(received) < self._expected.get(node, 0):
            return None
        total = received[0]
        for g in received[1:]:
            total = total + g
        return total

    def edge(self, node, i):
        return self._edges.get((node, i))


def frame_for(root, step):
    """The frame to draw: None before any backward, the state after one, or the frame of a step."""
    if step is None:
        return StateFrame() if engine.has_gradient(root) else None
    if isinstance(step, engine.Step):
        return StepFrame(step._run.steps[: step.index + 1], step._run)
    if not isinstance(step, int):
        raise TypeError(f"draw: step must be an int (a step number) or a Step, got {type(step).__name__}")
    steps = list(engine.backprop(root, seed(root), steps=True, dry=True))
    if not -len(steps) <= step < len(steps):
        raise IndexError(
            f"draw: step {step} is out of range: this graph's backprop has {len(steps)} steps "
            f"(0 to {len(steps) - 1})"
        )
    index = step % len(steps)
    return StepFrame(steps[: index + 1], steps[0]._run)


def seed(root):
    """The gradient backprop starts from: 1 for a scalar root."""
    if is_tensor(root):
        return root._seed_grad(None)
    return 1.0


def is_tensor(node):
    return hasattr(node, "shape")
