"""The convolution layers: Conv1d, Conv2d, ConvTranspose2d, with PyTorch's arguments, defaults, weight shapes,
initialisation and ``repr``.

Each holds its weight and bias and calls ``F.conv1d``, ``F.conv2d`` or ``F.conv_transpose2d``. A
``padding_mode`` other than "zeros" pads the input with ``F.pad`` in that mode (reflect, replicate,
circular) and convolves without padding, as PyTorch's ``_conv_forward`` does.
"""
from __future__ import annotations

import math

import numpy as np

from ..ops import window
from ..ops.window import pair
from . import functional as F
from .layers import _uniform_param, count
from .module import Module

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _padding_mode(op, mode):
    if not isinstance(mode, str) or mode not in PADDING_MODES:
        raise ValueError(f"{op}: padding_mode must be one of {', '.join(map(repr, PADDING_MODES))}, got {mode!r}")
    return mode


def _mode_padding(padding, kernel, dilation):
    """The padding as ``F.pad`` takes it (before, after pairs from the last dim back), for a ``padding_mode``
    other than zeros: PyTorch pads in that mode first, then convolves without padding. ``padding`` is a tuple
    (one int per dim) or "same"/"valid"; "same" puts the odd pixel after, as conv2d does."""
    if isinstance(padding, str):  # checked when the layer was made
        pairs = window.padding("conv", padding, (1,) * len(kernel), kernel, dilation)
    else:
        pairs = [(p, p) for p in padding]
    return tuple(side for pair_ in reversed(pairs) for side in pair_)


def _conv_args(layer, op, kernel_size, stride, padding, dilation):
    """Conv2d's window arguments, checked as conv2d checks them (padding kept as given if a string)."""
    layer.kernel_size = window.positive(op, "kernel_size", kernel_size)
    layer.stride = window.positive(op, "stride", stride)
    layer.dilation = window.positive(op, "dilation", dilation)
    window.padding(op, padding, layer.stride, layer.kernel_size, layer.dilation)
    layer.padding = padding if isinstance(padding, str) else pair(op, "padding", padding)


def _check_groups(op, in_channels, out_channels, groups):
    in_channels, out_channels = count(op, "in_channels", in_channels), count(op, "out_channels", out_channels)
    groups = count(op, "groups", groups)
    if in_channels % groups or out_channels % groups:
        raise ValueError(
            f"{op}: in_channels {in_channels} and out_channels {out_channels} must both be divisible by groups {groups}"
        )
    return in_channels, out_channels, groups


class _ConvNd(Module):
    def _conv_repr(self):
        zeros, ones = (0,) * len(self.kernel_size), (1,) * len(self.kernel_size)
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != zeros:  # "same" and "valid" too, as PyTorch prints them
            s += f", padding={self.padding}"
        if getattr(self, "output_padding", zeros) != zeros:
            s += f", output_padding={self.output_padding}"
        if self.dilation != ones:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if getattr(self, "padding_mode", "zeros") != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    extra_repr = _conv_repr

    def _padded(self, x):
        """(x, the padding the convolution adds): x padded in ``padding_mode`` and 0, or, for "zeros", x itself and
        the layer's padding (PyTorch's _conv_forward)."""
        if self.padding_mode == "zeros":
            return x, self.padding
        return F.pad(x, self._mode_padding, mode=self.padding_mode), 0


class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation, as every framework computes it); weight (out, in/groups, kH, kW).

    Parameters: out·(in/groups)·kH·kW + out -- the lectures' n_l·n_{l+1}·k₁·k₂ + n_{l+1} when groups = 1.
    ``padding_mode`` "reflect", "replicate" or "circular" pads with ``F.pad`` in that mode, then convolves
    with padding 0, as PyTorch does ("zeros", the default, lets conv2d pad).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros"):
        super().__init__()
        self.in_channels, self.out_channels, self.groups = _check_groups("Conv2d", in_channels, out_channels, groups)
        _conv_args(self, "Conv2d", kernel_size, stride, padding, dilation)
        self.padding_mode = _padding_mode("Conv2d", padding_mode)
        self._mode_padding = _mode_padding(self.padding, self.kernel_size, self.dilation)
        fan_in = self.in_channels // self.groups * self.kernel_size[0] * self.kernel_size[1]
        bound = 1.0 / math.sqrt(fan_in)
        self.weight = _uniform_param((self.out_channels, self.in_channels // self.groups, *self.kernel_size), bound)
        self.bias = _uniform_param((self.out_channels,), bound) if bias else None

    def forward(self, x):
        x, padding = self._padded(x)
        return F.conv2d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


def _single(op, what, value, low):
    """An int or a 1-tuple of ints ≥ ``low`` as a 1-tuple, as PyTorch's Conv1d keeps its arguments."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{op}: {what} must be an int or a 1-tuple of ints, got {value!r}")
    if value < low:
        raise ValueError(f"{op}: {what} must be {'at least 1' if low else '≥ 0'}, got {int(value)}")
    return (int(value),)


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L) or (C, L); weight (out, in/groups, k), U(−1/√fan_in, 1/√fan_in) as PyTorch.

    ``padding`` an int, "same" (stride 1 only) or "valid"; ``padding_mode`` as Conv2d's.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros"):
        super().__init__()
        op = "Conv1d"
        self.in_channels, self.out_channels, self.groups = _check_groups(op, in_channels, out_channels, groups)
        self.kernel_size = _single(op, "kernel_size", kernel_size, 1)
        self.stride, self.dilation = _single(op, "stride", stride, 1), _single(op, "dilation", dilation, 1)
        if isinstance(padding, str):
            window.padding(op, padding, self.stride, self.kernel_size, self.dilation, explain=True)  # checked only
            self.padding = padding
        else:
            self.padding = _single(op, "padding", padding, 0)
        self.padding_mode = _padding_mode(op, padding_mode)
        self._mode_padding = _mode_padding(self.padding, self.kernel_size, self.dilation)
        fan_in = self.in_channels // self.groups * self.kernel_size[0]
        bound = 1.0 / math.sqrt(fan_in)
        self.weight = _uniform_param((self.out_channels, self.in_channels // self.groups, *self.kernel_size), bound)
        self.bias = _uniform_param((self.out_channels,), bound) if bias else None

    def forward(self, x):
        x, padding = self._padded(x)
        return F.conv1d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class ConvTranspose2d(_ConvNd):
    """Transposed ("expanding") convolution; weight (in, out/groups, kH, kW). It maps a conv2d's output size back."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1):
        super().__init__()
        op = "ConvTranspose2d"
        self.in_channels, self.out_channels, self.groups = _check_groups(op, in_channels, out_channels, groups)
        self.kernel_size = window.positive(op, "kernel_size", kernel_size)
        self.stride, self.dilation = window.positive(op, "stride", stride), window.positive(op, "dilation", dilation)
        self.padding = window.non_negative(op, "padding", padding)
        self.output_padding = window.non_negative(op, "output_padding", output_padding)
        # PyTorch computes fan_in from weight.size(1): out/groups·kH·kW
        fan_in = self.out_channels // self.groups * self.kernel_size[0] * self.kernel_size[1]
        bound = 1.0 / math.sqrt(fan_in)
        self.weight = _uniform_param((self.in_channels, self.out_channels // self.groups, *self.kernel_size), bound)
        self.bias = _uniform_param((self.out_channels,), bound) if bias else None

    def forward(self, x):
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding, self.output_padding,
                                  self.groups, self.dilation)
