"""What a drawing writes: the labels of value nodes, gates, edges, boxes and tooltips, HTML-escaped.

Every label is a graphviz HTML label built here from escaped text, so nothing a user names -- a
label, a module -- is read by graphviz as markup or as one of its escapes (``\\N``, ``\\G``, ``\\L``).
Control characters, which XML cannot hold, are written out as Python writes them (``x\\x01y``); a NUL
character is refused instead by :func:`check_text`, naming where it was.
"""
from __future__ import annotations

from html import escape

import numpy as np

from ..core.text import fmt_number, fmt_value
from .frames import is_summary, is_tensor
from .grad_scale import GRAD_BANDS

DATA_COLOR = "darkgreen"
GRAD_COLOR = "red3"
HOOK_COLOR = "purple"
DIGITS = 4
SHOWN = 6
"""Tensors with at most this many elements show their values in a drawing (three to a line); larger ones
their norm (the tooltip has more: statistics of all, and as many values as fit in TOOLTIP_CHARS)."""
SHOWN_ON_EDGES = 3
"""An edge label writes out gradients of at most this many elements; larger ones by their norm."""
TOOLTIP_CHARS = 15_000
"""How long a tooltip may be: Graphviz 2.x refuses a quoted string past 16,384 characters. Its statistics
cover every value; the values themselves (to TOOLTIP_DIGITS significant digits) fill what is left,
shared by the tensor's value and its gradient -- about 600 of each -- and past that it says how many
more there are."""
TOOLTIP_DIGITS = 6
ACCUMULATED = (".grad now (not what this backward gave the node: gradients add up over backward passes until "
               "zero_grad())")
WIDTH = 34
"""Lines of an edge label longer than this break at a space."""
SHORT_BRACKET = 24
"""A bracket this short (``[x > 0]``, a shape) is never broken across lines."""
TITLE_CHARS, TITLE_MOST, TITLE_PT = 40, 80, 6.0
"""A drawing's title breaks its lines to the drawing's width, at about TITLE_PT pt a character (11 pt
Helvetica), but keeps at least TITLE_CHARS characters to a line and at most TITLE_MOST (a line that
reads easily)."""

LEGEND = "edges: downstream = local × upstream · values in green, gradients in red"
LEGEND_BOXES = "edges between boxes: the gradient that crosses, its shape and norm · values in green, gradients in red"
LEGEND_BOTH = ("edges: downstream = local × upstream, between boxes the gradient that crosses · values in green, "
               "gradients in red")
NORMS_ONLY = ("gradients as backward() recorded them: shapes and norms\n(their values were freed; "
              "backward(retain_graph=True) keeps them)")
LEGEND_CELL = 90
"""About how wide (pt) one band of the gradient colours' legend is."""

# glyphs graphviz-pure's PNG fonts lack, and the plain forms a drawing uses instead
_PLAIN = str.maketrans({"⊙": "×", "⋆": "*", "⋯": "..."})
# C0 (but newline and tab), DEL and C1: each as its Python escape, visible in the drawing
_CONTROLS = {c: repr(chr(c))[1:-1] for c in [*range(0x20), *range(0x7f, 0xa0)] if chr(c) != "\n"}


def check_text(text, where):
    """``text`` if graphviz can draw it, else a ValueError naming ``where`` it came from."""
    if "\x00" in text:
        raise ValueError(f"draw: {where} {text!r} contains a NUL character, which graphviz cannot draw; rename it")
    return text


def visible(text):
    """``text`` with every control character but a newline written out as Python writes it (``\\x01``,
    ``\\r``, ``\\t``, ``\\x7f``): XML, and so graphviz's labels and SVG, cannot hold them (a tab it drops)."""
    return text.translate(_CONTROLS)


def html(text):
    """Text as the inside of an HTML label: control characters written out, escaped, newlines as line breaks,
    and backslashes doubled, since graphviz reads its escapes (``\\N``: the node's name) even inside HTML labels."""
    return escape(visible(text).translate(_PLAIN)).replace("\\", "\\\\").replace("\n", "<br/>")


def attribute(text):
    """Text as a graphviz string attribute (a tooltip): control characters written out, each backslash written
    four times, since dot's string syntax halves them and its escapes (``\\N``, ``\\G``) halve them again."""
    return escape(visible(text)).replace("\\", "\\\\\\\\")


def fmt(value):
    return fmt_value(value, DIGITS)


def wrap(text, width=WIDTH):
    """Break each line of ``text`` at spaces so that no line is much longer than ``width``; never after a
    comma inside brackets, so a shape ``(4, 6, 28, 28)`` stays on one line."""
    lines = []
    for line in text.split("\n"):
        current = ""
        for word in _words(line):
            if current and len(current) + 1 + len(word) > width:
                lines.append(current)
                current = word
            else:
                current = f"{current} {word}" if current else word
        lines.append(current)
    return "\n".join(lines)


def _words(line):
    """The line's words: split at spaces, but not inside a short bracket (``[x > 0]``, ``(4, 6, 28, 28)``)
    nor after a comma inside any."""
    keep, opened = set(), []  # positions of spaces that must not break
    for i, ch in enumerate(line):
        if ch in "([{":
            opened.append(i)
        elif ch in ")]}" and opened:
            start = opened.pop()
            if i - start <= SHORT_BRACKET:
                keep.update(range(start, i))
    words, start, depth = [], 0, 0
    for i, ch in enumerate(line):
        depth += (ch in "([{") - (ch in ")]}")
        if ch == " " and i not in keep and not (depth > 0 and line[i - 1] == ","):
            words.append(line[start:i])
            start = i + 1
    words.append(line[start:])
    return words


def title_width(width):
    """How many characters a drawing's title may have to a line to be no wider than the drawing (``width``
    pt, as estimated): between TITLE_CHARS and TITLE_MOST."""
    return min(TITLE_MOST, max(TITLE_CHARS, int(width / TITLE_PT)))


def rows(a):
    """A small array's values, a matrix one row per line (a vector three to a line); a 0-d array as a number."""
    a = np.asarray(a)
    if a.ndim == 0:
        return fmt(float(a))
    if a.ndim == 2 and a.shape[0] > 1:
        return "\n".join(fmt(row) for row in a)
    flat = a.reshape(-1)
    if flat.size > 3:
        parts = [", ".join(fmt(float(v)) for v in flat[k:k + 3]) for k in range(0, flat.size, 3)]
        return "[" + ",\n ".join(parts) + "]"
    return fmt(a)


def norm_text(g):
    """A gradient's (or value's) size: ``‖27.18‖``."""
    if is_summary(g):
        return f"‖{fmt_number(g.norm, DIGITS)}‖"
    return f"‖{fmt_number(float(np.linalg.norm(np.asarray(g, dtype=np.float64))), DIGITS)}‖"


def grad_text(g, shape=False, shown=SHOWN):
    """A tensor gradient: its values when small (≤ ``shown``), else its norm (after its shape if ``shape``)."""
    size = g.size if is_summary(g) or hasattr(g, "size") else np.size(g)
    if not is_summary(g) and size <= shown:
        return rows(g)
    return f"{tuple(g.shape)} {norm_text(g)}" if shape else norm_text(g)


def stats(a):
    """min, max, mean and norm of an array, one line."""
    a = np.asarray(a, dtype=np.float64)
    if a.size == 0:
        return "empty"
    return (f"min {fmt_number(a.min(), DIGITS)}, max {fmt_number(a.max(), DIGITS)}, "
            f"mean {fmt_number(a.mean(), DIGITS)}, ‖·‖ {fmt_number(np.linalg.norm(a), DIGITS)}")


def node_name(node):
    """How a drawing names a node: its label (a parameter's name), else the gate that made it, else what
    the leaf is: a parameter, a leaf that requires grad, data, or a constant."""
    if node.label:
        return check_text(node.label, "the label")
    if node._gate is not None:
        return node._gate.name
    if not is_tensor(node):
        return ""
    # leaves by what they are, in the explorer's words (viz/node_names.py; the node shows the shape)
    if node.requires_grad:
        return "parameter" if type(node).__name__ == "Parameter" else "leaf, requires grad"
    return "constant" if node.numel() == 1 else "data"  # a number the computation brought in, or its data


def tooltip(node, grad, held=None, values=True):
    """Hovering a node: its shape and dtype, value statistics and values, the same for its gradient (and for
    its ``.grad``, ``held``, when that has added up more than this backward's). Without ``values``, the
    statistics only (the explorer's views: its panel shows the values, as numbers or pictures)."""
    if not is_tensor(node):
        text = f"{node_name(node) or 'value'} = {fmt_number(node.data)}"
        text += f", gradient {fmt_number(grad)}" if grad is not None else ""
        return text + (f"\n{ACCUMULATED}: {fmt_number(held)}" if held is not None else "")
    parts = [(f"{node_name(node)}: {tuple(node.shape)} {node.dtype}\nvalue: {stats(node.data)}", node.data)]
    if grad is not None and is_summary(grad):
        freed = (f"grad: {tuple(grad.shape)}, ‖·‖ {fmt_number(grad.norm, DIGITS)} (values freed after backward(); "
                 "backward(retain_graph=True) keeps them)")
        parts.append((freed, None))
    elif grad is not None:
        parts.append((f"grad: {stats(grad)}", grad))
    elif node.requires_grad:
        parts.append(("grad: none yet", None))
    if held is not None:
        parts.append((f"{ACCUMULATED}: {stats(held)}", held))
    made = f"made by {node._gate.name}: {node._gate.formula}" if node._gate is not None else ""
    if not values:
        return "\n".join([words for words, _ in parts] + ([made] if made else []))
    arrays = [a for _, a in parts if a is not None and np.size(a) > 1]
    room = (TOOLTIP_CHARS - len(made) - sum(len(words) + 1 for words, _ in parts)) // max(1, len(arrays))
    lines = []
    for words, a in parts:
        lines.append(words)
        if a is not None and np.size(a) > 1:
            lines.append(values_text(a, room))
    return "\n".join(lines + ([made] if made else []))


def values_text(a, chars=TOOLTIP_CHARS // 2):
    """An array's values for a tooltip in at most ``chars`` characters: all of them when they fit, a row of
    the last axis to a line (or ten to a line); else as many as fit, in order (flattened), ten to a line,
    and ``… 17,792 more``."""
    a = np.asarray(a)
    flat = a.reshape(-1)
    words = [f"{v:.{TOOLTIP_DIGITS}g}" for v in flat[: chars // 3].tolist()]  # "0, " is the shortest a value is
    if len(words) == flat.size:
        row = a.shape[-1] if a.ndim >= 2 and 0 < a.shape[-1] <= 12 else 10
        text = "\n".join("[" + ", ".join(words[k:k + row]) + "]" for k in range(0, len(words), row))
        if len(text) <= chars:
            return text
    shown, used = 0, 60  # room for the words around them
    while shown < len(words) and used + len(words[shown]) + 2 <= chars:
        used += len(words[shown]) + 2
        shown += 1
    lines = ",\n".join(", ".join(words[k:min(k + 10, shown)]) for k in range(0, shown, 10))
    return f"the first {shown:,} of {a.size:,} (flattened):\n[{lines} … {a.size - shown:,} more]"


def value_label(node, grad, border=None, hooked=None, gate=None, held=None):
    """A value node as an HTML table. For a tensor: [gate symbol] name / shape dtype / value / grad, one
    row each; for a Value the lectures' [label | value | grad] in one row. ``grad`` is what this backward
    gave the node; ``held``, a leaf's ``.grad`` when it has added up more than that, is a line of its own."""
    if not is_tensor(node):
        top = f'<font color="{DATA_COLOR}">{html(fmt(node.data))}</font>'
        if node.label:
            top = f"<b>{html(node_name(node))}</b> {top}"
        cells = [top] + ([f'<font color="{GRAD_COLOR}">grad {html(fmt(grad))}</font>'] if grad is not None else [])
        if held is not None:
            cells.append(f'<font color="{GRAD_COLOR}">.grad {html(fmt(held))} ({held_word(held)})</font>')
        rows_ = "".join(f"<tr><td>{c}</td></tr>" for c in cells)
        color = f' color="{border}"' if border else ""
        return f'<<table border="0" cellborder="1" cellspacing="0" cellpadding="3"{color}>{rows_}</table>>'
    lines = [f"<b>{html(node_name(node))}</b>", html(f"{tuple(node.shape)} {node.dtype}")]
    if node.numel() <= SHOWN:
        lines.append(f'<font color="{DATA_COLOR}">{html(rows(node.data))}</font>')
    else:
        lines.append(f'<font color="{DATA_COLOR}">{html(norm_text(node.data))}</font>')
    if hooked is not None:
        lines.append(f'<font color="{HOOK_COLOR}">hook: {html(grad_text(hooked[0]))} → {html(grad_text(hooked[1]))}</font>')
    if grad is not None:
        lines.append(f'<font color="{GRAD_COLOR}">grad {html(grad_text(grad))}</font>')
    if held is not None:
        lines.append(f'<font color="{GRAD_COLOR}">.grad {html(grad_text(held))} ({held_word(held)})</font>')
    color = f' color="{border}"' if border else ' color="gray40"'
    if gate is None:
        cells = f"<td>{'<br/>'.join(lines)}</td>"
    else:
        symbol, fill = gate
        first, newline, rest = symbol.partition("\n")
        cell = html(symbol)
        if first == node_name(node):  # relu's, reshape's symbol is its name: once, in the gate's cell
            cell, lines = f"<b>{html(first)}</b>" + (f"<br/>{html(rest)}" if newline else ""), lines[1:]
        # a rounded cell: a square one's fill would poke out of the box's rounded corners
        cells = f'<td bgcolor="{fill}" width="14" style="rounded">{cell}</td><td>{"<br/>".join(lines)}</td>'
    return (f'<<table border="1" cellborder="0" cellspacing="0" cellpadding="3" style="rounded"{color}>'
            f"<tr>{cells}</tr></table>>")


def held_word(held):
    """What a ``.grad`` that is not this backward's gradient is: added up over passes, or zeroed since."""
    return "zeroed since" if not np.any(held) else "accumulated"


def edge_text(node, i, upstream, local, downstream):
    """``downstream = local × upstream`` on the edge into input ``i``; for tensors the downstream gradient's
    shape and norm (its values when it has ≤ 3 elements), the upstream's norm (its shape is the node's).

    The words come from the gate's rule for that input (``core/rules.py``). An elementwise rule's
    local gradient is written out when small, else as its rule's text (``(5, 5) ‖27.18‖ = eˣ ⊙ ‖10.0‖``);
    a rule that is not a product (matmul's, conv's) is written whole, the upstream after it.
    """
    if not is_tensor(node):
        return f"{fmt(downstream)}\n= {fmt(local)} × {fmt(upstream)}"
    down, up = grad_text(downstream, shape=True, shown=SHOWN_ON_EDGES), grad_text(upstream, shown=SHOWN_ON_EDGES)
    rule = node._gate.rule(i)
    if rule.elementwise:
        shape = getattr(local, "shape", None)
        if not isinstance(local, str) and (shape is None or len(shape) == 0 or local.size <= SHOWN_ON_EDGES):
            return f"{down} = {rows(local)} ⊙ {up}"
        return wrap(f"{down} = {rule.factor} ⊙ {up}")
    if rule.input is None:  # a user's whole statement, "dL/dx = 3x² · dL/dy": then what it came to
        return wrap(rule.text) + f"\n= {down}  (upstream {up})"
    return wrap(f"{down} = {rule.rhs}") + f"\n(upstream {up})"


def sum_text(total, parts):
    """A copy gate's edge: the gradient it hands on, the sum of what its consumers sent (before any hook).

    Written as a sum when every term is written out (a number, a few values); norms do not add up, so
    larger gradients read ``(4, 16, 8, 8) ‖1.044‖ = Σ of 2 branches`` (each branch's edge has its own)."""
    if not hasattr(total, "shape"):  # a Value's gradient: a number
        return f"{fmt(total)} = " + " + ".join(fmt(p) for p in parts)
    if all(not is_summary(g) and np.size(g) <= SHOWN_ON_EDGES for g in (total, *parts)):
        return f"{rows(total)} = " + " + ".join(rows(p) for p in parts)
    return f"{tuple(total.shape)} {norm_text(total)} = Σ of {len(parts)} branches"


def title_label(lines, width, colors=False):
    """A drawing's title: its lines (empty ones left out) wrapped to the drawing's estimated ``width`` in pt,
    and with ``colors`` the legend of the gradient colours, as many bands to a row as fit."""
    text = html(wrap("\n".join(line for line in lines if line), title_width(width)))
    if not colors:
        return f"<{text}>"
    cells = [f'<td bgcolor="{color}"><font color="white" point-size="9">{html(words)}</font></td>'
             for _, color, words in GRAD_BANDS]
    across = max(2, min(len(cells), int(width // LEGEND_CELL)))
    rows_ = "".join(f"<tr>{''.join(cells[k:k + across])}</tr>" for k in range(0, len(cells), across))
    return (f'<<table border="0" cellborder="0" cellspacing="2" cellpadding="2">'
            f'<tr><td colspan="{across}">{text}</td></tr>'
            f'<tr><td colspan="{across}"><font point-size="9">gradient size (RMS, log scale):</font></td></tr>'
            f"{rows_}</table>>")


def grad_label(text, size=None):
    font = f' point-size="{size}"' if size else ""
    return f'<<font color="{GRAD_COLOR}"{font}>{html(text)}</font>>'


def box_label(info, gates):
    """A collapsed module: ``conv1: Conv2d(1, 6, k=5, p=2)`` over ``→ (4, 6, 28, 28) · 156 parameters · 1 gate``."""
    name, _, output = check_text(info.title(), "the module").partition(" → ")
    detail = " · ".join(([f"→ {output}"] if output else []) + [info.params_text(), f"{gates} gate{'s' if gates != 1 else ''}"])
    return f"<<b>{html(wrap(name, 44))}</b><br/><font point-size=\"9\">{html(detail)}</font>>"


def context_label(node, feeds, path):
    """A node outside the module a view shows: ``from relu in stem.2`` (it feeds the module) or ``to add in
    layer1.0`` (it uses what the module makes), with its shape."""
    word = "from" if feeds else "to"
    if node.label:
        what = check_text(node.label, "the label")
    elif node._gate is not None:
        what = f"{node._gate.name} in {check_text(path, 'the module') if path else 'the model'}"
    else:
        what = "the input"
    shape = f"<br/><font point-size=\"9\">{html(str(tuple(node.shape)))}</font>" if is_tensor(node) else ""
    return f"<{html(word)} <b>{html(what)}</b>{shape}>"


def cluster_title(info):
    """A cluster's title as drawn: what the module is over what it hands on, ``0: Conv2d(1, 6, k=5, p=2)``
    over ``→ (4, 6, 28, 28)``, each line broken at 44 characters."""
    name, arrow, output = check_text(info.title(), "the module").partition(" → ")
    return wrap(name, 44) + (f"\n→ {output}" if arrow else "")


def cluster_label(info):
    lines = html(cluster_title(info)).replace("<br/>", '<br align="left"/>')
    return f'<{lines}<br align="left"/>>'  # each line flush left


def saved_text(gate):
    saved = getattr(gate, "saved", None)
    if not saved:
        return "saved: nothing" if saved is not None else "saved: freed"
    shapes = [str(tuple(a.shape)) if hasattr(a, "shape") else type(a).__name__ for a in saved]
    return "saved: " + ", ".join(shapes)
