"""Reductions over single and tuple dims, keepdim, and max's tie rule."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minigrad import Tensor, gradcheck

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
