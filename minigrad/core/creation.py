"""Making tensors: zeros, ones, random draws, ranges; and the one random generator minigrad draws from.

``manual_seed(n)`` resets that generator, so everything random in minigrad (initialisation,
dropout, shuffling, ``randn``) repeats from the same seed.
"""
from __future__ import annotations

import numpy as np

from .tensor import Tensor

_generator = np.random.default_rng(0)


def manual_seed(seed):
    """Reset the package-wide random generator (as ``torch.manual_seed``)."""
    global _generator
    _generator = np.random.default_rng(int(seed))
    return _generator


def rng():
    """The package-wide ``numpy.random.Generator``."""
    return _generator


def _shape(name, shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if not all(isinstance(n, (int, np.integer)) and n >= 0 for n in shape):
        raise ValueError(f"{name}: the shape must be non-negative integers, got {shape}")
    return tuple(int(n) for n in shape)


def zeros(*shape, dtype=np.float32, requires_grad=False):
    return Tensor(np.zeros(_shape("zeros", shape), dtype=dtype), requires_grad=requires_grad)


def ones(*shape, dtype=np.float32, requires_grad=False):
    return Tensor(np.ones(_shape("ones", shape), dtype=dtype), requires_grad=requires_grad)


def full(shape, value, dtype=np.float32, requires_grad=False):
    return Tensor(np.full(_shape("full", (shape,)), value, dtype=dtype), requires_grad=requires_grad)


def zeros_like(t, requires_grad=False):
    return Tensor(np.zeros_like(t.data), requires_grad=requires_grad)


def ones_like(t, requires_grad=False):
    return Tensor(np.ones_like(t.data), requires_grad=requires_grad)


def randn(*shape, dtype=np.float32, requires_grad=False):
    """Standard normal draws from the package generator."""
    return Tensor(_generator.standard_normal(_shape("randn", shape)).astype(dtype), requires_grad=requires_grad)


def rand(*shape, dtype=np.float32, requires_grad=False):
    """Uniform draws in [0, 1) from the package generator."""
    return Tensor(_generator.random(_shape("rand", shape)).astype(dtype), requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    """As ``torch.arange``: integers give int64, any float gives float32."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        dtype = np.int64 if all(isinstance(v, (int, np.integer)) for v in (start, end, step)) else np.float32
    return Tensor(np.arange(start, end, step, dtype=dtype), requires_grad=requires_grad)
