"""``Elementwise``: a gate whose rules are all elementwise, so that its backward is ``local ⊙ upstream``.

A subclass writes only ``forward`` and declares its rules (``core/rules.py``); backward evaluates each
rule's local gradient on what forward saved and multiplies it by the upstream gradient, and for
``create_graph`` evaluates the same rules on the gate's input and output nodes, so the gradient is
made of gates and can be differentiated again.
"""
from __future__ import annotations

import numpy as np

from .engine import modes
from .function import Function, HigherOrderError, _check_output
from .tensor import Tensor


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
        self._keep(arrays, out)
        return out

    def _keep(self, arrays, out):
        saves = self.saves
        if saves == "inputs":
            self.saved = tuple(arrays)
        elif saves == "output":
            self.saved = (out,)
        elif saves:
            self.saved = (*arrays, out)

    def _apply(ctx, args, options):
        """``Function._apply`` in one frame for the common case -- every argument a Tensor, an array out --
        the hot path of every elementwise gate (bench/README.md: a gate's overhead). What it saves is
        known (``saves``), so so are the versions to check: the inputs' and the output's, no search."""
        try:  # one and two inputs spelled out: a list comprehension costs a frame
            n = len(args)
            if n == 1:
                arrays = (args[0]._data,)
            elif n == 2:
                arrays = (args[0]._data, args[1]._data)
            else:
                arrays = tuple([x._data for x in args])
        except AttributeError:  # a non-Tensor argument: the general path
            return Function._apply(ctx, args, options)
        ctx._options = options
        data = type(ctx).forward(ctx, *arrays, **options)
        if data.__class__ is not np.ndarray:
            data = _check_output(type(ctx), data)
            if isinstance(data, tuple):
                raise TypeError(f"{ctx.name}: an Elementwise gate has one output; use a Function for several")
        if modes.grad:
            for x in args:
                if x.requires_grad:
                    out = Tensor._make(data, ctx, args)
                    saves, fresh = ctx.saves, data.base is None
                    for a in arrays:
                        if a is data:
                            fresh = False
                    if not fresh:  # forward returned an input, or a view: find what shares memory
                        ctx._keep(arrays, data)
                        ctx._note_versions(args, out)
                        return out
                    if "inputs" in saves:
                        ctx.versions = (((0, args[0]._vc[0]),) if n == 1 else
                                        ((0, args[0]._vc[0]), (1, args[1]._vc[0])) if n == 2 else
                                        tuple([(i, x._vc[0]) for i, x in enumerate(args)]))
                        ctx.saved = arrays if saves == "inputs" else (*arrays, data)
                    if "output" in saves:
                        ctx.out_version = 0  # a new array: the output's first version
                        if saves == "output":
                            ctx.saved = (data,)
                    elif not saves and ctx.saved:  # forward saved something itself
                        ctx._note_versions(args, out)
                    return out
        return Tensor._make(data, None, ())  # no graph: nothing to save

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
                try:
                    grads.append(up * local(*args))
                except TypeError as exc:
                    raise HigherOrderError(
                        f"{self.name}: its rule for input {i} ({self.rule(i).text}) does not work on Tensors ({exc}), "
                        f"so create_graph=True cannot differentiate it again; write the local gradient with Tensor "
                        f"operations (x.exp(), 1 - y * y, ...), not numpy's, or value(x) from minigrad.core.rules for "
                        f"a choice that is a constant (relu's [x > 0])"
                    ) from exc
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
