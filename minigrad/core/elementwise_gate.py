"""``Elementwise``: a gate whose rules are all elementwise, so that its backward is ``local ⊙ upstream``.

A subclass writes only ``forward`` and declares its rules (``core/rules.py``); backward evaluates each
rule's local gradient on what forward saved and multiplies it by the upstream gradient, and for
``create_graph`` evaluates the same rules on the gate's input and output nodes, so the gradient is
made of gates and can be differentiated again.
"""
from __future__ import annotations

import numpy as np

from .function import Function


class Elementwise(Function):
    """A gate whose rules are all elementwise: its backward is ``local ⊙ upstream`` for each input,
    computed from the rules, so a subclass writes only ``forward`` (and declares ``rules``).

    ``saves`` says which values the local gradients read: "inputs", "output", "inputs+output" or
    "" (nothing but ``params``, which forward may set: pow's exponent, dropout's mask). They are
    saved after forward, and backward hands them to each rule as ``local(*inputs, output, *params)``.
    """

    saves = "inputs"
    params = ()

    def _forward(self, arrays, options):
        out = type(self).forward(self, *arrays, **options)
        saves = self.saves
        if saves == "inputs":
            self.saved = tuple(arrays)
        elif saves == "output":
            self.saved = (out,)
        elif saves:
            self.saved = (*arrays, out)
        return out

    def _local_args(self, n):
        """``(*inputs, output, *params)`` as the rules take them, None for what was not saved."""
        saved, saves = self.saved_tensors, self.saves
        inputs = saved[:n] if "inputs" in saves else (None,) * n
        out = saved[-1] if "output" in saves else None
        return (*inputs, out, *self.params)

    def local(self, node):
        if self.released:
            return super().local(node)
        args = self._local_args(len(node._inputs))
        out = []
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for i in range(len(node._inputs)):
                local = self.rule(i).local
                value = local(*args) if callable(local) else local
                if isinstance(value, np.ndarray) and value.dtype == bool:
                    value = value.astype(node.dtype)  # a routing mask, shown as the 1s and 0s it multiplies by
                out.append(value)
        return tuple(out)

    def backward_graph(self, node, up):
        """local ⊙ upstream in Tensor operations: each rule evaluated on the gate's input and output Tensors."""
        args = (*node._inputs, node, *self.params)
        grads = []
        for i, need in enumerate(self.needs_input_grad):
            local = self.rule(i).local
            if not need:
                grads.append(None)
            elif not callable(local):
                grads.append(up if local == 1 else up * local)
            else:
                grads.append(up * local(*args))
        return grads

    @staticmethod
    def backward(ctx, up):
        needs = ctx.needs_input_grad
        args = ctx._local_args(len(needs))
        grads = []
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for i, need in enumerate(needs):
                if not need:
                    grads.append(None)
                    continue
                rule = ctx.rule(i)
                local = rule.local
                if not callable(local):
                    grads.append(up if local == 1 else up * local)
                    continue
                value = local(*args)
                down = up * value
                if rule.routes:
                    if not np.isfinite(up).all():  # 0·inf and 0·nan are nan, but a router sends exactly 0
                        down = np.where(value != 0, down, np.zeros((), down.dtype))
                    else:
                        down += 0  # −0.0 (a negative upstream times 0) + 0 is a clean +0.0
                grads.append(down)
        return grads
