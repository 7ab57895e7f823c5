"""Pooling: the max gate routes to one argmax, average pooling spreads; gradchecks over stride, padding,
dilation and count_include_pad; adaptive bins; PyTorch cross-checks (ties included); bad-input errors."""
import numpy as np
import pytest

from minigrad import Tensor, gradcheck
from minigrad.ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d

try:  # only the cross-checks need PyTorch; every other test runs without it
    import torch
except ImportError:
    torch = None

rng = np.random.default_rng(0)


def _image(rows):
    return Tensor(np.array(rows, dtype=np.float64)[None, None], requires_grad=True)


# -- the lectures' numbers --------------------------------------------------------------------------------


def test_max_pooling_sends_the_whole_gradient_to_the_6():
    x = _image([[1, 3], [6, 5]])
    y = max_pool2d(x, 2)
    assert y.data.item() == 6
    y.backward(np.array([[[[2.5]]]]))
    # changing 1, 3 or 5 a little does not change the output: their derivative is 0
    assert x.grad[0, 0].tolist() == [[0, 0], [2.5, 0]]


def test_a_tie_sends_the_gradient_to_the_first_maximum_only():
    x = _image([[6, 6], [1, 6]])
    max_pool2d(x, 2).backward(np.ones((1, 1, 1, 1)))
    assert x.grad[0, 0].tolist() == [[1, 0], [0, 0]]  # one argmax per window, row-major first, as PyTorch


def test_overlapping_max_windows_add_their_gradients():
    x = _image([[0, 1, 0], [2, 9, 3], [0, 4, 0]])
    y = max_pool2d(x, 2, stride=1)  # the 9 is the maximum of all four windows
    assert y.data[0, 0].tolist() == [[9, 9], [9, 9]]
    y.backward(np.array([[[[1, 2], [3, 4]]]], dtype=np.float64))
    assert x.grad[0, 0].tolist() == [[0, 0, 0], [0, 10, 0], [0, 0, 0]]


def test_average_pooling_spreads_one_over_k_squared():
    x = _image([[1, 2, 3, 4], [5, 6, 7, 8]])
    y = avg_pool2d(x, 2)  # windows [[1, 2], [5, 6]] and [[3, 4], [7, 8]]
    assert y.data[0, 0].tolist() == [[3.5, 5.5]]
    y.backward(np.array([[[[4.0, 8.0]]]]))
    assert x.grad[0, 0].tolist() == [[1, 1, 2, 2], [1, 1, 2, 2]]  # 4/4 and 8/4 to every element of the window


@pytest.mark.parametrize(
    "count_include_pad,expected,grad",
    [
        # padded 2×2 ones, 2×2 windows at stride 1: a corner window holds 1 real element, an edge 2, the centre 4
        (True, [[0.25, 0.5, 0.25], [0.5, 1, 0.5], [0.25, 0.5, 0.25]], [[1, 1], [1, 1]]),  # each x in 4 windows, 1/4 each
        # dividing by the real count: every window's mean is 1; x₁₁ gets 1/1 + 1/2 + 1/2 + 1/4
        (False, [[1, 1, 1], [1, 1, 1], [1, 1, 1]], [[2.25, 2.25], [2.25, 2.25]]),
    ],
)
def test_count_include_pad(count_include_pad, expected, grad):
    x = _image([[1, 1], [1, 1]])
    y = avg_pool2d(x, 2, stride=1, padding=1, count_include_pad=count_include_pad)
    assert y.data[0, 0].tolist() == expected
    y.backward(np.ones(y.shape))
    assert x.grad[0, 0].tolist() == grad


def test_max_pooling_propagates_nan_like_pytorch():
    x = Tensor(np.array([[[[1.0, np.nan], [3.0, 2.0]]]]))
    assert np.isnan(max_pool2d(x, 2).data.item())


def test_global_average_pooling():
    x = Tensor(rng.standard_normal((2, 3, 5, 4)), requires_grad=True)
    y = adaptive_avg_pool2d(x, 1)
    assert y.shape == (2, 3, 1, 1)
    np.testing.assert_allclose(y.data[..., 0, 0], x.data.mean(axis=(2, 3)))
    y.backward(np.ones(y.shape))
    np.testing.assert_allclose(x.grad, np.full(x.shape, 1 / 20))


def test_float32_stays_float32():
    x = Tensor(rng.standard_normal((1, 2, 6, 6)).astype(np.float32), requires_grad=True)
    for y in (max_pool2d(x, 2), avg_pool2d(x, 3, 1, 1), adaptive_avg_pool2d(x, (2, 3)), adaptive_avg_pool2d(x, 4)):
        assert y.dtype == np.float32
        x.grad = None
        y.backward(np.ones(y.shape, np.float32))
        assert x.grad.dtype == np.float32


# -- gradchecks -------------------------------------------------------------------------------------------

MAX_CASES = {
    "2x2": ((2, 3, 6, 6), 2, None, 0, 1),
    "3x3 stride 2 overlapping": ((1, 2, 7, 6), 3, 2, 0, 1),
    "stride 1 padding 1": ((2, 2, 5, 4), 3, 1, 1, 1),
    "pairs": ((1, 2, 7, 8), (2, 3), (1, 2), (1, 1), 1),
    "dilation 2": ((1, 2, 8, 7), 3, 2, 1, 2),
    "stride > kernel": ((1, 1, 9, 9), 2, 3, 0, 1),
}


@pytest.mark.parametrize("name", MAX_CASES)
def test_max_pool2d_gradcheck(name):
    shape, k, s, p, d = MAX_CASES[name]
    # distinct values a step apart: the maximum of a window never changes within ±eps
    x = rng.permutation(np.prod(shape)).reshape(shape) * 0.01
    assert gradcheck(lambda t: max_pool2d(t, k, s, p, d), [x])


AVG_CASES = {
    "2x2": ((2, 3, 6, 6), 2, None, 0),
    "3x3 stride 2": ((1, 2, 7, 6), 3, 2, 0),
    "padding 1": ((2, 2, 5, 4), 3, 1, 1),
    "pairs": ((1, 2, 7, 8), (2, 3), (1, 2), (1, 1)),
    "stride > kernel": ((1, 1, 9, 8), 2, 3, 1),
}


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("name", AVG_CASES)
def test_avg_pool2d_gradcheck(name, count_include_pad):
    shape, k, s, p = AVG_CASES[name]
    assert gradcheck(lambda t: avg_pool2d(t, k, s, p, count_include_pad), [rng.standard_normal(shape)])


@pytest.mark.parametrize("size", [1, 2, (3, 2), (2, 5), (4, 3), (None, 2), (7, 9)])
def test_adaptive_avg_pool2d_gradcheck(size):
    # (2, 5) divides the 6×5 input (reshaped means); (4, 3) does not (overlapping bins of unequal size)
    assert gradcheck(lambda t: adaptive_avg_pool2d(t, size), [rng.standard_normal((2, 2, 6, 5))])


@pytest.mark.slow
@pytest.mark.parametrize("k,s,p", [(k, s, p) for k in (2, 3, (2, 3)) for s in (1, 2, 3) for p in (0, 1)])
def test_pooling_gradcheck_sweep(k, s, p):
    x = rng.permutation(2 * 2 * 7 * 8).reshape(2, 2, 7, 8) * 0.01
    for d in (1, 2):
        assert gradcheck(lambda t: max_pool2d(t, k, s, p, d), [x])
    for count_include_pad in (True, False):
        assert gradcheck(lambda t: avg_pool2d(t, k, s, p, count_include_pad), [x])


# -- ceil_mode, return_indices, divisor_override -----------------------------------------------------------


def test_ceil_mode_keeps_the_partial_window_at_the_edge():
    # 5 columns, 2×2 windows, stride 2: floor gives 2 windows per row, ceil a third over column 4 alone
    x = Tensor(np.arange(10.0).reshape(1, 1, 2, 5), requires_grad=True)
    y = max_pool2d(x, 2, ceil_mode=True)
    assert y.data.tolist() == [[[[6.0, 8.0, 9.0]]]]
    assert max_pool2d(x, 2).shape == (1, 1, 1, 2)
    y.backward(np.array([[[[1.0, 2.0, 3.0]]]]))
    assert x.grad.tolist() == [[[[0, 0, 0, 0, 0], [0, 1, 0, 2, 3]]]]
    # avg: the partial window divides by the 2 elements it covers, not 4 (PyTorch's rule)
    assert avg_pool2d(x, 2, ceil_mode=True).data.tolist() == [[[[3.0, 5.0, 6.5]]]]


def test_ceil_mode_drops_a_window_that_would_start_in_the_padding():
    # PyTorch's rule: (o − 1)·s ≥ d + p means the last window starts past the input; 4 + 2·1 − 3 = 3, ⌈3/2⌉ + 1 = 3, but 2·2 ≥ 4 + 1 is false: kept
    assert max_pool2d(Tensor(np.zeros((1, 1, 4, 4))), 3, 2, 1, ceil_mode=True).shape == (1, 1, 3, 3)
    # d = 5, k = 2, s = 4, p = 1: ⌈(5 + 2 − 2)/4⌉ + 1 = 3, and (3 − 1)·4 = 8 ≥ 5 + 1: dropped
    assert max_pool2d(Tensor(np.zeros((1, 1, 5, 5))), 2, 4, 1, ceil_mode=True).shape == (1, 1, 2, 2)


def test_return_indices_are_flat_positions_in_the_input_plane():
    x = Tensor(np.array([[[[1.0, 2.0, 5.0, 3.0], [4.0, 0.0, 1.0, 7.0], [9.0, 8.0, 1.0, 1.0], [0.0, 8.0, 6.0, 2.0]]]]))
    y, idx = max_pool2d(x, 2, return_indices=True)
    assert y.data.tolist() == [[[[4.0, 7.0], [9.0, 6.0]]]]
    assert idx.dtype == np.int64 and idx.data.tolist() == [[[[4, 7], [8, 14]]]]
    np.testing.assert_array_equal(x.data.reshape(-1)[idx.data.reshape(-1)], y.data.reshape(-1))


def test_divisor_override_divides_every_window_by_that_number():
    x = Tensor(np.ones((1, 1, 4, 4)))
    assert avg_pool2d(x, 2, divisor_override=2).data.tolist() == [[[[2.0, 2.0], [2.0, 2.0]]]]
    with pytest.raises(ValueError, match="avg_pool2d: divisor_override must be a positive int or None, got 0"):
        avg_pool2d(x, 2, divisor_override=0)


CEIL_CASES = [(2, 2, 0, 1), (3, 2, 1, 1), (3, 2, 0, 1), (2, 3, 1, 1), (3, 3, 1, 2), (3, 2, 1, 2)]


@pytest.mark.parametrize("k,s,p,d", CEIL_CASES)
def test_ceil_mode_gradcheck(k, s, p, d):
    x = rng.permutation(2 * 2 * 7 * 8).reshape(2, 2, 7, 8) * 0.01
    assert gradcheck(lambda t: max_pool2d(t, k, s, p, d, ceil_mode=True), [x])
    if d == 1:
        for count_include_pad in (True, False):
            assert gradcheck(lambda t: avg_pool2d(t, k, s, p, count_include_pad, ceil_mode=True), [x])


# -- PyTorch cross-check (skipped when torch is not installed) ----------------------------------------------


@pytest.fixture(autouse=True)
def _torch_on_one_thread(torch_on_one_thread):
    """Every test here runs with PyTorch (when installed) on one thread: see tests/conftest.py."""


TOL = dict(rtol=1e-12, atol=1e-14, out_atol=0)  # the outputs are max/mean of the same numbers


POOL_OPTIONS = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=(3, 2), stride=(1, 2), padding=(1, 0)),
                dict(kernel_size=2, stride=3), dict(kernel_size=3, stride=1)]


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("dilation", [1, 2])
@pytest.mark.parametrize("options", POOL_OPTIONS)
def test_max_pool2d_matches_pytorch(options, dilation, ties, compare_with_torch):
    pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 9, 8))
    if ties:
        x = np.round(x)  # many equal values in a window: both must pick the same (first) one
    compare_with_torch(lambda t: max_pool2d(t, dilation=dilation, **options),
                       lambda t: torch.nn.functional.max_pool2d(t, dilation=dilation, **options), [x], rng, **TOL)


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("options", POOL_OPTIONS)
def test_avg_pool2d_matches_pytorch(options, count_include_pad, compare_with_torch):
    pytest.importorskip("torch")
    compare_with_torch(lambda t: avg_pool2d(t, count_include_pad=count_include_pad, **options),
                       lambda t: torch.nn.functional.avg_pool2d(t, count_include_pad=count_include_pad, **options),
                       [rng.standard_normal((2, 3, 9, 8))], rng, **TOL)


@pytest.mark.parametrize("k,s,p,d", CEIL_CASES)
def test_ceil_mode_indices_and_divisor_match_pytorch(k, s, p, d, compare_with_torch):
    pytest.importorskip("torch")
    F = torch.nn.functional
    x = rng.standard_normal((2, 3, 7, 8))
    compare_with_torch(lambda t: max_pool2d(t, k, s, p, d, ceil_mode=True),
                       lambda t: F.max_pool2d(t, k, s, p, d, ceil_mode=True), [x], rng, **TOL)
    for ceil_mode in (False, True):
        _, ours = max_pool2d(Tensor(x), k, s, p, d, ceil_mode, return_indices=True)
        _, theirs = F.max_pool2d(torch.tensor(x), k, s, p, d, ceil_mode, return_indices=True)
        np.testing.assert_array_equal(ours.data, theirs.numpy())
        if d == 1:
            for count_include_pad in (True, False):
                for divisor in (None, 5):
                    compare_with_torch(
                        lambda t: avg_pool2d(t, k, s, p, count_include_pad, ceil_mode=ceil_mode, divisor_override=divisor),
                        lambda t: F.avg_pool2d(t, k, s, p, ceil_mode, count_include_pad, divisor), [x], rng, **TOL)


@pytest.mark.parametrize("size", [1, 3, (3, 4), (None, 5), (4, 3), (11, 10)])
def test_adaptive_avg_pool2d_matches_pytorch(size, compare_with_torch):
    pytest.importorskip("torch")
    compare_with_torch(lambda t: adaptive_avg_pool2d(t, size),
                       lambda t: torch.nn.functional.adaptive_avg_pool2d(t, size), [rng.standard_normal((2, 3, 9, 8))], rng, **TOL)


# -- bad input ------------------------------------------------------------------------------------------


def _t(*shape):
    return Tensor(np.zeros(shape))


@pytest.mark.parametrize(
    "call,error,message",
    [
        (lambda: max_pool2d(_t(1, 1, 8, 8), 3, padding=2), ValueError,
         r"max_pool2d: padding \(2, 2\) is more than half the kernel \(3, 3\); PyTorch's rule is padding ≤ kernel_size // 2"),
        (lambda: max_pool2d(_t(1, 1, 8, 8), 2, padding=2, dilation=2), ValueError, r"max_pool2d: padding \(2, 2\) is more than half"),
        (lambda: avg_pool2d(_t(1, 1, 8, 8), (2, 4), padding=(2, 1)), ValueError, r"avg_pool2d: padding \(2, 1\) is more than half the kernel \(2, 4\)"),
        (lambda: max_pool2d(_t(1, 1, 8, 8), 2, padding=-1), ValueError, r"max_pool2d: padding must be ≥ 0, got \(-1, -1\)"),
        (lambda: max_pool2d(_t(1, 1, 1, 8, 8), 2), ValueError, r"max_pool2d: input must be 4-D \(N, C, H, W\) \(or 3-D \(C, H, W\), unbatched\), got shape \(1, 1, 1, 8, 8\)"),
        (lambda: avg_pool2d(_t(8, 8), 2), ValueError, r"avg_pool2d: input must be 4-D \(N, C, H, W\) \(or 3-D \(C, H, W\), unbatched\), got shape \(8, 8\)"),
        (lambda: max_pool2d(_t(1, 1, 2, 2), 3), ValueError, r"max_pool2d: the window \(3, 3\) .* is larger than the padded input \(2, 2\)"),
        (lambda: max_pool2d(_t(1, 1, 5, 5), 2, dilation=5), ValueError, r"max_pool2d: the window \(2, 2\) \(dilation \(5, 5\), spanning \(6, 6\)\)"),
        (lambda: max_pool2d(_t(1, 1, 8, 8), 2, stride=0), ValueError, r"max_pool2d: stride must be at least 1, got \(0, 0\)"),
        (lambda: avg_pool2d(_t(1, 1, 8, 8), 0), ValueError, r"avg_pool2d: kernel_size must be at least 1"),
        (lambda: max_pool2d(_t(1, 1, 8, 8), 2.0), TypeError, r"max_pool2d: kernel_size must be an int or a pair of ints"),
        (lambda: max_pool2d(np.zeros((1, 1, 4, 4)), 2), TypeError, r"max_pool2d: input must be a minigrad Tensor"),
        (lambda: adaptive_avg_pool2d(_t(1, 1, 8, 8), 0), ValueError, r"adaptive_avg_pool2d: output_size must be at least 1, got \(0, 0\)"),
        (lambda: adaptive_avg_pool2d(_t(8, 8), 1), ValueError, r"adaptive_avg_pool2d: input must be 4-D"),
        (lambda: adaptive_avg_pool2d(_t(1, 1, 8, 8), "global"), TypeError, r"adaptive_avg_pool2d: output_size must be an int or a pair"),
    ],
)
def test_bad_input_is_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


# -- unbatched (C, H, W) inputs, as PyTorch (the audit of issue 17) --

UNBATCHED = {
    "conv2d": (lambda F, x, w: F.conv2d(x, w, padding=1), (4, 3, 3, 3)),
    "conv_transpose2d": (lambda F, x, w: F.conv_transpose2d(x, w, stride=2), (3, 2, 3, 3)),
    "max_pool2d": (lambda F, x, w: F.max_pool2d(x, 2, ceil_mode=True), None),
    "max_pool2d's indices": (lambda F, x, w: F.max_pool2d(x, 3, 2, return_indices=True)[1] * 1.0, None),
    "max_unpool2d": (lambda F, x, w: F.max_unpool2d(*F.max_pool2d(x, 2, return_indices=True), 2), None),
    "avg_pool2d": (lambda F, x, w: F.avg_pool2d(x, 3, 2, padding=1), None),
    "adaptive_avg_pool2d": (lambda F, x, w: F.adaptive_avg_pool2d(x, (2, 3)), None),
    "adaptive_max_pool2d": (lambda F, x, w: F.adaptive_max_pool2d(x, (3, 2)), None),
}


@pytest.mark.parametrize("name", UNBATCHED)
def test_unbatched_inputs_work_as_in_torch(name, compare_with_torch):
    import torch.nn.functional as TF

    import minigrad.nn.functional as F

    fn, weight = UNBATCHED[name]
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 7, 6))
    arrays = [x] + ([rng.standard_normal(weight)] if weight else [])
    ours = (lambda a, w=None: fn(F, a, w)) if weight else (lambda a: fn(F, a, None))
    theirs = (lambda a, w=None: fn(TF, a, w)) if weight else (lambda a: fn(TF, a, None))
    out = ours(*[Tensor(a) for a in arrays])
    assert out.ndim == 3
    if name != "max_pool2d's indices":
        assert gradcheck(ours, arrays)
        compare_with_torch(ours, theirs, arrays, rng, rtol=1e-10, atol=1e-12)
    else:
        import torch

        np.testing.assert_array_equal(out.data, theirs(torch.tensor(x)).numpy())
