"""Factories and the one package-wide random generator."""
import numpy as np
import pytest

import minigrad as mg


def test_factories_take_the_shape_as_args_or_a_tuple():
    assert mg.zeros(2, 3).shape == (2, 3) and mg.zeros((2, 3)).shape == (2, 3)
    assert mg.ones(4).data.tolist() == [1.0] * 4 and mg.ones(4).dtype == np.float32
    assert mg.randn(2, 2, requires_grad=True).requires_grad
    assert mg.full((2,), 7.0).tolist() == [7.0, 7.0]
    r = mg.rand(1000)
    assert 0.0 <= r.data.min() and r.data.max() < 1.0


def test_arange_follows_torch_dtypes():
    assert mg.arange(4).tolist() == [0, 1, 2, 3] and mg.arange(4).dtype == np.int64
    assert mg.arange(0.0, 1.0, 0.5).dtype == np.float32
    assert mg.arange(2, 8, 3).tolist() == [2, 5]


def test_manual_seed_repeats_every_draw():
    mg.manual_seed(123)
    a = (mg.randn(3).data, mg.rand(2).data)
    mg.manual_seed(123)
    b = (mg.randn(3).data, mg.rand(2).data)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert mg.rng() is mg.rng()


def test_bad_shapes_are_clear_errors():
    with pytest.raises(ValueError, match="zeros: the shape must be non-negative integers"):
        mg.zeros(-1)


@pytest.mark.parametrize("make, message", [
    (lambda: mg.randn(2, dtype="bogus"), "randn: dtype 'bogus' is not a data type"),
    (lambda: mg.rand(2, dtype="str"), r"rand: its values are floats \(as in PyTorch\), not <U0"),
    (lambda: mg.randn(2, dtype="int64"), r"randn: its values are floats \(as in PyTorch\), not int64"),
    (lambda: mg.arange(3, dtype="str"), "arange: tensors hold booleans, integers or floats, not <U0"),
    (lambda: mg.zeros(2, dtype="complex64"), "zeros: tensors hold booleans, integers or floats, not complex64"),
    (lambda: mg.full((2,), 1.0, dtype=object), "full: tensors hold booleans, integers or floats, not object"),
    (lambda: mg.full((2,), np.complex128(1 + 2j)), r"full: the fill value must be a real number.*value\.real"),
    (lambda: mg.full((2,), 1 + 2j), "full: the fill value must be a real number"),
    (lambda: mg.arange(np.complex128(3)), "arange: end must be a real number"),
    (lambda: mg.ones(2).astype("str"), "astype: tensors hold booleans, integers or floats, not <U0"),
])
def test_every_factory_checks_its_dtype_and_refuses_complex_by_name(make, message):
    """randn and arange passed a bad dtype to numpy (its message), rand hinted array.astype for an array the user
    never made, and full cut a complex value to its real part with only numpy's ComplexWarning."""
    with pytest.raises(TypeError, match=message):
        make()
