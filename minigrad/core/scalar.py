"""``Value``: one scalar node, with the scalar gates of the lectures (``core/scalar_gates.py``).

The four gates of the lectures, each a forward rule there and its local-gradient rules in
``core/rules.py``, the table the tensor gates share; the engine turns them into downstream = local x
upstream:

* **add** -- gradient *distributor*: both local gradients are 1, every input gets the upstream;
* **mul** -- "swap multiplier": each input's local gradient is the *other* input;
* **max** -- gradient *router*: the larger input gets all of it (a tie splits it evenly);
* **copy** -- gradient *adder*: a value used by several gates receives the sum (the engine
  emits it as a ``copy`` step).

A node costs two small objects (the gates keep no state), and a plain number in a graph is a
``Constant`` leaf, not a Value.
"""
from __future__ import annotations

import math
import numbers

from . import engine
from .engine import modes, new_id
from .scalar_gates import (ADD, DIV, EXP, LOG, MAX, MUL, NEG, RELU, SIGMOID, SUB, TANH, Constant, _new_float,
                           _pow_gate)
from .scalar_gates import _scalar_gate  # noqa: F401 -- pickles made before scalar_gates.py name it here


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


def maximum(a, b):
    """The max gate: ``maximum(a, b)`` for Values (and numbers); Tensors are handled in minigrad.tensor."""
    if not isinstance(a, Value):
        if isinstance(b, Value):
            return b._binary(MAX, a, reflected=True)
        raise TypeError(f"max: expected Values, got {type(a).__name__} and {type(b).__name__}")
    return a.max(b)
