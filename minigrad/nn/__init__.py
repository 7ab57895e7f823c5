"""``minigrad.nn``: modules, parameters, layers, initialisation and the functional API, as ``torch.nn``."""
from . import functional, init, utils
from .containers import ModuleList, Sequential
from .layers import (
    AdaptiveAvgPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d, BCELoss, Conv2d, ConvTranspose2d, CrossEntropyLoss,
    Dropout, Flatten, Identity, KLDivLoss, LeakyReLU, Linear, MaxPool2d, MSELoss, NLLLoss, ReLU, Sigmoid, Softmax, Tanh,
)
from .conv_variants import LocallyConnected2d, TiledConv2d, TransformInvariantConv2d
from .module import Module, Parameter
from .summary import summary

__all__ = [
    "Module", "Parameter", "Sequential", "ModuleList", "functional", "init", "utils", "summary",
    "Linear", "Conv2d", "ConvTranspose2d", "BatchNorm1d", "BatchNorm2d", "MaxPool2d", "AvgPool2d",
    "AdaptiveAvgPool2d", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "Flatten", "Dropout", "Identity",
    "CrossEntropyLoss", "NLLLoss", "MSELoss", "BCELoss", "KLDivLoss",
    "LocallyConnected2d", "TiledConv2d", "TransformInvariantConv2d",
]
