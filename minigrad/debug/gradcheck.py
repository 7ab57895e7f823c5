"""``gradcheck``: analytic gradients against float64 central differences at every index."""
from __future__ import annotations

import numpy as np

from ..core.engine import no_grad


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with central differences."""


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check ``fn``'s gradients against float64 central differences at every index of every input.

    ``inputs`` are Tensors (those with ``requires_grad`` are checked) or arrays (all checked);
    they are copied to float64 first. ``fn`` returns a Tensor of any shape: its gradient is
    taken against a fixed random upstream gradient v (1 for a one-element output), and the numeric derivative of
    ⟨fn(x), v⟩ is (⟨fn(x + eps·eᵢ), v⟩ − ⟨fn(x − eps·eᵢ), v⟩) / 2eps for every index i.
    An index passes when |analytic − numeric| ≤ atol + rtol·|numeric|.

    Returns True, or raises ``GradcheckError`` naming the worst index with both values.
    """
    from ..core.tensor import Tensor

    xs = []
    for k, x in enumerate(inputs):
        wants = x.requires_grad if isinstance(x, Tensor) else True
        array = np.array(x.data if isinstance(x, Tensor) else x, copy=True)
        if array.dtype.kind == "f" or (wants and array.dtype.kind in "iu" and not isinstance(x, Tensor)):
            array = array.astype(np.float64)
            bad = ~np.isfinite(array)
            if bad.any():
                where = tuple(int(i) for i in np.argwhere(bad)[0])
                raise ValueError(
                    f"gradcheck: input {k} holds {array[where]} at index {where}; central differences need finite inputs"
                )
        xs.append(Tensor(array, requires_grad=wants and array.dtype.kind == "f"))
    checked = [k for k, x in enumerate(xs) if x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; pass arrays, or Tensors with requires_grad=True")

    out = fn(*xs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    if not out.requires_grad:
        raise ValueError("gradcheck: the output does not depend on any input that requires grad")
    if not np.all(np.isfinite(out.data)):
        raise ValueError("gradcheck: fn's output is not finite at the given inputs")
    # a one-element output keeps upstream 1 (so the numbers are plain derivatives); others get a
    # fixed random upstream, which mixes every output element into the check
    upstream = np.ones(out.shape) if out.data.size == 1 else np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(upstream.astype(out.dtype))

    def projected():
        with no_grad():
            return float(np.sum(np.asarray(fn(*xs).data, dtype=np.float64) * upstream))

    worst = None
    for k in checked:
        x = xs[k]
        analytic = x.grad if x.grad is not None else np.zeros_like(x.data)
        flat = x.data.reshape(-1)  # a view: perturbing it perturbs x
        for i in range(flat.size):
            saved = flat[i]
            flat[i] = saved + eps
            plus = projected()
            flat[i] = saved - eps
            minus = projected()
            flat[i] = saved
            numeric = (plus - minus) / (2 * eps)
            a = float(analytic.reshape(-1)[i])
            excess = abs(a - numeric) - (atol + rtol * abs(numeric))
            if excess > 0 and (worst is None or excess > worst[0]):
                worst = (excess, k, np.unravel_index(i, x.shape), a, numeric)
    if worst is not None:
        _, k, index, a, numeric = worst
        index = tuple(int(i) for i in index)
        raise GradcheckError(
            f"gradcheck: input {k} (shape {xs[k].shape}) at index {index}: analytic {a:.8g} vs numeric {numeric:.8g} "
            f"(|difference| {abs(a - numeric):.3g} > atol {atol} + rtol {rtol} × |numeric|)"
        )
    return True
