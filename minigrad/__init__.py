"""minigrad: a graph-based autodiff framework small enough to read, draw and step through.

Every operation is a gate with a forward rule and a local-gradient rule; backprop is one loop
that multiplies upstream by local to get downstream, and that loop emits one inspectable Step
per gate.

The packages, bottom up (each imports only those above it in this list):
core (the engine, Value, Tensor), ops (the tensor gates), nn (modules, functional, the model zoo),
optim, data, train (the loop, checkpoints, the lectures' recipe), debug (gradcheck, anomaly mode,
gradient flow), onnx (export to ONNX), viz (drawings, pages, plots) and app (the command line).
``minigrad.viz`` imports graphviz, so it is loaded on first use (``mg.draw``, ``mg.viz``).
"""
from .core import allocator

allocator.tune()  # glibc: a training step's temporaries reuse freed memory (see minigrad/core/allocator.py)

from . import data, debug, nn, onnx, optim, train  # noqa: E402
from .app import lectures  # noqa: E402
from .core import autograd  # noqa: E402 -- mg.autograd.grad, as torch.autograd.grad
from .core.creation import arange, full, manual_seed, ones, ones_like, rand, randn, rng, zeros, zeros_like  # noqa: E402
from .core.engine import enable_grad, is_grad_enabled, no_grad  # noqa: E402
from .core.elementwise_gate import Elementwise  # noqa: E402
from .core.function import Function  # noqa: E402
from .core.rules import Rule  # noqa: E402
from .core.step import Step  # noqa: E402
from .core.scalar import Value  # noqa: E402
from .core.tensor import Tensor, tensor  # noqa: E402
from .debug import AnomalyError, GradcheckError, detect_anomaly, gradcheck, gradcheck_gates, gradgradcheck  # noqa: E402
from .nn import models  # noqa: E402
from .ops.clamp import clamp  # noqa: E402
from .ops.dtypes import promote_types, result_type  # noqa: E402
from .ops.elementwise import maximum, minimum, where  # noqa: E402
from .ops.rearrange import chunk, flip, split  # noqa: E402
from .ops.reduce import amax, amin, argmax, argmin, logsumexp, prod, std  # noqa: E402
from .ops.shape import cat, pad, stack  # noqa: E402
from .ops.special import erf  # noqa: E402

clip = clamp
from .train import multitask, recipes  # noqa: E402
from .train.checkpoint import load, save  # noqa: E402

from . import _moved  # noqa: E402

_moved.install()  # minigrad.training, minigrad.engine, ...: the paths from before the split into layers

__version__ = "0.1.0"

__all__ = [
    "Value", "Tensor", "tensor", "Step", "Function", "Elementwise", "Rule", "draw", "gradcheck", "gradcheck_gates", "GradcheckError", "no_grad", "enable_grad", "is_grad_enabled",
    "detect_anomaly", "AnomalyError",
    "maximum", "minimum", "where", "clamp", "clip", "cat", "stack", "pad", "split", "chunk", "flip", "erf",
    "amax", "amin", "argmax", "argmin", "logsumexp", "prod", "std", "result_type", "promote_types",
    "zeros", "ones", "full", "zeros_like", "ones_like", "randn", "rand", "arange", "manual_seed", "rng",
    "allocator", "data", "optim", "save", "load", "nn", "models", "viz", "debug", "lectures", "recipes", "multitask",
    "train", "autograd", "gradgradcheck", "onnx",
]


def __getattr__(name):
    """``mg.viz`` and ``mg.draw`` import the drawing package (and graphviz) on first use."""
    if name in ("viz", "draw"):
        import importlib

        viz = importlib.import_module(".viz", __name__)
        return viz if name == "viz" else viz.draw
    raise AttributeError(f"module 'minigrad' has no attribute {name!r}")
