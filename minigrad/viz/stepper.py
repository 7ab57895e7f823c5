"""The backprop stepper: one self-contained HTML page with a frame per Step of backprop.

``stepper(root, path)`` takes the Steps of the last backward that reached ``root`` (replayed from
what it recorded: exactly the numbers it sent, hooks included), or for a graph not backpropagated yet
runs the loop once as a dry run (no ``.grad`` changes; hooks run), draws the forward pass and the moment
after every step with :func:`~minigrad.viz.graph.draw`, and writes them into one HTML file with
Prev/Next buttons, the ←/→ keys, a slider and a side panel that reads each step out: its gate,
the local-gradient rule, upstream, local and downstream. Everything is inline (SVGs, style,
script) and a Content-Security-Policy forbids the page any network access.

The same dry run serves terminal stepping (``minigrad step``): :func:`backprop_steps`.
"""
from __future__ import annotations

from html import escape
from pathlib import Path

import numpy as np

from ..core.files import atomic_write, require_folder
from ..core.text import MAX_SHOWN, _term, fmt_number, fmt_value
from . import frames, graph, render
from .frames import is_tensor
from .graph import draw

MAX_STEPS = 400
"""Above this many steps the stepper refuses (each step is one SVG; the page would be huge)."""


# --- the steps, once ---------------------------------------------------------------------------


def count_steps(root):
    """How many Steps backprop from ``root`` will take, without running it.

    A step per gate the gradient reaches, plus a copy step per node that receives gradients
    along more than one edge. Walks the graph as :func:`engine.topological_order` does
    (iteratively, through inputs that require grad) but changes nothing.
    """
    seen = {root}
    stack = [root]
    arrivals = {}
    gates = 0
    while stack:
        node = stack.pop()
        if node._gate is not None:
            gates += 1
        for parent in node._inputs:
            if parent.requires_grad:
                arrivals[parent] = arrivals.get(parent, 0) + 1
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
    return gates + sum(1 for n in arrivals.values() if n > 1)


def backprop_steps(root, grad=None, *, who="stepper"):
    """Every Step of backprop from ``root``: the last backward's, replayed from its records, or for a graph
    not backpropagated yet (or another starting gradient ``grad``) a dry run that leaves the graph as it was.

    ``who`` starts the error messages.
    """
    _check_root(root, who)
    return frames.backprop_steps(root, grad, who=who)


def final_gradients(steps):
    """The gradient each leaf receives in this backprop: ``[(leaf, gradient), ...]`` oldest leaf first."""
    totals = {}
    for step in steps:
        if step.kind != "gate":
            continue  # a copy step re-states the sum of gradients already sent along each edge; a hook's
            # result is what the node's own gate passes on
        for node, g in zip(step.inputs, step.downstream):
            if g is not None and node._gate is None:
                totals[node] = g if node not in totals else totals[node] + g
    return sorted(totals.items(), key=lambda item: item[0]._id)


def _check_root(root, who="stepper"):
    if not hasattr(root, "_inputs"):
        raise TypeError(
            f"{who}: expected a minigrad Value or Tensor (the output of a computation), got {type(root).__name__}"
        )
    if not root.requires_grad:
        raise ValueError(
            f"{who}: this tensor does not require grad, so backprop has nothing to do; was it computed under "
            "no_grad(), or from tensors none of which has requires_grad=True?"
        )


# --- the page ----------------------------------------------------------------------------------


def stepper(root, path, *, grad=None, max_steps=MAX_STEPS, title=None, **draw_options):
    """Write one self-contained HTML page that steps through the backprop of ``root``; return its path.

    Frame 0 is the forward pass; frame k is the graph just after step k (``draw(root,
    step=k - 1)``): that gate highlighted, only the gradients known by then. Prev/Next, the
    ←/→ keys (Home/End for the ends) and a slider move between frames; the side panel shows the
    step's gate, its local-gradient rule, and upstream, local and downstream values (tensors
    as shape and values when small, else norm).

    Works on scalar graphs and small tensor graphs (step through a tensor graph before
    ``backward()``, or after ``backward(retain_graph=True)``). Nothing about the graph changes:
    the steps come from one dry run.

    A graph with more than ``max_steps`` steps is refused before anything is drawn; draw a
    subgraph (a smaller root) or raise ``max_steps``. The file is written atomically (a
    temporary file in the same folder, then renamed); the folder must exist.
    Raises ``DotNotFound`` (before writing) when no ``dot`` program is installed.

    ``draw_options`` go to every frame's :func:`~minigrad.viz.graph.draw` (``depth=``,
    ``grad_colors=``, ``show_saved=``, ``max_nodes=``): they change the pictures, not the steps.
    """
    _check_root(root)
    path = Path(path)
    require_folder(path, "stepper")  # before any drawing: a bad path costs nothing
    if path.is_dir():
        raise IsADirectoryError(
            f"stepper: {str(path)!r} is a folder; give a file name such as {str(path / 'backprop.html')!r}"
        )
    size = count_steps(root)
    if size > max_steps:
        raise ValueError(
            f"stepper: this graph's backprop has {size:,} steps, more than max_steps={max_steps:,}: a page with one "
            f"drawing per step would be too big to render or read. Step through a subgraph instead (an "
            f"intermediate node as the root, or a smaller input), or pass max_steps={size} if you really want it"
        )
    if render.find_dot() is None:
        raise render.DotNotFound(f"stepper: cannot draw the frames: no `dot` program found; {render.INSTALL_HINT}")
    steps = frames.backprop_steps(root, grad, who="stepper")
    forward = _svg(graph.draw_forward(root, **draw_options), 0)
    n = len(steps)
    pages = [_frame(0, n, forward, _forward_panel(root, n))]
    for step in steps:
        k = step.index + 1
        pages.append(_frame(k, n, _svg(draw(root, step=step, **draw_options), k), _step_panel(step, n)))

    name = title or f"Backprop of {root.label or 'the graph'}"
    page = PAGE.format(title=escape(name), frames="\n".join(pages), last=len(steps),
                       counter=escape(_counter(0, len(steps))), style=STYLE, script=SCRIPT)
    with atomic_write(path, "stepper", text=True) as f:
        f.write(page)
    return path


def _svg(diagram, k):
    """The drawing as inline SVG: no XML prologue or comments, ids made unique to frame ``k``."""
    return render.inline_svg(diagram.pipe(format="svg").decode("utf-8"), f"f{k}-")


def _counter(k, n):
    return f"forward pass · 0/{n}" if k == 0 else f"step {k}/{n}"


def _frame(k, n, svg, panel):
    hidden = "" if k == 0 else " hidden"
    return (f'<section class="frame" id="frame-{k}" data-index="{k}" data-counter="{escape(_counter(k, n))}"'
            f'{hidden}>\n<div class="drawing">{svg}</div>\n<aside class="panel">{panel}</aside>\n</section>')


def _name(node):
    """How the panel names a node: its label, else what it is."""
    if node.label:
        return node.label
    if node._gate is not None:
        return f"({node._gate.name} output)"
    return "(tensor)" if is_tensor(node) else "(constant)"


def _describe(node):
    """A node with its value: ``q = 3.0``, or ``W (3, 4) float32 = [[...]]`` (norm when large)."""
    if is_tensor(node):
        head = f"{_name(node)} {tuple(node.shape)} {node.dtype}"
        if node.numel() <= MAX_SHOWN:
            return f"{head} = {fmt_value(node.data)}"
        return f"{head}, ‖·‖={fmt_number(float(np.linalg.norm(node.data.astype(np.float64))))}"
    return f"{_name(node)} = {fmt_value(node.data)}"


def _forward_panel(root, size):
    return (
        "<h2>Forward pass</h2>"
        f"<p>Values flow from the inputs to <b>{escape(_describe(root))}</b> (values in green).</p>"
        f"<p>Backprop will take <b>{size}</b> step{'s' if size != 1 else ''}, newest gate first. At each gate: "
        "<b>downstream = local × upstream</b> for every input. A value used by several gates gets a "
        "<i>copy</i> step that adds the gradients its consumers sent.</p>"
        "<p class=\"keys\">Next (→) starts backprop.</p>"
    )


def _step_panel(step, n):
    rows = []
    if step.kind == "hook":
        rows.append(("value", escape(_describe(step.output))))
        rows.append(("gradient arriving", escape(fmt_value(step.upstream))))
        rows.append(("the hook's result, passed on", escape(fmt_value(step.downstream[0]))))
        table = ""
    elif step.kind == "copy":
        node = step.output
        arrivals = escape(" + ".join(_term(fmt_value(g)) for g in step.upstream))
        rows.append(("value", escape(_describe(node))))
        rows.append(("arriving from its consumers", arrivals))
        rows.append(("downstream (their sum)", escape(fmt_value(step.downstream[0]))))
        table = ""
    else:
        rows.append(("output", escape(_describe(step.output))))
        rows.append(("upstream dL/d" + escape(_name(step.output)), escape(fmt_value(step.upstream))))
        body = "".join(
            f"<tr><td>{i}</td><td>{escape(_describe(x))}</td><td>{escape(fmt_value(local))}</td>"
            f"<td>{escape(fmt_value(down))}</td></tr>"
            for i, (x, local, down) in enumerate(zip(step.inputs, step.local, step.downstream))
        )
        table = ('<table class="inputs"><thead><tr><th>#</th><th>input</th><th>local</th>'
                 f"<th>downstream</th></tr></thead><tbody>{body}</tbody></table>")
    facts = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    return (
        f'<h2>Step {step.index + 1} of {n}: <span class="gate">{escape(step.gate)}</span> gate</h2>'
        f'<p class="formula">{escape(step.formula)}</p>'
        f"<dl>{facts}</dl>{table}"
        f'<p class="line"><code>{escape(str(step))}</code></p>'
        f'<p class="api">in code: <code>draw(root, step={step.index})</code></p>'
    )


STYLE = """
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #222; }
header { display: flex; gap: .75rem; align-items: center; padding: .5rem 1rem; background: #f4f4f4;
         border-bottom: 1px solid #ddd; position: sticky; top: 0; }
header h1 { font-size: 1.05rem; margin: 0 1rem 0 0; }
#slider { flex: 1; max-width: 30rem; }
#counter { font-variant-numeric: tabular-nums; min-width: 9rem; }
.frame { display: flex; gap: 1rem; padding: 1rem; align-items: flex-start; }
.frame[hidden] { display: none; }
.drawing { flex: 1; min-width: 0; overflow: auto; }
body.fit .drawing svg { max-width: 100%; height: auto; }
label.fit { font-size: 12px; color: #555; }
.panel { width: 24rem; flex: none; background: #fafafa; border: 1px solid #ddd; border-radius: 6px;
         padding: .25rem 1rem; }
.panel h2 { font-size: 1rem; }
.gate { font-family: ui-monospace, monospace; background: orange; padding: 0 .3rem; border-radius: 3px; }
.formula { font-style: italic; }
dt { font-weight: 600; margin-top: .4rem; }
dd { margin: 0 0 0 1rem; font-family: ui-monospace, monospace; overflow-wrap: anywhere; }
table.inputs { border-collapse: collapse; margin: .5rem 0; font-size: 12px; }
table.inputs td, table.inputs th { border: 1px solid #ccc; padding: 2px 5px; vertical-align: top;
                                   font-family: ui-monospace, monospace; overflow-wrap: anywhere; }
.line code { font-size: 12px; overflow-wrap: anywhere; }
.api, .keys { color: #666; font-size: 12px; }
"""

SCRIPT = """
(function () {
  "use strict";
  var frames = document.querySelectorAll(".frame");
  var slider = document.getElementById("slider");
  var counter = document.getElementById("counter");
  var prev = document.getElementById("prev");
  var next = document.getElementById("next");
  var current = 0;
  function show(i) {
    i = Math.max(0, Math.min(frames.length - 1, i));
    frames[current].hidden = true;
    frames[i].hidden = false;
    current = i;
    slider.value = String(i);
    counter.textContent = frames[i].dataset.counter;
    prev.disabled = i === 0;
    next.disabled = i === frames.length - 1;
    // follow backprop: bring the highlighted gate into view when the drawing is wider than the page
    var gate = frames[i].querySelector('svg [fill="orange"]');
    if (gate) gate.scrollIntoView({block: "nearest", inline: "center"});
  }
  prev.addEventListener("click", function () { show(current - 1); });
  next.addEventListener("click", function () { show(current + 1); });
  slider.addEventListener("input", function () { show(Number(slider.value)); });
  var fit = document.getElementById("fit");
  fit.addEventListener("change", function () { document.body.classList.toggle("fit", fit.checked); });
  document.addEventListener("keydown", function (e) {
    if (e.target === slider || e.altKey || e.ctrlKey || e.metaKey) return;  // the slider moves itself
    var to = {ArrowRight: current + 1, ArrowLeft: current - 1, Home: 0, End: frames.length - 1}[e.key];
    if (to === undefined) return;
    e.preventDefault();
    show(to);
  });
  show(0);
})();
"""

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<header>
<h1>{title}</h1>
<button id="prev" type="button" title="previous step (←)" disabled>◀ Prev</button>
<input id="slider" type="range" min="0" max="{last}" value="0" step="1" aria-label="frame">
<button id="next" type="button" title="next step (→)">Next ▶</button>
<output id="counter">{counter}</output>
<label class="fit"><input id="fit" type="checkbox"> fit to width</label>
</header>
<main>
{frames}
</main>
<script>{script}</script>
</body>
</html>
"""
