"""Higher-order gradients: create_graph, mg.autograd.grad, gradgradcheck -- against PyTorch and central differences."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import Tensor, Value
from minigrad.core.engine import GraphFreedError
from minigrad.core.function import HigherOrderError

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
