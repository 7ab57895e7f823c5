"""float16 over more elements than float16 can count (65,504): every gate that averages sums in float32 and
divides by a count it never rounds to float16, as PyTorch does, and answers in float16."""
import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F

N = 70_000
rng = np.random.default_rng(0)
X = rng.standard_normal(N).astype(np.float16)
PROBS = rng.uniform(0.01, 0.99, N).astype(np.float16)
BITS = (rng.uniform(size=N) > 0.5).astype(np.float16)
ZEROS = np.zeros(N, np.float16)
IMAGE = X.reshape(1, 1, 280, 250)
MAPS = rng.standard_normal((1, 2, 280, 250)).astype(np.float16)
PROBE = (rng.standard_normal(MAPS.shape) * 0.01).astype(np.float16)  # a loss Σ y·probe: gradients ~0.01
LOGITS = rng.standard_normal((N, 3)).astype(np.float16)
LABELS = rng.integers(0, 3, N)

# name: (loss of (functional module, constant maker, x), input). The same code runs on minigrad and on torch.
CASES = {
    "sum": (lambda F, T, x: x.sum(), X),
    "var": (lambda F, T, x: x.var(unbiased=False), X),
    "var_unbiased": (lambda F, T, x: x.var(unbiased=True), X),
    "var_dim": (lambda F, T, x: x.reshape(1, N).var(1, unbiased=False).sum(), X),
    "std": (lambda F, T, x: x.std(), X),
    "mse_loss": (lambda F, T, x: F.mse_loss(x, T(ZEROS)), X),
    "l1_loss": (lambda F, T, x: F.l1_loss(x, T(ZEROS)), X),
    "smooth_l1_loss": (lambda F, T, x: F.smooth_l1_loss(x, T(ZEROS)), X),
    "huber_loss": (lambda F, T, x: F.huber_loss(x, T(ZEROS)), X),
    "kl_div_mean": (lambda F, T, x: F.kl_div(x, T(PROBS), reduction="mean"), X),
    "binary_cross_entropy": (lambda F, T, x: F.binary_cross_entropy(x, T(BITS)), PROBS),
    "bce_with_logits": (lambda F, T, x: F.binary_cross_entropy_with_logits(x, T(BITS)), X),
    "cross_entropy": (lambda F, T, x: F.cross_entropy(x, T(LABELS)), LOGITS),
    "cross_entropy_smoothed": (lambda F, T, x: F.cross_entropy(x, T(LABELS), label_smoothing=0.1), LOGITS),
    "cross_entropy_probs": (lambda F, T, x: F.cross_entropy(x, T(np.full((N, 3), 1 / 3, np.float16))), LOGITS),
    "nll_loss": (lambda F, T, x: F.nll_loss(x, T(LABELS)), LOGITS),
    "adaptive_avg_pool2d": (lambda F, T, x: F.adaptive_avg_pool2d(x, 1).sum(), IMAGE),
    "adaptive_avg_pool2d_bins": (lambda F, T, x: F.adaptive_avg_pool2d(x, (3, 1)).sum(), IMAGE),
    "avg_pool2d": (lambda F, T, x: F.avg_pool2d(x, (280, 250)).sum(), IMAGE),
    "avg_pool2d_uncounted_pad": (lambda F, T, x: F.avg_pool2d(x, (280, 250), 1, 1, count_include_pad=False).sum(),
                                 IMAGE),
    "batch_norm": (lambda F, T, x: (F.batch_norm(x, None, None, training=True) * T(PROBE)).sum(), MAPS),
    "layer_norm": (lambda F, T, x: (F.layer_norm(x, (2, 280, 250)) * T(PROBE)).sum(), MAPS),
    "group_norm": (lambda F, T, x: (F.group_norm(x, 1) * T(PROBE)).sum(), MAPS),
    "instance_norm": (lambda F, T, x: (F.instance_norm(x) * T(PROBE)).sum(), MAPS),
}
# PyTorch's own float16 count overflows here (its mean divides by a float16 total weight or kernel size:
# nan or a gradient of 0); the reference is PyTorch in float32 on the same float16 values
TORCH_HALF_OVERFLOWS = {"cross_entropy", "cross_entropy_smoothed", "cross_entropy_probs", "nll_loss", "avg_pool2d",
                        "avg_pool2d_uncounted_pad"}


def _torch_reference(torch, name, loss, data):
    import torch.nn.functional as TF

    dtype = torch.float32 if name in TORCH_HALF_OVERFLOWS else torch.float16

    def constant(a):
        return torch.tensor(a.astype(np.float32) if a.dtype == np.float16 and dtype == torch.float32 else a)

    x = torch.tensor(data, dtype=dtype, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # kl_div's reduction="mean" is deprecated in PyTorch
        value = loss(TF, constant, x)
    value.backward()
    return np.float16(value.item()), x.grad.numpy().astype(np.float16)


@pytest.mark.filterwarnings("ignore:reduction. .mean. divides the total loss:UserWarning")  # kl_div's, as PyTorch warns
@pytest.mark.parametrize("name", CASES)
def test_float16_past_65504_elements_matches_pytorch(name, torch_on_one_thread):
    torch = torch_on_one_thread or pytest.importorskip("torch")
    loss, data = CASES[name]
    x = mg.tensor(data.copy(), requires_grad=True)
    value = loss(F, mg.tensor, x)
    value.backward()
    assert value.dtype == np.float16 and x.grad.dtype == np.float16
    want, want_grad = _torch_reference(torch, name, loss, data)
    assert np.isfinite(value.item()) and np.isclose(value.item(), want, rtol=2e-2, atol=2e-3), (value.item(), want)
    scale = float(np.abs(want_grad.astype(np.float32)).max())
    assert scale > 0
    np.testing.assert_allclose(x.grad.astype(np.float32), want_grad.astype(np.float32), rtol=2e-2, atol=2e-2 * scale)


def test_float16_batch_norm_running_statistics_match_pytorch(torch_on_one_thread):
    torch = torch_on_one_thread or pytest.importorskip("torch")
    mean, var = np.zeros(2, np.float16), np.ones(2, np.float16)
    F.batch_norm(mg.tensor(MAPS), mean, var, training=True)
    tmean, tvar = torch.zeros(2, dtype=torch.float16), torch.ones(2, dtype=torch.float16)
    torch.nn.functional.batch_norm(torch.tensor(MAPS), tmean, tvar, training=True)
    np.testing.assert_allclose(mean, tmean.numpy(), atol=1e-3)
    np.testing.assert_allclose(var, tvar.numpy(), rtol=2e-3)


@pytest.mark.parametrize("name", ["var", "mse_loss", "l1_loss", "cross_entropy", "batch_norm", "layer_norm",
                                  "adaptive_avg_pool2d", "avg_pool2d"])
def test_float16_second_derivative_graphs_share_out_the_count_too(name):
    loss, data = CASES[name]
    x = mg.tensor(data.copy(), requires_grad=True)
    (graph_grad,) = mg.autograd.grad(loss(F, mg.tensor, x), [x], create_graph=True)
    x.grad = None
    loss(F, mg.tensor, x).backward()
    assert graph_grad.dtype == np.float16 and np.abs(x.grad).max() > 0
    np.testing.assert_allclose(graph_grad.data.astype(np.float32), x.grad.astype(np.float32), rtol=1e-2,
                               atol=1e-2 * float(np.abs(x.grad).max()))
