"""Forward values and gradients against PyTorch, when it is installed (skipped otherwise)."""
import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

rng = np.random.default_rng(0)
POS = rng.uniform(0.5, 2.0, (3, 4))
A, B = rng.standard_normal((3, 4)), rng.standard_normal((1, 4))

CASES = {
    "add": (lambda a, b: a + b, lambda a, b: a + b, [A, B]),
    "sub": (lambda a, b: a - b, lambda a, b: a - b, [A, B]),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, [A, B]),
    "div": (lambda a, b: a / b, lambda a, b: a / b, [A, POS[:1]]),
    "pow tensor": (lambda a, b: a**b, lambda a, b: a**b, [POS, B]),
    "pow number": (lambda a: a**3, lambda a: a**3, [A]),
    "exp log sqrt": (lambda a: a.exp().log().sqrt(), lambda a: a.exp().log().sqrt(), [POS]),
    "abs relu": (lambda a: a.abs() + a.relu(), lambda a: a.abs() + a.relu(), [A]),
    "sigmoid tanh": (lambda a: a.sigmoid() * a.tanh(), lambda a: a.sigmoid() * a.tanh(), [A]),
    "maximum": (lambda a, b: mg.maximum(a, b), lambda a, b: torch.maximum(a, b), [A, A[::-1].copy()]),
    "sum dim": (lambda a: a.sum(dim=1, keepdim=True), lambda a: a.sum(dim=1, keepdim=True), [A]),
    "mean tuple": (lambda a: a.mean(dim=(0, 1)), lambda a: a.mean(dim=(0, 1)), [A]),
    "var": (lambda a: a.var(dim=0), lambda a: a.var(dim=0, unbiased=False), [A]),
    "var unbiased": (lambda a: a.var(dim=1, unbiased=True), lambda a: a.var(dim=1, unbiased=True), [A]),
    "max dim": (lambda a: a.max(dim=1), lambda a: a.amax(dim=1), [A]),
    "max ties": (lambda a: a.max(dim=1), lambda a: a.amax(dim=1), [np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])]),
    "matmul batched": (lambda a, b: a @ b, lambda a, b: a @ b, [rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5))]),
    "matmul vector": (lambda a, b: a @ b, lambda a, b: a @ b, [rng.standard_normal(4), rng.standard_normal((2, 4, 3))]),
    "reshape permute": (lambda a: a.reshape(2, 6).permute(1, 0), lambda a: a.reshape(2, 6).permute(1, 0), [A]),
    "index": (lambda a: a[np.array([0, 0, 2]), 1:], lambda a: a[torch.tensor([0, 0, 2]), 1:], [A]),
    "cat stack": (
        lambda a, b: mg.stack([mg.cat([a, b], dim=0), mg.cat([b, a], dim=0)], dim=1),
        lambda a, b: torch.stack([torch.cat([a, b], dim=0), torch.cat([b, a], dim=0)], dim=1),
        [A, B],
    ),
    "pad": (lambda a: mg.pad(a, (1, 2, 0, 1)), lambda a: torch.nn.functional.pad(a, (1, 2, 0, 1)), [A]),
    "where": (
        lambda a, b: mg.where(A > 0, a, b),
        lambda a, b: torch.where(torch.tensor(A > 0), a, b),
        [A, B],
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_forward_and_gradients_match_pytorch(name, compare_with_torch):
    ours, theirs, inputs = CASES[name]
    compare_with_torch(ours, theirs, inputs, rng, rtol=1e-10, atol=1e-12)
