"""Which nodes a drawing shows, and how: grouped by module, collapsed to boxes, or cut at a budget.

Every tensor made inside a Module's forward carries that module's path (``layer1.0.conv1``);
a parameter belongs to the module that holds it. The drawing puts each node in nested
graphviz clusters named by those paths, or -- with ``depth`` -- collapses every module at that
depth into one box. Past a node budget the drawing collapses on its own (the shallowest depth
that fits), and if even that is too big it keeps the nodes nearest the root and says how many
it left out, so graphviz always gets something it can lay out.
"""
from __future__ import annotations

from collections import deque


def owner(node):
    """The module path a node belongs to, or None: where its gate ran, or the module holding a parameter."""
    path = getattr(node, "_module", None)
    if path is None and node._gate is None and type(node).__name__ == "Parameter" and node.label:
        path = node.label.rpartition(".")[0]
    return path or None


def prefix(path, depth):
    """The first ``depth`` components of a module path (``layer1.0.conv1`` at depth 1 is ``layer1``)."""
    return ".".join(path.split(".")[:depth])


class Layout:
    """The plan for one drawing: for each node, drawn alone (inside its clusters), inside a box, or left out."""

    def __init__(self, root, nodes, depth=None, max_nodes=500):
        self.owners = {n: owner(n) for n in nodes}
        self.depth = depth
        self.note = ""
        self.hidden = set()
        if depth is None and self._cost(None) > max_nodes:
            deepest = max((p.count(".") + 1 for p in self.owners.values() if p), default=0)
            fits = [d for d in range(deepest, 0, -1) if self._cost(d) <= max_nodes]
            self.depth = fits[0] if fits else (1 if deepest else None)
            if self.depth is not None:
                self.note = (f"collapsed to module depth {self.depth}: the full graph has {len(nodes):,} nodes, "
                             f"over the drawing budget of {max_nodes}")
        if self._cost(self.depth) > max_nodes:  # also when the caller's depth does not bring it under budget
            self._keep_nearest(root, nodes, max_nodes)

    def box(self, node):
        """The collapsed module box holding ``node``, or None if the node is drawn on its own."""
        path = self.owners.get(node)
        if self.depth is None or path is None:
            return None
        return prefix(path, self.depth)

    def _cost(self, depth):
        """Roughly how many graphviz nodes a drawing at ``depth`` needs (a value and a gate per loose node)."""
        loose, boxes = 0, set()
        for path in self.owners.values():
            if depth is None or path is None:
                loose += 1
            else:
                boxes.add(prefix(path, depth))
        return 2 * loose + len(boxes)

    def _keep_nearest(self, root, nodes, max_nodes):
        """Keep the nodes nearest the root (breadth first) until the budget is used, hide the rest."""
        keep, queue, budget = {root}, deque([root]), max_nodes // 2
        while queue and len(keep) < budget:
            for parent in queue.popleft()._inputs:
                if parent not in keep and len(keep) < budget:
                    keep.add(parent)
                    queue.append(parent)
        self.hidden = {n for n in nodes if n not in keep}
        cut = f"showing the {len(keep):,} nodes nearest the root; {len(self.hidden):,} earlier nodes are not drawn"
        self.note = f"{self.note}; {cut}" if self.note else cut


def cluster_tree(paths):
    """Every module path and all its ancestors, deepest first (so children are built before their parents)."""
    every = set()
    for path in paths:
        parts = path.split(".")
        every.update(".".join(parts[:k]) for k in range(1, len(parts) + 1))
    return sorted(every, key=lambda p: (-p.count("."), p))
