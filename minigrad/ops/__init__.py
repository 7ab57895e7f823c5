"""Tensor gates, one module per family: elementwise, reduce, shape, matmul (and the CNN families)."""
