"""The ONNX graph being built: nodes, initializers, and where the batch dimension of each value is.

Every value of the traced minigrad graph gets one ONNX name. With ``dynamic_batch`` the batch size
is symbolic, so each value also carries the axis that holds the batch (or None when it does not
depend on the batch size): a gate's converter reads its inputs' batch axes, says where the batch
goes in its output, and refuses -- naming the gate -- what would only be right for the traced size
(a reshape that merges the batch into another axis, a constant of that size, a slice of the batch).
"""
from __future__ import annotations

import numpy as np


class ExportError(ValueError):
    """A model that cannot be written as ONNX, or not with these options; the message names the gate and the
    module that made it, and what to do."""


class UnsupportedGateError(ExportError):
    """A gate with no ONNX mapping (a locally connected or tiled convolution, a user ``mg.Function``, ...)."""


def where_made(node):
    """Which module made ``node``, in words: ``'layer1.0.conv1' (Conv2d)``."""
    module = node._module
    if module is None:
        return "code outside any module"
    path = module._path
    kind = type(module).__name__
    return f"module {path!r} ({kind})" if path else f"the model's own forward ({kind})"


class Graph:
    """What the converters add to: ``node(op, inputs, **attributes)`` returns the output's name."""

    def __init__(self, onnx, opset, dynamic, batch_size):
        self.onnx, self.helper = onnx, onnx.helper
        self.opset, self.dynamic, self.batch_size = opset, dynamic, batch_size
        self.nodes, self.initializers = [], []
        self.names = {}  # id(minigrad node) -> ONNX name of its value
        self.batch = {}  # ONNX name -> the axis holding the batch, or None
        self._taken = set()
        self._count = 0
        self.array_names, self.by_key = {}, {}  # id(array of a parameter or buffer) -> its state_dict key -> name
        self.current = None  # the minigrad node being converted (for error messages and node names)
        self.scope = ""

    # -- names --

    def fresh(self, hint):
        self._count += 1
        name = f"{hint}_{self._count}"
        self._taken.add(name)
        return name

    def reserve(self, name):
        if name in self._taken:
            raise ExportError(f"onnx.export: the name {name!r} is used twice; input, output and parameter names "
                              f"must be distinct")
        self._taken.add(name)
        return name

    # -- building --

    def node(self, op, inputs, batch=None, outputs=1, **attributes):
        """Add an ONNX ``op`` node; returns its output name (a list of them when ``outputs`` > 1)."""
        names = [self.fresh(f"{self.scope}{op}") for _ in range(outputs)]  # "layer1.0.conv1/Conv_12": netron shows
        self.nodes.append(self.helper.make_node(op, list(inputs), names, name=names[0],  # the module that made it
                                                **{k: v for k, v in attributes.items() if v is not None}))
        for name in names:
            self.batch[name] = batch
        return names if outputs > 1 else names[0]

    def const(self, array, name=None, dtype=None):
        """An initializer holding ``array`` (named ``name``, else a fresh name); returns its name."""
        array = np.asarray(array, dtype=dtype)
        if array.dtype == np.float16 or array.dtype.kind not in "biuf":
            raise ExportError(f"onnx.export: a constant of dtype {array.dtype} cannot be exported")
        name = self.reserve(name) if name is not None else self.fresh("constant")
        self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(array), name))
        self.batch[name] = None
        return name

    def array(self, array, dtype=None):
        """The initializer of a numpy array: named by its ``state_dict`` key when it is a parameter's or buffer's
        (one initializer however often it is used), else a fresh constant; cast to ``dtype`` if given."""
        array = np.asarray(array)
        if dtype is not None and array.dtype != dtype:
            array = array.astype(dtype)
            key = None  # a cast copy is a constant of its own
        else:
            key = self.array_names.get(id(array))
        if key is None:
            return self.const(array)
        if key not in self.by_key:
            self.by_key[key] = self.const(array, name=key)
        return self.by_key[key]

    def ints(self, values):
        return self.const(np.asarray(list(values), dtype=np.int64))

    def scalar_like(self, value, node):
        """A 0-d constant of ``node``'s dtype (Pow's exponent, Pad's fill value)."""
        return self.const(np.asarray(value, dtype=node.dtype))

    def axes_input_or_attribute(self, op, name, axes, batch, since, **attributes):
        """``op`` with ``axes`` as an input (opset ≥ ``since``) or an attribute (earlier opsets)."""
        if self.opset >= since:
            return self.node(op, [name, self.ints(axes)], batch=batch, **attributes)
        return self.node(op, [name], batch=batch, axes=list(axes), **attributes)

    # -- values --

    def value(self, node, dtype=None):
        """The ONNX name of ``node``'s value, cast to ``dtype`` if it has another one (numpy's promotion)."""
        name = self.names[id(node)]
        if dtype is not None and np.dtype(dtype) != node.dtype:
            name = self.node("Cast", [name], batch=self.batch[name], to=self.tensor_type(dtype))
        return name

    def tensor_type(self, dtype):
        return self.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))

    # -- the batch dimension --

    def batch_of(self, node):
        return self.batch[self.names[id(node)]] if self.dynamic else None

    def aligned_batch(self, node, *inputs):
        """The batch axis of an output that broadcasts its ``inputs`` (numpy's rule: axes align from the right);
        a constant of the traced batch size along that axis is refused."""
        if not self.dynamic:
            return None
        out, axis = node.ndim, None
        for x in inputs:
            b = self.batch_of(x)
            if b is not None:
                axis = out - (x.ndim - b)
        if axis is None:
            return None
        for x in inputs:
            k = x.ndim - (out - axis)
            if self.batch_of(x) is None and 0 <= k < x.ndim and x.shape[k] == self.batch_size != 1:
                self.fail(f"combines the batch with a value of {self.batch_size} along the batch axis that does not "
                          f"come from the input (shape {x.shape}): with a symbolic batch size it would not fit; "
                          f"export with dynamic_batch=False")
        return axis

    def require_batch_first(self, *inputs):
        for x in inputs:
            b = self.batch_of(x)
            if b not in (None, 0):
                self.fail(f"needs the batch in axis 0 but the input of shape {x.shape} has it in axis {b}; export "
                          f"with dynamic_batch=False")

    def fail(self, what, error=ExportError, kind=""):
        node = self.current
        raise error(f"onnx.export: the {node._gate.name} gate{kind}, made by {where_made(node)}, {what}")
