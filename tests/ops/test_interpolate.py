"""interpolate: nearest (3-D, 4-D, 5-D), linear, bilinear and trilinear with align_corners, by size or
scale_factor (recompute_scale_factor too): PyTorch's coordinates, gradients, second derivatives, errors."""
import numpy as np
import pytest

import minigrad.nn.functional as F
from minigrad import Tensor, gradcheck, gradgradcheck

rng = np.random.default_rng(0)
X = rng.standard_normal((2, 3, 7, 9))
SIZES = [{"scale_factor": 2}, {"size": (5, 13)}, {"scale_factor": 1.7}, {"scale_factor": (0.5, 1.5)}, {"size": 3},
         {"scale_factor": 0.3}]


@pytest.mark.parametrize("how", SIZES, ids=str)
@pytest.mark.parametrize("mode,align_corners", [("nearest", None), ("bilinear", False), ("bilinear", True)])
def test_interpolate_2d_matches_pytorch(mode, align_corners, how, compare_with_torch):
    import torch

    def ours(x):
        return F.interpolate(x, mode=mode, align_corners=align_corners, **how)

    def theirs(x):
        return torch.nn.functional.interpolate(x, mode=mode, align_corners=align_corners, **how)

    compare_with_torch(ours, theirs, [X], rng, rtol=1e-13, atol=1e-14)
    assert gradcheck(ours, [X[:1, :1]])


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_recompute_scale_factor_as_pytorch(mode, compare_with_torch):
    import torch

    compare_with_torch(lambda x: F.interpolate(x, scale_factor=1.7, mode=mode, recompute_scale_factor=True),
                       lambda x: torch.nn.functional.interpolate(x, scale_factor=1.7, mode=mode,
                                                                 recompute_scale_factor=True),
                       [X], rng, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("shape,options", [
    ((2, 3, 7), {"size": 11, "mode": "linear"}),
    ((2, 3, 7), {"scale_factor": 2.5}),
    ((1, 2, 3, 4, 5), {"size": (4, 6, 3), "mode": "trilinear", "align_corners": True}),
    ((1, 2, 3, 4, 5), {"scale_factor": (2, 1.5, 0.6)}),
], ids=str)
def test_interpolate_1d_and_3d_match_pytorch(shape, options, compare_with_torch):
    import torch

    compare_with_torch(lambda x: F.interpolate(x, **options), lambda x: torch.nn.functional.interpolate(x, **options),
                       [rng.standard_normal(shape)], rng, rtol=1e-13, atol=1e-14)


def test_interpolate_by_hand_second_derivatives_and_float32():
    x = Tensor(np.array([[[0.0, 1.0, 3.0]]]), requires_grad=True)
    assert F.interpolate(x, scale_factor=2).tolist() == [[[0.0, 0.0, 1.0, 1.0, 3.0, 3.0]]]
    y = F.interpolate(x, size=5, mode="linear", align_corners=True)
    assert y.tolist() == [[[0.0, 0.5, 1.0, 2.0, 3.0]]] and y._gate.name == "interpolate"
    y.sum().backward()
    assert x.grad.tolist() == [[[1.5, 2.0, 1.5]]]  # each input gets the weights it was read with
    assert gradgradcheck(lambda t: F.interpolate(t, scale_factor=1.5, mode="bilinear") ** 2, [X[:1, :1, :4, :4]])
    assert F.interpolate(Tensor(X.astype(np.float32)), scale_factor=2, mode="bilinear").dtype == np.float32


def test_interpolate_errors_name_the_op_and_the_fix():
    x = Tensor(X)
    with pytest.raises(ValueError, match="interpolate: mode 'bicubic' is not supported; use one of 'nearest'"):
        F.interpolate(x, scale_factor=2, mode="bicubic")
    with pytest.raises(ValueError, match="interpolate: mode 'linear' needs a 3-D input, got 4-D .* use 'bilinear'"):
        F.interpolate(x, scale_factor=2, mode="linear")
    with pytest.raises(ValueError, match="interpolate: align_corners option can only be set with the interpolating"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match="interpolate: give exactly one of size and scale_factor"):
        F.interpolate(x, size=3, scale_factor=2)
    with pytest.raises(ValueError, match=r"interpolate: size must have one entry per spatial dimension \(2\)"):
        F.interpolate(x, size=(1, 2, 3))
    with pytest.raises(ValueError, match=r"interpolate: scale_factor 0.1 makes the output \(0, 0\) from \(7, 9\)"):
        F.interpolate(x, scale_factor=0.1)
    with pytest.raises(ValueError, match="interpolate: expected a 3-D, 4-D or 5-D input"):
        F.interpolate(Tensor(X[0, 0]), scale_factor=2)
