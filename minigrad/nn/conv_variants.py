"""Layers for the convolution variants: locally connected, tiled and transform-invariant convolution.

Same constructor style as ``nn.Conv2d`` and the same initialisation, U(−1/√fan_in, 1/√fan_in) with
fan_in = in_channels·kH·kW for weights and biases. For in → out channels and a kH×kW kernel, conv2d
has out·in·kH·kW + out parameters; then

    LocallyConnected2d        oh·ow × that   (one filter and bias per output position)
    TiledConv2d               t² × that       (t×t filters and biases, rotating through the positions)
    TransformInvariantConv2d  1 × that        (one filter, applied in |G| transformed versions)

The math and the gates are in ``minigrad/ops/conv_variants.py``.
"""
from __future__ import annotations

import math

from . import functional as F
from .layers import _uniform_param, count
from .module import Module
from ..ops.conv_variants import output_size, transform_group, transform_name
from ..ops.window import pair, positive


def _init(shape, in_channels, kernel_size):
    return _uniform_param(shape, 1.0 / math.sqrt(in_channels * kernel_size[0] * kernel_size[1]))


def _padding(op, padding):
    return padding if isinstance(padding, str) else pair(op, "padding", padding)


def _channels(op, in_channels, out_channels):
    return count(op, "in_channels", in_channels), count(op, "out_channels", out_channels)


class LocallyConnected2d(Module):
    """Convolution without weight sharing: output position (r, q) has its own filter ``weight[r, q]``.

    weight (out_h, out_w, out_channels, in_channels, kH, kW), bias (out_channels, out_h, out_w):
    out_h·out_w times a Conv2d's parameters, e.g. 3→16 channels, 3×3 kernel on 32×32 with padding 1:
    Conv2d 448, LocallyConnected2d 1024·448 = 458,752. The output positions depend on the input size,
    so the layer is built for one ``input_size`` (H, W) and rejects any other.
    """

    def __init__(self, in_channels, out_channels, input_size, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        op = "LocallyConnected2d"
        self.in_channels, self.out_channels = _channels(op, in_channels, out_channels)
        self.input_size = positive(op, "input_size", input_size)
        self.kernel_size = positive(op, "kernel_size", kernel_size)
        self.stride, self.padding = positive(op, "stride", stride), _padding(op, padding)
        self.output_size = output_size("LocallyConnected2d", self.input_size, self.kernel_size, self.stride, self.padding)
        shape = self.output_size + (self.out_channels, self.in_channels) + self.kernel_size
        self.weight = _init(shape, self.in_channels, self.kernel_size)
        self.bias = _init((self.out_channels,) + self.output_size, self.in_channels, self.kernel_size) if bias else None

    def forward(self, x):
        if x.ndim == 4 and tuple(x.shape[2:]) != self.input_size:
            raise ValueError(
                f"LocallyConnected2d: expected an input of size (H, W) = {self.input_size}, got {tuple(x.shape[2:])} "
                f"(input {x.shape}); the layer has one filter per output position, so it is built for one input size: "
                f"resize the input or build the layer with input_size={tuple(x.shape[2:])}"
            )
        return F.local_conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, input_size={self.input_size}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, output_size={self.output_size}, bias={self.bias is not None}")


class TiledConv2d(Module):
    """Tiled convolution: t×t filters rotate through neighbouring outputs, (r, q) using ``weight[r % t, q % t]``.

    weight (t, t, out_channels, in_channels, kH, kW), bias (out_channels, t, t): t² times a Conv2d's
    parameters, whatever the input size. ``tile_size`` is an int or a pair (th, tw); t = 1 is Conv2d.
    """

    def __init__(self, in_channels, out_channels, kernel_size, tile_size=2, stride=1, padding=0, bias=True):
        super().__init__()
        tile = pair("TiledConv2d", "tile_size", tile_size)
        if min(tile) < 1:
            raise ValueError(f"TiledConv2d: tile_size must be at least 1, got {tile_size!r}; tile_size=1 is an ordinary Conv2d")
        op = "TiledConv2d"
        (self.in_channels, self.out_channels), self.tile_size = _channels(op, in_channels, out_channels), tile
        self.kernel_size, self.stride = positive(op, "kernel_size", kernel_size), positive(op, "stride", stride)
        self.padding = _padding(op, padding)
        self.weight = _init(tile + (self.out_channels, self.in_channels) + self.kernel_size, self.in_channels, self.kernel_size)
        self.bias = _init((self.out_channels,) + tile, self.in_channels, self.kernel_size) if bias else None

    def forward(self, x):
        return F.tiled_conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, tile_size={self.tile_size}, "
                f"stride={self.stride}, padding={self.padding}, bias={self.bias is not None}")


class TransformInvariantConv2d(Module):
    """One filter per output channel, applied in every transformed version; the responses max-pooled.

    y = max_{g ∈ G} conv2d(x, g·W) + b, with G the group the ``transforms`` generate: "rot90" (4
    rotations), "rot180", "flip" (left-right mirror), "vflip"; ("rot90", "flip") gives the 8
    symmetries of the square. weight (out, in, kH, kW) and bias (out,) as Conv2d's, so the same
    parameter count, at |G| times the compute. With padding "same" (odd kernel) the layer is
    equivariant: rotating a square input by 90° rotates the output by 90° (if G has the rotations).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True,
                 transforms=("rot90", "flip")):
        super().__init__()
        op = "TransformInvariantConv2d"
        self.in_channels, self.out_channels = _channels(op, in_channels, out_channels)
        self.kernel_size, self.stride = positive(op, "kernel_size", kernel_size), positive(op, "stride", stride)
        self.padding = _padding(op, padding)
        self.transforms = (transforms,) if isinstance(transforms, str) else tuple(transforms)
        self.group = transform_group(self.transforms)
        if self.kernel_size[0] != self.kernel_size[1] and any(r % 2 for _, r in self.group):
            raise ValueError(f"TransformInvariantConv2d: 'rot90' needs a square kernel, got kernel_size={self.kernel_size}")
        self.weight = _init((self.out_channels, self.in_channels) + self.kernel_size, self.in_channels, self.kernel_size)
        self.bias = _init((self.out_channels,), self.in_channels, self.kernel_size) if bias else None

    def forward(self, x):
        return F.transform_invariant_conv2d(x, self.weight, self.bias, self.stride, self.padding, self.transforms)

    def extra_repr(self):
        names = ", ".join(transform_name(g) for g in self.group)
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, bias={self.bias is not None}, transforms={self.transforms} ({len(self.group)}: {names})")
