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


# -- naming the broken gate ---------------------------------------------------------------------------


class LeakyCube(Function):
    """x³ whose backward forgets the factor 3: a deliberate bug in one gate of a model."""

    formula = "dL/dx = x² · dL/dy"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return x**2 * grad  # should be 3·x²


def test_gradcheck_names_the_first_gate_whose_rule_disagrees_with_its_line():
    import minigrad.nn.functional as F

    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 3))

    def model(x, w):
        h = F.linear(x, w)
        h = LeakyCube.apply(h)  # the broken gate
        return h.relu().sum()

    with pytest.raises(GradcheckError) as caught:
        gradcheck(model, [rng.standard_normal((2, 3)), w])
    error = caught.value
    message = str(error)
    assert error.gate == "LeakyCube" and error.site is not None and "h = LeakyCube.apply(h)" in error.site
    assert "the first gate whose rule disagrees is LeakyCube (created at " in message
    assert "test_debug.py" in message and "its rule: dL/dx = x² · dL/dy" in message
    assert "linear" not in message.split("the first gate")[1].split("(created")[0]  # linear is fine


def test_gradcheck_gates_checks_any_graph_and_passes_correct_ones():
    import minigrad as mg
    import minigrad.nn.functional as F

    rng = np.random.default_rng(1)
    x = Tensor(rng.standard_normal((2, 1, 5, 5)), requires_grad=True)
    w = Tensor(rng.standard_normal((3, 1, 3, 3)), requires_grad=True)
    y = F.max_pool2d(F.conv2d(x, w, padding=1).tanh(), 2).sum()
    assert mg.gradcheck_gates(y) is True
    a, b = mg.Value(1.5), mg.Value(-0.5)
    assert mg.gradcheck_gates((a * b + a.exp()).tanh()) is True
    bad = LeakyCube.apply(Tensor(rng.standard_normal(3), requires_grad=True)).sum()
    with pytest.raises(GradcheckError, match=r"is LeakyCube: input 0 at index \(0,\), its backward sends"):
        mg.gradcheck_gates(bad)


def test_two_identical_nans_are_not_a_mismatch():
    class NanAtZero(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, grad):
            return grad * 1.0

    # d/dx sqrt(x) at x = 0 is infinite on the right and undefined on the left: numeric is nan (sqrt of −eps)
    # and so is analytic 1/(2·0)... inf; with nan on both sides the check passes
    from minigrad.debug.gradcheck import _differs

    assert _differs(float("nan"), float("nan"), 1e-5, 1e-3) == 0.0
    assert _differs(1.0, float("nan"), 1e-5, 1e-3) > 0
    assert _differs(float("inf"), float("inf"), 1e-5, 1e-3) == 0.0
    assert gradcheck(lambda x: NanAtZero.apply(x).sum(), [np.array([0.5, 2.0])])


def test_when_every_gate_is_right_gradcheck_says_so():
    import minigrad as mg
    import minigrad.nn.functional as F

    # dropout draws a new mask at every call, so central differences of fn mean nothing; each gate,
    # run again with the mask it drew, is right
    mg.manual_seed(0)
    with pytest.raises(GradcheckError, match="every gate's own rule agrees with central differences.*dropout"):
        gradcheck(lambda x: F.dropout(x * 2.0, 0.5).sum(), [np.linspace(-1, 1, 8)])
