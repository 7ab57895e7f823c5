"""conv1d (ops/conv.py): the conv2d gate on one-row images, with PyTorch's arguments, gradients at every index,
second derivatives, errors that say conv1d, and PyTorch."""
import numpy as np
import pytest

import minigrad.nn.functional as F
from minigrad import Tensor, gradcheck, gradgradcheck

rng = np.random.default_rng(0)
X = rng.standard_normal((2, 4, 11))
OPTIONS = [{}, {"stride": 2}, {"padding": 2, "dilation": 2}, {"padding": "same"}, {"padding": "valid", "stride": (3,)},
           {"groups": 2}, {"groups": 4, "padding": (1,)}]


@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_conv1d_matches_pytorch_and_gradchecks(options, compare_with_torch):
    import torch

    groups = options.get("groups", 1)
    w, b = rng.standard_normal((4, 4 // groups, 3)), rng.standard_normal(4)
    compare_with_torch(lambda x, w, b: F.conv1d(x, w, b, **options),
                       lambda x, w, b: torch.nn.functional.conv1d(x, w, b, **options), [X, w, b], rng,
                       rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda x, w, b: F.conv1d(x, w, b, **options), [X[:1], w, b])


def test_conv1d_unbatched_and_second_derivatives(compare_with_torch):
    import torch

    w = rng.standard_normal((3, 4, 5))
    compare_with_torch(F.conv1d, torch.nn.functional.conv1d, [X[0], w], rng, rtol=1e-12, atol=1e-12)
    assert gradgradcheck(lambda x, w: F.conv1d(x, w, padding=1), [X[:1, :, :5], w[:2, :, :3]])
    y = F.conv1d(Tensor(X), Tensor(w))
    assert y.shape == (2, 3, 7)


def test_conv1d_errors_say_conv1d():
    x = Tensor(X)
    with pytest.raises(ValueError, match=r"conv1d: input has 4 channels but weight \(2, 3, 3\) expects 3 with"):
        F.conv1d(x, Tensor(np.ones((2, 3, 3))))
    with pytest.raises(ValueError, match=r"conv1d: expected input \(N, C, L\) or \(C, L\)"):
        F.conv1d(Tensor(np.ones((1, 4, 2, 2))), Tensor(np.ones((2, 4, 3))))
    with pytest.raises(ValueError, match="conv1d: padding='same' needs stride 1"):
        F.conv1d(x, Tensor(np.ones((2, 4, 3))), stride=2, padding="same")
    with pytest.raises(ValueError, match="conv1d: the kernel 13 with dilation 1 spans 13, more than the padded input"):
        F.conv1d(x, Tensor(np.ones((2, 4, 13))))
    with pytest.raises(TypeError, match=r"conv1d: stride must be an int or a 1-tuple of ints, got \(1, 2\)"):
        F.conv1d(x, Tensor(np.ones((2, 4, 3))), stride=(1, 2))
    with pytest.raises(ValueError, match=r"conv1d: bias has shape \(3,\) but there are 2 output channels"):
        F.conv1d(x, Tensor(np.ones((2, 4, 3))), Tensor(np.ones(3)))
