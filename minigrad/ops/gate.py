"""The tensor gate: a forward rule on numpy arrays and a local-gradient rule, one instance per use.

A tensor gate computes ``forward(*arrays, **options)``, keeps what its backward needs with
``save(...)``, and gives one gradient per input in ``vjp(upstream)`` (the vector-Jacobian
product: the Jacobian is never formed, as the lectures insist). Gradients may come back in the
broadcast shape of the output: :meth:`TensorGate.backward` sums them back to each input's shape,
the one place in minigrad where un-broadcasting happens.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..core.engine import Gate, grad_mode
from ..core.tensor import Tensor


def sum_to_shape(grad, shape):
    """Sum ``grad`` over the axes numpy broadcasting added or stretched, so it has ``shape``.

    ``(5, 13, 24, 16) -> (5, 1, 24, 1)`` sums axes 1 and 3 (keeping them); ``(4, 5) -> (5,)``
    sums the leading axis away.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and grad.shape[extra + i] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


class TensorGate(Gate):
    """Base of every tensor gate. Subclasses implement ``forward`` and ``vjp`` (and ``local`` for the drawing).

    ``uses_inputs`` says whether backward reads the inputs' values; if it does, modifying an
    input in place between forward and backward is an error (each Tensor has a version counter).
    ``needs`` tells ``vjp`` which inputs want a gradient.
    """

    uses_inputs = True
    uses_output = False
    """Backward reads the gate's own output (exp, sqrt, sigmoid, tanh, softmax, pow): changing it in
    place before backward is an error too."""
    view = False
    """The output may be a view of input 0's array (reshape, permute, basic indexing); when it is, the
    two share one version counter, so an in-place change through either is seen by gates that saved the other."""

    saved = ()  # per instance once save() runs; class defaults keep a gate's creation cheap
    versions = None
    released = False
    needs = None
    """Set by ``backward`` before it calls ``vjp``: one bool per input, whether it requires grad. A vjp
    may skip the gradients nobody needs (a first layer's dL/dx is a whole GEMM); ``backward`` drops
    them anyway, so a vjp that ignores ``needs`` is still correct."""

    def save(self, *arrays):
        """Keep what backward needs (freed after backward unless the graph is retained)."""
        self.saved = arrays

    def release(self):
        self.saved = None
        self.released = True

    # -- what subclasses write --

    def forward(self, *arrays, **options):
        raise NotImplementedError

    def vjp(self, upstream):
        """One gradient per input (None where the input gets none), in any broadcastable shape."""
        raise NotImplementedError

    def local(self, node):
        """What the drawing writes as "local": the rule as text by default."""
        return (self.formula,) * len(node._inputs)

    # -- the engine's side --

    def backward(self, node, upstream):
        if self.released:
            raise RuntimeError(
                f"{self.name}: trying to backward through the graph a second time (its saved arrays were "
                f"freed after the first backward); call backward(retain_graph=True) the first time"
            )
        inputs = node._inputs
        if self.uses_inputs and self.versions is not None and self.versions != tuple([x._version for x in inputs]):
            self._modified_in_place(inputs)
        if self.uses_output and node._version != self.out_version:
            raise RuntimeError(
                f"{self.name}: its output (shape {node.shape}) was modified in place after {self.name} computed it "
                f"(version {self.out_version} -> {node._version}), but backward needs it; use an out-of-place "
                f"operation (y = y * 2 instead of y.mul_(2)) or y.clone() first"
            )
        self.needs = needs = tuple([x.requires_grad for x in inputs])
        grads = self.vjp(upstream)
        out = []
        for x, g, need in zip(inputs, grads, needs):
            if g is None or not need:
                out.append(None)
                continue
            data = x._data  # the array itself: Tensor.shape and .dtype are properties, and this runs for every edge
            if g.dtype != data.dtype:
                g = g.astype(data.dtype)
            if g.shape != data.shape:
                g = sum_to_shape(g, data.shape)
            out.append(g)
        return out

    def _modified_in_place(self, inputs):
        for i, (x, version) in enumerate(zip(inputs, self.versions)):
            if x._version != version:
                raise RuntimeError(
                    f"{self.name}: input {i} (shape {x.shape}) was modified in place after {self.name} used it "
                    f"(version {version} -> {x._version}), but backward needs its old value; "
                    f"use an out-of-place operation (x = x * 2 instead of x.mul_(2)) or x.clone() first"
                )

    @classmethod
    def apply(cls, *inputs, **options):
        """Run a new gate on input Tensors; the output joins the graph if any input requires grad."""
        return cls().run(*inputs, **options)

    def run(self, *inputs, **options):
        """``apply`` on this gate object, for callers that read what forward kept (max_pool2d's indices)."""
        data = self.forward(*[x._data for x in inputs], **options)
        out = None
        if grad_mode.enabled:
            for x in inputs:
                if x.requires_grad:
                    if self.uses_inputs:
                        self.versions = tuple([x._version for x in inputs])
                    out = Tensor._make(data, self, inputs)
                    break
        if out is None:
            out = Tensor._make(data, None, ())
        if self.view and data.base is not None and np.may_share_memory(data, inputs[0]._data):
            out._vc = inputs[0]._vc
        elif self.uses_output:
            self.out_version = out._version
        return out


def constant(x, like=None):
    """``x`` as a Tensor that needs no gradient, or None if it cannot be one.

    Tensors pass through; numpy arrays and scalars keep their dtype; Python numbers take ``like``'s
    float dtype (so ``x + 1`` stays float32), else float32 like lists.
    """
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (np.ndarray, np.generic)):
        return Tensor._make(np.asarray(x), None, ())
    if isinstance(x, numbers.Real) and like is not None and like.dtype.kind == "f":
        return Tensor._make(np.asarray(x, dtype=like.dtype), None, ())
    if isinstance(x, (numbers.Real, list, tuple)):
        return Tensor(x)
    return None


def as_tensor(op, x, what="input"):
    """``x`` as a Tensor (see :func:`constant`), or a TypeError that names the op and the argument."""
    out = constant(x)
    if out is None:
        raise TypeError(f"{op}: {what} must be a Tensor or a numpy array, got {type(x).__name__}")
    return out


def broadcast_shape(name, *shapes):
    """The broadcast shape, or a ValueError naming the gate and the shapes."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        listed = " and ".join(str(tuple(s)) for s in shapes)
        raise ValueError(
            f"{name}: shapes {listed} cannot be broadcast together (numpy rules: trailing dimensions must be "
            f"equal or 1); reshape one of them, e.g. x.reshape(...) or x[:, None]"
        ) from None
