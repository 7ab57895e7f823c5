"""Learning-rate schedules, epoch by epoch as PyTorch: ``StepLR``, ``MultiStepLR``, ``ExponentialLR``,
``CosineAnnealingLR``, ``LambdaLR``; ``OneCycleLR`` (``one_cycle.py``, stepped once per batch) and
``ReduceLROnPlateau`` (``plateau.py``, stepped with a validation metric) are importable from here too.

Call ``scheduler.step()`` once per epoch, after the epoch's ``optimizer.step()`` calls. Each
schedule writes the new rate into every group's ``"lr"`` (and remembers the starting rate as
``"initial_lr"``), using PyTorch's recursive formulas so the values agree to the last bit.

``state_dict()`` is plain data -- numbers, strings, lists and dicts -- so it goes into a minigrad
checkpoint (``mg.save``: .npz and JSON, never pickle) as it is.
"""
from __future__ import annotations

import copy
import math
import numbers
import types
from collections import Counter

import numpy as np

from .optimizer import Optimizer


class LRScheduler:
    """Base class: ``step()``, ``get_last_lr()``, ``state_dict()`` / ``load_state_dict()``.

    A subclass writes ``get_lr()``: the groups' rates for epoch ``self.last_epoch``.
    """

    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected a minigrad optimiser, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{type(self).__name__}: param_groups[{i}] has no 'initial_lr'; to resume with "
                        f"last_epoch={last_epoch}, load the optimiser's state_dict first"
                    )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._initial = True
        self.step()
        self._initial = False

    def get_lr(self):
        raise NotImplementedError

    def step(self):
        """Move to the next epoch and set every group's learning rate for it."""
        self._step_count += 1
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self):
        """The learning rates the last ``step()`` set, one per parameter group."""
        return list(self._last_lr)

    _not_saved = ("optimizer",)

    def state_dict(self):
        """Everything but the optimiser: epoch counter, base rates, the schedule's options (copies, plain data)."""
        return {k: _plain(v) for k, v in self.__dict__.items() if k not in self._not_saved}

    def load_state_dict(self, state_dict):
        self.__dict__.update({k: list(v) if isinstance(v, (list, tuple)) else copy.deepcopy(v)
                              for k, v in state_dict.items() if k not in self._not_saved})

    def __repr__(self):
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self._last_lr})"


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs:
    ``lr = initial_lr * gamma ** (epoch // step_size)``."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        if not isinstance(step_size, numbers.Integral) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size!r}")
        self.step_size = int(step_size)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups = self.optimizer.param_groups
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [group["lr"] for group in groups]
        return [group["lr"] * self.gamma for group in groups]


class MultiStepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` at each epoch of ``milestones``:
    ``lr = initial_lr * gamma ** (number of milestones <= epoch)`` (a milestone listed twice counts twice)."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        milestones = list(milestones) if not isinstance(milestones, (str, bytes)) else milestones
        if not isinstance(milestones, list) or not all(
                isinstance(m, numbers.Integral) and not isinstance(m, bool) for m in milestones):
            raise TypeError(f"MultiStepLR: milestones must be a list of epochs (ints), got {milestones!r}")
        self.milestones = Counter(int(m) for m in milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups = self.optimizer.param_groups
        if self.last_epoch not in self.milestones:
            return [group["lr"] for group in groups]
        return [group["lr"] * self.gamma ** self.milestones[self.last_epoch] for group in groups]

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        self.milestones = Counter({int(k): int(v) for k, v in dict(self.milestones).items()})


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every epoch: ``lr = initial_lr * gamma ** epoch``."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._initial:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from the initial rate down to ``eta_min`` over ``T_max`` epochs:
    ``lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``.

    Computed recursively from the current rate as PyTorch does (so the values agree bit for bit);
    past ``T_max`` the rate climbs back up along the same cosine.
    """

    def __init__(self, optimizer, T_max, eta_min=0, last_epoch=-1):
        if not isinstance(T_max, numbers.Integral) or T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be a positive integer, got {T_max!r}")
        self.T_max = int(T_max)
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups, epoch, T, eta_min = self.optimizer.param_groups, self.last_epoch, self.T_max, self.eta_min
        if self._initial:
            return [group["lr"] for group in groups]
        if self._step_count == 1 and epoch > 0:  # resuming with last_epoch: closed form
            return [eta_min + (base - eta_min) * (1 + math.cos(epoch * math.pi / T)) / 2 for base in self.base_lrs]
        if (epoch - 1 - T) % (2 * T) == 0:  # the bottom of the cosine: the ratio below would be 0/0
            return [
                group["lr"] + (base - eta_min) * (1 - math.cos(math.pi / T)) / 2
                for base, group in zip(self.base_lrs, groups)
            ]
        return [
            (1 + math.cos(math.pi * epoch / T)) / (1 + math.cos(math.pi * (epoch - 1) / T)) * (group["lr"] - eta_min)
            + eta_min
            for group in groups
        ]


class LambdaLR(LRScheduler):
    """``lr = initial_lr * lr_lambda(epoch)``: ``lr_lambda`` is a function of the epoch, or a list of them,
    one per parameter group.

    ``state_dict()`` keeps what PyTorch keeps of the functions: nothing of a plain function or lambda
    (``None``), and the attributes (``__dict__``) of a callable object, which must then be plain data (numbers,
    strings, lists, dicts, arrays) so that the state goes into a minigrad checkpoint; ``load_state_dict``
    puts those attributes back into the functions given to this scheduler.
    """

    _not_saved = ("optimizer", "lr_lambdas")

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != len(optimizer.param_groups):
                raise ValueError(f"LambdaLR: expected {len(optimizer.param_groups)} lr_lambdas (one per parameter "
                                 f"group), got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * len(optimizer.param_groups)
        for i, fn in enumerate(self.lr_lambdas):
            if not callable(fn):
                raise TypeError(f"LambdaLR: lr_lambda {i} must be a function of the epoch, got {fn!r}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base * fn(self.last_epoch) for fn, base in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self):
        state = super().state_dict()
        state["lr_lambdas"] = [
            None if isinstance(fn, types.FunctionType) or not hasattr(fn, "__dict__")
            else _plain(fn.__dict__, f"LambdaLR.state_dict: lr_lambdas[{i}] ({type(fn).__name__})")
            for i, fn in enumerate(self.lr_lambdas)
        ]
        return state

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        saved = state_dict.get("lr_lambdas", [None] * len(self.lr_lambdas))
        if len(saved) != len(self.lr_lambdas):
            raise ValueError(f"LambdaLR.load_state_dict: the state has {len(saved)} lr_lambdas but this scheduler "
                             f"has {len(self.lr_lambdas)}")
        for fn, attributes in zip(self.lr_lambdas, saved):
            if attributes is not None:
                fn.__dict__.update(copy.deepcopy(attributes))


def _plain(value, where=None):
    """A copy of ``value`` as plain data for a checkpoint (a Counter becomes a dict); with ``where``, anything
    else (a function, an object) is a TypeError saying where it was."""
    if isinstance(value, Counter):
        value = dict(value)
    if value is None or isinstance(value, (bool, numbers.Number, str, np.generic)):
        return value
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (list, tuple)):
        out = [_plain(v, where) for v in value]
        return out if isinstance(value, list) else tuple(out)
    if isinstance(value, dict):
        return {k: _plain(v, where) for k, v in value.items()}
    if where is None:
        return copy.deepcopy(value)
    raise TypeError(f"{where} holds a {type(value).__name__}, which a minigrad checkpoint cannot keep (it holds "
                    f"numbers, strings, lists, dicts and arrays; never pickle): keep plain data in the object's "
                    f"attributes")


from .one_cycle import OneCycleLR  # noqa: E402 -- they build on LRScheduler above
from .plateau import ReduceLROnPlateau  # noqa: E402
