"""Matrix multiplication for 1-D, 2-D and batched (broadcast) operands, as ``numpy.matmul``.

The lectures' rule for Y = X·W: dL/dX = dL/dY·Wᵀ and dL/dW = Xᵀ·dL/dY -- each the only
product with the right shape. A 1-D operand is treated as a row (on the left) or a column
(on the right) and the extra axis dropped again; batch axes that were broadcast are summed.
"""
from __future__ import annotations

import numpy as np

from ..core.function import Function
from ..core.rules import Rule
from .gate import constant


class MatMul(Function):
    name, symbol = "matmul", "@"
    rules = (Rule("X", "dL/dY·Wᵀ"), Rule("W", "Xᵀ·dL/dY"))

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, up):
        a, b = ctx.saved_tensors
        if a.ndim == 1 and b.ndim == 1:  # a dot product: the mul gate's swap, summed
            return up * b, up * a
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        if a.ndim == 1:
            up = np.expand_dims(up, -2)
        if b.ndim == 1:
            up = np.expand_dims(up, -1)
        need_a, need_b = ctx.needs_input_grad  # x @ W with x a batch of data: its gradient is a GEMM nobody uses
        da = np.matmul(up, np.swapaxes(b2, -1, -2)) if need_a else None
        db = np.matmul(np.swapaxes(a2, -1, -2), up) if need_b else None
        if a.ndim == 1 and need_a:
            da = da[..., 0, :]
        if b.ndim == 1 and need_b:
            db = db[..., 0]
        return da, db

    def backward_graph(self, node, up):
        """The same products of Tensors: dL/dX = dL/dY·Wᵀ and dL/dW = Xᵀ·dL/dY, differentiable again."""
        a, b = node._inputs
        need_a, need_b = self.needs_input_grad
        if a.ndim == 1 and b.ndim == 1:
            return (up * b if need_a else None), (up * a if need_b else None)
        a2 = a.reshape(1, -1) if a.ndim == 1 else a
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b
        if a.ndim == 1:
            up = up.unsqueeze(-2)
        if b.ndim == 1:
            up = up.unsqueeze(-1)
        da = (up @ b2.transpose(-1, -2)) if need_a else None
        db = (a2.transpose(-1, -2) @ up) if need_b else None
        if a.ndim == 1 and need_a:
            da = da.squeeze(-2)
        if b.ndim == 1 and need_b:
            db = db.squeeze(-1)
        return da, db


def matmul(a, b):
    other = constant(b, a)
    if other is None:
        return NotImplemented
    return matmul_checked(a, other)


def rmatmul(a, b):
    other = constant(b, a)
    if other is None:
        return NotImplemented
    return matmul_checked(other, a)


def matmul_checked(a, b):
    if a._data.dtype != b._data.dtype:  # PyTorch's promotion (int64 @ float32 is float32), not numpy's
        from . import dtypes

        a, b = dtypes.promoted("matmul", a, b)
    sa, sb = a._data.shape, b._data.shape  # the arrays' shapes: Tensor.shape is a property call each time
    if not sa or not sb:
        raise ValueError(f"matmul: both operands need at least 1 dimension, got {sa} @ {sb}; use * for scalars")
    inner_a = sa[-1]
    inner_b = sb[-2] if len(sb) >= 2 else sb[0]
    if inner_a != inner_b:
        raise ValueError(f"matmul: {sa} @ {sb}: inner dimensions {inner_a} and {inner_b} differ")
    if len(sa) > 2 and len(sb) > 2:
        try:
            np.broadcast_shapes(sa[:-2], sb[:-2])
        except ValueError:
            raise ValueError(
                f"matmul: {sa} @ {sb}: batch dimensions {sa[:-2]} and {sb[:-2]} cannot be broadcast"
            ) from None
    return MatMul()._apply((a, b), {})
