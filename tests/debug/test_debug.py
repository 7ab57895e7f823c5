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


def test_gradcheck_gates_on_scalar_graphs_with_plain_numbers():
    import minigrad as mg
    from minigrad.app import lectures

    v = mg.Value(1.5)
    for y in (v * 3, 2 - v, v + 1, v.max(1.0), (v * 2.0 + 1.0).tanh()):
        assert mg.gradcheck_gates(y) is True
    f, _ = lectures.neuron_gates()
    assert mg.gradcheck_gates(f) is True


def test_gradcheck_gates_after_a_plain_backward_says_the_graph_was_freed():
    import minigrad as mg
    from minigrad.core.engine import GraphFreedError

    bad = LeakyCube.apply(Tensor(np.array([1.0, 2.0]), requires_grad=True)).sum()
    bad.backward()
    with pytest.raises(GraphFreedError, match=r"gradcheck_gates: LeakyCube .* freed what it saved .* backward\(retain_graph=True\)"):
        mg.gradcheck_gates(bad)
    kept = LeakyCube.apply(Tensor(np.array([1.0, 2.0]), requires_grad=True)).sum()
    kept.backward(retain_graph=True)
    with pytest.raises(GradcheckError, match="is LeakyCube"):
        mg.gradcheck_gates(kept)


class WrongPair(Function):
    """Two outputs, (2x, x²), whose backward gets the second output's rule wrong (x instead of 2x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 2 * x, x * x

    @staticmethod
    def backward(ctx, g1, g2):
        (x,) = ctx.saved_tensors
        return 2 * g1 + x * g2


def test_a_gate_with_several_outputs_is_checked_and_named():
    import minigrad as mg

    def fn(x):
        a, b = WrongPair.apply(x)
        return (a + b).sum()

    with pytest.raises(GradcheckError) as caught:
        gradcheck(fn, [np.array([0.5, -1.5, 2.0])])
    assert caught.value.gate == "WrongPair"
    a, b = WrongPair.apply(Tensor(np.array([0.5, 2.0]), requires_grad=True))
    with pytest.raises(GradcheckError, match="is WrongPair"):
        mg.gradcheck_gates((a * b).sum())


class WrongLog(Function):
    """log(x) with a wrong rule (2/x): NaN where x < 0, so a NaN output must not hide the wrong rule."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(invalid="ignore"):
            return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 / x * grad


def test_a_gate_with_a_nan_output_is_still_checked_on_the_rest():
    import minigrad as mg

    x = Tensor(np.array([-1.0, 2.0, 3.0]), requires_grad=True)
    with pytest.raises(GradcheckError, match=r"is WrongLog: input 0 at index \(1,\)") as caught:
        mg.gradcheck_gates(WrongLog.apply(x))
    assert caught.value.gate == "WrongLog"
    # a right rule whose gradient is NaN where its output is (sqrt below 0): no mismatch
    y = Tensor(np.array([-1.0, 4.0]), requires_grad=True).sqrt()
    assert mg.gradcheck_gates(y) is True


def test_gradcheck_refuses_bad_tolerances_and_takes_one_input_as_pytorch_does():
    import minigrad as mg

    with pytest.raises(ValueError, match=r"gradcheck: eps must be a positive finite number .* got 0"):
        gradcheck(lambda x: x.sum(), [np.ones(2)], eps=0)
    with pytest.raises(TypeError, match=r"gradcheck: eps must be a number, got 'a'"):
        gradcheck(lambda x: x.sum(), [np.ones(2)], eps="a")
    with pytest.raises(ValueError, match=r"gradgradcheck: rtol must be a finite number ≥ 0, got -1"):
        mg.gradgradcheck(lambda x: (x * x).sum(), [np.ones(2)], rtol=-1)
    with pytest.raises(TypeError, match=r"gradcheck: inputs must be a Tensor, an array, or a list or tuple"):
        gradcheck(lambda x: x.sum(), 3)
    assert gradcheck(lambda x: (x * x).sum(), np.array([1.0, 2.0])) is True


@pytest.mark.parametrize("check", ["gradcheck", "gradgradcheck"])
def test_a_function_that_is_not_one_or_inputs_that_are_not_tensors_are_named_by_the_check(check):
    """gradcheck(3, ...) and gradgradcheck(3, ...) had no test; gradgradcheck's bad inputs were named gradcheck's."""
    import minigrad as mg

    run = getattr(mg, check)
    with pytest.raises(TypeError, match=rf"^{check}: fn must be a function of the inputs, got int"):
        run(3, [np.ones(2)])
    with pytest.raises(TypeError, match=rf"^{check}: inputs must be a Tensor, an array, or a list or tuple of them, "
                                        rf"got str"):
        run(lambda x: (x * x).sum(), "a")
    with pytest.raises(ValueError, match=rf"^{check}: input 0 holds nan at index \(1,\)"):
        run(lambda x: (x * x).sum(), [np.array([1.0, np.nan])])


def test_when_every_gate_is_right_gradcheck_says_so():
    import minigrad as mg
    import minigrad.nn.functional as F

    # dropout draws a new mask at every call, so central differences of fn mean nothing; each gate,
    # run again with the mask it drew, is right
    mg.manual_seed(0)
    with pytest.raises(GradcheckError, match="every gate's own rule agrees with central differences.*dropout"):
        gradcheck(lambda x: F.dropout(x * 2.0, 0.5).sum(), [np.linspace(-1, 1, 8)])
