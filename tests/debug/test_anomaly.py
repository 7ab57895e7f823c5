"""Anomaly mode: the first NaN/Inf in forward or backward raises, naming the gate and the user's line."""
import inspect

import numpy as np
import pytest

import minigrad
from minigrad import Tensor, Value, engine
from minigrad.debug import AnomalyError, detect_anomaly


def here():
    """The line number of the caller's next line."""
    return inspect.currentframe().f_back.f_lineno + 1


def test_log_of_minus_one_names_log_and_this_line():
    x = Tensor([2.0, -1.0], requires_grad=True)
    with pytest.raises(FloatingPointError) as caught:
        with minigrad.detect_anomaly():
            line = here()
            y = x.log()
    message = str(caught.value)
    assert message.startswith("log produced nan in forward (created at ")
    assert f"test_anomaly.py:{line}: y = x.log())" in message  # tests/test_anomaly.py when run from the repo
    assert isinstance(caught.value, AnomalyError)
    assert (caught.value.gate, caught.value.phase) == ("log", "forward")


def test_the_first_bad_gate_is_named_not_a_later_one():
    x = Tensor([-1.0], requires_grad=True)
    with pytest.raises(AnomalyError, match=r"^log produced nan in forward"):
        with detect_anomaly():
            (x.log() * 2).exp()


def test_sqrt_at_zero_is_fine_forward_and_raises_in_backward():
    x = Tensor([0.0, 4.0], requires_grad=True)
    with detect_anomaly():
        line = here()
        y = x.sqrt()
        assert y.data.tolist() == [0.0, 2.0]  # sqrt(0) = 0: no anomaly yet
        with pytest.raises(AnomalyError) as caught:
            y.sum().backward()
    message = str(caught.value)
    assert message.startswith("sqrt produced inf in backward while sending the gradient to input 0 (created at ")
    assert f"test_anomaly.py:{line}: y = x.sqrt())" in message
    assert (caught.value.gate, caught.value.phase, caught.value.input) == ("sqrt", "backward", 0)


def test_outside_the_mode_nothing_raises_and_no_site_is_recorded():
    x = Tensor([0.0, -1.0], requires_grad=True)
    y = x.log()
    assert np.isnan(y.data[1]) and y._site is None
    s = x.sqrt()
    s.sum().backward()
    assert np.isinf(x.grad[0])
    with detect_anomaly():
        z = x * 2
    assert z._site is not None and z._site[1] > 0
    w = x * 2
    assert w._site is None


def test_modes_nest_and_restore_the_previous_state():
    assert engine.modes.anomaly is None
    with detect_anomaly():
        with detect_anomaly(False):
            assert engine.modes.anomaly is None
            Tensor([-1.0], requires_grad=True).log()  # off in here: no error
        assert engine.modes.anomaly is not None
        with detect_anomaly():
            assert engine.modes.anomaly is not None
        assert engine.modes.anomaly is not None
    assert engine.modes.anomaly is None


def test_the_state_is_restored_when_the_block_raises():
    with pytest.raises(AnomalyError):
        with detect_anomaly():
            Tensor([0.0], requires_grad=True).log()
    assert engine.modes.anomaly is None
    Tensor([0.0], requires_grad=True).log()  # off again: no error


def test_as_a_decorator():
    @detect_anomaly()
    def f(x):
        return x.log()

    with pytest.raises(AnomalyError, match="^log produced -inf in forward"):
        f(Tensor([0.0], requires_grad=True))
    assert engine.modes.anomaly is None


def test_bad_data_coming_in_is_reported_as_such():
    x = Tensor([np.nan, 1.0], requires_grad=True)
    with pytest.raises(AnomalyError, match="its input 0 already held nan"):
        with detect_anomaly():
            x * 2


def test_scalar_forward_overflow_names_the_gate_and_this_line():
    a = Value(1e200)
    with detect_anomaly():
        with pytest.raises(AnomalyError, match=r"^mul produced inf in forward \(created at .*test_anomaly.py:\d+: b = a \* a"):
            b = a * a
    b = a * a  # outside the mode: inf, unchecked
    assert b.data == float("inf")


def test_scalar_backward_anomaly_names_the_gate_and_the_line():
    x, k = Value(1e-200), Value(1e200)
    with detect_anomaly():
        y = x * k  # 1.0
        z = y * 1e300  # 1e300: every value is finite
        # backward: dz/dy = 1e300, then y's gate sends k · 1e300 = inf to x
        with pytest.raises(AnomalyError, match=r"^mul produced inf in backward while sending the gradient to input 0 "
                                               r"\(created at .*test_anomaly.py:\d+: y = x \* k"):
            z.backward()


def test_both_spellings_are_the_same_thing():
    assert minigrad.detect_anomaly is minigrad.debug.detect_anomaly
    assert issubclass(minigrad.AnomalyError, FloatingPointError)
