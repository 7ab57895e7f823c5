"""gradcheck itself: it passes correct gates, catches a wrong one, and refuses bad input."""
import numpy as np
import pytest

from minigrad import Tensor, gradcheck
from minigrad.debug import GradcheckError
from minigrad.core.function import Function


class WrongSquare(Function):
    """x² with a deliberately wrong local gradient (x instead of 2x)."""

    name = "wrong_square"

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a * a

    @staticmethod
    def backward(ctx, up):
        return up * ctx.saved_tensors[0]


def test_gradcheck_passes_a_correct_function():
    assert gradcheck(lambda x: (x * x).sum(), [np.array([1.0, -2.0, 3.0])]) is True


def test_gradcheck_catches_a_wrong_gradient_and_names_the_worst_index():
    with pytest.raises(GradcheckError, match=r"input 0 \(shape \(3,\)\) at index \(2,\): analytic 3 vs numeric 6"):
        gradcheck(lambda x: WrongSquare.apply(x).sum(), [np.array([1.0, -2.0, 3.0])])


def test_gradcheck_checks_every_index():
    calls = []

    def f(x):
        calls.append(1)
        return x * 2

    gradcheck(f, [np.zeros((3, 4))])
    assert len(calls) == 1 + 2 * 12


def test_gradcheck_uses_float64_copies():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    seen = []
    gradcheck(lambda t: seen.append(t.dtype) or t * 2, [x])
    assert seen[0] == np.float64 and x.grad is None


def test_only_tensors_requiring_grad_are_checked():
    const = Tensor(np.ones(3))
    assert gradcheck(lambda x, c: x * c, [Tensor(np.ones(3), requires_grad=True), const])
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(lambda c: c * 2, [const])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_gradcheck_refuses_non_finite_inputs(bad):
    with pytest.raises(ValueError, match=r"input 0 holds (nan|inf) at index \(1,\); central differences need finite inputs"):
        gradcheck(lambda x: x * 2, [np.array([1.0, bad])])
