"""The scalar gates: each gate's forward rule, its local-gradient rules from ``core/rules.py`` (the table
the tensor gates share), and the backward derived from them -- ``downstream = local × upstream``.

Scalar gates keep no state of their own (they read the input and output values off the nodes), so one
instance of each serves every graph. A plain number in a scalar graph (the ``1.0`` of ``y + 1.0``) is a
:class:`Constant` input: each binary gate has two variants whose backward skips it. ``Value``, the node,
is in ``core/scalar.py``.
"""
from __future__ import annotations

import math
import operator

from . import rules
from .engine import new_id
from .rules import Gate


class ScalarGate(Gate):
    """A scalar gate: its declaration from ``core/rules.py`` (shared with the tensor gates) and a forward rule.

    Its backward is derived from the rules once, when the gate is made: ``downstream = local × upstream``
    for each input, with a constant local gradient folded in (add's 1s, sub's −1), and a routing rule
    (relu, max) sending exactly 0 where its local gradient is 0.
    """

    __slots__ = ("name", "symbol", "pattern", "hint", "rules", "forward", "params", "send", "constant", "with_constant")

    def __init__(self, declared, forward, params=(), symbol=None, constant=None):
        self.name, self.pattern, self.hint, self.rules = declared.name, declared.pattern, declared.hint, declared.rules
        self.symbol = symbol or declared.symbol
        self.forward, self.params = forward, params
        self.constant = constant
        self.send = _sender(self.rules, params, constant)
        # a binary gate with a plain number as input 0 or 1: the same gate, whose backward skips the number
        binary = len(self.rules) == 2 and constant is None
        self.with_constant = tuple(ScalarGate(declared, forward, params, symbol, k) for k in (0, 1)) if binary else None

    def __reduce__(self):
        """Pickled as a reference to the module's instance (its forward may be a lambda)."""
        return (_scalar_gate, (self.name, self.params, self.constant))

    @property
    def formula(self):
        """The rules as the lectures write them for numbers: ``dL/da = b × dL/dy, ...``."""
        return super().formula.replace("⊙", "×")

    def send_graph(self, node, up):
        """local × upstream in Value operations, each rule evaluated on the nodes: differentiable again."""
        from .scalar import Value  # the node's class (core/scalar.py imports this module)

        args = (*node._inputs, node, *self.params)
        out = []
        for i, rule in enumerate(self.rules):
            if i == self.constant:  # a plain number takes no gradient
                out.append(None)
                continue
            local = rule.local
            if not callable(local):
                out.append(up if local == 1.0 else local * up)
                continue
            local = local(*args)
            out.append((local if isinstance(local, Value) else float(local)) * up)
        return tuple(out)

    def local(self, node):
        args = (*[x.data for x in node._inputs], node.data, *self.params)
        return tuple([float(r.local(*args)) if callable(r.local) else r.local for r in self.rules])


def _sender(rules, params, constant=None):
    """``send(node, upstream)`` for scalar rules: one downstream gradient per input, local × upstream
    (None for input ``constant``, a plain number, which takes no gradient)."""
    if constant is not None:
        return _constant_sender(rules, 1 - constant)
    if not any(callable(r.local) for r in rules):
        consts = tuple(r.local for r in rules)
        if all(c == 1.0 for c in consts):
            n = len(consts)
            return lambda node, up: (up,) * n  # add distributes: every input gets the upstream unchanged
        return lambda node, up: tuple([c * up for c in consts])
    fns = tuple(r.local if callable(r.local) else (lambda *args, c=r.local: c) for r in rules)
    routes = any(r.routes for r in rules)
    # the common shapes without the generic loop below: the scalar engine's speed is in these few lines
    if len(rules) == 1 and not routes:
        (f,) = fns
        if params:
            return lambda node, up: (f(node._inputs[0].data, node.data, *params) * up,)
        return lambda node, up: (f(node._inputs[0].data, node.data) * up,)
    if len(rules) == 2 and not params and not routes:
        fa, fb = fns

        def send(node, up):  # mul's swap and div
            a, b = node._inputs
            x, y, out = a.data, b.data, node.data
            return (fa(x, y, out) * up, fb(x, y, out) * up)

        return send

    def send(node, up):
        args = (*[x.data for x in node._inputs], node.data, *params)
        out = []
        for fn in fns:
            local = fn(*args)
            out.append(local * up if local or not routes else 0.0)  # a router sends exactly 0 where it is 0
        return tuple(out)

    return send


def _constant_sender(rules, k):
    """``send`` of a binary gate whose other input is a plain number: only input ``k`` gets a gradient."""
    rule = rules[k]
    local = rule.local
    if not callable(local):
        if local == 1.0:
            return (lambda node, up: (up, None)) if k == 0 else (lambda node, up: (None, up))
        return (lambda node, up: (local * up, None)) if k == 0 else (lambda node, up: (None, local * up))
    routes = rule.routes

    def send(node, up):
        a, b = node._inputs  # one of them a Constant: a float, read as it is
        g = local(a if a.__class__ is Constant else a.data, b if b.__class__ is Constant else b.data, node.data)
        g = g * up if g or not routes else 0.0  # a router sends exactly 0 where it is 0
        return (g, None) if k == 0 else (None, g)

    return send


def _div(a, b):
    if b == 0.0:
        raise ZeroDivisionError(f"div: division by zero ({a!r} / 0.0); the divisor must be non-zero")
    return a / b


def _exp(x):
    try:
        return math.exp(x)
    except OverflowError:
        raise OverflowError(f"exp: exp({x!r}) overflows a float (the largest is about exp(709))") from None


def _log(x):
    if x <= 0.0:
        raise ValueError(f"log: input must be positive, got {x!r} (log is undefined at or below 0)")
    return math.log(x)


def _sigmoid(x):
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)  # the same value, without overflowing for very negative x
    return e / (1.0 + e)


ADD = ScalarGate(rules.ADD, operator.add)
SUB = ScalarGate(rules.SUB, operator.sub)
MUL = ScalarGate(rules.MUL, operator.mul)
DIV = ScalarGate(rules.DIV, _div)
MAX = ScalarGate(rules.MAX, lambda a, b: a if a >= b else b)
NEG = ScalarGate(rules.NEG, operator.neg)
EXP = ScalarGate(rules.EXP, _exp)
LOG = ScalarGate(rules.LOG, _log)
TANH = ScalarGate(rules.TANH, math.tanh)
SIGMOID = ScalarGate(rules.SIGMOID, _sigmoid)
RELU = ScalarGate(rules.RELU, lambda x: 0.0 if x <= 0.0 else x)  # NaN stays NaN, as PyTorch
_GATES = {g.name: g for g in (ADD, SUB, MUL, DIV, MAX, NEG, EXP, LOG, TANH, SIGMOID, RELU)}
_POWERS = {}


def _pow_gate(k):
    """The pow gate for exponent ``k`` (one per exponent, made once)."""
    gate = _POWERS.get(k)
    if gate is None:
        def forward(x):
            if x == 0.0 and k < 0:
                raise ZeroDivisionError(f"pow: 0.0 ** {k!r} is undefined (a negative power of zero)")
            if x < 0.0 and k != int(k):
                raise ValueError(f"pow: {x!r} ** {k!r} is not a real number (negative base, fractional exponent)")
            return x**k

        gate = _POWERS[k] = ScalarGate(rules.POW, forward, params=(k,), symbol=f"^{_fmt(k)}")
    return gate


def _fmt(x):
    return f"{x:g}"


_new_float = float.__new__


class Constant(float):
    """A plain number in a scalar graph (the ``1.0`` of ``y + 1.0``): drawn as a leaf, but not a Value.

    It takes no gradient (as a number in PyTorch), so the engine never visits it, and it is a float
    with one field, its creation number (``_id``, for the drawings): a third of a Value's memory,
    made in a third of the time (bench/README.md). It compares and hashes by identity, as nodes do,
    so two constants of the same value stay two leaves of a drawing; arithmetic on it is a float's.
    """

    __slots__ = ("_id",)
    requires_grad = False
    grad = None
    label = ""
    _gate = None
    _inputs = ()
    _g = _rec = _pass = _hooks = _hooked = _site = None
    __hash__ = object.__hash__
    __eq__ = object.__eq__
    __ne__ = object.__ne__

    def __new__(cls, number):
        self = float.__new__(cls, number)
        self._id = new_id()
        return self

    @property
    def data(self):
        return float(self)

    def __reduce__(self):
        return (Constant, (float(self),))

    def __repr__(self):
        return f"Constant({float(self)!r})"


def _scalar_gate(name, params, constant=None):
    """A scalar gate by name, for unpickling: the module's one instance (pow's for its exponent), or its
    variant for a plain number as input ``constant``."""
    gate = _pow_gate(params[0]) if name == "pow" else _GATES[name]
    return gate if constant is None else gate.with_constant[constant]
