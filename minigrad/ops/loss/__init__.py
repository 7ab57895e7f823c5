"""Losses (``torch.nn.functional`` names, signatures and reductions), each one gate with its analytic backward.

With g the upstream gradient of the reduced loss, "mean" divides it by the number of terms,
"sum" hands it to every term, "none" gives each term its own (``reduction.py``):

    cross_entropy(z, t) = −log softmax(z)[t]        dL/dz = (softmax(z) − onehot(t))·g   (÷ N for the mean)
    nll_loss(a, t)      = −a[t]                     dL/da = −onehot(t)·g
    mse_loss(x, y)      = (x − y)²                  dL/dx = 2(x − y)·g = −dL/dy
    kl_div(a, p)        = p·(log p − a), 0·log 0 = 0  dL/da = −p·g,  dL/dp = (log p + 1 − a)·g
    binary_cross_entropy(q, t) = −(t·log q + (1 − t)·log(1 − q)), logs clamped at −100
                                                    dL/dq = (q − t)/(q(1 − q))·g,  dL/dt = (log(1 − q) − log q)·g
    binary_cross_entropy_with_logits(x, t) = the same of σ(x), stably     dL/dx = (σ(x) − t)·g

The first two, scores against integer class targets with PyTorch's weight, ignore_index and
label_smoothing, are in ``class_index.py`` (cross_entropy against class probabilities in
``class_probs.py``); the pointwise ones, two tensors of one shape compared element by element (mse, l1,
smooth_l1, huber, kl_div), in ``pointwise.py``; the binary cross-entropies, with ``weight`` and
``pos_weight``, in ``binary.py``. This package gathers them.
"""
from .binary import (BinaryCrossEntropy, BinaryCrossEntropyWithLogits, binary_cross_entropy,
                     binary_cross_entropy_with_logits)
from .class_index import CrossEntropy, NLLLoss, cross_entropy, nll_loss
from .class_probs import CrossEntropyProbs
from .pointwise import (HuberLoss, KLDiv, L1Loss, MSELoss, SmoothL1Loss, huber_loss, kl_div, l1_loss, mse_loss,
                        smooth_l1_loss)
from .reduction import REDUCTIONS

__all__ = [
    "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div",
    "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "CrossEntropy", "CrossEntropyProbs", "NLLLoss", "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "KLDiv",
    "BinaryCrossEntropy", "BinaryCrossEntropyWithLogits", "REDUCTIONS",
]
