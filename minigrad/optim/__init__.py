"""Optimisers and learning-rate schedules with PyTorch's update rules and state dicts.

    import minigrad.optim as optim
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    sched = optim.lr_scheduler.StepLR(opt, step_size=10)   # also optim.StepLR

A package rather than one file so the schedules live where PyTorch keeps them
(``optim.lr_scheduler``) and each file stays short.
"""
from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .lr_scheduler import (
    CosineAnnealingLR, ExponentialLR, LambdaLR, LRScheduler, MultiStepLR, OneCycleLR, ReduceLROnPlateau, StepLR,
)
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
    "Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad",
    "LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LambdaLR", "OneCycleLR",
    "ReduceLROnPlateau", "lr_scheduler",
]
