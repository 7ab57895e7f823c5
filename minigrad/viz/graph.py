"""Drawing a graph with graphviz: values and gradients on the nodes, the lectures'
"[downstream] = [local] × [upstream]" on the edges, fan-out as a copy gate.

What the drawing shows about gradients comes from a *frame*:

* no frame (before backward): the forward pass only, no misleading zero gradients;
* :class:`StateFrame`: what the last backward left on the graph;
* :class:`StepFrame`: the moment just after one Step of backprop -- that gate highlighted,
  only the gradients known by then.
"""
from __future__ import annotations

from html import escape

from .. import engine
from .render import Diagram
from .text import MAX_SHOWN, fmt_value

DATA_COLOR = "darkgreen"
GRAD_COLOR = "red3"
GATE_FILL = "lightyellow"
CURRENT_FILL = "orange"
CURRENT_EDGE = "darkorange"
DIGITS = 4
LEGEND = "edge labels: downstream = local × upstream     values in green, gradients in red"


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
            return node._g if _is_tensor(node) else grad
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
    steps = list(engine.backprop(root, _seed(root), steps=True, dry=True))
    if not -len(steps) <= step < len(steps):
        raise IndexError(
            f"draw: step {step} is out of range: this graph's backprop has {len(steps)} steps "
            f"(0 to {len(steps) - 1})"
        )
    index = step % len(steps)
    return StepFrame(steps[: index + 1], steps[0]._run)


def _seed(root):
    """The gradient backprop starts from: 1 for a scalar root."""
    if _is_tensor(root):
        return root._seed_grad(None)
    return 1.0


def _is_tensor(node):
    return hasattr(node, "shape")


# --- the drawing -------------------------------------------------------------------------------


def draw(root, step=None, *, rankdir="LR"):
    """Draw the graph that computes ``root``; returns a ``graphviz.Digraph`` (a :class:`Diagram`).

    Value nodes show label, data and (after backward) grad; gate nodes show the gate; after
    backward every edge into a gate reads ``downstream = local × upstream``. A value used by
    several gates is drawn through a copy gate whose edge shows the sum. ``step`` (a number,
    or a Step from ``backward_steps()``) draws the moment just after that step: its gate
    highlighted, only the gradients known by then.
    """
    _check_node(root)
    frame = frame_for(root, step)
    nodes, consumers = collect(root)
    if isinstance(frame, StepFrame):
        frame.expect(consumers)
    current = frame.current if frame is not None else None

    dot = Diagram(name="minigrad", graph_attr={
        "rankdir": rankdir, "nodesep": "0.25", "ranksep": "0.45", "fontname": "Helvetica",
        "fontsize": "11", "label": LEGEND if frame is not None else "forward pass", "labelloc": "t",
    })
    dot.attr("node", fontname="Helvetica", fontsize="11")
    dot.attr("edge", fontname="Helvetica", fontsize="10", arrowsize="0.7")

    for node in nodes:
        grad = frame.grad(node) if frame is not None else None
        dot.node(f"v{node._id}", _value_label(node, grad), shape="plaintext", margin="0")
        if node._gate is not None:
            is_current = current is not None and current.gate != "copy" and current.output is node
            dot.node(f"g{node._id}", escape(str(node._gate.symbol)), tooltip=escape(node._gate.formula),
                     shape="circle", style="filled",
                     fillcolor=CURRENT_FILL if is_current else GATE_FILL, width="0.4", margin="0.02")
            dot.edge(f"g{node._id}", f"v{node._id}")
        fanout = consumers[node]
        if len(fanout) > 1:
            is_current = current is not None and current.gate == "copy" and current.output is node
            dot.node(f"c{node._id}", "copy", shape="circle", style="filled",
                     fillcolor=CURRENT_FILL if is_current else GATE_FILL, width="0.4", margin="0.02", fontsize="9")
            known = frame.grad(node) if frame is not None else None
            parts = [frame.edge(c, i) for c, i in fanout] if frame is not None else []
            label = ""
            if known is not None and all(p is not None for p in parts):
                show = _grad_text if _is_tensor(node) else _fmt
                label = _grad_label(f"{show(known)} = " + " + ".join(show(p[2]) for p in parts))
            dot.edge(f"v{node._id}", f"c{node._id}", label=label, **_edge_style(is_current))

    for node in nodes:
        if node._gate is None:
            continue
        is_current = current is not None and current.gate != "copy" and current.output is node
        for i, parent in enumerate(node._inputs):
            source = f"c{parent._id}" if len(consumers[parent]) > 1 else f"v{parent._id}"
            found = frame.edge(node, i) if frame is not None else None
            label = ""
            if found is not None and found[2] is not None:
                label = _grad_label(_edge_text(node, *found))
            dot.edge(source, f"g{node._id}", label=label, **_edge_style(is_current))
    return dot


def draw_step(step, **kwargs):
    """``Step.draw()``: the graph at this step of its backprop."""
    return draw(step._run.root, step=step, **kwargs)


def _fmt(value):
    return fmt_value(value, DIGITS)


def _edge_style(is_current):
    return {"color": CURRENT_EDGE, "penwidth": "2.2"} if is_current else {}


def _grad_label(text):
    return f'<<font color="{GRAD_COLOR}">{escape(text)}</font>>'


def _edge_text(node, upstream, local, downstream):
    """``downstream = local × upstream``; for tensors the rule and the gradients' norms (values when small)."""
    if not _is_tensor(node):
        return f"{_fmt(downstream)} = {_fmt(local)} × {_fmt(upstream)}"
    if isinstance(local, str):
        return f"{_grad_text(downstream)} = {local}  (upstream {_grad_text(upstream)})"
    return f"{_grad_text(downstream)} = {_local_text(local)} ⊙ {_grad_text(upstream)}"


def _local_text(local):
    """A tensor gate's local gradient: its values when small, else its shape."""
    shape = getattr(local, "shape", ())
    if len(shape) == 0 or local.size <= MAX_SHOWN:
        return _fmt(local)
    return f"local{tuple(shape)}"


def _grad_text(g):
    import numpy as np

    g = np.asarray(g)
    if g.size <= MAX_SHOWN:
        return _fmt(g if g.ndim else float(g))
    return f"‖{fmt_value(float(np.linalg.norm(g.astype(np.float64))), DIGITS)}‖"


def _value_label(node, grad):
    cells = []
    if node.label:
        cells.append(f"<b>{escape(node.label)}</b>")
    if _is_tensor(node):
        cells.append(escape(f"{tuple(node.shape)} {node.dtype}"))
        if node.numel() <= MAX_SHOWN:
            cells.append(f'<font color="{DATA_COLOR}">{escape(_fmt(node.data if node.ndim else float(node.data)))}</font>')
        if grad is not None:
            cells.append(f'<font color="{GRAD_COLOR}">grad {escape(_grad_text(grad))}</font>')
    else:
        cells.append(f'<font color="{DATA_COLOR}">{escape(_fmt(node.data))}</font>')
        if grad is not None:
            cells.append(f'<font color="{GRAD_COLOR}">grad {escape(_fmt(grad))}</font>')
    row = "".join(f"<td>{c}</td>" for c in cells)
    return f'<<table border="0" cellborder="1" cellspacing="0" cellpadding="4"><tr>{row}</tr></table>>'


def _check_node(root):
    if not hasattr(root, "_inputs"):
        raise TypeError(
            f"draw: expected a minigrad Value or Tensor (the output of a computation), got {type(root).__name__}"
        )
