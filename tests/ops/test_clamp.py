"""clamp / clip: number and tensor bounds, PyTorch's gradient rule (boundaries included, min > max gives max),
dtypes, second derivatives and PyTorch."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor, gradcheck, gradgradcheck

rng = np.random.default_rng(0)
X = rng.uniform(-3, 3, (3, 4, 5))
LO, HI = rng.uniform(-2, 0, (4, 5)), rng.uniform(-1, 2, (5,))  # some HI < LO: the max wins there


@pytest.mark.parametrize("bounds", [(-1.0, 0.5), (None, 0.5), (-1.0, None), (1.0, -1.0)], ids=str)
def test_clamp_with_numbers_gradcheck_and_torch(bounds, compare_with_torch):
    lo, hi = bounds
    assert gradcheck(lambda x: x.clamp(lo, hi), [X])
    compare_with_torch(lambda x: x.clamp(lo, hi), lambda x: x.clamp(lo, hi), [X], rng, rtol=1e-14, atol=0)


@pytest.mark.parametrize("which", ["both", "min", "max"])
def test_clamp_with_tensors_gradcheck_and_torch(which, compare_with_torch):
    ours = {"both": lambda x, lo, hi: mg.clamp(x, lo, hi), "min": lambda x, lo: mg.clamp(x, min=lo),
            "max": lambda x, hi: x.clamp(max=hi)}[which]
    theirs = {"both": lambda x, lo, hi: x.clamp(lo, hi), "min": lambda x, lo: x.clamp(min=lo),
              "max": lambda x, hi: x.clamp(max=hi)}[which]
    arrays = {"both": [X, LO, HI], "min": [X, LO], "max": [X, HI]}[which]
    assert gradcheck(ours, arrays)
    small = [a[:1, :2] if a.ndim == 3 else a[:2] if a.ndim == 2 else a for a in arrays]
    assert gradgradcheck(lambda x, *bounds: ours(x, *bounds) * x * bounds[0], small)  # × x·bound: curvature
    compare_with_torch(ours, theirs, arrays, rng, rtol=1e-14, atol=0)


def test_clamp_values_ties_and_nan():
    x = Tensor(np.array([0.0, 2.0, 5.0, -3.0, np.nan]), requires_grad=True)
    y = x.clip(0.0, 2.0)
    assert np.array_equal(y.data, [0.0, 2.0, 2.0, 0.0, np.nan], equal_nan=True)
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 0.0, 0.0, 0.0]  # boundaries included; NaN stays NaN and gets nothing
    assert y._gate.name == "clamp" and y._inputs == (x,)


def test_clamp_dtypes_follow_torch():
    i = Tensor(np.arange(5))
    assert i.clamp(1, 3).dtype == np.int64 and i.clamp(1, 3).tolist() == [1, 1, 2, 3, 3]
    assert i.clamp(0.5).dtype == np.float32
    f = Tensor(np.ones(3, np.float32))
    assert f.clamp(np.float64(0.0), 0.5).dtype == np.float32


def test_clamp_bad_arguments():
    with pytest.raises(ValueError, match="clamp: at least one of min and max must be given"):
        mg.clamp(Tensor(X))
    with pytest.raises(TypeError, match="clamp: min must be a number, a Tensor or None, got 'a'"):
        Tensor(X).clamp("a")
    with pytest.raises(ValueError, match=r"clamp: shapes \(3, 4, 5\) and \(2,\) cannot be broadcast together"):
        Tensor(X).clamp(Tensor(np.zeros(2)))


# -- the in-place and one-sided forms (the audit of issue 17) --

def test_clamp_min_clamp_max_and_the_in_place_forms_as_torch(torch_on_one_thread):
    x = Tensor(X.copy(), requires_grad=True)
    np.testing.assert_array_equal(x.clamp_min(0.5).data, np.maximum(X, 0.5))
    np.testing.assert_array_equal(x.clamp_max(Tensor(X[0])).data, np.minimum(X, X[0]))
    assert gradcheck(lambda t: t.clamp_min(0.3) + t.clamp_max(-0.2), [X])
    y = Tensor(X.copy())
    assert y.clamp_(-1, 1) is y and y.data.max() <= 1 and y._version == 1
    z = Tensor(X.copy())
    z.clip_(min=0)
    np.testing.assert_array_equal(z.data, np.clip(X, 0, None))
    if torch_on_one_thread is not None:
        t = torch_on_one_thread.tensor(X.copy())
        t.clamp_(-1, 1)
        np.testing.assert_array_equal(y.data, t.numpy())
    with pytest.raises(RuntimeError, match="clamp_: cannot change in place a tensor that requires grad"):
        x.clamp_(0, 1)
    with mg.no_grad():
        x.clamp_(0, 1)
    with pytest.raises(TypeError, match="clamp_: the result has dtype float32 and cannot be stored in this int64"):
        Tensor(np.arange(3)).clamp_(0.5, 1.5)
