"""The module cross-check: a minigrad module and PyTorch's, with the same parameters, on the same inputs."""
import numpy as np
import pytest


@pytest.fixture
def compare_modules(torch_on_one_thread):
    """``check(ours, theirs, *arrays, grads=None, seed=0, tol=1e-10)``: make both modules float64, give PyTorch's
    random parameters (so γ = 1, β = 0 hide nothing) and copy its ``state_dict`` into ours -- the keys must be
    the same, in the same order -- then run both on the same ``arrays``. The outputs must agree to ``tol``
    (absolute and relative), and after backward of the same random upstream gradient so must the gradient
    of every float input (or those whose positions ``grads`` lists) and of every parameter, by name.
    A module returning a tuple is compared element by element, its first element backpropagated.
    Returns (ours' output, PyTorch's output). Skips the test when torch is not installed."""
    torch = torch_on_one_thread
    if torch is None:
        pytest.skip("torch is not installed (pip install torch==2.13.0)")
    from minigrad import Tensor

    def check(ours, theirs, *arrays, grads=None, seed=0, tol=1e-10):
        rng = np.random.default_rng(seed)
        theirs.double()
        with torch.no_grad():
            for p in theirs.parameters():
                p.copy_(torch.tensor(rng.uniform(0.5, 1.5, tuple(p.shape)) * rng.choice([-1, 1], tuple(p.shape))))
        state = {k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()}
        assert list(ours.state_dict()) == list(state)
        ours.double().load_state_dict(state)
        grads = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"] if grads is None else grads
        xs = [Tensor(a.copy(), requires_grad=i in grads) for i, a in enumerate(arrays)]
        ts = [torch.tensor(a.copy(), requires_grad=i in grads) for i, a in enumerate(arrays)]
        out, ref = ours(*xs), theirs(*ts)
        outs, refs = (out, ref) if isinstance(out, tuple) else ((out,), (ref,))
        assert len(outs) == len(refs)
        for o, r in zip(outs, refs):
            assert o.shape == tuple(r.shape)
            np.testing.assert_allclose(o.data, r.detach().numpy(), rtol=tol, atol=tol)
        upstream = rng.standard_normal(outs[0].shape)
        outs[0].backward(upstream)
        refs[0].backward(torch.tensor(upstream))
        for i in grads:
            np.testing.assert_allclose(xs[i].grad, ts[i].grad.numpy(), rtol=tol, atol=tol, err_msg=f"input {i}")
        mine, theirs_ = dict(ours.named_parameters()), dict(theirs.named_parameters())
        assert list(mine) == list(theirs_)
        for name, p in theirs_.items():
            np.testing.assert_allclose(mine[name].grad, p.grad.numpy(), rtol=tol, atol=tol, err_msg=name)
        return out, ref

    return check
