"""Which nodes a drawing shows, and how: grouped by module, collapsed to named boxes, folded, or cut.

Every tensor made inside a Module's forward records that module; a parameter belongs to the module
that holds it. The drawing puts each node in nested graphviz clusters, one per module, titled by what
the module is (``conv1: Conv2d(1, 6, k=5, p=2) → (4, 6, 28, 28)``) -- or, with ``depth``, collapses
every module at that depth into one box with that title and its parameter count. With ``fold``,
consecutive sibling boxes of the same type and structure (ResNet's ``layer1.0``, ``layer1.1``) draw as
one box, ``layer1.0–1: 2 × BasicBlock``.

With ``within`` (a module path) the drawing is one module's inside: the gates its own forward made, its
children collapsed into boxes (folded as above), and, as context, the nodes outside it that feed it or
use what it makes; nothing else. ``within=""`` is the model's top level (``depth=1``).

Past a budget the drawing collapses on its own (the deepest depth that fits), and if even that is too
big it keeps the nodes nearest the root -- within a number of nodes *and* a size in pt, long and wide
(``viz/budget.py``), so a long chain is cut short and a sum of a hundred branches narrowed instead of
drawn as a strip thousands of points long -- and says what it did.

(Just over 400 lines: grouping, collapsing, folding, ``within`` and the cut are one decision about each
node, made in one pass; the size estimate is in ``budget.py``.)
"""
from __future__ import annotations

from functools import cached_property

from . import budget
from .labels import cluster_title


def owner(node):
    """The module path a node belongs to, or None: where its gate ran, or the module holding a parameter."""
    module = getattr(node, "_module", None)
    path = getattr(module, "_path", None) if module is not None else None
    if path is None and node._gate is None and type(node).__name__ == "Parameter" and node.label:
        path = node.label.rpartition(".")[0]
    return path or None


def prefix(path, depth):
    """The first ``depth`` components of a module path (``layer1.0.conv1`` at depth 1 is ``layer1``)."""
    return ".".join(path.split(".")[:depth])


def parent_path(path):
    return path.rpartition(".")[0] if "." in path else None


class ModuleInfo:
    """What a box or cluster says about its module: ``conv1: Conv2d(1, 6, k=5, p=2) → (4, 6, 28, 28)``."""

    def __init__(self, path, module):
        self.path, self.module = path, module
        self.type = type(module).__name__ if module is not None else "module"
        self.output = None  # the shape of what the module hands on, from the graph
        self.count = 1  # how many identical siblings a folded box stands for
        self.last = path  # the last of them

    # worked out when a label asks: a drawing knows every ancestor of its modules, and counting a big
    # ancestor's parameters in each of the explorer's hundreds of views would cost views × model size
    @cached_property
    def args(self):
        return brief(self.module) if self.module is not None else ""

    @cached_property
    def params(self):
        return sum(p.numel() for p in self.module.parameters()) if self.module is not None else 0

    def signature(self):
        """What must match for two sibling modules to fold into one box."""
        if self.module is None:
            return None
        shapes = tuple((name, tuple(p.shape)) for name, p in self.module.named_parameters())
        return (self.type, self.args, shapes, self.output)

    @property
    def name(self):
        if self.count == 1:
            return self.path
        return f"{self.path}–{self.last.rpartition('.')[2]}"

    def title(self):
        """One line: name, what it is, what it hands on."""
        what = f"{self.count} × {self.type}" if self.count > 1 else (f"{self.type}({self.args})" if self.args else self.type)
        out = f" → {self.output}" if self.output is not None else ""
        return f"{self.name}: {what}{out}"

    def params_text(self):
        if not self.params:
            return "no parameters"
        total = self.params * self.count
        return f"{total:,} parameter{'s' if total != 1 else ''}"


DEFAULTS = {"stride": "1", "padding": "0", "dilation": "1", "groups": "1", "bias": "True", "ceil_mode": "False",
            "eps": "1e-05", "momentum": "0.1", "affine": "True", "track_running_stats": "True",
            "count_include_pad": "True", "divisor_override": "None", "return_indices": "False", "inplace": "False",
            "start_dim": "1", "end_dim": "-1", "padding_mode": "zeros", "output_padding": "0",
            "elementwise_affine": "True", "approximate": "'none'", "alpha": "1.0", "beta": "1.0", "threshold": "20.0",
            "min_val": "-1.0", "max_val": "1.0", "mode": "'nearest'"}
TYPE_DEFAULTS = {"InstanceNorm2d": {"affine": "False", "track_running_stats": "False"}}
"""The defaults of one type where they differ from the others' (``DEFAULTS``)."""
SHORT = {"kernel_size": "k", "stride": "s", "padding": "p", "dilation": "d", "groups": "g", "output_size": "out",
         "negative_slope": "slope", "p": "p"}
DROP_NAME = ("in_features", "out_features", "in_channels", "out_channels", "num_features")
CONTAINERS = ("Sequential", "ModuleList")
"""Modules described by what they hold (``2 × BasicBlock``); others by their constructor arguments."""


def brief(module):
    """A module's constructor arguments, shortened: ``Conv2d(1, 6, kernel_size=(5, 5), padding=(2, 2))`` is
    ``1, 6, k=5, p=2``; defaults are left out; a container of identical layers is ``2 × BasicBlock``."""
    children = [m for m in getattr(module, "_modules", {}).values() if m is not None]
    try:
        text = module.extra_repr()
    except Exception:  # noqa: BLE001 -- a user's extra_repr may fail; the drawing should not
        text = ""
    if not text and children and type(module).__name__ in CONTAINERS:
        kinds = [type(c).__name__ for c in children]
        if len(set(kinds)) == 1:
            return f"{len(kinds)} × {kinds[0]}"
        return ", ".join(kinds[:3]) + (", …" if len(kinds) > 3 else "")
    parts, defaults = [], {**DEFAULTS, **TYPE_DEFAULTS.get(type(module).__name__, {})}
    for item in _split_args(text):
        key, eq, value = item.partition("=")
        if not eq:
            parts.append(item.strip())
            continue
        key, value = key.strip(), _squeeze(value.strip())
        if defaults.get(key) == value or (key == "bias" and "affine=False" in text):  # no γ: no β either
            continue
        if key in DROP_NAME:
            parts.append(value)
        else:
            parts.append(f"{SHORT.get(key, key)}={value}")
    return ", ".join(parts)


def _split_args(text):
    """``a=1, b=(2, 3), c`` into its top-level parts (commas inside brackets stay)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if text[start:].strip():
        parts.append(text[start:])
    return [p for p in (q.strip() for q in parts) if p]


def _squeeze(value):
    """``(5, 5)`` is ``5``: a pair of equal sizes written once."""
    if value.startswith("(") and value.endswith(")"):
        inner = [v.strip() for v in value[1:-1].split(",") if v.strip()]
        if inner and len(set(inner)) == 1:
            return inner[0]
    return value


class Layout:
    """The plan for one drawing: for each node, drawn on its own (inside its clusters), inside a box, or
    left out; and what each module is called."""

    def __init__(self, root, nodes, consumers, depth=None, fold=True, max_nodes=500, within=None, rankdir=None):
        self.owners = {n: owner(n) for n in nodes}
        self.nodes = nodes
        self.rankdir = rankdir or ("TB" if hasattr(root, "shape") else "LR")
        self.depth = depth
        self.fold = fold
        self.notes = []
        self.hidden = set()
        self.context = set()  # with ``within``: the outside nodes drawn because they feed it or use its output
        self.within = within
        self.folded = {}
        self.modules = self._modules(nodes)
        self._outputs(root, nodes, consumers)
        if within is not None:  # one module's inside: never collapsed further or cut
            self.depth = within.count(".") + 1 + (within != "")
            self.notes.append(f"inside {self.info(within).title()}: its children as boxes, dashed what feeds it "
                              "and what uses its output" if within else "the top level: one box per module")
            self._surroundings(nodes, consumers)
            self.folded = self._fold() if fold else {}
            return
        if max_nodes is None:  # no budget: everything is drawn
            self.folded = self._fold() if fold and self.depth is not None else {}
            return
        if depth is None and not self._fits(root, None, max_nodes):
            deepest = max((p.count(".") + 1 for p in self.owners.values() if p), default=0)
            fits = [d for d in range(deepest, 0, -1) if self._fits(root, d, max_nodes)]
            self.depth = fits[0] if fits else (1 if deepest else None)
            if self.depth is not None:
                self.notes.append(f"collapsed to module depth {self.depth}: the full graph ({len(nodes):,} nodes) "
                                  f"is over the drawing budget of {self._budget_text(max_nodes)}")
        self.folded = self._fold() if fold and self.depth is not None else {}
        if not self._fits(root, self.depth, max_nodes, self.folded):
            self._keep_nearest(root, nodes, max_nodes)

    def _budget_text(self, max_nodes):
        along, across = f"{budget.MAX_ALONG:,}", f"{budget.MAX_ACROSS:,}"
        size = f"{across} × {along}" if budget.direction(self.rankdir) == "TB" else f"{along} × {across}"
        return f"{max_nodes} nodes or about {size} pt"

    def _fits(self, root, depth, max_nodes, folded=None):
        """Whether a drawing at ``depth`` (unfolded, unless ``folded`` is given) is within the node budget
        and the size budget."""
        if self._cost(depth) > max_nodes:
            return False
        kept = self.depth, self.folded
        self.depth, self.folded = depth, folded or {}
        try:
            return budget.fits(self.size())
        finally:
            self.depth, self.folded = kept

    def size(self, shown=None):
        """The estimated (along, across) in pt of the drawing as planned (``viz/budget.py``), or of ``shown`` nodes."""
        ranked = budget.ranks(self.nodes[-1], self.nodes, self._unit, shown)  # the root is the newest node
        return budget.extent(*ranked, self.rankdir, self._clusters_around, lambda path: cluster_title(self.info(path)))

    def width(self):
        """The drawing's estimated width in pt (what its title wraps to)."""
        along, across = self.size(None if not self.hidden else {n for n in self.nodes if n not in self.hidden})
        return across if budget.direction(self.rankdir) == "TB" else along

    def _unit(self, node):
        """What ``node`` is drawn as: its box's name, or itself."""
        box = self.box(node)
        return node if box is None else box

    def _clusters_around(self, unit):
        """The clusters a drawn unit sits in, innermost first."""
        path = self.box_parent(unit) if isinstance(unit, str) else self.owners.get(unit)
        found = []
        while path:
            found.append(path)
            path = parent_path(path)
        return found

    @property
    def note(self):
        return "; ".join(self.notes)

    # -- modules --

    def _modules(self, nodes):
        """path -> ModuleInfo for every module a node belongs to, and their ancestors."""
        objects = {}
        for node in nodes:
            module = getattr(node, "_module", None)
            while module is not None and getattr(module, "_path", ""):
                objects.setdefault(module._path, module)
                parent = getattr(module, "_parent", None)
                module = parent() if parent is not None else None
        paths = {p for p in self.owners.values() if p}
        for path in list(paths):  # every ancestor has a box or cluster, known or not
            while (path := parent_path(path)) is not None:
                paths.add(path)
        return {p: ModuleInfo(p, objects.get(p)) for p in paths | set(objects)}

    def _outputs(self, root, nodes, consumers):
        """Each module's output shape: its newest node that the root is, or that a node outside it uses."""
        for node in reversed(nodes):  # newest first
            path = self.owners.get(node)
            if path is None or not hasattr(node, "shape"):
                continue
            users = [self.owners.get(c) for c, _ in consumers.get(node, ())]
            while path is not None:
                info = self.modules.get(path)
                if info is not None and info.output is None and (
                        node is root or any(not _within(u, path) for u in users)):
                    info.output = tuple(node.shape)
                path = parent_path(path)

    def inside(self, node):
        """Whether ``node`` is drawn as part of the module a ``within`` drawing shows (always, without one)."""
        return self.within is None or self.within == "" or _within(self.owners.get(node), self.within)

    def _surroundings(self, nodes, consumers):
        """Outside nodes next to the inside: context; all other outside nodes: hidden."""
        for node in nodes:
            if self.inside(node):
                continue
            near = any(self.inside(c) for c, _ in consumers.get(node, ())) or any(self.inside(p) for p in node._inputs)
            (self.context if near else self.hidden).add(node)

    def info(self, path):
        return self.modules.get(path) or ModuleInfo(path, None)

    # -- boxes --

    def box(self, node):
        """The collapsed module box holding ``node``, or None if the node is drawn on its own."""
        path = self.owners.get(node)
        if self.depth is None or path is None or path.count(".") + 1 < self.depth or not self.inside(node):
            return None  # a module shallower than the depth is a cluster: its own gates are drawn in it
        at = prefix(path, self.depth) if self.depth else ""
        return self.folded.get(at, at)

    def box_info(self, box):
        """The ModuleInfo a box is titled with (a folded run's first module, counting the run)."""
        return self.info(box.partition("–")[0]) if box else ModuleInfo("", None)

    def box_parent(self, box):
        """The cluster a box sits in: its parent module's path, or None at the top."""
        return parent_path(box.partition("–")[0]) if box else None

    def _fold(self):
        """path -> folded box name for runs of ≥ 2 consecutive identical sibling boxes at the collapsed depth."""
        depth = self.depth
        boxes = sorted({prefix(p, depth) for n, p in self.owners.items() if p and p.count(".") + 1 >= depth and self.inside(n)})
        by_parent = {}
        for box in boxes:
            by_parent.setdefault(parent_path(box), []).append(box)
        folded = {}
        for siblings in by_parent.values():
            siblings.sort(key=_sibling_order)
            run = [siblings[0]]
            for box in siblings[1:] + [None]:
                same = box is not None and _consecutive(run[-1], box) and \
                    self.info(box).signature() is not None and self.info(box).signature() == self.info(run[0]).signature()
                if same:
                    run.append(box)
                    continue
                if len(run) > 1:
                    first = self.info(run[0])
                    first.count, first.last = len(run), run[-1]
                    for member in run:
                        folded[member] = first.name
                run = [box]
        return folded

    # -- the budget --

    def _cost(self, depth):
        """Roughly how many graphviz nodes a drawing at ``depth`` needs (a node and a label per loose node)."""
        loose, boxes = 0, set()
        for path in self.owners.values():
            if depth is None or path is None or path.count(".") + 1 < depth:
                loose += 1
            else:
                boxes.add(prefix(path, depth))
        return 2 * loose + len(boxes)

    def _keep_nearest(self, root, nodes, max_nodes):
        """Keep the nodes nearest the root (breadth first), within the node and size budgets; hide the rest.

        Breadth first is not how graphviz ranks (a node reached early by a short path may sit further up,
        below its longest path), so the kept graph is measured again and the room shrunk until it fits."""
        # room for the estimate's error and for the note saying what was left out
        longest = budget.MARGIN * budget.MAX_ALONG - budget.note_along(self.rankdir)
        widest = budget.MARGIN * budget.MAX_ACROSS
        room, width = longest, widest
        for _ in range(12):
            keep = budget.nearest(root, max_nodes // 2, self._unit, self.rankdir, room, width)
            along, across = self.size(keep)
            if along <= longest and across <= widest:
                break
            room = room * min(1.0, longest / along) * 0.95
            width = width * min(1.0, widest / across) * 0.95
        self.hidden = {n for n in nodes if n not in keep}
        if self.hidden:
            self.notes.append(f"showing the {len(keep):,} nodes nearest the root (the budget: "
                              f"{self._budget_text(max_nodes)}); {len(self.hidden):,} earlier nodes are not drawn")


def check_within(within, nodes):
    """A ``within`` that names a module some node of the graph was made in (or the top level, ``""``)."""
    if within is None or within == "":
        return
    if not isinstance(within, str):
        raise TypeError(f"draw: within must be a module path (a str such as 'layer1.0') or None, got {within!r}")
    paths = sorted({p for p in map(owner, nodes) if p})
    if not any(p == within or p.startswith(within + ".") for p in paths):
        known = sorted({p.split(".")[0] for p in paths})
        raise ValueError(f"draw: no node of this graph was made inside a module {within!r}; its top-level modules "
                         f"are {', '.join(map(repr, known[:12])) or 'none (the graph uses no modules)'}"
                         f"{', …' if len(known) > 12 else ''}")


def _within(path, container):
    """Whether module ``path`` is ``container`` or inside it."""
    return path is not None and (path == container or path.startswith(container + "."))


def _sibling_order(path):
    last = path.rpartition(".")[2]
    return (0, int(last), "") if last.isdigit() else (1, 0, last)


def _consecutive(a, b):
    """Two sibling paths next to each other: ``0`` and ``1`` (named siblings are never consecutive)."""
    x, y = a.rpartition(".")[2], b.rpartition(".")[2]
    return x.isdigit() and y.isdigit() and int(y) == int(x) + 1


def cluster_tree(paths):
    """Every module path and all its ancestors, deepest first (so children are built before their parents)."""
    every = set()
    for path in paths:
        parts = path.split(".")
        every.update(".".join(parts[:k]) for k in range(1, len(parts) + 1))
    return sorted(every, key=lambda p: (-p.count("."), p))
