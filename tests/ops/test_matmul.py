"""Matrix multiplication: the lectures' worked example, 1-D/2-D/batched/broadcast gradchecks, shape errors."""
import numpy as np
import pytest

from minigrad import Tensor, gradcheck

rng = np.random.default_rng(0)


def test_the_lectures_matmul_example():
    x = Tensor([[2, 1, -3], [-3, 4, 2]], requires_grad=True)
    w = Tensor([[3, 2, 1, -1], [2, 1, 3, 2], [3, 2, 1, -2]], requires_grad=True)
    y = x @ w
    assert y.data.tolist() == [[-1, -1, 2, 6], [5, 2, 11, 7]]
    dy = np.array([[2, 3, -3, 9], [-8, 1, 4, 6]], dtype=np.float32)
    y.backward(dy)
    assert x.grad[0, 0] == 0.0  # dL/dx11 = w11·2 + w12·3 + w13·(−3) + w14·9 = 6 + 6 − 3 − 9
    assert x.grad[1, 2] == -30.0  # dL/dx23 = 3·(−8) + 2·1 + 1·4 + (−2)·6
    np.testing.assert_array_equal(x.grad, dy @ w.data.T)  # dL/dX = dL/dY·Wᵀ
    np.testing.assert_array_equal(w.grad, x.data.T @ dy)  # dL/dW = Xᵀ·dL/dY


@pytest.mark.parametrize(
    "shape_a,shape_b",
    [
        ((4,), (4,)),
        ((4,), (4, 3)),
        ((3, 4), (4,)),
        ((2, 3), (3, 5)),
        ((5,), (2, 5, 3)),
        ((2, 3, 5), (5,)),
        ((2, 3, 4), (4, 5)),
        ((3, 4), (2, 4, 5)),
        ((2, 1, 3, 4), (5, 4, 2)),
        ((4, 6, 7), (4, 7, 6)),
    ],
)
def test_matmul_gradcheck(shape_a, shape_b):
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    out = Tensor(a) @ Tensor(b)
    np.testing.assert_allclose(out.data, np.matmul(a, b))
    assert gradcheck(lambda x, y: x @ y, [a, b])


@pytest.mark.parametrize("shape_a,shape_b", [((3, 4), (4, 5)), ((4,), (4, 3)), ((2, 3, 4), (4,)), ((2, 1, 3, 4), (5, 4, 2))])
@pytest.mark.parametrize("constant", [0, 1])
def test_a_constant_operand_gets_no_gradient_and_the_other_is_exact(shape_a, shape_b, constant):
    # backward tells the gate which inputs need a gradient; matmul skips the constant's product
    arrays = [rng.standard_normal(shape_a), rng.standard_normal(shape_b)]
    a, b = (Tensor(x, requires_grad=i != constant) for i, x in enumerate(arrays))
    out = a @ b
    up = rng.standard_normal(out.shape)
    out.backward(up)
    reference = [Tensor(x, requires_grad=True) for x in arrays]
    (reference[0] @ reference[1]).backward(up)
    for i, t in enumerate((a, b)):
        if i == constant:
            assert t.grad is None
        else:
            np.testing.assert_allclose(t.grad, reference[i].grad, rtol=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("shape_a,shape_b", [((10, 45, 65), (10, 65, 45)), ((3, 3, 45, 65), (3, 3, 65, 45))])
def test_matmul_gradcheck_on_the_large_batched_shapes(shape_a, shape_b):
    assert gradcheck(lambda x, y: x @ y, [rng.standard_normal(shape_a), rng.standard_normal(shape_b)])


def test_inner_dimension_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match=r"matmul: \(2, 3\) @ \(4, 5\): inner dimensions 3 and 4 differ"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))


def test_batch_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="batch dimensions"):
        Tensor(np.ones((2, 3, 4))) @ Tensor(np.ones((3, 4, 5)))


def test_scalar_operand_is_refused():
    with pytest.raises(ValueError, match="at least 1 dimension"):
        Tensor(np.ones(3)) @ Tensor(np.float64(2.0))


# -- hypothesis: 1-D, 2-D and batched operands whose batch dimensions broadcast ----------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import mutually_broadcastable_shapes  # noqa: E402


@settings(max_examples=25, deadline=None)
@given(batch=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=3),
       n=st.integers(1, 4), k=st.integers(1, 4), m=st.integers(1, 4), vector=st.sampled_from(["", "a", "b"]))
def test_matmul_gradcheck_on_generated_shapes(batch, n, k, m, vector):
    batch_a, batch_b = batch.input_shapes
    shape_a = (k,) if vector == "a" else batch_a + (n, k)
    shape_b = (k,) if vector == "b" else batch_b + (k, m)
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    out = Tensor(a) @ Tensor(b)
    assert out.shape == np.matmul(a, b).shape
    assert gradcheck(lambda x, y: x @ y, [a, b])
