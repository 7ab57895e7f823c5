"""``mg.onnx.export``: a model's eval-mode forward pass as an ONNX file, for onnxruntime, netron and the rest.

The model runs once on the example input, in eval mode (dropout off, batch norm on its running
statistics), and minigrad records the graph as it always does; each gate of that graph becomes one
or a few ONNX nodes (``gates.py``, ``shapes.py``), parameters and buffers become initializers named
by their ``state_dict`` keys, other constants become initializers too. A gate with no mapping is an
:class:`UnsupportedGateError` naming the gate and the module that made it; nothing is written then.
"""
from __future__ import annotations

import numpy as np

from ..core.files import atomic_write
from ..core.tensor import Tensor
from ..nn.module import Module
from . import shapes, traced  # noqa: F401 -- registers the shape gates' and the traced-only gates' converters
from .gates import CONVERTERS
from .graph import ExportError, Graph, UnsupportedGateError, where_made
from .trace import check_outputs, compare, second_input, trace

DEFAULT_OPSET = 17
"""The opset written unless ``opset=`` says otherwise: onnxruntime has run it since 1.13 (2022), netron reads it."""
MIN_OPSET = 13
"""The oldest opset the converters can write (Squeeze, Unsqueeze, ReduceSum and Split take their axes as inputs)."""


def export(model, example_input, path, input_names=None, output_names=None, dynamic_batch=True, opset=None):
    """Write ``model``'s forward pass on ``example_input`` to ``path`` as an ONNX model; returns ``path``.

    ``example_input``: an array or Tensor (N, ...), or a tuple of them for a model with several inputs.
    ``input_names`` / ``output_names``: the graph's names for them (default ``input``, ``output``, or
    ``input0``, ``input1``, ... for several). ``dynamic_batch``: the first axis of every input is a
    symbolic ``batch``, so the file runs on any batch size; False fixes the example's sizes. ``opset``:
    the ONNX operator set, ``DEFAULT_OPSET`` (17) unless given (``MIN_OPSET`` 13 up to the installed
    onnx's newest). The file is checked with ``onnx.checker`` before it is written, atomically.
    """
    onnx = _import_onnx()
    if not isinstance(model, Module):
        raise TypeError(f"onnx.export: expected a minigrad nn.Module, got {type(model).__name__}")
    opset = _opset(onnx, opset)
    arrays = _example_arrays(example_input, dynamic_batch)
    first = trace(model, arrays)
    in_names = _names("input_names", input_names, len(arrays), "input")
    out_names = _names("output_names", output_names, len(first.outputs), "output")
    check_outputs(first, out_names)
    batch_size = arrays[0].shape[0] if dynamic_batch else None
    g = Graph(onnx, opset, bool(dynamic_batch), batch_size)
    targets = model._state_targets()
    g.array_names = {id(t.data): key for key, t in targets.items()}
    for x, name in zip(first.inputs, in_names):
        g.names[id(x)] = g.reserve(name)
        g.batch[name] = 0 if dynamic_batch else None
    for node in first.order:
        if id(node) not in g.names:
            g.names[id(node)] = g.array(node.data) if node._gate is None else _convert(g, node)

    outputs = []
    for out, name in zip(first.outputs, out_names):
        g.reserve(name)
        g.nodes.append(onnx.helper.make_node("Identity", [g.names[id(out)]], [name], name=f"{name}_identity"))
        outputs.append(_value_info(onnx, name, out, g.batch_of(out)))
    inputs = [_value_info(onnx, name, x, 0 if dynamic_batch else None) for x, name in zip(first.inputs, in_names)]
    graph = onnx.helper.make_graph(g.nodes, type(model).__name__, inputs, outputs, initializer=g.initializers)
    opsets = [onnx.helper.make_opsetid("", opset)]
    from .. import __version__

    proto = onnx.helper.make_model(graph, opset_imports=opsets, producer_name="minigrad",
                                   producer_version=__version__, doc_string=f"{type(model).__name__}, exported by "
                                                                            f"minigrad.onnx.export")
    proto.ir_version = onnx.helper.find_min_ir_version_for(opsets)  # the oldest runtimes that know the opset load it
    try:
        onnx.checker.check_model(proto, full_check=True)
    except Exception as exc:  # onnx raises its own ValidationError and InferenceError
        raise ExportError(f"onnx.export: the ONNX graph built for {type(model).__name__} does not check "
                          f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else exc}); this is a bug in "
                          f"minigrad's exporter, please report it with the model") from None

    known = {id(x) for x in first.inputs} | {id(t) for t in targets.values()}
    compare(first, trace(model, second_input(arrays, batch_size + 1 if dynamic_batch else None)), known,
            bool(dynamic_batch))
    with atomic_write(path, "onnx.export") as f:
        f.write(proto.SerializeToString())
    return path


def _convert(g, node):
    gate = node._gate
    entry = CONVERTERS.get(type(gate))
    g.current, g.scope = node, f"{node._module._path}/" if node._module is not None and node._module._path else ""
    if entry is None:
        kind = ("a user mg.Function" if not type(gate).__module__.startswith("minigrad.")
                else f"minigrad's {type(gate).__name__}")
        g.fail("has no ONNX mapping, so the model cannot be exported; mg.onnx.SUPPORTED lists the gates that have "
               "one (conv2d, conv_transpose2d, linear, batch_norm, the pools, activations, arithmetic, shapes)",
               UnsupportedGateError, f" ({kind})")
    fn, cast = entry
    inputs = [g.value(x, node.dtype if cast else None) for x in node._inputs]
    return fn(g, node, gate, inputs)


def _value_info(onnx, name, tensor, batch):
    dims = ["batch" if k == batch else n for k, n in enumerate(tensor.shape)]
    return onnx.helper.make_tensor_value_info(name, onnx.helper.np_dtype_to_tensor_dtype(tensor.dtype), dims)


def _import_onnx():
    try:
        import onnx
        import onnx.checker  # noqa: F401
        import onnx.numpy_helper  # noqa: F401
    except ImportError:
        raise ImportError("onnx.export needs the onnx package, which is not installed: pip install onnx "
                          "(or pip install -e \".[onnx]\")") from None
    return onnx


def _opset(onnx, opset):
    newest = onnx.defs.onnx_opset_version()
    if opset is None:
        return min(DEFAULT_OPSET, newest)
    if isinstance(opset, bool) or not isinstance(opset, (int, np.integer)) or not MIN_OPSET <= opset <= newest:
        raise ValueError(f"onnx.export: opset must be an int from {MIN_OPSET} to {newest} (the installed onnx's "
                         f"newest), got {opset!r}")
    return int(opset)


def _example_arrays(example_input, dynamic):
    items = example_input if isinstance(example_input, tuple) else (example_input,)
    if not items:
        raise ValueError("onnx.export: example_input is an empty tuple; give the input the model takes")
    arrays = []
    for i, x in enumerate(items):
        a = x.data if isinstance(x, Tensor) else np.asarray(x, dtype=np.float32 if isinstance(x, list) else None)
        if a.dtype.kind != "f":
            raise TypeError(f"onnx.export: example input {i} has dtype {a.dtype}; the traced inputs must be floating "
                            f"point (np.float32 for a model that runs in onnxruntime)")
        if dynamic and (a.ndim == 0 or (arrays and a.shape[0] != arrays[0].shape[0])):
            raise ValueError(f"onnx.export: with dynamic_batch=True every input needs the batch as axis 0, the same "
                             f"size for all; input {i} has shape {a.shape}")
        arrays.append(a)
    return arrays


def _names(what, names, count, stem):
    if names is None:
        return [stem] if count == 1 else [f"{stem}{i}" for i in range(count)]
    names = [names] if isinstance(names, str) else list(names)
    if len(names) != count or not all(isinstance(n, str) and n for n in names) or len(set(names)) != count:
        raise ValueError(f"onnx.export: {what} must be {count} distinct non-empty strings (one per "
                         f"{'input' if stem == 'input' else 'output of the model'}), got {names!r}")
    return names


SUPPORTED = sorted({cls.name for cls in CONVERTERS})
"""The names of the gates that have an ONNX mapping."""

__all__ = ["export", "ExportError", "UnsupportedGateError", "SUPPORTED", "DEFAULT_OPSET", "MIN_OPSET", "where_made"]
