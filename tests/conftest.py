"""Shared test fixtures, and the rule that CI skips nothing for a missing dependency."""
import os

import numpy as np
import pytest

MISSING = ("could not import", "is not installed", "no Chromium")
"""Words of a skip whose cause is a missing optional dependency (pytest.importorskip says the first)."""


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """With MINIGRAD_REQUIRE_ALL set (CI sets it), a test skipped for a missing dependency fails instead:
    every cross-check with PyTorch, every browser and notebook test must really run there."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("MINIGRAD_REQUIRE_ALL"):
        reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if any(words in reason for words in MISSING):
            report.outcome = "failed"
            report.longrepr = f"MINIGRAD_REQUIRE_ALL is set, but this test was skipped: {reason}"


@pytest.fixture
def torch_on_one_thread():
    """PyTorch on one thread for the duration of a test (restored afterwards).

    Its tiny float64 convolutions take ~100× longer on 2 threads when the cores are busy (its
    threads spin-wait), and the cross-checks compare values, not speed. Yields torch, or None when
    it is not installed.
    """
    try:
        import torch
    except ImportError:
        yield None
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(threads)


@pytest.fixture
def compare_with_torch(torch_on_one_thread):
    """``compare(ours, theirs, arrays, rng, rtol, atol, out_atol=None)``: run ``ours`` on minigrad Tensors and
    ``theirs`` on torch tensors made from copies of the same float64 ``arrays``; the outputs must agree
    (``out_atol``, default ``atol``) and so must every input's gradient after backward of the same random
    upstream gradient (drawn from ``rng``). Skips the test when torch is not installed."""
    if torch_on_one_thread is None:
        pytest.skip("torch is not installed (pip install torch==2.13.0)")
    torch = torch_on_one_thread

    def compare(ours, theirs, arrays, rng, rtol, atol, out_atol=None):
        from minigrad import Tensor

        xs = [Tensor(a.copy(), requires_grad=True) for a in arrays]
        ts = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
        out, ref = ours(*xs), theirs(*ts)
        np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=rtol, atol=atol if out_atol is None else out_atol)
        upstream = rng.standard_normal(out.shape)
        out.backward(upstream)
        ref.backward(torch.tensor(upstream))
        for x, t in zip(xs, ts):
            np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=rtol, atol=atol)

    return compare
