"""Each gate's ONNX form against minigrad, through onnxruntime at two batch sizes: convolution and pooling
geometries, activations, arithmetic with broadcasting, shapes and indexing, reductions."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F


class Fn(nn.Module):
    """A model whose forward is ``fn(self, x)``, with a few parameters to compute with."""

    def __init__(self, fn, features=6):
        super().__init__()
        self.fn = fn
        self.fc = nn.Linear(features, 6)
        self.w = nn.Parameter(np.linspace(-1, 1, 6).astype(np.float32))

    def forward(self, x):
        return self.fn(self, x)


CONVOLUTIONS = {
    "groups, stride, asymmetric padding": nn.Conv2d(4, 6, 3, stride=2, padding=(1, 0), groups=2),
    "dilation": nn.Conv2d(4, 3, 3, dilation=(2, 1), padding=2),
    "'same' with an even kernel (the odd pixel bottom/right)": nn.Conv2d(4, 2, (2, 4), padding="same"),
    "'same' with dilation": nn.Conv2d(4, 2, 2, padding="same", dilation=3),
    "depthwise, no bias": nn.Conv2d(4, 8, 3, groups=4, bias=False),
    "transposed, stride and output padding": nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1),
    "transposed, groups and dilation": nn.ConvTranspose2d(4, 6, (2, 3), stride=(1, 2), dilation=2, groups=2),
    "transposed, no bias": nn.ConvTranspose2d(4, 2, 4, stride=3, padding=2, bias=False),
}


@pytest.mark.parametrize("name", CONVOLUTIONS)
def test_convolutions(name, export_and_run):
    export_and_run(nn.Sequential(CONVOLUTIONS[name]), (4, 9, 8))


POOLS = {
    "max, ceil_mode": nn.MaxPool2d(3, 2, ceil_mode=True),
    "max, padding and dilation": nn.MaxPool2d(3, 1, padding=1, dilation=2),
    "max, ceil_mode with padding": nn.MaxPool2d(2, 2, padding=1, ceil_mode=True),
    "avg": nn.AvgPool2d(2),
    "avg, padding counted": nn.AvgPool2d(3, 2, padding=1),
    "avg, padding not counted": nn.AvgPool2d(3, 2, padding=1, count_include_pad=False),
    "avg, ceil_mode": nn.AvgPool2d(2, 2, ceil_mode=True),
    "avg, ceil_mode and padding counted": nn.AvgPool2d(2, 2, padding=1, ceil_mode=True),
    "avg, ceil_mode, padding not counted": nn.AvgPool2d(3, 2, padding=1, ceil_mode=True, count_include_pad=False),
    "avg, divisor_override": nn.AvgPool2d(2, 1, divisor_override=3),
    "adaptive, even bins": nn.AdaptiveAvgPool2d((3, 2)),
    "adaptive, uneven bins": nn.AdaptiveAvgPool2d((4, 3)),
    "adaptive, a size kept": nn.AdaptiveAvgPool2d((None, 2)),
    "global": nn.AdaptiveAvgPool2d(1),
    "adaptive max, even bins": nn.AdaptiveMaxPool2d((3, 4)),
    "adaptive max, uneven bins": nn.AdaptiveMaxPool2d((4, 3)),
    "adaptive max, rows even, columns uneven": nn.AdaptiveMaxPool2d((3, 5)),
    "adaptive max, a size kept": nn.AdaptiveMaxPool2d((None, 3)),
    "global max": nn.AdaptiveMaxPool2d(1),
}


@pytest.mark.parametrize("name", POOLS)
def test_pooling(name, export_and_run):
    export_and_run(nn.Sequential(nn.Conv2d(2, 3, 1), POOLS[name]), (2, 9, 8))


ACTIVATIONS = {
    "relu": nn.ReLU(), "leaky_relu": nn.LeakyReLU(0.2), "sigmoid": nn.Sigmoid(), "tanh": nn.Tanh(),
    "softmax": nn.Softmax(dim=1), "log_softmax": nn.LogSoftmax(dim=1),
    "gelu": nn.GELU(), "gelu, tanh": nn.GELU(approximate="tanh"), "elu": nn.ELU(0.7), "silu": nn.SiLU(),
    "mish": nn.Mish(), "softplus": nn.Softplus(), "softplus, beta and a threshold it crosses": nn.Softplus(2.0, 0.5),
    "hardtanh": nn.Hardtanh(-0.3, 0.2), "relu6": nn.ReLU6(),
}


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activations(name, export_and_run):
    scale = Fn(lambda m, x: m.fc(x) * 4.0, features=5)  # values past ReLU6's 6 and the thresholds too
    export_and_run(nn.Sequential(scale, ACTIVATIONS[name]), (5,))


NORMALISATIONS = {  # name: (layer, input shape without the batch)
    "layer norm over the last dim": (nn.LayerNorm(8), (3, 8)),
    "layer norm over two dims": (nn.LayerNorm((3, 8), eps=1e-3), (3, 8)),
    "layer norm without affine": (nn.LayerNorm((2, 5), elementwise_affine=False), (3, 2, 5)),
    "layer norm without bias": (nn.LayerNorm(8, bias=False), (8,)),
    "instance norm": (nn.InstanceNorm2d(3), (3, 4, 5)),
    "instance norm, affine": (nn.InstanceNorm2d(3, affine=True), (3, 4, 5)),
    "instance norm on running statistics": (nn.InstanceNorm2d(3, affine=True, track_running_stats=True), (3, 4, 5)),
    "group norm": (nn.GroupNorm(3, 6), (6, 4, 5)),
    "group norm, one group, no affine": (nn.GroupNorm(1, 3, affine=False), (3, 4, 5)),
    "group norm on (N, C) features": (nn.GroupNorm(2, 6), (6,)),
    "group norm on sequences, no bias": (nn.GroupNorm(3, 3, bias=False), (3, 7)),
}


@pytest.mark.parametrize("name", NORMALISATIONS)
def test_normalisations(name, export_and_run):
    layer, shape = NORMALISATIONS[name]
    rng = np.random.default_rng(1)
    for p in layer.parameters():  # γ and β that are not the identity, as after training
        p.data = rng.uniform(0.5, 1.5, p.shape).astype(np.float32)
    if getattr(layer, "running_var", None) is not None:
        layer.running_mean.data = rng.standard_normal(3).astype(np.float32) * 0.3
        layer.running_var.data = rng.uniform(0.5, 2.0, 3).astype(np.float32)
    for p in layer.parameters():
        p.data = p.data - 1.0  # some negative too
    export_and_run(nn.Sequential(Fn(lambda m, x: x * 3.0 + 1.0), layer), shape)


RESAMPLING = {  # name: (layer, input shape without the batch)
    "upsample, nearest ×2": (nn.Upsample(scale_factor=2), (3, 4, 5)),
    "upsample, nearest to a size": (nn.Upsample(size=(7, 3)), (3, 4, 5)),
    "upsample, nearest ×1.5 on (N, C, L)": (nn.Upsample(scale_factor=1.5), (3, 5)),
    "upsample, bilinear": (nn.Upsample(scale_factor=2, mode="bilinear"), (3, 4, 5)),
    "upsample, bilinear, align_corners": (nn.Upsample(size=(6, 9), mode="bilinear", align_corners=True), (3, 4, 5)),
    "conv2d, reflect padding": (nn.Conv2d(3, 2, 3, padding=(1, 2), padding_mode="reflect"), (3, 5, 6)),
    "conv2d, replicate padding": (nn.Conv2d(3, 2, 3, padding=2, padding_mode="replicate"), (3, 5, 6)),
    "conv2d, circular 'same' padding": (nn.Conv2d(3, 2, (2, 4), padding="same", padding_mode="circular"), (3, 5, 6)),
    "conv1d, reflect padding": (nn.Conv1d(3, 2, 3, padding=1, padding_mode="reflect"), (3, 7)),
}


@pytest.mark.parametrize("name", RESAMPLING)
def test_resampling_and_padding_modes(name, export_and_run):
    layer, shape = RESAMPLING[name]
    export_and_run(nn.Sequential(layer), shape)


def test_layer_norm_needs_opset_17(runtime, tmp_path):
    with pytest.raises(mg.onnx.ExportError, match=r"the layer_norm gate, made by module '0' \(LayerNorm\), needs "
                                                 r"ONNX's LayerNormalization, which came with opset 17; export with "
                                                 r"opset=17 or newer \(the default\), not 13"):
        mg.onnx.export(nn.Sequential(nn.LayerNorm(4)), np.zeros((2, 4), np.float32), tmp_path / "m.onnx", opset=13)
    assert list(tmp_path.iterdir()) == []


def test_layer_norm_over_the_batch_axis_is_refused_with_a_symbolic_batch(runtime, tmp_path):
    with pytest.raises(mg.onnx.ExportError, match=r"normalises over the batch axis 0 of \(2, 6\) "
                                                 r"\(normalized_shape \(2, 6\)\).*dynamic_batch=False"):
        mg.onnx.export(Fn(lambda m, x: mg.nn.functional.layer_norm(m.fc(x), (2, 6)), features=4),
                       np.zeros((2, 4), np.float32), tmp_path / "m.onnx")


def parts(*tensors):
    """Several results side by side (not summed: a sum that cancels would hide float32 errors in a small total)."""
    return mg.cat([t.reshape(t.shape[0], -1) for t in tensors], dim=1)


FUNCTIONS = {
    "log_softmax over the last axis": lambda m, x: F.log_softmax(m.fc(x).reshape(-1, 2, 3), dim=-1),
    "softmax over channels": lambda m, x: F.softmax(m.fc(x).reshape(-1, 3, 2), dim=1),
    "arithmetic, broadcasting and constants": lambda m, x: parts(
        (m.fc(x) - 0.5) * m.w, m.w / (m.fc(x) ** 2 + 1.0), 2.0 ** m.w - np.float32(3) * m.fc(x)[:, :1]),
    "exp, log, sqrt, abs, neg, maximum": lambda m, x: parts(
        (-m.fc(x)).exp(), (m.fc(x).abs() + 1).log(), (m.fc(x) ** 2).sqrt(), mg.maximum(m.fc(x), m.w)),
    "where with a constant condition": lambda m, x: mg.where(np.array([True, False] * 3), m.fc(x), -m.fc(x)),
    "matmul with a parameter and linear on 3-D input": lambda m, x: parts(
        m.fc(x.reshape(x.shape[0], 1, 6)) @ m.w.reshape(6, 1), m.fc(x).T.T @ m.w, m.w @ m.fc(x).transpose(0, 1)),
    "reductions": lambda m, x: parts(m.fc(x).sum(dim=1, keepdim=True), m.fc(x).mean(dim=-1).unsqueeze(1),
                                     m.fc(x).max(dim=1, keepdim=True), m.fc(x).var(dim=1, unbiased=True)),
    "a cast": lambda m, x: m.fc(x).double().float(),
    "clamp and clip with numbers": lambda m, x: parts(m.fc(x).clamp(-0.2, 0.3), m.fc(x).clamp(min=0.1),
                                                      mg.clip(m.fc(x), max=-0.1), m.fc(x).clamp(0.5, -0.5)),
    "clamp with tensor bounds": lambda m, x: parts(m.fc(x).clamp(m.w * 0.2, m.w * 0.2 + 0.3),
                                                   mg.clamp(m.fc(x), min=m.w), m.fc(x).clamp(max=m.w)),
    "minimum, amin, min over a dim": lambda m, x: parts(mg.minimum(m.fc(x), m.w), m.fc(x).amin(dim=1, keepdim=True),
                                                        m.fc(x).min(1), mg.amin(m.fc(x).reshape(-1, 2, 3), (1, 2))),
    "logsumexp": lambda m, x: parts(m.fc(x).logsumexp(1), mg.logsumexp(m.fc(x) * 30.0, 1, keepdim=True),
                                    m.fc(x).reshape(-1, 2, 3).logsumexp((1, 2))),
    "prod": lambda m, x: parts((m.fc(x) * 0.5 + 1).prod(1), (m.fc(x) + 1).reshape(-1, 2, 3).prod(-1, keepdim=True)),
    "floor division and remainder": lambda m, x: parts(m.fc(x) // 0.3, m.fc(x) % 0.7, m.fc(x) % -(m.w + 2.0),
                                                       3.0 // (m.w + 2.0) + m.fc(x)),
    "erf and std": lambda m, x: parts(mg.erf(m.fc(x)), m.fc(x).std(1, keepdim=True),
                                      m.fc(x).reshape(-1, 2, 3).std((1, 2), unbiased=False)),
}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_functions(name, export_and_run):
    export_and_run(Fn(FUNCTIONS[name]), (6,))


SHAPES = {
    "flatten, reshape, permute": lambda m, x: m.c(x).flatten(2).permute(0, 2, 1).reshape(x.shape[0], -1, 2, 3),
    "slices with steps, negative steps, ints, None, ...": lambda m, x: m.c(x)[:, 1:, ::-2, None, 1, ...],
    "the last row, a middle column": lambda m, x: m.c(x)[..., -1, 2:3],
    "an integer array and a boolean mask": lambda m, x: m.c(x)[:, [2, 0, -1]][:, :, np.array([1, 0, 1, 1, 0, 0, 1],
                                                                                            bool)],
    "integer arrays on adjacent axes": lambda m, x: m.c(x)[:, :, np.array([[0, 3], [6, 1]]), np.array([1, 2])],
    "pad": lambda m, x: mg.pad(m.c(x), (1, 2, 0, 3), value=-1.5),
    "cat and stack": lambda m, x: parts(mg.cat([m.c(x), m.c(x)[:, :1] * 2], dim=1), mg.stack(
        [m.c(x)[:, 0], m.c(x)[:, 1], m.c(x)[:, 2], m.c(x)[:, 0]], dim=1)),
    "squeeze and unsqueeze": lambda m, x: m.c(x)[:, :1].squeeze(1).unsqueeze(-1).unsqueeze(1),
    "the zero-pad shortcut": lambda m, x: F.zero_pad_shortcut(m.c(x), 5, stride=2),
    "repeat": lambda m, x: parts(m.c(x).repeat(1, 2, 1, 3), m.c(x)[:, 0].repeat(2, 1, 1, 2).permute(1, 0, 2, 3)),
    "max_pool2d's indices into max_unpool2d": lambda m, x: F.max_unpool2d(
        *F.max_pool2d(m.c(x), 2, return_indices=True), 2, output_size=(7, 8)),
    "max_unpool2d, overlapping windows": lambda m, x: nn.MaxUnpool2d(3, 2)(
        *nn.MaxPool2d(3, 2, return_indices=True)(m.c(x)), output_size=(7, 8)),
}


class Convolved(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn, self.c = fn, nn.Conv2d(2, 3, 1)

    def forward(self, x):
        return self.fn(self, x)


@pytest.mark.parametrize("name", SHAPES)
def test_shapes(name, export_and_run):
    export_and_run(Convolved(SHAPES[name]), (2, 7, 8))


def test_batch_norm_on_features_and_sequences(export_and_run, with_statistics):
    export_and_run(with_statistics(nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4))), (5,))
    seq = nn.Sequential(nn.Conv2d(3, 4, 1), nn.Flatten(2), nn.BatchNorm1d(4, affine=False))
    export_and_run(with_statistics(seq), (3, 2, 5))


def test_transform_invariant_convolution_exports_as_the_gates_it_is_made_of(export_and_run):
    # not a gate of its own: index (the 8 transformed filters), permute, conv2d, max over the transforms
    export_and_run(nn.Sequential(nn.TransformInvariantConv2d(3, 4, 3, padding=1), nn.ReLU()), (3, 6, 6))
