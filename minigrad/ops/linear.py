"""The fully connected layer as one gate: y = x·Wᵀ + b, as ``torch.nn.functional.linear``.

W has shape (out_features, in_features) and x has shape (..., in_features); the leading axes of x
are batch axes, flattened to rows for the products. The lectures' matmul rule gives each gradient
as the only product with the right shape, and the bias is an add gate broadcast over the rows:

    dL/dx = dL/dy·W        (..., out)·(out, in) → (..., in)
    dL/dW = dL/dyᵀ·x       (out, rows)·(rows, in) → (out, in): every row's contribution adds up
    dL/db = Σ dL/dy        summed over the rows
"""
from __future__ import annotations

import numpy as np

from ..core.function import Function
from ..core.rules import Rule
from .gate import as_tensor


class Linear(Function):
    name, symbol = "linear", "xWᵀ+b"
    rules = (Rule("x", "dL/dy·W"), Rule("W", "dL/dyᵀ·x"), Rule("b", "Σ dL/dy"))

    @staticmethod
    def forward(ctx, x, w, *bias):
        ctx.save_for_backward(x, w)
        y = np.matmul(x, w.T)  # BLAS reads the transposed view directly, no copy
        if bias:
            if np.result_type(y, bias[0]) == y.dtype:
                y += bias[0]  # in place: no second output-sized array
            else:
                y = y + bias[0]
        return y

    @staticmethod
    def backward(ctx, up):
        x, w = ctx.saved_tensors
        need_x, need_w, *need_b = ctx.needs_input_grad  # a first layer's dL/dx is a GEMM nobody uses: skipped
        rows_up = up.reshape(-1, w.shape[0])
        dx = np.matmul(up, w) if need_x else None
        dw = np.matmul(rows_up.T, x.reshape(-1, w.shape[1])) if need_w else None
        grads = (dx, dw)
        if need_b:  # a bias is the third input
            grads += (rows_up.sum(axis=0) if need_b[0] else None,)
        return grads

    def backward_graph(self, node, up):
        x, w = node._inputs[:2]
        need_x, need_w, *need_b = self.needs_input_grad
        rows_up = up.reshape(-1, w.shape[0])
        grads = (up @ w if need_x else None, rows_up.T @ x.reshape(-1, w.shape[1]) if need_w else None)
        if need_b:
            grads += (rows_up.sum(dim=0) if need_b[0] else None,)
        return grads


def linear(x, w, b=None):
    """y = x·Wᵀ + b for x (..., in_features), w (out_features, in_features), b (out_features,) or None."""
    x = as_tensor("linear", x)
    w = as_tensor("linear", w, "weight")
    if w.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape {w.shape}")
    if x.ndim == 0:
        raise ValueError("linear: input must have at least 1 dimension (..., in_features), got a 0-d tensor")
    if x.shape[-1] != w.shape[1]:
        raise ValueError(
            f"linear: input has {x.shape[-1]} features (input shape {x.shape}) but weight {w.shape} expects "
            f"{w.shape[1]} (weight is (out_features, in_features) = {w.shape})"
        )
    inputs = [x, w]
    if b is not None:
        b = as_tensor("linear", b, "bias")
        if b.shape != (w.shape[0],):
            raise ValueError(
                f"linear: bias has shape {b.shape} but weight {w.shape} has {w.shape[0]} output features; "
                f"it must have shape ({w.shape[0]},)"
            )
        inputs.append(b)
    return Linear.apply(*inputs)
