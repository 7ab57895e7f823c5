"""How big a drawing will be, estimated before graphviz lays it out: the size budget behind ``draw``'s
collapsing and cutting.

A drawing may be about ``MAX_ALONG`` pt long in its direction (top to bottom: its height; left to
right: its width) and ``MAX_ACROSS`` pt across it, besides ``max_nodes`` nodes: a screen's width, and
a few screens of scrolling. The estimate ranks what is drawn -- each loose node, and each collapsed
box as one -- by its longest path to the root, as graphviz does; a rank is as long as its longest
member and as wide as its members side by side (with their edges' labels and the titles of the
clusters that start there). Both extents count: a long chain is cut short, and so is a sum of a
hundred branches, which is one rank a hundred nodes wide.

It is an estimate (sizes per kind of node measured on typical drawings, not on each label), so a
drawing can end up a little larger or smaller than it; a graph built differently from a network's
layers (edges skipping many ranks, which graphviz routes around the nodes) can be wider than it says.
"""
from __future__ import annotations

from collections import deque

MAX_ALONG = 4000
"""How long (pt) a drawing may grow along its direction before it collapses or is cut."""
MAX_ACROSS = 1200
"""How wide (pt) a drawing may grow across its direction: a 1,600 px screen."""
MARGIN = 0.9
"""The share of the budget an estimate may use: real drawings came out within about 10 % of it (LeNet-5,
a ResNet, GoogLeNet, long chains, both directions, both renderers)."""
NODE = {"tensor": (150, 60), "box": (220, 40), "value": (115, 62)}
"""A drawn node's (width, height) in pt, about: a tensor's box (its width is estimated from its text, see
:func:`node_size`), a collapsed module, a Value's box with its gate (the gate's circle counted in both
directions, since it is drawn on the way in)."""
LABEL = {"tensor": (155, 36), "box": (140, 14), "value": (80, 30)}
"""An edge label's (width, height): a gate's rule, the gradient between boxes, a Value's product."""
BETWEEN = {"tensor": 16, "value": 22}
"""graphviz's gap between ranks (ranksep) in tensor and in scalar drawings, pt."""
BESIDE = 13
"""graphviz's gap between neighbours in a rank (nodesep), pt."""
SKIP = 25
"""What an edge adds across each rank it passes without stopping (graphviz routes it through a dummy node)."""
COPY = 60
"""What a copy gate (a node used by several gates) adds along the direction: its circle and its edge."""
TITLE = (5.3, 28)
"""A cluster's title, beside the cluster's first nodes: about 5.3 pt a character of its longest line, two
lines high."""


def direction(rankdir):
    """The two directions the budget knows: top to bottom (TB, BT) and left to right (LR, RL)."""
    return "LR" if rankdir in ("LR", "RL") else "TB"


def kind(unit):
    if isinstance(unit, str):
        return "box"
    return "tensor" if hasattr(unit, "shape") else "value"


def node_size(unit):
    """About how large (width, height) a unit is drawn: a tensor's box is as wide as its longest line --
    the name, shape and dtype, or its values (≤ 6 of them, three to a line) -- and its gate's cell."""
    if kind(unit) != "tensor":
        return NODE[kind(unit)]
    name = unit.label or (unit._gate.name if unit._gate is not None else "constant")
    chars = max(len(name), len(str(tuple(unit.shape))) + 8, 15 if unit.numel() > 6 else 8 * min(unit.numel(), 3))
    return 6 * chars + (30 if unit._gate is not None else 10), NODE["tensor"][1]


def same(a, b):
    """Two units the same: boxes by name, nodes by identity (a tensor's == is elementwise)."""
    return a is b or (a.__class__ is str and b.__class__ is str and a == b)


def ranks(root, nodes, unit_of, shown=None):
    """Each drawn unit's rank (0: the root's) by its longest path to the root, and the edges between units
    (``(parent unit, unit)``, one per pair, as a drawing joins boxes).

    ``nodes`` oldest first (a node is always newer than its inputs); ``unit_of(node)`` is what the node is
    drawn as: a box's name or the node itself; ``shown`` the nodes drawn (all if None). One pass, newest
    first: an approximation when a box's rank grows after some of its members have been passed.
    """
    rank, edges = {unit_of(root): 0}, set()
    for node in reversed(nodes):
        if shown is not None and node not in shown:
            continue
        unit = unit_of(node)
        here = rank.get(unit)
        if here is None:
            continue
        for parent in node._inputs:
            if shown is not None and parent not in shown:
                continue
            above = unit_of(parent)
            if same(above, unit):
                continue
            edges.add((above, unit))
            if rank.get(above, -1) < here + 1:
                rank[above] = here + 1
    return rank, edges


def extent(rank, edges, rankdir, clusters_of=None, title_of=None):
    """Estimated (along, across) in pt of a drawing whose units are ranked as :func:`ranks` gives them.

    ``edges`` are the drawn ``(parent unit, unit)`` pairs; ``clusters_of(unit)`` lists the clusters a unit
    is drawn in, innermost first, and ``title_of(cluster)`` is a cluster's title (its width counts on the
    rank where the cluster starts). A rank is a row of nodes and, above it, a row of the labels of the
    edges into them: as long as its longest node and label, as wide as the wider of the two rows, plus
    the edges that pass it on their way to a rank further on."""
    down = direction(rankdir) == "TB"
    size = (lambda wh: wh) if down else (lambda wh: (wh[1], wh[0]))  # (across, along) of a (width, height)
    between, beside = _gaps(rank)
    node_long, label_long, node_row, label_row, passing = {}, {}, {}, {}, {}
    starts = {}  # cluster -> its first rank (drawn first: ranks count from the root)
    uses = {}
    for above, _ in edges:
        uses[above] = uses.get(above, 0) + 1
    for unit, r in rank.items():
        wide, long = size(node_size(unit))
        if uses.get(unit, 0) > 1:
            long += COPY
        node_long[r] = max(node_long.get(r, 0), long)
        node_row[r] = node_row.get(r, 0) + wide + beside
        for cluster in clusters_of(unit) if clusters_of is not None else ():
            starts[cluster] = max(starts.get(cluster, r), r)  # its first rank is the farthest from the root
    for above, below in edges:
        r, top = rank[below], rank[above]
        wide, long = size(LABEL["box" if "box" in (kind(above), kind(below)) else kind(below)])
        label_long[r] = max(label_long.get(r, 0), long)
        label_row[r] = label_row.get(r, 0) + wide + beside
        for skipped in range(r + 1, top):
            passing[skipped] = passing.get(skipped, 0) + SKIP
    per_char, line = TITLE
    for cluster, r in starts.items():
        width = per_char * max(len(line) for line in title_of(cluster).split("\n"))
        if down:
            node_row[r] += width + beside
        else:  # a line above the first nodes, as wide as the title
            node_row[r] += line + beside
            node_long[r] = max(node_long[r], width)
    along = sum(node_long[r] + label_long.get(r, 0) + 2 * between for r in node_long)
    across = max((max(node_row[r], label_row.get(r, 0)) + passing.get(r, 0) for r in node_row), default=0)
    return along, across


def _gaps(units):
    """(between ranks, between neighbours) in pt, for a drawing of these units."""
    scalar = any(kind(unit) == "value" for unit in units)
    return BETWEEN["value" if scalar else "tensor"], BESIDE


def note_along(rankdir):
    """What the note "… N earlier nodes not drawn" of a cut drawing adds along the direction."""
    width, height = NODE["box"]
    return (height if direction(rankdir) == "TB" else width) + 2 * BETWEEN["tensor"]


def fits(size):
    """Whether an estimated (along, across) is within the budget, with room for the estimate's error."""
    along, across = size
    return along <= MARGIN * MAX_ALONG and across <= MARGIN * MAX_ACROSS


def nearest(root, max_count, unit_of, rankdir, room=MAX_ALONG, width=MAX_ACROSS):
    """The nodes nearest the root (breadth first) that fit ``max_count`` nodes, ``room`` pt along the
    direction and ``width`` pt across it, each rank counted as :func:`extent` does (without titles,
    skipping edges or copy gates: the caller measures what it kept again)."""
    down = direction(rankdir) == "TB"
    size = (lambda wh: wh) if down else (lambda wh: (wh[1], wh[0]))
    first = unit_of(root)
    between, beside = _gaps([first])
    wide, long = size(node_size(first))
    node_long, label_long, node_row, label_row = {0: long}, {}, {0: wide + beside}, {}
    keep, queue, placed = {root}, deque([(root, 0)]), {first: 0}
    while queue and len(keep) < max_count:
        node, r = queue.popleft()
        unit = unit_of(node)
        for parent in node._inputs:
            if parent in keep or len(keep) >= max_count:
                continue
            above = unit_of(parent)
            if above in placed:  # drawn already (a box, or a node used twice): its edge costs a label at most
                keep.add(parent)
                queue.append((parent, placed[above]))
                continue
            below = r + 1
            wide, long = size(node_size(above))
            label_wide, label_high = size(LABEL["box" if "box" in (kind(above), kind(unit)) else kind(unit)])
            rows = dict(node_long)
            rows[below] = max(rows.get(below, 0), long)
            labels = dict(label_long)
            labels[r] = max(labels.get(r, 0), label_high)
            along = sum(rows[k] + labels.get(k, 0) + 2 * between for k in rows)
            if along > room or max(node_row.get(below, 0) + wide, label_row.get(r, 0) + label_wide) + beside > width:
                continue
            node_long, label_long = rows, labels
            node_row[below] = node_row.get(below, 0) + wide + beside
            label_row[r] = label_row.get(r, 0) + label_wide + beside
            placed[above] = below
            keep.add(parent)
            queue.append((parent, below))
    return keep
