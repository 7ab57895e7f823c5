"""Tensor: dtype rules, the shared engine, hooks, retain_grad, no_grad, freeing memory, clear errors."""
import gc
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor, no_grad
from minigrad.core import records


def test_dtype_rules():
    assert Tensor([1, 2]).dtype == np.float32
    assert Tensor(3).dtype == np.float32
    assert Tensor(np.ones(2)).dtype == np.float64
    assert Tensor(np.ones(2, dtype=np.float32)).dtype == np.float32
    assert Tensor(np.arange(3)).dtype == np.int64
    assert mg.tensor([1.5]).dtype == np.float32


def test_basic_attributes():
    x = Tensor(np.arange(6.0).reshape(2, 3))
    assert x.shape == (2, 3) and x.ndim == 2 and x.numel() == 6 and len(x) == 2
    assert np.asarray(x) is x.data and x.numpy() is x.data
    assert Tensor([4.0]).item() == 4.0
    assert x.grad is None and not x.requires_grad


def test_repr_shows_shape_dtype_and_gate():
    x = Tensor([1.0, 2.0], requires_grad=True, label="x")
    assert "shape=(2,)" in repr(x) and "float32" in repr(x) and "requires_grad=True" in repr(x)
    y = x * 2
    assert "gate=mul" in repr(y)
    assert "[" not in repr(Tensor(np.zeros((10, 10)))).split("shape")[0]  # large arrays: no values


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients, this one is int64"):
        Tensor(np.arange(3), requires_grad=True)


def test_tensor_rejects_junk():
    with pytest.raises(TypeError, match="Tensor: expected a numpy array, a list or a number"):
        Tensor({"a": 1})
    with pytest.raises(TypeError, match="Tensor"):
        Tensor(["a", "b"])


def test_same_engine_and_step_stream_as_values():
    x = Tensor([1.0, -2.0, 3.0, -1.0], requires_grad=True)
    w = Tensor([2.0, 2.0, 2.0, 2.0], requires_grad=True)
    loss = (x * w).relu().sum()
    steps = list(loss.backward_steps())
    assert [s.gate for s in steps] == ["sum", "relu", "mul"]
    relu = steps[1]
    assert relu.upstream.tolist() == [1.0, 1.0, 1.0, 1.0]
    assert relu.local[0].tolist() == [1.0, 0.0, 1.0, 0.0]
    assert relu.downstream[0].tolist() == [1.0, 0.0, 1.0, 0.0]
    assert steps[2].local[0] is w.data  # mul swaps: x's local gradient is w
    assert x.grad.tolist() == [2.0, 0.0, 2.0, 0.0]
    assert str(relu).startswith("relu: upstream [1.0, 1.0, 1.0, 1.0] × local ([1.0, 0.0, 1.0, 0.0])")


def test_step_text_of_a_large_tensor_is_a_summary():
    x = Tensor(np.ones((100, 100)), requires_grad=True)
    (step,) = [s for s in x.exp().sum().backward_steps() if s.gate == "exp"]
    text = str(step)
    assert "(100, 100) ‖·‖=" in text and len(text) < 300


def test_fan_out_gives_a_copy_step_with_arrays():
    x = Tensor([1.0, 2.0], requires_grad=True)
    steps = list((x * x).sum().backward_steps())
    copy = steps[-1]
    assert copy.gate == "copy"
    assert [u.tolist() for u in copy.upstream] == [[1.0, 2.0], [1.0, 2.0]]
    assert copy.downstream[0].tolist() == [2.0, 4.0]


def test_backward_twice_accumulates_leaf_grads_with_retain_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [6.0, 6.0]


def test_second_backward_through_a_freed_graph_is_a_clear_error():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time.*retain_graph=True"):
        y.backward()


def test_backward_frees_saved_arrays_without_retain_graph():
    x = Tensor(np.ones((50, 50)), requires_grad=True)
    h = x.exp()
    y = (h * x).sum()
    big = weakref.ref(h.data)
    gates = [h._gate, y._inputs[0]._gate]
    y.backward()
    assert all(g.saved is None and g.released for g in gates)
    # intermediate gradients dropped as the loop went: the record keeps a (50, 50) gradient's shape and norm only
    assert isinstance(h._g, records.Summary) and h._g.shape == (50, 50) and h._g.norm == pytest.approx(50.0)  # dL/dh = x, all ones
    del h, y, gates
    gc.collect()
    assert big() is None


def test_retain_graph_keeps_saved_arrays_and_intermediate_gradients():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    y = h.sum()
    y.backward(retain_graph=True)
    assert h._gate.saved is not None
    np.testing.assert_allclose(records.record_of(h, records.last_pass(h))[records.GRAD], [1.0, 1.0])  # recorded at h
    assert h.grad is None  # a non-leaf's .grad stays None unless retain_grad(), as in PyTorch


def test_backward_needs_grad_for_non_scalar_outputs():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"grad can be implied only for a one-element output; this one has shape \(2, 3\)"):
        (x * 2).backward()
    (x * 2).backward(np.ones((2, 3)))
    assert x.grad.tolist() == [[2.0] * 3] * 2
    with pytest.raises(ValueError, match="grad has shape"):
        (x * 2).backward(np.ones(3))


def test_backward_on_a_tensor_outside_any_graph_is_a_clear_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).backward()


def test_hooks_see_the_upstream_gradient_and_can_replace_it():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    seen = []
    handle = h.register_hook(lambda g: seen.append(g.copy()))
    h.register_hook(lambda g: g * 10)
    (h * Tensor([3.0, 4.0])).sum().backward(retain_graph=True)
    assert seen[0].tolist() == [3.0, 4.0]
    assert x.grad.tolist() == [60.0, 80.0]
    handle.remove()
    x.grad = None
    (h * 1).sum().backward()
    assert len(seen) == 1
    assert x.grad.tolist() == [20.0, 20.0]


def test_hook_on_a_leaf_runs_before_accumulation():
    x = Tensor([1.0], requires_grad=True)
    x.register_hook(lambda g: g * 0)
    (x * 5).sum().backward()
    assert x.grad.tolist() == [0.0]


def test_retain_grad_fills_a_non_leaf():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = (x * 3).retain_grad()
    (h * h).sum().backward()
    assert h.grad.tolist() == [6.0, 12.0]


def test_no_grad_builds_no_graph():
    x = Tensor([1.0], requires_grad=True)
    with no_grad():
        y = x * 2
    assert not y.requires_grad and y._gate is None and y._inputs == ()
    assert mg.is_grad_enabled()

    @no_grad()
    def f(t):
        return t * 3

    assert not f(x).requires_grad


def test_detach_and_requires_grad_():
    x = Tensor([1.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d._gate is None
    d.requires_grad_()
    assert d.requires_grad


def test_in_place_change_of_a_saved_input_is_detected():
    x = Tensor([1.0, 2.0], requires_grad=True)
    w = Tensor([3.0, 4.0])
    y = (x * w).sum()
    w.mul_(2)
    with pytest.raises(RuntimeError, match=r"mul: input 1 \(shape \(2,\)\) was modified in place .*version 0 -> 1"):
        y.backward()


def test_in_place_change_of_an_input_add_does_not_need_is_fine():
    x = Tensor([1.0, 2.0], requires_grad=True)
    w = Tensor([3.0, 4.0])
    y = (x + w).sum()
    w[0] = 7.0
    y.backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_in_place_change_of_a_saved_output_is_detected():
    # exp keeps its output for backward (d/dx eˣ = eˣ): scaling that output must not scale dL/dx silently
    x = Tensor([0.0, 1.0], requires_grad=True)
    y = x.exp()
    with no_grad():
        y.mul_(10)
    with pytest.raises(RuntimeError, match=r"exp: its output \(shape \(2,\)\) was modified in place .*version 0 -> 1"):
        y.sum().backward()


def test_views_and_detached_tensors_share_the_version_counter():
    # the same array under another name: changing it in place is changing the saved value
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    x.detach().mul_(3)
    with pytest.raises(RuntimeError, match="mul: input 0 .* was modified in place"):
        y.backward()
    w = Tensor([1.0, 2.0])
    z = (Tensor([1.0, 2.0], requires_grad=True) * w).sum()
    w.reshape(2, 1)[0] = 9.0
    with pytest.raises(RuntimeError, match="mul: input 1 .* was modified in place"):
        z.backward()


def test_a_copy_is_not_a_view():
    w = Tensor(np.arange(6.0).reshape(2, 3))
    x = Tensor(np.ones((3, 2)), requires_grad=True)
    y = (x * w.T).sum()  # the transpose is a view of w: it shares w's counter
    copied = w.T.reshape(6)  # a transposed array cannot be reshaped without a copy: a new counter
    copied[0] = 5.0
    y.backward()
    assert x.grad.tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]
    a = np.array(w)  # np.array copies, as for any array-like
    a[0, 0] = 7.0
    assert w.data[0, 0] == 0.0 and np.asarray(w) is w.data


def test_in_place_on_a_tensor_that_requires_grad_needs_no_grad():
    p = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="add_: cannot change in place a tensor that requires grad"):
        p.add_(1.0)
    with no_grad():
        p.add_(Tensor([1.0, 1.0]), alpha=-0.5)
    assert p.data.tolist() == [0.5, 1.5] and p._version == 1


def test_comparisons_are_boolean_tensors_outside_the_graph():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    assert (x > 1.5).tolist() == [False, True, True]
    assert (x == Tensor([1.0, 0.0, 3.0])).tolist() == [True, False, True]
    assert not (x > 1).requires_grad
    assert x in {x: 1}  # still hashable by identity


def test_cast_keeps_gradients_in_the_input_dtype():
    x = Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    y = x.double()
    assert y.dtype == np.float64
    (y * 2).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [2.0, 2.0]


def test_a_deep_chain_of_tensor_gates_has_no_recursion():
    # 20,000 gates, 20x Python's recursion limit (the 1,000,000-gate chains are the scalar tests' and bench/'s)
    x = Tensor([1.0], requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y * 1.0
    y.sum().backward()
    assert x.grad.tolist() == [1.0]


def test_the_small_torch_methods_match_pytorch(compare_with_torch):
    # issue 17, item 13: Tensor.pow, softmax/log_softmax, view, sum(dim=()) reducing everything
    import torch

    a = np.random.default_rng(0).uniform(0.5, 2.0, (2, 3, 4))
    cases = [(lambda t: t.pow(2.5), lambda t: t.pow(2.5)), (lambda t: t.pow(Tensor(a[0, 0])), None),
             (lambda t: t.softmax(1), lambda t: t.softmax(1)),
             (lambda t: t.log_softmax(-1), lambda t: t.log_softmax(-1)),
             (lambda t: t.view(6, -1), lambda t: t.view(6, -1)), (lambda t: t.view(-1), lambda t: t.view(-1)),
             (lambda t: t.sum(dim=()), lambda t: t.sum(dim=()))]
    for ours, theirs in cases:
        if theirs is None:
            e = torch.tensor(a[0, 0])
            theirs = lambda t, e=e: t.pow(e)  # noqa: E731
        compare_with_torch(ours, theirs, [a], np.random.default_rng(1), rtol=1e-13, atol=1e-14)
    t = Tensor(a)
    assert t.argmax(keepdim=True).shape == (1, 1, 1) == tuple(torch.tensor(a).argmax(keepdim=True).shape)
    assert t.argmax(keepdim=True).item() == torch.tensor(a).argmax().item()


def test_view_as_and_neg_as_torch():
    x = Tensor(np.arange(6.0), requires_grad=True)
    y = x.view_as(Tensor(np.ones((2, 3))))
    assert y.shape == (2, 3) and y._gate.name == "reshape"
    assert x.neg().tolist() == (-x).tolist()
