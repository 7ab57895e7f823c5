"""PyTorch's type promotion (ops/dtypes.py): checked against torch.result_type on a grid of dtype pairs, and
the issue's examples, which must hold without torch too."""
import itertools

import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor
from minigrad.ops.dtypes import promote_types, result_type

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
SCALARS = [True, 3, 2.5]
NUMPY_SCALARS = [np.bool_(True), np.uint8(3), np.int8(3), np.int16(3), np.int32(3), np.int64(3), np.float16(2.5),
                 np.float32(2.5), np.float64(2.5)]


def _array(dtype, ndim):
    return np.ones((2, 3) if ndim else (), dtype)


@pytest.fixture
def torch(torch_on_one_thread):
    if torch_on_one_thread is None:
        pytest.skip("torch is not installed (pip install torch==2.13.0)")
    return torch_on_one_thread


def _torch_dtype(torch, t):
    return np.dtype(str(t).replace("torch.", ""))


@pytest.mark.parametrize("ndims", [(1, 1), (1, 0), (0, 1), (0, 0)], ids=["dim-dim", "dim-0d", "0d-dim", "0d-0d"])
def test_result_type_of_two_tensors_is_torchs_on_every_pair(torch, ndims):
    wrong = []
    for a, b in itertools.product(DTYPES, DTYPES):
        x, y = _array(a, ndims[0]), _array(b, ndims[1])
        expected = _torch_dtype(torch, torch.result_type(torch.from_numpy(x), torch.from_numpy(y)))
        ours = result_type(Tensor(x), Tensor(y))
        if ours != expected or result_type(x, Tensor(y)) != expected:  # a numpy array is read as a tensor
            wrong.append((a, b, ours, expected))
    assert not wrong


@pytest.mark.parametrize("ndim", [1, 0], ids=["dim", "0d"])
def test_result_type_of_a_tensor_and_a_python_number_is_torchs(torch, ndim):
    wrong = []
    for a, s in itertools.product(DTYPES, SCALARS):
        x = _array(a, ndim)
        expected = _torch_dtype(torch, torch.result_type(torch.from_numpy(x), s))
        if result_type(Tensor(x), s) != expected or result_type(s, Tensor(x)) != expected:
            wrong.append((a, s, result_type(Tensor(x), s), expected))
    assert not wrong


@pytest.mark.parametrize("ndim", [1, 0], ids=["dim", "0d"])
def test_a_numpy_scalar_promotes_as_it_does_in_torch_arithmetic(torch, ndim):
    # torch reads a numpy scalar as the Python number it holds (ask its operators: result_type refuses them);
    # np.bool_ it reads as a float, a quirk minigrad does not copy (a numpy bool is a bool)
    wrong = []
    for a, s in itertools.product(DTYPES, NUMPY_SCALARS[1:]):
        x = _array(a, ndim)
        expected = _torch_dtype(torch, (torch.from_numpy(x) * s).dtype)
        if result_type(Tensor(x), s) != expected:
            wrong.append((a, type(s).__name__, result_type(Tensor(x), s), expected))
    assert not wrong


def test_promote_types_is_torchs(torch):
    for a, b in itertools.product(DTYPES, DTYPES):
        expected = _torch_dtype(torch, torch.promote_types(getattr(torch, a), getattr(torch, b)))
        assert promote_types(np.dtype(a), np.dtype(b)) == expected, (a, b)


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "where"])
@pytest.mark.parametrize("ndims", [(1, 1), (1, 0), (0, 1)], ids=["dim-dim", "dim-0d", "0d-dim"])
def test_every_binary_gate_gives_torchs_dtype(torch, op, ndims):
    ours = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y, "div": lambda x, y: x / y,
            "pow": lambda x, y: x**y, "maximum": mg.maximum, "minimum": mg.minimum,
            "where": lambda x, y: mg.where(np.ones((), bool), x, y)}[op]
    theirs = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
              "div": lambda x, y: x / y, "pow": lambda x, y: x**y, "maximum": torch.maximum, "minimum": torch.minimum,
              "where": lambda x, y: torch.where(torch.tensor(True), x, y)}[op]
    wrong = []
    for a, b in itertools.product(DTYPES, DTYPES):
        if op in ("sub", "pow") and "bool" in (a, b):
            continue  # torch refuses to subtract booleans, and numpy to raise them to a power
        x, y = _array(a, ndims[0]), _array(b, ndims[1])
        expected = theirs(torch.from_numpy(x), torch.from_numpy(y))
        got = ours(Tensor(x), Tensor(y))
        if got.dtype != _torch_dtype(torch, expected.dtype):
            wrong.append((a, b, got.dtype, expected.dtype))
        np.testing.assert_allclose(got.data.astype(np.float64), expected.numpy().astype(np.float64))
    assert not wrong


@pytest.mark.parametrize("exponent", [2, 0.5, np.float64(2.0), np.float32(0.5), np.int64(3)])
@pytest.mark.parametrize("dtype", ["int64", "int32", "float16", "float32", "float64"])
def test_pow_with_a_number_exponent_gives_torchs_dtype(torch, exponent, dtype):
    x = np.full(3, 2, dtype)
    assert (Tensor(x) ** exponent).dtype == _torch_dtype(torch, (torch.from_numpy(x) ** exponent).dtype)


# -- the examples, which hold without torch --

def test_a_number_a_numpy_scalar_or_a_0d_tensor_keeps_a_float32_tensor_float32():
    x = Tensor(np.ones(3, np.float32), requires_grad=True)
    assert (x * np.sqrt(2.0)).dtype == np.float32
    assert (x ** np.float64(2)).dtype == np.float32
    assert (x + np.float64(1)).dtype == np.float32
    assert (x * Tensor(np.float64(2.0))).dtype == np.float32
    assert (x * np.ones(3)).dtype == np.float64  # a float64 tensor with dimensions does widen it, as in torch


def test_an_integer_mask_times_a_float32_tensor_is_float32():
    x = Tensor(np.ones(3, np.float32), requires_grad=True)
    y = np.array([1, 0, 1]) * x
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [1.0, 0.0, 1.0]


def test_integer_tensors_stay_integer_and_divide_into_float32():
    i = Tensor(np.arange(4))
    assert (i + 1).dtype == np.int64 and (i * 2).dtype == np.int64 and (1 - i).dtype == np.int64
    assert (i / 2).dtype == np.float32 and (i / i).dtype == np.float32 and (2 / (i + 1)).dtype == np.float32
    assert (i + 1.5).dtype == np.float32 and (i ** 2).dtype == np.int64 and (i ** 0.5).dtype == np.float32
    assert (i / 2).tolist() == [0.0, 0.5, 1.0, 1.5]


def test_a_0d_float64_tensor_in_the_graph_is_cast_and_gets_its_gradient_in_float64():
    x = Tensor(np.ones(3, np.float32), requires_grad=True)
    s = Tensor(np.float64(2.0), requires_grad=True)
    y = x * s
    assert y.dtype == np.float32
    y.sum().backward()
    assert s.grad.dtype == np.float64 and s.grad == 3.0 and x.grad.dtype == np.float32


def test_where_promotes_its_branches_as_torch_where():
    cond = np.array([True, False])
    assert mg.where(cond, 1.0, 0.0).dtype == np.float32
    assert mg.where(cond, 1, 0).dtype == np.int64
    assert mg.where(cond, Tensor(np.ones(2, np.float32)), np.float64(0.0)).dtype == np.float32


def test_a_numpy_bool_is_a_bool():
    assert result_type(Tensor(np.ones(2, np.uint8)), np.bool_(True)) == np.uint8
    assert result_type(Tensor(np.ones(2, bool)), np.bool_(True)) == np.bool_


def test_result_type_refuses_what_is_not_a_number():
    with pytest.raises(TypeError, match="result_type: expected Tensors, arrays or numbers, got str"):
        result_type(Tensor(np.ones(2)), "a")


# -- the dtypes of the other operations (the audit of issue 17), against torch --

INTEGERS = ["bool", "uint8", "int8", "int16", "int32", "int64"]
FLOAT_FUNCTIONS = {"exp": lambda x: x.exp(), "log": lambda x: x.log(), "sqrt": lambda x: x.sqrt(),
                   "sigmoid": lambda x: x.sigmoid(), "tanh": lambda x: x.tanh(), "erf": lambda x: x.erf()}


@pytest.mark.parametrize("fn", FLOAT_FUNCTIONS)
def test_float_functions_of_integers_and_bools_give_float32_as_torch(torch, fn):
    f = FLOAT_FUNCTIONS[fn]
    for dtype in INTEGERS:
        x = np.array([1, 0, 1] if dtype == "bool" else [1, 2, 3], dtype)
        got, want = f(Tensor(x)), f(torch.from_numpy(x))
        assert got.dtype == _torch_dtype(torch, want.dtype) == np.float32, dtype
        np.testing.assert_allclose(got.data, want.numpy(), rtol=1e-6)
    assert mg.erf(np.arange(3)).dtype == np.float32 and mg.nn.functional.sigmoid(np.arange(3)).dtype == np.float32


def test_matmul_of_every_pair_gives_torchs_result_type(torch):
    wrong = []
    for a, b in itertools.product(DTYPES, DTYPES):
        x, y = np.arange(6).reshape(2, 3).astype(a), np.arange(3).reshape(3, 1).astype(b)
        got = Tensor(x) @ Tensor(y)
        # torch's matmul wants one dtype: its own promotion (result_type) is what it would compute in
        expected = _torch_dtype(torch, torch.result_type(torch.from_numpy(x), torch.from_numpy(y)))
        if got.dtype != expected or (x @ Tensor(y)).dtype != expected:
            wrong.append((a, b, got.dtype, expected))
        if (a, b) != ("bool", "bool"):  # a boolean product is numpy's logical one (torch has none)
            np.testing.assert_allclose(got.data.astype(np.float64), x.astype(np.float64) @ y.astype(np.float64))
    assert not wrong


def test_matmul_of_an_int_array_and_a_float32_weight_keeps_the_gradient_float32():
    w = Tensor(np.ones((3, 2), np.float32), requires_grad=True)
    y = np.ones((4, 3), np.int64) @ w
    assert y.dtype == np.float32
    y.sum().backward()
    assert w.grad.dtype == np.float32 and w.grad.tolist() == [[4.0, 4.0]] * 3


@pytest.mark.parametrize("join", ["cat", "stack"])
def test_cat_and_stack_of_every_pair_give_torchs_dtype(torch, join):
    ours, theirs = getattr(mg, join), getattr(torch, join)
    wrong = []
    for a, b in itertools.product(DTYPES, DTYPES):
        x, y = np.array([1, 0], a), np.array([0, 1], b)
        got, want = ours([Tensor(x), Tensor(y)]), theirs([torch.from_numpy(x), torch.from_numpy(y)])
        if got.dtype != _torch_dtype(torch, want.dtype):
            wrong.append((a, b, got.dtype, want.dtype))
        np.testing.assert_array_equal(got.data.astype(np.float64), want.double().numpy())
    assert not wrong


def test_cat_of_a_float32_tensor_and_an_int_constant_sends_a_float32_gradient():
    x = Tensor(np.ones(2, np.float32), requires_grad=True)
    y = mg.cat([x, Tensor(np.array([3, 4]))])
    assert y.dtype == np.float32 and y.tolist() == [1.0, 1.0, 3.0, 4.0]
    y.sum().backward()
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("reduce", ["sum", "prod"])
def test_sum_and_prod_of_small_integers_and_bools_count_in_int64_as_torch(torch, reduce):
    for dtype in INTEGERS:
        x = np.array([[1, 0, 1], [1, 1, 1]] if dtype == "bool" else [[120, 100, 3], [1, 2, 120]], dtype)
        for dim in (None, 1):
            got = getattr(Tensor(x), reduce)() if dim is None else getattr(Tensor(x), reduce)(dim)
            t = torch.from_numpy(x)
            want = getattr(t, reduce)() if dim is None else getattr(t, reduce)(dim)
            assert got.dtype == _torch_dtype(torch, want.dtype) == np.int64, (dtype, dim)
            np.testing.assert_array_equal(got.data, want.numpy())


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16"])
def test_python_ints_beside_small_integer_tensors_wrap_around_as_torch(torch, dtype):
    x = np.array([0, 1, 100, 127], dtype)
    for number in (-1, 200, 300, -129, 70000):
        for name, op in (("+", lambda a, b: a + b), ("-", lambda a, b: a - b), ("*", lambda a, b: a * b),
                         ("r-", lambda a, b: b - a)):
            got, want = op(Tensor(x), number), op(torch.from_numpy(x), number)
            assert got.dtype == _torch_dtype(torch, want.dtype) == np.dtype(dtype), (name, number)
            np.testing.assert_array_equal(got.data, want.numpy(), err_msg=f"{dtype} {name} {number}")


@pytest.mark.parametrize("op", ["mean", "var", "std", "softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", ["int64", "uint8", "bool"])
def test_mean_var_std_and_softmax_refuse_integers_as_torch(op, dtype):
    x = Tensor(np.ones(3, dtype))
    call = {"mean": lambda: x.mean(), "var": lambda: x.var(), "std": lambda: x.std(), "softmax": lambda: x.softmax(0),
            "log_softmax": lambda: mg.nn.functional.log_softmax(x, 0)}[op]
    with pytest.raises(TypeError, match=rf"{op}: needs a floating-point tensor, got {dtype} .*x.float\(\)"):
        call()
    assert x.float().mean().dtype == np.float32


def test_a_python_int_past_64_bits_is_an_overflow_error_as_torch():
    with pytest.raises(OverflowError, match=r"the integer 1180591620717411303424 does not fit in int64"):
        Tensor(np.arange(3)) + 2**70
    assert (Tensor(np.array([1], np.uint8)) + (2**40 + 3)).tolist() == [4]  # wraps, as torch


@pytest.mark.parametrize("other", [np.array([1j]), np.complex128(1j), 1j, np.array(["a"])],
                         ids=["complex array", "numpy complex", "python complex", "string array"])
@pytest.mark.parametrize("op, symbol", [(lambda a, b: a * b, "mul"), (lambda a, b: b + a, "add"),
                                        (lambda a, b: mg.maximum(a, b), "max")])
def test_a_complex_or_string_operand_is_refused_naming_the_op_and_dtype(op, symbol, other):
    """Tensor([1.]) * np.array([1j]) was Tensor([0.]): numpy's cast kept the real part, with a ComplexWarning."""
    dtype = np.asarray(other).dtype
    with pytest.raises(TypeError, match=rf"{symbol}: an operand of dtype {dtype} cannot meet a tensor"):
        op(Tensor([1.0]), other)


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "int32", "int64"])
def test_relu6_and_hardtanh_keep_an_integer_dtype_as_torch(torch, dtype):
    import minigrad.nn.functional as F

    x = np.array([-3, 0, 2, 9]).astype(dtype)
    got, want = F.relu6(Tensor(x)), torch.nn.functional.relu6(torch.from_numpy(x))
    assert got.dtype == np.dtype(dtype) and got.data.tolist() == want.tolist()
    if dtype == "uint8":  # torch: "cannot do hardtanh on an unsigned type with negative limits"
        with pytest.raises(ValueError, match=r"hardtanh: cannot clamp an unsigned tensor \(uint8\) to a negative"):
            F.hardtanh(Tensor(x))
        return
    got, want = F.hardtanh(Tensor(x)), torch.nn.functional.hardtanh(torch.from_numpy(x))
    assert got.dtype == np.dtype(dtype) and got.data.tolist() == want.tolist()
