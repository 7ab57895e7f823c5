"""``Optimizer``: the bookkeeping every optimiser shares — parameter groups, per-parameter state,
``zero_grad``, ``step`` and ``state_dict`` — in PyTorch's shape.

A subclass only writes the update of one parameter, ``_update(p, grad, group, state)``, which runs
under ``no_grad()`` and changes ``p`` in place (its version goes up, so a gate that saved ``p``
notices; its dtype stays). Parameters whose ``.grad`` is None or that do not require grad are
skipped: that is how frozen layers stay put. A ``.grad`` that is a Tensor (after
``backward(create_graph=True)``) is used for its values. With ``maximize=True`` in a group (the
optimisers that have the option, as in PyTorch) ``_update`` is handed −grad: the step climbs the
objective instead.
"""
from __future__ import annotations

import copy
import numbers

import numpy as np

from ..core.engine import enable_grad, no_grad
from ..core.tensor import Tensor


class Optimizer:
    """Base class. ``params`` is an iterable of Tensors, or of dicts (parameter groups), each with
    ``"params"`` and any options that override ``defaults`` for that group::

        optim.SGD([{"params": body}, {"params": head, "lr": 0.1}], lr=0.01, momentum=0.9)
    """

    #: the keys ``state[p]`` holds once ``p`` has been updated (checked by ``load_state_dict``)
    _state_keys: tuple = ()
    #: options added after a state dict could first be saved, with the value that keeps an old one's behaviour
    #: (``load_state_dict`` fills them in, as PyTorch's ``__setstate__`` does)
    _new_options: dict = {}

    def __init__(self, params, defaults):
        name = type(self).__name__
        if isinstance(params, (Tensor, dict)):
            raise TypeError(
                f"{name}: params must be an iterable of Tensors or of dicts (parameter groups), "
                f"got a single {type(params).__name__}; wrap it in a list: {name}([p], ...)"
            )
        self.defaults = dict(defaults)
        self.state = {}  # parameter -> dict (Tensors hash by identity)
        self.param_groups = []
        groups = list(params)
        if not groups:
            raise ValueError(f"{name}: got an empty parameter list (did the model create its parameters?)")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        """Add a group of parameters with its own options (e.g. a new head while fine-tuning)."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(
                f"{name}: a parameter group must be a dict with a 'params' key, got {type(param_group).__name__}"
            )
        if "params" not in param_group:
            raise KeyError(f"{name}: the parameter group has no 'params' key (it has {sorted(param_group)})")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: give parameters as a list, not a set: a set's order changes between runs")
        params = [p[1] if isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) else p for p in params]
        group_index = len(self.param_groups)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(params):
            where = f"parameter {i} of group {group_index}"
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: {where} is of type {type(p).__name__}; an optimiser updates minigrad Tensors")
            if p._gate is not None:
                raise ValueError(
                    f"{name}: {where} was computed by a {p._gate.name} gate; only leaf tensors (parameters) can be "
                    f"optimised — pass the tensors it was computed from, or .detach().requires_grad_()"
                )
            if not np.issubdtype(p.dtype, np.floating):
                raise TypeError(f"{name}: {where} has dtype {p.dtype}; only floating-point tensors can be optimised")
            if id(p) in seen:
                raise ValueError(
                    f"{name}: {where} (shape {p.shape}) appears more than once in the parameters; "
                    f"each parameter may be listed only once, in one group"
                )
            seen.add(id(p))
        group = {**self.defaults, **{k: v for k, v in param_group.items() if k != "params"}}
        group["params"] = params
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group):
        """Raise a ValueError naming any invalid option value (subclasses extend this)."""
        _check_nonnegative(self, group, "lr", "learning rate")
        _check_nonnegative(self, group, "weight_decay", "weight_decay")

    def zero_grad(self, set_to_none=True):
        """Forget the gradients: ``.grad = None`` (the default, as PyTorch), or fill them with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    if set_to_none:
                        p.grad = None
                    elif isinstance(p.grad, Tensor):  # a gradient with a graph (create_graph): zeros without it
                        p.grad = np.zeros_like(p.grad.data)
                    else:
                        p.grad.fill(0)

    def step(self, closure=None):
        """Update every parameter that has a gradient. ``closure`` (optional) recomputes and returns the loss."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self._check_grads()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None or not p.requires_grad:
                        continue
                    grad = p.grad
                    if isinstance(grad, Tensor):  # after backward(create_graph=True): the step uses its values and
                        grad = grad.data  # is not differentiated, as in PyTorch
                    grad = -grad if group.get("maximize") else grad
                    self._update(p, grad, group, self.state.setdefault(p, {}))
        return loss

    def _check_grads(self):
        """Before anything moves: every gradient has its parameter's shape (one set by hand might broadcast) and
        real numbers (a complex one would lose its imaginary part)."""
        for g, group in enumerate(self.param_groups):
            for i, p in enumerate(group["params"]):
                if p.grad is None or not p.requires_grad:
                    continue
                dtype = p.grad.dtype if hasattr(p.grad, "dtype") else np.asarray(p.grad).dtype
                if dtype.kind not in "biuf":
                    raise TypeError(f"{type(self).__name__}.step: the gradient of {_label(p, i, g)} has dtype "
                                    f"{dtype}, but gradients hold real numbers, as the parameter ({p.dtype}) does; "
                                    f"was .grad set by hand?")
                if np.shape(p.grad) != p.shape:
                    raise ValueError(
                        f"{type(self).__name__}.step: the gradient of {_label(p, i, g)} has shape {np.shape(p.grad)} "
                        f"but the parameter has shape {p.shape}; was .grad set by hand? Give it the parameter's shape, "
                        f"or set it to None to skip the parameter"
                    )

    def _update(self, p, grad, group, state):
        raise NotImplementedError

    # -- saving and resuming --

    def state_dict(self):
        """``{"state": {index: {...}}, "param_groups": [{options..., "params": [indices]}]}`` as PyTorch.

        Parameters are numbered in order across the groups. The arrays are copies, so the dict is a
        snapshot that later steps do not change; it can go straight into ``minigrad.save``.
        """
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {
            index[id(p)]: {k: np.array(v, copy=True) if isinstance(v, np.ndarray) else v for k, v in s.items()}
            for p, s in self.state.items()
            if s
        }
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Resume from ``state_dict()``: the group options, step counts and buffers (cast to each parameter's dtype).

        Training then continues exactly as if it had not stopped.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            keys = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(
                f"{name}.load_state_dict: expected the dict of Optimizer.state_dict() with keys "
                f"'state' and 'param_groups', got {keys}"
            )
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the saved state has {len(saved_groups)} parameter groups "
                f"but this optimiser has {len(self.param_groups)}"
            )
        saved_groups = [{**{k: v for k, v in self._new_options.items() if k not in saved}, **saved}
                        for saved in saved_groups]
        by_index, group_of = {}, {}
        for g, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            missing = sorted(set(self.defaults) - set(saved))
            if missing:
                raise ValueError(
                    f"{name}.load_state_dict: param_groups[{g}] has no {missing}, options {name} needs; "
                    f"was it saved from another optimiser?"
                )
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: group {g} was saved with {len(saved['params'])} parameters "
                    f"but has {len(group['params'])} here"
                )
            by_index.update(zip((int(i) for i in saved["params"]), group["params"]))
            group_of.update((int(i), saved) for i in saved["params"])

        state = {}
        for key, saved in state_dict["state"].items():
            i = int(key)
            if i not in by_index:
                raise ValueError(f"{name}.load_state_dict: state[{key!r}] names no parameter of the saved groups")
            state[by_index[i]] = self._load_param_state(by_index[i], i, saved, group_of[i])

        new_groups = []
        for saved, group in zip(saved_groups, self.param_groups):
            new = {k: tuple(v) if isinstance(v, list) else copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            new["params"] = group["params"]
            self._check_group(new)
            new_groups.append(new)
        self.param_groups = new_groups
        self.state = state

    def _state_keys_for(self, group):
        """The keys ``state[p]`` holds for a parameter of ``group`` (some depend on its options)."""
        return self._state_keys

    def _load_param_state(self, p, i, saved, group):
        name = type(self).__name__
        keys = self._state_keys_for(group)
        if saved and set(saved) != set(keys):
            raise ValueError(
                f"{name}.load_state_dict: state[{i}] has keys {sorted(saved)} but {name} keeps "
                f"{sorted(keys)} with these options; was it saved from another optimiser?"
            )
        out = {}
        for key, value in saved.items():
            if key == "step":
                out[key] = int(np.asarray(value).item())
                continue
            value = np.asarray(value.data if isinstance(value, Tensor) else value)
            if value.shape != p.shape:
                raise ValueError(
                    f"{name}.load_state_dict: state[{i}][{key!r}] has shape {value.shape} "
                    f"but parameter {i} has shape {p.shape}"
                )
            out[key] = value.astype(p.dtype, copy=True)
        return out

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])


def _check_nonnegative(opt, group, key, what):
    value = group[key]
    if not isinstance(value, numbers.Real) or not value >= 0.0:
        raise ValueError(f"{type(opt).__name__}: invalid {what}: {value!r} (it must be a number >= 0)")


def _label(p, i, g):
    return f"{p.label!r} (parameter {i} of group {g})" if p.label else f"parameter {i} of group {g}"
