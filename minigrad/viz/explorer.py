"""The explorer: one offline page to open a real model's modules, step through its backward, and look at it.

``explore(root, path=None)`` reads what the last backward that reached ``root`` recorded
(``core/records.py``: the gradient each gate sent on each edge, hooks included; nothing is computed
again) and writes one self-contained HTML page (or shows it inline in Jupyter):

* **a view per module**: the top level (one box per layer), and for every module its inside -- its own
  gates, its children as boxes (runs of identical ones folded in a view of many), the outside nodes that
  feed it or use its output -- drawn once each as ``draw_view`` (``viz/graph.py``) draws it, all laid out in
  one run of dot. Each view is given only the nodes it draws (found for every module in one pass over the
  graph), so building the views costs about the graph's size times its depth, not its size times the
  number of views;
* **the steps**: the Step stream of that backward, replayed from the records. In a view, consecutive
  steps inside one box make one step of that view (a module's whole backward), a gate of the module
  itself is one step, and the steps elsewhere are one step each run ("elsewhere");
* **the numbers**: every tensor once (its statistics, and what a picture needs: ``viz/pictures.py``)
  in one JSON blob; the page's script (``viz/page/explorer.js``) highlights, fills the side panel and
  draws the pictures from it. Sizes grow linearly with the graph: SVGs per module, not per step.

The page has no network access (a Content-Security-Policy as the stepper's) and works from ``file://``.

(Over 400 lines: the page's data is one model -- views, steps, names and the tensors' pictures refer to
each other by id -- built in one pass; its HTML, CSS and script are in ``page/``, its pictures in
``pictures.py``.)
"""
from __future__ import annotations

import json
import re
from html import escape
from importlib.resources import files
from pathlib import Path

from ..core import records
from ..core.files import atomic_write, require_folder
from . import render
from .clusters import Layout, ModuleInfo, _sibling_order, parent_path
from .frames import EdgeFrame, StateFrame, collect, is_summary, is_tensor
from .grad_scale import GRAD_BANDS, band
from .graph import _check_node, _draw
from .node_names import names
from .pictures import describe

MAX_NODES = 20_000
"""A graph with more nodes than this is refused: at the limit the page is about 105 MiB (each node's value
and gradient carry a picture), written in about 20 s (bench/README.md)."""
MAX_VIEW = 500
"""A module whose own forward made more nodes than this (or a graph without modules that big) is refused:
its view would be one drawing too long to lay out or to read."""
FOLD_OVER = 8
"""With ``fold="auto"`` a view folds identical neighbouring modules only when it has more children than this."""
CHAIN = 10
"""A view that is one chain of more than this many boxes and nodes (LeNet-5's top level: 14) is laid out in two
columns, read as text is (left to right, then the next row), so that it fits a laptop's screen at 100 %."""
NO_GRADIENTS = ("No gradients yet: this graph has not been backpropagated, so the page shows the forward pass. "
                "Call loss.backward() (backward(retain_graph=True) keeps every gradient's values for the "
                "pictures) and explore again.")
NORMS_ONLY = ("After a plain backward() the gradients inside the graph were freed as it went; backward kept "
              "their shapes, norms, minima and maxima (and the parameters' .grad). backward(retain_graph=True) "
              "keeps every value, for the pictures.")


def explore(root, path=None, *, title=None, fold="auto", max_nodes=MAX_NODES, max_view=MAX_VIEW):
    """An :class:`Explorer` of the graph that computes ``root`` (and, with ``path``, the page written there).

    The page opens at the model's top level; clicking a box opens that module, the breadcrumb goes back.
    Prev/Next, ←/→, Home/End and the slider step through the last backward (at a module level one step
    is a module's whole backward, inside a module one gate); the side panel reads each step as
    ``downstream = local × upstream`` with the gate's rule; clicking a node or an edge shows its values
    as a picture. ``fold=True`` folds identical neighbouring modules into one box (``layer1.0–1: 2 ×
    BasicBlock``), as ``draw`` does, ``False`` never; ``"auto"`` (the default) folds them in a view of
    more than 8 children only.

    Before any backward the page shows the forward pass and says how to get gradients. A graph of more
    than ``max_nodes`` nodes, or a module whose own forward made more than ``max_view`` nodes, is refused
    before anything is drawn. Raises ``DotNotFound`` when no ``dot`` program is installed.
    """
    if path is not None:
        _check_path(path)  # before any work: a bad path costs nothing
    explorer = Explorer(root, title=title, fold=fold, max_nodes=max_nodes, max_view=max_view)
    if path is not None:
        explorer.save(path)
    return explorer


class Explorer:
    """The page for one graph: ``.save(path)`` writes it (atomically), ``.html`` is its text, and in
    Jupyter it shows inline (an ``iframe`` with the page as its ``srcdoc``)."""

    def __init__(self, root, *, title=None, fold="auto", max_nodes=MAX_NODES, max_view=MAX_VIEW):
        _check_node(root, "explore")
        if fold not in (True, False, "auto"):
            raise ValueError(f"explore: fold must be True, False or 'auto', got {fold!r}")
        name = title or f"Backprop of {root.label or 'the graph'}"
        data, svgs = _Build(root, fold, max_nodes, max_view).page_parts(name)
        self.steps, self.views = len(data["steps"]), len(svgs)
        self.html = _page(name, data, svgs)

    def save(self, path):
        """Write the page to ``path`` (its folder must exist; a temporary file, then renamed); return the Path."""
        path = _check_path(path)
        with atomic_write(path, "explore", text=True) as f:
            f.write(self.html)
        return path

    def _repr_html_(self):
        return (f'<iframe srcdoc="{escape(self.html, quote=True)}" sandbox="allow-scripts" '
                'style="width: 100%; height: 760px; border: 1px solid #ccc" title="minigrad explorer"></iframe>')

    def __repr__(self):
        return f"<Explorer: {self.views} views, {self.steps} steps, {len(self.html.encode()) / 1024:,.0f} KiB>"


def _check_path(path):
    path = Path(path)
    require_folder(path, "explore")
    if path.is_dir():
        raise IsADirectoryError(f"explore: {str(path)!r} is a folder; give a file name such as "
                                f"{str(path / 'explorer.html')!r}")
    return path


class _Build:
    """Everything the page says, gathered once: the views' drawings, the steps, the nodes and the tensors."""

    def __init__(self, root, fold, max_nodes, max_view):
        self.root = root
        self.nodes, self.consumers = collect(root)
        if len(self.nodes) > max_nodes:
            raise ValueError(
                f"explore: this graph has {len(self.nodes):,} nodes, more than max_nodes={max_nodes:,}: the page "
                f"would be roughly {len(self.nodes) * 5.4 / 1024:,.0f} MiB. Explore a part of it (an intermediate "
                f"tensor as the root, a smaller model or input), or pass max_nodes={len(self.nodes)} if you really "
                f"want it")
        self.layout = Layout(root, self.nodes, self.consumers, None, False, None)
        self.children = {}  # module path ("" for the top level) -> how many child modules it has
        for path in self.layout.modules:
            self.children[parent_path(path) or ""] = self.children.get(parent_path(path) or "", 0) + 1
        self.fold, self.paths = fold, self._views(max_view)
        if render.find_dot() is None:
            raise render.DotNotFound(f"explore: cannot draw the views: no `dot` program found; {render.INSTALL_HINT}")
        self.recorded = records.last_pass(root) is not None
        self.steps = (records.replay(root) or []) if self.recorded else []
        self.frame = StateFrame(root) if self.recorded else None
        self.tensors, self._refs, self._keep = [], {}, []
        self._freed_grads = self._parameter_grads()
        self.names = names(self.nodes, self.layout.owners)
        self.changed = self._changed()

    def _views(self, max_view):
        """Every module with a node in the graph, and the top level; refuses a view too big to draw."""
        own = {}
        for node in self.nodes:
            own[self.layout.owners[node] or ""] = own.get(self.layout.owners[node] or "", 0) + 1
        path, count = max(own.items(), key=lambda item: item[1])
        if count > max_view:
            where = f"module {path!r}" if path else "the top level of the graph (made outside any module)"
            raise ValueError(
                f"explore: {where} has {count:,} nodes of its own, more than max_view={max_view:,}: the page draws "
                f"each module's inside as one picture. Make parts of the computation Modules (each gets its own "
                f"view), explore a subgraph (an intermediate tensor as the root), or pass max_view={count}")
        modules = sorted(self.layout.modules, key=lambda p: [_sibling_order(part) for part in p.split(".")])
        return [""] + modules

    def _folds(self, path):
        """Whether a view folds runs of identical children: with ``fold="auto"``, only a view of more than
        FOLD_OVER children (a view of two blocks folded into one box would hide what it is there to show)."""
        if self.fold != "auto":
            return self.fold
        return self.children.get(path, 0) > FOLD_OVER

    # -- tensors --

    def ref(self, a, filters=False):
        """The index of ``a`` in the page's tensor table (each array once), or None."""
        if a is None:
            return None
        a = self._freed_grads.get(id(a), a)
        key = id(a)
        if key not in self._refs:
            self._keep.append(a)  # ids stay unique while the page is built
            self._refs[key] = len(self.tensors)
            self.tensors.append(describe(a, filters))
        return self._refs[key]

    def _parameter_grads(self):
        """Freed gradients that a parameter's ``.grad`` holds in full: a parameter whose ``.grad`` has the
        recorded norm (it was zero before this backward) shows its values in the pictures -- as its own
        gradient, and as what its one edge carried when no hook changed it. A hook's result is what ``.grad``
        holds; the edge carried what the gate sent, before the hook (its hook step shows both)."""
        found = {}
        for node in self.nodes:
            grad = getattr(node, "grad", None)
            if node._gate is not None or grad is None or self.frame is None:
                continue
            rec = records.record_of(node, self.frame.mark)
            if rec is None or not is_summary(rec[records.GRAD]) or records.Summary(grad).norm != rec[records.GRAD].norm:
                continue
            found[id(rec[records.GRAD])] = grad
            sent = [c._rec[i] for c, i in self.consumers[node] if c._rec is not None and c._rec[i] is not None]
            if len(sent) == 1 and rec[records.BEFORE] is None:
                found[id(sent[0])] = grad
        return found

    def _changed(self):
        """The tensors changed in place since the forward pass (an optimizer's step after backward): node ->
        ``[version then, version now]``, from the versions the gates that used them noted. A leaf no such gate
        saw (a bias added by ``+``) but changed at some time (version > 0) is ``[None, now]`` when some other
        leaf did change -- the page shows the values as they are now, not necessarily what forward used."""
        changed, unsure, shared = {}, [], {}
        for node in self.nodes:
            if not is_tensor(node) or (node._gate is not None and not self.consumers[node]):
                continue
            then = [v for c, i in self.consumers[node] for k, v in (getattr(c._gate, "versions", None) or ()) if k == i]
            if then and min(then) != node._version:
                changed[node] = shared[id(node._vc)] = [min(then), node._version]
            elif not then and node._gate is None and node._version > 0:
                unsure.append(node)
        if not changed:
            return {}
        for node in unsure:  # a view's version counter is its base's: W changed when W.T did
            changed[node] = shared.get(id(node._vc), [None, node._version])
        return {node: changed[node] for node in self.nodes if node in changed}

    # -- the page's data --

    def _subgraphs(self):
        """What each view draws, as ``(nodes, consumers)`` among them: the whole graph for the top level; for
        a module, its inside (its own nodes and its descendants') and the outside nodes that feed it or use
        what it makes -- all that ``draw(within=...)`` draws of it. One pass over the graph finds every
        module's inside."""
        inside = {}
        for node in self.nodes:  # oldest first, and so is each module's list
            path = self.layout.owners[node]
            while path is not None:
                inside.setdefault(path, []).append(node)
                path = parent_path(path)
        parts = []
        for path in self.paths:
            if not path:
                parts.append((self.nodes, self.consumers))
                continue
            members = set(inside[path])
            near = {p for n in inside[path] for p in n._inputs if p not in members}
            near.update(c for n in inside[path] for c, _ in self.consumers[n] if c not in members)
            members |= near
            nodes = sorted(members, key=lambda n: n._id)
            parts.append((nodes, {n: [(c, i) for c, i in self.consumers[n] if c in members] for n in nodes}))
        return parts

    def page_parts(self, title):
        frame = EdgeFrame(self.root) if self.recorded else None  # one frame: each gate's local rule read once
        diagrams = [_draw(self.root, frame, depth=None, fold=self._folds(path), rankdir=None, grad_colors=False,
                          show_saved=False, max_nodes=None, within=path, view=True, collected=part)
                    for path, part in zip(self.paths, self._subgraphs())]
        for diagram in diagrams:
            _two_columns(diagram)
        svgs = [render.inline_svg(svg, f"v{k}-") for k, svg in enumerate(render.pipe_svgs(diagrams))]
        gate_step, ready, self.copy_step, self.steps_of = {}, {self.root: -1}, {}, {}
        for step in self.steps:
            self.steps_of.setdefault(step.output, []).append(step)
            if step.kind == "copy":
                self.copy_step[step.output] = step.index
            if step.kind == "gate":
                gate_step[step.output] = step.index
                for node, g in zip(step.inputs, step.downstream):
                    if g is not None:
                        ready[node] = max(ready.get(node, -1), step.index)
            else:
                ready[step.output] = max(ready.get(step.output, -1), step.index)
        self.gate_step, self.ready = gate_step, ready
        data = {
            "title": title, "root": self.root._id, "recorded": self.recorded,
            "note": " ".join(filter(None, [NO_GRADIENTS if not self.recorded else (
                NORMS_ONLY if self.frame.summaries else ""), self._changed_note()])),
            "bands": [[color, words] for _, color, words in GRAD_BANDS],
            "nodes": {str(n._id): self._node(n) for n in self.nodes},
            "steps": [self._step(s) for s in self.steps],
            "views": [self._view(path, d, k) for k, (path, d) in enumerate(zip(self.paths, diagrams))],
        }
        data["tensors"] = self.tensors
        return data, svgs

    def _node(self, node):
        filters = node._gate is None and is_tensor(node) and len(node.shape) == 4
        grad = self.frame.grad(node) if self.frame is not None else None
        hooked = self.frame.hook(node) if self.frame is not None else None
        gate = node._gate
        return {
            "name": self.names[node], "owner": self.layout.owners[node] or "",
            "shape": list(node.shape) if is_tensor(node) else None, "dtype": str(node.dtype) if is_tensor(node) else "",
            "gate": gate.name if gate is not None else None, "symbol": str(gate.symbol) if gate is not None else None,
            "formula": gate.formula if gate is not None else None,
            "rules": [gate.rule(i).text for i in range(len(node._inputs))] if gate is not None else [],
            "inputs": [p._id for p in node._inputs], "param": gate is None and node.requires_grad,
            "value": self.ref(node.data, filters), "grad": self.ref(grad, filters),
            "hook": [self.ref(h, filters) for h in hooked] if hooked else None,
            "ready": self.ready.get(node) if self.recorded else None, "step": self.gate_step.get(node),
            "changed": self.changed.get(node),
        }

    def _changed_note(self):
        sure = [n for n, (then, _) in self.changed.items() if then is not None]
        if not sure:
            return ""
        sure = [self.names[n] for n in sure if n._gate is None] or [self.names[n] for n in sure]
        some = ", ".join(sure[:4]) + (f" and {len(sure) - 4} more" if len(sure) > 4 else "")
        return (f"Changed in place since the forward pass (an optimizer step after backward?): {some}. The page shows "
                f"their values as they are now, not the ones the forward used; the gradients are backward's. Explore "
                f"before opt.step() to see the forward's values.")

    def _step(self, step):
        if step.kind == "copy":
            return {"k": "copy", "g": "copy", "n": step.output._id, "up": [self.ref(g) for g in step.upstream],
                    "ins": [[step.output._id, None, self.ref(step.downstream[0])]], "f": step.formula}
        if step.kind == "hook":
            return {"k": "hook", "g": "hook", "n": step.output._id, "up": self.ref(step.upstream),
                    "ins": [[step.output._id, None, self.ref(step.downstream[0])]], "f": step.formula}
        ins = []
        for x, local, down in zip(step.inputs, step.local, step.downstream):
            filters = x._gate is None and is_tensor(x) and len(x.shape) == 4
            ins.append([x._id, local if isinstance(local, str) else self.ref(local), self.ref(down, filters)])
        return {"k": "gate", "g": step.gate, "n": step.output._id, "up": self.ref(step.upstream), "ins": ins}

    def _units(self, elements, placed):
        """The view's steps: ``[first, last, element]`` for a box's consecutive steps, a gate's step, or a run
        of steps elsewhere (element None) between them. Read from the steps of the nodes the view draws."""
        shown = []
        for node, element in placed.items():
            if elements.get(element, ("",))[0] == "context":
                continue
            for step in self.steps_of.get(node, ()):
                copy = step.kind == "copy" and f"c{node._id}" in elements
                shown.append((step.index, f"c{node._id}" if copy else element))
        shown.sort(key=lambda pair: pair[0])
        units, done = [], -1  # done: the last step placed in a unit
        for index, element in shown + [(len(self.steps), None)]:
            if index > done + 1:
                units.append([done + 1, index - 1, None])
            if index == len(self.steps):
                break
            if units and units[-1][2] == element and elements[element][0] == "box":
                units[-1][1] = index
            else:
                units.append([index, index, element])
            done = index
        return units

    def _view(self, path, diagram, k):
        elements, placed = diagram.elements, diagram.placed
        units = self._units(elements, placed)
        outputs = self._box_outputs(elements, placed)
        els, edges = {}, {}
        for eid, (kind, what) in elements.items():
            if kind == "edge":
                sent = [self.gate_step[n] for n, i in what
                        if n in self.gate_step and n._rec is not None and n._rec[i] is not None]
                grads = [n._rec[i] for n, i in what if n._rec is not None and n._rec[i] is not None]
                if sent:
                    edges[eid] = [max(sent), band(grads[0]), [[n._id, i] for n, i in what if n in self.gate_step]]
                continue
            if kind == "sum":  # a node used several times, on its way to its copy gate: the sum, at the copy step
                if what in self.copy_step:
                    edges[eid] = [self.copy_step[what], band(self.frame.grad(what)), [], what._id]
                continue
            if kind == "box":
                first = what.partition("–")[0]
                out = outputs.get(eid)
                grad = self.frame.grad(out) if out is not None and self.frame is not None else None
                els[eid] = ["box", first, self.ready.get(out) if out is not None else None, band(grad),
                            _members(what)]
                continue
            grad = self.frame.grad(what) if self.frame is not None else None
            els[eid] = [kind, what._id, self.ready.get(what), band(grad)]
        info = self.layout.info(path) if path else None
        model = self._model() if not path else None
        top = (f"the top level of the {type(model).__name__}" if model is not None else "the top level") \
            if self.layout.modules else "the whole graph, gate by gate (it uses no modules)"
        return {"path": path, "svg": k, "title": info.title() if info else top,
                "params": info.params_text() if info else (ModuleInfo("", model).params_text() if model else ""), "units": units, "els": els, "edges": edges}

    def _model(self):
        """The module the graph's modules belong to (the one without a path), if a node knows it."""
        for node in self.nodes:
            module = getattr(node, "_module", None)
            while module is not None and getattr(module, "_path", "") and getattr(module, "_parent", None):
                module = module._parent()
            if module is not None and getattr(module, "_path", None) == "":
                return module
        return None

    def _box_outputs(self, elements, placed):
        """Each box's output: the node it hands on (the root, or its newest node used outside it)."""
        outputs = {}
        for node in sorted(placed, key=lambda n: n._id, reverse=True):
            eid = placed[node]
            if eid not in outputs and elements.get(eid, ("",))[0] == "box" and (node is self.root or any(
                    placed.get(c) != eid for c, _ in self.consumers[node])):
                outputs[eid] = node
        return outputs


def _members(box):
    """The module paths a (folded) box stands for: ``layer1.0–2`` is layer1.0, layer1.1, layer1.2."""
    first, dash, last = box.partition("–")
    if not dash:
        return [first]
    parent, _, start = first.rpartition(".")
    return [f"{parent}.{k}" if parent else str(k) for k in range(int(start), int(last) + 1)]


_NAME = r'"(?:[^"\\]|\\.)*"|[^\s"\[\]{};]+'
_EDGE = re.compile(rf"\t({_NAME}) -> ({_NAME})(?: \[|$)")
_NODE = re.compile(rf"\t({_NAME}) \[")


def _two_columns(diagram):
    """Lay a view that is one long chain (input → 0 → 1 → … → loss) out in rows of two, left to right: each row's
    two on one rank, each column held straight by invisible edges. Other views are left as they are."""
    nodes = [m.group(1) for line in diagram.body if (m := _NODE.match(line)) and m.group(1) not in ("node", "edge", "graph")]
    after, before = {}, {}
    for line in diagram.body:
        if (m := _EDGE.match(line)) and m.group(1) != m.group(2):
            after.setdefault(m.group(1), set()).add(m.group(2))
            before.setdefault(m.group(2), set()).add(m.group(1))
    starts = [n for n in nodes if n not in before]
    if len(nodes) <= CHAIN or len(starts) != 1 or any(len(v) > 1 for v in (*after.values(), *before.values())):
        return False
    chain = [starts[0]]
    while chain[-1] in after and len(chain) <= len(nodes):
        chain.append(next(iter(after[chain[-1]])))
    if len(chain) != len(nodes):
        return False
    rows = [chain[k:k + 2] for k in range(0, len(chain), 2)]
    for row in rows:
        diagram.body.append(f"\t{{rank=same; {'; '.join(row)}}}\n")
    for upper, lower in zip(rows, rows[1:]):
        for a, b in zip(upper, lower):
            diagram.body.append(f"\t{a} -> {b} [style=invis weight=10]\n")
    return True


def _page(title, data, svgs):
    views = "\n".join(f'<div class="view" id="view-{k}" hidden>{svg}</div>' for k, svg in enumerate(svgs))
    blob = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    page = files(__package__) / "page"
    return (page / "explorer.html").read_text(encoding="utf-8").format(
        title=escape(title), style=(page / "explorer.css").read_text(encoding="utf-8"), views=views, data=blob,
        script="\n".join((page / name).read_text(encoding="utf-8") for name in ("pictures.js", "explorer.js")))
