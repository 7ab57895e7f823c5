"""The model zoo: shapes, the lectures' parameter counts, shortcuts, auxiliary heads."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor, models, nn


def count(module):
    return sum(p.numel() for p in module.parameters())


def test_lenet5_shapes_and_parameters():
    net = models.lenet5()
    rows = nn.summary(net, (2, 1, 28, 28), print_fn=None)
    assert [r["output_shape"] for r in rows if r["type"] in ("Conv2d", "MaxPool2d")] == [
        (2, 6, 28, 28), (2, 6, 14, 14), (2, 16, 10, 10), (2, 16, 5, 5)]
    assert count(net) == 156 + 2416 + 48120 + 10164 + 850 == 61706


def test_alexnet_is_the_classic_table():
    net = models.alexnet()
    assert count(net) == 62_378_344
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert [c.weight.shape[0] for c in convs] == [96, 256, 384, 384, 256]


@pytest.mark.slow
def test_alexnet_feature_map_sizes():
    rows = nn.summary(models.alexnet(), (1, 3, 227, 227), print_fn=None)
    sizes = [r["output_shape"][1:] for r in rows if r["type"] in ("Conv2d", "MaxPool2d")]
    assert sizes == [(96, 55, 55), (96, 27, 27), (256, 27, 27), (256, 13, 13), (384, 13, 13), (384, 13, 13),
                     (256, 13, 13), (256, 6, 6)]
    assert [r["output_shape"] for r in rows if r["type"] == "Linear"] == [(1, 4096), (1, 4096), (1, 1000)]


def test_vgg_block_halves_the_size():
    block = models.vgg_block(3, 8, 2)
    assert block(Tensor(np.zeros((1, 3, 8, 8), np.float32))).shape == (1, 8, 4, 4)
    assert models.vgg()(Tensor(np.zeros((2, 1, 8, 8), np.float32))).shape == (2, 10)


@pytest.mark.parametrize("shortcut", ["projection", "zeropad"])
def test_basic_block_shapes_and_shortcuts(shortcut):
    block = models.BasicBlock(8, 16, stride=2, shortcut=shortcut)
    x = Tensor(np.random.default_rng(0).standard_normal((2, 8, 8, 8)).astype(np.float32), requires_grad=True)
    y = block(x)
    assert y.shape == (2, 16, 4, 4)
    y.sum().backward()
    assert x.grad.shape == x.shape
    convs = 8 * 16 * 9 + 16 * 16 * 9
    bns = 2 * 16 * 2
    projection = 8 * 16 + 2 * 16
    assert count(block) == convs + bns + (projection if shortcut == "projection" else 0)


def test_identity_shortcut_when_the_shape_stays():
    block = models.BasicBlock(8, 8)
    assert not hasattr(block, "shortcut") or "shortcut" not in dict(block.named_children())
    assert block(Tensor(np.zeros((1, 8, 4, 4), np.float32))).shape == (1, 8, 4, 4)


def test_zeropad_cannot_reduce_channels():
    with pytest.raises(ValueError, match="cannot reduce channels"):
        models.BasicBlock(16, 8, shortcut="zeropad")


def test_bottleneck():
    block = models.Bottleneck(16, 4, 16)
    assert block(Tensor(np.zeros((1, 16, 4, 4), np.float32))).shape == (1, 16, 4, 4)
    assert models.Bottleneck(16, 4, 32, stride=2)(Tensor(np.zeros((1, 16, 4, 4), np.float32))).shape == (1, 32, 2, 2)


def test_inception_3a():
    block = models.InceptionBlock(192, 64, 96, 128, 16, 32, 32)
    assert block.out_channels == 256
    assert count(block.branch3) == 192 * 96 + 96 + 96 * 128 * 9 + 128 == 129_248
    assert block(Tensor(np.zeros((1, 192, 5, 5), np.float32))).shape == (1, 256, 5, 5)


def test_dense_block_concatenates_growth():
    block = models.DenseBlock(4, growth_rate=3, num_layers=4)
    assert block.out_channels == 16
    assert block(Tensor(np.zeros((1, 4, 4, 4), np.float32))).shape == (1, 16, 4, 4)


def test_depthwise_separable_saves_parameters():
    block = models.DepthwiseSeparable(64, 128)
    weights = block.depthwise.weight.numel() + block.pointwise.weight.numel()
    assert weights == 64 * 9 + 64 * 128 == 8_768
    assert nn.Conv2d(64, 128, 3, bias=False).weight.numel() == 73_728
    assert block(Tensor(np.zeros((1, 64, 4, 4), np.float32))).shape == (1, 128, 4, 4)


def test_small_classifiers_for_8x8_and_28x28():
    for size in (8, 28):
        x = Tensor(np.zeros((2, 1, size, size), np.float32))
        assert models.resnet()(x).shape == (2, 10)
        assert models.googlenet()(x).shape == (2, 10)
    assert models.digits_cnn()(Tensor(np.zeros((2, 1, 8, 8), np.float32))).shape == (2, 10)


def test_googlenet_auxiliary_head_and_weighted_loss():
    mg.manual_seed(0)
    net = models.googlenet(aux=True)
    x, y = Tensor(np.random.default_rng(0).random((2, 1, 8, 8), dtype=np.float32)), np.array([1, 2])
    out = net(x)
    assert isinstance(out, tuple) and out[1].shape == (2, 10)
    main, aux = out
    total = models.aux_loss(out, y, weight=0.3)
    expected = mg.nn.functional.cross_entropy(main, y).item() + 0.3 * mg.nn.functional.cross_entropy(aux, y).item()
    assert total.item() == pytest.approx(expected, rel=1e-6)
    net.eval()
    assert not isinstance(net(x), tuple)


def test_lenet5_on_8x8_digits_says_at_the_call_it_needs_28x28_and_names_the_layer():
    net = models.lenet5()
    with pytest.raises(ValueError, match=r"lenet5: needs 28×28 inputs \(N, C, 28, 28\), got 8×8 "
                                         r"\(input \(2, 1, 8, 8\)\): layer 3, Conv2d\(6, 16, .*"
                                         r"would get 4×4 maps, smaller than its 5×5 window"):
        net(Tensor(np.zeros((2, 1, 8, 8), np.float32)))
    with pytest.raises(ValueError, match=r"got 32×32 .*layer 7, Linear\(in_features=400.*"
                                         r"16·6·6 = 576 features instead of 400"):
        net(Tensor(np.zeros((1, 1, 32, 32), np.float32)))
    assert net(Tensor(np.zeros((1, 1, 28, 28), np.float32))).shape == (1, 10)
    assert list(net.state_dict())[:2] == ["0.weight", "0.bias"]  # still a Sequential: PyTorch's keys


ZOO = {  # (constructor, the name in its errors, valid size arguments)
    "lenet5": (models.lenet5, "lenet5", dict(num_classes=10, in_channels=1)),
    "alexnet": (models.alexnet, "alexnet", dict(num_classes=10)),
    "vgg_block": (models.vgg_block, "vgg_block", dict(in_channels=1, out_channels=4, num_convs=1)),
    "vgg": (models.vgg, "vgg", dict(num_classes=10, in_channels=1, input_size=8, hidden=8)),
    "BasicBlock": (models.BasicBlock, "BasicBlock", dict(in_ch=2, out_ch=2, stride=1)),
    "Bottleneck": (models.Bottleneck, "Bottleneck", dict(in_ch=2, mid_ch=2, out_ch=4, stride=1)),
    "InceptionBlock": (models.InceptionBlock, "InceptionBlock",
                       dict(in_ch=2, ch1x1=1, ch3x3red=1, ch3x3=1, ch5x5red=1, ch5x5=1, pool_proj=1)),
    "DenseBlock": (models.DenseBlock, "DenseBlock", dict(in_ch=3, growth_rate=4, num_layers=2)),
    "DepthwiseSeparable": (models.DepthwiseSeparable, "DepthwiseSeparable", dict(in_ch=2, out_ch=3, stride=1)),
    "resnet": (models.resnet, "ResNet", dict(num_classes=10, in_channels=1)),
    "googlenet": (models.googlenet, "GoogLeNet", dict(num_classes=10, in_channels=1)),
    "digits_cnn": (models.digits_cnn, "digits_cnn", dict(num_classes=10, in_channels=1, width=4)),
}
BAD_SIZES = [(0, ValueError, "must be at least 1, got 0"), (-1, ValueError, "must be at least 1, got -1"),
             (2.5, TypeError, r"must be an int, got 2\.5 \(float\)"), ("3", TypeError, r"must be an int, got '3'")]


@pytest.mark.parametrize("bad, error, words", BAD_SIZES, ids=["0", "-1", "2.5", "'3'"])
@pytest.mark.parametrize("name", ZOO)
def test_every_zoo_constructor_checks_its_sizes_by_the_layers_rule(name, bad, error, words):
    """DenseBlock(3, 4, -1) was accepted and acted as an identity; DenseBlock(3, 4, 2.5) raised "'float' object
    cannot be interpreted as an integer"."""
    build, op, sizes = ZOO[name]
    build(**sizes)
    for what in sizes:
        with pytest.raises(error, match=rf"^{op}: {what} {words}"):
            build(**{**sizes, what: bad})


def test_resnet_and_vgg_check_their_stages():
    with pytest.raises(ValueError, match=r"ResNet: widths and blocks must be tuples of the same length"):
        models.resnet(widths=(8, 16), blocks=(1,))
    with pytest.raises(ValueError, match=r"ResNet: blocks\[1\] must be at least 1, got 0"):
        models.resnet(widths=(8, 16), blocks=(1, 0))
    with pytest.raises(ValueError, match="vgg: 2 blocks halve the size 2 times, so input_size must be at least 4"):
        models.vgg(input_size=3)
