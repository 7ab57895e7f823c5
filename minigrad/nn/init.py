"""Initialisation, as ``torch.nn.init``: every draw comes from minigrad's one random generator.

The lectures' Xavier case: for a layer whose inputs and outputs both number N,
``xavier_uniform_`` draws from U(−√(3/N), √(3/N)) — bound = gain·√(6/(fan_in + fan_out)) —
so that the output variance matches the input variance (Var(w) = 1/N).
"""
from __future__ import annotations

import math

import numpy as np

from ..core import engine
from ..core.creation import rng


def _fans(tensor):
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError(f"init: fan in and fan out need at least 2 dimensions, got shape {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (PyTorch's table)."""
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose2d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}")


def _fill(tensor, values):
    with engine.no_grad():
        tensor.copy_(np.asarray(values, dtype=tensor.dtype))
    return tensor


def uniform_(tensor, a=0.0, b=1.0):
    return _fill(tensor, rng().uniform(a, b, tensor.shape))


def normal_(tensor, mean=0.0, std=1.0):
    return _fill(tensor, rng().normal(mean, std, tensor.shape))


def constant_(tensor, value):
    return _fill(tensor, np.full(tensor.shape, value))


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor, gain=1.0):
    """U(−a, a) with a = gain·√(6/(fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor, gain=1.0):
    """N(0, std²) with std = gain·√(2/(fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def _kaiming_std(tensor, a, mode, nonlinearity):
    fan_in, fan_out = _fans(tensor)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """U(−b, b) with b = gain·√(3/fan) (He initialisation)."""
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """N(0, std²) with std = gain/√fan (He initialisation)."""
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity))
