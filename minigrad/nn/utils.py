"""``minigrad.nn.utils``: gradient clipping, as ``torch.nn.utils``.

Call it between ``loss.backward()`` and ``optimizer.step()``: it changes the parameters' ``.grad``
in place.

    clip_grad_norm_(params, max_norm, norm_type=2.0)   every gradient × min(1, max_norm / (‖g‖ + 1e-6))
    clip_grad_value_(params, clip_value)               every gradient clamped to [−clip_value, clip_value]

‖g‖ is the norm of all the gradients together, as if they were one long vector: for the p-norm,
(Σ_k ‖g_k‖_p^p)^(1/p), computed as PyTorch does, the p-norm of the per-parameter p-norms; for
``inf``, the largest |g| of any parameter. Rescaling every gradient by the same factor keeps the
direction of the step and bounds its length; clamping each value does not keep the direction.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..core.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale the gradients of ``parameters`` (a Tensor or an iterable of them) so that their total norm is at
    most ``max_norm``; returns the total norm before clipping, a 0-d Tensor (as PyTorch).

    ``norm_type``: any p > 0, or ``inf`` (``float("inf")`` or ``"inf"``). Parameters without a gradient are
    skipped. A total norm that is NaN or infinite scales the gradients by a NaN (or zero) factor, as in
    PyTorch, unless ``error_if_nonfinite=True``, which raises instead. ``foreach`` is accepted as in
    PyTorch and changes nothing (numpy has one way to do it).
    """
    parameters = _parameter_list("clip_grad_norm_", parameters)
    max_norm = _number("clip_grad_norm_", "max_norm", max_norm)
    grads = [p.grad for p in parameters if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    return total


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False):
    """The ``norm_type``-norm of the gradients (arrays or Tensors) ``tensors`` taken together, a 0-d Tensor."""
    norm_type = _norm_type(norm_type)
    arrays = [_array(g) for g in ([tensors] if isinstance(tensors, (np.ndarray, Tensor)) else list(tensors))]
    if not arrays:
        return Tensor(np.zeros((), np.float32))
    dtype = np.result_type(*arrays)
    norms = np.array([_vector_norm(a.astype(dtype, copy=False), norm_type) for a in arrays], dtype)
    total = np.asarray(_vector_norm(norms, norm_type), dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {float(total)}, so they cannot "
            f"be clipped; find where they stop being finite (mg.detect_anomaly()), or pass error_if_nonfinite=False "
            f"to scale them by the non-finite norm anyway"
        )
    return Tensor(total)


def clip_grads_with_norm_(parameters, max_norm, total_norm):
    """Multiply every gradient by min(1, ``max_norm`` / (``total_norm`` + 1e-6)), in place (PyTorch's formula)."""
    parameters = _parameter_list("clip_grads_with_norm_", parameters)
    total = float(_array(total_norm)) if isinstance(total_norm, (Tensor, np.ndarray)) else float(total_norm)
    coef = math.nan if math.isnan(total) else min(max_norm / (total + 1e-6), 1.0)
    for p in parameters:
        if p.grad is not None:
            _scale_grad(p, coef)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient of ``parameters`` to [−``clip_value``, ``clip_value``], in place (``foreach``: as in
    ``clip_grad_norm_``)."""
    parameters = _parameter_list("clip_grad_value_", parameters)
    clip_value = _number("clip_grad_value_", "clip_value", clip_value)
    for p in parameters:
        g = p.grad
        if g is None:
            continue
        if isinstance(g, Tensor):  # create_graph: a gradient with a graph is replaced, not changed in place
            p.grad = Tensor(np.clip(g.data, -clip_value, clip_value).astype(g.dtype, copy=False))
        else:
            np.clip(g, -clip_value, clip_value, out=g)


def _vector_norm(a, p):
    a = np.abs(a.ravel())
    if p == math.inf:
        return a.max() if a.size else a.dtype.type(0)
    if p == 2:
        return np.sqrt(np.dot(a, a))
    if p == 1:
        return a.sum()
    return (a**p).sum() ** (1.0 / p)


def _scale_grad(p, coef):
    g = p.grad
    if isinstance(g, Tensor):
        p.grad = g * coef
    else:
        with np.errstate(invalid="ignore"):  # inf·0 is nan, as in PyTorch
            np.multiply(g, coef, out=g, casting="unsafe")


def _array(g):
    return np.asarray(g.data if isinstance(g, Tensor) else g)


def _parameter_list(op, parameters):
    if isinstance(parameters, Tensor):
        return [parameters]
    if isinstance(parameters, np.ndarray):
        raise TypeError(f"{op}: expected parameters (Tensors with .grad), got a numpy array; pass model.parameters()")
    try:
        parameters = list(parameters)
    except TypeError:
        raise TypeError(
            f"{op}: expected a Tensor or an iterable of Tensors (model.parameters()), got {type(parameters).__name__}"
        ) from None
    for i, p in enumerate(parameters):
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}: parameter {i} is a {type(p).__name__}, not a minigrad Tensor")
    return parameters


def _number(op, what, value):
    """A number, or a 0-d Tensor or array holding one (PyTorch takes a tensor ``max_norm`` too)."""
    if isinstance(value, (Tensor, np.ndarray)):
        array = _array(value)
        if array.ndim != 0 or array.dtype.kind not in "iuf":
            raise TypeError(f"{op}: {what} must be a number or a 0-d tensor holding one, got a {array.dtype} tensor "
                            f"of shape {array.shape}")
        return float(array)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {what} must be a number, got {value!r}")
    return float(value)


def _norm_type(norm_type):
    try:
        p = float(norm_type)
    except (TypeError, ValueError):
        raise TypeError(f"clip_grad_norm_: norm_type must be a number or 'inf', got {norm_type!r}") from None
    if not p > 0:
        raise ValueError(f"clip_grad_norm_: norm_type must be > 0 (1, 2, inf, ...), got {norm_type!r}")
    return p
