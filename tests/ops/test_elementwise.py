"""Elementwise gates: gradcheck on broadcast shape pairs (hypothesis and the issue's named pairs), the lectures' ReLU."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import minigrad as mg
from minigrad import Tensor, gradcheck


def away_from_zero(rng, shape, low=0.5, high=2.0):
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)


BINARY = {
    "add": (lambda a, b: a + b, "any"),
    "sub": (lambda a, b: a - b, "any"),
    "mul": (lambda a, b: a * b, "any"),
    "div": (lambda a, b: a / b, "b nonzero"),
    "pow": (lambda a, b: a**b, "a positive"),
    "maximum": (lambda a, b: mg.maximum(a, b), "any"),
}


def operands(kind, shape_a, shape_b, seed=0):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    if kind == "b nonzero":
        b = away_from_zero(rng, shape_b)
    if kind == "a positive":
        a = rng.uniform(0.5, 2.0, shape_a)
    return a, b


@pytest.mark.parametrize("name", BINARY)
@settings(max_examples=15, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4))
def test_binary_gates_broadcast_and_gradcheck(name, shapes):
    fn, kind = BINARY[name]
    a, b = operands(kind, *shapes.input_shapes)
    out = fn(Tensor(a), Tensor(b))
    assert out.shape == shapes.result_shape
    assert gradcheck(fn, [a, b])


NAMED_PAIRS = [((4, 1), (4, 5)), ((1, 3, 1, 7, 1), (2, 1, 5, 1, 8))]


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("shape_a,shape_b", NAMED_PAIRS)
def test_binary_gates_on_the_named_broadcast_pairs(name, shape_a, shape_b):
    fn, kind = BINARY[name]
    assert gradcheck(fn, list(operands(kind, shape_a, shape_b)))
    assert gradcheck(fn, list(operands(kind, shape_b, shape_a, seed=1)))


@pytest.mark.slow
@pytest.mark.parametrize("name", BINARY)
def test_binary_gates_on_the_large_broadcast_pair(name):
    fn, kind = BINARY[name]
    assert gradcheck(fn, list(operands(kind, (5, 13, 24, 16), (5, 1, 24, 1))))


UNARY = {
    "neg": (lambda x: -x, "any"),
    "exp": (lambda x: x.exp(), "any"),
    "log": (lambda x: x.log(), "positive"),
    "sqrt": (lambda x: x.sqrt(), "positive"),
    "abs": (lambda x: x.abs(), "nonzero"),
    "relu": (lambda x: x.relu(), "nonzero"),
    "sigmoid": (lambda x: x.sigmoid(), "any"),
    "tanh": (lambda x: x.tanh(), "any"),
    "pow 3": (lambda x: x**3, "any"),
    "pow -1.5": (lambda x: x**-1.5, "positive"),
    "rpow": (lambda x: 2.0**x, "any"),
    "rsub": (lambda x: 1.0 - x, "any"),
    "rdiv": (lambda x: 1.0 / x, "nonzero"),
    "clone": (lambda x: x.clone(), "any"),
}


@pytest.mark.parametrize("name", UNARY)
@settings(max_examples=10, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=0, max_size=4).map(tuple))
def test_unary_gates_gradcheck(name, shape):
    fn, kind = UNARY[name]
    rng = np.random.default_rng(0)
    x = {"any": rng.standard_normal(shape), "positive": rng.uniform(0.3, 3.0, shape)}.get(kind)
    if x is None:
        x = away_from_zero(rng, shape, 0.2, 2.0)
    assert gradcheck(fn, [x])


def test_where_routes_gradients_by_the_condition():
    rng = np.random.default_rng(0)
    cond = rng.random((3, 4)) > 0.5
    assert gradcheck(lambda x, y: mg.where(cond, x, y), [rng.standard_normal((3, 4)), rng.standard_normal((1, 4))])
    x = Tensor(np.ones((2, 2)), requires_grad=True)
    mg.where(np.array([[True, False], [False, True]]), x, 0.0).sum().backward()
    assert x.grad.tolist() == [[1.0, 0.0], [0.0, 1.0]]


def test_maximum_splits_ties_evenly_like_the_max_gate():
    a = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = Tensor([1.0, 5.0, 0.0], requires_grad=True)
    mg.maximum(a, b).sum().backward()
    assert a.grad.tolist() == [0.5, 0.0, 1.0]
    assert b.grad.tolist() == [0.5, 1.0, 0.0]


def test_minimum_mirrors_maximum_and_matches_pytorch(compare_with_torch):
    a = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = Tensor([1.0, 5.0, 0.0], requires_grad=True)
    y = mg.minimum(a, b)
    assert y.tolist() == [1.0, 2.0, 0.0] and y._gate.name == "minimum"
    y.sum().backward()
    assert a.grad.tolist() == [0.5, 1.0, 0.0] and b.grad.tolist() == [0.5, 0.0, 1.0]
    assert mg.minimum(2.0, Tensor([1.0, 3.0])).tolist() == [1.0, 2.0]
    assert a.minimum(b).tolist() == [1.0, 2.0, 0.0] and a.maximum(b).tolist() == [1.0, 5.0, 3.0]
    assert np.isnan(mg.minimum(Tensor([np.nan]), Tensor([1.0])).data[0])  # NaN propagates, as torch.minimum
    rng = np.random.default_rng(0)
    assert gradcheck(mg.minimum, [rng.standard_normal((3, 4)), rng.standard_normal(4)])
    import torch
    compare_with_torch(mg.minimum, torch.minimum, [rng.standard_normal((3, 4)), rng.standard_normal((1, 4))], rng,
                       rtol=1e-15, atol=0)
    with pytest.raises(TypeError, match="minimum: expected Tensors, got float and int"):
        mg.minimum(1.0, 2)


def test_relu_of_the_lectures():
    x = Tensor([1.0, -2.0, 3.0, -1.0], requires_grad=True)
    z = x.relu()
    assert z.data.tolist() == [1.0, 0.0, 3.0, 0.0]
    z.backward(np.array([4.0, -1.0, 5.0, 9.0]))
    assert x.grad.tolist() == [4.0, 0.0, 5.0, 0.0]
    assert not np.signbit(x.grad).any()  # a clean 0, not -0


def test_relu_off_units_pass_exactly_zero_even_for_non_finite_upstream():
    # the fast path multiplies by the mask; 0·inf would be NaN, so non-finite upstreams take np.where
    x = Tensor(np.array([[-1.0, 2.0, 3.0], [-2.0, -0.5, 4.0]], np.float32), requires_grad=True)
    z = x.relu()
    assert z.data.tolist() == [[0.0, 2.0, 3.0], [0.0, 0.0, 4.0]]
    z.backward(np.array([[np.inf, np.nan, -1.0], [np.nan, -np.inf, 2.0]], np.float32))
    assert np.array_equal(x.grad, [[0.0, np.nan, -1.0], [0.0, 0.0, 2.0]], equal_nan=True)
    assert not np.signbit(x.grad[x.data <= 0]).any()


def test_relu_of_nan_is_nan_and_passes_its_gradient_as_pytorch():
    # np.fmax made it 0, so a diverging model trained on and the fit loop's NaN guard never fired
    x = Tensor(np.array([np.nan, -1.0, 2.0], np.float32), requires_grad=True)
    z = x.relu()
    assert np.array_equal(z.data, [np.nan, 0.0, 2.0], equal_nan=True)
    z.backward(np.array([5.0, 6.0, 7.0], np.float32))
    assert x.grad.tolist() == [5.0, 0.0, 7.0]  # PyTorch's rule is "0 where relu(x) ≤ 0", and NaN ≤ 0 is false
    assert np.isnan(mg.Value(float("nan")).relu().data)


def test_relu_of_nan_matches_pytorch(torch_on_one_thread):
    torch = torch_on_one_thread
    if torch is None:
        pytest.skip("torch is not installed (pip install torch==2.13.0)")
    a = np.array([np.nan, -1.0, 0.0, 2.0, np.inf, -np.inf])
    x, t = Tensor(a.copy(), requires_grad=True), torch.tensor(a, requires_grad=True)
    z, ref = x.relu(), torch.relu(t)
    assert np.array_equal(z.data, ref.detach().numpy(), equal_nan=True)
    z.backward(np.arange(6.0))
    ref.backward(torch.arange(6.0, dtype=torch.float64))
    assert np.array_equal(x.grad, t.grad.numpy())


@pytest.mark.parametrize("exponent", ["number", "tensor"])
def test_the_gradient_of_x_to_the_0_at_0_is_0_as_pytorch(exponent):
    x = Tensor(np.array([0.0, 2.0, -1.0]), requires_grad=True)
    e = 0 if exponent == "number" else Tensor(np.zeros(3), requires_grad=True)
    (x**e).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]  # was nan at 0: 0·0⁻¹
    if exponent == "tensor":
        assert e.grad.tolist()[1] == pytest.approx(np.log(2.0)) and e.grad[0] == 0.0
    v = mg.Value(0.0)
    (v**0).backward()
    assert v.grad == 0.0
    assert mg.gradgradcheck(lambda t: t**0 * t, [np.array([0.5, 2.0])])


def test_sigmoid_is_stable_and_exact():
    x = Tensor(np.array([-1000.0, 0.0, 1000.0]))
    assert x.sigmoid().data.tolist() == [0.0, 0.5, 1.0]


def test_broadcast_mismatch_names_the_gate_and_both_shapes():
    with pytest.raises(ValueError, match=r"mul: shapes \(2, 3\) and \(4,\) cannot be broadcast together"):
        Tensor(np.ones((2, 3))) * Tensor(np.ones(4))


def test_python_numbers_keep_the_tensor_dtype():
    x = Tensor(np.ones(3, dtype=np.float32))
    assert (x + 1).dtype == np.float32 and (2.5 * x).dtype == np.float32 and (1 / x).dtype == np.float32
    y = Tensor(np.ones(3))
    assert (y * 3).dtype == np.float64


def test_gradient_of_a_float32_input_combined_with_float64_stays_float32():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    (x * np.ones(3)).sum().backward()
    assert x.grad.dtype == np.float32


def test_numpy_arrays_on_the_left_defer_to_tensor():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0]) * x
    assert isinstance(y, Tensor)
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 4.0]


def test_unsupported_operand_is_a_type_error():
    with pytest.raises(TypeError):
        Tensor([1.0]) + "a"


# -- floor division and remainder; maximum/minimum at NaN (the audit of issue 17), against torch --

FLOORED = np.random.default_rng(11).uniform(-5, 5, (3, 4))
DIVISORS = np.random.default_rng(12).uniform(0.5, 2.0, (3, 4)) * np.random.default_rng(13).choice([-1, 1], (3, 4))
FLOOR_CASES = {
    "a // b": (lambda a, b: a // b, lambda a, b: a // b),
    "a % b": (lambda a, b: a % b, lambda a, b: a % b),
    "a // 1.5": (lambda a, b: a // 1.5 + b, lambda a, b: a // 1.5 + b),
    "a % -1.5": (lambda a, b: a % -1.5 * b, lambda a, b: a % -1.5 * b),
    "7.0 % b": (lambda a, b: 7.0 % b + a, lambda a, b: 7.0 % b + a),
    "3 // b": (lambda a, b: 3 // b + a, lambda a, b: 3 // b + a),
    "a % b broadcast": (lambda a, b: a % b[0], lambda a, b: a % b[0]),
}


@pytest.mark.parametrize("name", FLOOR_CASES)
def test_floor_division_and_remainder_match_torch(name, compare_with_torch, torch_on_one_thread):
    """Values as torch's; gradients by central differences (away from the jumps) and, where torch has one, as
    torch's. torch has no derivative for floor_divide (backward through it is an error there; here it is 0, as
    the function is piecewise constant) nor for a number % a tensor."""
    ours, theirs = FLOOR_CASES[name]
    assert gradcheck(ours, [FLOORED, DIVISORS])
    if "//" in name or name.startswith("7.0"):
        torch = torch_on_one_thread
        want = theirs(torch.tensor(FLOORED), torch.tensor(DIVISORS)).numpy()
        np.testing.assert_allclose(ours(Tensor(FLOORED), Tensor(DIVISORS)).data, want, rtol=1e-12, atol=1e-12)
    else:
        compare_with_torch(ours, theirs, [FLOORED, DIVISORS], np.random.default_rng(0), rtol=1e-12, atol=1e-12)


def test_floor_division_has_no_gradient_and_remainder_the_floored_quotient():
    a, b = Tensor(np.array([7.5, -7.5]), requires_grad=True), Tensor(np.array([2.0, 2.0]), requires_grad=True)
    (a % b).sum().backward()
    assert a.grad.tolist() == [1.0, 1.0] and b.grad.tolist() == [-3.0, 4.0]  # −⌊a/b⌋: ⌊3.75⌋ = 3, ⌊−3.75⌋ = −4
    a.grad = b.grad = None
    (a // b).sum().backward()
    assert a.grad.tolist() == [0.0, 0.0] and b.grad.tolist() == [0.0, 0.0]
    assert (a // b).tolist() == [3.0, -4.0] and (a % b).tolist() == [1.5, 0.5]  # Python's signs, as torch


@pytest.mark.parametrize("op", ["//", "%"])
def test_floor_division_and_remainder_give_torchs_dtypes_and_values(op, torch_on_one_thread):
    if torch_on_one_thread is None:
        pytest.skip("torch is not installed (pip install torch==2.13.0)")
    torch = torch_on_one_thread
    f = (lambda x, y: x // y) if op == "//" else (lambda x, y: x % y)
    dtypes = ["uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
    wrong = []
    for a in dtypes:
        x = np.array([7, 5, 9], a) if a == "uint8" else np.array([7, -5, 9], a)
        for other in [np.array([2, 3, 4], b) for b in dtypes] + [2, 2.5, -3]:
            if isinstance(other, int) and other < 0 and a == "uint8":
                continue
            got = f(Tensor(x), Tensor(other) if isinstance(other, np.ndarray) else other)
            want = f(torch.from_numpy(x), torch.from_numpy(other) if isinstance(other, np.ndarray) else other)
            if str(got.dtype) != str(want.dtype).replace("torch.", ""):
                wrong.append((a, other, got.dtype, want.dtype))
            np.testing.assert_allclose(got.data.astype(np.float64), want.double().numpy(), rtol=1e-3)
    assert not wrong


@pytest.mark.parametrize("fn", ["maximum", "minimum"])
def test_maximum_and_minimum_send_the_gradient_to_both_inputs_at_nan_as_torch(fn, compare_with_torch):
    a = np.array([np.nan, 1.0, 2.0, 3.0, np.nan])
    b = np.array([0.0, np.nan, 2.0, 1.0, np.nan])
    import torch

    compare_with_torch(getattr(mg, fn), getattr(torch, fn), [a, b], np.random.default_rng(1), rtol=1e-12, atol=0)
    x, y = Tensor(a.copy(), requires_grad=True), Tensor(b.copy(), requires_grad=True)
    getattr(mg, fn)(x, y).sum().backward()
    assert x.grad[[0, 1, 4]].tolist() == [1.0] * 3 and y.grad[[0, 1, 4]].tolist() == [1.0] * 3
    assert x.grad[2] == y.grad[2] == 0.5  # a tie splits
