"""No silent wrong results in the core: per-thread modes, dims that never wrap, real dtypes only, in-place
updates of leaves, edge cases that PyTorch answers with nan or inf, deep graphs copied without recursion."""
import copy
import pickle
import re
import threading

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import Tensor, Value, nn
from minigrad.core.scalar import Constant


def test_training_in_one_thread_is_untouched_by_another_toggling_no_grad_and_anomaly_mode():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    opt = mg.optim.SGD(model.parameters(), lr=0.01)
    x = Tensor(np.random.default_rng(0).standard_normal((16, 4)).astype(np.float32))
    y = np.random.default_rng(1).integers(0, 2, 16)
    stop, errors, toggles = threading.Event(), [], [0]

    def meddler():
        while not stop.is_set():
            with mg.no_grad():
                Tensor([1.0], requires_grad=True) * 2
            with mg.detect_anomaly():
                try:
                    Tensor([-1.0], requires_grad=True).log()  # this thread's anomaly mode: raises here only
                except mg.AnomalyError:
                    toggles[0] += 1

    other = threading.Thread(target=meddler)
    other.start()
    try:
        for _ in range(200):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            if model[0].weight.grad is None or not np.all(np.isfinite(model[0].weight.grad)):
                errors.append("the first layer got no gradient")
            opt.step()
            Tensor([-1.0], requires_grad=True).log()  # anomaly mode is the other thread's: no error here
    finally:
        stop.set()
        other.join(10)
    assert not errors and toggles[0] > 0
    assert mg.is_grad_enabled() and mg.core.engine.modes.anomaly is None


def test_overlapping_no_grad_blocks_in_two_threads_leave_grad_mode_on():
    barrier = threading.Barrier(2)

    def block():
        with mg.no_grad():
            barrier.wait(5)
        barrier.wait(5)

    threads = [threading.Thread(target=block) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert mg.is_grad_enabled() and (Tensor([1.0], requires_grad=True) * 2).requires_grad


@pytest.mark.parametrize("call, match", [
    (lambda x: x.flatten(4), r"flatten: dim 4 is out of range for a tensor with 4 dimensions \(expected in \[-4, 3\]\)"),
    (lambda x: x.unsqueeze(10), r"unsqueeze: dim 10 is out of range .*\[-5, 4\]"),
    (lambda x: x.squeeze(7), r"squeeze: dim 7 is out of range"),
    (lambda x: x.transpose(0, 9), r"transpose: dim 9 is out of range"),
    (lambda x: x.sum(dim=4), r"sum: dim 4 is out of range"),
    (lambda x: x.argmax(dim=4), r"argmax: dim 4 is out of range"),
    (lambda x: x.size(5), r"size: dim 5 is out of range"),
    (lambda x: nn.Flatten(4)(x), r"flatten: dim 4 is out of range"),
])
def test_out_of_range_dims_are_errors_never_wrapped(call, match):
    with pytest.raises(IndexError, match=match):
        call(Tensor(np.ones((2, 3, 4, 5))))


def test_dims_as_pytorch_reads_them():
    x = Tensor(np.ones((2, 1, 3)))
    assert x.unsqueeze(-1).shape == (2, 1, 3, 1) and x.unsqueeze(3).shape == (2, 1, 3, 1)
    assert x.squeeze((0, 1)).shape == (2, 3)  # a tuple; dim 0 has size 2 and stays
    assert Tensor(np.array(5.0)).squeeze(0).shape == ()  # 0-d: dim 0 is allowed, as in PyTorch
    assert x.sum(dim=()).shape == ()  # () reduces every dim, as PyTorch
    assert x.argmax(keepdim=True).shape == (1, 1, 1)
    with pytest.raises(TypeError, match="sum: dim must be an int or a tuple of ints, got 1.5"):
        x.sum(dim=1.5)


@pytest.mark.parametrize("array, words", [
    (np.array([1 + 2j]), "complex128 cannot be a tensor.*array.real"),
    (np.array(["a", "b"]), "<U1 cannot be a tensor.*astype"),
    (np.array([None, 1], dtype=object), "object cannot be a tensor"),
])
def test_complex_string_and_object_arrays_are_refused_naming_the_dtype(array, words):
    with pytest.raises(TypeError, match=words):
        Tensor(array)


def test_factories_refuse_bad_dtypes_values_and_steps():
    with pytest.raises(TypeError, match="ones: tensors hold booleans, integers or floats, not <U0"):
        mg.ones(2, dtype="str")
    with pytest.raises(ValueError, match="arange: step must be nonzero"):
        mg.arange(0, 10, 0)
    with pytest.raises(TypeError, match="full: the fill value must be a real number, got 'a'"):
        mg.full((2,), "a")
    mg.manual_seed(-1)  # PyTorch takes negative seeds
    a = mg.randn(3)
    mg.manual_seed(-1)
    assert np.array_equal(a.data, mg.randn(3).data)


def test_float16_mean_over_more_than_65504_elements_has_its_gradient():
    x = Tensor(np.ones(70_000, np.float16), requires_grad=True)
    x.mean().backward()
    assert x.grad.dtype == np.float16 and np.allclose(x.grad, 1 / 70_000, rtol=1e-2)


def test_a_leaf_that_requires_grad_cannot_be_updated_in_place_outside_no_grad():
    w = Tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    with pytest.raises(RuntimeError, match=r"-=: a leaf tensor that requires grad .* `with minigrad.no_grad\(\):`"):
        w -= 0.1 * w.grad
    with mg.no_grad():
        w -= 0.1 * w.grad  # in place, as an optimiser does: still the same leaf
    assert w._gate is None and w.requires_grad and np.allclose(w.data, [0.8, 1.6])
    h = w * 2
    h -= 1  # a computed tensor: a new node with the same values, as before
    assert h._gate.name == "sub"
    plain = Tensor([1.0])
    alias = plain
    alias += 1  # no grad: in place
    assert plain.tolist() == [2.0]


@pytest.mark.parametrize("update", ["**=", "@="])
def test_power_and_matmul_in_place_keep_a_leaf_a_leaf(update):
    w = Tensor(np.eye(2) * 2.0, requires_grad=True)
    other = 2 if update == "**=" else np.eye(2) * 3.0
    run = {"**=": lambda w: w.__ipow__(other), "@=": lambda w: w.__imatmul__(other)}[update]
    with pytest.raises(RuntimeError, match=rf"{re.escape(update)}: a leaf tensor that requires grad"):
        w = run(w)
    with mg.no_grad():
        same = run(w)  # in place, as -= under no_grad: still the same leaf
    assert same is w and w._gate is None and w.requires_grad
    assert np.allclose(w.data, np.eye(2) * (4.0 if update == "**=" else 6.0))
    h = run(w * 1.0)  # a computed tensor: a new node, as x ** 2 and x @ y
    assert h._gate.name == ("pow" if update == "**=" else "matmul")
    with mg.no_grad(), pytest.raises(ValueError, match=r"@=: cannot store the result in this tensor of shape \(2, 2\)"):
        w @= np.ones((2, 3))


@pytest.mark.parametrize("change", ["add_", "sub_", "mul_", "fill_", "copy_", "__setitem__"])
def test_in_place_changes_refuse_complex_values_and_name_themselves(change):
    """They cast with casting="unsafe": a complex value lost its imaginary part; sub_'s errors said add_."""
    t = Tensor([1.0, 2.0])
    call = (lambda: t.__setitem__(0, 1j)) if change == "__setitem__" else (lambda: getattr(t, change)(np.array(1j)))
    with pytest.raises(TypeError, match=rf"{re.escape(change)}: a complex value cannot be stored.*value\.real"):
        call()
    assert t.tolist() == [1.0, 2.0]
    w = Tensor([1.0], requires_grad=True)
    if change in ("add_", "sub_", "mul_"):
        with pytest.raises(RuntimeError, match=rf"^{change}: cannot change in place a tensor that requires grad"):
            getattr(w, change)(1)


def test_edge_cases_pytorch_answers_with_nan_or_inf():
    t = Tensor([1.0], requires_grad=True)
    v = t.var(unbiased=True)
    v.backward()
    assert np.isnan(v.item()) and np.isnan(t.grad[0])
    z = Value(0.0)
    (z**0.5).backward()
    assert z.grad == float("inf")
    e = Tensor(np.zeros((2, 0)), requires_grad=True)
    assert F.softmax(e, 1).shape == (2, 0) and F.log_softmax(e, 1).shape == (2, 0)
    with pytest.raises(TypeError, match="backward: grad must be an array"):
        (Tensor([1.0], requires_grad=True) * 2).backward("abc")


def test_deep_graphs_copy_and_pickle_without_recursion():
    y = Value(0.5)
    for _ in range(5_000):
        y = (y * 1.0001).tanh()
    copied = copy.deepcopy(y)
    assert copied.data == y.data and copied is not y
    restored = pickle.loads(pickle.dumps(y))
    restored.backward()
    assert restored.data == y.data
    # the numbers stay numbers (no gradient), and the copy backprops to the same leaf gradient
    mul = restored._inputs[0]
    assert mul._gate.name == "mul" and mul._inputs[1].__class__ is Constant and mul._inputs[1] == 1.0001
    x = y
    while x._inputs:
        x = x._inputs[0]
    y.backward()
    first = restored
    while first._inputs:
        first = first._inputs[0]
    assert first.grad == x.grad != 0.0 and copied._inputs[0]._inputs[1].__class__ is Constant
    t = Tensor(np.ones(3), requires_grad=True)
    u = t
    for _ in range(5_000):
        u = u * 1.0
    leaf = pickle.loads(pickle.dumps(u))  # as PyTorch: the values, as a leaf
    assert leaf._gate is None and leaf.requires_grad and leaf.tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(RuntimeError, match="deepcopy: only leaf tensors"):
        copy.deepcopy(u)


def test_models_still_copy_and_pickle():
    model = mg.models.lenet5()
    twin = copy.deepcopy(model)
    assert twin[0].weight is not model[0].weight and type(twin[0].weight).__name__ == "Parameter"
    assert twin[0]._parent() is twin
    again = pickle.loads(pickle.dumps(model))
    assert np.array_equal(again[0].weight.data, model[0].weight.data) and again[0].weight.label == "0.weight"


ZERO_D = {  # op name in minigrad's message: the call, on a 0-d tensor z and the library m (minigrad or torch)
    "size": lambda m, z: z.size(0), "size ": lambda m, z: z.size(-1), "split": lambda m, z: z.split(1, 0),
    "chunk": lambda m, z: z.chunk(1, 0), "cat": lambda m, z: m.cat([z, z]), "cat ": lambda m, z: m.cat([z, z], -1),
    "stack": lambda m, z: m.stack([z, z], 1), "stack ": lambda m, z: m.stack([z, z]), "sum": lambda m, z: z.sum(0),
    "unsqueeze": lambda m, z: z.unsqueeze(0), "unsqueeze ": lambda m, z: z.unsqueeze(1),
    "transpose": lambda m, z: z.transpose(0, -1), "flatten": lambda m, z: z.flatten(0), "amax": lambda m, z: z.amax(0),
    "argmax": lambda m, z: z.argmax(0), "prod": lambda m, z: z.prod(0), "logsumexp": lambda m, z: z.logsumexp(0),
    "flip": lambda m, z: z.flip(0),
}


@pytest.mark.parametrize("name", ZERO_D)
def test_0d_tensors_take_the_dims_pytorch_takes_and_refuse_the_others_by_name(name, torch_on_one_thread):
    """size(0), split and cat of a 0-d tensor were a bare "IndexError: tuple index out of range"."""
    torch = torch_on_one_thread or pytest.importorskip("torch")
    call = ZERO_D[name]
    try:
        call(torch, torch.tensor(5.0))
        torch_accepts = True
    except (IndexError, RuntimeError):
        torch_accepts = False
    z = Tensor(np.array(5.0))
    if torch_accepts:
        call(mg, z)
    else:
        with pytest.raises((IndexError, ValueError), match=rf"^{name.strip()}: .*(0-d|0 dimensions)"):
            call(mg, z)
