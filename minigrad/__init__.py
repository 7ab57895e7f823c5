"""minigrad: a graph-based autodiff framework small enough to read, draw and step through.

Every operation is a gate with a forward rule and a local-gradient rule; backprop is one loop
that multiplies upstream by local to get downstream, and that loop emits one inspectable Step
per gate.
"""
from .engine import Step, enable_grad, is_grad_enabled, no_grad
from .scalar import Value, maximum
from .viz import draw

__version__ = "0.1.0"

__all__ = ["Value", "Step", "maximum", "draw", "no_grad", "enable_grad", "is_grad_enabled"]
