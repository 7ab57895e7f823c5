"""The lectures' model zoo, built only from ``minigrad.nn``.

Parameter counts follow the lectures: a conv layer has n_l·n_{l+1}·k₁·k₂ + n_{l+1} parameters
(``nn.summary`` prints them per layer).
"""
from __future__ import annotations

from .. import nn
from . import functional as F
from .layers import count as _count
from ..ops import window
from ..ops.shape import cat


def _sizes(op, **sizes):
    """The sizes a zoo model or block is built with, each an int ≥ 1 by the layers' own rule (``layers.count``):
    a wrong one fails here, naming the model, not deep inside (or never: a DenseBlock of -1 layers was an identity)."""
    return [_count(op, what, value) for what, value in sizes.items()]


class LeNet5(nn.Sequential):
    """``lenet5()``: a Sequential that checks the input's size before running, since its first Linear layer
    is built for the 16×5×5 maps a 28×28 image gives. Another size is refused at the call, naming the layer
    it would break."""

    def forward(self, x):
        if getattr(x, "ndim", None) == 4:
            misfit = self._misfit(tuple(x.shape[1:]))
            if misfit is not None:
                raise ValueError(
                    f"lenet5: needs 28×28 inputs (N, C, 28, 28), got {x.shape[2]}×{x.shape[3]} (input {x.shape}): "
                    f"{misfit}; resize or pad the images to 28×28 (for the 8×8 digits use models.digits_cnn())"
                )
        return super().forward(x)

    def _misfit(self, shape):
        """What goes wrong for an input of ``shape`` (C, H, W), naming the layer, or None if it fits."""
        c, h, w = shape
        for name, layer in self.named_children():
            if isinstance(layer, nn.Linear):
                if c * h * w != layer.in_features:
                    return (f"layer {name}, {layer!r}, would get {c}·{h}·{w} = {c * h * w} features instead of "
                            f"{layer.in_features}")
                return None
            if isinstance(layer, (nn.Conv2d, nn.MaxPool2d)):
                k, s, p, d = (window.pair("lenet5", what, getattr(layer, what))
                              for what in ("kernel_size", "stride", "padding", "dilation"))
                size = window.out_size((h, w), k, s, tuple((q, q) for q in p), d, getattr(layer, "ceil_mode", False))
                if min(size) < 1:
                    return f"layer {name}, {layer!r}, would get {h}×{w} maps, smaller than its {k[0]}×{k[1]} window"
                (h, w), c = size, getattr(layer, "out_channels", c)
        return None


def lenet5(num_classes=10, in_channels=1):
    """LeNet-5 for 28×28 inputs: C-P-C-P then a 3-layer MLP (ReLU and max pooling, the modern variant).

    conv 5×5 (padding 2) 28×28×6 → pool 14×14×6 → conv 5×5 10×10×16 → pool 5×5×16 → 120 → 84 → classes;
    61,706 parameters for 10 classes. Another input size is an error at the call that names the layer it breaks.
    """
    num_classes, in_channels = _sizes("lenet5", num_classes=num_classes, in_channels=in_channels)
    return LeNet5(
        nn.Conv2d(in_channels, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, num_classes),
    )


def alexnet(num_classes=1000):
    """AlexNet exactly as the classic table (one tower, no LRN), 227×227×3 input, 62,378,344 parameters.

    227×227×3 → conv 11×11/4 55×55×96 → pool 3/2 27×27×96 → conv 5×5 27×27×256 → pool 13×13×256
    → conv 3×3 13×13×384 → conv 13×13×384 → conv 13×13×256 → pool 6×6×256 → 4096 → 4096 → 1000.
    """
    (num_classes,) = _sizes("alexnet", num_classes=num_classes)
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Flatten(),
        nn.Dropout(0.5), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(),
        nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(),
        nn.Linear(4096, num_classes),
    )


def vgg_block(in_channels, out_channels, num_convs):
    """VGG's unit: ``num_convs`` 3×3 convolutions (padding 1) with ReLU, then a 2×2 max pool halving the size."""
    in_channels, out_channels, num_convs = _sizes("vgg_block", in_channels=in_channels, out_channels=out_channels,
                                                  num_convs=num_convs)
    layers = []
    for i in range(num_convs):
        layers += [nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, 3, padding=1), nn.ReLU()]
    return nn.Sequential(*layers, nn.MaxPool2d(2))


def vgg(config=((1, 16), (1, 32)), num_classes=10, in_channels=1, input_size=8, hidden=64):
    """A small VGG: one ``vgg_block`` per (num_convs, channels) in ``config``, then a 2-layer classifier."""
    num_classes, in_channels, input_size, hidden = _sizes("vgg", num_classes=num_classes, in_channels=in_channels,
                                                          input_size=input_size, hidden=hidden)
    if not config or not all(isinstance(c, (tuple, list)) and len(c) == 2 for c in config):
        raise ValueError(f"vgg: config must be (num_convs, channels) pairs, one per block, got {config!r}")
    if input_size >> len(config) < 1:
        raise ValueError(f"vgg: {len(config)} blocks halve the size {len(config)} times, so input_size must be at "
                         f"least {2 ** len(config)}, got {input_size}")
    blocks, channels, size = [], in_channels, input_size
    for num_convs, out in config:
        blocks.append(vgg_block(channels, out, num_convs))
        channels, size = out, size // 2
    return nn.Sequential(
        *blocks, nn.Flatten(), nn.Linear(channels * size * size, hidden), nn.ReLU(), nn.Linear(hidden, num_classes)
    )


class _Block(nn.Module):
    """A zoo block: its repr (and a drawing's box title) shows the arguments it was built with."""

    _repr_args = ()  # (name, value, default), set by each block's __init__; default ... for a positional one

    def extra_repr(self):
        parts = []
        for name, value, default in self._repr_args:
            if default is ...:
                parts.append(repr(value))
            elif value != default:
                parts.append(f"{name}={value!r}")
        return ", ".join(parts)


class BasicBlock(_Block):
    """ResNet's basic block: relu(BN(conv3×3(relu(BN(conv3×3(x))))) + shortcut(x)).

    When the shape changes (stride > 1 or more channels) the shortcut is either a 1×1 convolution
    with batch norm (``"projection"``) or the lectures' parameter-free construction
    (``"zeropad"``): subsample by the stride and zero-pad the new channels.
    """

    def __init__(self, in_ch, out_ch, stride=1, shortcut="projection"):
        super().__init__()
        self._repr_args = (
            ("in_ch", in_ch, ...),
            ("out_ch", out_ch, ...),
            ("stride", stride, 1),
            ("shortcut", shortcut, "projection"),
        )
        in_ch, out_ch, stride = _sizes("BasicBlock", in_ch=in_ch, out_ch=out_ch, stride=stride)
        if shortcut not in ("projection", "zeropad"):
            raise ValueError(f"BasicBlock: shortcut must be 'projection' or 'zeropad', got {shortcut!r}")
        if shortcut == "zeropad" and out_ch < in_ch:
            raise ValueError(f"BasicBlock: a zeropad shortcut cannot reduce channels ({in_ch} -> {out_ch})")
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.reshapes = stride != 1 or in_ch != out_ch
        self.kind, self.out_ch, self.stride = shortcut, out_ch, stride
        if self.reshapes and shortcut == "projection":
            self.shortcut = nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride=stride, bias=False), nn.BatchNorm2d(out_ch))

    def forward(self, x):
        out = self.bn1(self.conv1(x)).relu()
        out = self.bn2(self.conv2(out))
        if not self.reshapes:
            skip = x
        elif self.kind == "projection":
            skip = self.shortcut(x)
        else:
            skip = F.zero_pad_shortcut(x, self.out_ch, self.stride)
        return (out + skip).relu()  # the residual add: the add gate sends the gradient down both paths


class Bottleneck(_Block):
    """ResNet's bottleneck: 1×1 reduce to ``mid_ch``, 3×3 (with the stride), 1×1 expand to ``out_ch``, plus the shortcut."""

    def __init__(self, in_ch, mid_ch, out_ch, stride=1):
        super().__init__()
        self._repr_args = (
            ("in_ch", in_ch, ...),
            ("mid_ch", mid_ch, ...),
            ("out_ch", out_ch, ...),
            ("stride", stride, 1),
        )
        in_ch, mid_ch, out_ch, stride = _sizes("Bottleneck", in_ch=in_ch, mid_ch=mid_ch, out_ch=out_ch, stride=stride)
        self.conv1, self.bn1 = nn.Conv2d(in_ch, mid_ch, 1, bias=False), nn.BatchNorm2d(mid_ch)
        self.conv2, self.bn2 = nn.Conv2d(mid_ch, mid_ch, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(mid_ch)
        self.conv3, self.bn3 = nn.Conv2d(mid_ch, out_ch, 1, bias=False), nn.BatchNorm2d(out_ch)
        self.shortcut = None
        if stride != 1 or in_ch != out_ch:
            self.shortcut = nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride=stride, bias=False), nn.BatchNorm2d(out_ch))

    def forward(self, x):
        out = self.bn1(self.conv1(x)).relu()
        out = self.bn2(self.conv2(out)).relu()
        out = self.bn3(self.conv3(out))
        return (out + (x if self.shortcut is None else self.shortcut(x))).relu()


class InceptionBlock(_Block):
    """GoogLeNet's inception module: four branches concatenated along the channels.

    1×1 | 1×1 → 3×3 | 1×1 → 5×5 | 3×3 max pool → 1×1. Inception (3a) is
    ``InceptionBlock(192, 64, 96, 128, 16, 32, 32)``: 256 output channels; its 3×3 branch has
    192·96 + 96 + 96·128·9 + 128 = 129,248 parameters.
    """

    def __init__(self, in_ch, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__()
        self._repr_args = (
            ("in_ch", in_ch, ...),
            ("ch1x1", ch1x1, ...),
            ("ch3x3red", ch3x3red, ...),
            ("ch3x3", ch3x3, ...),
            ("ch5x5red", ch5x5red, ...),
            ("ch5x5", ch5x5, ...),
            ("pool_proj", pool_proj, ...),
        )
        in_ch, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj = _sizes(
            "InceptionBlock", in_ch=in_ch, ch1x1=ch1x1, ch3x3red=ch3x3red, ch3x3=ch3x3, ch5x5red=ch5x5red, ch5x5=ch5x5,
            pool_proj=pool_proj)
        relu = nn.ReLU
        self.branch1 = nn.Sequential(nn.Conv2d(in_ch, ch1x1, 1), relu())
        self.branch3 = nn.Sequential(nn.Conv2d(in_ch, ch3x3red, 1), relu(), nn.Conv2d(ch3x3red, ch3x3, 3, padding=1), relu())
        self.branch5 = nn.Sequential(nn.Conv2d(in_ch, ch5x5red, 1), relu(), nn.Conv2d(ch5x5red, ch5x5, 5, padding=2), relu())
        self.branch_pool = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), nn.Conv2d(in_ch, pool_proj, 1), relu())
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj

    def forward(self, x):
        return cat([self.branch1(x), self.branch3(x), self.branch5(x), self.branch_pool(x)], dim=1)


class DenseBlock(_Block):
    """DenseNet's block: each layer (BN, ReLU, 3×3 conv) sees every earlier feature map and adds ``growth_rate`` more.

    Output channels: ``in_ch + num_layers·growth_rate``.
    """

    def __init__(self, in_ch, growth_rate, num_layers):
        super().__init__()
        self._repr_args = (("in_ch", in_ch, ...), ("growth_rate", growth_rate, ...), ("num_layers", num_layers, ...))
        in_ch, growth_rate, num_layers = _sizes("DenseBlock", in_ch=in_ch, growth_rate=growth_rate,
                                                num_layers=num_layers)
        self.layers = nn.ModuleList(
            nn.Sequential(nn.BatchNorm2d(in_ch + i * growth_rate), nn.ReLU(),
                          nn.Conv2d(in_ch + i * growth_rate, growth_rate, 3, padding=1, bias=False))
            for i in range(num_layers)
        )
        self.out_channels = in_ch + num_layers * growth_rate

    def forward(self, x):
        features = x
        for layer in self.layers:
            features = cat([features, layer(features)], dim=1)
        return features


class DepthwiseSeparable(_Block):
    """MobileNet's block: a depthwise 3×3 conv (one filter per channel) then a pointwise 1×1 conv, each with BN and ReLU.

    Weights: in·3·3 + in·out instead of a full 3×3 conv's in·out·3·3 -- for 64 → 128 channels,
    576 + 8,192 = 8,768 instead of 73,728, 8.4× fewer.
    """

    def __init__(self, in_ch, out_ch, stride=1):
        super().__init__()
        self._repr_args = (("in_ch", in_ch, ...), ("out_ch", out_ch, ...), ("stride", stride, 1))
        in_ch, out_ch, stride = _sizes("DepthwiseSeparable", in_ch=in_ch, out_ch=out_ch, stride=stride)
        self.depthwise = nn.Conv2d(in_ch, in_ch, 3, stride=stride, padding=1, groups=in_ch, bias=False)
        self.bn1 = nn.BatchNorm2d(in_ch)
        self.pointwise = nn.Conv2d(in_ch, out_ch, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch)

    def forward(self, x):
        return self.bn2(self.pointwise(self.bn1(self.depthwise(x)).relu())).relu()


class ResNet(nn.Module):
    """A small ResNet for 8×8 or 28×28 inputs: a 3×3 stem, one stage of basic blocks per width, global pooling."""

    def __init__(self, num_classes=10, in_channels=1, widths=(16, 32, 64), blocks=(1, 1, 1), shortcut="projection"):
        super().__init__()
        num_classes, in_channels = _sizes("ResNet", num_classes=num_classes, in_channels=in_channels)
        if not isinstance(widths, (tuple, list)) or not isinstance(blocks, (tuple, list)) or not widths or \
                len(widths) != len(blocks):
            raise ValueError(f"ResNet: widths and blocks must be tuples of the same length, one item per stage, got "
                             f"widths={widths!r} and blocks={blocks!r}")
        widths = [_count("ResNet", f"widths[{i}]", w) for i, w in enumerate(widths)]
        blocks = [_count("ResNet", f"blocks[{i}]", b) for i, b in enumerate(blocks)]
        self.stem = nn.Sequential(nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False), nn.BatchNorm2d(widths[0]),
                                  nn.ReLU())
        stages, channels = [], widths[0]
        for i, (width, count) in enumerate(zip(widths, blocks)):
            layer = []
            for j in range(count):
                layer.append(BasicBlock(channels, width, stride=2 if (i > 0 and j == 0) else 1, shortcut=shortcut))
                channels = width
            stages.append(nn.Sequential(*layer))
        self.layers = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x):
        return self.fc(self.pool(self.layers(self.stem(x))).flatten(1))


def resnet(num_classes=10, in_channels=1, widths=(16, 32, 64), blocks=(1, 1, 1), shortcut="projection"):
    return ResNet(num_classes, in_channels, widths, blocks, shortcut)


class GoogLeNet(nn.Module):
    """A small GoogLeNet-style classifier: a stem, two inception blocks, global average pooling.

    With ``aux=True`` an auxiliary classifier on the first inception block's output is also
    returned in training mode, ``(logits, aux_logits)``; combine the losses with :func:`aux_loss`.
    """

    def __init__(self, num_classes=10, in_channels=1, aux=False):
        super().__init__()
        num_classes, in_channels = _sizes("GoogLeNet", num_classes=num_classes, in_channels=in_channels)
        self.stem = nn.Sequential(nn.Conv2d(in_channels, 32, 3, padding=1), nn.ReLU())
        self.inception1 = InceptionBlock(32, 16, 16, 24, 4, 8, 8)
        self.inception2 = InceptionBlock(56, 32, 24, 48, 8, 16, 16)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(112, num_classes)
        self.aux = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(56, num_classes)) if aux else None

    def forward(self, x):
        mid = self.inception1(self.stem(x))
        logits = self.fc(self.pool(self.inception2(mid)).flatten(1))
        if self.aux is not None and self.training:
            return logits, self.aux(mid)
        return logits


def googlenet(num_classes=10, in_channels=1, aux=False):
    return GoogLeNet(num_classes, in_channels, aux)


def aux_loss(outputs, target, weight=0.3, loss_fn=None):
    """Main loss plus ``weight`` × each auxiliary head's loss (GoogLeNet used 0.3); a lone output is just its loss."""
    loss_fn = loss_fn or F.cross_entropy
    if not isinstance(outputs, tuple):
        return loss_fn(outputs, target)
    main, *aux = outputs
    total = loss_fn(main, target)
    for head in aux:
        total = total + weight * loss_fn(head, target)
    return total


def digits_cnn(num_classes=10, in_channels=1, width=16):
    """The demo's CNN for 8×8 digits: (conv 3×3, batch norm, ReLU, 2×2 max pool) twice, then a linear classifier.

    The convolutions have no bias: the batch norm right after each one subtracts the channel mean,
    which would cancel it (its gradient would be zero; ``grad_flow_report`` flags exactly that).
    """
    num_classes, in_channels, width = _sizes("digits_cnn", num_classes=num_classes, in_channels=in_channels,
                                             width=width)
    return nn.Sequential(
        nn.Conv2d(in_channels, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(width, 2 * width, 3, padding=1, bias=False), nn.BatchNorm2d(2 * width), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(2 * width * 2 * 2, num_classes),
    )

