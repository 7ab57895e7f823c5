"""expand/expand_as, repeat, split/chunk, flip (and squeeze with a tuple, view): PyTorch's arguments and errors,
gradients at every index, second derivatives, and PyTorch."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor, gradcheck, gradgradcheck

rng = np.random.default_rng(0)
A = rng.standard_normal((2, 3, 4))
CASES = {
    "expand": (lambda x: x[:, :1].expand(3, -1, 5, 4), lambda x: x[:, :1].expand(3, -1, 5, 4)),
    "expand tuple": (lambda x: x[:1].expand((2, 3, 4)), lambda x: x[:1].expand((2, 3, 4))),
    "expand_as": (lambda x: x[0, :, :1].expand_as(x), lambda x: x[0, :, :1].expand_as(x)),
    "repeat": (lambda x: x.repeat(2, 1, 3), lambda x: x.repeat(2, 1, 3)),
    "repeat new dims": (lambda x: x.repeat(2, 1, 2, 1), lambda x: x.repeat(2, 1, 2, 1)),
    "split int": (lambda x: x.split(3, dim=2)[1], lambda x: x.split(3, dim=2)[1]),
    "split sections": (lambda x: mg.split(x, [1, 2], 1)[1] * 2, lambda x: x.split([1, 2], 1)[1] * 2),
    "chunk": (lambda x: x.chunk(2, -1)[0], lambda x: x.chunk(2, -1)[0]),
    "chunk uneven": (lambda x: mg.chunk(x, 2, 1)[1], lambda x: x.chunk(2, 1)[1]),
    "flip": (lambda x: mg.flip(x, (0, 2)), lambda x: x.flip((0, 2))),
    "flip method": (lambda x: x.flip(1), lambda x: x.flip(1)),
    "squeeze tuple": (lambda x: x[:, :1, :1].squeeze((1, 2)), lambda x: x[:, :1, :1].squeeze((1, 2))),
    "view": (lambda x: x.view(4, -1), lambda x: x.view(4, -1)),
}


@pytest.mark.parametrize("name", CASES)
def test_rearrangements_gradcheck_and_match_pytorch(name, compare_with_torch):
    ours, theirs = CASES[name]
    assert gradcheck(ours, [A])
    assert gradgradcheck(lambda x: ours(x) ** 2, [A])
    compare_with_torch(ours, theirs, [A], rng, rtol=1e-14, atol=1e-15)  # repeat sums its copies: summation order


def test_split_and_chunk_shapes_are_torchs(torch_on_one_thread):
    x = Tensor(np.arange(10.0))
    assert [c.shape for c in x.chunk(4)] == [(3,), (3,), (3,), (1,)]
    assert [c.shape for c in Tensor(np.arange(5.0)).chunk(4)] == [(2,), (2,), (1,)]
    assert [c.shape for c in x.split(4)] == [(4,), (4,), (2,)]
    assert [c.tolist() for c in x.split([2, 8])][0] == [0.0, 1.0]
    if torch_on_one_thread is not None:
        t = torch_on_one_thread.arange(10.0)
        for k in range(1, 12):
            assert [c.shape for c in x.chunk(k)] == [tuple(c.shape) for c in t.chunk(k)]
            assert [c.shape for c in x.split(k)] == [tuple(c.shape) for c in t.split(k)]


def test_pieces_are_views_and_one_gate_each():
    x = Tensor(A, requires_grad=True)
    first, second = x.split([1, 1], 0)
    assert first._gate.name == "index" and first._inputs == (x,)
    assert x.repeat(1, 2, 1)._gate.name == "repeat" and mg.flip(x, 0)._gate.name == "index"


def test_rearrangement_errors_name_the_op_and_the_fix():
    x = Tensor(A)
    with pytest.raises(ValueError, match=r"expand: dimension 1 of shape \(2, 3, 4\) has size 3, which cannot expand"):
        x.expand(2, 5, 4)
    with pytest.raises(ValueError, match=r"expand: the number of sizes \(2\) must be at least the tensor's dim"):
        x.expand(3, 4)
    with pytest.raises(ValueError, match="expand: -1 is not allowed for a new leading dimension"):
        x.expand(-1, 2, 3, 4)
    with pytest.raises(ValueError, match=r"repeat: the number of repeats \(2\) .* e.g. x.repeat\(1, 2, 2\)"):
        x.repeat(2, 2)
    with pytest.raises(ValueError, match=r"split: the sections \[1, 1\] must be ≥ 0 and add up to 3"):
        x.split([1, 1], 1)
    with pytest.raises(ValueError, match="split: split_size must be a positive int, got 0"):
        x.split(0)
    with pytest.raises(ValueError, match="chunk: chunks must be a positive int, got 0"):
        x.chunk(0)
    with pytest.raises(IndexError, match="flip: dim 3 is out of range"):
        mg.flip(x, 3)
    with pytest.raises(ValueError, match=r"flip: dim \(0, 0\) names the same axis twice"):
        x.flip(0, 0)
    with pytest.raises(TypeError, match="expand_as: other must be a Tensor, got tuple"):
        x.expand_as((2, 3, 4))


def test_flip_takes_dims_by_name_and_split_takes_split_size_as_torch(torch_on_one_thread):
    x = Tensor(A)
    np.testing.assert_array_equal(mg.flip(x, dims=(1,)).data, A[:, ::-1])
    np.testing.assert_array_equal(x.flip(dims=(0, 2)).data, A[::-1, :, ::-1])
    np.testing.assert_array_equal(x.flip(0, 2).data, x.flip((0, 2)).data)
    assert [t.shape for t in x.split(split_size=2, dim=1)] == [(2, 2, 4), (2, 1, 4)]
    assert [t.shape for t in x.split(split_size_or_sections=[1, 2], dim=1)] == [(2, 1, 4), (2, 2, 4)]
    assert [t.shape for t in mg.split(x, split_size_or_sections=3, dim=2)] == [(2, 3, 3), (2, 3, 1)]
    if torch_on_one_thread is not None:
        t = torch_on_one_thread.tensor(A)
        np.testing.assert_array_equal(mg.flip(x, dims=(1, 2)).data, torch_on_one_thread.flip(t, dims=(1, 2)).numpy())
        assert [p.shape for p in x.split(split_size=2, dim=1)] == [tuple(p.shape) for p in t.split(split_size=2, dim=1)]
    with pytest.raises(TypeError, match="split: give split_size"):
        x.split(2, split_size_or_sections=2)
    with pytest.raises(TypeError, match="flip: takes the dims, positionally or as dims="):
        x.flip(0, dims=(1,))
