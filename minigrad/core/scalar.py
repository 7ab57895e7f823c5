"""``Value``: one scalar node, and the scalar gates of the lectures.

Each gate holds its forward rule and its local-gradient rule side by side; the engine turns
them into downstream = local x upstream. The four gates of the lectures:

* **add** -- gradient *distributor*: both local gradients are 1, every input gets the upstream;
* **mul** -- "swap multiplier": each input's local gradient is the *other* input;
* **max** -- gradient *router*: the larger input gets all of it (a tie splits it evenly);
* **copy** -- gradient *adder*: a value used by several gates receives the sum (the engine
  emits it as a ``copy`` step).

Scalar gates keep no state of their own (they read the input and output values off the
nodes), so one instance of each serves every graph and a node costs two small objects.
"""
from __future__ import annotations

import math
import numbers

from . import engine
from .engine import Gate, _anomaly, new_id


class ScalarGate(Gate):
    """A scalar gate: ``forward(*xs)`` and ``local(node)``; downstream = local x upstream."""

    __slots__ = ()

    def backward(self, node, upstream):
        local = self.local(node)
        if len(local) == 1:
            return (local[0] * upstream,)
        return (local[0] * upstream, local[1] * upstream)


class Add(ScalarGate):
    __slots__ = ()
    name, symbol = "add", "+"
    formula = "d(a+b)/da = 1, d(a+b)/db = 1 (add gate: gradient distributor)"

    def forward(self, a, b):
        return a + b

    def local(self, node):
        return (1.0, 1.0)

    def backward(self, node, upstream):
        # the distributor: every input receives the upstream unchanged
        return (upstream, upstream)


class Mul(ScalarGate):
    __slots__ = ()
    name, symbol = "mul", "×"
    formula = "d(a·b)/da = b, d(a·b)/db = a (mul gate: swap multiplier)"

    def forward(self, a, b):
        return a * b

    def local(self, node):
        a, b = node._inputs
        return (b.data, a.data)

    def backward(self, node, upstream):
        # the swap, written out: the hottest gate skips the call to local()
        a, b = node._inputs
        return (b.data * upstream, a.data * upstream)


class Max(ScalarGate):
    __slots__ = ()
    name, symbol = "max", "max"
    formula = "d max(a,b)/da = 1 if a > b, 0 if a < b, ½ on a tie (max gate: gradient router)"

    def forward(self, a, b):
        return a if a >= b else b

    def local(self, node):
        a, b = node._inputs
        if a.data > b.data:
            return (1.0, 0.0)
        if a.data < b.data:
            return (0.0, 1.0)
        return (0.5, 0.5)


class Sub(ScalarGate):
    __slots__ = ()
    name, symbol = "sub", "−"
    formula = "d(a−b)/da = 1, d(a−b)/db = −1"

    def forward(self, a, b):
        return a - b

    def local(self, node):
        return (1.0, -1.0)


class Div(ScalarGate):
    __slots__ = ()
    name, symbol = "div", "÷"
    formula = "d(a/b)/da = 1/b, d(a/b)/db = −a/b²"

    def forward(self, a, b):
        if b == 0.0:
            raise ZeroDivisionError(f"div: division by zero ({a!r} / 0.0); the divisor must be non-zero")
        return a / b

    def local(self, node):
        a, b = node._inputs
        return (1.0 / b.data, -a.data / (b.data * b.data))


class Neg(ScalarGate):
    __slots__ = ()
    name, symbol = "neg", "−x"
    formula = "d(−x)/dx = −1"

    def forward(self, x):
        return -x

    def local(self, node):
        return (-1.0,)


class Pow(ScalarGate):
    """x ** k for a plain-number exponent k (one instance per exponent)."""

    __slots__ = ("k",)
    name = "pow"
    formula = "d(xᵏ)/dx = k·xᵏ⁻¹"

    def __init__(self, k):
        self.k = k

    @property
    def symbol(self):
        return f"^{_fmt(self.k)}"

    def forward(self, x):
        if x == 0.0 and self.k < 0:
            raise ZeroDivisionError(f"pow: 0.0 ** {self.k!r} is undefined (a negative power of zero)")
        if x < 0.0 and self.k != int(self.k):
            raise ValueError(
                f"pow: {x!r} ** {self.k!r} is not a real number (negative base, fractional exponent)"
            )
        return x**self.k

    def local(self, node):
        x = node._inputs[0].data
        return (self.k * x ** (self.k - 1),)


class Exp(ScalarGate):
    __slots__ = ()
    name, symbol = "exp", "exp"
    formula = "d(eˣ)/dx = eˣ"

    def forward(self, x):
        try:
            return math.exp(x)
        except OverflowError:
            raise OverflowError(f"exp: exp({x!r}) overflows a float (the largest is about exp(709))") from None

    def local(self, node):
        return (node.data,)


class Log(ScalarGate):
    __slots__ = ()
    name, symbol = "log", "log"
    formula = "d(log x)/dx = 1/x"

    def forward(self, x):
        if x <= 0.0:
            raise ValueError(f"log: input must be positive, got {x!r} (log is undefined at or below 0)")
        return math.log(x)

    def local(self, node):
        return (1.0 / node._inputs[0].data,)


class Tanh(ScalarGate):
    __slots__ = ()
    name, symbol = "tanh", "tanh"
    formula = "d(tanh x)/dx = 1 − tanh²x"

    def forward(self, x):
        return math.tanh(x)

    def local(self, node):
        return (1.0 - node.data * node.data,)


class Sigmoid(ScalarGate):
    __slots__ = ()
    name, symbol = "sigmoid", "σ"
    formula = "dσ(x)/dx = σ(x)·(1 − σ(x))"

    def forward(self, x):
        if x >= 0.0:
            return 1.0 / (1.0 + math.exp(-x))
        e = math.exp(x)  # the same value, without overflowing for very negative x
        return e / (1.0 + e)

    def local(self, node):
        s = node.data
        return (s * (1.0 - s),)


class Relu(ScalarGate):
    __slots__ = ()
    name, symbol = "relu", "relu"
    formula = "d relu(x)/dx = 1 if x > 0 else 0"

    def forward(self, x):
        return x if x > 0.0 else 0.0

    def local(self, node):
        return (1.0 if node._inputs[0].data > 0.0 else 0.0,)


ADD, MUL, MAX, SUB, DIV = Add(), Mul(), Max(), Sub(), Div()
NEG, EXP, LOG, TANH, SIGMOID, RELU = Neg(), Exp(), Log(), Tanh(), Sigmoid(), Relu()


def _fmt(x):
    return f"{x:g}"


def _number(x, where):
    """A plain number as a float, or a TypeError that says what was given."""
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return float(x)
    if isinstance(x, Value):
        raise TypeError(f"{where}: got a Value where a plain number is needed")
    raise TypeError(f"{where}: expected a real number (int or float), got {x!r} ({type(x).__name__})")


class Value:
    """A scalar node: ``data`` (float), ``grad`` (float, 0.0 until backward), ``label``.

    >>> x, y, z = Value(-2.0, label="x"), Value(5.0, label="y"), Value(-4.0, label="z")
    >>> f = (x + y) * z
    >>> f.backward()
    >>> x.grad, y.grad, z.grad
    (-4.0, -4.0, 3.0)
    """

    __slots__ = ("data", "grad", "label", "_gate", "_inputs", "_id", "_g", "_site")  # _site: set in anomaly mode only
    requires_grad = True

    def __init__(self, data, label=""):
        if data.__class__ is not float:
            data = _number(data, "Value")
        if not isinstance(label, str):
            raise TypeError(f"Value: label must be a string, got {label!r}")
        self.data = data
        self.grad = 0.0
        self.label = label
        self._gate = None
        self._inputs = ()
        self._id = new_id()
        self._g = None

    @classmethod
    def _make(cls, gate, inputs, data):
        """The node holding ``data``, the output of ``gate`` applied to ``inputs``."""
        out = cls.__new__(cls)
        out.data = data
        out.grad = 0.0
        out.label = ""
        out._gate = gate
        out._inputs = inputs
        out._id = new_id()
        out._g = None
        if _anomaly.enabled:
            _anomaly.check_forward(out, gate)
        return out

    def _receive(self, grad):
        """The engine hands over this node's complete gradient: leaves accumulate, others set."""
        if self._gate is None:
            self.grad += grad
        else:
            self.grad = grad
        return grad

    # -- binary gates (a plain number becomes a constant leaf) --

    def _binary(self, gate, other, reflected=False):
        kind = other.__class__
        if kind is not Value:
            # exact float and int first: isinstance(other, numbers.Real) is an ABC lookup, ~2 µs a gate
            if kind is float or kind is int or (isinstance(other, numbers.Real) and kind is not bool):
                other = Value._make(None, (), float(other))
            else:
                return NotImplemented
        if reflected:
            return Value._make(gate, (other, self), gate.forward(other.data, self.data))
        return Value._make(gate, (self, other), gate.forward(self.data, other.data))

    def _unary(self, gate):
        return Value._make(gate, (self,), gate.forward(self.data))

    def __add__(self, other):
        return self._binary(ADD, other)

    def __radd__(self, other):
        return self._binary(ADD, other, reflected=True)

    def __mul__(self, other):
        return self._binary(MUL, other)

    def __rmul__(self, other):
        return self._binary(MUL, other, reflected=True)

    def __sub__(self, other):
        return self._binary(SUB, other)

    def __rsub__(self, other):
        return self._binary(SUB, other, reflected=True)

    def __truediv__(self, other):
        return self._binary(DIV, other)

    def __rtruediv__(self, other):
        return self._binary(DIV, other, reflected=True)

    def max(self, other):
        """The max gate (gradient router); ``other`` may be a Value or a number."""
        out = self._binary(MAX, other)
        if out is NotImplemented:
            raise TypeError(f"max: expected a Value or a number, got {other!r} ({type(other).__name__})")
        return out

    def __pow__(self, k):
        if isinstance(k, Value):
            raise TypeError(
                "pow: the exponent must be a plain number, not a Value; "
                "for a Value exponent b write (b * a.log()).exp()"
            )
        k = _number(k, "pow: exponent")
        return self._unary(Pow(k))

    def __rpow__(self, base):
        base = _number(base, "pow: base")
        if base <= 0.0:
            raise ValueError(f"pow: {base!r} ** Value needs a positive base (it is computed as exp(x·log base))")
        return (self * math.log(base)).exp()

    # -- unary gates --

    def __neg__(self):
        return self._unary(NEG)

    def __pos__(self):
        return self

    def exp(self):
        return self._unary(EXP)

    def log(self):
        return self._unary(LOG)

    def tanh(self):
        return self._unary(TANH)

    def sigmoid(self):
        """σ(x) as a single gate whose local gradient is σ(1 − σ)."""
        return self._unary(SIGMOID)

    def relu(self):
        return self._unary(RELU)

    # -- backprop --

    def backward(self, *, breakpoint=None):
        """Backprop from this value: every node of its graph gets ``.grad``.

        Leaves accumulate across calls (as in PyTorch); intermediate gradients are recomputed.
        ``breakpoint`` is a predicate on a Step; where it is true, Python's ``breakpoint()``
        is called with ``step`` in scope, before the step's downstream gradients are sent.
        """
        engine.run_backward(self, 1.0, breakpoint=breakpoint)

    def backward_steps(self):
        """Backprop from this value one Step at a time (same result as ``backward()``)."""
        return engine.backprop(self, 1.0, steps=True)

    def __float__(self):
        return self.data

    def __repr__(self):
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"


def maximum(a, b):
    """The max gate: ``maximum(a, b)`` for Values (and numbers); Tensors are handled in minigrad.tensor."""
    if not isinstance(a, Value):
        if isinstance(b, Value):
            return b._binary(MAX, a, reflected=True)
        raise TypeError(f"max: expected Values, got {type(a).__name__} and {type(b).__name__}")
    return a.max(b)
