"""What backward records after a plain backward(): every freed gradient's shape, dtype, norm, min and max --
the numbers the drawings and the explorer show at every step -- each gradient summarized once."""
import gc
import math
import weakref

import numpy as np

from minigrad import Tensor
from minigrad.core import records


def _chain(retain):
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((8, 6)).astype(np.float32), requires_grad=True, label="x")
    w = Tensor(rng.standard_normal((6, 5)).astype(np.float32), requires_grad=True, label="w")
    h = (x @ w).tanh()
    y = (h * h).sum()
    y.backward(retain_graph=retain)
    return x, w, h, y


def test_a_freed_gradient_keeps_its_norm_min_and_max():
    kept = _chain(retain=True)
    freed = _chain(retain=False)
    for a, b in zip(kept, freed):
        if a._g is None or np.size(a._g) <= records.SMALL:
            continue
        whole, summary = np.asarray(a._g), b._g
        assert isinstance(summary, records.Summary) and summary.shape == whole.shape and summary.dtype == whole.dtype
        flat = whole.reshape(-1)
        assert summary.norm == math.sqrt(float(np.dot(flat, flat)))
        assert summary.min == float(whole.min()) and summary.max == float(whole.max())
        assert summary.nonfinite == 0
    x, w, h, y = freed
    xw = h._inputs[0]
    assert xw._g is h._rec[0]  # what tanh sent to x @ w is all x @ w got: one Summary for both records


def test_nan_and_infinity_are_counted_and_left_out_of_the_statistics():
    g = np.array([1.0, np.nan, -3.0, np.inf] + [0.5] * 20, dtype=np.float32)
    s = records.Summary(g)
    assert math.isnan(s.norm) and s.nonfinite == 2
    assert (s.min, s.max) == (-3.0, 1.0)
    with np.errstate(over="ignore"):  # squares past float32's range: the norm again in float64
        big = records.Summary(np.full(20, 1e30, dtype=np.float32))
    assert big.nonfinite == 0 and math.isclose(big.norm, math.sqrt(20) * 1e30, rel_tol=1e-6)
    empty = records.Summary(np.zeros((0, 3), np.float32))
    assert empty.norm == 0.0 and empty.min is None


def test_a_summary_is_reused_only_for_the_same_array_and_keeps_none_alive():
    records.new_pass()
    a = np.ones(32, np.float32)
    first = records.summary(a)
    assert records.summary(a) is first  # the same array: summarized once
    alive = weakref.ref(a)
    del a
    gc.collect()
    assert alive() is None  # the pass's memo holds no array
    b = np.full(32, 2.0, np.float32)  # may reuse the freed array's id
    assert records.summary(b).max == 2.0
    records.new_pass()
    assert records.summary(b) is not records.summary(np.full(32, 2.0, np.float32))
