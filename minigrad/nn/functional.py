"""``minigrad.nn.functional``: the gates under PyTorch's names, signatures and defaults (NCHW layout).

Each function is defined next to its gate in ``minigrad/ops/``; this module only gathers them,
so ``import minigrad.nn.functional as F`` reads like ``torch.nn.functional``.
"""
from ..ops.activation import (elu, gelu, hardtanh, leaky_relu, log_softmax, mish, relu, relu6, sigmoid, silu, softmax,
                              softplus, tanh)
from ..ops.adaptive_pool import adaptive_max_pool2d, max_unpool2d
from ..ops.conv import conv1d, conv2d, conv_transpose2d
from ..ops.interpolate import interpolate
from ..ops.conv_variants import local_conv2d, tiled_conv2d, transform_invariant_conv2d
from ..ops.linear import linear
from ..ops.loss import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, huber_loss, kl_div,
                        l1_loss, mse_loss, nll_loss, smooth_l1_loss)
from ..ops.norm import batch_norm, dropout, dropout2d
from ..ops.normalization import group_norm, instance_norm, layer_norm
from ..ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from ..ops.shape import pad, zero_pad_shortcut

__all__ = [
    "linear", "conv1d", "conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d",
    "adaptive_max_pool2d", "max_unpool2d", "interpolate", "batch_norm", "dropout2d",
    "layer_norm", "group_norm", "instance_norm",
    "dropout", "relu", "leaky_relu", "sigmoid", "tanh", "softmax", "log_softmax", "gelu", "elu", "silu", "softplus",
    "mish", "hardtanh", "relu6", "cross_entropy", "nll_loss",
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "pad", "zero_pad_shortcut",
    "local_conv2d", "tiled_conv2d", "transform_invariant_conv2d",
]
