"""``Value``: one scalar node, and the scalar gates of the lectures.

Each gate is its forward rule here and its local-gradient rules in ``core/rules.py``, the table
the tensor gates share; the engine turns them into downstream = local x upstream. The four gates
of the lectures:

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
import operator

from . import engine, rules
from .engine import modes, new_id
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
            out.append((float(local) if local.__class__ is not Value else local) * up)
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


def _number(x, where):
    """A plain number as a float, or a TypeError that says what was given."""
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return float(x)
    if isinstance(x, Value):
        raise TypeError(f"{where}: got a Value where a plain number is needed")
    raise TypeError(f"{where}: expected a real number (int or float), got {x!r} ({type(x).__name__})")


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


class Value:
    """A scalar node: ``data`` (float), ``grad`` (float, 0.0 until backward), ``label``.

    >>> x, y, z = Value(-2.0, label="x"), Value(5.0, label="y"), Value(-4.0, label="z")
    >>> f = (x + y) * z
    >>> f.backward()
    >>> x.grad, y.grad, z.grad
    (-4.0, -4.0, 3.0)
    """

    __slots__ = ("data", "grad", "label", "_gate", "_inputs", "_id", "_g", "_rec", "_pass", "_site")
    # _site is set in anomaly mode only; _g, _rec, _pass are the engine's (core/engine.py)
    requires_grad = True
    _hooks = _hooked = None  # Values take no hooks; the engine asks every node

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
        self._g = self._rec = self._pass = None

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
        out._g = out._rec = out._pass = None
        if engine.anomalous and gate is not None and modes.anomaly is not None:
            modes.anomaly.check_forward(out, gate)
        return out

    def _receive(self, grad):
        """The engine hands over this node's complete gradient: leaves accumulate, others set."""
        if self._gate is None:
            self.grad += grad
        else:
            self.grad = grad

    # -- binary gates (a plain number becomes a Constant leaf) --

    def _binary(self, gate, other, reflected=False):
        kind = other.__class__
        if kind is not Value:
            # exact float and int first: isinstance(other, numbers.Real) is an ABC lookup, slow for the hottest path
            if kind is float or kind is Constant or kind is int or (
                    isinstance(other, numbers.Real) and kind is not bool):
                return self._with_number(gate, other, reflected)
            return NotImplemented
        if reflected:
            self, other = other, self
        if not modes.grad:  # under no_grad: the value only, no gate
            return Value._make(None, (), gate.forward(self.data, other.data))
        return Value._make(gate, (self, other), gate.forward(self.data, other.data))

    def _with_number(self, gate, number, reflected):
        """``gate(self, number)`` (``gate(number, self)`` if reflected): the number is a Constant input."""
        if number.__class__ is Constant:
            c = number
        else:  # Constant(number) without the Python-level __new__ (the hottest line of a scalar graph)
            c = _new_float(Constant, number)
            c._id = new_id()
        if reflected:
            data = gate.forward(float(c), self.data)
            if not modes.grad:
                return Value._make(None, (), data)
            return Value._make(gate.with_constant[0], (c, self), data)
        data = gate.forward(self.data, float(c))
        if not modes.grad:
            return Value._make(None, (), data)
        return Value._make(gate.with_constant[1], (self, c), data)

    def _unary(self, gate):
        if not modes.grad:
            return Value._make(None, (), gate.forward(self.data))
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
        return self._unary(_pow_gate(k))

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

    def backward(self, *, create_graph=False, breakpoint=None):
        """Backprop from this value: every node of its graph gets ``.grad``.

        Leaves accumulate across calls (as in PyTorch); intermediate gradients are recomputed.
        With ``create_graph`` the gradients are Values with graphs of their own (differentiable again).
        ``breakpoint`` is a predicate on a Step; where it is true, Python's ``breakpoint()`` is called
        with ``step`` in scope, before the step's downstream gradients are sent.
        """
        seed = Value._make(None, (), 1.0) if create_graph else 1.0
        engine.run_backward(self, seed, breakpoint=breakpoint, graph=bool(create_graph))

    def backward_steps(self, *, create_graph=False):
        """Backprop from this value one Step at a time (same result as ``backward()``)."""
        seed = Value._make(None, (), 1.0) if create_graph else 1.0
        return engine.backprop(self, seed, steps=True, graph=bool(create_graph))

    # -- copying and pickling: the whole graph, node by node, without recursion --

    def __reduce_ex__(self, protocol):
        return (_rebuild_graph, _graph_spec(self))

    def __deepcopy__(self, memo):
        import copy

        spec, at = _graph_spec(self)
        built = _rebuild_graph(copy.deepcopy(spec, memo), at, every=True)
        memo[id(self)] = built[at]
        return built[at]

    def __float__(self):
        return self.data

    def __repr__(self):
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"


def _graph_spec(root):
    """``root``'s graph as a flat list, oldest node first, inputs as positions in the list (no recursion)."""
    seen, stack = {root}, [root]
    while stack:
        for parent in stack.pop()._inputs:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    nodes = sorted(seen, key=lambda n: n._id)
    where = {node: k for k, node in enumerate(nodes)}
    spec = [float(n) if n.__class__ is Constant  # a Constant is its number
            else (n.data, n.grad, n.label, n._gate, tuple(where[p] for p in n._inputs)) for n in nodes]
    return spec, where[root]


def _rebuild_graph(spec, at, every=False):
    """The graph of :func:`_graph_spec` again; its node ``at`` (or, with ``every``, all its nodes)."""
    built = []
    for entry in spec:
        if entry.__class__ is float:
            built.append(Constant(entry))
            continue
        data, grad, label, gate, inputs = entry
        node = Value._make(gate, tuple(built[i] for i in inputs), data)
        node.grad, node.label = grad, label
        built.append(node)
    return built if every else built[at]


def _scalar_gate(name, params, constant=None):
    """A scalar gate by name, for unpickling: the module's one instance (pow's for its exponent), or its
    variant for a plain number as input ``constant``."""
    gate = _pow_gate(params[0]) if name == "pow" else _GATES[name]
    return gate if constant is None else gate.with_constant[constant]


def maximum(a, b):
    """The max gate: ``maximum(a, b)`` for Values (and numbers); Tensors are handled in minigrad.tensor."""
    if not isinstance(a, Value):
        if isinstance(b, Value):
            return b._binary(MAX, a, reflected=True)
        raise TypeError(f"max: expected Values, got {type(a).__name__} and {type(b).__name__}")
    return a.max(b)
