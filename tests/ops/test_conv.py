"""conv2d and conv_transpose2d: the lectures' worked example, the flipped-filter identity, gradchecks over
every option, the transposed-conv size identity, PyTorch cross-checks and the bad-input errors."""
import itertools

import numpy as np
import pytest

from minigrad import Tensor, gradcheck, no_grad
from minigrad.ops.conv import conv2d, conv_transpose2d

try:  # only the cross-checks need PyTorch; every other test runs without it
    import torch
except ImportError:
    torch = None

rng = np.random.default_rng(0)


def reference_conv2d(x, w, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    """A plain numpy oracle: O[n, o, r, q] = Σ_{c, i, j} W[o, c, i, j]·Xp[n, g·Cg + c, s·r + dil·i, s·q + dil·j]."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    N, C, H, W = x.shape
    O, Cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh, ow = (H + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (W + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((N, O, oh, ow))
    Og = O // groups
    for g in range(groups):
        for i in range(kh):
            for j in range(kw):
                patch = xp[:, g * Cg : (g + 1) * Cg, i * dh : i * dh + sh * (oh - 1) + 1 : sh, j * dw : j * dw + sw * (ow - 1) + 1 : sw]
                out[:, g * Og : (g + 1) * Og] += np.einsum("oc,ncrq->norq", w[g * Og : (g + 1) * Og, :, i, j], patch)
    return out


# -- the lectures' worked example: X 3×3, F 2×2, no padding ---------------------------------------------


def test_the_lectures_worked_example_3x3_input_2x2_filter():
    X = Tensor(np.array([[1, 2, 0], [3, -1, 2], [0, 1, 4]], dtype=np.float64).reshape(1, 1, 3, 3), requires_grad=True)
    F = Tensor(np.array([[1, 2], [-1, 3]], dtype=np.float64).reshape(1, 1, 2, 2), requires_grad=True)
    O = conv2d(X, F)
    # o11 = F11·x11 + F12·x12 + F21·x21 + F22·x22 = 1·1 + 2·2 + (−1)·3 + 3·(−1) = −1
    # o12 = F11·x12 + F12·x13 + F21·x22 + F22·x23 = 2 + 0 + 1 + 6 = 9
    # o21 = F11·x21 + F12·x22 + F21·x31 + F22·x32 = 3 − 2 + 0 + 3 = 4
    # o22 = F11·x22 + F12·x23 + F21·x32 + F22·x33 = −1 + 4 − 1 + 12 = 14
    assert O.data[0, 0].tolist() == [[-1, 9], [4, 14]]
    dO = np.array([[1, -2], [3, 1]], dtype=np.float64).reshape(1, 1, 2, 2)
    O.backward(dO)
    # dL/dF = X ⋆ dL/dO (valid correlation of the input with the upstream gradient):
    # dL/dF11 = g11·x11 + g12·x12 + g21·x21 + g22·x22 = 1 − 4 + 9 − 1 = 5
    # dL/dF12 = g11·x12 + g12·x13 + g21·x22 + g22·x23 = 2 + 0 − 3 + 2 = 1
    # dL/dF21 = g11·x21 + g12·x22 + g21·x31 + g22·x32 = 3 + 2 + 0 + 1 = 6
    # dL/dF22 = g11·x22 + g12·x23 + g21·x32 + g22·x33 = −1 − 4 + 3 + 4 = 2
    assert F.grad[0, 0].tolist() == [[5, 1], [6, 2]]
    # dL/dX = pad₁(dL/dO) ⋆ flip(F), flip(F) = [[F22, F21], [F12, F11]] = [[3, −1], [2, 1]] slid over
    #   0  0  0  0
    #   0  1 −2  0
    #   0  3  1  0
    #   0  0  0  0
    # dx11 = 1·1 = 1;                 dx12 = 1·2 + (−2)·1 = 0;                 dx13 = (−2)·2 = −4
    # dx21 = 1·(−1) + 3·1 = 2;        dx22 = 1·3 + (−2)(−1) + 3·2 + 1·1 = 12;  dx23 = (−2)·3 + 1·2 = −4
    # dx31 = 3·(−1) = −3;             dx32 = 3·3 + 1·(−1) = 8;                 dx33 = 1·3 = 3
    assert X.grad[0, 0].tolist() == [[1, 0, -4], [2, 12, -4], [-3, 8, 3]]


@pytest.mark.parametrize(
    "size,k,stride,padding,dilation",
    [((7, 6), 3, (1, 1), (1, 1), (1, 1)), ((9, 8), 3, (2, 2), (1, 0), (1, 1)), ((10, 9), (3, 2), (3, 2), (2, 1), (2, 1)),
     ((8, 8), 4, (2, 3), (0, 2), (1, 1))],
)
def test_input_gradient_is_the_full_correlation_of_the_zero_inserted_padded_upstream_with_the_flipped_filter(
    size, k, stride, padding, dilation
):
    kh, kw = (k, k) if isinstance(k, int) else k
    x = Tensor(rng.standard_normal((2, 3) + size), requires_grad=True)
    w = rng.standard_normal((4, 3, kh, kw))
    out = conv2d(x, Tensor(w), stride=stride, padding=padding, dilation=dilation)
    dO = rng.standard_normal(out.shape)
    out.backward(dO)
    # zero insertion: s − 1 zeros between rows and columns of dL/dO
    (sh, sw), (oh, ow) = stride, out.shape[2:]
    inserted = np.zeros((2, 4, (oh - 1) * sh + 1, (ow - 1) * sw + 1))
    inserted[:, :, ::sh, ::sw] = dO
    # pad by dil·(k − 1) − p, plus the rows/columns at the end that no window reached
    pads = []
    for d, kk, s, p, dil, o in zip(size, (kh, kw), stride, padding, dilation, (oh, ow)):
        unreached = d + 2 * p - ((o - 1) * s + dil * (kk - 1) + 1)
        pads.append((dil * (kk - 1) - p, dil * (kk - 1) - p + unreached))
    padded = np.pad(inserted, ((0, 0), (0, 0), *pads))
    flipped = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)  # flip top-bottom and left-right; in ↔ out channels
    np.testing.assert_allclose(x.grad, reference_conv2d(padded, flipped, dilation=dilation), atol=1e-12)


# -- gradchecks over every option ------------------------------------------------------------------------

# (x shape, weight shape, stride, padding, dilation, groups, bias)
CONV_CASES = {
    "k1": ((1, 1, 5, 5), (1, 1, 1, 1), 1, 0, 1, 1, False),
    "k2 non-square": ((2, 3, 6, 5), (4, 3, 2, 2), 1, 0, 1, 1, True),
    "k3 pad1": ((2, 2, 7, 6), (3, 2, 3, 3), 1, 1, 1, 1, True),
    "k4 stride2 pad2": ((1, 2, 8, 7), (2, 2, 4, 4), 2, 2, 1, 1, False),
    "k5 stride3 pad2": ((1, 2, 9, 8), (2, 2, 5, 5), 3, 2, 1, 1, True),
    "stride3 remainder": ((2, 3, 6, 7), (2, 3, 3, 3), 3, 0, 1, 1, False),
    "pairs": ((2, 2, 7, 9), (3, 2, 2, 3), (1, 2), (1, 0), 1, 1, True),
    "stride (3, 1)": ((1, 2, 8, 6), (2, 2, 3, 2), (3, 1), (0, 2), 1, 1, True),
    "dilation2 stride2": ((1, 2, 8, 8), (2, 2, 3, 3), 2, 1, 2, 1, True),
    "dilation pair": ((1, 3, 7, 7), (2, 3, 3, 3), 1, (2, 1), (2, 1), 1, False),
    "groups2": ((2, 4, 6, 5), (6, 2, 3, 3), 1, 1, 1, 2, True),
    "groups5": ((1, 5, 5, 6), (10, 1, 3, 3), (2, 1), 1, 1, 5, True),
    "depthwise stride2": ((2, 4, 6, 6), (4, 1, 3, 3), 2, 1, 1, 4, True),
    "batch8": ((8, 2, 4, 3), (3, 2, 2, 2), 1, 1, 1, 1, True),
    "same even kernel": ((1, 2, 5, 6), (3, 2, 2, 4), 1, "same", (1, 2), 1, True),
    "valid": ((1, 2, 5, 4), (2, 2, 3, 3), 1, "valid", 1, 1, False),
    # stride 1 computes dL/dX as pad(dL/dO) ⋆ flip(W) (see Conv2d.vjp): depthwise, channel multipliers, dilation
    "depthwise stride1": ((2, 4, 6, 5), (4, 1, 3, 3), 1, 1, 1, 4, True),
    "groups2 multiplier dilation": ((2, 4, 7, 6), (6, 2, 3, 2), 1, (2, 1), (2, 1), 2, True),
    "k5 pad2 as in LeNet": ((2, 3, 6, 6), (3, 3, 5, 5), 1, 2, 1, 1, True),
    "k1 pad1 (padding beyond the kernel)": ((1, 2, 4, 3), (3, 2, 1, 1), 1, 1, 1, 1, True),
}


@pytest.mark.parametrize("name", CONV_CASES)
def test_conv2d_matches_the_reference_and_passes_gradcheck(name):
    xs, ws, stride, padding, dilation, groups, bias = CONV_CASES[name]
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])
    options = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    if not isinstance(padding, str):
        expected = reference_conv2d(x, w, _pair(stride), _pair(padding), _pair(dilation), groups) + b[:, None, None] * bias
        got = conv2d(Tensor(x), Tensor(w), Tensor(b) if bias else None, **options)
        np.testing.assert_allclose(got.data, expected, atol=1e-12)
    inputs = [x, w, b] if bias else [x, w]
    assert gradcheck(lambda *t: conv2d(*t, **options), inputs)


@pytest.mark.parametrize(
    "xs,ws,options",
    [((2, 3, 6, 5), (3, 3, 3, 3), dict(padding=1)), ((2, 4, 7, 6), (4, 1, 3, 3), dict(padding=(1, 2), dilation=(1, 2), groups=4)),
     ((1, 4, 6, 6), (6, 2, 2, 3), dict(padding="same", groups=2)), ((2, 2, 5, 5), (5, 2, 3, 3), dict(padding=0))],
)
def test_both_routes_to_the_input_gradient_agree(monkeypatch, xs, ws, options):
    # stride 1 correlates pad(dL/dO) with flip(W); col2im(Wᵀ·dL/dO) is the general route: same numbers
    from minigrad.ops.im2col import Geometry

    x, w, up = rng.standard_normal(xs), rng.standard_normal(ws), None
    grads = []
    for route in ("flipped", "col2im"):
        if route == "col2im":
            monkeypatch.setattr(Geometry, "flipped", lambda self: None)
        t = Tensor(x, requires_grad=True)
        out = conv2d(t, Tensor(w), **options)
        up = rng.standard_normal(out.shape) if up is None else up
        out.backward(up)
        grads.append(t.grad)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12, atol=1e-12)


# (x shape, weight shape, stride, padding, output_padding, dilation, groups, bias)
TRANSPOSED_CASES = {
    "plain": ((1, 2, 3, 4), (2, 3, 3, 3), 1, 0, 0, 1, 1, True),
    "stride2 output_padding1": ((2, 2, 3, 3), (2, 2, 3, 3), 2, 1, 1, 1, 1, True),
    "pairs groups2": ((1, 4, 3, 2), (4, 3, 2, 2), (2, 3), (0, 1), (1, 2), 1, 2, True),
    "dilation2 output_padding1": ((1, 2, 3, 3), (2, 2, 3, 3), 1, 1, 1, 2, 1, False),
    "stride3 groups3": ((2, 3, 2, 3), (3, 1, 4, 4), 3, 2, 2, 1, 3, True),
    "k1 stride2": ((1, 3, 3, 3), (3, 2, 1, 1), 2, 0, 1, 1, 1, False),
}


@pytest.mark.parametrize("name", TRANSPOSED_CASES)
def test_conv_transpose2d_passes_gradcheck(name):
    xs, ws, stride, padding, output_padding, dilation, groups, bias = TRANSPOSED_CASES[name]
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[1] * groups)
    options = dict(stride=stride, padding=padding, output_padding=output_padding, dilation=dilation, groups=groups)
    assert gradcheck(lambda *t: conv_transpose2d(*t, **options), [x, w, b] if bias else [x, w])


@pytest.mark.parametrize("name", [n for n in TRANSPOSED_CASES if n != "dilation2 output_padding1"])
def test_conv_transpose2d_is_the_adjoint_of_conv2d(name):
    # ⟨conv2d(y, W), x⟩ = ⟨y, conv_transpose2d(x, W)⟩: the transposed convolution is conv2d's input-gradient map
    # (with output_padding < stride, so that conv2d maps the output size back to the input size)
    xs, ws, stride, padding, output_padding, dilation, groups, _ = TRANSPOSED_CASES[name]
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    options = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    y = conv_transpose2d(Tensor(x), Tensor(w), output_padding=output_padding, **options).data
    v = rng.standard_normal(y.shape)
    assert conv2d(Tensor(v), Tensor(w), **options).shape == x.shape
    np.testing.assert_allclose(np.sum(conv2d(Tensor(v), Tensor(w), **options).data * x), np.sum(v * y), rtol=1e-10)


def test_the_transposed_convolution_size_identity():
    # d = 9, k = 3, s = 2, p = 1: conv2d gives o = ⌊(9 + 2 − 3)/2⌋ + 1 = 5; the transposed conv maps 5 back to
    # (5 − 1)·2 − 2 + 3 = 9 (zeros inserted between rows/columns: s − 1 = 1; padding k − p − 1 = 1)
    x = Tensor(rng.standard_normal((1, 2, 9, 9)))
    w = Tensor(rng.standard_normal((3, 2, 3, 3)))
    o = conv2d(x, w, stride=2, padding=1)
    assert o.shape == (1, 3, 5, 5)
    assert conv_transpose2d(o, w, stride=2, padding=1).shape == (1, 2, 9, 9)
    # d = 10 also gives 5; output_padding=1 picks it
    assert conv2d(Tensor(np.zeros((1, 2, 10, 10))), w, stride=2, padding=1).shape[2:] == (5, 5)
    assert conv_transpose2d(o, w, stride=2, padding=1, output_padding=1).shape == (1, 2, 10, 10)


# -- engine integration ------------------------------------------------------------------------------------


def test_the_conv_gate_states_its_rule_in_words():
    x = Tensor(rng.standard_normal((1, 2, 4, 4)), requires_grad=True)
    w = Tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
    b = Tensor(rng.standard_normal(3), requires_grad=True)
    out = conv2d(x, w, b, padding=1).sum()
    steps = [s for s in out.backward_steps() if s.gate == "conv2d"]
    assert len(steps) == 1
    step = steps[0]
    assert "dL/dX = pad(dL/dO) ⋆ flip(W)" in step.local[0]
    assert "dL/dW = X ⋆ dL/dO" in step.local[1]
    assert "dL/dX = pad(dL/dO) ⋆ flip(W)" in step.formula and "dL/dW = X ⋆ dL/dO" in step.formula
    np.testing.assert_allclose(step.downstream[2], np.full(3, 16.0))  # dL/db = Σ dL/dO over 4×4 positions
    assert "conv2d" in str(step)


def test_float32_stays_float32_and_an_input_without_grad_gets_none():
    x = Tensor(rng.standard_normal((2, 3, 6, 6)).astype(np.float32))  # a first layer: data needs no gradient
    w = Tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), requires_grad=True)
    out = conv2d(x, w, padding=1)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, np.float32))
    assert x.grad is None and w.grad.dtype == np.float32
    # upstream ones: dL/dW[o, c, i, j] = Σ over the batch and positions of the padded input under tap (i, j)
    xp = np.pad(x.data.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    taps = np.array([[xp[:, :, i : i + 6, j : j + 6].sum(axis=(0, 2, 3)) for j in range(3)] for i in range(3)])
    np.testing.assert_allclose(w.grad, np.broadcast_to(taps.transpose(2, 0, 1), (4, 3, 3, 3)), rtol=1e-5)


def test_memory_is_released_after_backward_and_kept_with_retain_graph():
    x = Tensor(rng.standard_normal((1, 2, 5, 5)), requires_grad=True)
    w = Tensor(rng.standard_normal((2, 2, 3, 3)), requires_grad=True)
    out = conv2d(x, w)
    out.sum().backward(retain_graph=True)
    first = x.grad.copy()
    out.sum().backward()
    np.testing.assert_allclose(x.grad, 2 * first)
    assert out._gate.saved is None
    with no_grad():
        assert conv2d(x, w)._gate is None


# -- PyTorch cross-check (skipped when torch is not installed) ----------------------------------------------

TORCH_CONV = [
    # (x shape, weight shape, options)
    ((2, 4, 9, 8), (6, 4, 3, 3), dict(padding=1)),
    ((2, 4, 9, 8), (6, 2, 3, 3), dict(stride=2, padding=(1, 2), groups=2)),
    ((2, 4, 9, 8), (4, 1, 3, 3), dict(padding=1, groups=4)),
    ((2, 4, 9, 8), (8, 1, 3, 3), dict(stride=(2, 1), dilation=(2, 1), groups=4)),
    ((1, 3, 11, 10), (5, 3, 5, 4), dict(stride=3, padding=2, dilation=2)),
    ((1, 3, 7, 6), (2, 3, 2, 4), dict(padding="same", dilation=(2, 1))),
    ((1, 3, 7, 6), (2, 3, 3, 3), dict(padding="valid")),
]
TORCH_TRANSPOSED = [
    ((2, 4, 5, 4), (4, 3, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    ((2, 4, 5, 4), (4, 2, 3, 2), dict(stride=(2, 3), padding=(0, 1), output_padding=(1, 2), groups=2)),
    ((1, 2, 4, 4), (2, 3, 3, 3), dict(dilation=2, padding=1, output_padding=1)),
    ((1, 3, 3, 4), (3, 1, 4, 4), dict(stride=3, padding=2, groups=3, dilation=(1, 2), output_padding=(2, 1))),
]


@pytest.fixture(autouse=True)
def _torch_on_one_thread(torch_on_one_thread):
    """Every test here runs with PyTorch (when installed) on one thread: see tests/conftest.py."""


TOL = dict(rtol=1e-10, atol=1e-12)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("case", range(len(TORCH_CONV)))
def test_conv2d_matches_pytorch(case, bias, compare_with_torch):
    pytest.importorskip("torch")
    xs, ws, options = TORCH_CONV[case]
    arrays = [rng.standard_normal(xs), rng.standard_normal(ws)] + ([rng.standard_normal(ws[0])] if bias else [])
    compare_with_torch(lambda *t: conv2d(*t, **options), lambda *t: torch.nn.functional.conv2d(*t, **options), arrays, rng, **TOL)


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("case", range(len(TORCH_TRANSPOSED)))
def test_conv_transpose2d_matches_pytorch(case, bias, compare_with_torch):
    pytest.importorskip("torch")
    xs, ws, options = TORCH_TRANSPOSED[case]
    out_channels = ws[1] * options.get("groups", 1)
    arrays = [rng.standard_normal(xs), rng.standard_normal(ws)] + ([rng.standard_normal(out_channels)] if bias else [])
    compare_with_torch(lambda *t: conv_transpose2d(*t, **options),
                       lambda *t: torch.nn.functional.conv_transpose2d(*t, **options), arrays, rng, **TOL)


@pytest.mark.slow
def test_conv2d_sweep_matches_pytorch(compare_with_torch):
    pytest.importorskip("torch")
    F = torch.nn.functional
    for k, s, p, d, g in itertools.product([1, 2, 3, 5], [1, 2, 3], [0, 1, 2], [1, 2], [1, 2]):
        if d * (k - 1) + 1 > 8 + 2 * p:
            continue
        arrays = [rng.standard_normal((3, 4, 8, 7)), rng.standard_normal((6, 4 // g, k, k)), rng.standard_normal(6)]
        opts = dict(stride=s, padding=p, dilation=d, groups=g)
        compare_with_torch(lambda *t: conv2d(*t, **opts), lambda *t: F.conv2d(*t, **opts), arrays, rng, **TOL)
        for op in range(max(s, d)):
            arrays = [rng.standard_normal((2, 4, 4, 5)), rng.standard_normal((4, 6 // g, k, k)), rng.standard_normal(6)]
            opts_t = dict(stride=s, padding=p, dilation=d, groups=g, output_padding=op)
            if (4 - 1) * s - 2 * p + d * (k - 1) + op + 1 < 1:
                continue
            compare_with_torch(lambda *t: conv_transpose2d(*t, **opts_t), lambda *t: F.conv_transpose2d(*t, **opts_t), arrays,
                               rng, **TOL)


@pytest.mark.slow
@pytest.mark.parametrize(
    "k,s,p,d", [(k, s, p, d) for k in (1, 3, 5) for s in (1, 2, 3) for p in (0, 2) for d in (1, 2) if d * (k - 1) < 8 + 2 * p]
)
def test_conv2d_gradcheck_sweep(k, s, p, d):
    x, w, b = rng.standard_normal((2, 2, 8, 7)), rng.standard_normal((2, 2, k, k)), rng.standard_normal(2)
    assert gradcheck(lambda *t: conv2d(*t, stride=s, padding=p, dilation=d), [x, w, b])


@pytest.mark.slow
@pytest.mark.parametrize(
    "k,s,p,d,groups",
    [(k, s, p, d, g) for k in (2, 3) for s in (1, 2, 3) for p in (0, 1) for d in (1, 2) for g in (1, 2)],
)
def test_conv_transpose2d_gradcheck_sweep(k, s, p, d, groups):
    for output_padding in range(max(s, d)):
        x, w, b = rng.standard_normal((2, 4, 3, 2)), rng.standard_normal((4, 3, k, k)), rng.standard_normal(3 * groups)
        options = dict(stride=s, padding=p, output_padding=output_padding, dilation=d, groups=groups)
        assert gradcheck(lambda *t: conv_transpose2d(*t, **options), [x, w, b])


# -- bad input ------------------------------------------------------------------------------------------


def _t(*shape):
    return Tensor(np.zeros(shape))


@pytest.mark.parametrize(
    "call,error,message",
    [
        (lambda: conv2d(_t(1, 3, 8, 8), _t(4, 5, 3, 3)), ValueError,
         r"conv2d: input has 3 channels but weight expects 5 \(weight \(4, 5, 3, 3\), groups=1\)"),
        (lambda: conv2d(_t(1, 6, 8, 8), _t(4, 2, 3, 3), groups=4), ValueError,
         r"conv2d: channels must be divisible by groups=4, but the input has 6 channels"),
        (lambda: conv2d(_t(1, 4, 8, 8), _t(6, 2, 3, 3), groups=4), ValueError, r"conv2d: channels must be divisible by groups=4"),
        (lambda: conv2d(_t(1, 2, 3, 3), _t(4, 2, 5, 5)), ValueError,
         r"conv2d: the kernel \(5, 5\) with dilation \(1, 1\) spans 5 in height, more than the padded input \(3 \+ padding 0 = 3"),
        (lambda: conv2d(_t(1, 2, 5, 5), _t(4, 2, 3, 3), dilation=3), ValueError, r"spans 7 in height.*use a smaller kernel"),
        (lambda: conv2d(_t(8, 8), _t(4, 2, 3, 3)), ValueError, r"conv2d: input must be 4-D \(N, C, H, W\) \(or 3-D \(C, H, W\), unbatched\), got shape \(8, 8\)"),
        (lambda: conv2d(_t(1, 2, 8, 8), _t(4, 2, 3)), ValueError, r"conv2d: weight must be 4-D \(out_channels, in_channels/groups, kH, kW\)"),
        (lambda: conv2d(_t(1, 2, 8, 8), _t(4, 2, 3, 3), padding=-1), ValueError, r"conv2d: padding must be ≥ 0, got \(-1, -1\)"),
        (lambda: conv2d(_t(1, 2, 8, 8), _t(4, 2, 3, 3), stride=0), ValueError, r"conv2d: stride must be at least 1, got \(0, 0\)"),
        (lambda: conv2d(_t(1, 2, 8, 8), _t(4, 2, 3, 3), dilation=(1, 0)), ValueError, r"conv2d: dilation must be at least 1, got \(1, 0\)"),
        (lambda: conv2d(_t(1, 2, 8, 8), _t(4, 2, 3, 3), _t(3)), ValueError,
         r"conv2d: bias has shape \(3,\) but there are 4 output channels; bias must be \(4,\)"),
        (lambda: conv2d(_t(1, 2, 8, 8), _t(4, 2, 3, 3), stride=2, padding="same"), ValueError,
         r"conv2d: padding='same' needs stride 1, got stride \(2, 2\).*padding=\(1, 1\)"),
        (lambda: conv2d(_t(1, 2, 8, 8), _t(4, 2, 3, 3), padding="full"), ValueError, r"conv2d: padding must be an int, a pair, 'same' or 'valid'"),
        (lambda: conv2d(_t(1, 2, 8, 8), _t(4, 2, 3, 3), stride=1.5), TypeError, r"conv2d: stride must be an int or a pair of ints"),
        (lambda: conv2d(_t(1, 2, 8, 8), _t(4, 2, 3, 3), groups=0), ValueError, r"conv2d: groups must be at least 1"),
        (lambda: conv2d(np.zeros((1, 2, 8, 8)), _t(4, 2, 3, 3)), TypeError, r"conv2d: input must be a minigrad Tensor, got ndarray"),
        (lambda: conv_transpose2d(_t(1, 3, 4, 4), _t(5, 2, 3, 3)), ValueError,
         r"conv_transpose2d: input has 3 channels but weight expects 5 \(weight \(5, 2, 3, 3\), groups=1\)"),
        (lambda: conv_transpose2d(_t(1, 4, 4, 4), _t(4, 2, 3, 3), stride=2, output_padding=2), ValueError,
         r"conv_transpose2d: output_padding \(2, 2\) must be smaller than the stride \(2, 2\) or the dilation"),
        (lambda: conv_transpose2d(_t(1, 4, 4, 4), _t(4, 2, 3, 3), _t(4)), ValueError, r"conv_transpose2d: bias has shape \(4,\) but there are 2"),
        (lambda: conv_transpose2d(_t(1, 4, 1, 1), _t(4, 2, 1, 1), padding=1), ValueError, r"conv_transpose2d: the output size would be"),
        (lambda: conv_transpose2d(_t(1, 4, 4, 4), _t(4, 2, 3, 3), groups=3), ValueError, r"conv_transpose2d: channels must be divisible by groups=3"),
        (lambda: conv_transpose2d(_t(1, 4, 4, 4), _t(4, 2, 3, 3), padding=(0, -1)), ValueError, r"conv_transpose2d: padding must be ≥ 0"),
    ],
)
def test_bad_input_is_a_clear_error_before_numpy_sees_it(call, error, message):
    with pytest.raises(error, match=message):
        call()


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)
