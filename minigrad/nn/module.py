"""``Module`` and ``Parameter``: how models hold their weights, shaped like PyTorch's.

A Module registers what is assigned to it: a ``Parameter`` (learnable), a buffer (state such as
batch norm's running statistics, saved in ``state_dict`` but not learned) or another Module.
Every module knows its path in the model (``layer1.0.conv1``) and parameters are labelled with
their full names, so drawings show ``conv1.weight`` and group the gates made inside a module's
``forward`` into a box named by that path.
"""
from __future__ import annotations

import weakref
from collections import OrderedDict, namedtuple
from collections.abc import Mapping

import numpy as np

from ..core import engine
from ..core.tensor import Tensor


class Parameter(Tensor):
    """A Tensor a Module learns: ``requires_grad`` is on unless you say otherwise."""

    __slots__ = ("_auto_label",)

    def __init__(self, data, requires_grad=True):
        super().__init__(data, requires_grad=requires_grad)
        self._auto_label = True

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class _HookHandle:
    def __init__(self, hooks, key):
        self._hooks, self._key = hooks, key

    def remove(self):
        self._hooks.pop(self._key, None)


_NOT_TENSORS = (np.ndarray, np.generic, list, int, float)


class Module:
    """Base class of every layer and model: subclass it, assign parts in ``__init__``, write ``forward``."""

    _next_hook = 0
    _tensor_input = False
    """Whether ``__call__`` refuses an array, list or number as the input (the first argument): True for every
    layer and model minigrad defines (PyTorch's refuse non-tensors too); a module of yours may take anything."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "_tensor_input" not in cls.__dict__:  # as its parent layer says, else whether minigrad defines it
            said = [b.__dict__["_tensor_input"] for b in cls.__mro__[1:]
                    if b is not Module and "_tensor_input" in b.__dict__]
            cls._tensor_input = said[0] if said else cls.__module__.startswith("minigrad.")

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_path", "")
        object.__setattr__(self, "_parent", None)
        object.__setattr__(self, "training", True)

    # -- pickling and copying: a module's link to its parent (a weak reference) is made again, not saved --

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_parent", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.__dict__.setdefault("_parent", None)
        for child in self._modules.values():
            if child is not None:
                object.__setattr__(child, "_parent", weakref.ref(self))

    # -- registration --

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() has run: call super().__init__() first in "
                f"{type(self).__name__}.__init__"
            )
        if isinstance(value, Parameter):
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            self.add_module(name, value)
        elif name in self._parameters or name in self._modules:
            table = self._parameters if name in self._parameters else self._modules
            if value is not None:
                kind = "nn.Parameter" if table is self._parameters else "a Module"
                raise TypeError(f"cannot assign {type(value).__name__} to {name!r}: it must be {kind} (or None)")
            table[name] = None
        elif name in self._buffers:
            self._buffers[name] = _as_buffer(value)
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # only reached when normal lookup fails: look in the registries, else a real AttributeError
        for table in ("_parameters", "_buffers", "_modules"):
            found = self.__dict__.get(table)
            if found is not None and name in found:
                return found[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for table in (self._parameters, self._buffers, self._modules):
            if name in table:
                del table[name]
                return
        object.__delattr__(self, name)

    def _forget(self, name):
        """Drop ``name`` from wherever it was registered before, so it lives in one place."""
        self.__dict__.pop(name, None)
        for table in (self._parameters, self._buffers, self._modules):
            table.pop(name, None)
        self._non_persistent.discard(name)

    def register_parameter(self, name, param):
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter (or None), got {type(param).__name__}")
        self._forget(name)
        self._parameters[name] = param
        if param is not None:
            _name_parameter(param, _join(self._path, name))

    def register_buffer(self, name, value, persistent=True):
        """Keep ``value`` (an array or Tensor, not learned) with the module and, if persistent, in ``state_dict``."""
        self._forget(name)
        self._buffers[name] = _as_buffer(value)
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module, got {type(module).__name__}")
        self._forget(name)
        self._modules[name] = module
        if module is not None:
            object.__setattr__(module, "_parent", weakref.ref(self))  # for drawings: a box inside its parents
            _set_paths(module, _join(self._path, name))

    # -- traversal (iterative: no recursion) --

    def named_modules(self, prefix=""):
        """``(path, module)`` for this module and every descendant, each once, parents first."""
        seen = set()
        stack = [(prefix, self)]
        while stack:
            path, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield path, module
            children = [(_join(path, n), m) for n, m in module._modules.items() if m is not None]
            stack.extend(reversed(children))

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        for name, m in self._modules.items():
            if m is not None:
                yield name, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def named_parameters(self, prefix="", recurse=True):
        """``(name, parameter)`` pairs with PyTorch's names (``conv1.weight``); shared parameters once."""
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for path, module in modules:
            for name, p in module._parameters.items():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    yield _join(path, name), p

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True):
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for path, module in modules:
            for name, b in module._buffers.items():
                if b is not None:
                    yield _join(path, name), b

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # -- modes --

    def train(self, mode=True):
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Freeze (False) or unfreeze every parameter: frozen ones get no gradient and optimisers skip them."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad[...] = 0

    def _cast(self, dtype):
        with engine.no_grad():
            for t in [*self.parameters(), *self.buffers()]:
                if t.dtype.kind == "f":
                    t.data = t.data.astype(dtype)
                    if t.grad is not None:
                        t.grad = t.grad.astype(dtype)
        return self

    def double(self):
        """Parameters and floating buffers to float64 (in place)."""
        return self._cast(np.float64)

    def float(self):
        """Parameters and floating buffers to float32 (in place)."""
        return self._cast(np.float32)

    # -- state --

    def state_dict(self):
        """Parameters and persistent buffers by PyTorch's key names; values are numpy arrays (copies)."""
        out = OrderedDict()
        for path, module in self.named_modules():
            for name, p in module._parameters.items():
                if p is not None:
                    out[_join(path, name)] = p.data.copy()
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent:
                    out[_join(path, name)] = b.data.copy()
        return out

    def _state_targets(self):
        targets = OrderedDict()
        for path, module in self.named_modules():
            for name, p in module._parameters.items():
                if p is not None:
                    targets[_join(path, name)] = p
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent:
                    targets[_join(path, name)] = b
        return targets

    def load_state_dict(self, state_dict, strict=True):
        """Copy values into the existing parameters and buffers, keeping their dtype.

        A missing, unexpected or wrongly shaped key is an error that names it (with
        ``strict=False`` missing and unexpected keys are returned instead; shapes must still match).
        """
        who = f"load_state_dict for {type(self).__name__}"
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"{who}: expected a dict of arrays by key (model.state_dict()), got {type(state_dict).__name__}")
        targets = self._state_targets()
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing key(s): {', '.join(missing)}")
            if unexpected:
                parts.append(f"unexpected key(s): {', '.join(map(str, unexpected))}")
            nested = sorted((k != "model", str(k)) for k in unexpected if isinstance(state_dict[k], Mapping))
            if nested:  # {"model": ..., "optimizer": ..., "epoch": ...}, as a training script saves it
                parts.append(f'this looks like a whole checkpoint; pass the model state inside it: '
                             f'load_state_dict(ckpt["{nested[0][1]}"])')
            raise KeyError(f"{who}: " + "; ".join(parts))
        for key, target in targets.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            value = np.asarray(value.data if isinstance(value, Tensor) else value)
            if value.dtype.kind not in "biuf":
                raise TypeError(
                    f"{who}: {key} has dtype {value.dtype} in the state dict; it must hold numbers "
                    f"(the model's {key} is {target.dtype})"
                )
            if value.shape != target.shape:
                raise ValueError(
                    f"load_state_dict for {type(self).__name__}: {key} has shape {value.shape} in the state dict "
                    f"but {target.shape} in the model"
                )
            with engine.no_grad():
                target.copy_(value)
        return IncompatibleKeys(missing, unexpected)

    # -- calling --

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward(); define one to call the module")

    def __call__(self, *args, **kwargs):
        if self._tensor_input and args and isinstance(args[0], _NOT_TENSORS):
            x = args[0]
            kind = f"numpy.{type(x).__name__}" if isinstance(x, (np.ndarray, np.generic)) else type(x).__name__
            shape = f" of shape {x.shape}" if isinstance(x, np.ndarray) else ""
            raise TypeError(f"{type(self).__name__}: the input must be a minigrad Tensor, not {kind}{shape} (as in "
                            f"PyTorch, layers take tensors only); wrap it: mg.tensor(x)")
        modes = engine.modes  # this thread's
        outer = modes.module
        # gates made during forward belong to this module (drawings box them by its path and name its type)
        modes.module = self if self._path or outer is None else outer
        try:
            out = self.forward(*args, **kwargs)
        finally:
            modes.module = outer
        for hook in list(self._forward_hooks.values()):
            replaced = hook(self, args, out)
            if replaced is not None:
                out = replaced
        return out

    def register_forward_hook(self, fn):
        """Call ``fn(module, inputs, output)`` after every forward (a returned value replaces the output).

        Returns a handle whose ``remove()`` unregisters it.
        """
        Module._next_hook += 1
        self._forward_hooks[Module._next_hook] = fn
        return _HookHandle(self._forward_hooks, Module._next_hook)

    # -- printing --

    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = []
        for name, module in self._modules.items():
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child}")
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n" + "\n".join(lines) + "\n)"


def _join(prefix, name):
    return f"{prefix}.{name}" if prefix else name


def _as_buffer(value):
    if value is None or isinstance(value, Tensor):
        return value
    return Tensor(np.asarray(value))


def _name_parameter(param, name):
    """Label a parameter with its full name unless the user gave it a label."""
    if getattr(param, "_auto_label", False) or not param.label:
        param.label = name
        if isinstance(param, Parameter):
            param._auto_label = True


def _set_paths(module, path):
    """Give ``module`` and its descendants their paths under a new parent (iteratively)."""
    stack = [(module, path)]
    while stack:
        m, p = stack.pop()
        object.__setattr__(m, "_path", p)
        for name, param in m._parameters.items():
            if param is not None:
                _name_parameter(param, _join(p, name))
        stack.extend((child, _join(p, n)) for n, child in m._modules.items() if child is not None)
