"""local_conv2d, tiled_conv2d and transform_invariant_conv2d: numpy oracles, the special cases that reduce to
conv2d, gradchecks at every index, the equivariance of the transform-pooled response, a PyTorch cross-check
and the bad-input errors."""
import numpy as np
import pytest

from minigrad import Tensor, gradcheck
from minigrad.ops.conv import conv2d
from minigrad.ops.conv_variants import (
    _compose, local_conv2d, output_size, tiled_conv2d, transform_group, transform_index, transform_invariant_conv2d,
    transform_name, transformed_filters,
)

rng = np.random.default_rng(0)

# (input size, kernel, stride, padding)
GEOMETRIES = [((5, 5), (2, 2), (1, 1), (0, 0)), ((6, 5), (3, 2), (2, 1), (1, 0)), ((5, 6), (3, 3), (2, 2), (1, 2))]


def reference_local(x, w, b, stride, padding):
    """The definition, one output position at a time: O[n, :, r, q] = W[r, q]·window(r, q) + b[:, r, q]."""
    (sh, sw), (ph, pw) = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh, ow, O, C, kh, kw = w.shape
    out = np.zeros((x.shape[0], O, oh, ow))
    for r in range(oh):
        for q in range(ow):
            window = xp[:, :, sh * r : sh * r + kh, sw * q : sw * q + kw]
            out[:, :, r, q] = np.einsum("ncij,ocij->no", window, w[r, q]) + (0 if b is None else b[:, r, q])
    return out


def untile(w, b, out_size):
    """A tiled weight (t, t, O, C, kH, kW) written out as the locally connected weight it ties: W[r % t, q % t]."""
    (oh, ow), (th, tw) = out_size, w.shape[:2]
    rows, cols = np.arange(oh) % th, np.arange(ow) % tw
    return w[rows[:, None], cols[None, :]], None if b is None else b[:, rows[:, None], cols[None, :]]


def out_shape(size, k, s, p):
    return output_size("test", size, k, s, p)


# -- locally connected ---------------------------------------------------------------------------


@pytest.mark.parametrize("size,k,s,p", GEOMETRIES)
def test_local_conv2d_matches_the_definition_position_by_position(size, k, s, p):
    x = rng.standard_normal((2, 3) + size)
    w = rng.standard_normal(out_shape(size, k, s, p) + (4, 3) + k)
    b = rng.standard_normal((4,) + w.shape[:2])
    out = local_conv2d(Tensor(x), Tensor(w), Tensor(b), stride=s, padding=p)
    np.testing.assert_allclose(out.data, reference_local(x, w, b, s, p), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("size,k,s,p", GEOMETRIES)
def test_local_conv2d_with_one_filter_copied_to_every_position_is_conv2d(size, k, s, p):
    x, w = rng.standard_normal((2, 3) + size), rng.standard_normal((4, 3) + k)
    ref = conv2d(Tensor(x), Tensor(w), stride=s, padding=p).data
    shared = np.broadcast_to(w, ref.shape[2:] + w.shape).copy()
    np.testing.assert_allclose(local_conv2d(Tensor(x), Tensor(shared), stride=s, padding=p).data, ref, atol=1e-12)


@pytest.mark.parametrize("size,k,s,p", GEOMETRIES)
def test_local_conv2d_gradcheck_every_index(size, k, s, p):
    x = rng.standard_normal((2, 2) + size)
    w = rng.standard_normal(out_shape(size, k, s, p) + (2, 2) + k)
    b = rng.standard_normal((2,) + w.shape[:2])
    assert gradcheck(lambda x, w, b: local_conv2d(x, w, b, stride=s, padding=p), [x, w, b])


def test_local_conv2d_gradients_stay_per_position():
    """Nothing is shared: an upstream gradient at one output position reaches only that position's filter and window."""
    x = Tensor(rng.standard_normal((1, 2, 5, 5)), requires_grad=True)
    w = Tensor(rng.standard_normal((3, 3, 2, 2, 3, 3)), requires_grad=True)
    out = local_conv2d(x, w)
    up = np.zeros(out.shape)
    up[0, 1, 2, 0] = 1.0
    out.backward(up)
    assert np.count_nonzero(np.abs(w.grad).sum(axis=(2, 3, 4, 5))) == 1 and np.abs(w.grad[2, 0]).sum() > 0
    np.testing.assert_allclose(w.grad[2, 0, 1], x.data[0, :, 2:5, 0:3])       # dL/dW[r,q] = upstream · window(r, q)
    np.testing.assert_allclose(x.grad[0, :, 2:5, 0:3], w.data[2, 0, 1])       # dL/dwindow = upstream · W[r, q]
    assert np.count_nonzero(x.grad[0, :, :2]) == 0 and np.count_nonzero(x.grad[0, :, :, 3:]) == 0


def test_local_conv2d_same_padding_keeps_the_size_and_float32_stays_float32():
    x = Tensor(rng.standard_normal((1, 2, 4, 5)).astype(np.float32))
    w = Tensor(rng.standard_normal((4, 5, 3, 2, 2, 2)).astype(np.float32))
    out = local_conv2d(x, w, padding="same")
    assert out.shape == (1, 3, 4, 5) and out.dtype == np.float32


def test_local_conv2d_agrees_with_an_unfold_based_pytorch_reference():
    torch = pytest.importorskip("torch")
    x, w, b = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 4, 3, 3, 2)), rng.standard_normal((4, 4, 3))
    xt = torch.tensor(x, requires_grad=True)
    wt, bt = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    cols = torch.nn.functional.unfold(xt, (3, 2), padding=(1, 0), stride=(2, 2))             # (N, C·kH·kW, L)
    ref = torch.einsum("nkl,lok->nol", cols, wt.reshape(12, 4, -1)).reshape(2, 4, 4, 3) + bt
    up = rng.standard_normal(ref.shape)
    ref.backward(torch.tensor(up))
    xs, ws, bs = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True), Tensor(b, requires_grad=True)
    out = local_conv2d(xs, ws, bs, stride=2, padding=(1, 0))
    out.backward(up)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    for ours, theirs in ((xs, xt), (ws, wt), (bs, bt)):
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


# -- tiled ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size,k,s,p", GEOMETRIES)
@pytest.mark.parametrize("tile", [(2, 2), (3, 2), (1, 3)])
def test_tiled_conv2d_is_a_local_conv2d_whose_filters_repeat_with_period_t(size, k, s, p, tile):
    x = rng.standard_normal((2, 3) + size)
    w, b = rng.standard_normal(tile + (4, 3) + k), rng.standard_normal((4,) + tile)
    wl, bl = untile(w, b, out_shape(size, k, s, p))
    out = tiled_conv2d(Tensor(x), Tensor(w), Tensor(b), stride=s, padding=p)
    np.testing.assert_allclose(out.data, reference_local(x, wl, bl, s, p), rtol=1e-12, atol=1e-12)


def test_tiled_conv2d_with_t_1_is_conv2d_and_t_at_least_the_output_is_local_conv2d():
    x, w = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((1, 1, 4, 3, 3, 3))
    np.testing.assert_allclose(tiled_conv2d(Tensor(x), Tensor(w)).data, conv2d(Tensor(x), Tensor(w[0, 0])).data, atol=1e-12)
    w = rng.standard_normal((5, 6, 4, 3, 3, 3))   # output 4x4: filters (4, ·) and (·, 4), (·, 5) are never used
    np.testing.assert_allclose(tiled_conv2d(Tensor(x), Tensor(w)).data, local_conv2d(Tensor(x), Tensor(w[:4, :4])).data,
                               atol=1e-12)


@pytest.mark.parametrize("size,k,s,p", GEOMETRIES)
def test_tiled_conv2d_gradcheck_every_index(size, k, s, p):
    x = rng.standard_normal((2, 2) + size)
    w, b = rng.standard_normal((2, 3, 2, 2) + k), rng.standard_normal((2, 2, 3))
    assert gradcheck(lambda x, w, b: tiled_conv2d(x, w, b, stride=s, padding=p), [x, w, b])


def test_tiled_filter_gradient_is_the_sum_of_the_per_position_gradients_it_serves():
    x = Tensor(rng.standard_normal((2, 2, 7, 7)))
    w = Tensor(rng.standard_normal((2, 2, 3, 2, 3, 3)), requires_grad=True)
    wl = Tensor(untile(w.data, None, (5, 5))[0], requires_grad=True)
    up = rng.standard_normal((2, 3, 5, 5))
    tiled_conv2d(x, w).backward(up)
    local_conv2d(x, wl).backward(up)
    np.testing.assert_allclose(w.grad[1, 0], wl.grad[1::2, 0::2].sum(axis=(0, 1)), rtol=1e-12)
    assert all(np.any(w.grad[a, b] != 0) for a in range(2) for b in range(2))   # every filter serves some position


# -- transform-invariant ----------------------------------------------------------------------------


def test_transform_groups_and_their_closure():
    sizes = {("rot90", "flip"): 8, ("rot90",): 4, ("flip",): 2, ("vflip",): 2, ("rot180",): 2, ("flip", "vflip"): 4,
             ("flip", "rot180"): 4, (): 1, "flip": 2}
    for transforms, n in sizes.items():
        group = transform_group(transforms)
        assert len(group) == n and (0, 0) in group
        assert all(_compose(g, h) in group for g in group for h in group)
    assert [transform_name(g) for g in transform_group(("rot90",))] == ["identity", "rot90", "rot180", "rot270"]


def test_each_transform_is_the_numpy_rotation_of_the_mirrored_filter_and_composition_agrees():
    m = np.arange(9.0).reshape(3, 3)

    def apply(g, a):
        r, c = transform_index(g, 3, 3)
        return a[r, c]

    group = transform_group(("rot90", "flip"))
    for g in group:
        assert np.array_equal(apply(g, m), np.rot90(m[:, ::-1] if g[0] else m, g[1]))
        for h in group:
            assert np.array_equal(apply(_compose(g, h), m), apply(g, apply(h, m)))
    assert np.array_equal(apply((1, 2), m), m[::-1])     # vflip = rot180 after the left-right mirror


def test_transform_invariant_conv2d_is_the_max_over_conv2d_with_each_transformed_filter():
    x, w, b = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    out = transform_invariant_conv2d(Tensor(x), Tensor(w), Tensor(b), padding=1)
    responses = [conv2d(Tensor(x), Tensor(np.ascontiguousarray(np.rot90(wf, r, axes=(2, 3)))), padding=1).data
                 for wf in (w, w[..., ::-1]) for r in range(4)]
    np.testing.assert_allclose(out.data, np.max(responses, axis=0) + b[:, None, None], rtol=1e-12, atol=1e-12)
    assert transformed_filters(Tensor(w), transform_group()).shape == (8, 4, 3, 3, 3)


@pytest.mark.parametrize("transforms,k,s,p", [(("rot90", "flip"), 3, 1, 1), (("rot90",), 2, 1, 0), (("flip",), (2, 3), 2, 1),
                                              (("vflip", "rot180"), 3, 1, 0)])
def test_transform_invariant_conv2d_gradcheck_every_index(transforms, k, s, p):
    x, w, b = rng.standard_normal((2, 2, 5, 5)), rng.standard_normal((3, 2) + ((k, k) if isinstance(k, int) else k)), \
        rng.standard_normal(3)
    assert gradcheck(lambda x, w, b: transform_invariant_conv2d(x, w, b, s, p, transforms), [x, w, b])


def test_the_shared_filter_gets_the_sum_of_the_gradients_of_its_transformed_copies():
    x = Tensor(rng.standard_normal((1, 1, 5, 5)))
    w = Tensor(rng.standard_normal((1, 1, 3, 3)), requires_grad=True)
    up = rng.standard_normal((1, 1, 5, 5))
    transform_invariant_conv2d(x, w, padding=1, transforms=("rot90",)).backward(up)
    # recompute by hand: which rotation wins at each position, and its filter gradient rotated back
    responses = np.stack([conv2d(x, Tensor(np.rot90(w.data, r, axes=(2, 3)).copy()), padding=1).data for r in range(4)])
    winner = responses.argmax(axis=0)
    expected = np.zeros((3, 3))
    xp = np.pad(x.data[0, 0], 1)
    for r in range(4):
        g = np.zeros((3, 3))    # dL/d(rot90ʳ W) = Σ over the positions it won of upstream · window
        for i, j in zip(*np.nonzero(winner[0, 0] == r)):
            g += up[0, 0, i, j] * xp[i : i + 3, j : j + 3]
        expected += np.rot90(g, -r)   # the gradient goes back through the transform: rotated back
    np.testing.assert_allclose(w.grad[0, 0], expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("transforms,move", [
    (("rot90",), lambda a: np.rot90(a, 1, axes=(2, 3))), (("rot90",), lambda a: np.rot90(a, 3, axes=(2, 3))),
    (("flip",), lambda a: a[..., ::-1]), (("vflip",), lambda a: a[..., ::-1, :]),
    (("rot90", "flip"), lambda a: np.rot90(a, 1, axes=(2, 3))), (("rot90", "flip"), lambda a: a[..., ::-1]),
    (("rot90", "flip"), lambda a: np.swapaxes(a, 2, 3)),
])
def test_a_transformed_input_gives_the_transformed_pooled_response(transforms, move):
    """f(T·x) = T·f(x) when T is in the group: conv2d(T·x, g·W) = T·conv2d(x, T⁻¹g·W) and T⁻¹g runs over G."""
    x, w, b = rng.standard_normal((2, 3, 7, 7)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)

    def f(a):
        return transform_invariant_conv2d(Tensor(np.ascontiguousarray(a)), Tensor(w), Tensor(b), padding="same",
                                          transforms=transforms).data

    np.testing.assert_allclose(f(move(x)), move(f(x)), rtol=1e-12, atol=1e-12)


def test_rotation_equivariance_needs_the_rotations_in_the_group():
    x, w = rng.standard_normal((1, 2, 7, 7)), rng.standard_normal((3, 2, 3, 3))
    f = lambda a: transform_invariant_conv2d(Tensor(np.ascontiguousarray(a)), Tensor(w), padding=1, transforms=("flip",)).data
    rot = lambda a: np.rot90(a, 1, axes=(2, 3))
    assert not np.allclose(f(rot(x)), rot(f(x)))
    plain = lambda a: conv2d(Tensor(np.ascontiguousarray(a)), Tensor(w), padding=1).data
    assert not np.allclose(plain(rot(x)), rot(plain(x)))    # nor does a plain convolution rotate with its input


# -- errors ----------------------------------------------------------------------------------------------


def test_errors_name_the_op_the_shapes_and_the_fix():
    x = Tensor(np.zeros((1, 3, 6, 6)))
    with pytest.raises(ValueError, match=r"local_conv2d: input has 3 channels but weight expects 2"):
        local_conv2d(x, Tensor(np.zeros((4, 4, 5, 2, 3, 3))))
    with pytest.raises(ValueError, match=r"local_conv2d: .* gives a 4x4 output, but the weight .* holds filters for 5x5"):
        local_conv2d(x, Tensor(np.zeros((5, 5, 5, 3, 3, 3))))
    with pytest.raises(ValueError, match=r"local_conv2d: weight must be 6-D"):
        local_conv2d(x, Tensor(np.zeros((5, 3, 3, 3))))
    with pytest.raises(ValueError, match=r"local_conv2d: bias has shape \(5,\) but must be \(out_channels, out_h, out_w\) = \(5, 4, 4\)"):
        local_conv2d(x, Tensor(np.zeros((4, 4, 5, 3, 3, 3))), Tensor(np.zeros(5)))
    with pytest.raises(ValueError, match=r"local_conv2d: the kernel \(7, 7\) is larger than the padded input"):
        local_conv2d(x, Tensor(np.zeros((1, 1, 5, 3, 7, 7))))
    with pytest.raises(ValueError, match=r"tiled_conv2d: padding='same' needs stride 1"):
        tiled_conv2d(x, Tensor(np.zeros((2, 2, 5, 3, 3, 3))), stride=2, padding="same")
    with pytest.raises(ValueError, match=r"tiled_conv2d: bias has shape \(5,\) but must be \(out_channels, tile_h, tile_w\)"):
        tiled_conv2d(x, Tensor(np.zeros((2, 2, 5, 3, 3, 3))), Tensor(np.zeros(5)))
    with pytest.raises(ValueError, match=r"tiled_conv2d: input has 3 channels but weight expects 4"):
        tiled_conv2d(x, Tensor(np.zeros((2, 2, 5, 4, 3, 3))))
    with pytest.raises(ValueError, match=r"unknown transform 'rot45'; choose among"):
        transform_invariant_conv2d(x, Tensor(np.zeros((5, 3, 3, 3))), transforms=("rot90", "rot45"))
    with pytest.raises(ValueError, match=r"quarter turns \('rot90'\) need a square kernel, got \(3, 2\)"):
        transform_invariant_conv2d(x, Tensor(np.zeros((5, 3, 3, 2))))
    with pytest.raises(ValueError, match=r"transform_invariant_conv2d: input has 3 channels but weight expects 2"):
        transform_invariant_conv2d(x, Tensor(np.zeros((5, 2, 3, 3))))
    with pytest.raises(TypeError, match=r"local_conv2d: stride must be an int or a pair"):
        local_conv2d(x, Tensor(np.zeros((4, 4, 5, 3, 3, 3))), stride=1.5)


@pytest.mark.parametrize("op,shape", [(local_conv2d, (4, 4, 2, 3, 3, 3)), (tiled_conv2d, (2, 2, 2, 3, 3, 3))])
def test_only_the_gradients_asked_for_are_computed_and_each_is_right(op, shape):
    x, w, b = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal(shape), rng.standard_normal((2,) + shape[:2])
    up = rng.standard_normal((2, 2, 4, 4))
    full = [Tensor(a, requires_grad=True) for a in (x, w, b)]
    op(*full).backward(up)
    for k in range(3):
        ts = [Tensor(a, requires_grad=(i == k)) for i, a in enumerate((x, w, b))]
        op(*ts).backward(up)
        np.testing.assert_allclose(ts[k].grad, full[k].grad, rtol=1e-12)
        assert all(t.grad is None for i, t in enumerate(ts) if i != k)


def test_backprop_steps_name_the_gates():
    x = Tensor(rng.standard_normal((1, 1, 4, 4)), requires_grad=True)
    y = tiled_conv2d(local_conv2d(x, Tensor(rng.standard_normal((4, 4, 1, 1, 1, 1)), requires_grad=True)),
                     Tensor(rng.standard_normal((2, 2, 1, 1, 3, 3)), requires_grad=True)).sum()
    gates = [step.gate for step in y.backward_steps()]
    assert "tiled_conv2d" in gates and "local_conv2d" in gates
    assert gates.index("tiled_conv2d") < gates.index("local_conv2d")
