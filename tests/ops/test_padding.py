"""pad's modes 'reflect', 'replicate' and 'circular' (and 'constant'), as torch.nn.functional.pad: values, gradients
at every index (each copy's gradient added to its source), second derivatives, PyTorch's limits as errors."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import Tensor, gradcheck, gradgradcheck

rng = np.random.default_rng(0)
CASES = [((2, 3, 5, 6), (1, 2, 3, 0)), ((2, 3, 5, 6), (0, 0, 2, 1)), ((2, 3, 5, 6), (1, 1, 2, 0, 1, 2)),
         ((3, 7), (2, 3)), ((2, 3, 7), (3, 1)), ((1, 2, 3, 4, 5), (1, 1, 2, 0, 1, 2))]


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape,pad", CASES, ids=str)
def test_pad_modes_gradcheck_and_pytorch(mode, shape, pad, compare_with_torch):
    import torch

    x = rng.standard_normal(shape)
    assert gradcheck(lambda t: F.pad(t, pad, mode=mode), [x])
    compare_with_torch(lambda t: F.pad(t, pad, mode), lambda t: torch.nn.functional.pad(t, pad, mode=mode), [x], rng,
                       rtol=1e-14, atol=1e-15)  # copies' gradients add: summation order


def test_pad_modes_by_hand():
    x = Tensor(np.arange(6.0).reshape(1, 1, 6), requires_grad=True)
    assert F.pad(x, (2, 3), mode="reflect").tolist() == [[[2, 1, 0, 1, 2, 3, 4, 5, 4, 3, 2]]]
    assert F.pad(x, (2, 3), mode="replicate").tolist() == [[[0, 0, 0, 1, 2, 3, 4, 5, 5, 5, 5]]]
    y = F.pad(x, (2, 3), mode="circular")
    assert y.tolist() == [[[4, 5, 0, 1, 2, 3, 4, 5, 0, 1, 2]]] and y._gate.name == "pad"
    y.sum().backward()
    assert x.grad.tolist() == [[[2.0, 2.0, 2.0, 1.0, 2.0, 2.0]]]  # each copy sends its gradient to its source
    assert gradgradcheck(lambda t: F.pad(t, (2, 1, 1, 2), mode="reflect") ** 2, [rng.standard_normal((1, 1, 4, 4))])
    assert mg.pad(x, (1, 1), value=7.0).tolist() == [[[7, 0, 1, 2, 3, 4, 5, 7]]]  # constant, as before


def test_pad_mode_errors_are_pytorchs_limits():
    x = Tensor(np.ones((1, 1, 6)))
    with pytest.raises(ValueError, match=r"pad: reflect padding must be less than the dimension it pads, .* \(6, 0\)"):
        F.pad(x, (6, 0), mode="reflect")
    with pytest.raises(ValueError, match="pad: circular padding .* would wrap around more than once"):
        F.pad(x, (7, 0), mode="circular")
    with pytest.raises(ValueError, match="pad: mode 'replicate' pads the last 1, 2 or 3 dims of a 2-D/3-D"):
        F.pad(Tensor(np.ones(6)), (1, 1), mode="replicate")
    with pytest.raises(ValueError, match="pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got"):
        F.pad(x, (1, 1), mode="wrap")
    with pytest.raises(ValueError, match="pad: value is only for mode 'constant'"):
        F.pad(x, (1, 1), mode="reflect", value=1.0)
