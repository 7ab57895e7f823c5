"""Gates with several outputs (a user's ``Function`` whose forward returns a tuple of arrays).

The engine knows one gate per node, so the gate's outputs hang off one *joint* node: the gate makes
the joint node (an empty array, labelled ``<name> outputs``), and each output is the joint node seen
through a small ``output k`` gate. Backprop sends each output's gradient into its slot of the joint
node's gradient; when all have arrived, the gate's backward gets one gradient per output (zeros for an
output no gradient reached, as PyTorch does).
"""
from __future__ import annotations

import numpy as np

from .engine import modes
from .function import _Parts
from .rules import Gate, Rule
from .tensor import Tensor


class Output(Gate):
    """Output ``k`` of a gate with ``n`` outputs: passes its gradient into slot k of the joint node."""

    __slots__ = ("k", "n", "name", "symbol", "rules")

    def __init__(self, k, n, owner):
        self.k, self.n = k, n
        self.name, self.symbol = f"{owner} output {k}", f"[{k}]"
        self.rules = (Rule(None, f"dL/d(outputs of {owner})[{k}] = dL/dy"),)

    def send(self, node, upstream):
        return [_Parts(upstream if j == self.k else None for j in range(self.n))]

    send_graph = send  # the slot holds a Tensor just as well


def several_outputs(ctx, inputs, arrays):
    """The Tensors for a gate's tuple of output arrays."""
    if not (modes.grad and any(x.requires_grad for x in inputs)):
        return tuple(Tensor._make(a, None, ()) for a in arrays)
    joint = Tensor._make(np.zeros(0, dtype=arrays[0].dtype), ctx, tuple(inputs))
    joint.label = f"{ctx.name} outputs"
    ctx.outputs = [(a.shape, a.dtype) for a in arrays]
    if ctx.saved:
        ctx._note_versions(inputs, joint)
    n = len(arrays)
    return tuple(Tensor._make(a, Output(k, n, ctx.name), (joint,)) for k, a in enumerate(arrays))
