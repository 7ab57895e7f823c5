"""Making tensors: zeros, ones, random draws, ranges; and the one random generator minigrad draws from.

``manual_seed(n)`` resets that generator, so everything random in minigrad (initialisation,
dropout, shuffling, ``randn``) repeats from the same seed.
"""
from __future__ import annotations

import numpy as np

from .tensor import Tensor, _numeric_dtype

_generator = np.random.default_rng(0)


def manual_seed(seed):
    """Reset the package-wide random generator (as ``torch.manual_seed``; a negative seed is fine, as there)."""
    global _generator
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed: the seed must be an integer, got {seed!r}")
    _generator = np.random.default_rng(int(seed) % 2**64)  # numpy takes non-negative seeds; -1 is 2**64 - 1
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
    return Tensor(np.zeros(_shape("zeros", shape), dtype=_numeric_dtype(dtype, "zeros")), requires_grad=requires_grad)


def ones(*shape, dtype=np.float32, requires_grad=False):
    return Tensor(np.ones(_shape("ones", shape), dtype=_numeric_dtype(dtype, "ones")), requires_grad=requires_grad)


def full(shape, value, dtype=np.float32, requires_grad=False):
    if not isinstance(value, (int, float, np.number, bool, np.bool_)) or isinstance(value, np.complexfloating):
        raise TypeError(f"full: the fill value must be a real number, got {value!r} ({type(value).__name__})"
                        + ("; keep its real part: value.real" if isinstance(value, np.complexfloating) else ""))
    shape = (shape,) if isinstance(shape, (int, np.integer)) else shape
    dtype = _numeric_dtype(dtype, "full")
    return Tensor(np.full(_shape("full", (shape,)), value, dtype=dtype), requires_grad=requires_grad)


def zeros_like(t, requires_grad=False):
    return Tensor(np.zeros_like(t.data), requires_grad=requires_grad)


def ones_like(t, requires_grad=False):
    return Tensor(np.ones_like(t.data), requires_grad=requires_grad)


def randn(*shape, dtype=np.float32, requires_grad=False):
    """Standard normal draws from the package generator, of a float dtype (as ``torch.randn``)."""
    dtype = _numeric_dtype(dtype, "randn", kinds="f")
    return Tensor(_generator.standard_normal(_shape("randn", shape)).astype(dtype), requires_grad=requires_grad)


def rand(*shape, dtype=np.float32, requires_grad=False):
    """Uniform draws in [0, 1) from the package generator, of a float dtype (as ``torch.rand``)."""
    dtype = _numeric_dtype(dtype, "rand", kinds="f")
    return Tensor(_generator.random(_shape("rand", shape)).astype(dtype), requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    """As ``torch.arange``: integers give int64, any float gives float32."""
    if end is None:
        start, end = 0, start
    for name, v in (("start", start), ("end", end), ("step", step)):
        if not isinstance(v, (int, float, np.number)) or isinstance(v, (bool, np.complexfloating)):
            raise TypeError(f"arange: {name} must be a real number, got {v!r}")
    if step == 0:
        raise ValueError("arange: step must be nonzero (as in PyTorch); a range that does not move never ends")
    if dtype is None:
        dtype = np.int64 if all(isinstance(v, (int, np.integer)) for v in (start, end, step)) else np.float32
    dtype = _numeric_dtype(dtype, "arange")
    return Tensor(np.arange(start, end, step, dtype=dtype), requires_grad=requires_grad)
