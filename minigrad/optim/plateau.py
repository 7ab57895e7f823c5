"""``ReduceLROnPlateau``: cut the learning rate when a validation metric stops improving.

``scheduler.step(val_loss)`` once per epoch. A value is an improvement when it beats the best so
far by more than ``threshold``: for ``mode="min"``, below best·(1 − threshold) (``threshold_mode="rel"``)
or below best − threshold (``"abs"``); for ``"max"`` above best·(1 + threshold) or best + threshold.
After more than ``patience`` epochs in a row without one, every group's rate becomes
max(lr·factor, min_lr), unless that changes it by no more than ``eps``; then ``cooldown`` epochs
pass in which bad epochs are not counted. PyTorch's rules, step for step.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..core.tensor import Tensor
from .lr_scheduler import LRScheduler
from .optimizer import Optimizer


class ReduceLROnPlateau(LRScheduler):
    """``ReduceLROnPlateau(optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
    cooldown=0, min_lr=0, eps=1e-8)``; ``min_lr`` is one number or one per parameter group."""

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, min_lr=0, eps=1e-8):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"ReduceLROnPlateau: expected a minigrad optimiser, got {type(optimizer).__name__}")
        if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be a number < 1 (new lr = lr·factor), got {factor!r}")
        for what, value in (("patience", patience), ("cooldown", cooldown)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
                raise ValueError(f"ReduceLROnPlateau: {what} must be an integer >= 0 (epochs), got {value!r}")
        self.optimizer = optimizer
        self.factor = factor
        groups = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != groups:
                raise ValueError(f"ReduceLROnPlateau: expected {groups} min_lrs (one per parameter group), "
                                 f"got {len(min_lr)}")
            self.default_min_lr, self.min_lrs = None, list(min_lr)
        else:
            self.default_min_lr, self.min_lrs = min_lr, [min_lr] * groups
        self.patience, self.cooldown, self.eps = int(patience), int(cooldown), eps
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]
        self._init_is_better(mode, threshold, threshold_mode)
        self._reset()

    def _init_is_better(self, mode, threshold, threshold_mode):
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' (a loss) or 'max' (an accuracy), got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        self.mode, self.threshold, self.threshold_mode = mode, threshold, threshold_mode
        self.mode_worse = math.inf if mode == "min" else -math.inf

    def _reset(self):
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def is_better(self, value, best):
        """Whether ``value`` improves on ``best`` by more than the threshold."""
        if self.mode == "min":
            return value < (best * (1.0 - self.threshold) if self.threshold_mode == "rel" else best - self.threshold)
        return value > (best * (self.threshold + 1.0) if self.threshold_mode == "rel" else best + self.threshold)

    def step(self, metrics, epoch=None):
        """End an epoch whose validation metric was ``metrics`` (a number, or a one-element Tensor or array).
        ``epoch`` (deprecated in PyTorch too) sets the epoch counter instead of adding one."""
        current = _number(metrics)
        self.last_epoch = self.last_epoch + 1 if epoch is None else int(epoch)
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in the cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _reduce_lr(self):
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"ReduceLROnPlateau: the optimiser has {len(groups)} parameter groups but min_lr was given for "
                    f"{len(self.min_lrs)} (was a group added?); set scheduler.min_lrs to one value per group"
                )
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, floor in zip(groups, self.min_lrs):
            old = float(group["lr"])
            new = max(old * self.factor, floor)
            if old - new > self.eps:
                group["lr"] = new

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        self._init_is_better(self.mode, self.threshold, self.threshold_mode)

    def __repr__(self):
        return f"ReduceLROnPlateau(mode={self.mode!r}, best={self.best}, bad epochs={self.num_bad_epochs}, lr={self._last_lr})"


def _number(metrics):
    value = metrics.data if isinstance(metrics, Tensor) else metrics
    if isinstance(value, (np.ndarray, np.generic)):
        if value.size != 1:
            raise ValueError(f"ReduceLROnPlateau.step: the metric must be one number, got an array of shape "
                             f"{value.shape}")
        return float(value.reshape(()))
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"ReduceLROnPlateau.step: the metric must be a number (e.g. the validation loss), got "
                        f"{type(metrics).__name__}")
    return float(value)
