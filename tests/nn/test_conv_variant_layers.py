"""nn.LocallyConnected2d, nn.TiledConv2d, nn.TransformInvariantConv2d: parameter shapes and counts against
Conv2d's, initialisation, nn.summary rows, the equivariance of the layer, training and the constructor errors."""
import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor, nn

rng = np.random.default_rng(0)


def count(module):
    return sum(p.numel() for p in module.parameters())


def test_parameter_shapes_and_counts_against_conv2d():
    conv = nn.Conv2d(3, 8, 3, padding=1)                       # 8·3·3·3 + 8 = 224
    local = nn.LocallyConnected2d(3, 8, (10, 12), 3, padding=1)
    tiled = nn.TiledConv2d(3, 8, 3, tile_size=2, padding=1)
    inv = nn.TransformInvariantConv2d(3, 8, 3, padding=1)
    assert count(conv) == 224
    assert local.weight.shape == (10, 12, 8, 3, 3, 3) and local.bias.shape == (8, 10, 12)
    assert count(local) == 10 * 12 * 224                       # out_h·out_w times conv2d's
    assert tiled.weight.shape == (2, 2, 8, 3, 3, 3) and tiled.bias.shape == (8, 2, 2)
    assert count(tiled) == 4 * 224                             # t² times conv2d's
    assert inv.weight.shape == (8, 3, 3, 3) and inv.bias.shape == (8,) and count(inv) == 224
    assert count(nn.TiledConv2d(3, 8, 3, tile_size=(3, 1), bias=False)) == 3 * 8 * 27
    assert list(local.state_dict()) == ["weight", "bias"] and local.weight.dtype == np.float32


def test_initialisation_is_conv2d_s_uniform_bound():
    mg.manual_seed(0)  # a 16-element bias reaches 0.9 of the bound only 4 times in 5: draw the same values every run
    bound = 1 / math.sqrt(4 * 3 * 3)
    for layer in (nn.LocallyConnected2d(4, 16, 12, 3), nn.TiledConv2d(4, 16, 3, 3), nn.TransformInvariantConv2d(4, 16, 3)):
        for p in layer.parameters():
            assert np.abs(p.data).max() <= bound and np.abs(p.data).max() > 0.9 * bound


def test_summary_lists_each_variant_with_its_output_shape_and_parameters():
    model = nn.Sequential(
        nn.LocallyConnected2d(1, 4, 8, 3, padding=1), nn.ReLU(),
        nn.TiledConv2d(4, 6, 3, tile_size=2, stride=2), nn.ReLU(),
        nn.TransformInvariantConv2d(6, 5, 3, padding="same", transforms=("rot90",)),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),
    )
    lines = []
    rows = nn.summary(model, (2, 1, 8, 8), print_fn=lines.append)
    by_type = {r["type"]: r for r in rows}
    assert by_type["LocallyConnected2d"]["output_shape"] == (2, 4, 8, 8)
    assert by_type["LocallyConnected2d"]["params"] == 64 * (4 * 9 + 4)
    assert by_type["TiledConv2d"]["output_shape"] == (2, 6, 3, 3) and by_type["TiledConv2d"]["params"] == 4 * (6 * 4 * 9 + 6)
    assert by_type["TransformInvariantConv2d"]["output_shape"] == (2, 5, 3, 3)
    assert by_type["TransformInvariantConv2d"]["params"] == 5 * 6 * 9 + 5
    assert "TransformInvariantConv2d" in lines[0] and f"total parameters: {count(model):,}" in lines[0]


def test_rotating_the_input_rotates_the_layer_output_and_global_pooling_makes_it_invariant():
    layer = nn.TransformInvariantConv2d(2, 3, 3, padding=1, transforms=("rot90", "flip")).double()
    x = rng.standard_normal((1, 2, 9, 9))
    rot = lambda a: np.ascontiguousarray(np.rot90(a, 1, axes=(2, 3)))
    mirror = lambda a: np.ascontiguousarray(a[..., ::-1])
    y = layer(Tensor(x)).data
    for move in (rot, mirror):
        np.testing.assert_allclose(layer(Tensor(move(x))).data, move(y), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(layer(Tensor(move(x))).data.mean(axis=(2, 3)), y.mean(axis=(2, 3)), rtol=1e-12)


def test_a_small_model_of_each_variant_trains():
    """A few SGD steps on a fixed batch lower the loss, so gradients reach every parameter with the right sign."""
    mg.manual_seed(0)
    x, y = rng.standard_normal((8, 1, 6, 6)).astype(np.float32), rng.integers(0, 3, 8)
    for first in (nn.LocallyConnected2d(1, 4, 6, 3), nn.TiledConv2d(1, 4, 3, tile_size=2), nn.TransformInvariantConv2d(1, 4, 3)):
        model = nn.Sequential(first, nn.ReLU(), nn.Flatten(), nn.Linear(64, 3))
        opt = mg.optim.SGD(model.parameters(), lr=0.1)
        losses = []
        for _ in range(10):
            loss = nn.functional.cross_entropy(model(Tensor(x)), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        assert losses[-1] < 0.7 * losses[0], (type(first).__name__, losses)
        assert all(p.grad is not None and p.grad.shape == p.shape for p in first.parameters())


def test_errors_name_the_layer_the_values_and_the_fix():
    layer = nn.LocallyConnected2d(3, 4, (8, 8), 3)
    with pytest.raises(ValueError, match=r"LocallyConnected2d: expected an input of size \(H, W\) = \(8, 8\), got \(9, 8\)"):
        layer(Tensor(np.zeros((1, 3, 9, 8), np.float32)))
    with pytest.raises(ValueError, match=r"local_conv2d: input has 2 channels but weight expects 3"):
        layer(Tensor(np.zeros((1, 2, 8, 8), np.float32)))
    with pytest.raises(ValueError, match=r"LocallyConnected2d: the kernel \(5, 5\) is larger than the padded input"):
        nn.LocallyConnected2d(3, 4, 4, 5)
    with pytest.raises(ValueError, match=r"TiledConv2d: tile_size must be at least 1, got 0"):
        nn.TiledConv2d(3, 4, 3, tile_size=0)
    with pytest.raises(TypeError, match=r"TiledConv2d: tile_size must be an int or a pair"):
        nn.TiledConv2d(3, 4, 3, tile_size=1.5)
    with pytest.raises(ValueError, match=r"tiled_conv2d: input has 1 channels but weight expects 3"):
        nn.TiledConv2d(3, 4, 3)(Tensor(np.zeros((1, 1, 8, 8), np.float32)))
    with pytest.raises(ValueError, match=r"unknown transform 'mirror'"):
        nn.TransformInvariantConv2d(3, 4, 3, transforms=("mirror",))
    with pytest.raises(ValueError, match=r"TransformInvariantConv2d: 'rot90' needs a square kernel"):
        nn.TransformInvariantConv2d(3, 4, (3, 1))
    assert "flip+rot270" in repr(nn.TransformInvariantConv2d(3, 4, 3))


@pytest.mark.parametrize("make, message", [
    (lambda: nn.LocallyConnected2d(1.5, 2, (8, 8), 3), r"LocallyConnected2d: in_channels must be an int, got 1.5"),
    (lambda: nn.LocallyConnected2d(1, 0, (8, 8), 3), r"LocallyConnected2d: out_channels must be at least 1, got 0"),
    (lambda: nn.LocallyConnected2d(1, 2, (0, 8), 3), r"LocallyConnected2d: input_size must be at least 1"),
    (lambda: nn.TiledConv2d("1", 2, 3), r"TiledConv2d: in_channels must be an int, got '1'"),
    (lambda: nn.TiledConv2d(1, 2, -3), r"TiledConv2d: kernel_size must be at least 1, got \(-3, -3\)"),
    (lambda: nn.TransformInvariantConv2d(1, 2, 3, stride=0), r"TransformInvariantConv2d: stride must be at least 1"),
    (lambda: nn.TransformInvariantConv2d([1], 2, 3), r"TransformInvariantConv2d: in_channels must be an int"),
])
def test_sizes_and_kernels_follow_the_rule_of_every_layer(make, message):
    with pytest.raises((TypeError, ValueError), match=message):
        make()
