"""Elementwise tensor gates: each local gradient is an array of the input's shape (or broadcast to it).

The Jacobian of an elementwise gate is diagonal, so backprop multiplies elementwise:
dL/dx = local ⊙ dL/dy ("never explicitly form the Jacobian -- use implicit multiplication").
Each gate here is its forward rule; its local gradients are declared once, in ``core/rules.py`` for
the operations scalar Values share (add, mul, max, exp, ...), else beside it, and the backward of
every one is :class:`~minigrad.core.function.Elementwise`'s: local ⊙ upstream, from those rules.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..core import rules as table
from ..core.elementwise_gate import Elementwise
from ..core.rules import Rule, value
from . import dtypes
from .gate import broadcast_shape, is_tensor


def _binary(gate, a, b, reflected=False, true_divide=False):
    """Apply a two-input gate to a Tensor and a Tensor, number or array (NotImplemented for others), in the
    dtype PyTorch's promotion gives (``ops/dtypes.py``)."""
    if b.__class__ is a.__class__ and b._data.dtype == a._data.dtype and (not true_divide or a._data.dtype.kind == "f"):
        pair = (a, b)  # the common case, kept cheap: every step of a training loop comes through here
    else:
        pair = dtypes.operands(gate.name, a, b, true_divide=true_divide)
        if pair is None:
            return NotImplemented
    x, y = (pair[1], pair[0]) if reflected else pair
    if x._data.shape != y._data.shape:
        broadcast_shape(gate.name, x._data.shape, y._data.shape)
    return gate()._apply((x, y), {})


class Add(Elementwise):
    declared = table.ADD

    @staticmethod
    def forward(ctx, a, b):
        return a + b


class Sub(Elementwise):
    declared = table.SUB

    @staticmethod
    def forward(ctx, a, b):
        return a - b


class Mul(Elementwise):
    declared = table.MUL

    @staticmethod
    def forward(ctx, a, b):
        return a * b


class Div(Elementwise):
    declared = table.DIV

    @staticmethod
    def forward(ctx, a, b):
        with np.errstate(divide="ignore", invalid="ignore"):
            return a / b


class FloorDiv(Elementwise):
    """a // b: ⌊a / b⌋ (Python's floor division, as ``torch.floor_divide``); piecewise constant, so no gradient."""

    name, symbol = "floor_divide", "//"
    rules = (Rule("a", "0", 0.0), Rule("b", "0", 0.0))
    saves = ""

    @staticmethod
    def forward(ctx, a, b):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.floor_divide(a, b)


class Remainder(Elementwise):
    """a % b = a − b·⌊a / b⌋, with the sign of b (Python's, as ``torch.remainder``)."""

    name, symbol = "remainder", "%"
    rules = (Rule("a", "1", 1.0), Rule("b", "−⌊a/b⌋", lambda a, b, y: _floor_quotient(a, b)))

    @staticmethod
    def forward(ctx, a, b):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.remainder(a, b)


def _floor_quotient(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.floor_divide(value(a), value(b))


class PowNumber(Elementwise):
    """x ** k for a plain-number exponent k."""

    declared = table.POW

    @staticmethod
    def forward(ctx, a, k):
        ctx.params = (k,)
        with np.errstate(divide="ignore", invalid="ignore"):
            return a**k


class Pow(Elementwise):
    """a ** b for two tensors."""

    name, symbol = "pow", "aᵇ"
    rules = (
        Rule("a", "b·aᵇ⁻¹", lambda a, b, y: _base_local(a, b)),
        Rule("b", "aᵇ·log a", lambda a, b, y: _exponent_local(a, b, y)),
    )
    saves = "inputs+output"
    hint = table.POW.hint

    @staticmethod
    def forward(ctx, a, b):
        with np.errstate(divide="ignore", invalid="ignore"):
            return a**b


def _base_local(a, b):
    """b·aᵇ⁻¹; as PyTorch, 0 where b == 0 (a⁰ is the constant 1, even at a = 0). Arrays, or Tensors for create_graph."""
    zero = value(b) == 0
    if is_tensor(b):
        return where(zero, 0.0, b * a ** (b - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        local = b * a ** (b - 1)
        return np.where(zero, np.zeros((), local.dtype), local) if zero.any() else local


def _exponent_local(a, b, y):
    """aᵇ·log a; as PyTorch, 0 where a == 0 and b >= 0 (not nan). Arrays, or Tensors for create_graph."""
    zero = (value(a) == 0) & (value(b) >= 0)
    if is_tensor(y):
        return where(zero, 0.0, y * a.log())
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(zero, 0.0, y * np.log(a)).astype(y.dtype)


class Neg(Elementwise):
    declared = table.NEG

    @staticmethod
    def forward(ctx, a):
        return -a


class Exp(Elementwise):
    declared = table.EXP

    @staticmethod
    def forward(ctx, a):
        with np.errstate(over="ignore"):
            return np.exp(a)


class Log(Elementwise):
    declared = table.LOG

    @staticmethod
    def forward(ctx, a):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(a)


class Tanh(Elementwise):
    declared = table.TANH

    @staticmethod
    def forward(ctx, a):
        return np.tanh(a)


class Sigmoid(Elementwise):
    declared = table.SIGMOID

    @staticmethod
    def forward(ctx, a):
        return 0.5 + 0.5 * np.tanh(0.5 * a)  # σ(x), without overflow for large |x|


class Relu(Elementwise):
    declared = table.RELU

    @staticmethod
    def forward(ctx, a):
        return np.maximum(a, 0)  # maximum, not fmax: NaN stays NaN (as PyTorch), so a diverging model shows it


class Sqrt(Elementwise):
    name, symbol = "sqrt", "√"
    rules = (Rule("x", "1/(2√x)", lambda x, y: 0.5 / y),)
    saves = "output"
    hint = "sqrt needs inputs ≥ 0, and its local gradient 1/(2√x) is infinite at x = 0"

    @staticmethod
    def forward(ctx, a):
        with np.errstate(invalid="ignore"):
            return np.sqrt(a)


class Abs(Elementwise):
    name, symbol = "abs", "|x|"
    rules = (Rule("x", "sign(x)", lambda x, y: np.sign(value(x))),)

    @staticmethod
    def forward(ctx, a):
        return np.abs(a)


class Maximum(Elementwise):
    """Elementwise max of two tensors: the max gate, routing the gradient (ties split evenly)."""

    declared = table.MAX
    name = "maximum"

    @staticmethod
    def forward(ctx, a, b):
        return np.maximum(a, b)


class Minimum(Elementwise):
    """Elementwise min of two tensors: the max gate's mirror image, routing the gradient (ties split evenly)."""

    name, symbol = "minimum", "min"
    rules = (  # as PyTorch's: 1 unless the other input is smaller, ½ on a tie -- both get 1 where one is NaN
        Rule("a", "1 − [a > b] − ½[a = b]", lambda a, b, y: 1 - (value(a) > value(b)) - 0.5 * (value(a) == value(b)),
             routes=True),
        Rule("b", "1 − [b > a] − ½[a = b]", lambda a, b, y: 1 - (value(b) > value(a)) - 0.5 * (value(a) == value(b)),
             routes=True),
    )
    pattern = "gradient router"

    @staticmethod
    def forward(ctx, a, b):
        return np.minimum(a, b)


class Where(Elementwise):
    """``where(cond, x, y)``: the condition is a constant mask, not an input."""

    name, symbol = "where", "where"
    rules = (
        Rule("x", "[cond]", lambda x, y, out, cond: cond, routes=True, output="out"),
        Rule("y", "[not cond]", lambda x, y, out, cond: ~cond, routes=True, output="out"),
    )
    saves = ""

    @staticmethod
    def forward(ctx, x, y, cond):
        ctx.params = (cond,)
        return np.where(cond, x, y)


class Cast(Elementwise):
    """A change of dtype; the gradient is cast back to the input's dtype."""

    name, symbol = "cast", "cast"
    rules = (Rule("x", "1 (in x's dtype)", 1.0),)
    saves = ""

    @staticmethod
    def forward(ctx, a, dtype):
        return a.astype(dtype)


class Clone(Elementwise):
    name, symbol = "clone", "clone"
    rules = (Rule("x", "1", 1.0),)
    saves = ""

    @staticmethod
    def forward(ctx, a):
        return a.copy()


# -- the functions Tensor's methods and minigrad's namespace call --


def add(a, b, reflected=False):
    return _binary(Add, a, b, reflected)


def sub(a, b, reflected=False):
    return _binary(Sub, a, b, reflected)


def mul(a, b, reflected=False):
    return _binary(Mul, a, b, reflected)


def div(a, b, reflected=False):
    return _binary(Div, a, b, reflected, true_divide=True)


def floor_divide(a, b, reflected=False):
    return _binary(FloorDiv, a, b, reflected)


def remainder(a, b, reflected=False):
    return _binary(Remainder, a, b, reflected)


def power(a, k):
    """``a ** k``: a number exponent (numpy scalars too) is the pow gate's parameter, a tensor one its input."""
    if isinstance(k, (numbers.Real, np.floating, np.integer)) and not isinstance(k, (bool, np.bool_)):
        if a.dtype.kind != "f":  # an integer tensor to a fractional power gives float32
            (a,) = dtypes.promoted("pow", a, k)[:1]
        return PowNumber.apply(a, k=float(k) if not float(k).is_integer() else int(k))
    return _binary(Pow, a, k)


def rpower(a, base):
    return _binary(Pow, a, base, reflected=True)


def maximum(a, b):
    """Elementwise max (the max gate); for two Values it is the scalar max gate."""
    from ..core.scalar import Value, maximum as scalar_maximum

    if isinstance(a, Value) or isinstance(b, Value):
        return scalar_maximum(a, b)
    if not is_tensor(a):
        if not is_tensor(b):
            raise TypeError(f"maximum: expected Tensors (or Values), got {type(a).__name__} and {type(b).__name__}")
        a, b = b, a
    out = _binary(Maximum, a, b)
    if out is NotImplemented:
        raise TypeError(f"maximum: cannot combine a Tensor with {type(b).__name__}")
    return out


def minimum(a, b):
    """Elementwise min (as ``torch.minimum``: NaN propagates, a tie splits the gradient evenly)."""
    if not is_tensor(a):
        if not is_tensor(b):
            raise TypeError(f"minimum: expected Tensors, got {type(a).__name__} and {type(b).__name__}")
        a, b = b, a
    out = _binary(Minimum, a, b)
    if out is NotImplemented:
        raise TypeError(f"minimum: cannot combine a Tensor with {type(b).__name__}")
    return out


def where(cond, x, y):
    """``x`` where ``cond`` is true, else ``y`` (numpy broadcasting); gradients flow to x and y."""
    from .compare import MaskedWhere, traced_mask

    mask = cond
    cond = np.asarray(cond.data if is_tensor(cond) else cond, dtype=bool)
    try:
        x, y = dtypes.promoted("where", x, y)
    except TypeError:
        raise TypeError("where: x and y must be Tensors, arrays or numbers") from None
    shape = broadcast_shape("where", cond.shape, x.shape, y.shape)
    if traced_mask(mask):  # a mask computed from the input while mg.onnx.export traces: keep where it came from
        return MaskedWhere.apply(mask if mask.dtype == bool else cast(mask, bool), x, y)
    if cond.shape != shape:
        cond = np.broadcast_to(cond, shape)
    return Where.apply(x, y, cond=cond)


def unary(gate, a):
    return gate.apply(a)


def cast(a, dtype):
    from ..core.tensor import _numeric_dtype

    dtype = _numeric_dtype(dtype, "astype")
    if a.dtype == dtype:
        return a
    return Cast.apply(a, dtype=dtype)
