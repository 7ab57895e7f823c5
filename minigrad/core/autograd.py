"""``minigrad.autograd.grad``: the gradients of some outputs with respect to some inputs, as ``torch.autograd.grad``.

It runs the one backprop loop (``core/engine.py``) without touching ``.grad``: the loop hands each
requested input's complete gradient back instead. With ``create_graph=True`` those gradients are
Tensors (or Values) whose graphs are made of the same gates as the forward pass, so they can be
differentiated again: a Hessian-vector product is two calls, a gradient penalty one call and a
``backward()``.
"""
from __future__ import annotations

import numbers

import numpy as np

from . import engine
from .scalar import Value
from .tensor import Tensor


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """The gradients of ``outputs`` with respect to ``inputs``, one per input, as a tuple.

    ``outputs`` and ``inputs`` are a Tensor (or Value) or a sequence of them. ``grad_outputs`` gives
    the gradient each output starts from (needed for outputs with more than one element; ones
    otherwise). ``.grad`` is not touched. Without ``create_graph`` the gradients are numpy arrays (floats
    for Values), like ``.grad``; with it they are Tensors (Values) that carry a graph, differentiable
    again. ``retain_graph`` defaults to ``create_graph``, as in PyTorch: without it the graph's saved
    arrays are freed. An input the outputs do not depend on is an error naming it, or None with
    ``allow_unused=True``.
    """
    outputs = _nodes("outputs", outputs)
    inputs = _nodes("inputs", inputs)
    for k, x in enumerate(inputs):
        if not x.requires_grad:
            raise ValueError(
                f"autograd.grad: input {k} ({_describe(x)}) does not require grad, so no gradient flows to it; "
                f"make it with requires_grad=True"
            )
    for k, y in enumerate(outputs):
        if not y.requires_grad:
            left = engine.modes.left_graph
            why = (f"; if it was made from a gradient of the last create_graph=True pass, the gate {left} is the "
                   f"likely cause: it saved tensors that require grad, yet none of its backward's gradients does "
                   f"(.data, or a numpy array, in its backward makes them constants); mg.gradgradcheck checks it"
                   if left else
                   " (was it computed under no_grad(), or is it a gradient that does not depend on the inputs, whose "
                   "own gradient is 0?)")
            raise ValueError(
                f"autograd.grad: output {k} ({_describe(y)}) does not require grad: it does not depend on any input "
                f"that does{why}"
            )
    seeds = _seeds(outputs, grad_outputs, create_graph)
    capture = {x: None for x in inputs}
    retain = create_graph if retain_graph is None else retain_graph
    engine.run_backward(outputs, seeds, retain=retain, graph=bool(create_graph), capture=capture)
    results = []
    for k, x in enumerate(inputs):
        g = capture[x]
        if g is None and not allow_unused:
            raise ValueError(
                f"autograd.grad: input {k} ({_describe(x)}) is not used by the outputs (no gradient reached it); "
                f"pass allow_unused=True to get None for it"
            )
        results.append(g)
    return tuple(results)


def _nodes(what, given):
    items = [given] if isinstance(given, (Tensor, Value)) else list(given) if isinstance(given, (list, tuple)) else None
    if not items or not all(isinstance(n, (Tensor, Value)) for n in items):
        raise TypeError(f"autograd.grad: {what} must be a Tensor or Value, or a sequence of them; got {given!r}")
    return items


def _describe(node):
    name = f"{node.label!r}, " if node.label else ""
    return f"{name}shape {tuple(node.shape)}" if isinstance(node, Tensor) else f"{name}Value {node.data}"


def _seeds(outputs, grad_outputs, create_graph):
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif not isinstance(grad_outputs, (list, tuple)) and len(outputs) == 1:
        grad_outputs = [grad_outputs]
    grad_outputs = list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"autograd.grad: {len(grad_outputs)} grad_outputs for {len(outputs)} outputs; give one each")
    seeds = []
    for k, (y, g) in enumerate(zip(outputs, grad_outputs)):
        if isinstance(y, Value):
            value = 1.0 if g is None else _value_seed(k, g)
            seeds.append(Value._make(None, (), value) if create_graph else value)
            continue
        if g is None and y.numel() != 1:
            raise RuntimeError(
                f"autograd.grad: output {k} has shape {y.shape}: a gradient can be implied only for a one-element "
                f"output; pass grad_outputs (an array of shape {y.shape} for it)"
            )
        try:
            seed = y._seed_grad(g)
        except ValueError as exc:
            raise ValueError(f"autograd.grad: grad_outputs[{k}]: {exc}") from None
        seeds.append((g if isinstance(g, Tensor) else Tensor._make(seed, None, ())) if create_graph else seed)
    return seeds


def _value_seed(k, g):
    """A Value output's grad_outputs entry as a float: a number, a Value, or anything with one element."""
    g = g.data if isinstance(g, (Value, Tensor)) else g
    fix = f"output {k} is a Value (a scalar): give a number, such as 1.0, or a Value"
    if isinstance(g, bool) or not isinstance(g, (numbers.Real, np.ndarray, np.generic)) or \
            np.asarray(g).dtype.kind not in "iuf":
        raise TypeError(f"autograd.grad: grad_outputs[{k}] is {type(g).__name__} {g!r}, but {fix}")
    if np.size(g) != 1:
        raise ValueError(f"autograd.grad: grad_outputs[{k}] has shape {np.shape(g)}, but {fix}")
    return float(np.asarray(g).reshape(()))
