"""Each gate of the zoo's eval-mode graphs as ONNX nodes: convolutions, linear, batch norm, pooling, activations
and the elementwise arithmetic. (Shapes, indexing and reductions: ``shapes.py``.)

A converter is ``fn(g, node, gate, inputs)``: ``g`` the :class:`~minigrad.onnx.graph.Graph`, ``node``
the minigrad Tensor the gate made, ``gate`` its Function object (its options as forward saw them),
``inputs`` the ONNX names of the node's inputs, already cast to the node's dtype (as numpy computes
in the promoted dtype). It returns the name of the node's value.
"""
from __future__ import annotations

import math

import numpy as np

from ..ops import (activation, adaptive_pool, clamp, conv, elementwise as ew, linear, norm, normalization, pool, special,
                   window)

CONVERTERS = {}


def converts(*classes, cast=True):
    """Register ``fn`` as the converter of the gate ``classes`` (exactly these classes, not subclasses)."""
    def register(fn):
        for cls in classes:
            CONVERTERS[cls] = (fn, cast)
        return fn
    return register


def _pair_list(a, b):
    return [int(a[0]), int(a[1]), int(b[0]), int(b[1])]


# -- convolutions and linear --


@converts(conv.Conv2d)
def _conv2d(g, node, gate, inputs):
    g.require_batch_first(node._inputs[0])
    o = gate._options
    (top, bottom), (left, right) = o["padding"]
    w = node._inputs[1]
    return g.node("Conv", inputs, batch=g.batch_of(node._inputs[0]), kernel_shape=list(w.shape[2:]),
                  strides=list(o["stride"]), pads=[top, left, bottom, right], dilations=list(o["dilation"]),
                  group=o["groups"])


@converts(conv.ConvTranspose2d)
def _conv_transpose2d(g, node, gate, inputs):
    x = node._inputs[0]
    g.require_batch_first(x)
    geo = gate._options["geometry"]
    kernel, stride, dilation, pad = (geo.kh, geo.kw), (geo.sh, geo.sw), (geo.dh, geo.dw), (geo.top, geo.left)
    # ONNX's output size is conv_transpose2d's without output_padding, plus output_padding: that is what is left
    extra = [size - window.transposed_length(d, k, s, p, dil, 0)
             for size, s, d, dil, k, p in zip((geo.H, geo.W), stride, x.shape[2:], dilation, kernel, pad)]
    return g.node("ConvTranspose", inputs, batch=g.batch_of(x), kernel_shape=list(kernel), strides=list(stride),
                  pads=_pair_list(pad, pad), dilations=list(dilation), group=gate._options["groups"],
                  output_padding=extra)


@converts(linear.Linear)
def _linear(g, node, gate, inputs):
    x = node._inputs[0]
    batch = g.aligned_batch(node, x)
    if x.ndim == 2:
        return g.node("Gemm", inputs, batch=batch, transB=1)
    out = g.node("MatMul", [inputs[0], g.node("Transpose", [inputs[1]], perm=[1, 0])], batch=batch)
    return g.node("Add", [out, inputs[2]], batch=batch) if len(inputs) > 2 else out


@converts(norm.BatchNorm, normalization.InstanceNormEval)  # instance norm on running statistics is batch norm
def _batch_norm(g, node, gate, inputs):
    o = gate._options
    if o["training"]:
        g.fail("normalises with the batch's own statistics (training=True, or a BatchNorm with "
               "track_running_stats=False), which ONNX inference does not do; export a model whose batch norms "
               "have running statistics (the model is traced in eval mode)")
    x, c = node._inputs[0], node.shape[1]
    g.require_batch_first(x)
    weight = inputs[1] if o["has_weight"] else g.const(np.ones(c, node.dtype))
    bias = inputs[-1] if o["has_bias"] else g.const(np.zeros(c, node.dtype))
    mean, var = (g.array(a, node.dtype) for a in o["running"])
    return g.node("BatchNormalization", [inputs[0], weight, bias, mean, var], batch=g.batch_of(x), epsilon=o["eps"])


@converts(normalization.LayerNorm)
def _layer_norm(g, node, gate, inputs):
    if g.opset < 17:
        g.fail(f"needs ONNX's LayerNormalization, which came with opset 17; export with opset=17 or newer (the "
               f"default), not {g.opset}")
    x, m, o = node._inputs[0], gate.rows[1], gate._options
    if gate.param_shape is not None:  # normalized_shape: the dims γ and β have
        axis = x.ndim - len(gate.param_shape)
    else:  # without them any trailing dims holding m elements are the same normalisation
        axis = max(k for k in range(x.ndim) if math.prod(x.shape[k:]) == m)
    batch = g.batch_of(x)
    if batch is not None and batch >= axis:
        g.fail(f"normalises over the batch axis {batch} of {x.shape} (normalized_shape {x.shape[axis:]}), which would "
               f"mix the samples of a symbolic batch; export with dynamic_batch=False")
    params = inputs[1:]
    scale = params[0] if o["has_weight"] else g.const(np.ones(x.shape[axis:], node.dtype))
    bias = [params[-1]] if o["has_bias"] else []
    return g.node("LayerNormalization", [inputs[0], scale, *bias], batch=batch, axis=axis, epsilon=o["eps"])


@converts(normalization.InstanceNorm)
def _instance_norm(g, node, gate, inputs):
    x, o = node._inputs[0], gate._options
    g.require_batch_first(x)
    c = x.shape[1]
    scale = inputs[1] if o["has_weight"] else g.const(np.ones(c, node.dtype))
    bias = inputs[-1] if o["has_bias"] else g.const(np.zeros(c, node.dtype))
    return g.node("InstanceNormalization", [inputs[0], scale, bias], batch=g.batch_of(x), epsilon=o["eps"])


@converts(normalization.GroupNorm)
def _group_norm(g, node, gate, inputs):
    """Each sample's channels in G groups: reshaped to (N, G, M), InstanceNormalization (one "channel" per group,
    scale 1, bias 0), reshaped back, then the per-channel γ and β."""
    x, o = node._inputs[0], gate._options
    g.require_batch_first(x)
    batch, (rows, m), n, c = g.batch_of(x), gate.rows, x.shape[0], x.shape[1]
    groups = rows // max(n, 1)
    lead = 0 if batch is not None else n  # Reshape's 0 copies the (symbolic) batch size
    grouped = g.node("Reshape", [inputs[0], g.ints([lead, groups, m])], batch=batch)
    normed = g.node("InstanceNormalization", [grouped, g.const(np.ones(groups, node.dtype)),
                                              g.const(np.zeros(groups, node.dtype))], batch=batch, epsilon=o["eps"])
    out = g.node("Reshape", [normed, g.ints([lead, *x.shape[1:]])], batch=batch)
    per_channel = [c] + [1] * (x.ndim - 2)
    params = inputs[1:]
    if o["has_weight"]:
        out = g.node("Mul", [out, g.node("Reshape", [params[0], g.ints(per_channel)])], batch=batch)
    if o["has_bias"]:
        out = g.node("Add", [out, g.node("Reshape", [params[-1], g.ints(per_channel)])], batch=batch)
    return out


@converts(norm.Dropout, norm.Dropout2d)
def _dropout(g, node, gate, inputs):
    layer = "nn.Dropout2d" if isinstance(gate, norm.Dropout2d) else "nn.Dropout"
    g.fail(f"is dropout in training mode (F.{gate.name}(x, training=True)): its mask is random on every call, so no "
           f"file can hold it; use {layer}, which the export's eval mode turns into the identity")


# -- pooling --


def _max_pool_padding(gate):
    (ph, pw), (eh, ew) = gate.padding, gate.extra
    return [ph, pw, ph + eh, pw + ew]  # ceil_mode's extra rows and columns as bottom/right padding (-inf)


@converts(pool.MaxPool2d)
def _max_pool2d(g, node, gate, inputs):
    x = node._inputs[0]
    g.require_batch_first(x)
    return g.node("MaxPool", inputs, batch=g.batch_of(x), kernel_shape=list(gate.kernel), strides=list(gate.stride),
                  pads=_max_pool_padding(gate), dilations=list(gate.dilation))


@converts(pool.AvgPool2d)
def _avg_pool2d(g, node, gate, inputs):
    x, o = node._inputs[0], gate._options
    g.require_batch_first(x)
    batch, (ph, pw), kernel = g.batch_of(x), gate.padding, list(gate.kernel)
    if gate.extra == (0, 0) and o["divisor_override"] is None:
        return g.node("AveragePool", inputs, batch=batch, kernel_shape=kernel, strides=list(gate.stride),
                      pads=[ph, pw, ph, pw], count_include_pad=int(o["count_include_pad"]))
    # ceil_mode's partial windows or a divisor_override: sum every window of the zero-padded input (an average
    # over the whole kernel, times its size), then divide as forward did (its divisor: a number or a map)
    (eh, ew) = gate.extra
    padded = g.node("Pad", [inputs[0], g.ints([0, 0, ph, pw, 0, 0, ph + eh, pw + ew])], batch=batch)
    mean = g.node("AveragePool", [padded], batch=batch, kernel_shape=kernel, strides=list(gate.stride))
    scale = (gate.kernel[0] * gate.kernel[1]) / np.asarray(gate.divisor, np.float64)
    return g.node("Mul", [mean, g.const(scale.astype(node.dtype))], batch=batch)


@converts(pool.AdaptiveAvgPool2d)
def _adaptive_avg_pool2d(g, node, gate, inputs):
    x = node._inputs[0]
    g.require_batch_first(x)
    batch, (H, W), (oh, ow) = g.batch_of(x), x.shape[2:], gate.out
    if (oh, ow) == (1, 1):
        return g.node("GlobalAveragePool", inputs, batch=batch)
    if gate.even:
        k = [H // oh, W // ow]
        return g.node("AveragePool", inputs, batch=batch, kernel_shape=k, strides=k)
    # unequal, overlapping bins: y = A_h·x·A_wᵀ with the bins' averaging matrices
    rows = g.node("MatMul", [g.const(gate.rows.astype(node.dtype)), inputs[0]], batch=batch)
    return g.node("MatMul", [rows, g.const(gate.cols.T.astype(node.dtype))], batch=batch)


@converts(adaptive_pool.AdaptiveMaxPool2d)
def _adaptive_max_pool2d(g, node, gate, inputs):
    """GlobalMaxPool, or MaxPool when the bins are equal (the size divides the input); else PyTorch's unequal,
    overlapping bins, separably: the max over each bin's rows (a Slice and ReduceMax per output row), then over
    each bin's columns."""
    x = node._inputs[0]
    g.require_batch_first(x)
    batch, (H, W), (oh, ow) = g.batch_of(x), x.shape[2:], gate._options["out"]
    if (oh, ow) == (1, 1):
        return g.node("GlobalMaxPool", inputs, batch=batch)
    if H % oh == 0 and W % ow == 0:
        k = [H // oh, W // ow]
        return g.node("MaxPool", inputs, batch=batch, kernel_shape=k, strides=k)
    name = inputs[0]
    for axis, size, out in ((2, H, oh), (3, W, ow)):
        if size % out == 0:  # this axis' bins are equal: one MaxPool along it
            k = [size // out if a == axis else 1 for a in (2, 3)]
            name = g.node("MaxPool", [name], batch=batch, kernel_shape=k, strides=k)
            continue
        parts = []
        for start, stop in adaptive_pool._bins(size, out):
            piece = g.node("Slice", [name, g.ints([start]), g.ints([stop]), g.ints([axis])], batch=batch)
            parts.append(g.axes_input_or_attribute("ReduceMax", piece, [axis], batch, 18, keepdims=1))
        name = g.node("Concat", parts, batch=batch, axis=axis)
    return name


# -- activations --

_UNARY = {ew.Relu: "Relu", ew.Sigmoid: "Sigmoid", ew.Tanh: "Tanh", ew.Exp: "Exp", ew.Log: "Log", ew.Sqrt: "Sqrt",
          ew.Abs: "Abs", ew.Neg: "Neg", ew.Clone: "Identity", special.Erf: "Erf"}


@converts(*_UNARY)
def _unary(g, node, gate, inputs):
    return g.node(_UNARY[type(gate)], inputs, batch=g.aligned_batch(node, *node._inputs))


@converts(activation.LeakyRelu)
def _leaky_relu(g, node, gate, inputs):
    return g.node("LeakyRelu", inputs, batch=g.aligned_batch(node, *node._inputs),
                  alpha=float(gate._options["negative_slope"]))


@converts(activation.Elu)
def _elu(g, node, gate, inputs):
    return g.node("Elu", inputs, batch=g.aligned_batch(node, *node._inputs), alpha=float(gate._options["alpha"]))


@converts(activation.Hardtanh, activation.Relu6)
def _hardtanh(g, node, gate, inputs):
    o = gate._options
    return g.node("Clip", [inputs[0], g.scalar_like(o["lo"], node), g.scalar_like(o["hi"], node)],
                  batch=g.aligned_batch(node, *node._inputs))


@converts(clamp.ClampNumber)
def _clamp_number(g, node, gate, inputs):
    lo, hi = gate._options["lo"], gate._options["hi"]
    bounds = ["" if b is None else g.scalar_like(b, node) for b in (lo, hi)]  # "": Clip's optional input left out
    while bounds and bounds[-1] == "":
        bounds.pop()
    return g.node("Clip", [inputs[0], *bounds], batch=g.aligned_batch(node, *node._inputs))


@converts(clamp.ClampTensor)
def _clamp_tensor(g, node, gate, inputs):
    """min(max(x, lo), hi), as forward (a min above the max gives the max, as PyTorch)."""
    o, batch = gate._options, g.aligned_batch(node, *node._inputs)
    out, rest = inputs[0], inputs[1:]
    if o["has_min"]:
        out = g.node("Max", [out, rest[0]], batch=batch)
    if o["has_max"]:
        out = g.node("Min", [out, rest[-1]], batch=batch)
    return out


@converts(activation.Gelu, activation.GeluTanh, activation.Silu, activation.Mish, activation.Softplus)
def _composed_activation(g, node, gate, inputs):
    """The activations ONNX has only in newer opsets (Gelu 20, Mish 18), or not as PyTorch computes them
    (Softplus' beta and threshold), written with the nodes they are made of."""
    batch = g.aligned_batch(node, *node._inputs)
    x = inputs[0]

    def op(name, *args):
        return g.node(name, [a if isinstance(a, str) else g.scalar_like(a, node) for a in args], batch=batch)

    if isinstance(gate, activation.Gelu):  # x·Φ(x) = ½x(1 + erf(x/√2))
        return op("Mul", op("Mul", x, 0.5), op("Add", op("Erf", op("Div", x, math.sqrt(2.0))), 1.0))
    if isinstance(gate, activation.GeluTanh):  # ½x(1 + tanh(√(2/π)(x + 0.044715x³)))
        inner = op("Mul", op("Add", x, op("Mul", op("Mul", op("Mul", x, x), x), activation._GELU_CUBIC)),
                   activation._SQRT_2_OVER_PI)
        return op("Mul", op("Mul", x, 0.5), op("Add", op("Tanh", inner), 1.0))
    if isinstance(gate, activation.Silu):
        return op("Mul", x, op("Sigmoid", x))
    if isinstance(gate, activation.Mish):
        return op("Mul", x, op("Tanh", op("Softplus", x)))
    beta, threshold = gate._options["beta"], gate._options["threshold"]  # x where βx > threshold, as forward
    bx = x if beta == 1 else op("Mul", x, beta)
    soft = op("Softplus", bx) if beta == 1 else op("Div", op("Softplus", bx), beta)
    return op("Where", op("Greater", bx, threshold), x, soft)


@converts(activation.Softmax, activation.LogSoftmax)
def _softmax(g, node, gate, inputs):
    axis = gate._options["dim"]
    if g.batch_of(node._inputs[0]) == axis:
        g.fail("normalises along the batch axis; export with dynamic_batch=False")
    op = "Softmax" if type(gate) is activation.Softmax else "LogSoftmax"
    return g.node(op, inputs, batch=g.aligned_batch(node, *node._inputs), axis=axis)


@converts(ew.Cast, cast=False)
def _cast(g, node, gate, inputs):
    return g.node("Cast", inputs, batch=g.aligned_batch(node, *node._inputs), to=g.tensor_type(node.dtype))


# -- arithmetic, with numpy's broadcasting (ONNX broadcasts the same way) --

_BINARY = {ew.Add: "Add", ew.Sub: "Sub", ew.Mul: "Mul", ew.Div: "Div", ew.Pow: "Pow", ew.Maximum: "Max",
           ew.Minimum: "Min"}


@converts(*_BINARY)
def _binary(g, node, gate, inputs):
    return g.node(_BINARY[type(gate)], inputs, batch=g.aligned_batch(node, *node._inputs))


@converts(ew.FloorDiv, ew.Remainder)
def _floor_division(g, node, gate, inputs):
    """a // b and a % b with Python's signs: for integers ONNX's Mod (fmod=0 takes the divisor's sign) and
    (a − a % b) / b (exact); for floats ⌊a/b⌋ and a − b·⌊a/b⌋."""
    a, b = inputs
    batch = g.aligned_batch(node, *node._inputs)
    if node.dtype.kind in "iu":
        mod = g.node("Mod", [a, b], batch=batch, fmod=0)
        if isinstance(gate, ew.Remainder):
            return mod
        return g.node("Div", [g.node("Sub", [a, mod], batch=batch), b], batch=batch)
    floor = g.node("Floor", [g.node("Div", [a, b], batch=batch)], batch=batch)
    if isinstance(gate, ew.FloorDiv):
        return floor
    return g.node("Sub", [a, g.node("Mul", [b, floor], batch=batch)], batch=batch)


@converts(ew.PowNumber)
def _pow_number(g, node, gate, inputs):
    return g.node("Pow", [inputs[0], g.scalar_like(gate._options["k"], node)],
                  batch=g.aligned_batch(node, *node._inputs))


@converts(ew.Where)
def _where(g, node, gate, inputs):
    cond = np.asarray(gate._options["cond"], dtype=bool)  # broadcast to the output's shape by mg.where
    batch = g.aligned_batch(node, *node._inputs)
    if batch is not None:
        first = cond.take([0], axis=batch)
        if not (cond == first).all():
            g.fail(f"has a condition that differs between the samples of the batch (shape {cond.shape}), so it "
                   f"only fits a batch of {g.batch_size}; export with dynamic_batch=False")
        cond = first  # the same for every sample: ONNX broadcasts it over the batch
    return g.node("Where", [g.const(cond), *inputs], batch=batch)

