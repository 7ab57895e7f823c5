"""Higher-order gradients: create_graph, mg.autograd.grad, gradgradcheck -- against PyTorch and central differences."""
import sys

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import Tensor, Value
from minigrad.core.engine import GraphFreedError
from minigrad.core.function import HigherOrderError
from minigrad.debug.gradcheck import GradcheckError

rng = np.random.default_rng(0)


def both(torch, *arrays):
    """The same float64 arrays as minigrad and torch leaves."""
    return ([Tensor(a.copy(), requires_grad=True) for a in arrays],
            [torch.tensor(a.copy(), requires_grad=True) for a in arrays])


def close(ours, theirs, rtol=1e-8, atol=1e-10):
    np.testing.assert_allclose(np.asarray(ours, np.float64), theirs.detach().numpy(), rtol=rtol, atol=atol)


UNARY = {
    "exp": (lambda t: t.exp(), None), "log": (lambda t: t.log(), "positive"), "tanh": (lambda t: t.tanh(), None),
    "sigmoid": (lambda t: t.sigmoid(), None), "sqrt": (lambda t: t.sqrt(), "positive"),
    "relu": (lambda t: t.relu() * t, None), "abs": (lambda t: t.abs() * t, None),
    "neg": (lambda t: -(t * t), None), "pow 3": (lambda t: t**3, None), "pow -1.5": (lambda t: t**-1.5, "positive"),
    "softmax": (lambda t: F.softmax(t, 1) if isinstance(t, Tensor) else t.softmax(1), None),
    "log_softmax": (lambda t: F.log_softmax(t, 1) if isinstance(t, Tensor) else t.log_softmax(1), None),
    "sum·mean·var": (lambda t: t.sum(1) * t.mean(0).sum() + t.var(1).sum() if isinstance(t, Tensor)
                     else t.sum(1) * t.mean(0).sum() + t.var(1, unbiased=False).sum(), None),
    "max": (lambda t: (t * t).max(1) if isinstance(t, Tensor) else (t * t).amax(1), None),
    "reshape·permute·index": (lambda t: (t.reshape(4, 3).permute(1, 0)[1:, ::2] ** 2), None),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_second_derivatives_of_each_unary_gate_match_pytorch(name, torch_on_one_thread):
    torch = pytest.importorskip("torch") if torch_on_one_thread is None else torch_on_one_thread
    fn, domain = UNARY[name]
    x0 = rng.standard_normal((3, 4))
    if domain == "positive":
        x0 = np.abs(x0) + 0.5
    (x,), (tx,) = both(torch, x0)
    u = rng.standard_normal(x0.shape)
    (g,) = mg.autograd.grad(fn(x).sum(), [x], create_graph=True)
    (second,) = mg.autograd.grad((g * u).sum(), [x])
    (tg,) = torch.autograd.grad(fn(tx).sum(), [tx], create_graph=True)
    (tsecond,) = torch.autograd.grad((tg * torch.tensor(u)).sum(), [tx])
    close(g.data, tg)
    close(second, tsecond)


BINARY = {
    "mul": lambda a, b: a * b * a, "div": lambda a, b: a / b, "add·sub": lambda a, b: (a + b) * (a - b),
    "pow": lambda a, b: a**b, "maximum": lambda a, b: (mg.maximum(a, b) if isinstance(a, Tensor) else
                                                       __import__("torch").maximum(a, b)) * a,
    "matmul": lambda a, b: (a @ b.T).tanh(),
    "where": lambda a, b: (mg.where(a.data > 0, a * a, b * b * b) if isinstance(a, Tensor) else
                           __import__("torch").where(a > 0, a * a, b * b * b)),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_second_derivatives_of_each_binary_gate_match_pytorch(name, torch_on_one_thread):
    torch = pytest.importorskip("torch") if torch_on_one_thread is None else torch_on_one_thread
    fn = BINARY[name]
    a0, b0 = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    if name == "pow":
        a0 = np.abs(a0) + 0.5
    (a, b), (ta, tb) = both(torch, a0, b0)
    ga, gb = mg.autograd.grad(fn(a, b).sum(), [a, b], create_graph=True)
    second = mg.autograd.grad((ga * ga).sum() + (gb * ga).sum(), [a, b])
    tga, tgb = torch.autograd.grad(fn(ta, tb).sum(), [ta, tb], create_graph=True)
    tsecond = torch.autograd.grad((tga * tga).sum() + (tgb * tga).sum(), [ta, tb])
    for ours, theirs in zip(second, tsecond):
        close(ours, theirs)


def test_third_derivative_of_tanh_matches_pytorch(torch_on_one_thread):
    torch = pytest.importorskip("torch") if torch_on_one_thread is None else torch_on_one_thread
    (x,), (tx,) = both(torch, np.array([-1.5, -0.2, 0.0, 0.7, 2.0]))
    g1, = mg.autograd.grad(x.tanh().sum(), [x], create_graph=True)
    g2, = mg.autograd.grad(g1.sum(), [x], create_graph=True)
    g3, = mg.autograd.grad(g2.sum(), [x])
    t1, = torch.autograd.grad(tx.tanh().sum(), [tx], create_graph=True)
    t2, = torch.autograd.grad(t1.sum(), [tx], create_graph=True)
    t3, = torch.autograd.grad(t2.sum(), [tx])
    close(g3, t3)
    t = np.tanh(x.data)
    np.testing.assert_allclose(g3, -2 * (1 - t**2) ** 2 + 4 * t**2 * (1 - t**2), rtol=1e-12)


OPTIONS = {  # (minigrad, torch) of the same function, and the input shapes
    "conv_transpose2d groups 2 dilation 2": (
        lambda F, x, w: F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1, groups=2, dilation=2).tanh(),
        [(1, 4, 3, 3), (4, 3, 3, 3)]),
    "max_pool2d dilation 2": (lambda F, x: F.max_pool2d(x * x, 2, stride=1, dilation=2), [(1, 2, 5, 5)]),
    "avg_pool2d divisor_override 3": (lambda F, x: F.avg_pool2d(x * x, 2, stride=1, padding=1, divisor_override=3),
                                      [(1, 2, 4, 4)]),
}


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_second_derivatives_with_the_gates_options_match_pytorch(name, torch_on_one_thread):
    torch = pytest.importorskip("torch") if torch_on_one_thread is None else torch_on_one_thread
    fn, shapes = OPTIONS[name]
    r = np.random.default_rng(len(name))
    arrays = [r.standard_normal(s) for s in shapes]
    xs, txs = both(torch, *arrays)
    out, tout = fn(F, *xs), fn(torch.nn.functional, *txs)
    w = r.standard_normal(tout.shape)
    grads = mg.autograd.grad((out * w).sum(), xs, create_graph=True)
    tgrads = torch.autograd.grad((tout * torch.tensor(w)).sum(), txs, create_graph=True)
    us = [r.standard_normal(s) for s in shapes]
    penalty = sum(((g * u).sum() + 0.1 * (g * g).sum() for g, u in zip(grads, us)), Tensor(0.0))
    tpenalty = sum((g * torch.tensor(u)).sum() + 0.1 * (g * g).sum() for g, u in zip(tgrads, us))
    second = mg.autograd.grad(penalty, xs, allow_unused=True)
    tsecond = torch.autograd.grad(tpenalty, txs, allow_unused=True, materialize_grads=True)
    for g, tg in zip(grads, tgrads):
        close(g.data, tg)
    for ours, theirs in zip(second, tsecond):
        close(np.zeros(theirs.shape) if ours is None else ours, theirs)


@pytest.mark.parametrize("name", ["sigmoid", "exp"])
def test_third_derivatives_of_sigmoid_and_exp_match_pytorch_for_tensors_and_values(name, torch_on_one_thread):
    torch = pytest.importorskip("torch") if torch_on_one_thread is None else torch_on_one_thread
    fn = (lambda t: t.sigmoid()) if name == "sigmoid" else (lambda t: (t * 0.5).exp())
    points = np.array([-2.0, -0.3, 0.0, 0.8, 1.7])
    (x,), (tx,) = both(torch, points)
    g1, = mg.autograd.grad(fn(x).sum(), [x], create_graph=True)
    g2, = mg.autograd.grad(g1.sum(), [x], create_graph=True)
    g3, = mg.autograd.grad(g2.sum(), [x])
    t1, = torch.autograd.grad(fn(tx).sum(), [tx], create_graph=True)
    t2, = torch.autograd.grad(t1.sum(), [tx], create_graph=True)
    t3, = torch.autograd.grad(t2.sum(), [tx])
    close(g3, t3)
    for k, point in enumerate(points):  # the same three derivatives on scalar Values
        v = Value(point)
        d1, = mg.autograd.grad(fn(v), [v], create_graph=True)
        d2, = mg.autograd.grad(d1, [v], create_graph=True)
        d3, = mg.autograd.grad(d2, [v])
        assert isinstance(d2, Value) and d3 == pytest.approx(float(t3[k]), rel=1e-12, abs=1e-15)


def test_a_gradient_penalty_on_an_mlp_with_tanh_matches_pytorch(torch_on_one_thread):
    torch = pytest.importorskip("torch") if torch_on_one_thread is None else torch_on_one_thread
    x0, w1, b1, w2 = rng.standard_normal((5, 3)), rng.standard_normal((4, 3)), rng.standard_normal(4), rng.standard_normal((2, 4))
    (x, W1, B1, W2), (tx, tW1, tB1, tW2) = both(torch, x0, w1, b1, w2)

    def loss(x, W1, B1, W2, lin):
        return (lin(lin(x, W1, B1).tanh(), W2, None) ** 2).sum()

    gx, = mg.autograd.grad(loss(x, W1, B1, W2, F.linear), [x], create_graph=True)
    penalty = (gx * gx).sum()
    grads = mg.autograd.grad(penalty, [W1, B1, W2])
    tgx, = torch.autograd.grad(loss(tx, tW1, tB1, tW2, torch.nn.functional.linear), [tx], create_graph=True)
    tgrads = torch.autograd.grad((tgx * tgx).sum(), [tW1, tB1, tW2])
    for ours, theirs in zip(grads, tgrads):
        close(ours, theirs)


def test_a_gradient_penalty_on_a_conv_bn_relu_pool_linear_net_matches_pytorch(torch_on_one_thread):
    torch = pytest.importorskip("torch") if torch_on_one_thread is None else torch_on_one_thread
    tF = torch.nn.functional
    arrays = [rng.standard_normal((3, 2, 6, 6)), rng.standard_normal((4, 2, 3, 3)) * 0.5, rng.standard_normal(4),
              rng.standard_normal(4) + 1.5, rng.standard_normal(4), rng.standard_normal((3, 36)) * 0.3]
    (x, w, b, gamma, beta, fc), (tx, tw, tb, tgamma, tbeta, tfc) = both(torch, *arrays)

    def net(x, w, b, gamma, beta, fc, f, bn):
        h = f.conv2d(x, w, b, padding=1)
        h = bn(h, None, None, gamma, beta, training=True)
        h = f.max_pool2d(f.relu(h), 2) + f.avg_pool2d(h, 2)
        return f.linear(h.reshape(3, -1), fc).tanh().sum()

    gx, = mg.autograd.grad(net(x, w, b, gamma, beta, fc, F, F.batch_norm), [x], create_graph=True)
    grads = mg.autograd.grad((gx * gx).sum(), [w, b, gamma, beta, fc])
    tgx, = torch.autograd.grad(net(tx, tw, tb, tgamma, tbeta, tfc, tF, tF.batch_norm), [tx], create_graph=True)
    tgrads = torch.autograd.grad((tgx * tgx).sum(), [tw, tb, tgamma, tbeta, tfc], allow_unused=True)
    close(gx.data, tgx, rtol=1e-7)
    for ours, theirs in zip(grads, tgrads):
        if theirs is None:
            assert np.allclose(ours, 0, atol=1e-10)
        else:
            close(ours, theirs, rtol=1e-7, atol=1e-9)


def test_a_hessian_vector_product_of_a_softmax_cross_entropy_mlp_matches_pytorch(torch_on_one_thread):
    torch = pytest.importorskip("torch") if torch_on_one_thread is None else torch_on_one_thread
    x0, y = rng.standard_normal((8, 5)), rng.integers(0, 3, 8)
    w1, w2 = rng.standard_normal((6, 5)), rng.standard_normal((3, 6))
    v1, v2 = rng.standard_normal(w1.shape), rng.standard_normal(w2.shape)
    (W1, W2), (tW1, tW2) = both(torch, w1, w2)
    loss = F.cross_entropy(F.linear(F.linear(Tensor(x0), W1).relu(), W2), y)
    g1, g2 = mg.autograd.grad(loss, [W1, W2], create_graph=True)
    hv = mg.autograd.grad((g1 * v1).sum() + (g2 * v2).sum(), [W1, W2])
    tF = torch.nn.functional
    tloss = tF.cross_entropy(tF.linear(tF.relu(tF.linear(torch.tensor(x0), tW1)), tW2), torch.tensor(y))
    t1, t2 = torch.autograd.grad(tloss, [tW1, tW2], create_graph=True)
    thv = torch.autograd.grad((t1 * torch.tensor(v1)).sum() + (t2 * torch.tensor(v2)).sum(), [tW1, tW2])
    for ours, theirs in zip(hv, thv):
        close(ours, theirs)


GATES = {
    "conv2d stride 2 dilation 2 groups 2": (lambda x, w: F.conv2d(x, w, padding=2, stride=2, dilation=2, groups=2).tanh(),
                                            [(1, 4, 7, 7), (4, 2, 3, 3)]),
    "conv2d same padding": (lambda x, w: F.conv2d(x, w, padding="same").sigmoid(), [(2, 1, 5, 5), (2, 1, 4, 4)]),
    "conv_transpose2d": (lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1).tanh(),
                         [(1, 2, 3, 3), (2, 3, 3, 3)]),
    "max_pool2d": (lambda x: F.max_pool2d(x * x, 3, stride=2, padding=1), [(1, 2, 5, 5)]),
    "avg_pool2d ceil": (lambda x: F.avg_pool2d(x * x, 2, ceil_mode=True, count_include_pad=False), [(1, 1, 5, 5)]),
    "adaptive_avg_pool2d": (lambda x: F.adaptive_avg_pool2d(x * x, 3) + F.adaptive_avg_pool2d(x * x, 2).sum(), [(1, 2, 5, 4)]),
    "batch_norm train": (lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True).tanh(), [(4, 3, 2), (3,), (3,)]),
    "batch_norm eval": (lambda x, g: F.batch_norm(x, np.zeros(3), np.full(3, 2.0), g, training=False).tanh(),
                        [(4, 3), (3,)]),
    "dropout": (lambda x: (mg.manual_seed(0), F.dropout(x * x, 0.5) * x)[1], [(3, 4)]),  # the same mask each call
    "cat·stack·pad": (lambda a, b: mg.cat([a * a, b], 1).tanh()[:, 1:4] + mg.stack([a, b]).sum(0) ** 2
                      + mg.pad(a, (1, 0))[:, 1:] ** 2,
                      [(2, 3), (2, 3)]),
    "linear": (lambda x, w, b: F.linear(x, w, b).tanh(), [(3, 4), (2, 4), (2,)]),
    "leaky_relu·where·clone": (lambda x: F.leaky_relu(x, 0.1) * x + x.clone().tanh(), [(3, 3)]),
    "mse_loss": (lambda x, y: F.mse_loss(x * x, y), [(3, 2), (3, 2)]),
    "kl_div": (lambda a, p: F.kl_div(F.log_softmax(a, 1), F.softmax(p, 1)), [(2, 4), (2, 4)]),
    "binary_cross_entropy": (lambda q, t: F.binary_cross_entropy(q.sigmoid(), t.sigmoid()), [(3, 2), (3, 2)]),
    "cross_entropy weighted smoothed": (lambda z: F.cross_entropy(z, np.array([0, 2, 1]), np.array([1.0, 2.0, 0.5]),
                                                                  label_smoothing=0.2), [(3, 3)]),
    "nll_loss on (N, C, d)": (lambda z: F.nll_loss(F.log_softmax(z, 1), np.array([[0, 1], [2, 0]])), [(2, 3, 2)]),
}


@pytest.mark.parametrize("name", sorted(GATES))
def test_gradgradcheck_passes_on_every_gate_with_second_derivatives(name):
    fn, shapes = GATES[name]
    r = np.random.default_rng(len(name))
    assert mg.gradgradcheck(fn, [r.standard_normal(s) for s in shapes])


def test_backward_with_create_graph_gives_tensors_differentiable_again():
    x = Tensor(np.array([0.5, -1.0]), requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    g = x.grad
    assert isinstance(g, Tensor) and g._gate is not None and np.allclose(g.data, 3 * x.data**2)
    x.grad = None
    g.sum().backward()
    assert np.allclose(x.grad, 6 * x.data)


def test_without_create_graph_nothing_changes():
    x = Tensor(np.array([0.5, -1.0]), requires_grad=True)
    (x**3).sum().backward()
    assert isinstance(x.grad, np.ndarray)
    g, = mg.autograd.grad((x**3).sum(), [x])
    assert isinstance(g, np.ndarray) and np.allclose(g, 3 * x.data**2)
    assert np.allclose(x.grad, 3 * x.data**2)  # autograd.grad did not touch .grad


def test_values_differentiate_twice_and_the_neuron_too():
    x = Value(0.5)
    g, = mg.autograd.grad(x.tanh(), [x], create_graph=True)
    assert isinstance(g, Value) and g.data == pytest.approx(1 - np.tanh(0.5) ** 2)
    h, = mg.autograd.grad(g, [x])
    assert h == pytest.approx(-2 * np.tanh(0.5) * (1 - np.tanh(0.5) ** 2))
    f, v = mg.lectures.neuron_sigmoid()
    w0 = v["w0"]
    g, = mg.autograd.grad(f, [w0], create_graph=True)
    assert g.data == pytest.approx(-0.19661193)  # the lectures' number
    h, = mg.autograd.grad(g, [w0])  # d²f/dw0² = x0²·σ''(s): σ'' = σ(1 − σ)(1 − 2σ)
    s = f.data
    assert h == pytest.approx(v["x0"].data ** 2 * s * (1 - s) * (1 - 2 * s))


def test_values_with_plain_numbers_on_either_side_differentiate_twice():
    # each binary gate with a number as its first or second input: d/dx and d²/dx² by central differences
    cases = {
        "x + 3": lambda x: (x * x + 3.0), "3 + x": lambda x: 3.0 + x * x, "x - 3": lambda x: x * x - 3.0,
        "3 - x": lambda x: 3.0 - x * x, "x * 3": lambda x: (x * x) * 3.0, "3 * x": lambda x: 3.0 * (x * x),
        "x / 3": lambda x: (x * x) / 3.0, "3 / x": lambda x: 3.0 / (x * x),
        "max(x, 0.1)": lambda x: (x * x).max(0.1), "max(0.1, x)": lambda x: mg.maximum(0.1, x * x),
    }
    x0, h = 0.7, 1e-4
    for name, f in cases.items():
        x = Value(x0)
        g, = mg.autograd.grad(f(x), [x], create_graph=True)
        second, = mg.autograd.grad(g, [x])
        fd1 = (f(Value(x0 + h)).data - f(Value(x0 - h)).data) / (2 * h)
        fd2 = (f(Value(x0 + h)).data - 2 * f(Value(x0)).data + f(Value(x0 - h)).data) / h**2
        assert g.data == pytest.approx(fd1, rel=1e-6), name
        assert second == pytest.approx(fd2, rel=1e-4), name


def test_a_user_gate_written_with_tensor_operations_differentiates_twice():
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

    assert mg.gradgradcheck(lambda t: Cube.apply(t), [np.array([0.3, -1.2, 2.0])])

    class Swish(mg.Function):
        @staticmethod
        def forward(ctx, x):
            s = 1 / (1 + np.exp(-x))
            ctx.save_for_backward(x, s)
            return x * s

        @staticmethod
        def backward(ctx, grad):
            x, s = ctx.saved_tensors
            return (s + x * s * (1 - s)) * grad

    x = Tensor(np.array([0.5]), requires_grad=True)
    with pytest.raises(HigherOrderError, match=r"Swish: saved array 1 \(shape \(1,\)\) is neither an input nor the output"):
        mg.autograd.grad(Swish.apply(x).sum(), [x], create_graph=True)


class Cube2(mg.Function):
    """x³ whose backward reads x² from a ctx attribute: a constant to a second derivative."""

    @staticmethod
    def forward(ctx, x):
        ctx.x2 = x * x
        return x**3

    @staticmethod
    def backward(ctx, grad):
        return 3 * ctx.x2 * grad


class DataCube(mg.Function):
    """x³ whose backward reads .data: its gradient leaves the graph."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * (x.data if isinstance(x, Tensor) else x) ** 2 * grad


class HalfCube(mg.Function):
    """x³ whose backward detaches one of the two x's in 3·x·x: a second derivative half as large."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x * (x.detach() if isinstance(x, Tensor) else x) * grad


X0 = np.array([0.3, -1.2, 2.0])


def test_an_array_kept_on_ctx_is_refused_by_create_graph_naming_the_gate_and_the_attribute():
    x = Tensor(X0.copy(), requires_grad=True)
    (Cube2.apply(x).sum()).backward()  # without create_graph it is fine
    np.testing.assert_allclose(x.grad, 3 * X0**2)
    x = Tensor(X0.copy(), requires_grad=True)
    with pytest.raises(HigherOrderError, match=r"Cube2: forward kept a numpy array \(shape \(3,\)\) as ctx.x2; .*"
                                               r"ctx.save_for_backward"):
        mg.autograd.grad((Cube2.apply(x) + x * x).sum(), [x], create_graph=True)  # was [2, 2, 2], not 6x + 2
    with pytest.raises(HigherOrderError, match=r"Cube2: forward kept a numpy array"):
        mg.gradgradcheck(lambda t: Cube2.apply(t), [X0])

    class InATuple(mg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.parts = (2, x * x)
            return x**3

        @staticmethod
        def backward(ctx, grad):
            return 3 * ctx.parts[1] * grad

    with pytest.raises(HigherOrderError, match=r"InATuple: forward kept a numpy array \(shape \(3,\)\) as ctx.parts"):
        mg.autograd.grad(InATuple.apply(Tensor(X0.copy(), requires_grad=True)).sum(), [x], create_graph=True)


def test_an_array_given_to_forward_as_an_argument_may_be_kept_on_ctx():
    class Masked(mg.Function):
        @staticmethod
        def forward(ctx, x, mask, *, scale):
            ctx.save_for_backward(x)
            ctx.mask, ctx.scale = mask, scale
            return x**2 * mask * scale

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * ctx.mask * ctx.scale * grad, None

    mask, scale = np.array([1.0, 0.0, 2.0]), np.array([0.5, 1.0, 3.0])
    assert mg.gradgradcheck(lambda t: Masked.apply(t, mask, scale=scale) * t, [X0])


def test_gradgradcheck_fails_when_the_first_derivative_left_the_graph_and_names_the_gate():
    with pytest.raises(GradcheckError) as caught:  # was True: "the second derivative is 0 everywhere"
        mg.gradgradcheck(lambda t: DataCube.apply(t), [X0])
    message = str(caught.value)
    assert "the first derivative does not require grad" in message
    assert "the first gate whose second derivative disagrees is DataCube" in message
    assert "does not require grad: its backward left the graph" in message
    assert caught.value.gate == "DataCube" and caught.value.analytic == 0 and abs(caught.value.numeric) > 0.1
    # inside a graph whose first derivative does require grad (through tanh): the per-gate check finds it
    with pytest.raises(GradcheckError, match="the first gate whose second derivative disagrees is DataCube .*"
                                             "left the graph") as caught:
        mg.gradgradcheck(lambda t: DataCube.apply(t.tanh()) * 1.0 + t * t, [X0])
    assert caught.value.gate == "DataCube"
    assert mg.gradgradcheck(lambda t: t * 2.0, [X0])  # a constant first derivative: 0 is right


def test_gradgradcheck_names_a_gate_whose_second_derivative_is_wrong():
    with pytest.raises(GradcheckError, match=r"analytic second derivative .* vs numeric .*; the first gate whose "
                                             r"second derivative disagrees is HalfCube \(created at .*test_autograd"
                                             r"\.py") as caught:
        mg.gradgradcheck(lambda t: HalfCube.apply(t.tanh()).sum() * 1.0, [X0])
    error = caught.value
    assert error.gate == "HalfCube" and "test_autograd.py" in error.site
    with pytest.raises(GradcheckError, match="disagrees is HalfCube") as caught:
        mg.gradgradcheck(lambda t: HalfCube.apply(t), [X0])
    assert caught.value.analytic == pytest.approx(caught.value.numeric / 2, rel=1e-6)  # 3x instead of 6x


def test_a_second_grad_of_a_gradient_that_left_the_graph_names_the_gate():
    x = Tensor(X0.copy(), requires_grad=True)
    g, = mg.autograd.grad(DataCube.apply(x).sum(), [x], create_graph=True)
    with pytest.raises(ValueError, match=r"output 0 \(shape \(\)\) does not require grad: .* the gate DataCube is "
                                         r"the likely cause"):
        mg.autograd.grad(g.sum(), [x])
    g, = mg.autograd.grad((x * 2).sum(), [x], create_graph=True)  # a constant gradient: no gate to blame
    with pytest.raises(ValueError, match=r"does not require grad: it does not depend on any input that does \(was"):
        mg.autograd.grad(g.sum(), [x])


def test_a_user_elementwise_gate_whose_rule_uses_numpy_is_named_by_create_graph():
    class NumpySin(mg.Elementwise):
        name = "numpy_sin"
        rules = (mg.Rule("x", "cos x", lambda x, y: np.cos(x)),)

        @staticmethod
        def forward(ctx, x):
            return np.sin(x)

    x = Tensor(X0.copy(), requires_grad=True)
    NumpySin.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad, np.cos(X0))
    with pytest.raises(HigherOrderError, match=r"numpy_sin: its rule for input 0 \(dL/dx = cos x ⊙ dL/dy\) does not "
                                               r"work on Tensors"):
        mg.autograd.grad(NumpySin.apply(x).sum(), [x], create_graph=True)


def test_a_user_gate_with_several_outputs_differentiates_twice():
    class PowersOf(mg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**2, x**3

        @staticmethod
        def backward(ctx, g_square, g_cube):
            (x,) = ctx.saved_tensors
            return 2 * x * g_square + 3 * x**2 * g_cube

    x = Tensor(X0.copy(), requires_grad=True)
    square, cube = PowersOf.apply(x)
    g, = mg.autograd.grad((square + cube * x).sum(), [x], create_graph=True)  # 2x + 4x³
    np.testing.assert_allclose(g.data, 2 * X0 + 4 * X0**3)
    second, = mg.autograd.grad(g.sum(), [x])
    np.testing.assert_allclose(second, 2 + 12 * X0**2)
    square, _ = PowersOf.apply(x)  # one output unused: its gradient is zeros
    g, = mg.autograd.grad(square.sum(), [x], create_graph=True)
    np.testing.assert_allclose(mg.autograd.grad(g.sum(), [x])[0], [2.0, 2.0, 2.0])
    assert mg.gradgradcheck(lambda t: PowersOf.apply(t)[1] * PowersOf.apply(t)[0], [X0])

    class DataPowers(mg.Function):
        forward = PowersOf.forward

        @staticmethod
        def backward(ctx, g_square, g_cube):
            (x,) = ctx.saved_tensors
            x = x.data if isinstance(x, Tensor) else x
            return 2 * x * g_square + 3 * x**2 * g_cube

    with pytest.raises(GradcheckError, match="the first gate whose second derivative disagrees is DataPowers"):
        mg.gradgradcheck(lambda t: DataPowers.apply(t.tanh())[1] + t * t, [X0])


def test_steps_of_a_create_graph_backward_print_and_a_breakpoint_stops_in_one(monkeypatch):
    x = Tensor(np.array([0.3, -1.2]), requires_grad=True, label="x")
    steps = list(x.tanh().sum().backward_steps(create_graph=True))
    assert isinstance(steps[0].upstream, Tensor) and isinstance(steps[1].downstream[0], Tensor)
    assert str(steps[0]) == ("sum: upstream 1.0 × local (dL/dx = dL/dy broadcast over the summed axes) = downstream "
                             "([1.0, 1.0])")
    assert str(steps[1]) == "tanh: upstream [1.0, 1.0] × local ([0.915137, 0.30502]) = downstream ([0.915137, 0.30502])"
    assert repr(steps[1]) == f"<Step 1: {steps[1]}>"
    seen = []
    monkeypatch.setattr(sys, "breakpointhook", lambda *a, **k: seen.append(str(sys._getframe(1).f_locals["step"])))
    x.grad = None
    x.tanh().sum().backward(create_graph=True, breakpoint=lambda step: step.gate == "tanh")
    assert seen == [str(steps[1])] and isinstance(x.grad, Tensor)
    first = x.grad
    x.grad = None
    first.sum().backward(breakpoint=lambda step: step.gate == "copy")  # the second backward reads like the first
    assert seen[1] == "copy: upstream [-0.291313, 0.833655] + [-0.291313, 0.833655] = downstream [-0.582625, 1.66731]"
    v = Value(0.5)
    g, = mg.autograd.grad(v.tanh(), [v], create_graph=True)
    last = [str(s) for s in g.backward_steps()][-1]
    assert last == "tanh: upstream -0.924234 × local (0.786448) = downstream (-0.726862)"


def test_drawing_the_backward_pass():
    x = Tensor(np.array([0.5, -1.0]), requires_grad=True, label="x")
    y = x.tanh().sum()
    g, = mg.autograd.grad(y, [x], create_graph=True)
    src = mg.draw(g).source
    assert "tanh" in src and "mul" in src and "<b>x</b>" in src  # the forward's tanh re-enters the backward graph
    steps = [str(s) for s in g.sum().backward_steps()]
    assert any(s.startswith("mul: upstream") for s in steps) and any(s.startswith("tanh: upstream") for s in steps)


# -- bad input -------------------------------------------------------------------------------------------


def test_bad_input_is_a_clear_error():
    x = Tensor(np.ones(3), requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(GraphFreedError, match="second time"):
        y.backward(create_graph=True)
    with pytest.raises(RuntimeError, match=r"output 0 has shape \(3,\): a gradient can be implied only"):
        mg.autograd.grad(x * 2, [x])
    with pytest.raises(ValueError, match=r"grad_outputs\[0\]: backward: grad has shape \(2,\) but the output has shape \(3,\)"):
        mg.autograd.grad(x * 2, [x], grad_outputs=np.ones(2))
    v = Value(0.5)
    with pytest.raises(ValueError, match=r"grad_outputs\[0\] has shape \(2,\), but output 0 is a Value \(a scalar\): "
                                         r"give a number, such as 1.0, or a Value"):
        mg.autograd.grad(v * 2, [v], grad_outputs=np.ones(2))
    with pytest.raises(TypeError, match=r"grad_outputs\[0\] is str 'one', but output 0 is a Value"):
        mg.autograd.grad(v * 2, [v], grad_outputs="one")
    assert mg.autograd.grad(v * 2, [v], grad_outputs=np.array([3.0])) == (6.0,)
    assert mg.autograd.grad(v * 2, [v], grad_outputs=Value(3.0)) == (6.0,)
    with pytest.raises(ValueError, match=r"input 0 \(shape \(3,\)\) does not require grad"):
        mg.autograd.grad((x * 2).sum(), [Tensor(np.ones(3))])
    z = Tensor(np.ones(2), requires_grad=True, label="z")
    with pytest.raises(ValueError, match=r"input 1 \('z', shape \(2,\)\) is not used by the outputs"):
        mg.autograd.grad((x * 2).sum(), [x, z])
    assert mg.autograd.grad((x * 2).sum(), [x, z], allow_unused=True)[1] is None
    img = Tensor(np.ones((1, 1, 4, 4)), requires_grad=True)
    weight = Tensor(np.ones((2, 2, 1, 1, 3, 3)), requires_grad=True)
    local = F.local_conv2d(img, weight).sum()
    with pytest.raises(HigherOrderError, match="local_conv2d: second derivatives .* are not supported"):
        mg.autograd.grad(local, [img], create_graph=True)
