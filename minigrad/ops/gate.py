"""The bridge between the gates and ``Tensor``: the one module of ``ops`` that knows the class.

The gates themselves are written on numpy arrays (``core/function.py``: ``Function`` and
``Elementwise``); what they are called with is made into Tensors here: numbers and arrays become
constants (:func:`constant`, :func:`as_tensor`), and shapes that cannot broadcast get an error that
names the gate (:func:`broadcast_shape`).
"""
from __future__ import annotations

import numbers

import numpy as np

from ..core.tensor import Tensor


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


def is_tensor(x):
    """Whether ``x`` is a minigrad Tensor."""
    return isinstance(x, Tensor)
