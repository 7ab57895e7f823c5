"""Drawing a graph with graphviz: values and gradients on the nodes, the lectures'
"[downstream] = [local] × [upstream]" on the edges, fan-out as a copy gate, modules as clusters.

What the drawing shows about gradients comes from a *frame* (``viz/frames.py``): none before
backward, what the last backward recorded, or the moment just after one Step (that gate
highlighted). Which nodes are drawn, boxed, folded or left out is the layout's business
(``viz/clusters.py``); the words on nodes and edges are ``viz/labels.py``'s.

Two looks, one for each kind of graph:

* **scalar graphs** (the lectures' Values) read left to right as on the slides: a value box
  ``[label | value | grad]``, the gate in a circle, the rule on the edge;
* **tensor graphs** read top to bottom: each node is one box -- the gate's symbol, then the name
  (a parameter's name, or the gate that made it), shape and dtype, the norm of its value and of its
  gradient -- and each edge's ``downstream = local × upstream`` is a small label node on the edge,
  inside the cluster of the gate it feeds, so it never sits on a cluster's border.

(A little over 400 lines: one drawing's placing of nodes, edges, boxes and titles, which share the
layout's decisions; the words are in ``labels.py``, the choices of what to show in ``clusters.py``.)
"""
from __future__ import annotations

import re

import numpy as np

from ..core import records
from ..core.step import Step
from .clusters import Layout, check_within, cluster_tree, parent_path
from .frames import NO_GRADIENTS, EdgeFrame, StepFrame, collect, frame_for, is_tensor, missing
from .grad_scale import grad_color
from .labels import (LEGEND, LEGEND_BOTH, LEGEND_BOXES, NORMS_ONLY, attribute, box_label, check_text, cluster_label,
                     context_label, edge_text, fmt, grad_label, grad_text, html, saved_text, sum_text, title_label,
                     tooltip, value_label)
from .render import Diagram

GATE_FILL = "lightyellow"
CURRENT_FILL = "orange"
CURRENT_EDGE = "darkorange"
RANKDIRS = ("TB", "LR", "BT", "RL")


# --- the drawing -------------------------------------------------------------------------------


def draw(root, step=None, *, depth=None, within=None, fold=True, rankdir=None, grad_colors=False, show_saved=False,
         max_nodes=500):
    """Draw the graph that computes ``root``; returns a ``graphviz.Digraph`` (a :class:`Diagram`).

    Before backward it shows the forward pass; after, every node its gradient and every edge into a
    gate ``downstream = local × upstream`` -- exactly what backward sent (its records: the arrays after
    ``backward(retain_graph=True)``, their shapes and norms after a plain ``backward()``), hooks
    included. A value used by several gates is drawn through a copy gate whose edge shows the sum its
    consumers sent (before any hook on the value; a sum of larger gradients by its shape and norm).
    ``step`` (a number, or a Step) draws the moment just after that step: its gate highlighted, only
    the gradients sent by then; ``draw(step)`` is the same as ``draw(step.root, step=step)``.

    Nodes made inside a Module's forward are drawn in nested clusters, one per module, titled by
    what the module is; ``depth=1`` collapses each top-level module into one box (``depth=2`` the
    next level, ..., ``depth=0`` the whole model), keeping the edges between boxes with the
    gradients that cross them; with ``fold`` (the default), consecutive identical sibling boxes
    draw as one (``layer1.0–1: 2 × BasicBlock``). ``rankdir`` is graphviz's direction: "TB"
    (top to bottom, the default for tensor graphs), "LR" (the default for scalar graphs), "BT" or
    "RL". ``within`` (a module path such as ``"layer1.0"``; ``""`` for the top level) draws one
    module's inside instead: the gates its own forward made, its children as boxes, and the outside
    nodes that feed it or use its output, dashed. Past ``max_nodes`` nodes, or about 1,200 × 4,000 pt
    (``viz/budget.py``: across and along its direction), the drawing collapses or cuts on its own and says
    so in its title, wrapped to the drawing's width; ``max_nodes=None`` draws everything. ``grad_colors`` colours nodes and edges by gradient size on a log
    scale (vanishing, healthy, exploding); ``show_saved`` lists the arrays each gate saved.
    """
    if isinstance(root, Step):  # draw(step): the graph at that step of its backprop
        root, step = root.root, root if step is None else step
    _check_node(root)
    return _draw(root, frame_for(root, step), depth, fold, rankdir, grad_colors, show_saved, max_nodes, within,
                 why=missing)


def draw_forward(root, *, depth=None, fold=True, rankdir=None, grad_colors=False, show_saved=False, max_nodes=500):
    """The forward pass alone (values, no gradients), whatever backward has recorded: the stepper's first frame."""
    _check_node(root)
    return _draw(root, None, depth, fold, rankdir, grad_colors, show_saved, max_nodes)


def draw_view(root, within, *, fold=True, collected=None):
    """One view of the explorer (``viz/explorer.py``): the inside of module ``within`` as it was before
    backward (values, no gradients on the nodes), each edge labelled with the gradient backward sent
    along it (shape and norm), no title. The Diagram's ``elements`` map each SVG id to what it shows
    and ``placed`` each node to the id of the element it is drawn in (its box, for a boxed node)."""
    frame = EdgeFrame(root) if records.last_pass(root) is not None else None
    return _draw(root, frame, None, fold, None, False, False, None, within, view=True, collected=collected)


def _draw(root, frame, depth, fold, rankdir, grad_colors, show_saved, max_nodes, within=None, view=False,
          collected=None, why=None):
    _check_options(depth, fold, rankdir, max_nodes)
    nodes, consumers = collected or collect(root)
    if isinstance(frame, StepFrame):
        frame.expect(consumers)
    check_within(within, nodes)
    layout = Layout(root, nodes, consumers, depth, fold, max_nodes, within, rankdir)
    rankdir = rankdir or ("TB" if is_tensor(root) else "LR")
    blank = why(nodes) if why is not None and frame is None else NO_GRADIENTS
    return _Drawing(root, frame, nodes, consumers, layout, grad_colors, show_saved, rankdir, view, blank).dot


class _Drawing:
    """Builds one Diagram from the layout: nodes in their clusters, boxes, edges, legends."""

    def __init__(self, root, frame, nodes, consumers, layout, grad_colors, show_saved, rankdir, view=False,
                 blank=NO_GRADIENTS):
        self.frame, self.layout, self.consumers = frame, layout, consumers
        self.blank = blank  # what the title says when there are no gradients to show
        self.grad_colors, self.show_saved, self.view = grad_colors, show_saved, view
        self.tensors = is_tensor(root)
        self.current = frame.current if frame is not None else None
        self.dot = Diagram(name="minigrad", graph_attr={
            "rankdir": rankdir, "nodesep": "0.18", "ranksep": "0.22" if self.tensors else "0.3",
            "fontname": "Helvetica", "fontsize": "11", "compound": "true", "newrank": "true",
        })
        self.dot.attr("node", fontname="Helvetica", fontsize="10" if self.tensors else "11")
        self.dot.attr("edge", fontname="Helvetica", fontsize="10", arrowsize="0.6")
        self.clusters = {}  # module path (None: top level) -> [(name, label, attrs)] of its nodes
        self.box_gates = {}  # collapsed box -> how many gates it hides
        self.box_ids = {}  # collapsed box -> its graphviz node name (and SVG id): m_layer1.0, m_layer1.0..1
        self.crossings = {}  # (source, target) between boxes -> the gradients that cross
        self.dot.elements = {}  # SVG id -> (kind, what): ("node", node), ("box", box), ("edge", [(node, i), ...]), ...
        self.dot.placed = {}  # node -> the SVG id of what it is drawn in
        self.links = []  # (source, target) of every edge drawn, by graphviz node name
        self.rules = False  # whether some edge reads downstream = local × upstream (not only boxes' gradients)
        shown = [n for n in nodes if n not in layout.hidden]
        for node in shown:
            self._node(node)
        for node in shown:
            self._edges(node)
        self._emit()
        if layout.hidden and layout.within is None:
            count = len(layout.hidden)
            self.dot.node("hidden", f"… {count:,} earlier nodes not drawn", shape="note", style="dashed")
        if not view:  # the title, last: its legend says what the edges drawn read
            self.dot.graph_attr.update(label=self._title(frame, layout), labelloc="t")

    def _title(self, frame, layout):
        """The legend of the words (and, with grad_colors, of the colours), and what the layout did."""
        if frame is None:
            return title_label([self.blank, layout.note], layout.width())
        boxes = any(g is not None for crossing in self.crossings.values() for g, _ in crossing)
        legend = LEGEND_BOXES if boxes and not self.rules else LEGEND_BOTH if boxes else LEGEND
        return title_label([legend, NORMS_ONLY if frame.summaries else "", layout.note], layout.width(),
                           colors=self.grad_colors)

    # -- nodes --

    def _cluster_of(self, node):
        return self.layout.owners.get(node)

    def _place(self, path, name, label, **attrs):
        if self.layout.within is not None:
            path = None  # one module's inside: its own title is the page's, no clusters around it
        self.clusters.setdefault(path, []).append((name, label, dict(attrs, id=name)))

    def _is_current(self, node, kind):
        current = self.current
        return current is not None and current.kind == kind and current.output is node

    def _node(self, node):
        frame, layout = self.frame, self.layout
        box = layout.box(node)
        if box is not None:
            self.box_gates[box] = self.box_gates.get(box, 0) + (node._gate is not None)
            self.dot.placed[node] = self._box_id(box)
            return
        path = self._cluster_of(node)
        self.dot.placed[node] = f"v{node._id}"
        if node in layout.context:
            feeds = any(layout.inside(c) for c, _ in self.consumers[node])
            self.dot.elements[f"v{node._id}"] = ("context", node)
            self._place(None, f"v{node._id}", context_label(node, feeds, layout.owners.get(node)), shape="box",
                        style="rounded,dashed", color="gray55", fontcolor="gray30", margin="0.06,0.03",
                        tooltip=attribute(tooltip(node, None, values=not self.view)))
            return
        self.dot.elements[f"v{node._id}"] = ("node", node)
        grad = frame.grad(node) if frame is not None else None
        color = self._grad_color(grad)
        hooked = frame.hook(node) if frame is not None else None
        held = frame.accumulated(node) if frame is not None else None
        gate = node._gate
        tip = attribute(tooltip(node, grad, held, values=not self.view))  # a page's view shows values in its panel
        if self.tensors:
            cell = None
            if gate is not None:
                symbol = gate.symbol if not self.show_saved else f"{gate.symbol}\n{saved_text(gate)}"
                cell = (symbol, CURRENT_FILL if self._is_current(node, "gate") else GATE_FILL)
            self._place(path, f"v{node._id}", value_label(node, grad, color, hooked, cell, held), tooltip=tip,
                        shape="plaintext", margin="0", width="0", height="0")
        else:
            self._place(path, f"v{node._id}", value_label(node, grad, color, hooked, held=held), tooltip=tip,
                        shape="plaintext", margin="0", width="0", height="0")
            if gate is not None:
                label = html(str(gate.symbol))
                if self.show_saved:
                    label = f"{label}<br/>{html(saved_text(gate))}"
                self._place(path, f"g{node._id}", f"<{label}>", tooltip=attribute(gate.formula),
                            shape="circle" if not self.show_saved else "ellipse", style="filled",
                            fillcolor=CURRENT_FILL if self._is_current(node, "gate") else GATE_FILL,
                            width="0.3", height="0.3", margin="0.02")
                self._link(f"g{node._id}", f"v{node._id}", id=f"o{node._id}")
        fanout = [(c, i) for c, i in self.consumers[node] if c not in layout.hidden]
        if self._fans_out(node):
            self.dot.elements[f"c{node._id}"] = ("copy", node)
            current = self._is_current(node, "copy")
            self._place(path, f"c{node._id}", "copy", shape="circle", style="filled", fontsize="8",
                        fillcolor=CURRENT_FILL if current else GATE_FILL, width="0.3", height="0.3", margin="0.01",
                        tooltip="copy gate: a value used by several gates receives the sum of their gradients")
            known = (hooked[0] if hooked is not None else frame.grad(node)) if frame is not None else None
            parts = [frame.edge(c, i) for c, i in fanout] if frame is not None else []
            label = None
            if known is not None and all(p is not None and p[2] is not None for p in parts):
                label = sum_text(known, [p[2] for p in parts])
            self.dot.elements[f"f{node._id}"] = ("sum", node)
            self._edge(f"v{node._id}", f"c{node._id}", label, path, current, known, name=f"f{node._id}",
                       source_path=path)

    # -- edges --

    def _fans_out(self, node):
        """Whether the drawing shows ``node`` used by several gates (uses inside one collapsed box count once)."""
        if node in self.layout.context:
            return False  # outside the module drawn: its consumers there are reached from it directly
        uses = set()
        for consumer, i in self.consumers[node]:
            if consumer not in self.layout.hidden:
                box = self.layout.box(consumer)
                uses.add(box if box is not None else (consumer, i))
                if len(uses) > 1:
                    return True
        return False

    def _source(self, parent):
        if parent in self.layout.hidden:
            return "hidden"
        box = self.layout.box(parent)
        if box is not None:
            return self._box_id(box)
        return f"c{parent._id}" if self._fans_out(parent) else f"v{parent._id}"

    def _box_id(self, box):
        if box not in self.box_ids:  # the path, in characters no id or dot string treats specially
            name = "m_" + re.sub(r"[^A-Za-z0-9_.]", "_", box.replace("–", "..")) if box else "m_model"
            taken = set(self.box_ids.values())
            self.box_ids[box] = name if name not in taken else f"{name}_{len(taken)}"
        return self.box_ids[box]

    def _edges(self, node):
        if node._gate is None:
            return
        frame = self.frame
        box = self.layout.box(node)
        target = self._box_id(box) if box is not None else (f"v{node._id}" if self.tensors else f"g{node._id}")
        current = self._is_current(node, "gate")
        outside = node in self.layout.context
        for i, parent in enumerate(node._inputs):
            if outside and not self.layout.inside(parent):
                continue  # between two nodes outside the module drawn
            source = self._source(parent)
            if source == target:
                continue  # an edge inside a collapsed box
            found = frame.edge(node, i) if frame is not None else None
            downstream = found[2] if found is not None else None
            if source == "hidden" or source.startswith("m") or box is not None:
                # between boxes: one edge per pair, labelled with the gradients that cross it
                self.crossings.setdefault((source, target), []).append((downstream, (node, i)))
                continue
            label = self._edge_words(node, i, found) if downstream is not None else None
            self.rules = self.rules or label is not None
            self.dot.elements[f"e{node._id}_{i}"] = ("edge", [(node, i)])
            # the data path (computed tensors) straight down; parameters and inputs join it from the side
            weight = "8" if parent._gate is not None else "1"
            self._edge(source, target, label, self._cluster_of(node), current, downstream, name=f"e{node._id}_{i}",
                       weight=weight, source_path=self._cluster_of(parent))

    def _edge_words(self, node, i, found):
        """An edge's label: the lectures' ``downstream = local × upstream``, or in a view the gradient alone."""
        if not self.view:
            return edge_text(node, i, *found)
        return grad_text(found[2], shape=True) if self.tensors else fmt(found[2])

    def _edge(self, source, target, label, path, current, grad, name=None, weight="1", source_path=False):
        """An edge with its label: on the edge, or -- for a tensor graph's edge into another cluster -- as a
        small node on the edge inside the target's cluster, so that no label sits on a cluster's border.
        ``name`` is its SVG id (a split edge's label node is ``name_l``, its first half ``name_a``)."""
        style = self._edge_style(current, grad)
        if weight != "1":
            style["weight"] = weight
        if name is not None:
            style["id"] = name
        if label is None:
            self._link(source, target, **style)
        elif not self.tensors or source_path == path or self.layout.within is not None:
            size = "9" if self.tensors else None
            self._link(source, target, label=grad_label(label, size=size), **style)
        else:
            name = name or f"l{source}_{target}"
            label_node = f"{name}_l" if "id" in style else name
            self._place(path, label_node, grad_label(label, size=9), shape="plaintext", margin="0.02", width="0",
                        height="0")
            self._link(source, label_node, arrowhead="none", **dict(style, id=f"{name}_a"))
            self._link(label_node, target, **style)

    def _link(self, source, target, **attrs):
        self.links.append((source, target))
        self.dot.edge(source, target, **attrs)

    # -- boxes and clusters --

    def _emit(self):
        layout = self.layout
        for (source, target), crossing in self.crossings.items():
            known = [g for g, _ in crossing if g is not None]
            label = None
            if known:
                texts = [grad_text(g, shape=True) if hasattr(g, "shape") else fmt(g) for g in known[:2]]
                label = ("" if self.view else "grad ") + ", ".join(texts) + (" …" if len(known) > 2 else "")
            target_path = self._path_of_box_id(target)
            self.dot.elements[f"x{source}_{target}"] = ("edge", [edge for _, edge in crossing])
            self._edge(source, target, label, target_path, False, known[0] if known else None,
                       name=f"x{source}_{target}")
        for box, gates in self.box_gates.items():
            info = layout.box_info(box)
            self.dot.elements[self._box_id(box)] = ("box", box)
            self._place(layout.box_parent(box), self._box_id(box), box_label(info, gates), shape="box",
                        style="rounded,filled", fillcolor="aliceblue", color="steelblue", margin="0.08,0.04",
                        tooltip=attribute(f"{info.title()}\n{info.params_text()}, {gates} gates"))
        graphs = {}
        paths = cluster_tree([p for p in self.clusters if p is not None])
        tops = self._tops(paths)
        title_of = {path: f"t{k}" for k, path in enumerate(paths)}
        for k, path in enumerate(paths):
            sub = Diagram(name=f"cluster_{k}", graph_attr={
                "label": "", "style": "rounded,dashed", "color": "gray55", "margin": "9"})
            # the title is a node on the right of the cluster's first nodes, never a graph label: graphviz
            # routes edges around nodes, but straight through a cluster's label; and on the right, where the
            # labels of edges from the parameters hang, it keeps them inside the cluster's box (graphviz
            # leaves edge labels out of it)
            sub.node(f"t{k}", cluster_label(layout.info(path)), shape="plaintext", fontcolor="gray25",
                     fontsize="10", margin="0", width="0", height="0", id=f"t{k}")
            for top in tops[path]:
                sub.edge(title_of.get(top, top), f"t{k}", style="invis", minlen="0")
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

    def _tops(self, paths):
        """For each cluster, its nodes (its subclusters' included) that no edge inside it leads to: where its
        title goes, beside them."""
        members = {path: set() for path in paths}
        for path, placed in self.clusters.items():
            while path is not None:
                members[path].update(name for name, _, _ in placed)
                path = parent_path(path)
        led_to = {path: set() for path in paths}
        for source, target in self.links:
            for path, inside in members.items():
                if source in inside and target in inside:
                    led_to[path].add(target)
        children = {path: [p for p in paths if parent_path(p) == path] for path in paths}
        tops = {}
        for path in paths:  # a top inside a subcluster: the subcluster's title stands for it
            found = set()
            for name in members[path] - led_to[path]:
                inner = [child for child in children[path] if name in members[child]]
                found.add(inner[0] if inner else name)
            tops[path] = sorted(found)
        return tops

    def _path_of_box_id(self, name):
        for box, box_id in self.box_ids.items():
            if box_id == name:
                return self.layout.box_parent(box)
        return None

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


def draw_step(step, **kwargs):
    """``Step.draw()``: the graph at this step of its backprop."""
    return draw(step.root, step=step, **kwargs)


def _check_options(depth, fold, rankdir, max_nodes):
    if depth is not None and (not isinstance(depth, (int, np.integer)) or isinstance(depth, bool) or depth < 0):
        raise ValueError(
            f"draw: depth must be None (every gate) or a whole number ≥ 0 (0: the whole model as one box, "
            f"1: one box per top-level module, ...), got {depth!r}"
        )
    if not isinstance(fold, bool):
        raise TypeError(f"draw: fold must be True or False, got {fold!r}")
    if rankdir is not None and rankdir not in RANKDIRS:
        raise ValueError(f"draw: rankdir must be one of {', '.join(map(repr, RANKDIRS))} (or None), got {rankdir!r}")
    if max_nodes is not None and (not isinstance(max_nodes, (int, np.integer)) or max_nodes < 2):
        raise ValueError(f"draw: max_nodes must be at least 2, got {max_nodes!r}")


def _check_node(root, who="draw"):
    if not hasattr(root, "_inputs"):
        raise TypeError(
            f"{who}: expected a minigrad Value or Tensor (the output of a computation), got {type(root).__name__}"
        )
    if root._gate is None and not root.requires_grad:
        raise ValueError(
            f"{who}: this tensor {tuple(root.shape)} has no graph to draw: it was computed under no_grad(), or from "
            f"tensors none of which has requires_grad=True; create the inputs with requires_grad=True"
        )
    check_text(getattr(root, "label", "") or "", "the label")
