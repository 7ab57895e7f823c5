"""One declaration per gate: the scalar and tensor gates share their rules, and everything reads them."""
import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor, Value
from minigrad.core import rules, scalar
from minigrad.ops import elementwise

SHARED = {  # the operations Values and Tensors both have: the scalar gate, the tensor gate
    "add": (scalar.ADD, elementwise.Add), "sub": (scalar.SUB, elementwise.Sub), "mul": (scalar.MUL, elementwise.Mul),
    "div": (scalar.DIV, elementwise.Div), "max": (scalar.MAX, elementwise.Maximum), "neg": (scalar.NEG, elementwise.Neg),
    "exp": (scalar.EXP, elementwise.Exp), "log": (scalar.LOG, elementwise.Log), "tanh": (scalar.TANH, elementwise.Tanh),
    "sigmoid": (scalar.SIGMOID, elementwise.Sigmoid), "relu": (scalar.RELU, elementwise.Relu),
    "pow": (scalar._pow_gate(3), elementwise.PowNumber),
}


@pytest.mark.parametrize("name", sorted(SHARED))
def test_scalar_and_tensor_gates_read_one_rule_table(name):
    value_gate, tensor_gate = SHARED[name]
    assert value_gate.rules is tensor_gate.rules  # the same Rule objects: one place to read "mul swaps"


def test_the_lectures_patterns_are_declared_with_the_rules():
    assert rules.ADD.pattern == "gradient distributor" and rules.MUL.pattern == "swap multiplier"
    assert rules.MAX.pattern == "gradient router"
    assert scalar.MUL.formula == "dL/da = b × dL/dy, dL/db = a × dL/dy (mul: swap multiplier)"
    assert elementwise.Mul.rules[0].text == "dL/da = b ⊙ dL/dy"


# every scalar gate against the same operation on 0-d float64 Tensors: value and gradient
UNARY = {
    "exp": lambda v: v.exp(), "log": lambda v: v.log(), "tanh": lambda v: v.tanh(), "sigmoid": lambda v: v.sigmoid(),
    "relu": lambda v: v.relu(), "neg": lambda v: -v, "pow 3": lambda v: v**3, "pow -1.5": lambda v: v ** -1.5,
    "pow 0.5": lambda v: v**0.5,
}
BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b, "div": lambda a, b: a / b,
    "max": lambda a, b: mg.maximum(a, b),
}


POSITIVE_ONLY = ("log", "pow -1.5", "pow 0.5")


@pytest.mark.parametrize("name, x", [(n, x) for n in sorted(UNARY) for x in (0.7, 2.5, -1.3)
                                     if x > 0 or n not in POSITIVE_ONLY])
def test_each_unary_scalar_gate_matches_a_0d_float64_tensor(name, x):
    fn = UNARY[name]
    v = Value(x)
    y = fn(v)
    y.backward()
    t = Tensor(np.array(x, dtype=np.float64), requires_grad=True)
    z = fn(t)
    z.backward()
    assert z.shape == () and z.dtype == np.float64
    assert y.data == pytest.approx(float(z.data), rel=1e-12, abs=1e-15)
    assert v.grad == pytest.approx(float(t.grad), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("a, b", [(0.7, -2.0), (3.0, 3.0), (-1.5, 0.25)])
def test_each_binary_scalar_gate_matches_0d_float64_tensors(name, a, b):
    fn = BINARY[name]
    va, vb = Value(a), Value(b)
    y = fn(va, vb)
    y.backward()
    ta = Tensor(np.array(a, dtype=np.float64), requires_grad=True)
    tb = Tensor(np.array(b, dtype=np.float64), requires_grad=True)
    z = fn(ta, tb)
    z.backward()
    assert y.data == pytest.approx(float(z.data), rel=1e-12)
    assert (va.grad, vb.grad) == (pytest.approx(float(ta.grad), rel=1e-12), pytest.approx(float(tb.grad), rel=1e-12))


def test_a_tie_splits_evenly_on_both_sides():
    a, b = Value(2.0), Value(2.0)
    a.max(b).backward()
    assert (a.grad, b.grad) == (0.5, 0.5)


def test_value_honours_no_grad():
    a = Value(2.0)
    with mg.no_grad():
        y = a * 3
        z = (a + 1).tanh()
    assert y._gate is None and y._inputs == () and y.data == 6.0
    assert z._gate is None and z.data == pytest.approx(math.tanh(3.0))
    w = a * 3
    assert w._gate is scalar.MUL.with_constant[1] and w._gate.name == "mul" and w._inputs[0] is a


def test_a_router_sends_exactly_zero_where_it_is_off_even_from_an_infinite_upstream():
    x = Tensor([-1.0, 2.0], requires_grad=True)
    x.relu().backward(np.array([np.inf, 1.0]))
    assert x.grad.tolist() == [0.0, 1.0]
    v = Value(-1.0)
    y = v.relu()
    y._gate.send(y, math.inf)
    assert y._gate.send(y, math.inf) == (0.0,)


def test_anomaly_hints_come_from_the_declaration():
    x = Tensor([-1.0], requires_grad=True)
    with pytest.raises(mg.AnomalyError, match="hint: log needs inputs > 0"):
        with mg.detect_anomaly():
            x.log()
    assert elementwise.Log.hint == rules.LOG.hint


def test_no_module_parses_a_formula_back_into_rules():
    import inspect

    import minigrad.viz.graph as graph

    assert "re.compile" not in inspect.getsource(graph)  # the drawings read Rule objects, not prose


def test_a_local_gradient_that_is_a_sum_is_bracketed_before_the_upstream():
    """``1 − tanh²x ⊙ dL/dy`` would read as 1 − (tanh²x ⊙ dL/dy)."""
    from minigrad.core import rules

    assert rules.TANH.formula == "dL/dx = (1 − tanh²x) ⊙ dL/dy"
    assert rules.MAX.rules[0].text == "dL/da = (1 − [a < b] − ½[a = b]) ⊙ dL/dy"
    assert rules.SIGMOID.rules[0].text == "dL/dx = σ(x)(1 − σ(x)) ⊙ dL/dy"  # a product: no brackets needed
    assert rules.SUB.rules[1].text == "dL/db = −1 ⊙ dL/dy" and rules.MUL.rules[0].text == "dL/da = b ⊙ dL/dy"
