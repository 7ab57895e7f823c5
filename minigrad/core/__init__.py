"""The graph core: nodes, the backprop loop and its Steps, grad mode, and the tensors the gates fill.

    rules.py     Rule and Gate: each gate's local-gradient rule, declared once per input; the table
                 the scalar and tensor gates share (add distributes, mul swaps, max routes, ...)
    engine.py    the backprop loop (one generator of Steps), the topological order, grad mode,
                 the module scope, the anomaly switch (per thread)
    step.py      Step: one gate's work in backprop, as the debugger and the pictures see it
    records.py   what backward recorded on each node and edge, and the Steps replayed from it
    scalar.py    Value: one scalar node, and the scalar gates
    tensor.py    Tensor: the array node; its operators delegate to the gates in minigrad.ops
    function.py  Function: how every tensor gate is written (mg.Function)
    elementwise_gate.py  Elementwise: a gate whose backward is local ⊙ upstream, from its rules
    outputs.py   gates with several outputs
    text.py      how numbers, arrays and Steps read in text (str(step), drawings, pages)
    creation.py  zeros/ones/randn/rand/arange and the package-wide random generator
    files.py     atomic_write: the one way minigrad writes a file
    allocator.py glibc's malloc thresholds, fixed at import so a training step reuses memory

Nothing here imports graphviz or matplotlib.
"""
from .tensor import Tensor, tensor  # first: the gates it delegates to (minigrad.ops) need the class

from .engine import GraphFreedError, enable_grad, is_grad_enabled, no_grad  # noqa: E402
from .elementwise_gate import Elementwise  # noqa: E402
from .function import Function  # noqa: E402
from .rules import Rule  # noqa: E402
from .scalar import Value  # noqa: E402
from .step import Step  # noqa: E402

__all__ = ["Step", "Value", "Tensor", "tensor", "Function", "Elementwise", "Rule", "GraphFreedError",
           "no_grad", "enable_grad", "is_grad_enabled"]
