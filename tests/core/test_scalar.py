"""Value and the scalar gates: the lectures' worked examples, a well-known engine's, and central differences."""
import math

import pytest

from minigrad import Value, lectures, maximum


def approx(x):
    return pytest.approx(x, rel=1e-9, abs=1e-12)


# --- the lectures' worked examples ------------------------------------------------------------


def test_simple_graph_of_the_lectures():
    f, v = lectures.simple()
    assert f.data == -12.0
    f.backward()
    assert (v["x"].grad, v["y"].grad, v["z"].grad) == (-4.0, -4.0, 3.0)


@pytest.mark.parametrize("build", [lectures.neuron_gates, lectures.neuron_sigmoid])
def test_sigmoid_neuron_from_gates_and_from_one_sigmoid_gate(build):
    f, p = build()
    assert f.data == pytest.approx(0.73106, abs=1e-5)
    f.backward()
    expected = {"w0": -0.19661, "x0": 0.39322, "w1": -0.39322, "x1": -0.58984, "w2": 0.19661}
    for name, grad in expected.items():
        assert p[name].grad == pytest.approx(grad, abs=1e-5), name


def test_the_two_neuron_graphs_agree_exactly_enough():
    f1, p1 = lectures.neuron_gates()
    f2, p2 = lectures.neuron_sigmoid()
    f1.backward()
    f2.backward()
    assert f1.data == approx(f2.data)
    for name in p1:
        assert p1[name].grad == approx(p2[name].grad)


def test_graph_of_the_sigmoid_gate_is_shorter():
    f1, _ = lectures.neuron_gates()
    f2, _ = lectures.neuron_sigmoid()
    assert len(list(f2.backward_steps())) < len(list(f1.backward_steps()))


# --- micrograd's well-known sanity checks -----------------------------------------------------


def test_micrograd_sanity_check():
    x = Value(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    assert y.data == -20.0
    assert x.grad == 46.0


def test_micrograd_more_ops():
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert g.data == pytest.approx(24.70408163265306, rel=1e-12)
    assert a.grad == pytest.approx(138.83381924198252, rel=1e-12)
    assert b.grad == pytest.approx(645.5772594752186, rel=1e-12)


def test_reuse_adds_gradients():
    a = Value(1.0)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad == 4.0 and b.grad == 2.0


def test_diamond():
    a, b = Value(2.0), Value(3.0)
    c = a + b
    d = a * b
    e = c + d
    f = c * d
    y = e + f
    y.backward()
    assert y.data == 41.0
    assert (a.grad, b.grad) == (25.0, 19.0)


# --- the max gate routes ----------------------------------------------------------------------


def test_max_routes_to_the_larger_input():
    a, b = Value(3.0), Value(1.0)
    m = a.max(b)
    m.backward()
    assert m.data == 3.0
    assert (a.grad, b.grad) == (1.0, 0.0)


def test_max_tie_splits_evenly():
    a, b = Value(2.0), Value(2.0)
    maximum(a, b).backward()
    assert (a.grad, b.grad) == (0.5, 0.5)


def test_max_with_a_number_and_reflected():
    a = Value(-1.0)
    m = maximum(0.0, a)
    m.backward()
    assert m.data == 0.0 and a.grad == 0.0
    b = Value(5.0)
    b.max(1).backward()
    assert b.grad == 1.0


# --- backward twice ---------------------------------------------------------------------------


def test_backward_twice_accumulates_on_leaves_only():
    x, y = Value(2.0), Value(3.0)
    q = x * y
    f = q + x
    f.backward()
    assert (x.grad, y.grad, q.grad, f.grad) == (4.0, 2.0, 1.0, 1.0)
    f.backward()
    assert (x.grad, y.grad) == (8.0, 4.0)  # leaves accumulate, as in PyTorch
    assert (q.grad, f.grad) == (1.0, 1.0)  # intermediates recomputed, never double counted


# --- every gate against central differences ---------------------------------------------------

UNARY = [
    ("neg", lambda v: -v, lambda x: -x, [-1.5, 0.3]),
    ("exp", lambda v: v.exp(), math.exp, [-2.0, 0.0, 1.3]),
    ("log", lambda v: v.log(), math.log, [0.2, 1.0, 7.5]),
    ("tanh", lambda v: v.tanh(), math.tanh, [-2.0, 0.1, 1.7]),
    ("sigmoid", lambda v: v.sigmoid(), lambda x: 1 / (1 + math.exp(-x)), [-30.0, -1.0, 0.0, 2.5]),
    ("relu", lambda v: v.relu(), lambda x: max(x, 0.0), [-1.0, 0.5, 3.0]),
    ("pow 3", lambda v: v**3, lambda x: x**3, [-1.5, 0.7, 2.0]),
    ("pow -2", lambda v: v**-2, lambda x: x**-2, [-1.5, 0.7, 2.0]),
    ("pow 0.5", lambda v: v**0.5, lambda x: x**0.5, [0.3, 4.0]),
    ("rpow", lambda v: 2.0**v, lambda x: 2.0**x, [-1.0, 0.5, 3.0]),
    ("radd", lambda v: 1.5 + v, lambda x: 1.5 + x, [0.5]),
    ("rsub", lambda v: 1.5 - v, lambda x: 1.5 - x, [0.5]),
    ("rmul", lambda v: 1.5 * v, lambda x: 1.5 * x, [0.5]),
    ("rdiv", lambda v: 1.5 / v, lambda x: 1.5 / x, [0.5, -2.0]),
]

BINARY = [
    ("add", lambda a, b: a + b),
    ("sub", lambda a, b: a - b),
    ("mul", lambda a, b: a * b),
    ("div", lambda a, b: a / b),
    ("max", lambda a, b: a.max(b) if isinstance(a, Value) else max(a, b)),
]


def central_difference(fn, xs, i, eps=1e-6):
    up = list(xs)
    down = list(xs)
    up[i] += eps
    down[i] -= eps
    return (fn(*up) - fn(*down)) / (2 * eps)


@pytest.mark.parametrize("name,on_value,on_float,points", UNARY, ids=[u[0] for u in UNARY])
def test_unary_gate_matches_central_differences(name, on_value, on_float, points):
    for x0 in points:
        x = Value(x0)
        out = on_value(x)
        assert out.data == pytest.approx(on_float(x0), rel=1e-12)
        out.backward()
        assert x.grad == pytest.approx(central_difference(on_float, [x0], 0), rel=1e-6, abs=1e-8), x0


@pytest.mark.parametrize("name,fn", BINARY, ids=[b[0] for b in BINARY])
@pytest.mark.parametrize("a0,b0", [(1.5, -0.7), (-2.0, 3.0), (0.4, 0.25)])
def test_binary_gate_matches_central_differences(name, fn, a0, b0):
    a, b = Value(a0), Value(b0)
    out = fn(a, b)
    assert out.data == pytest.approx(fn(a0, b0), rel=1e-12)
    out.backward()
    plain = lambda x, y: fn(x, y)  # noqa: E731 -- the same rule on plain floats
    assert a.grad == pytest.approx(central_difference(plain, [a0, b0], 0), rel=1e-6, abs=1e-8)
    assert b.grad == pytest.approx(central_difference(plain, [a0, b0], 1), rel=1e-6, abs=1e-8)


def test_a_composite_function_matches_central_differences():
    def f(x, y, z):
        t = (x * y).tanh() + (z**2 + 1).log() / (y.sigmoid() if isinstance(y, Value) else 1 / (1 + math.exp(-y)))
        return t * x - z.exp() if isinstance(z, Value) else t * x - math.exp(z)

    def plain(x, y, z):
        t = math.tanh(x * y) + math.log(z**2 + 1) / (1 / (1 + math.exp(-y)))
        return t * x - math.exp(z)

    xs = [0.3, -1.2, 0.8]
    vs = [Value(v) for v in xs]
    out = f(*vs)
    assert out.data == pytest.approx(plain(*xs), rel=1e-12)
    out.backward()
    for i, v in enumerate(vs):
        assert v.grad == pytest.approx(central_difference(plain, xs, i), rel=1e-6)


def test_sigmoid_is_one_gate_with_local_sigma_times_one_minus_sigma():
    x = Value(1.0)
    s = x.sigmoid()
    (step,) = list(s.backward_steps())
    assert step.gate == "sigmoid"
    assert step.local[0] == pytest.approx(s.data * (1 - s.data))


# --- bad input: clear errors where the user wrote them -----------------------------------------


@pytest.mark.parametrize("bad", ["a", None, 1 + 2j, [1.0], True])
def test_value_rejects_what_is_not_a_real_number(bad):
    with pytest.raises(TypeError, match="Value: expected a real number"):
        Value(bad)


def test_value_accepts_ints_and_numpy_floats():
    import numpy as np

    assert Value(3).data == 3.0 and isinstance(Value(3).data, float)
    assert Value(np.float32(1.5)).data == 1.5


def test_plain_operands_become_constant_leaves_and_bool_is_refused():
    # exact float and int skip the numbers.Real check; other reals still take it; bool never counts as a number
    import fractions

    import numpy as np

    from minigrad.core.scalar import Constant

    a = Value(2.0)
    for other in (3, 3.0, np.float32(3.0), np.int64(3), fractions.Fraction(3)):
        out = a * other
        constant = out._inputs[1]
        assert out.data == 6.0 and constant.__class__ is Constant and constant._gate is None
        assert constant.data.__class__ is float and constant.data == 3.0 and not constant.requires_grad
        out.backward()
        assert a.grad == 3.0 and constant.grad is None  # a number takes no gradient (as in PyTorch)
        a.grad = 0.0
    left = 1 - a
    assert left.data == -1.0 and left._inputs[0].data == 1.0 and left._inputs[0].__class__ is Constant
    left.backward()
    assert a.grad == -1.0
    # two constants of one value are two leaves (identity, not value, as for nodes); a Constant reused is kept
    b = a * 3.0 + a * 3.0
    c1, c2 = b._inputs[0]._inputs[1], b._inputs[1]._inputs[1]
    assert c1 is not c2 and len({c1, c2}) == 2 and c1 != c2 and c1 == 3.0
    assert (a * c1)._inputs[1] is c1
    for bad in (True, "3", None):
        with pytest.raises(TypeError):
            a * bad


def test_exponent_must_be_a_number():
    with pytest.raises(TypeError, match="pow: the exponent must be a plain number"):
        Value(2.0) ** Value(3.0)
    with pytest.raises(TypeError, match="pow: exponent"):
        Value(2.0) ** "3"


@pytest.mark.parametrize("x", [0.0, -1.0])
def test_log_of_non_positive_is_a_value_error_naming_the_gate(x):
    with pytest.raises(ValueError, match=r"log: input must be positive, got -?[01]\.0"):
        Value(x).log()


def test_other_domain_errors_name_the_gate():
    with pytest.raises(ZeroDivisionError, match="div: division by zero"):
        Value(1.0) / 0
    with pytest.raises(ZeroDivisionError, match="pow"):
        Value(0.0) ** -1
    with pytest.raises(ValueError, match="pow: .*negative base"):
        Value(-2.0) ** 0.5
    with pytest.raises(OverflowError, match="exp"):
        Value(1000.0).exp()
    with pytest.raises(TypeError, match="unsupported operand"):
        Value(1.0) + "a"
    with pytest.raises(TypeError, match="max"):
        Value(1.0).max("a")


def test_sigmoid_is_stable_for_large_inputs():
    assert Value(-1000.0).sigmoid().data == 0.0
    assert Value(1000.0).sigmoid().data == 1.0


def test_repr_shows_data_grad_and_label():
    assert repr(Value(2.0, "a")) == "Value(data=2.0, grad=0.0, label='a')"
