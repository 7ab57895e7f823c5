"""The layers: PyTorch's constructor arguments, defaults, parameter shapes and initialisation.

Each layer holds its parameters and calls one function of ``minigrad.nn.functional``; the
gates (and their local-gradient rules) live in ``minigrad/ops/``. This file holds Linear, batch norm,
the pools, dropout, the first activations and the argument checks every layer shares (``count``,
``number``); ``conv.py``, ``activation.py``, ``normalization.py``, ``resampling.py`` and ``loss.py``
hold the rest, by family, as ``torch.nn.modules`` does.
"""
from __future__ import annotations

import math
import numbers
import operator

import numpy as np

from ..ops import window
from . import functional as F
from . import init
from .module import Module, Parameter


def count(op, what, value):
    """A size of a layer (features, channels) or its ``groups``: an int ≥ 1, else an error naming ``op``.

    One rule for every layer: ints and numpy integers pass (as in PyTorch); floats, strings, bools,
    lists and arrays of several numbers are a TypeError, 0 and negative numbers a ValueError.
    """
    try:
        if isinstance(value, (bool, np.bool_)):
            raise TypeError
        n = operator.index(value)
    except TypeError:
        raise TypeError(f"{op}: {what} must be an int, got {value!r} ({type(value).__name__})") from None
    if n < 1:
        raise ValueError(f"{op}: {what} must be at least 1, got {n}")
    return n


def number(op, what, value):
    """A real number (an int, a float or a numpy number; not a bool), returned as given; else a TypeError
    naming ``op``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{op}: {what} must be a number, got {value!r} ({type(value).__name__})")
    return value


def _check_pool(op, kernel_size, stride, padding, dilation=1):
    """The pooling layers check their window when built, with the words of their function (``F.max_pool2d``)."""
    kernel = window.positive(op, "kernel_size", kernel_size)
    if stride is not None:
        window.positive(op, "stride", stride)
    window.non_negative(op, "padding", padding)
    window.positive(op, "dilation", dilation)
    return kernel


def _uniform_param(shape, bound):
    p = Parameter(np.zeros(shape, dtype=np.float32))
    init.uniform_(p, -bound, bound)
    return p


class Linear(Module):
    """y = x·Wᵀ + b, W of shape (out_features, in_features); U(−1/√in, 1/√in) initialisation as PyTorch."""

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features, self.out_features = count("Linear", "in_features", in_features), count(
            "Linear", "out_features", out_features)
        bound = 1.0 / math.sqrt(self.in_features)
        self.weight = _uniform_param((self.out_features, self.in_features), bound)  # = kaiming_uniform_(a=√5)
        self.bias = _uniform_param((self.out_features,), bound) if bias else None

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class _NormBase(Module):
    """Batch and instance norm: γ, β (per channel, when ``affine``) and the running statistics as buffers (when
    ``track_running_stats``), with PyTorch's names, so ``state_dict`` has its keys."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, *, bias=True):
        super().__init__()
        op = type(self).__name__
        num_features = count(op, "num_features", num_features)
        number(op, "eps", eps)
        if momentum is not None:
            number(op, "momentum", momentum)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats, self.use_bias = affine, track_running_stats, bias
        self.weight = Parameter(np.ones(num_features, dtype=np.float32)) if affine else None
        # bias=False: γ only
        self.bias = Parameter(np.zeros(num_features, dtype=np.float32)) if affine and bias else None
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype=np.float32))
            self.register_buffer("running_var", np.ones(num_features, dtype=np.float32))
            self.register_buffer("num_batches_tracked", np.zeros((), dtype=np.int64))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    dims = ()

    def forward(self, x):
        if x.ndim not in self.dims:
            raise ValueError(
                f"{type(self).__name__}: expected a {' or '.join(f'{d}-D' for d in self.dims)} input, "
                f"got shape {x.shape}"
            )
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data = self.num_batches_tracked.data + 1
            if momentum is None:  # a cumulative moving average, as PyTorch does for momentum=None
                momentum = 1.0 / float(self.num_batches_tracked.item())
        use_batch = self.training or not self.track_running_stats
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, use_batch,
                            0.0 if momentum is None else momentum, self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L): statistics per channel."""

    dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Spatial batch norm over (N, C, H, W): statistics per channel over N, H and W."""

    dims = (4,)


class MaxPool2d(Module):
    """PyTorch's arguments in PyTorch's order; with ``return_indices`` forward returns (output, indices)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        _check_pool("max_pool2d", kernel_size, stride, padding, dilation)
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """PyTorch's arguments in PyTorch's order (``ceil_mode`` before ``count_include_pad``, unlike ``F.avg_pool2d``)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        _check_pool("avg_pool2d", kernel_size, stride, padding)
        self.kernel_size, self.stride, self.padding = kernel_size, kernel_size if stride is None else stride, padding
        self.ceil_mode, self.count_include_pad, self.divisor_override = ceil_mode, count_include_pad, divisor_override

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.count_include_pad,
                            ceil_mode=self.ceil_mode, divisor_override=self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


def _output_size(op, output_size):
    """An adaptive pool's ``output_size``: an int ≥ 1, or a pair of them in which None keeps that size of the
    input."""
    if isinstance(output_size, (tuple, list)) and len(output_size) == 2:
        for size in output_size:
            if size is not None:
                count(op, "output_size", size)
    else:
        count(op, "output_size", output_size)
    return output_size


class AdaptiveAvgPool2d(Module):
    """``AdaptiveAvgPool2d(1)`` is global average pooling."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = _output_size("AdaptiveAvgPool2d", output_size)

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class _Elementwise(Module):
    fn = None

    def forward(self, x):
        return type(self).fn(x)


class ReLU(_Elementwise):
    fn = staticmethod(F.relu)

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace  # accepted as in PyTorch; the output is always a new tensor (backward needs the input)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Sigmoid(_Elementwise):
    fn = staticmethod(F.sigmoid)


class Tanh(_Elementwise):
    fn = staticmethod(F.tanh)


class LeakyReLU(Module):
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace  # inplace: as ReLU's

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")  # as PyTorch's


class Softmax(Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        if self.dim is None:
            raise ValueError("Softmax: give the dimension to normalise over, e.g. nn.Softmax(dim=1)")
        return F.softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Flatten(Module):
    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """Inverted dropout: active in train(), the identity in eval()."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        op = type(self).__name__
        if isinstance(p, (bool, np.bool_)) or not isinstance(p, numbers.Real):
            raise TypeError(f"{op}: p must be a number in [0, 1] (the probability of dropping), got {p!r}")
        if not 0.0 <= p <= 1.0:  # written so that nan fails too
            raise ValueError(f"{op}: p must be in [0, 1], got {p}")
        self.p = p
        self.inplace = inplace  # accepted as in PyTorch; the output is always a new tensor (the graph keeps the input)

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Dropout):
    """Channel dropout on (N, C, H, W): in train() each channel of each sample is zeroed as a whole with
    probability ``p`` and the kept ones scaled by 1/(1 − p); the identity in eval(). A 3-D input is read as
    (N, C, L), as PyTorch does."""

    def forward(self, x):
        return F.dropout2d(x, self.p, self.training)


class Identity(Module):
    def forward(self, x):
        return x
