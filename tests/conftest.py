"""Shared test fixtures."""
import pytest


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
