"""The graph core: nodes, the backprop loop and its Steps, grad mode, and the tensors the gates fill.

    engine.py    the backprop loop (one generator of Steps), the topological order, grad mode,
                 the module scope, the anomaly switch
    scalar.py    Value: one scalar node, and the scalar gates
    tensor.py    Tensor: the array node; its operators delegate to the gates in minigrad.ops
    text.py      how numbers, arrays and Steps read in text (str(step), drawings, pages)
    creation.py  zeros/ones/randn/rand/arange and the package-wide random generator
    files.py     atomic_write: the one way minigrad writes a file
    allocator.py glibc's malloc thresholds, fixed at import so a training step reuses memory

Nothing here imports graphviz or matplotlib.
"""
from .engine import Step, enable_grad, is_grad_enabled, no_grad
from .scalar import Value
from .tensor import Tensor, tensor

__all__ = ["Step", "Value", "Tensor", "tensor", "no_grad", "enable_grad", "is_grad_enabled"]
