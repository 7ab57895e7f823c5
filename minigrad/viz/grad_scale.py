"""The drawings' scale of gradient size: the root-mean-square of a gradient placed on a log scale of five
bands, from vanishing (blue) to exploding (red). ``draw(grad_colors=True)``, ``plot_grad_flow`` and the
explorer's colour mode share it, so a colour means the same everywhere."""
from __future__ import annotations

import numpy as np

from .frames import is_summary

GRAD_BANDS = (
    (1e-5, "#3b4cc0", "vanishing < 1e-5"),
    (1e-3, "#6f92f3", "small 1e-5 – 1e-3"),
    (1e1, "#2ca02c", "healthy 1e-3 – 10"),
    (1e2, "#e7745b", "large 10 – 100"),
    (float("inf"), "#b40426", "exploding > 100"),
)


def grad_color(grad):
    """The colour of a gradient's size: its root-mean-square value placed in GRAD_BANDS (a log scale)."""
    if is_summary(grad):
        rms = grad.norm / np.sqrt(grad.size) if grad.size else 0.0
    else:
        g = np.asarray(grad, dtype=np.float64)
        rms = float(np.sqrt(np.mean(g * g))) if g.size else 0.0
    if not np.isfinite(rms):
        return GRAD_BANDS[-1][1]
    for upper, color, _ in GRAD_BANDS:
        if rms < upper:
            return color
    return GRAD_BANDS[-1][1]


def band(grad):
    """The index of a gradient's band in GRAD_BANDS, or None for no gradient."""
    if grad is None:
        return None
    color = grad_color(grad)
    return next(k for k, (_, c, _) in enumerate(GRAD_BANDS) if c == color)
