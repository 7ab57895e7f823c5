"""Functions of a numpy array *or* a Tensor, for local-gradient rules that must work on both.

An elementwise gate's rule is evaluated on arrays by backward, and on the gate's input and output
Tensors by ``create_graph`` -- where the same formula, built from gates, can be differentiated again.
A rule written with these (``exp(-x * x)``, ``where(mask, 1.0, sigmoid(x))``) is one formula for both.
Masks are constants: they come from values (``rules.value``), never from the graph.
"""
from __future__ import annotations

import numpy as np

from .gate import is_tensor


def exp(x):
    return x.exp() if is_tensor(x) else np.exp(x)


def tanh(x):
    return x.tanh() if is_tensor(x) else np.tanh(x)


def sigmoid(x):
    return x.sigmoid() if is_tensor(x) else 0.5 + 0.5 * np.tanh(0.5 * x)


def erf(x):
    from . import special

    return special.erf(x) if is_tensor(x) else special.erf_array(x)


def normal_cdf(x):
    """Φ(x) = ½(1 + erf(x/√2)); for arrays ½·erfc(−x/√2), accurate far into the left tail too."""
    from . import special

    if is_tensor(x):
        return 0.5 * (1 + special.erf(x * special.SQRT1_2))
    return 0.5 * special.erfc_array(-x * special.SQRT1_2)


def softplus(x):
    """log(1 + eˣ), without overflow."""
    if is_tensor(x):
        from .activation import softplus as gate

        return gate(x)
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def where(mask, a, b):
    """``a`` where the constant ``mask`` holds, else ``b``; a gate when either is a Tensor."""
    if is_tensor(a) or is_tensor(b):
        from .elementwise import where as gate

        return gate(mask, a, b)
    return np.where(mask, a, b)
