"""Gradient clipping (``minigrad.nn.utils``): by hand, against PyTorch, in place, and its errors."""
import importlib
import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor, nn
from minigrad.nn.utils import clip_grad_norm_, clip_grad_value_, get_total_norm

SHAPES = [(3, 4), (4,), (2, 3, 3)]


def params_with_grads(rng, dtype=np.float64, scale=1.0):
    params = [Tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in SHAPES]
    for p in params:
        p.grad = (rng.standard_normal(p.shape) * scale).astype(dtype)
    return params


def test_importable_as_a_module_and_an_attribute():
    assert importlib.import_module("minigrad.nn.utils") is mg.nn.utils is nn.utils
    assert mg.nn.utils.clip_grad_norm_ is clip_grad_norm_


def test_clip_grad_norm_by_hand():
    a, b = Tensor(np.zeros(2), requires_grad=True), Tensor(np.zeros(1), requires_grad=True)
    a.grad, b.grad = np.array([3.0, 0.0]), np.array([4.0])  # together (3, 0, 4): 2-norm 5, 1-norm 7, inf-norm 4
    total = clip_grad_norm_([a, b], max_norm=1.0)
    assert isinstance(total, Tensor) and total.shape == () and total.item() == 5.0
    np.testing.assert_allclose(np.concatenate([a.grad, b.grad]), np.array([3.0, 0.0, 4.0]) / (5 + 1e-6), rtol=1e-15)
    a.grad, b.grad = np.array([3.0, 0.0]), np.array([4.0])
    assert clip_grad_norm_([a, b], 100.0, norm_type=1).item() == 7.0
    np.testing.assert_array_equal(a.grad, [3.0, 0.0])  # under max_norm: unchanged
    assert clip_grad_norm_([a, b], 2.0, norm_type="inf").item() == 4.0
    np.testing.assert_allclose(b.grad, [4.0 * 2 / (4 + 1e-6)], rtol=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("norm_type", [2.0, 1, math.inf, 3.0])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_pytorch(norm_type, max_norm, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    ours = params_with_grads(rng, dtype)
    theirs = [torch.tensor(p.data.copy(), requires_grad=True) for p in ours]
    for p, q in zip(ours, theirs):
        q.grad = torch.tensor(p.grad.copy())
    ours[1].grad = None  # a parameter without a gradient is skipped by both
    theirs[1].grad = None
    total = clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    tol = 1e-13 if dtype == np.float64 else 1e-6
    assert total.dtype == dtype
    np.testing.assert_allclose(total.item(), expected.item(), rtol=tol)
    for p, q in zip(ours, theirs):
        if q.grad is None:
            assert p.grad is None
        else:
            assert p.grad.dtype == dtype
            np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=tol, atol=0)


@pytest.mark.parametrize("clip_value", [0.3, 5.0])
def test_clip_grad_value_matches_pytorch(clip_value):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    ours = params_with_grads(rng)
    theirs = [torch.tensor(p.data.copy()) for p in ours]
    for p, q in zip(ours, theirs):
        q.grad = torch.tensor(p.grad.copy())
    assert clip_grad_value_(ours, clip_value) is None
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad, q.grad.numpy())
        assert np.abs(p.grad).max() <= clip_value


def test_clipping_changes_the_gradients_in_place_and_takes_any_iterable():
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    nn.functional.mse_loss(model(Tensor(rng.standard_normal((5, 3)).astype(np.float32))),
                           Tensor(rng.standard_normal((5, 2)).astype(np.float32) * 100)).backward()
    arrays = [p.grad for p in model.parameters()]
    total = clip_grad_norm_(model.parameters(), 1.0)  # a generator, as in a training loop
    assert total.item() > 1.0 and total.dtype == np.float32
    assert all(p.grad is a for p, a in zip(model.parameters(), arrays))
    assert get_total_norm([p.grad for p in model.parameters()]).item() == pytest.approx(1.0, rel=1e-5)
    single = model[0].weight
    clip_grad_value_(single, 1e-3)  # one Tensor, not a list
    assert single.grad is arrays[0] and np.abs(single.grad).max() <= 1e-3


def test_no_gradients_gives_a_zero_norm():
    w = Tensor(np.ones(3), requires_grad=True)
    assert clip_grad_norm_([w], 1.0).item() == 0.0 and w.grad is None


def test_a_non_finite_norm_scales_as_pytorch_or_raises_when_asked():
    w = Tensor(np.zeros(2), requires_grad=True)
    w.grad = np.array([np.inf, 1.0])
    assert clip_grad_norm_([w], 1.0).item() == math.inf
    np.testing.assert_array_equal(w.grad[1:], [0.0])  # scaled by 1/inf = 0, as PyTorch
    w.grad = np.array([np.nan, 1.0])
    with pytest.raises(RuntimeError, match=r"total norm of order 2.0 of the gradients is nan.*error_if_nonfinite=False"):
        clip_grad_norm_([w], 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(w.grad[1:], [1.0])  # nothing changed before the error


def test_clipping_errors_name_the_argument():
    w = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(TypeError, match="clip_grad_norm_: max_norm must be a number, got '1'"):
        clip_grad_norm_([w], "1")
    with pytest.raises(ValueError, match="norm_type must be > 0"):
        clip_grad_norm_([w], 1.0, norm_type=0)
    with pytest.raises(TypeError, match="norm_type must be a number or 'inf', got 'two'"):
        clip_grad_norm_([w], 1.0, norm_type="two")
    with pytest.raises(TypeError, match="clip_grad_value_: parameter 1 is a ndarray, not a minigrad Tensor"):
        clip_grad_value_([w, np.ones(2)], 1.0)
    with pytest.raises(TypeError, match="got a numpy array; pass model.parameters()"):
        clip_grad_value_(np.ones(2), 1.0)


def test_signatures_are_pytorchs():
    torch = pytest.importorskip("torch")
    import inspect

    for name in ("clip_grad_norm_", "clip_grad_value_"):
        ours = inspect.signature(getattr(nn.utils, name)).parameters
        theirs = inspect.signature(getattr(torch.nn.utils, name)).parameters
        assert [(p.name, p.default) for p in ours.values()] == [(p.name, p.default) for p in theirs.values()]


def test_max_norm_and_clip_value_may_be_0d_tensors_as_in_torch(torch_on_one_thread):
    p = Tensor(np.ones(3), requires_grad=True)
    p.grad = np.array([3.0, 0.0, 4.0])
    total = clip_grad_norm_([p], Tensor(np.array(1.0)))
    assert total.item() == 5.0 and np.allclose(p.grad, [0.6, 0.0, 0.8], atol=1e-6)
    clip_grad_norm_([p], np.float32(0.5))
    clip_grad_value_([p], mg.tensor(0.1))
    assert np.allclose(p.grad, [0.1, 0.0, 0.1])
    if torch_on_one_thread is not None:
        t = torch_on_one_thread.ones(3, dtype=torch_on_one_thread.float64, requires_grad=True)
        t.grad = torch_on_one_thread.tensor([3.0, 0.0, 4.0], dtype=torch_on_one_thread.float64)
        assert torch_on_one_thread.nn.utils.clip_grad_norm_([t], torch_on_one_thread.tensor(1.0)).item() == 5.0
    with pytest.raises(TypeError, match=r"clip_grad_norm_: max_norm must be a number or a 0-d tensor holding one, got "
                                        r"a float64 tensor of shape \(2,\)"):
        clip_grad_norm_([p], Tensor(np.ones(2)))
