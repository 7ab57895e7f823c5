"""``nn.summary``: each layer's output shape and parameter count, the totals, and a memory estimate."""
from __future__ import annotations

import numpy as np

from ..core import engine
from ..core.tensor import Tensor


def summary(model, input_shape, dtype=np.float32, print_fn=print):
    """Run one forward pass on zeros of ``input_shape`` (batch included) and tabulate every layer.

    A conv layer's count is the lectures' n_l·n_{l+1}·k₁·k₂ + n_{l+1} (divided by groups).
    Returns one dict per layer ``{name, type, output_shape, params}`` in the order the layers ran;
    prints the table, the totals and an estimate of memory for one forward + backward (float
    parameters, their gradients, and every layer's output kept for backward).
    """
    rows, handles = [], []
    for name, module in model.named_modules():
        if next(module.children(), None) is None or module._parameters:
            own = sum(p.numel() for p in module._parameters.values() if p is not None)
            handles.append(module.register_forward_hook(_recorder(rows, name, module, own)))
    modes = {m: m.training for m in model.modules()}
    model.eval()  # no running-statistics updates, no dropout
    try:
        with engine.no_grad():
            out = model(Tensor(np.zeros(input_shape, dtype=dtype)))
    finally:
        for h in handles:
            h.remove()
        for m, mode in modes.items():
            object.__setattr__(m, "training", mode)
    params = list(model.parameters())
    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    itemsize = np.dtype(dtype).itemsize
    activations = sum(int(np.prod(r["output_shape"])) for r in rows if r["output_shape"] is not None)
    param_bytes = sum(p.data.nbytes for p in params)
    estimate = 2 * param_bytes + 2 * activations * itemsize + int(np.prod(input_shape)) * itemsize
    widths = (max([len("layer"), *(len(r["name"]) for r in rows)]), max([4, *(len(r["type"]) for r in rows)]), 20, 12)
    lines = [f"{'layer':<{widths[0]}}  {'type':<{widths[1]}}  {'output shape':<{widths[2]}}  {'params':>{widths[3]}}"]
    lines.append("-" * len(lines[0]))
    for r in rows:
        shape = str(r["output_shape"]) if r["output_shape"] is not None else "-"
        lines.append(f"{r['name']:<{widths[0]}}  {r['type']:<{widths[1]}}  {shape:<{widths[2]}}  {r['params']:>{widths[3]},}")
    lines.append("-" * len(lines[0]))
    lines.append(f"total parameters: {total:,} ({trainable:,} trainable)   output: {getattr(out, 'shape', '-')}")
    lines.append(f"estimated memory for one forward + backward at this batch size: {estimate / 2**20:.2f} MiB "
                 f"(parameters and gradients {2 * param_bytes / 2**20:.2f} MiB, activations and their gradients "
                 f"{2 * activations * itemsize / 2**20:.2f} MiB)")
    if print_fn is not None:
        print_fn("\n".join(lines))
    return rows


def _recorder(rows, name, module, own):
    def hook(mod, inputs, output):
        shape = tuple(output.shape) if isinstance(output, Tensor) else None
        rows.append({"name": name or type(module).__name__, "type": type(module).__name__,
                     "output_shape": shape, "params": own})

    return hook
