"""Reductions over single and tuple dims, keepdim, and max's tie rule; std, logsumexp, prod, amax/amin, min and
argmin with PyTorch's semantics."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import Tensor, gradcheck, gradgradcheck

REDUCTIONS = {
    "sum": lambda x, dim, keep: x.sum(dim=dim, keepdim=keep),
    "mean": lambda x, dim, keep: x.mean(dim=dim, keepdim=keep),
    "var": lambda x, dim, keep: x.var(dim=dim, keepdim=keep),
    "var unbiased": lambda x, dim, keep: x.var(dim=dim, keepdim=keep, unbiased=True),
    "max": lambda x, dim, keep: x.max(dim=dim, keepdim=keep),
}
NUMPY = {
    "sum": lambda a, axes, keep: a.sum(axis=axes, keepdims=keep),
    "mean": lambda a, axes, keep: a.mean(axis=axes, keepdims=keep),
    "var": lambda a, axes, keep: a.var(axis=axes, keepdims=keep),
    "var unbiased": lambda a, axes, keep: a.var(axis=axes, keepdims=keep, ddof=1),
    "max": lambda a, axes, keep: a.max(axis=axes, keepdims=keep),
}


@st.composite
def shape_and_dim(draw):
    shape = tuple(draw(st.lists(st.integers(2, 4), min_size=1, max_size=4)))
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return shape, None
    if kind == "int":
        return shape, draw(st.integers(-len(shape), len(shape) - 1))
    dims = draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape), unique=True))
    return shape, tuple(dims)


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("keep", [False, True])
@settings(max_examples=15, deadline=None)
@given(case=shape_and_dim())
def test_reductions_match_numpy_and_gradcheck(name, keep, case):
    shape, dim = case
    a = np.random.default_rng(0).standard_normal(shape)  # distinct values: no ties for max
    out = REDUCTIONS[name](Tensor(a), dim, keep)
    expected = NUMPY[name](a, dim if dim is None or isinstance(dim, tuple) else (dim,), keep)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    assert gradcheck(lambda x: REDUCTIONS[name](x, dim, keep), [a])


def test_max_splits_a_tie_evenly_like_torch_amax():
    x = Tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], requires_grad=True)
    x.max(dim=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0.0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])


def test_a_two_way_tie_agrees_with_central_differences():
    assert gradcheck(lambda x: x.max(), [np.array([1.0, 4.0, 4.0, -2.0])])


def test_dim_out_of_range_is_a_clear_error():
    with pytest.raises(IndexError, match="sum: dim 2 is out of range for a tensor with 2 dimensions"):
        Tensor(np.ones((2, 3))).sum(dim=2)


def test_min_and_argmax():
    x = Tensor([[1.0, -3.0], [4.0, 2.0]], requires_grad=True)
    assert x.min().item() == -3.0
    assert x.argmax(dim=1).tolist() == [0, 0]
    x.min(dim=0).sum().backward()
    assert x.grad.tolist() == [[1.0, 1.0], [0.0, 0.0]]


# -- std, logsumexp, prod, amax/amin, min, argmin: PyTorch's semantics, first and second derivatives --

A = np.random.default_rng(1).uniform(-2, 2, (3, 4, 5))
NEW = {
    "std": (lambda x: x.std(), lambda x: x.std()),
    "std dim 1": (lambda x: x.std(1), lambda x: x.std(1)),
    "std biased keepdim": (lambda x: x.std((0, 2), False, True), lambda x: x.std((0, 2), False, True)),
    "std correction 2": (lambda x: x.std(2, correction=2), lambda x: x.std(2, correction=2)),
    "var correction 0": (lambda x: x.var(1, correction=0), lambda x: x.var(1, correction=0)),
    "logsumexp 1": (lambda x: x.logsumexp(1), lambda x: x.logsumexp(1)),
    "logsumexp (0, 2) keepdim": (lambda x: mg.logsumexp(x, (0, 2), keepdim=True), lambda x: x.logsumexp((0, 2), True)),
    "prod": (lambda x: x[0].prod(), lambda x: x[0].prod()),
    "prod dim -1 keepdim": (lambda x: mg.prod(x, -1, keepdim=True), lambda x: x.prod(-1, keepdim=True)),
    "amax (1, 2)": (lambda x: mg.amax(x, (1, 2)), lambda x: x.amax((1, 2))),
    "amin": (lambda x: x.amin(), lambda x: x.amin()),
    "amin 0 keepdim": (lambda x: mg.amin(x, 0, keepdim=True), lambda x: x.amin(0, keepdim=True)),
    "min": (lambda x: x.min(), lambda x: x.min()),
    "min dim 2": (lambda x: x.min(2), lambda x: x.min(2).values),
    "max of two": (lambda x: x.max(x.flip(0)), lambda x: x.max(x.flip(0))),
    "min of two": (lambda x: x.min(x * 0.5), lambda x: x.min(x * 0.5)),
}


@pytest.mark.parametrize("name", NEW)
def test_new_reductions_gradcheck_gradgradcheck_and_torch(name, compare_with_torch):
    ours, theirs = NEW[name]
    assert gradcheck(ours, [A])
    if not name.startswith(("amax", "amin", "min", "max")):  # the routers' second derivative is 0: nothing to see
        assert gradgradcheck(ours, [A[:2, :3, :3]])
    compare_with_torch(ours, theirs, [A], np.random.default_rng(2), rtol=1e-12, atol=1e-13)


CONSTANT_ROWS = np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0], [-3.0, -3.0, -3.0]])


@pytest.mark.parametrize("kw", [dict(dim=1), dict(dim=1, keepdim=True, unbiased=False), dict(dim=0)], ids=str)
def test_std_has_gradient_zero_where_it_is_zero_as_torch(kw, torch_on_one_thread):
    """The audit's case: std = √var alone gives ∞·0 = nan at a constant row; PyTorch gives 0 (first and second
    derivatives), and so do central differences (the two sides of 0 are mirror images)."""
    x = Tensor(CONSTANT_ROWS.copy(), requires_grad=True)
    y = x.std(**kw)
    g = np.random.default_rng(3).standard_normal(y.shape)
    (dx,) = mg.autograd.grad(y, [x], g, create_graph=True)
    assert np.isfinite(dx.data).all()
    h = np.random.default_rng(4).standard_normal(x.shape)
    (ddx,) = mg.autograd.grad(dx, [x], h)
    assert gradcheck(lambda t: t.std(**kw), [CONSTANT_ROWS])
    # the first derivative jumps at σ = 0 (central differences of it blow up there); PyTorch's second derivative
    # is 0 there, checked below, and ours matches central differences on the rows that vary
    assert gradgradcheck(lambda t: t.std(**kw), [CONSTANT_ROWS[1:2] if kw["dim"] == 1 else CONSTANT_ROWS])
    ones = Tensor(np.ones((2, 3)), requires_grad=True)
    ones.std(1).sum().backward()
    assert ones.grad.tolist() == [[0.0] * 3] * 2
    if torch_on_one_thread is not None:
        torch = torch_on_one_thread
        t = torch.tensor(CONSTANT_ROWS.copy(), requires_grad=True)
        tkw = {("correction" if k == "unbiased" else k): (int(v) if k == "unbiased" else v) for k, v in kw.items()}
        ty = t.std(**tkw)
        (tdx,) = torch.autograd.grad(ty, [t], torch.tensor(g), create_graph=True)
        (tddx,) = torch.autograd.grad(tdx, [t], torch.tensor(h))
        np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(dx.data, tdx.detach().numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(ddx, tddx.numpy(), rtol=1e-10, atol=1e-12)
    assert y._gate.name == "std"  # one gate


def test_min_splits_a_tie_evenly_as_torch_min_and_amin():
    x = Tensor([[1.0, 1.0, 2.0], [0.0, 3.0, 0.0]], requires_grad=True)
    x.min().backward()
    assert x.grad.tolist() == [[0.0, 0.0, 0.0], [0.5, 0.0, 0.5]]
    y = x.min(dim=1)
    assert y._gate.name == "min" and y._inputs == (x,)  # one gate, not −max(−x)


@pytest.mark.parametrize("data", [[1.0, 0.0, 3.0, 2.0], [1.0, 0.0, 0.0, 2.0], [0.0, 0.0, 0.0, 0.0]], ids=str)
def test_prod_with_zeros_has_torchs_gradient(data, torch_on_one_thread):
    x = Tensor(np.array(data), requires_grad=True)
    x.prod().backward()
    others = [np.prod(np.delete(data, i)) for i in range(len(data))]
    assert x.grad.tolist() == others  # one zero: it gets the product of the others; two: all 0
    z = np.array([[1.5, 0.0, -2.0], [0.5, 2.0, 3.0]])
    assert gradgradcheck(lambda t: t.prod(1), [z])  # with a zero, through the product of the others
    if torch_on_one_thread is not None:
        t = torch_on_one_thread.tensor(data, requires_grad=True)
        t.prod().backward()
        assert t.grad.tolist() == x.grad.tolist()


def test_logsumexp_is_stable_and_handles_infinities():
    x = Tensor(np.array([[1000.0, 1000.0], [-np.inf, -np.inf], [np.inf, 1.0]]), requires_grad=True)
    y = x.logsumexp(1)
    assert y.data[0] == pytest.approx(1000.0 + np.log(2.0)) and y.data[1] == -np.inf and y.data[2] == np.inf
    assert Tensor(np.arange(3)).logsumexp(0).dtype == np.float32
    y[0].backward()
    np.testing.assert_allclose(x.grad[0], [0.5, 0.5], rtol=1e-12)


def test_argmin_and_argmax_as_torch(torch_on_one_thread):
    x = np.array([[3.0, 1.0, 1.0], [0.0, 5.0, 5.0]])
    t = Tensor(x)
    assert t.argmin().item() == 3 and t.argmin(1).tolist() == [1, 0] and t.argmax(1).tolist() == [0, 1]
    assert t.argmin(keepdim=True).shape == (1, 1) and t.argmax(0, keepdim=True).shape == (1, 3)
    assert t.argmin().dtype == np.int64
    if torch_on_one_thread is not None:
        ref = torch_on_one_thread.tensor(x)
        assert t.argmin(keepdim=True).tolist() == ref.argmin(keepdim=True).tolist()
        assert t.argmax(keepdim=True).tolist() == ref.argmax(keepdim=True).tolist()
        assert t.argmin(0).tolist() == ref.argmin(0).tolist()


def test_sum_over_an_empty_dim_tuple_reduces_everything_as_torch(torch_on_one_thread):
    x = Tensor(A, requires_grad=True)
    assert x.sum(dim=()).shape == () and x.sum(dim=()).item() == pytest.approx(A.sum())
    if torch_on_one_thread is not None:
        assert torch_on_one_thread.tensor(A).sum(dim=()).shape == ()


def test_new_reductions_bad_arguments():
    with pytest.raises(TypeError, match=r"prod: dim must be an int or None \(as torch.prod\), got \(0, 1\)"):
        Tensor(A).prod((0, 1))
    with pytest.raises(IndexError, match="logsumexp: dim 3 is out of range"):
        Tensor(A).logsumexp(3)
    with pytest.raises(ValueError, match="min: cannot take the min of an empty tensor"):
        Tensor(np.ones((0, 2))).min()
    with pytest.raises(ValueError, match="argmin: cannot take the argmin of an empty tensor"):
        Tensor(np.ones((0, 2))).argmin()
    with pytest.raises(IndexError, match="argmin: dim 2 is out of range"):
        Tensor(np.ones((2, 2))).argmin(2)


def test_mg_argmax_and_argmin_are_functions_as_torch(torch_on_one_thread):
    x = np.array([[3.0, 1.0, 1.0], [0.0, 5.0, 5.0]])
    assert mg.argmax(x).item() == 4 and mg.argmin(Tensor(x), dim=1).tolist() == [1, 0]
    assert mg.argmax(Tensor(x), 0, keepdim=True).shape == (1, 3)
    if torch_on_one_thread is not None:
        t = torch_on_one_thread.tensor(x)
        for dim in (None, 0, 1):
            for keep in (False, True):
                assert mg.argmax(Tensor(x), dim, keep).tolist() == torch_on_one_thread.argmax(t, dim, keep).tolist()
                assert mg.argmin(Tensor(x), dim, keep).tolist() == torch_on_one_thread.argmin(t, dim, keep).tolist()


@pytest.mark.parametrize("call, op", [(lambda x: x.std(5), "std"), (lambda x: x.std(dim=(0, 5)), "std"),
                                      (lambda x: x.amax(5), "amax"), (lambda x: x.amin(5), "amin"),
                                      (lambda x: x.max(5), "max"), (lambda x: x.var(5), "var")])
def test_a_bad_dim_is_named_by_the_op_that_was_called(call, op):
    """x.std(5) said "var:", x.amax(5) said "max:" (the gates underneath)."""
    with pytest.raises(IndexError, match=rf"^{op}: dim 5 is out of range for a tensor with 2 dimensions"):
        call(Tensor(np.ones((2, 3))))


@pytest.mark.parametrize("c, n, dtype", [(1.7, 3, np.float32), (3.3, 7, np.float32), (0.1, 3, np.float64),
                                         (1.7, 7, np.float64), (0.3, 5, np.float16)])
def test_a_constant_row_has_var_and_std_exactly_0_and_std_gradient_0(c, n, dtype, torch_on_one_thread):
    """The mean of a constant row is rounded (1.7·3/3 is not 1.7 in float32): without the corrected two-pass
    algorithm var was 1.4e-14, std 1.5e-07 and std's gradient −0.408 on every element, where PyTorch gives 0."""
    x = Tensor(np.full((2, n), c, dtype), requires_grad=True)
    s = x.std(1)
    s.sum().backward()
    assert s.data.tolist() == [0.0, 0.0] and x.var(1).data.tolist() == [0.0, 0.0]
    assert np.all(x.grad == 0)
    if torch_on_one_thread is not None:
        t = torch_on_one_thread.tensor(np.full((2, n), c, dtype), requires_grad=True)
        t.std(1).sum().backward()
        assert t.std(1).tolist() == [0.0, 0.0] and np.all(t.grad.numpy() == 0)
