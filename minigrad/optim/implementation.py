"""PyTorch's implementation switches -- ``foreach``, ``fused``, ``capturable``, ``differentiable`` -- accepted by
every optimiser that has them in PyTorch, so code written for ``torch.optim`` runs unchanged.

They choose between PyTorch's kernels (a loop over tensors, one multi-tensor kernel, one fused kernel; CUDA
graphs; a step autograd can differentiate), not what a step computes. minigrad has one numpy implementation,
so ``foreach`` (any value) and the defaults of the others change nothing; ``fused``, ``capturable`` and
``differentiable`` set to True ask for something it does not have, and are refused, saying so.
"""
from __future__ import annotations

_REFUSED = {
    "fused": "minigrad has no fused kernels (one numpy implementation steps every parameter)",
    "capturable": "minigrad has no CUDA graphs to capture the step in",
    "differentiable": "minigrad's optimisers step under no_grad, so the step is not part of a graph",
}


def check_switches(name, **switches):
    """Refuse a switch ``name`` (the optimiser) cannot honour; ``switches`` holds only those it has in PyTorch."""
    for what, value in switches.items():
        if what == "foreach":
            if value not in (None, True, False):
                raise TypeError(f"{name}: foreach must be None, True or False, got {value!r}")
            continue
        if value not in (None, False):
            if value is True:
                raise ValueError(f"{name}: {what}=True is not supported: {_REFUSED[what]}; leave it at its default "
                                 f"({'None' if what == 'fused' else 'False'}), the result is the same")
            raise TypeError(f"{name}: {what} must be {'None or ' if what == 'fused' else ''}a bool, got {value!r}")
