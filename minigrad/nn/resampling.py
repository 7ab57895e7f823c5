"""Layers that change the spatial size without weights, beyond the pools in ``layers.py``: AdaptiveMaxPool2d,
MaxUnpool2d (max pooling's partial inverse) and Upsample, with PyTorch's arguments, attributes and ``repr``.

Each calls its function in ``minigrad.nn.functional``; the arguments are checked when the layer is built.
"""
from __future__ import annotations

import numbers

from ..ops import window
from ..ops.interpolate import MODES
from . import functional as F
from .layers import _output_size
from .module import Module


class AdaptiveMaxPool2d(Module):
    """The maximum over adaptive bins: ``output_size`` (an int, or a pair in which None keeps that size) whatever
    the input size; ``return_indices`` also returns each maximum's flat index (what MaxUnpool2d takes)."""

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size = _output_size("AdaptiveMaxPool2d", output_size)
        self.return_indices = return_indices

    def forward(self, x):
        return F.adaptive_max_pool2d(x, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class MaxUnpool2d(Module):
    """Each value put back at its max-pooling index (``MaxPool2d(..., return_indices=True)``) in a zero output of
    (H − 1)·stride − 2·padding + kernel_size, or ``output_size`` given to forward."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        op = "MaxUnpool2d"
        self.kernel_size = window.positive(op, "kernel_size", kernel_size)
        self.stride = self.kernel_size if stride is None else window.positive(op, "stride", stride)
        self.padding = window.non_negative(op, "padding", padding)

    def forward(self, input, indices, output_size=None):
        return F.max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


def _sizes(op, what, value, kind):
    """``value`` as given, if it is one positive ``kind`` or a non-empty tuple/list of them."""
    values = value if isinstance(value, (tuple, list)) else (value,)
    noun = "int" if kind is numbers.Integral else "number"
    if not values or any(isinstance(v, bool) or not isinstance(v, kind) or not v > 0 for v in values):
        raise ValueError(f"{op}: {what} must be a positive {noun} or a tuple of them (one per spatial dim), "
                         f"got {value!r}")
    return value


class Upsample(Module):
    """Resize (N, C, L), (N, C, H, W) or (N, C, D, H, W) to ``size`` or by ``scale_factor`` (exactly one), by
    ``mode`` "nearest", "linear", "bilinear" or "trilinear" (``align_corners`` for the linear ones), as
    ``F.interpolate``. The output size is ⌊in·scale_factor⌋."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
        super().__init__()
        op = "Upsample"
        if not isinstance(mode, str) or mode not in MODES:
            raise ValueError(f"{op}: mode {mode!r} is not supported; use one of {', '.join(map(repr, MODES))}")
        if (size is None) == (scale_factor is None):
            raise ValueError(f"{op}: give exactly one of size and scale_factor, e.g. Upsample(scale_factor=2)")
        if mode == "nearest" and align_corners is not None:
            raise ValueError(f"{op}: align_corners can only be set with the interpolating modes linear, bilinear and "
                             f"trilinear (PyTorch's rule); leave it None for mode='nearest'")
        self.name = type(self).__name__  # as PyTorch's Upsample
        self.size = None if size is None else _sizes(op, "size", size, numbers.Integral)
        if scale_factor is None:
            self.scale_factor = None
        else:  # PyTorch keeps floats
            scale = _sizes(op, "scale_factor", scale_factor, numbers.Real)
            self.scale_factor = tuple(float(s) for s in scale) if isinstance(scale, (tuple, list)) else float(scale)
        self.mode, self.align_corners, self.recompute_scale_factor = mode, align_corners, recompute_scale_factor

    def forward(self, x):
        return F.interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return f"{info}, mode={self.mode!r}"
