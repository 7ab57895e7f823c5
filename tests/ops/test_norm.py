"""Batch norm (train/eval, running statistics, the analytic backward), dropout, and the zero-pad residual shortcut."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor, gradcheck
from minigrad.ops.norm import batch_norm, dropout
from minigrad.ops.shape import zero_pad_shortcut

rng = np.random.default_rng(0)


# -- batch norm: gradients -------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(5, 3), (3, 2, 3, 3)], ids=["N,C", "N,C,H,W"])
@pytest.mark.parametrize("affine", ["none", "weight", "bias", "both"])
def test_batch_norm_training_gradcheck(shape, affine):
    c = shape[1]
    x = rng.standard_normal(shape) * 2 + 1
    params = {"weight": rng.uniform(0.5, 2, c), "bias": rng.standard_normal(c)}
    used = [k for k in ("weight", "bias") if affine in (k, "both")]

    def fn(x, *ps):
        kw = dict(zip(used, ps))
        return batch_norm(x, np.zeros(c), np.ones(c), training=True, **kw)

    assert gradcheck(fn, [x] + [params[k] for k in used])


def test_batch_norm_training_without_running_stats_gradcheck():
    x = rng.standard_normal((4, 3, 2, 2))
    assert gradcheck(lambda x, w, b: batch_norm(x, None, None, w, b, training=True),
                     [x, rng.uniform(0.5, 2, 3), rng.standard_normal(3)])


@pytest.mark.parametrize("shape", [(5, 3), (3, 2, 3, 3)], ids=["N,C", "N,C,H,W"])
def test_batch_norm_eval_gradcheck(shape):
    c = shape[1]
    mean, var = rng.standard_normal(c), rng.uniform(0.5, 2, c)
    fn = lambda x, w, b: batch_norm(x, mean, var, w, b, training=False)  # noqa: E731
    assert gradcheck(fn, [rng.standard_normal(shape), rng.uniform(0.5, 2, c), rng.standard_normal(c)])
    assert gradcheck(lambda x: batch_norm(x, mean, var), [rng.standard_normal(shape)])


def test_batch_norm_is_one_gate_with_its_rule():
    x, w, b = (Tensor(a, requires_grad=True) for a in (rng.standard_normal((4, 2)), np.ones(2), np.zeros(2)))
    y = batch_norm(x, None, None, w, b, training=True)
    assert y._gate.name == "batch_norm" and y._inputs == (x, w, b)
    assert "x̂·mean(dL/dy·x̂)" in y._gate.formula
    assert batch_norm(x, np.zeros(2), np.ones(2))._gate.formula.startswith("dL/dx = (γ/σ)·dL/dy")


def test_training_gradient_of_a_sum_is_zero():
    # Σ y does not depend on x in training: every channel's output sums to N·β whatever x is
    x = Tensor(rng.standard_normal((6, 3, 2, 2)), requires_grad=True)
    batch_norm(x, None, None, training=True).sum().backward()
    np.testing.assert_allclose(x.grad, 0, atol=1e-12)


# -- batch norm: the numbers ------------------------------------------------------------------


def test_batch_norm_by_hand_and_the_running_statistics():
    x = np.array([[1.0, 10.0], [2.0, 10.0], [3.0, 14.0], [4.0, 14.0]])
    running_mean, running_var = np.zeros(2), np.ones(2)
    y = batch_norm(Tensor(x), running_mean, running_var, np.array([2.0, 1.0]), np.array([0.0, 5.0]),
                   training=True, momentum=0.1, eps=0.0)
    # channel 0: μ = 2.5, biased σ² = 1.25 (normalises), unbiased 5/3 (goes into the running variance)
    # channel 1: μ = 12, biased σ² = 4, unbiased 16/3
    np.testing.assert_allclose(y.data[:, 0], 2 * (x[:, 0] - 2.5) / np.sqrt(1.25))
    np.testing.assert_allclose(y.data[:, 1], [4.0, 4.0, 6.0, 6.0])  # (x − 12)/2 + 5
    np.testing.assert_allclose(running_mean, [0.25, 1.2])  # 0.9·0 + 0.1·μ
    np.testing.assert_allclose(running_var, [0.9 + 0.1 * 5 / 3, 0.9 + 0.1 * 16 / 3])
    # eval normalises with the running statistics, not the batch's
    z = batch_norm(Tensor(x), running_mean, running_var, training=False, eps=0.0)
    np.testing.assert_allclose(z.data, (x - running_mean) / np.sqrt(running_var))


def test_spatial_statistics_are_per_channel_over_n_h_w():
    x = rng.standard_normal((4, 3, 5, 6)) * 3 + 2
    running_mean, running_var = np.zeros(3), np.ones(3)
    y = batch_norm(Tensor(x), running_mean, running_var, training=True, momentum=1.0)
    np.testing.assert_allclose(running_mean, x.mean(axis=(0, 2, 3)))
    np.testing.assert_allclose(running_var, x.var(axis=(0, 2, 3), ddof=1))
    np.testing.assert_allclose(y.data.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(y.data.var(axis=(0, 2, 3)), 1, atol=1e-4)


def test_running_statistics_as_tensors_are_updated_in_place_without_a_graph():
    mean, var = mg.zeros(2), mg.ones(2)
    arrays, versions = (mean.data, var.data), (mean._version, var._version)
    x = Tensor(np.array([[1.0, 2.0], [3.0, 6.0]], dtype=np.float32), requires_grad=True)
    batch_norm(x, mean, var, training=True)
    assert mean.data is arrays[0] and var.data is arrays[1]
    assert (mean._version, var._version) == (versions[0] + 1, versions[1] + 1)
    assert mean._gate is None and not mean.requires_grad
    np.testing.assert_allclose(mean.data, [0.2, 0.4])
    np.testing.assert_allclose(var.data, [0.9 + 0.1 * 2.0, 0.9 + 0.1 * 8.0])


def test_eval_leaves_running_statistics_alone_and_no_grad_still_updates_them():
    mean, var = np.zeros(2), np.ones(2)
    x = Tensor(rng.standard_normal((4, 2)))
    batch_norm(x, mean, var, training=False)
    assert mean.tolist() == [0, 0] and var.tolist() == [1, 1]
    with mg.no_grad():
        batch_norm(x, mean, var, training=True)
    assert mean.tolist() != [0, 0]


def test_float32_stays_float32():
    x = Tensor(rng.standard_normal((8, 4, 3, 3)).astype(np.float32), requires_grad=True)
    w, b = mg.ones(4, requires_grad=True), mg.zeros(4, requires_grad=True)
    running_mean, running_var = np.zeros(4, np.float32), np.ones(4, np.float32)
    y = batch_norm(x, running_mean, running_var, w, b, training=True)
    assert y.dtype == np.float32
    (y * y).sum().backward()
    assert x.grad.dtype == w.grad.dtype == b.grad.dtype == running_var.dtype == np.float32


def test_float64_affine_on_float32_input_keeps_float32():
    x = Tensor(rng.standard_normal((4, 3)).astype(np.float32))
    y = batch_norm(x, np.zeros(3), np.ones(3), np.ones(3), np.zeros(3))
    assert y.dtype == np.float32


def test_eval_mode_needs_the_input_unchanged_but_training_does_not():
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    trained = batch_norm(x, None, None, training=True)
    evaluated = batch_norm(x, np.zeros(3), np.ones(3), training=False, eps=0.0)
    with mg.no_grad():
        x.mul_(2.0)
    trained.backward(np.ones((4, 3)))  # training saved x − μ, not x
    with pytest.raises(RuntimeError, match="batch_norm: input 0 .* was modified in place"):
        evaluated.backward(np.ones((4, 3)))


# -- batch norm: bad input ----------------------------------------------------------------------


def test_running_statistics_of_the_wrong_shape_are_a_clear_error():
    x = Tensor(np.ones((4, 3, 2, 2)))
    with pytest.raises(ValueError, match=r"batch_norm: running_mean has shape \(4,\) but the input has 3 channels"):
        batch_norm(x, np.zeros(4), np.ones(3), training=True)
    with pytest.raises(ValueError, match=r"running_var has shape \(3, 1\) .* must have shape \(3,\)"):
        batch_norm(x, np.zeros(3), np.ones((3, 1)))


def test_other_bad_batch_norm_input():
    x = Tensor(rng.standard_normal((4, 3)))
    with pytest.raises(ValueError, match="pass both running_mean and running_var, or neither"):
        batch_norm(x, np.zeros(3), None, training=True)
    with pytest.raises(ValueError, match=r"eval mode \(training=False\) .* both are None"):
        batch_norm(x, None, None)
    with pytest.raises(ValueError, match=r"more than 1 value per channel when training, got input of shape \(1, 3\)"):
        batch_norm(Tensor(np.ones((1, 3))), None, None, training=True)
    with pytest.raises(ValueError, match=r"expected an input of shape \(N, C\) or \(N, C, H, W\), got \(3,\)"):
        batch_norm(Tensor(np.ones(3)), np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match=r"weight has shape \(2,\) but the input has 3 channels"):
        batch_norm(x, None, None, np.ones(2), training=True)
    with pytest.raises(TypeError, match="running_mean must be a numpy array or a Tensor"):
        batch_norm(x, [0.0, 0.0, 0.0], np.ones(3))


# -- dropout ------------------------------------------------------------------------------------


def test_dropout_gradcheck_with_a_fixed_mask():
    def fn(x):
        mg.manual_seed(3)  # the same mask on every call gradcheck makes
        return dropout(x, p=0.4)

    assert gradcheck(fn, [rng.standard_normal((4, 5))])


def test_dropout_keeps_the_expectation_and_drops_about_p():
    mg.manual_seed(0)
    x = mg.ones(200_000)
    y = dropout(x, p=0.3)
    dropped = np.mean(y.data == 0)
    assert abs(dropped - 0.3) < 0.005
    assert abs(y.data.mean() - 1.0) < 0.01
    np.testing.assert_allclose(np.unique(y.data), [0.0, 1 / 0.7], rtol=1e-6)
    assert y.dtype == np.float32


def test_dropout_mask_follows_manual_seed_and_gradient_uses_it():
    x = Tensor(rng.standard_normal((10, 10)), requires_grad=True)
    mg.manual_seed(7)
    a = dropout(x, 0.5)
    mg.manual_seed(7)
    b = dropout(x, 0.5)
    np.testing.assert_array_equal(a.data, b.data)
    a.sum().backward()
    np.testing.assert_array_equal(x.grad, (a.data != 0) * 2.0)


def test_dropout_identity_and_extremes():
    x = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    assert dropout(x, 0.5, training=False) is x
    assert dropout(x, 0.0) is x
    y = dropout(x, 1.0)
    assert not y.data.any()
    y.sum().backward()
    assert not x.grad.any()


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_probability_outside_0_1_is_an_error(p):
    with pytest.raises(ValueError, match=f"dropout: probability p has to be between 0 and 1, but got {p}"):
        dropout(mg.ones(3), p, training=False)


# -- the residual shortcut with a spatial reduction (lectures: J_{l+1} ≥ J_l, subsample by s) ----


@pytest.mark.parametrize("out_channels,stride", [(3, 1), (5, 1), (5, 2), (4, 3)])
def test_zero_pad_shortcut_gradcheck(out_channels, stride):
    assert gradcheck(lambda x: zero_pad_shortcut(x, out_channels, stride), [rng.standard_normal((2, 3, 5, 4))])


def test_zero_pad_shortcut_values():
    x = np.arange(2 * 2 * 4 * 4, dtype=np.float64).reshape(2, 2, 4, 4)
    y = zero_pad_shortcut(Tensor(x), 4, stride=2)
    assert y.shape == (2, 4, 2, 2)
    np.testing.assert_array_equal(y.data[:, :2], x[:, :, ::2, ::2])  # L̃[b, j, x, y] = L[b, j, s·x, s·y], j < J_l
    assert not y.data[:, 2:].any()  # 0 for the new channels
    t = Tensor(x)
    assert zero_pad_shortcut(t, 2) is t


def test_zero_pad_shortcut_bad_input():
    x = Tensor(np.ones((1, 4, 4, 4)))
    with pytest.raises(ValueError, match=r"out_channels \(2\) must be at least the input's 4 channels"):
        zero_pad_shortcut(x, 2)
    with pytest.raises(ValueError, match="stride must be a positive integer, got 0"):
        zero_pad_shortcut(x, 4, 0)
    with pytest.raises(ValueError, match=r"expected an input of shape \(N, C, H, W\), got \(4, 4\)"):
        zero_pad_shortcut(Tensor(np.ones((4, 4))), 4)


# -- against PyTorch (skipped when it is not installed) -----------------------------------------


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 7), (4, 3, 5, 2)], ids=["N,C", "N,C,L", "N,C,H,W"])
@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_matches_pytorch(shape, affine, training):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    c = shape[1]
    x = rng.standard_normal(shape) * 2 + 0.5
    w, b = rng.uniform(0.5, 2, c), rng.standard_normal(c)
    mean, var = rng.standard_normal(c), rng.uniform(0.5, 2, c)
    up = rng.standard_normal(shape)
    ours = [Tensor(a.copy(), requires_grad=True) for a in (x, w, b)]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in (x, w, b)]
    our_stats, their_stats = (mean.copy(), var.copy()), (torch.tensor(mean), torch.tensor(var))
    affine_ours = ours[1:] if affine else [None, None]
    affine_theirs = theirs[1:] if affine else [None, None]
    y = batch_norm(ours[0], *our_stats, *affine_ours, training=training, momentum=0.3, eps=1e-3)
    ref = F.batch_norm(theirs[0], *their_stats, *affine_theirs, training=training, momentum=0.3, eps=1e-3)
    np.testing.assert_allclose(y.data, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    for ours_stat, theirs_stat in zip(our_stats, their_stats):
        np.testing.assert_allclose(ours_stat, theirs_stat.numpy(), rtol=1e-12)
    y.backward(up)
    ref.backward(torch.tensor(up))
    for o, t in zip(ours if affine else ours[:1], theirs if affine else theirs[:1]):
        np.testing.assert_allclose(o.grad, t.grad.numpy(), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("out_channels,stride", [(6, 2), (4, 1)])
def test_zero_pad_shortcut_matches_pytorch(out_channels, stride):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 4, 5, 6))
    y = zero_pad_shortcut(Tensor(x), out_channels, stride)
    ref = torch.nn.functional.pad(torch.tensor(x)[:, :, ::stride, ::stride], (0, 0, 0, 0, 0, out_channels - 4))
    np.testing.assert_array_equal(y.data, ref.numpy())


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_matches_pytorch_in_law(p):
    """The masks come from different generators, so compare what dropout is: every output is 0 or
    x/(1 − p) (the same values in both), about p of them 0, the gradient the same mask scaled alike,
    and eval mode the identity."""
    torch = pytest.importorskip("torch")
    x = rng.uniform(1, 2, (200, 100))
    ours = Tensor(x.copy(), requires_grad=True)
    y = dropout(ours, p, training=True)
    t = torch.tensor(x.copy(), requires_grad=True)
    ref = torch.nn.functional.dropout(t, p, training=True)
    for out, inp in ((y.data, x), (ref.detach().numpy(), x)):
        kept = out != 0
        np.testing.assert_allclose(out[kept], inp[kept] / (1 - p), rtol=1e-12)
        assert abs((~kept).mean() - p) < 0.02  # 20,000 draws: the standard error is at most 0.0035
    up = rng.standard_normal(x.shape)
    y.backward(up)
    ref.backward(torch.tensor(up))
    for grad, out in ((ours.grad, y.data), (t.grad.numpy(), ref.detach().numpy())):
        np.testing.assert_allclose(grad, np.where(out != 0, up / (1 - p), 0.0), rtol=1e-12)
    np.testing.assert_array_equal(dropout(Tensor(x), p, training=False).data,
                                  torch.nn.functional.dropout(torch.tensor(x), p, training=False).numpy())


def test_dropout2d_drops_whole_channels_and_scales_the_rest():
    import minigrad.nn.functional as F

    mg.manual_seed(0)
    x = Tensor(rng.standard_normal((16, 32, 3, 3)), requires_grad=True)
    y = F.dropout2d(x, p=0.25)
    per_channel = (y.data == 0).reshape(16, 32, -1)
    assert (per_channel.all(axis=2) | ~per_channel.any(axis=2)).all()  # a channel is dropped whole or kept whole
    assert abs(per_channel[:, :, 0].mean() - 0.25) < 0.05
    kept = ~per_channel[:, :, 0]
    np.testing.assert_allclose(y.data[kept], x.data[kept] / 0.75)
    y.backward(np.ones(x.shape))
    np.testing.assert_allclose(x.grad, np.broadcast_to((kept / 0.75)[:, :, None, None], x.shape))
    assert y._gate.name == "dropout2d" and F.dropout2d(x, 0.5, training=False) is x
    with pytest.raises(ValueError, match="dropout2d: probability p has to be between 0 and 1, but got 1.5"):
        F.dropout2d(x, 1.5)
    with pytest.raises(ValueError, match=r"dropout2d: expected an input of shape \(N, C, H, W\)"):
        F.dropout2d(Tensor(np.ones(3)))


@pytest.mark.parametrize("shape", [(6, 40, 5), (30, 40)], ids=["3-D: (N, C, L)", "2-D: (N, C)"])
def test_dropout2d_on_3d_and_2d_inputs_is_torchs_with_its_warning(shape, torch_on_one_thread):
    """PyTorch 2.13 reads a 3-D input as (N, C, L) -- one mask value per sample and channel -- and a 2-D one as
    (N, C), warning for both; the same here, with the same words."""
    import minigrad.nn.functional as F

    x = Tensor(np.ones(shape))
    with pytest.warns(UserWarning, match=rf"dropout2d: Received a {'3D' if len(shape) == 3 else '2-D'} input to "
                                         r"dropout2d"):
        y = F.dropout2d(x, 0.5).data
    assert (y == y[:, :, :1]).all() if len(shape) == 3 else set(np.unique(y)) == {0.0, 2.0}
    assert 0.3 < (y == 0).mean() < 0.7
    if torch_on_one_thread is not None:
        torch = torch_on_one_thread
        with pytest.warns(UserWarning) as caught:
            t = torch.nn.functional.dropout2d(torch.ones(shape, dtype=torch.float64), 0.5).numpy()
        assert str(caught[0].message).split(" (Triggered")[0] == str(
            _warning_of(lambda: F.dropout2d(x, 0.5))).split(" (Triggered")[0]
        assert (t == t[:, :, :1]).all() if len(shape) == 3 else set(np.unique(t)) <= {0.0, 2.0}


def _warning_of(fn):
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return caught[0].message
