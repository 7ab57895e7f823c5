"""minigrad: a graph-based autodiff framework small enough to read, draw and step through.

Every operation is a gate with a forward rule and a local-gradient rule; backprop is one loop
that multiplies upstream by local to get downstream, and that loop emits one inspectable Step
per gate.
"""
from . import allocator

allocator.tune()  # glibc: a training step's temporaries reuse freed memory (see minigrad/allocator.py)

from . import data, debug, lectures, models, multitask, nn, optim, recipes, viz
from .checkpoint import load, save
from .creation import arange, full, manual_seed, ones, ones_like, rand, randn, rng, zeros, zeros_like
from .debug import AnomalyError, detect_anomaly, gradcheck
from .engine import Step, enable_grad, is_grad_enabled, no_grad
from .ops.elementwise import maximum, where
from .ops.shape import cat, pad, stack
from .scalar import Value
from .tensor import Tensor, tensor
from .viz import draw

__version__ = "0.1.0"

__all__ = [
    "Value", "Tensor", "tensor", "Step", "draw", "gradcheck", "no_grad", "enable_grad", "is_grad_enabled",
    "detect_anomaly", "AnomalyError",
    "maximum", "where", "cat", "stack", "pad",
    "zeros", "ones", "full", "zeros_like", "ones_like", "randn", "rand", "arange", "manual_seed", "rng",
    "allocator", "data", "optim", "save", "load", "nn", "models", "viz", "debug", "lectures", "recipes", "multitask",
]
