"""Grad-CAM (Selvaraju et al., 2017): which parts of the input a class score looks at, through one conv layer.

Two hooks do the work: a forward hook on the chosen layer keeps its output feature maps A
(N, K, h, w), and a tensor hook on A keeps dL/dA when the class score L is backpropagated. Then

    α_k = (1/hw) Σ_ij dL/dA_k[i, j]          (how much channel k matters for the class)
    map = relu(Σ_k α_k A_k)                  (where the channels that matter are active)

upsampled to the input's size and divided by its maximum. A teaching model sees backprop used as
a tool here: the gradient is not for learning, it is a question asked of the network.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core import engine
from ..core.tensor import Tensor


def grad_cam(model, x, target_class=None, layer=None, upsample="bilinear"):
    """Grad-CAM heat maps of ``model`` for the batch ``x`` (N, C, H, W): a numpy array (N, H, W) in [0, 1].

    ``target_class``: an int (the same class for every image), one int per image, or None for
    each image's predicted class. The score L is the sum over the batch of each image's logit for
    its class (the model must return logits (N, classes)); images do not interact in eval mode,
    so each map is that image's own. ``layer``: a module of ``model`` whose output is a stack of
    feature maps (N, K, h, w) -- usually the last conv layer, or the ReLU after it; None picks the
    last ``Conv2d`` in the model. ``upsample``: "bilinear" (half-pixel centres, as
    ``F.interpolate(align_corners=False)``) or "nearest".

    Each map is relu(Σ_k α_k A_k) with α_k the mean over positions of dL/dA_k, resized and
    divided by its maximum (an all-zero map stays zero: nothing in that layer speaks for the class).

    The model runs in eval mode; afterwards each module's train/eval mode, every parameter's
    ``requires_grad`` and ``.grad`` are as they were (parameters are frozen for the pass, so no
    gradient reaches them), and both hooks are removed, even if something fails.
    """
    from ..nn import Conv2d, Module

    if not isinstance(model, Module):
        raise TypeError(f"grad_cam: model must be an nn.Module, got {type(model).__name__}")
    if layer is None:
        convs = [m for m in model.modules() if isinstance(m, Conv2d)]
        if not convs:
            raise ValueError(
                f"grad_cam: {type(model).__name__} has no Conv2d; pass layer= (a module with (N, K, h, w) output)"
            )
        layer = convs[-1]
    if not any(m is layer for m in model.modules()):
        raise ValueError(
            f"grad_cam: layer {type(layer).__name__} is not a module of {type(model).__name__}; "
            f"pass one of its own modules, e.g. model[4] or model.conv2"
        )
    if upsample not in ("bilinear", "nearest"):
        raise ValueError(f"grad_cam: upsample must be 'bilinear' or 'nearest', got {upsample!r}")
    data = np.asarray(x.data if isinstance(x, Tensor) else x)
    if data.ndim != 4:
        raise ValueError(f"grad_cam: x must be a batch (N, C, H, W), got shape {data.shape}; for one image pass x[None]")
    if data.dtype.kind != "f":
        data = data.astype(np.float32)
    name = layer._path or type(layer).__name__

    captured = {}

    def keep_maps(module, inputs, output):
        if "maps" in captured:
            raise RuntimeError(f"grad_cam: layer {name} ran twice in one forward; Grad-CAM needs a layer used once")
        if not isinstance(output, Tensor) or output.ndim != 4:
            shape = getattr(output, "shape", type(output).__name__)
            raise ValueError(
                f"grad_cam: layer {name} ({type(layer).__name__}) outputs {shape}, not feature maps (N, K, h, w); "
                f"pick a conv layer or the activation after it"
            )
        captured["maps"] = output
        captured["tensor_hook"] = output.register_hook(lambda grad: captured.__setitem__("grads", np.array(grad)))

    params = list(model.parameters())
    flags = [p.requires_grad for p in params]
    grads = [p.grad for p in params]
    modes = [(m, m.training) for m in model.modules()]
    forward_hook = layer.register_forward_hook(keep_maps)
    try:
        for p in params:
            p.requires_grad_(False)
        model.eval()
        with engine.enable_grad():
            logits = model(Tensor(data, requires_grad=True))
            if not isinstance(logits, Tensor) or logits.ndim != 2:
                got = getattr(logits, "shape", type(logits).__name__)
                raise ValueError(f"grad_cam: the model must return logits (N, classes), got {got}")
            n, classes = logits.shape
            targets = _targets(target_class, logits.data, n, classes)
            if "maps" not in captured:
                raise ValueError(f"grad_cam: layer {name} did not run during the model's forward")
            logits[np.arange(n), targets].sum().backward()
    finally:
        forward_hook.remove()
        if "tensor_hook" in captured:
            captured["tensor_hook"].remove()
        for p, flag, grad in zip(params, flags, grads):
            p.requires_grad = flag
            p.grad = grad
        for m, training in modes:
            object.__setattr__(m, "training", training)
    if "grads" not in captured:
        raise ValueError(f"grad_cam: the class score does not depend on the output of layer {name}; pick an earlier layer")

    maps = captured["maps"].data.astype(np.float64)
    alpha = captured["grads"].astype(np.float64).mean(axis=(2, 3))  # (N, K)
    cam = np.maximum(np.einsum("nk,nkhw->nhw", alpha, maps), 0.0)
    H, W = data.shape[2:]
    rows, cols = _resize_matrix(cam.shape[1], H, upsample), _resize_matrix(cam.shape[2], W, upsample)
    cam = np.einsum("Hh,nhw,Ww->nHW", rows, cam, cols)
    peak = cam.max(axis=(1, 2), keepdims=True)
    cam = np.divide(cam, peak, out=np.zeros_like(cam), where=peak > 0)
    return cam.astype(np.float32)


def _targets(target_class, logits, n, classes):
    if target_class is None:
        return logits.argmax(axis=1)
    targets = np.broadcast_to(np.asarray(target_class), (n,)) if np.ndim(target_class) == 0 else np.asarray(target_class)
    if targets.shape != (n,) or targets.dtype.kind not in "iu":
        raise ValueError(
            f"grad_cam: target_class must be an int or {n} ints (one per image), got {target_class!r}"
        )
    if targets.min() < 0 or targets.max() >= classes:
        raise ValueError(f"grad_cam: target_class {target_class!r} is out of range for {classes} classes")
    return targets.astype(np.int64)


def _resize_matrix(n_in, n_out, mode):
    """The (n_out, n_in) matrix that resizes one axis: ``resized = M @ values`` (each row sums to 1)."""
    m = np.zeros((n_out, n_in))
    out = np.arange(n_out)
    if mode == "nearest":
        m[out, np.minimum(np.floor(out * n_in / n_out).astype(int), n_in - 1)] = 1.0
        return m
    src = np.clip((out + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = src - lo
    np.add.at(m, (out, lo), 1 - frac)
    np.add.at(m, (out, hi), frac)
    return m


def plot_grad_cam(images, cams, path, titles=None, alpha=0.5):
    """Save a PNG: each image in gray (top row) and with its heat map laid over it (bottom row).

    ``images`` (N, C, H, W) or (N, H, W) (channels are averaged for the gray picture), ``cams``
    (N, H, W) from :func:`grad_cam`, ``titles`` one string per image. Written atomically.
    """
    from .plots import _pyplot, save_figure

    images = np.asarray(images.data if isinstance(images, Tensor) else images, dtype=np.float64)
    if images.ndim == 4:
        images = images.mean(axis=1)
    cams = np.asarray(cams)
    if images.ndim != 3 or cams.shape != images.shape:
        raise ValueError(
            f"plot_grad_cam: images {images.shape} and heat maps {cams.shape} must be (N, H, W) of the same shape "
            f"(images may also be (N, C, H, W))"
        )
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"plot_grad_cam: {len(titles)} titles for {len(images)} images")
    if not Path(path).parent.exists():
        raise FileNotFoundError(
            f"plot_grad_cam: cannot save {Path(path).name}: the folder {Path(path).parent} does not exist"
        )
    plt = _pyplot()
    n = len(images)
    fig, axes = plt.subplots(2, n, figsize=(1.5 * n + 0.8, 3.4), squeeze=False)
    for i in range(n):
        for row, ax in enumerate(axes[:, i]):
            ax.imshow(images[i], cmap="gray", interpolation="nearest")
            if row == 1:
                shown = ax.imshow(cams[i], cmap="jet", alpha=alpha, vmin=0, vmax=1, interpolation="bilinear")
            ax.set_xticks([])
            ax.set_yticks([])
        if titles is not None:
            axes[0, i].set_title(titles[i], fontsize=8)
    axes[0, 0].set_ylabel("input", fontsize=8)
    axes[1, 0].set_ylabel("Grad-CAM", fontsize=8)
    fig.colorbar(shown, ax=list(axes[1]), fraction=0.02, pad=0.01)
    return save_figure(fig, path)
