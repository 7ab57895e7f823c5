"""Multi-task and auxiliary losses: one network, several heads, one weighted sum of losses.

**Localisation** (lecture notes 000, "bounding-box heads"): besides the class, the network predicts
where the object is. Training "computes 2 divergences over 2 output layers": cross-entropy of the
class layer plus λ times the L2 loss of the box layer. ``make_localization_data`` pastes each 8×8
digit at a random place on a larger blank canvas and records the box around its ink;
``LocalizationNet`` has a shared convolutional trunk and two heads; ``fit_localization`` trains it.

Boxes are ``(x0, y0, x1, y1)`` -- the top-left and bottom-right corners, as fractions of the canvas
side (a box covering pixel columns c0..c1 has x0 = c0/S, x1 = (c1+1)/S). The lectures' head
"predicts the corners of the bounding box (8 coordinates)": four corners × (x, y); for a box
aligned with the axes two opposite corners determine the other two, so four numbers suffice
(``box_corners`` gives all eight).

**Auxiliary heads** (lecture 17, Inception v1): a classifier on an intermediate layer adds its
own loss, weighted (GoogLeNet: 0.3), so the early layers receive a gradient through a short path
as well as through the whole depth. ``DeepCNN`` is a plain stack of convolutions without batch
norm or skips -- where gradients fade with depth -- with optional auxiliary heads;
``models.googlenet(aux=True)`` is the zoo's Inception version. Combine the outputs with
``models.aux_loss``; ``grad_norms`` reads the per-layer gradient norms.
"""
from __future__ import annotations

import numpy as np

from .. import nn
from ..data import DataLoader
from ..nn import functional as F
from .loop import NonFiniteLossError, accuracy, evaluate, fit
from ..core.tensor import Tensor

# -- the synthetic localisation task --


def make_localization_data(x, y, canvas=16, seed=0, threshold=0.0):
    """Paste each (N, 1, h, w) image at a random place on a ``canvas``×``canvas`` zero canvas.

    Returns ``(images, labels, boxes)``: images float (N, 1, canvas, canvas), labels as given,
    boxes float32 (N, 4) = (x0, y0, x1, y1) in [0, 1] around the pixels above ``threshold``
    (the ink, not the whole 8×8 patch, so boxes differ in size too). The places come from
    ``numpy.random.default_rng(seed)``.
    """
    x = np.asarray(x.data if isinstance(x, Tensor) else x)
    if x.ndim != 4 or x.shape[1] != 1:
        raise ValueError(f"make_localization_data: expected images of shape (N, 1, h, w), got {x.shape}")
    n, _, h, w = x.shape
    if canvas < max(h, w):
        raise ValueError(f"make_localization_data: a {canvas}×{canvas} canvas cannot hold {h}×{w} images")
    if len(y) != n:
        raise ValueError(f"make_localization_data: {n} images but {len(y)} labels")
    ink = x[:, 0] > threshold
    blank = np.flatnonzero(~ink.any(axis=(1, 2)))
    if len(blank):
        raise ValueError(f"make_localization_data: image {blank[0]} has no pixel above {threshold}: no box to find")
    rng = np.random.default_rng(seed)
    top, left = rng.integers(0, canvas - h + 1, n), rng.integers(0, canvas - w + 1, n)
    images = np.zeros((n, 1, canvas, canvas), dtype=x.dtype)
    rows = top[:, None, None] + np.arange(h)[None, :, None]
    cols = left[:, None, None] + np.arange(w)[None, None, :]
    images[np.arange(n)[:, None, None], 0, rows, cols] = x[:, 0]
    ink_rows, ink_cols = ink.any(axis=2), ink.any(axis=1)
    r0, c0 = ink_rows.argmax(axis=1), ink_cols.argmax(axis=1)
    r1, c1 = h - ink_rows[:, ::-1].argmax(axis=1), w - ink_cols[:, ::-1].argmax(axis=1)  # one past the last
    boxes = np.stack([left + c0, top + r0, left + c1, top + r1], axis=1) / canvas
    return images, np.asarray(y), boxes.astype(np.float32)


def box_iou(a, b):
    """Intersection over union of matching rows of two (N, 4) arrays of (x0, y0, x1, y1) boxes."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.shape[-1] != 4:
        raise ValueError(f"box_iou: expected two (N, 4) arrays of the same shape, got {a.shape} and {b.shape}")
    w = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    h = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = w * h
    area = lambda t: np.clip(t[..., 2] - t[..., 0], 0, None) * np.clip(t[..., 3] - t[..., 1], 0, None)  # noqa: E731
    union = area(a) + area(b) - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def box_corners(boxes):
    """The lectures' 8 coordinates: (x, y) of the top-left, top-right, bottom-right, bottom-left corners."""
    x0, y0, x1, y1 = np.moveaxis(np.asarray(boxes), -1, 0)
    return np.stack([x0, y0, x1, y0, x1, y1, x0, y1], axis=-1)


# -- the two-headed network and its loss --


class LocalizationNet(nn.Module):
    """A shared trunk, (conv 3×3, BN, ReLU, 2×2 max pool) twice, then two heads on the same feature maps.

    ``classifier`` asks *what*: a global max pool (wherever the digit is, its features count the
    same) and a linear layer to ``num_classes`` logits. ``box`` asks *where*: the flattened maps
    (which keep their layout) through a small MLP to 4 numbers squashed by a sigmoid into [0, 1],
    the box corners. ``forward`` returns ``(logits, boxes)``.
    """

    def __init__(self, num_classes=10, canvas=16, width=16, hidden=64):
        super().__init__()
        if canvas % 4:
            raise ValueError(f"LocalizationNet: the canvas side must be a multiple of 4 (two 2×2 pools), got {canvas}")
        self.features = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Linear(2 * width, num_classes)
        self.box = nn.Sequential(nn.Flatten(), nn.Linear(2 * width * (canvas // 4) ** 2, hidden), nn.ReLU(),
                                 nn.Linear(hidden, 4), nn.Sigmoid())

    def forward(self, x):
        maps = self.features(x)  # used by both heads: a copy gate adds their gradients
        return self.classifier(maps.max(dim=3).max(dim=2)), self.box(maps)


def localization_loss(outputs, labels, boxes, box_weight=1.0):
    """``(total, class_loss, box_loss)``: total = cross-entropy + ``box_weight`` × MSE of the box corners.

    Each head's own weights get the gradient of its own loss only; λ decides how the shared trunk
    weighs the two tasks (the copy gate adds cross-entropy's gradient and λ × the box loss's).
    With Adam, which rescales each parameter's steps, the digits task is not sensitive to it:
    λ = 1, 10 and 30 reach about the same accuracy and IoU; λ = 0 leaves the box head untaught.
    """
    logits, pred = outputs
    class_loss = F.cross_entropy(logits, labels)
    box_loss = F.mse_loss(pred, Tensor(np.asarray(boxes, dtype=pred.dtype)))
    return class_loss + box_weight * box_loss, class_loss, box_loss


class LocalizationHistory:
    """Per step: class_loss, box_loss, accuracy, iou; per validation: val_accuracy, val_iou at val_step."""

    def __init__(self, box_weight):
        self.box_weight = box_weight
        self.class_loss, self.box_loss, self.accuracy, self.iou = [], [], [], []
        self.val_accuracy, self.val_iou, self.val_step = [], [], []
        self.seconds = 0.0


def fit_localization(model, train, optimizer, epochs=1, batch_size=32, box_weight=1.0, val=None, seed=0,
                     history=None):
    """Train a two-headed model on ``train = (images, labels, boxes)``; returns a :class:`LocalizationHistory`.

    Each step: ``(logits, boxes) = model(x)``, total loss = cross-entropy + λ·MSE, one backward
    through both heads into the shared trunk. ``val`` (a triple) is evaluated after every epoch.
    """
    images, labels, boxes = (np.asarray(a) for a in train)
    if not len(images) == len(labels) == len(boxes):
        raise ValueError(f"fit_localization: {len(images)} images, {len(labels)} labels, {len(boxes)} boxes")
    history = history or LocalizationHistory(box_weight)
    loader = DataLoader(images, np.arange(len(images)), batch_size, shuffle=True, seed=seed)  # y: sample indices
    before = len(history.accuracy)  # steps of earlier calls with the same history

    def loss_fn(outputs, index):
        return localization_loss(outputs, labels[index], boxes[index], box_weight)

    def record(step, outputs, index, losses):
        _, class_loss, box_loss = losses
        history.class_loss.append(float(class_loss.item()))
        history.box_loss.append(float(box_loss.item()))
        history.accuracy.append(accuracy(outputs, labels[index]))
        history.iou.append(float(box_iou(outputs[1].data, boxes[index]).mean()))

    def validate(epoch, step):
        if val is not None:
            scores = evaluate_localization(model, *val)
            history.val_accuracy.append(scores["accuracy"])
            history.val_iou.append(scores["iou"])
            history.val_step.append(before + step)

    try:
        history.seconds += fit(model, loader, optimizer, epochs, loss_fn, progress=False, metric=None,
                               on_batch=record, on_epoch=validate).seconds
    except NonFiniteLossError as exc:
        step = before + exc.step
        raise NonFiniteLossError(f"fit_localization: the loss became {exc.value} at step {step}; lower the learning "
                                 f"rate or box_weight", step, exc.value) from None
    return history


def evaluate_localization(model, images, labels, boxes, batch_size=256):
    """Accuracy, mean IoU, box MSE and predictions of a two-headed model in eval mode, without a graph."""
    logits, pred = [], []

    def keep(outputs, _):
        out_logits, out_boxes = outputs
        logits.append(out_logits.data)
        pred.append(out_boxes.data)

    evaluate(model, images, labels, batch_size, loss_fn=None, on_batch=keep)
    classes, pred = np.concatenate(logits).argmax(axis=1), np.concatenate(pred)
    return {"accuracy": float(np.mean(classes == labels)), "iou": float(box_iou(pred, boxes).mean()),
            "box_mse": float(np.mean((pred - boxes) ** 2)), "classes": classes, "boxes": pred}


# -- auxiliary heads --


class DeepCNN(nn.Module):
    """A plain deep CNN: ``depth`` × (conv 3×3, ReLU) at constant width, global average pool, linear.

    No batch norm and no skip connections, and PyTorch's default initialisation (which shrinks
    the signal at every layer): the gradient reaching the first layers is small, the problem
    Inception's auxiliary classifiers addressed. ``aux_after=(2,)`` puts an auxiliary classifier
    (global average pool, linear) after layer 2; in training mode ``forward`` then returns
    ``(logits, aux_logits, ...)`` for ``models.aux_loss``. The auxiliary heads are made last, so
    with the same seed the main network starts from the same weights with or without them.
    """

    def __init__(self, depth=8, width=16, num_classes=10, in_channels=1, aux_after=()):
        super().__init__()
        bad = [a for a in aux_after if not 1 <= a < depth]
        if bad:
            raise ValueError(f"DeepCNN: aux_after must name layers 1..{depth - 1} (after the last is the main head), "
                             f"got {bad}")
        self.layers = nn.ModuleList(
            nn.Sequential(nn.Conv2d(in_channels if i == 0 else width, width, 3, padding=1), nn.ReLU())
            for i in range(depth)
        )
        self.head = _classifier(width, num_classes)
        self.aux_after = tuple(aux_after)
        self.aux_heads = nn.ModuleList(_classifier(width, num_classes) for _ in self.aux_after)

    def forward(self, x):
        aux = []
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if self.training and i + 1 in self.aux_after:
                aux.append(self.aux_heads[self.aux_after.index(i + 1)](x))
        logits = self.head(x)
        return (logits, *aux) if aux else logits


def _classifier(width, num_classes):
    return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, num_classes))


def grad_norms(model, weights_only=True):
    """``[(name, ‖grad‖₂), ...]`` in the model's order, for parameters that have a gradient
    (only ``.weight`` ones unless ``weights_only=False``): vanishing gradients at a glance."""
    return [(name, float(np.linalg.norm(p.grad))) for name, p in model.named_parameters()
            if p.grad is not None and (not weights_only or name.endswith("weight"))]
