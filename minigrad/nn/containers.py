"""Containers: ``Sequential`` (modules applied in order) and ``ModuleList`` (a list that registers)."""
from __future__ import annotations

from collections import OrderedDict

from .module import Module


class _Ordered(Module):
    """Children registered under their positions ("0", "1", ...), as PyTorch's containers do."""

    _tensor_input = False  # the first child says what it takes (a module of yours may take an array)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self


class Sequential(_Ordered):
    """Apply modules one after another. Indexable (``seq[0]``, ``seq[1:]``), with PyTorch's key names ``"0.weight"``."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), module)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    def __getitem__(self, index):
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict(items[index]))
        try:
            return items[index][1]
        except IndexError:
            raise IndexError(f"Sequential: index {index} is out of range for {len(items)} modules") from None

    def __setitem__(self, index, module):
        """Replace a layer (``model[-1] = nn.Linear(128, 5)`` swaps the head), keeping its key."""
        names = list(self._modules)
        try:
            name = names[index]
        except IndexError:
            raise IndexError(f"Sequential: index {index} is out of range for {len(names)} modules") from None
        self.add_module(name, module)  # registers it (re-adding moves the key to the end)
        for n in names:
            self._modules.move_to_end(n)  # so put every key back in its place


class ModuleList(_Ordered):
    """A list of modules whose parameters the parent sees (a plain list would hide them)."""

    def __init__(self, modules=()):
        super().__init__()
        self.extend(modules)

    def __getitem__(self, index):
        items = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(items[index])
        return items[index]

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def forward(self, *args):
        raise NotImplementedError("ModuleList has no forward(); iterate over it in your model's forward")
