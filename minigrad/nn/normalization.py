"""Normalisation within each sample as modules: LayerNorm, GroupNorm, InstanceNorm2d, with PyTorch's arguments,
parameter and buffer names (``weight``, ``bias``, ``running_mean``, ``running_var``, ``num_batches_tracked``),
initialisation (γ = 1, β = 0) and ``repr``. Each calls its function in ``minigrad.nn.functional``, one gate
(``minigrad/ops/normalization.py``).

LayerNorm and GroupNorm use each sample's own statistics in training and in eval. InstanceNorm2d does too,
unless it tracks running statistics (``track_running_stats=True``): then eval mode normalises each channel
with them, as PyTorch does.
"""
from __future__ import annotations

import warnings

import numpy as np

from . import functional as F
from .layers import _NormBase, count, number
from .module import Module, Parameter


def _affine(shape, bias):
    weight = Parameter(np.ones(shape, dtype=np.float32))
    return weight, (Parameter(np.zeros(shape, dtype=np.float32)) if bias else None)


class LayerNorm(Module):
    """Normalise over the trailing dims ``normalized_shape`` of each sample, then γ ⊙ x̂ + β elementwise (γ and β
    of shape ``normalized_shape``, when ``elementwise_affine``; ``bias=False`` keeps γ only)."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True):
        super().__init__()
        op = "LayerNorm"
        if isinstance(normalized_shape, (tuple, list)):
            if not normalized_shape:
                raise ValueError(f"{op}: normalized_shape must name at least one dim, got {normalized_shape!r}; e.g. "
                                 f"LayerNorm(features) normalises over the last dim")
            shape = tuple(count(op, "normalized_shape", n) for n in normalized_shape)
        else:
            shape = (count(op, "normalized_shape", normalized_shape),)
        self.normalized_shape, self.eps, self.elementwise_affine = shape, number(op, "eps", eps), elementwise_affine
        self.weight, self.bias = _affine(shape, bias) if elementwise_affine else (None, None)

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(Module):
    """Normalise each sample's ``num_channels`` channels in ``num_groups`` groups (a group's channels and positions
    together), then γ, β per channel (when ``affine``; ``bias=False`` keeps γ only)."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, *, bias=True):
        super().__init__()
        op = "GroupNorm"
        num_groups, num_channels = count(op, "num_groups", num_groups), count(op, "num_channels", num_channels)
        if num_channels % num_groups:
            divisor = max(d for d in range(1, num_groups + 1) if num_channels % d == 0)
            raise ValueError(f"{op}: num_channels ({num_channels}) must be divisible by num_groups ({num_groups}); "
                             f"use a divisor of {num_channels}, e.g. num_groups={divisor}")
        self.num_groups, self.num_channels, self.affine = num_groups, num_channels, affine
        self.eps = number(op, "eps", eps)
        self.weight, self.bias = _affine(num_channels, bias) if affine else (None, None)

    def forward(self, x):
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class InstanceNorm2d(_NormBase):
    """Normalise each channel of each image (N, C, H, W) -- or of one image (C, H, W) -- over its positions.

    ``affine=True`` adds γ, β per channel. With ``track_running_stats=True`` the running mean and variance
    (the batch mean of the instances' means and unbiased variances) move by ``momentum`` in train(), and
    eval() normalises with them; without, train and eval are the same. ``num_batches_tracked`` is kept for
    PyTorch's ``state_dict`` but, as in PyTorch, not counted.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, bias=bias)

    def forward(self, x):
        op = type(self).__name__
        if x.ndim not in (3, 4):
            raise ValueError(f"{op}: expected a 4-D input (N, C, H, W) or a 3-D one (C, H, W), got shape {x.shape}")
        channels = x.shape[x.ndim - 3]
        if channels != self.num_features:
            if self.affine or self.track_running_stats:
                raise ValueError(f"{op}: expected {self.num_features} channels (num_features), got an input of shape "
                                 f"{x.shape} with {channels}")
            warnings.warn(f"{op}: the input has {channels} channels, not num_features={self.num_features}; without "
                          f"affine parameters or running statistics num_features is not used", stacklevel=2)
        unbatched = x.ndim == 3
        y = F.instance_norm(x.unsqueeze(0) if unbatched else x, self.running_mean, self.running_var, self.weight,
                            self.bias, self.training or not self.track_running_stats,
                            0.0 if self.momentum is None else self.momentum, self.eps)
        return y.squeeze(0) if unbatched else y
