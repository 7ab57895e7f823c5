"""layer_norm, group_norm, instance_norm: one gate each, gradients at every index (input, weight, bias), second
derivatives, instance_norm's running statistics and use_input_stats=False, clear errors, PyTorch."""
import numpy as np
import pytest

import minigrad.nn.functional as F
from minigrad import Tensor, gradcheck, gradgradcheck

rng = np.random.default_rng(0)
X = rng.standard_normal((2, 6, 3, 4)) * 2 + 1
W_LN, B_LN = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
W_C, B_C = rng.standard_normal(6), rng.standard_normal(6)

CASES = {  # name: (ours(x, *params), theirs(F, x, *params), params)
    "layer_norm (3, 4) affine": (lambda x, w, b: F.layer_norm(x, (3, 4), w, b),
                                 lambda T, x, w, b: T.layer_norm(x, (3, 4), w, b), [W_LN, B_LN]),
    "layer_norm 4": (lambda x: F.layer_norm(x, 4), lambda T, x: T.layer_norm(x, (4,)), []),
    "layer_norm weight eps": (lambda x, w: F.layer_norm(x, [4], w, eps=1e-2),
                              lambda T, x, w: T.layer_norm(x, [4], w, eps=1e-2), [W_LN[0]]),
    "group_norm 3 affine": (lambda x, w, b: F.group_norm(x, 3, w, b), lambda T, x, w, b: T.group_norm(x, 3, w, b),
                            [W_C, B_C]),
    "group_norm 1": (lambda x: F.group_norm(x, 1), lambda T, x: T.group_norm(x, 1), []),
    "group_norm 6 weight": (lambda x, w: F.group_norm(x, 6, w), lambda T, x, w: T.group_norm(x, 6, w), [W_C]),
    "instance_norm affine": (lambda x, w, b: F.instance_norm(x, weight=w, bias=b),
                             lambda T, x, w, b: T.instance_norm(x, weight=w, bias=b), [W_C, B_C]),
    "instance_norm": (lambda x: F.instance_norm(x, eps=1e-3), lambda T, x: T.instance_norm(x, eps=1e-3), []),
}


@pytest.mark.parametrize("name", CASES)
def test_normalisations_gradcheck_every_input(name):
    ours, _, params = CASES[name]
    assert gradcheck(ours, [X, *params])


@pytest.mark.parametrize("name", CASES)
def test_normalisations_second_derivatives(name):
    ours, _, params = CASES[name]
    assert gradgradcheck(ours, [X[:1, :2], *params] if name.startswith("layer") else [X[:1, :, :2, :2], *params])


@pytest.mark.parametrize("name", CASES)
def test_normalisations_match_pytorch(name, compare_with_torch):
    import torch

    ours, theirs, params = CASES[name]
    compare_with_torch(ours, lambda *ts: theirs(torch.nn.functional, *ts), [X, *params], rng, rtol=1e-11, atol=1e-12)


def test_each_is_one_gate_and_normalises_each_sample():
    x = Tensor(X, requires_grad=True)
    for y, name in [(F.layer_norm(x, (6, 3, 4)), "layer_norm"), (F.group_norm(x, 2), "group_norm"),
                    (F.instance_norm(x), "instance_norm")]:
        assert y._gate.name == name and y._inputs == (x,)
    y = F.layer_norm(x, (6, 3, 4)).data.reshape(2, -1)
    np.testing.assert_allclose(y.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=1), 1, rtol=1e-4)  # eps = 1e-5 in the denominator
    assert F.layer_norm(Tensor(X.astype(np.float32)), 4).dtype == np.float32
    assert F.group_norm(Tensor(X[:1]), 3).shape == X[:1].shape  # any batch size, one sample too


def test_instance_norm_running_statistics_and_use_input_stats_match_pytorch(torch_on_one_thread):
    torch = torch_on_one_thread
    if torch is None:
        pytest.skip("torch is not installed (pip install torch==2.13.0)")
    mean, var = rng.standard_normal(6), rng.uniform(0.5, 2.0, 6)
    ours_m, ours_v, ref_m, ref_v = mean.copy(), Tensor(var.copy()), torch.tensor(mean), torch.tensor(var)
    y = F.instance_norm(Tensor(X), ours_m, ours_v, W_C, B_C, momentum=0.3)
    ref = torch.nn.functional.instance_norm(torch.tensor(X), ref_m, ref_v, torch.tensor(W_C), torch.tensor(B_C),
                                            momentum=0.3)
    np.testing.assert_allclose(y.data, ref.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours_m, ref_m.numpy(), rtol=1e-13)
    np.testing.assert_allclose(ours_v.data, ref_v.numpy(), rtol=1e-13)  # the instances' unbiased variances
    assert ours_v._version == 1  # an in-place change, as batch norm's
    x, t = Tensor(X.copy(), requires_grad=True), torch.tensor(X, requires_grad=True)
    y = F.instance_norm(x, ours_m, ours_v, W_C, use_input_stats=False)
    ref = torch.nn.functional.instance_norm(t, ref_m, ref_v, torch.tensor(W_C), use_input_stats=False)
    np.testing.assert_allclose(y.data, ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    up = rng.standard_normal(X.shape)
    y.backward(up)
    ref.backward(torch.tensor(up))
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert y._gate.name == "instance_norm"


def test_normalisation_errors_name_the_op_and_the_fix():
    x = Tensor(X)
    with pytest.raises(ValueError, match=r"layer_norm: normalized_shape \(3,\) must be the input's last dims, .* "
                                         r"normalized_shape=\(4,\)"):
        F.layer_norm(x, 3)
    with pytest.raises(ValueError, match=r"layer_norm: weight has shape \(4,\) but must have shape \(3, 4\)"):
        F.layer_norm(x, (3, 4), np.ones(4))
    with pytest.raises(ValueError, match=r"group_norm: the input's 6 channels must be divisible by num_groups \(4\); "
                                         r"use a divisor of 6, e.g. 3"):
        F.group_norm(x, 4)
    with pytest.raises(ValueError, match=r"group_norm: bias has shape \(3,\) but must have shape \(6,\)"):
        F.group_norm(x, 3, bias=np.ones(3))
    with pytest.raises(ValueError, match="instance_norm: expected more than 1 spatial element per channel"):
        F.instance_norm(Tensor(np.ones((2, 3, 1))))
    with pytest.raises(ValueError, match=r"instance_norm: expected an input of shape \(N, C, L\) or"):
        F.instance_norm(Tensor(np.ones((2, 3))))
    with pytest.raises(ValueError, match="instance_norm: use_input_stats=False normalises with running_mean"):
        F.instance_norm(x, use_input_stats=False)
    with pytest.raises(ValueError, match=r"instance_norm: running_mean has shape \(3,\) but the input has 6 channels"):
        F.instance_norm(x, np.zeros(3), np.ones(3))
    with pytest.raises(TypeError, match="layer_norm: the input must be floating point, got int64"):
        F.layer_norm(Tensor(np.arange(4)), 4)
