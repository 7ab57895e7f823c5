"""Gradient flow: each parameter's gradient and weight norms, vanishing and exploding gradients at a glance."""
from __future__ import annotations

import math

import numpy as np

VANISHING = 1e-3
"""``grad_flow_report`` flags a gradient norm below this fraction of the model's largest one."""
EXPLODING = 1e2
"""...and a gradient whose RMS is above this (the drawings' "exploding" colour band)."""


def _norm(array):
    """L2 norm over every element, in float64, as a Python float (inf or nan pass through)."""
    return float(np.linalg.norm(np.asarray(array, dtype=np.float64).reshape(-1)))


def grad_flow(model):
    """One row per parameter, in ``named_parameters()`` order: ``{name, shape, grad_norm, weight_norm}``.

    ``grad_norm`` = ‖∂L/∂w‖₂ and ``weight_norm`` = ‖w‖₂ over every element, as Python floats;
    ``grad_norm`` is None for a parameter with no gradient (before ``backward()``, frozen, or not
    used by the loss) -- None rather than 0.0, so "no gradient" and "a zero gradient" differ.

    Read it from the input side to the output side: by the chain rule the gradient at layer l is
    a product of one Jacobian per later layer, ∇_{o^l} f = Π_{i>l} (W^i)ᵀ Diag(σ'(a^i)) · ∇_{o^L} f,
    so norms that shrink (vanishing) or grow (exploding) steadily towards the first layers show
    that product at work.
    """
    if not hasattr(model, "named_parameters"):
        raise TypeError(f"grad_flow: expected an nn.Module, got {type(model).__name__}")
    return [
        {"name": name, "shape": tuple(p.shape), "grad_norm": None if p.grad is None else _norm(p.grad),
         "weight_norm": _norm(p.data)}
        for name, p in model.named_parameters()
    ]


def grad_flow_report(model, vanishing=VANISHING, exploding=EXPLODING):
    """``grad_flow`` as a table (a string), one line per parameter, with flags:

    ``vanishing`` when ‖∂L/∂w‖ < ``vanishing`` × the largest gradient norm in the model;
    ``exploding`` when the gradient's RMS ‖∂L/∂w‖/√n is above ``exploding`` or not finite;
    ``no gradient`` when ``.grad`` is None. The last column, ‖∂L/∂w‖/‖w‖, is how far one SGD
    step with learning rate 1 would move the weights, relative to their size.
    """
    rows = grad_flow(model)
    norms = [r["grad_norm"] for r in rows if r["grad_norm"] is not None and math.isfinite(r["grad_norm"])]
    largest = max(norms, default=0.0)
    width = max([len("parameter")] + [len(r["name"]) for r in rows])
    lines = [f"{'parameter':<{width}}  {'shape':<16} {'‖grad‖':>10} {'‖weight‖':>10} {'‖grad‖/‖w‖':>11}  flag"]
    for r in rows:
        g, w = r["grad_norm"], r["weight_norm"]
        shape = str(r["shape"])
        if g is None:
            lines.append(f"{r['name']:<{width}}  {shape:<16} {'-':>10} {w:>10.3e} {'-':>11}  no gradient")
            continue
        size = max(int(np.prod(r["shape"])), 1)
        flag = ""
        if not math.isfinite(g) or g / math.sqrt(size) > exploding:
            flag = "exploding"
        elif g < vanishing * largest:
            flag = "vanishing"
        ratio = f"{g / w:>11.3e}" if w > 0 else f"{'-':>11}"
        lines.append(f"{r['name']:<{width}}  {shape:<16} {g:>10.3e} {w:>10.3e} {ratio}  {flag}".rstrip())
    if largest > 0:
        lines.append(f"(vanishing: ‖grad‖ < {vanishing:g} × the largest, {largest:.3e}; "
                     f"exploding: RMS of the gradient > {exploding:g})")
    return "\n".join(lines)
