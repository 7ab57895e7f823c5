"""Losses (``torch.nn.functional`` names, signatures and reductions), each one gate with its analytic backward.

With g the upstream gradient of the reduced loss, "mean" divides it by the number of terms,
"sum" hands it to every term, "none" gives each term its own (``reduction.py``):

    cross_entropy(z, t) = −log softmax(z)[t]        dL/dz = (softmax(z) − onehot(t))·g   (÷ N for the mean)
    nll_loss(a, t)      = −a[t]                     dL/da = −onehot(t)·g
    mse_loss(x, y)      = (x − y)²                  dL/dx = 2(x − y)·g = −dL/dy
    kl_div(a, p)        = p·(log p − a), 0·log 0 = 0  dL/da = −p·g,  dL/dp = (log p + 1 − a)·g
    binary_cross_entropy(q, t) = −(t·log q + (1 − t)·log(1 − q)), logs clamped at −100
                                                    dL/dq = (q − t)/(q(1 − q))·g,  dL/dt = (log(1 − q) − log q)·g

The first two, scores against integer class targets with PyTorch's weight, ignore_index and
label_smoothing, are in ``class_index.py``; the other three, two tensors of one shape compared
element by element, in ``pointwise.py``. This package gathers them, so ``minigrad.ops.loss`` gives
all five.
"""
from .class_index import CrossEntropy, NLLLoss, cross_entropy, nll_loss
from .pointwise import BinaryCrossEntropy, KLDiv, MSELoss, binary_cross_entropy, kl_div, mse_loss
from .reduction import REDUCTIONS

__all__ = [
    "cross_entropy", "nll_loss", "mse_loss", "kl_div", "binary_cross_entropy",
    "CrossEntropy", "NLLLoss", "MSELoss", "KLDiv", "BinaryCrossEntropy", "REDUCTIONS",
]
