"""Shape gates: reshape, transpose, permute, flatten, indexing (repeats add), cat, stack, pad."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor, gradcheck

rng = np.random.default_rng(0)
A = rng.standard_normal((2, 3, 4))


@pytest.mark.parametrize(
    "name,fn",
    [
        ("reshape", lambda x: x.reshape(4, 6)),
        ("reshape -1", lambda x: x.reshape(-1, 2)),
        ("view tuple", lambda x: x.view((3, 8))),
        ("transpose", lambda x: x.transpose(0, 2)),
        ("T", lambda x: x[0].T),
        ("mT", lambda x: x.mT),
        ("view_as", lambda x: x.view_as(Tensor(np.ones((4, 6))))),
        ("permute", lambda x: x.permute(2, 0, 1)),
        ("flatten", lambda x: x.flatten()),
        ("flatten 1", lambda x: x.flatten(1)),
        ("unsqueeze", lambda x: x.unsqueeze(1)),
        ("squeeze", lambda x: x.unsqueeze(0).squeeze(0)),
        ("slice", lambda x: x[1, :, 1:3]),
        ("step slice", lambda x: x[:, ::2, ::-1]),
        ("ellipsis none", lambda x: x[..., None, 0]),
        ("int array", lambda x: x[np.array([1, 0, 1])]),
        ("tensor index", lambda x: x[:, Tensor(np.array([2, 2, 0]))]),
        ("pair of arrays", lambda x: x[np.array([0, 1, 1]), np.array([2, 2, 0])]),
        ("bool mask", lambda x: x[A > 0]),
        ("pad", lambda x: mg.pad(x, (1, 2, 0, 1))),
        ("pad value", lambda x: mg.pad(x, (2, 0), value=3.0)),
    ],
)
def test_shape_gates_gradcheck(name, fn):
    assert gradcheck(fn, [A])


def test_repeated_indices_scatter_add():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[np.array([0, 0, 2, 0])].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]


def test_cat_and_stack_gradcheck():
    b = rng.standard_normal((2, 5, 4))
    assert gradcheck(lambda x, y: mg.cat([x, y], dim=1), [A, b])
    assert gradcheck(lambda x, y: mg.cat([x, x, y], dim=-2), [A, b])
    assert gradcheck(lambda x, y: mg.stack([x, y, x], dim=1), [A, A + 1])


def test_T_reverses_every_axis_and_warns_off_2d_as_torch(torch_on_one_thread):
    """The audit's gap: .T on a 3-D tensor swapped only the last two axes; PyTorch reverses all of them (and warns
    that .T is deprecated for other than 2-D: use .mT for batches of matrices)."""
    x = Tensor(A, requires_grad=True)
    with pytest.warns(UserWarning, match=r"The use of `x.T` on tensors of dimension other than 2 .* `x.mT`"):
        y = x.T
    assert y.shape == (4, 3, 2) and (y.data == A.transpose(2, 1, 0)).all()
    assert gradcheck(lambda t: t.permute(2, 1, 0), [A])  # what .T is, without the warning
    assert x.mT.shape == (2, 4, 3) and x[0].T.shape == (4, 3)
    if torch_on_one_thread is not None:
        with pytest.warns(UserWarning):
            assert torch_on_one_thread.tensor(A).T.shape == y.shape
    with pytest.raises(ValueError, match=r"mT: needs at least 2 dimensions, got a tensor of shape \(4,\)"):
        Tensor(np.ones(4)).mT


def test_cat_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match=r"cat: tensor 1 has shape \(2, 4\) but tensor 0 has \(3, 3\)"):
        mg.cat([Tensor(np.ones((3, 3))), Tensor(np.ones((2, 4)))], dim=1)


def test_reshape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match=r"reshape: cannot reshape \(2, 3, 4\) \(24 elements\) into \(5, 5\)"):
        Tensor(A).reshape(5, 5)


def test_permute_rejects_a_non_permutation():
    with pytest.raises(ValueError, match="permute"):
        Tensor(A).permute(0, 0, 1)


@pytest.mark.parametrize("pad", [(-1, 0), (-1, 2, 1, -2), (0, -4), (-2, -1, 0, 0, 1, -1), (2, -3)], ids=str)
def test_negative_padding_crops_as_torch(pad, compare_with_torch):
    """The audit's gap: F.pad with a negative width crops (constant mode), as PyTorch."""
    import torch.nn.functional as TF

    assert gradcheck(lambda x: mg.pad(x, pad, value=0.5), [A])
    compare_with_torch(lambda x: mg.pad(x, pad, value=0.5), lambda x: TF.pad(x, pad, value=0.5), [A],
                       np.random.default_rng(0), rtol=1e-12, atol=0)


def test_cropping_more_than_a_dim_is_a_clear_error():
    with pytest.raises(ValueError, match=r"pad: dim 2 of size 4 with padding \(-3, -2\) would have -1 elements; "
                                         r"negative padding crops, at most the whole dim"):
        mg.pad(Tensor(A), (-3, -2))


def test_index_out_of_range_names_the_shape():
    with pytest.raises(IndexError, match=r"index: .*\(tensor of shape \(2, 3, 4\)\)"):
        Tensor(A)[5]


# -- hypothesis: generated shapes for every shape gate ---------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

SHAPES = st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple)


@settings(max_examples=20, deadline=None)
@given(shape=SHAPES, data=st.data())
def test_shape_gates_gradcheck_on_generated_shapes(shape, data):
    x = rng.standard_normal(shape)
    order = tuple(data.draw(st.permutations(range(len(shape)))))
    dim = data.draw(st.integers(0, len(shape) - 1))
    pads = tuple(data.draw(st.integers(0, 2)) for _ in range(2))
    # an index mixing a slice, an integer array with repeats (their gradients add) and the rest
    picks = np.array(data.draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=5)))
    gates = {
        "reshape": lambda t: t.reshape(-1),
        "permute": lambda t: t.permute(*order),
        "transpose": lambda t: t.transpose(0, -1),
        "flatten": lambda t: t.flatten(),
        "slice": lambda t: t[..., ::2],
        "integer array": lambda t: t[picks],
        "cat": lambda t: mg.cat([t, t * 2.0], dim=dim),
        "stack": lambda t: mg.stack([t, t + 1.0], dim=dim),
        "pad": lambda t: mg.pad(t, pads),
    }
    for name, fn in gates.items():
        assert gradcheck(fn, [x]), name
