"""mg.Function: a gate written the PyTorch way behaves exactly like a built-in one."""
import re
import threading

import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor
from minigrad.core.engine import GraphFreedError


class Cube(mg.Function):
    formula = "dL/dx = 3x² · dL/dy"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x**2 * grad


class Swish(mg.Function):
    """swish(x) = x·σ(x); dL/dx = (σ + x·σ(1 − σ))·dL/dy."""

    formula = "dL/dx = (σ(x) + x·σ(x)(1 − σ(x))) · dL/dy"

    @staticmethod
    def forward(ctx, x):
        s = 1 / (1 + np.exp(-x))
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved_tensors
        return (s + x * s * (1 - s)) * grad


def test_a_user_gate_backprops_like_a_built_in_one():
    t = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = Cube.apply(t)
    assert y.tolist() == [1.0, -8.0, 27.0] and y._gate.name == "Cube"
    y.sum().backward()
    assert t.grad.tolist() == [3.0, 12.0, 27.0]


def test_a_user_gate_passes_gradcheck_at_every_index():
    assert mg.gradcheck(lambda x: Swish.apply(x), [np.random.default_rng(0).standard_normal((3, 4))])
    assert mg.gradcheck(lambda x: Cube.apply(x).sum(), [np.random.default_rng(1).standard_normal(5)])


def test_its_formula_is_what_steps_and_drawings_print():
    t = Tensor([1.0, 2.0], requires_grad=True)
    steps = list(Cube.apply(t).sum().backward_steps())
    cube = [s for s in steps if s.gate == "Cube"][0]
    assert cube.formula == "dL/dx = 3x² · dL/dy" and cube.local == ("dL/dx = 3x² · dL/dy",)
    assert "Cube: upstream [1.0, 1.0] × local (dL/dx = 3x² · dL/dy) = downstream ([3.0, 12.0])" == str(cube)
    t2 = Tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(t2).sum()
    y.backward(retain_graph=True)
    source = mg.draw(y).source
    assert "made by Cube: dL/dx = 3x² · dL/dy" in source  # the node's tooltip
    assert "dL/dx = 3x² · dL/dy<br/>= [3.0, 12.0]  (upstream [1.0, 1.0])" in source  # the edge: the rule, then its value


def test_several_inputs_with_none_for_an_input_that_needs_no_gradient():
    class ScaledAdd(mg.Function):
        formula = ("dL/da = dL/dy", "dL/db = k · dL/dy")

        @staticmethod
        def forward(ctx, a, b, k=2.0):
            ctx.k = k
            return a + k * b

        @staticmethod
        def backward(ctx, grad):
            return grad, ctx.k * grad

    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0])
    y = ScaledAdd.apply(a, b, k=3.0)
    assert y.tolist() == [10.0, 14.0]
    y.sum().backward()
    assert a.grad.tolist() == [1.0, 1.0] and b.grad is None
    assert y._gate.formula == "dL/da = dL/dy, dL/db = k · dL/dy"


def test_non_tensor_positional_arguments_pass_through_and_get_none():
    class Scale(mg.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.k = k
            return x * k

        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.k, None

    x = Tensor([1.0, 2.0], requires_grad=True)
    Scale.apply(x, 5.0).sum().backward()
    assert x.grad.tolist() == [5.0, 5.0]


def test_several_outputs_each_get_their_gradient_and_missing_ones_are_zeros():
    class SplitHalves(mg.Function):
        formula = "dL/dx = [dL/dlo, dL/dhi]"

        @staticmethod
        def forward(ctx, x):
            n = len(x) // 2
            return x[:n].copy(), x[n:].copy()

        @staticmethod
        def backward(ctx, g_lo, g_hi):
            return np.concatenate([g_lo, g_hi])

    x = Tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    lo, hi = SplitHalves.apply(x)
    assert lo.tolist() == [1.0, 2.0] and hi.tolist() == [3.0, 4.0]
    (lo * 2 + hi * 3).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 3.0, 3.0]
    x.grad = None
    lo, hi = SplitHalves.apply(x)
    (lo * 5).sum().backward()  # hi's gradient never arrives: zeros, as PyTorch
    assert x.grad.tolist() == [5.0, 5.0, 0.0, 0.0]


def test_a_user_gate_steps_breaks_and_frees_what_it_saved():
    t = Tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(t)
    gate = y._gate
    seen = []
    y.sum().backward(breakpoint=lambda step: seen.append(step.gate) and False)
    assert "Cube" in seen
    assert gate.released and gate.saved is None  # freed after backward, as a built-in gate's arrays
    with pytest.raises(GraphFreedError, match="Cube: trying to backward through the graph a second time"):
        y.sum().backward()


def test_a_user_gate_honours_no_grad_retain_graph_and_hooks():
    t = Tensor([1.0, 2.0], requires_grad=True)
    with mg.no_grad():
        y = Cube.apply(t)
    assert y._gate is None and not y.requires_grad
    y = Cube.apply(t)
    z = y.sum()
    z.backward(retain_graph=True)
    z.backward()
    assert t.grad.tolist() == [6.0, 24.0]  # two backward passes accumulate
    t.grad = None
    y = Cube.apply(t)
    y.register_hook(lambda g: g * 10)
    y.sum().backward()
    assert t.grad.tolist() == [30.0, 120.0]


def test_a_user_gate_is_checked_for_in_place_changes_of_what_it_saved():
    t = Tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(t * 1)
    x = y._inputs[0]
    with mg.no_grad():
        x.mul_(2)
    with pytest.raises(RuntimeError, match=r"Cube: input 0 \(shape \(2,\)\) was modified in place"):
        y.sum().backward()


def test_anomaly_mode_names_a_user_gate_and_the_users_line():
    class Reciprocal(mg.Function):
        formula = "dL/dx = −1/x² · dL/dy"

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            with np.errstate(divide="ignore"):
                return 1 / x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return -grad / x**2

    t = Tensor([0.0, 1.0], requires_grad=True)
    with pytest.raises(mg.AnomalyError, match=r"^Reciprocal produced inf in forward \(created at .*test_function.py"):
        with mg.detect_anomaly():
            Reciprocal.apply(t)


# -- bad definitions: clear errors at the call --------------------------------------------------------


def test_backward_returning_the_wrong_number_of_gradients():
    class Bad(mg.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, grad):
            return grad

    y = Bad.apply(Tensor([1.0], requires_grad=True), Tensor([2.0], requires_grad=True))
    with pytest.raises(TypeError, match="Bad: backward returned 1 gradient but forward took 2 inputs"):
        y.backward()


def test_backward_returning_a_gradient_of_the_wrong_shape():
    class Bad(mg.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return np.ones(3)

    y = Bad.apply(Tensor(np.ones((2, 3)), requires_grad=True))
    with pytest.raises(ValueError, match=r"Bad: backward returned a gradient of shape \(3,\) for input 0, which has "
                                         r"shape \(2, 3\)"):
        y.backward(np.ones((2, 3)))


def test_a_broadcast_gradient_is_summed_back_as_for_built_in_gates():
    class Spread(mg.Function):
        @staticmethod
        def forward(ctx, b):
            return np.broadcast_to(b, (4, 3)).copy()

        @staticmethod
        def backward(ctx, grad):
            return grad  # (4, 3) for an input of shape (3,): summed over the rows

    b = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    Spread.apply(b).sum().backward()
    assert b.grad.tolist() == [4.0, 4.0, 4.0]


def test_forward_returning_something_that_is_not_an_array():
    class Listy(mg.Function):
        @staticmethod
        def forward(ctx, x):
            return x.tolist()

    with pytest.raises(TypeError, match="Listy.forward returned list; forward works on numpy arrays"):
        Listy.apply(Tensor([1.0], requires_grad=True))

    class Tensory(mg.Function):
        @staticmethod
        def forward(ctx, x):
            return Tensor(x)

    with pytest.raises(TypeError, match="Tensory.forward returned a minigrad Tensor"):
        Tensory.apply(Tensor([1.0], requires_grad=True))


def test_backward_returning_a_tensor_or_a_list_is_a_clear_error():
    class Bad(mg.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return [grad.tolist()]

    with pytest.raises(TypeError, match="Bad: backward returned list for input 0; return a numpy array"):
        Bad.apply(Tensor([1.0], requires_grad=True)).backward()


def test_a_formula_of_the_wrong_type_fails_when_the_class_is_defined():
    with pytest.raises(TypeError, match="Odd.formula must be a string, or a tuple with one string per input"):
        class Odd(mg.Function):
            formula = 3


def test_a_formula_tuple_of_the_wrong_length_fails_when_the_class_is_defined():
    with pytest.raises(TypeError, match=r"Pair.formula has 3 strings but Pair.forward takes 2 inputs"):
        class Pair(mg.Function):
            formula = ("dL/da = b · dL/dy", "dL/db = a · dL/dy", "dL/dc = 0")

            @staticmethod
            def forward(ctx, a, b):
                return a * b


@pytest.mark.parametrize("formula", ["dL/dx = 3x\x00 · dL/dy", ("dL/da = b", "dL/db = a\x1b[31m")])
def test_a_formula_with_a_control_character_fails_when_the_class_is_defined(formula):
    """A NUL reached dot, which failed with a CalledProcessError when the graph was drawn."""
    bad = "\x00" if isinstance(formula, str) else "\x1b"
    given = formula
    message = f"Ctl.formula holds the control character {bad!r} (U+{ord(bad):04X})"
    with pytest.raises(ValueError, match=re.escape(message)):
        class Ctl(mg.Function):
            formula = given

            @staticmethod
            def forward(ctx, a, b=None):
                return a

    class Fine(mg.Function):  # a newline and a tab are drawn as they are
        formula = "dL/dx =\t3x²\n· dL/dy"


def test_a_gradient_for_an_argument_that_is_not_a_tensor_is_an_error():
    class Scale(mg.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.k = k
            return x * k

        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.k, grad  # a gradient for k, a float

    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"Scale: backward returned a gradient for argument 1 of forward, which is "
                                        r"not a Tensor \(float\); return None for it"):
        Scale.apply(x, 5.0).sum().backward()


def test_reading_saved_tensors_that_were_never_saved_says_so():
    class Forgetful(mg.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * grad

    with pytest.raises(ValueError) as caught:
        Forgetful.apply(Tensor([1.0], requires_grad=True)).sum().backward()
    assert "Forgetful: forward saved nothing (ctx.save_for_backward was not called)" in "\n".join(caught.value.__notes__)

    class Indexing(mg.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return ctx.saved_tensors[0] * grad

    class SavedOne(mg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            x, y = ctx.saved_tensors
            return 2 * grad

    for gate, kind, kept in ((Indexing, IndexError, "nothing"), (SavedOne, ValueError, "1 array")):
        with pytest.raises(kind) as caught:
            gate.apply(Tensor([1.0], requires_grad=True)).sum().backward()
        assert f"{gate.__name__}: forward saved {kept}" in "\n".join(caught.value.__notes__)


def test_built_in_gates_are_functions_too():
    x = Tensor([1.0, 2.0], requires_grad=True)
    for y in (x * x, x.exp(), x @ x, x.sum(), x.reshape(2, 1)):
        assert isinstance(y._gate, mg.Function)
    assert mg.Function.__module__ == "minigrad.core.function"


def test_modes_are_per_thread():
    inside, errors = threading.Event(), []

    def other():
        with mg.no_grad():
            inside.set()
            done.wait(5)

    done = threading.Event()
    worker = threading.Thread(target=other)
    worker.start()
    inside.wait(5)
    try:
        x = Tensor([1.0], requires_grad=True)
        assert mg.is_grad_enabled() and (x * 2).requires_grad  # this thread still builds graphs
        with mg.detect_anomaly():
            pass
    except Exception as exc:  # noqa: BLE001 -- reported below, after the worker is released
        errors.append(exc)
    finally:
        done.set()
        worker.join(5)
    assert not errors
