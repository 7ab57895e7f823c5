"""adaptive_max_pool2d (PyTorch's bins, return_indices) and max_unpool2d (max_pool2d's partial inverse):
gradients at every index, second derivatives, errors, PyTorch."""
import numpy as np
import pytest

import minigrad.nn.functional as F
from minigrad import Tensor, gradcheck, gradgradcheck

rng = np.random.default_rng(0)
X = rng.standard_normal((2, 3, 7, 9))  # distinct values: no ties


@pytest.mark.parametrize("output_size", [1, (3, 4), (7, 9), (5, 2), (None, 3), (14, 4)], ids=str)
def test_adaptive_max_pool2d_gradcheck_and_pytorch(output_size, compare_with_torch):
    import torch

    assert gradcheck(lambda x: F.adaptive_max_pool2d(x, output_size), [X[:1, :2]])
    compare_with_torch(lambda x: F.adaptive_max_pool2d(x, output_size),
                       lambda x: torch.nn.functional.adaptive_max_pool2d(x, output_size), [X], rng, rtol=0, atol=0)


def test_adaptive_max_pool2d_indices_and_ties(torch_on_one_thread):
    y, idx = F.adaptive_max_pool2d(Tensor(X), (3, 4), return_indices=True)
    assert idx.dtype == np.int64 and idx.shape == y.shape
    np.testing.assert_array_equal(X.reshape(2, 3, -1)[np.arange(2)[:, None, None], np.arange(3)[None, :, None],
                                                      idx.data.reshape(2, 3, -1)].reshape(y.shape), y.data)
    if torch_on_one_thread is not None:
        _, ref = torch_on_one_thread.nn.functional.adaptive_max_pool2d(torch_on_one_thread.tensor(X), (3, 4),
                                                                        return_indices=True)
        np.testing.assert_array_equal(idx.data, ref.numpy())
    x = Tensor(np.ones((1, 1, 2, 2)), requires_grad=True)
    F.adaptive_max_pool2d(x, 1).sum().backward()
    assert x.grad.tolist() == [[[[1.0, 0.0], [0.0, 0.0]]]]  # one maximum per bin, the first on a tie
    assert gradgradcheck(lambda t: F.adaptive_max_pool2d(t, (3, 4)) ** 2, [X[:1, :1]])


def test_overlapping_bins_add_their_gradients():
    x = Tensor(np.array([[[[0.0, 5.0, 1.0]]]]), requires_grad=True)  # width 3 into 2 bins: [0, 2) and [1, 3)
    y = F.adaptive_max_pool2d(x, (1, 2))
    assert y.tolist() == [[[[5.0, 5.0]]]] and y._gate.name == "adaptive_max_pool2d"
    y.sum().backward()
    assert x.grad.tolist() == [[[[0.0, 2.0, 0.0]]]]


@pytest.mark.parametrize("kernel,stride,padding,output_size", [(2, None, 0, None), (3, 2, 1, (8, 8)),
                                                               ((2, 4), (2, 4), 0, None), (2, 2, 0, (1, 2, 9, 9))],
                         ids=str)
def test_max_unpool2d_inverts_max_pool2d_and_matches_pytorch(kernel, stride, padding, output_size, compare_with_torch):
    import torch

    x8 = rng.standard_normal((1, 2, 8, 8))
    pooled, idx = torch.nn.functional.max_pool2d(torch.tensor(x8), kernel, stride, padding, return_indices=True)
    args = (kernel, stride, padding, output_size)
    if len(np.unique(idx.numpy())) == idx.numel():  # overlapping windows may pick one element twice: as in
        # PyTorch the later value wins and both get the gradient, which is then not the forward's derivative
        assert gradcheck(lambda p: F.max_unpool2d(p, idx.numpy(), *args), [pooled.numpy()])
        assert gradgradcheck(lambda p: F.max_unpool2d(p, idx.numpy(), *args) ** 2, [pooled.numpy()])
    compare_with_torch(lambda p: F.max_unpool2d(p, idx.numpy(), *args),
                       lambda p: torch.nn.functional.max_unpool2d(p, idx, *args), [pooled.numpy()], rng, rtol=0, atol=0)
    ours, our_idx = F.max_pool2d(Tensor(x8), kernel, stride, padding, return_indices=True)
    back = F.max_unpool2d(ours, our_idx, kernel, stride, padding, output_size)
    if back.shape == x8.shape:
        kept = back.data != 0
        np.testing.assert_array_equal(back.data[kept], x8[kept])  # each maximum back where it was


def test_pool_errors_name_the_op_and_the_fix():
    with pytest.raises(ValueError, match="adaptive_max_pool2d: output_size must be at least 1"):
        F.adaptive_max_pool2d(Tensor(X), 0)
    with pytest.raises(ValueError, match=r"adaptive_max_pool2d: input must be 4-D \(N, C, H, W\)"):
        F.adaptive_max_pool2d(Tensor(X[0, 0]), 2)
    pooled, idx = F.max_pool2d(Tensor(X[:, :, :6, :8]), 2, return_indices=True)
    with pytest.raises(ValueError, match=r"max_unpool2d: indices have shape \(2, 3, 3, 3\) but the input"):
        F.max_unpool2d(pooled, idx.data[..., :3], 2)
    with pytest.raises(TypeError, match="max_unpool2d: indices must be integers"):
        F.max_unpool2d(pooled, idx.data.astype(float), 2)
    with pytest.raises(ValueError, match=r"max_unpool2d: output_size \(9, 8\) is invalid: dim 0 must lie between 5"):
        F.max_unpool2d(pooled, idx, 2, output_size=(9, 8))
    with pytest.raises(IndexError, match=r"max_unpool2d: found an invalid max index 99 \(output planes are 6x8\)"):
        F.max_unpool2d(pooled, np.full(pooled.shape, 99), 2)
