"""``minigrad.nn``: modules, parameters, layers, initialisation and the functional API, as ``torch.nn``."""
from . import functional, init, utils
from .activation import ELU, GELU, Hardtanh, LogSoftmax, Mish, ReLU6, SiLU, Softplus
from .containers import ModuleList, Sequential
from .conv import Conv1d, Conv2d, ConvTranspose2d
from .layers import (
    AdaptiveAvgPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d, Dropout, Dropout2d, Flatten, Identity, LeakyReLU, Linear,
    MaxPool2d, ReLU, Sigmoid, Softmax, Tanh,
)
from .loss import (
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss, MSELoss, NLLLoss, SmoothL1Loss,
)
from .conv_variants import LocallyConnected2d, TiledConv2d, TransformInvariantConv2d
from .module import Module, Parameter
from .normalization import GroupNorm, InstanceNorm2d, LayerNorm
from .resampling import AdaptiveMaxPool2d, MaxUnpool2d, Upsample
from .summary import summary

__all__ = [
    "Module", "Parameter", "Sequential", "ModuleList", "functional", "init", "utils", "summary",
    "Linear", "Conv1d", "Conv2d", "ConvTranspose2d", "BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm",
    "InstanceNorm2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "MaxUnpool2d", "Upsample",
    "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "GELU", "ELU", "SiLU", "Softplus", "Hardtanh",
    "ReLU6", "Mish", "Flatten", "Dropout", "Dropout2d", "Identity",
    "CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss",
    "KLDivLoss",
    "LocallyConnected2d", "TiledConv2d", "TransformInvariantConv2d",
]
