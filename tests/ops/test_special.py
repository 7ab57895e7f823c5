"""erf (numpy has none): values against math.erf and math.erfc over the whole line, its gate's first and second
derivatives, and PyTorch."""
import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor
from minigrad.ops.special import erf_array, erfc_array

rng = np.random.default_rng(0)


def test_erf_and_erfc_agree_with_math_to_double_precision():
    x = np.concatenate([np.linspace(-30, 30, 60001), [0.0, -0.0, 1e-300, 1.5, -1.5, 5e-9]])
    ref = np.array([math.erf(v) for v in x])
    ref_c = np.array([math.erfc(v) for v in x])
    assert np.max(np.abs(erf_array(x) - ref) / np.maximum(np.abs(ref), 1e-300)) < 1e-15
    kept = ref_c > 1e-290  # erfc keeps its relative accuracy deep into the tail
    assert np.max(np.abs(erfc_array(x)[kept] - ref_c[kept]) / ref_c[kept]) < 2e-14


def test_erf_at_the_ends_and_of_nan():
    out = erf_array(np.array([np.inf, -np.inf, np.nan, 40.0]))
    assert out[0] == 1.0 and out[1] == -1.0 and np.isnan(out[2]) and out[3] == 1.0
    assert erfc_array(np.array([np.inf, -np.inf])).tolist() == [0.0, 2.0]
    assert erf_array(np.float32(0.5)).dtype == np.float32 and isinstance(erf_array(0.5), float)


def test_erf_gate_first_and_second_derivatives():
    x = rng.uniform(-2.5, 2.5, (3, 4))
    assert mg.gradcheck(lambda t: t.erf(), [x])
    assert mg.gradgradcheck(lambda t: mg.erf(t), [x])
    y = Tensor(x, requires_grad=True).erf()
    assert y._gate.name == "erf" and mg.erf(np.arange(3)).dtype == np.float32


def test_erf_matches_pytorch(compare_with_torch):
    compare_with_torch(lambda t: t.erf(), lambda t: t.erf(), [rng.uniform(-4, 4, (5, 6))], rng, rtol=1e-13, atol=1e-15)


def test_erf_refuses_what_is_not_a_tensor():
    with pytest.raises(TypeError, match="erf: input must be a Tensor or a numpy array, got str"):
        mg.erf("x")
