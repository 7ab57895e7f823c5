"""Drawing a graph with graphviz: values and gradients on the nodes, the lectures'
"[downstream] = [local] × [upstream]" on the edges, fan-out as a copy gate.

What the drawing shows about gradients comes from a *frame* (``viz/frames.py``): none before
backward, the state the last backward left, or the moment just after one Step (that gate
highlighted). Which nodes are drawn, boxed or left out is the layout's business (``viz/clusters.py``).
"""
from __future__ import annotations

from html import escape

from ..core.step import Step
from ..core.text import fmt_value
from .clusters import Layout, cluster_tree
from .frames import StepFrame, collect, frame_for, is_summary, is_tensor
from .render import Diagram

DATA_COLOR = "darkgreen"
GRAD_COLOR = "red3"
HOOK_COLOR = "purple"
GATE_FILL = "lightyellow"
CURRENT_FILL = "orange"
CURRENT_EDGE = "darkorange"
DIGITS = 4
SHOWN = 16
"""Tensors with at most this many elements show their values in a drawing (a matrix row by row); larger ones a
norm (on a node, after the shape); a larger local gradient is written as its rule."""
WIDTH = 48
"""An edge label "downstream = rule  (upstream ...)" longer than this many characters breaks before the upstream."""
LEGEND = "edge labels: downstream = local × upstream     values in green, gradients in red"
NO_GRADIENTS = "forward pass: no gradients yet (call backward() to see the gradient flow)"
NORMS_ONLY = ("gradients as backward() recorded them: shapes and norms (their values were freed; "
              "backward(retain_graph=True) keeps them)")


# --- the drawing -------------------------------------------------------------------------------


def draw(root, step=None, *, depth=None, grad_colors=False, show_saved=False, max_nodes=500, rankdir="LR"):
    """Draw the graph that computes ``root``; returns a ``graphviz.Digraph`` (a :class:`Diagram`).

    Value nodes show label, data and (after backward) grad; gate nodes show the gate; after
    backward every edge into a gate reads ``downstream = local × upstream``. A value used by
    several gates is drawn through a copy gate whose edge shows the sum. ``step`` (a number,
    or a Step from ``backward_steps()``) draws the moment just after that step: its gate
    highlighted, only the gradients known by then.

    Nodes made inside a Module's forward are drawn in a cluster named by the module's path;
    ``depth=1`` collapses each top-level module into one box (``depth=2`` the next level, ...),
    keeping the edges between boxes with the norms of the gradients that cross them. Above
    ``max_nodes`` the drawing collapses on its own and says so in its title. ``grad_colors``
    colours edges and nodes by gradient size on a log scale (vanishing, healthy, exploding);
    ``show_saved`` lists the arrays each gate saved for backward.
    """
    if isinstance(root, Step):  # draw(step): the graph at that step of its backprop
        root, step = root.root, root if step is None else step
    _check_node(root)
    return _draw(root, frame_for(root, step), depth, grad_colors, show_saved, max_nodes, rankdir)


def draw_forward(root, *, depth=None, grad_colors=False, show_saved=False, max_nodes=500, rankdir="LR"):
    """The forward pass alone (values, no gradients), whatever backward has recorded: the stepper's first frame."""
    _check_node(root)
    return _draw(root, None, depth, grad_colors, show_saved, max_nodes, rankdir)


def _draw(root, frame, depth, grad_colors, show_saved, max_nodes, rankdir):
    if max_nodes < 2:
        raise ValueError(f"draw: max_nodes must be at least 2, got {max_nodes}")
    nodes, consumers = collect(root)
    if isinstance(frame, StepFrame):
        frame.expect(consumers)
    layout = Layout(root, nodes, depth, max_nodes)
    return _Drawing(root, frame, nodes, consumers, layout, grad_colors, show_saved, rankdir).dot


class _Drawing:
    """Builds one Diagram from the layout: nodes in their clusters, boxes, edges, legends."""

    def __init__(self, root, frame, nodes, consumers, layout, grad_colors, show_saved, rankdir):
        self.frame, self.layout, self.consumers = frame, layout, consumers
        self.grad_colors, self.show_saved = grad_colors, show_saved
        self.current = frame.current if frame is not None else None
        title = LEGEND if frame is not None else NO_GRADIENTS
        if frame is not None and frame.summaries:
            title = f"{LEGEND}\n{NORMS_ONLY}"
        if layout.note:
            title = f"{title}\n{layout.note}"
        self.dot = Diagram(name="minigrad", graph_attr={
            "rankdir": rankdir, "nodesep": "0.25", "ranksep": "0.45", "fontname": "Helvetica",
            "fontsize": "11", "label": title, "labelloc": "t", "compound": "true",
        })
        self.dot.attr("node", fontname="Helvetica", fontsize="11")
        self.dot.attr("edge", fontname="Helvetica", fontsize="10", arrowsize="0.7")
        self.clusters = {}  # module path (None: top level) -> [(name, label, attrs)] of its nodes
        self.box_gates = {}  # collapsed module path -> how many gates it hides
        self.crossings = {}  # (source, target) between boxes -> the gradients that cross
        shown = [n for n in nodes if n not in layout.hidden]
        for node in shown:
            self._node(node)
        for node in shown:
            self._edges(node)
        self._emit_clusters()
        if layout.hidden:
            count = len(layout.hidden)
            self.dot.node("hidden", f"... {count:,} earlier nodes not drawn", shape="note", style="dashed")
        if grad_colors and frame is not None:
            self._legend()

    # -- nodes --

    def _place(self, node, name, label, **attrs):
        path = None if self.layout.box(node) else self.layout.owners.get(node)
        self.clusters.setdefault(path, []).append((name, label, attrs))

    def _node(self, node):
        frame, current = self.frame, self.current
        box = self.layout.box(node)
        if box is not None:
            self.box_gates[box] = self.box_gates.get(box, 0) + (node._gate is not None)
            return
        grad = frame.grad(node) if frame is not None else None
        color = self._grad_color(grad)
        hooked = frame.hook(node) if frame is not None else None
        self._place(node, f"v{node._id}", _value_label(node, grad, color, hooked), shape="plaintext", margin="0")
        if node._gate is not None:
            gate = node._gate
            is_current = current is not None and current.kind == "gate" and current.output is node
            label = escape(str(gate.symbol))
            if self.show_saved:
                label = f"{label}\n{escape(_saved_text(gate))}"
            self._place(node, f"g{node._id}", label, tooltip=escape(gate.formula),
                        shape="circle" if not self.show_saved else "ellipse", style="filled",
                        fillcolor=CURRENT_FILL if is_current else GATE_FILL, width="0.4", margin="0.02")
            self.dot.edge(f"g{node._id}", f"v{node._id}")
        fanout = [(c, i) for c, i in self.consumers[node] if c not in self.layout.hidden]
        if len(fanout) > 1:
            is_current = current is not None and current.kind == "copy" and current.output is node
            self._place(node, f"c{node._id}", "copy", shape="circle", style="filled",
                        fillcolor=CURRENT_FILL if is_current else GATE_FILL, width="0.4", margin="0.02", fontsize="9")
            known = frame.grad(node) if frame is not None else None
            parts = [frame.edge(c, i) for c, i in fanout] if frame is not None else []
            label = ""
            if known is not None and all(p is not None for p in parts):
                show = _grad_text if is_tensor(node) else _fmt
                label = _grad_label(f"{show(known)} = " + " + ".join(show(p[2]) for p in parts))
            self.dot.edge(f"v{node._id}", f"c{node._id}", label=label, **self._edge_style(is_current, known))

    # -- edges --

    def _source(self, parent):
        if parent in self.layout.hidden:
            return "hidden"
        box = self.layout.box(parent)
        if box is not None:
            return f"m{box}"
        fanout = [c for c, _ in self.consumers[parent] if c not in self.layout.hidden]
        return f"c{parent._id}" if len(fanout) > 1 else f"v{parent._id}"

    def _edges(self, node):
        if node._gate is None:
            return
        frame, current = self.frame, self.current
        box = self.layout.box(node)
        target = f"m{box}" if box is not None else f"g{node._id}"
        is_current = current is not None and current.kind == "gate" and current.output is node
        for i, parent in enumerate(node._inputs):
            source = self._source(parent)
            if source == target:
                continue  # an edge inside a collapsed box
            found = frame.edge(node, i) if frame is not None else None
            downstream = found[2] if found is not None else None
            if source.startswith(("m", "hidden")) or box is not None:
                # between boxes: one edge per pair, labelled with the gradient norms that cross it
                self.crossings.setdefault((source, target), []).append(downstream)
                continue
            label = _grad_label(_edge_text(node, i, *found)) if downstream is not None else ""
            self.dot.edge(source, target, label=label, **self._edge_style(is_current, downstream))

    def _emit_clusters(self):
        for (source, target), grads in self.crossings.items():
            known = [g for g in grads if g is not None]
            label = ""
            if known:
                texts = [_grad_text(g) if hasattr(g, "shape") else _fmt(g) for g in known[:3]]
                label = _grad_label(", ".join(texts) + (" …" if len(known) > 3 else ""))
            self.dot.edge(source, target, label=label, **self._edge_style(False, known[0] if known else None))
        for box, gates in self.box_gates.items():
            self.clusters.setdefault(None, []).append(
                (f"m{box}", escape(f"{box}\n{gates} gate{'s' if gates != 1 else ''}"),
                 {"shape": "box3d", "style": "filled", "fillcolor": "aliceblue"}))
        graphs = {}
        for path in cluster_tree([p for p in self.clusters if p is not None]):
            sub = Diagram(name=f"cluster_{path}", graph_attr={
                "label": path, "style": "rounded,dashed", "color": "gray50", "fontcolor": "gray30"})
            for name, label, attrs in self.clusters.get(path, []):
                sub.node(name, label, **attrs)
            for child_path, child in list(graphs.items()):
                if child_path.rpartition(".")[0] == path:
                    sub.subgraph(child)
                    del graphs[child_path]
            graphs[path] = sub
        for name, label, attrs in self.clusters.get(None, []):
            self.dot.node(name, label, **attrs)
        for graph in graphs.values():
            self.dot.subgraph(graph)

    # -- colours --

    def _grad_color(self, grad):
        if not self.grad_colors or grad is None:
            return None
        return grad_color(grad)

    def _edge_style(self, is_current, grad):
        if is_current:
            return {"color": CURRENT_EDGE, "penwidth": "2.2"}
        color = self._grad_color(grad)
        return {"color": color, "penwidth": "1.6"} if color else {}

    def _legend(self):
        legend = Diagram(name="cluster_legend", graph_attr={"label": "gradient size (RMS, log scale)",
                                                            "style": "rounded", "color": "gray60"})
        previous = None
        for i, (upper, color, words) in enumerate(GRAD_BANDS):
            legend.node(f"legend{i}", words, shape="box", style="filled", fillcolor=color, fontcolor="white",
                        fontsize="9")
            if previous:
                legend.edge(previous, f"legend{i}", style="invis")
            previous = f"legend{i}"
        self.dot.subgraph(legend)


GRAD_BANDS = (
    (1e-5, "#3b4cc0", "vanishing  < 1e-5"),
    (1e-3, "#6f92f3", "small  1e-5 – 1e-3"),
    (1e1, "#2ca02c", "healthy  1e-3 – 10"),
    (1e2, "#e7745b", "large  10 – 100"),
    (float("inf"), "#b40426", "exploding  > 100"),
)


def grad_color(grad):
    """The colour of a gradient's size: its root-mean-square value placed in GRAD_BANDS (a log scale)."""
    import numpy as np

    if is_summary(grad):
        rms = grad.norm / np.sqrt(grad.size) if grad.size else 0.0
    else:
        g = np.asarray(grad, dtype=np.float64)
        rms = float(np.sqrt(np.mean(g * g))) if g.size else 0.0
    if not np.isfinite(rms):
        return GRAD_BANDS[-1][1]
    for upper, color, _ in GRAD_BANDS:
        if rms < upper:
            return color
    return GRAD_BANDS[-1][1]


def _saved_text(gate):
    saved = getattr(gate, "saved", None)
    if not saved:
        return "saved: nothing" if saved is not None else "saved: freed"
    shapes = [str(tuple(a.shape)) if hasattr(a, "shape") else type(a).__name__ for a in saved]
    return "saved: " + ", ".join(shapes)


def draw_step(step, **kwargs):
    """``Step.draw()``: the graph at this step of its backprop."""
    return draw(step._run.root, step=step, **kwargs)


def _fmt(value):
    return fmt_value(value, DIGITS)


def _grad_label(text):
    return f'<<font color="{GRAD_COLOR}">{_html(text)}</font>>'


def _edge_text(node, i, upstream, local, downstream):
    """``downstream = local × upstream`` on the edge into input ``i``; for tensors with the gradients' norms.

    The words come from the gate's rule for that input (``core/rules.py``). An elementwise rule's
    local gradient is written out when small (≤ SHOWN elements), else as its rule's text
    (``‖27.18‖ = eˣ ⊙ ‖10.0‖``); a rule that is not a product (matmul's, conv's) is written whole,
    with the upstream after it (on a line of its own if the rule is long).
    """
    if not is_tensor(node):
        return f"{_fmt(downstream)} = {_fmt(local)} × {_fmt(upstream)}"
    down, up = _grad_text(downstream), _grad_text(upstream)
    rule = node._gate.rule(i)
    if rule.elementwise:
        shape = getattr(local, "shape", None)
        if not isinstance(local, str) and (shape is None or len(shape) == 0 or local.size <= SHOWN):
            return f"{down} = {_rows(local)} ⊙ {up}"
        return f"{down} = {rule.rhs} ⊙ {up}"
    rhs = rule.rhs if rule.input is not None else rule.text
    line = f"{down} = {rhs}  (upstream {up})"
    if len(line.rpartition("\n")[2]) <= WIDTH:
        return line
    return f"{down} = {rhs}\n(upstream {up})"


def _rows(a):
    """A small array's values, a matrix one row per line; a 0-d array as a number."""
    import numpy as np

    a = np.asarray(a)
    if a.ndim == 0:
        return _fmt(float(a))
    if a.ndim == 2 and a.shape[0] > 1:
        return "\n".join(_fmt(row) for row in a)
    return _fmt(a)


# glyphs graphviz-pure's PNG fonts lack, and the plain forms a drawing uses instead
_PLAIN = str.maketrans({"⊙": "×", "⋆": "*", "⋯": "..."})


def _html(text):
    return escape(text.translate(_PLAIN)).replace("\n", "<br/>")


def _grad_text(g, shape=False):
    """A tensor gradient: its values when small, else its norm ``‖27.18‖`` (after its shape if ``shape``)."""
    import numpy as np

    if is_summary(g):  # freed after backward: the norm it had
        norm = f"‖{fmt_value(g.norm, DIGITS)}‖"
        return f"{tuple(g.shape)} {norm}" if shape else norm
    g = np.asarray(g)
    if g.size <= SHOWN:
        return _rows(g)
    norm = f"‖{fmt_value(float(np.linalg.norm(g.astype(np.float64))), DIGITS)}‖"
    return f"{tuple(g.shape)} {norm}" if shape else norm


def _value_label(node, grad, border=None, hooked=None):
    cells = []
    if node.label:
        cells.append(f"<b>{escape(node.label)}</b>")
    if is_tensor(node):
        cells.append(escape(f"{tuple(node.shape)} {node.dtype}"))
        if node.numel() <= SHOWN:
            cells.append(f'<font color="{DATA_COLOR}">{_html(_rows(node.data))}</font>')
        if hooked is not None:
            cells.append(f'<font color="{HOOK_COLOR}">hook: {_html(_grad_text(hooked[0]))} → {_html(_grad_text(hooked[1]))}</font>')
        if grad is not None:
            cells.append(f'<font color="{GRAD_COLOR}">grad {_html(_grad_text(grad, shape=True))}</font>')
    else:
        cells.append(f'<font color="{DATA_COLOR}">{escape(_fmt(node.data))}</font>')
        if grad is not None:
            cells.append(f'<font color="{GRAD_COLOR}">grad {escape(_fmt(grad))}</font>')
    row = "".join(f"<td>{c}</td>" for c in cells)
    color = f' color="{border}"' if border else ""
    return f'<<table border="0" cellborder="1" cellspacing="0" cellpadding="4"{color}><tr>{row}</tr></table>>'


def _check_node(root):
    if not hasattr(root, "_inputs"):
        raise TypeError(
            f"draw: expected a minigrad Value or Tensor (the output of a computation), got {type(root).__name__}"
        )
    if root._gate is None and not root.requires_grad:
        raise ValueError(
            f"draw: this tensor {tuple(root.shape)} has no graph to draw: it was computed under no_grad(), or from "
            f"tensors none of which has requires_grad=True; create the inputs with requires_grad=True"
        )
