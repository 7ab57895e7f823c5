"""Checking and diagnosing gradients: ``gradcheck`` (central differences at every index),
``detect_anomaly`` (the first NaN/Inf in forward or backward raises, naming the gate and the
line of your code that made it), ``grad_flow`` (each parameter's gradient norm: vanishing and
exploding gradients at a glance) and ``receptive_field`` (size, jump and start per layer of a CNN)."""
from __future__ import annotations

import functools
import linecache
import math
import os
import sys

import numpy as np

from . import engine
from .engine import no_grad


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with central differences."""


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check ``fn``'s gradients against float64 central differences at every index of every input.

    ``inputs`` are Tensors (those with ``requires_grad`` are checked) or arrays (all checked);
    they are copied to float64 first. ``fn`` returns a Tensor of any shape: its gradient is
    taken against a fixed random upstream gradient v (1 for a one-element output), and the numeric derivative of
    ⟨fn(x), v⟩ is (⟨fn(x + eps·eᵢ), v⟩ − ⟨fn(x − eps·eᵢ), v⟩) / 2eps for every index i.
    An index passes when |analytic − numeric| ≤ atol + rtol·|numeric|.

    Returns True, or raises ``GradcheckError`` naming the worst index with both values.
    """
    from .tensor import Tensor

    xs = []
    for k, x in enumerate(inputs):
        wants = x.requires_grad if isinstance(x, Tensor) else True
        array = np.array(x.data if isinstance(x, Tensor) else x, copy=True)
        if array.dtype.kind == "f" or (wants and array.dtype.kind in "iu" and not isinstance(x, Tensor)):
            array = array.astype(np.float64)
            bad = ~np.isfinite(array)
            if bad.any():
                where = tuple(int(i) for i in np.argwhere(bad)[0])
                raise ValueError(
                    f"gradcheck: input {k} holds {array[where]} at index {where}; central differences need finite inputs"
                )
        xs.append(Tensor(array, requires_grad=wants and array.dtype.kind == "f"))
    checked = [k for k, x in enumerate(xs) if x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; pass arrays, or Tensors with requires_grad=True")

    out = fn(*xs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    if not out.requires_grad:
        raise ValueError("gradcheck: the output does not depend on any input that requires grad")
    if not np.all(np.isfinite(out.data)):
        raise ValueError("gradcheck: fn's output is not finite at the given inputs")
    # a one-element output keeps upstream 1 (so the numbers are plain derivatives); others get a
    # fixed random upstream, which mixes every output element into the check
    upstream = np.ones(out.shape) if out.data.size == 1 else np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(upstream.astype(out.dtype))

    def projected():
        with no_grad():
            return float(np.sum(np.asarray(fn(*xs).data, dtype=np.float64) * upstream))

    worst = None
    for k in checked:
        x = xs[k]
        analytic = x.grad if x.grad is not None else np.zeros_like(x.data)
        flat = x.data.reshape(-1)  # a view: perturbing it perturbs x
        for i in range(flat.size):
            saved = flat[i]
            flat[i] = saved + eps
            plus = projected()
            flat[i] = saved - eps
            minus = projected()
            flat[i] = saved
            numeric = (plus - minus) / (2 * eps)
            a = float(analytic.reshape(-1)[i])
            excess = abs(a - numeric) - (atol + rtol * abs(numeric))
            if excess > 0 and (worst is None or excess > worst[0]):
                worst = (excess, k, np.unravel_index(i, x.shape), a, numeric)
    if worst is not None:
        _, k, index, a, numeric = worst
        index = tuple(int(i) for i in index)
        raise GradcheckError(
            f"gradcheck: input {k} (shape {xs[k].shape}) at index {index}: analytic {a:.8g} vs numeric {numeric:.8g} "
            f"(|difference| {abs(a - numeric):.3g} > atol {atol} + rtol {rtol} × |numeric|)"
        )
    return True


# --- anomaly mode ------------------------------------------------------------------------------

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep

HINTS = {
    "log": "log needs inputs > 0 (log 0 = -inf, log of a negative number = nan)",
    "sqrt": "sqrt needs inputs ≥ 0, and its local gradient 1/(2√x) is infinite at x = 0",
    "div": "a division by zero (or 0/0)",
    "exp": "exp overflows past about 88 in float32 and 709 in float64",
    "pow": "a negative base with a fractional exponent, or 0 to a negative power",
}


class AnomalyError(FloatingPointError):
    """The first NaN/Inf that anomaly mode saw: ``gate`` (its name), ``phase`` ("forward" or
    "backward"), ``site`` ("file:line: code" of the user code that made the node, or None) and,
    in backward, ``input`` (the index of the input whose gradient was not finite)."""

    def __init__(self, message, gate, phase, site=None, input=None):
        super().__init__(message)
        self.gate, self.phase, self.site, self.input = gate, phase, site, input


class detect_anomaly:
    """Context manager (and decorator): the first NaN/Inf produced in forward or backward raises.

    >>> import minigrad as mg
    >>> x = mg.tensor([1.0, -1.0], requires_grad=True)
    >>> with mg.detect_anomaly():
    ...     y = x.log()          # doctest: +SKIP
    AnomalyError: log produced nan in forward (created at example.py:3: y = x.log()) ...

    In this mode every tensor gate's output is checked as it is made, and every downstream
    gradient as backprop sends it; the error (``AnomalyError``, a ``FloatingPointError``) names
    the gate and the first line *outside the minigrad package* that created the node -- your
    line. Only in this mode does minigrad record where nodes are made (``Tensor._site``);
    outside it the cost is one ``if`` per gate.

    What is checked: outputs of tensor gates that are part of a graph (an input requires grad
    and grad mode is on; results computed under ``no_grad`` are not checked), and every
    downstream gradient in backward, for tensors and scalar ``Value``s alike. Scalar ``Value``
    forward math already raises on its own (``Value(-1.0).log()`` is a ``ValueError``), and
    Values do not record creation sites, so a scalar backward anomaly names the gate only.

    ``detect_anomaly(False)`` switches the mode off inside an enclosing one. Leaving the block
    restores whatever was in force before, so blocks nest.
    """

    def __init__(self, enabled=True):
        self.enabled = bool(enabled)
        self._saved = []

    def __enter__(self):
        state = engine._anomaly
        self._saved.append((state.enabled, state.__dict__.get("check_forward"), state.__dict__.get("check_backward")))
        state.enabled = self.enabled
        if self.enabled:
            state.check_forward = _check_forward
            state.check_backward = _check_backward
        return self

    def __exit__(self, *exc):
        state = engine._anomaly
        enabled, forward, backward = self._saved.pop()
        state.enabled = enabled
        for name, hook in (("check_forward", forward), ("check_backward", backward)):
            if hook is None:
                state.__dict__.pop(name, None)  # back to the class's no-op
            else:
                setattr(state, name, hook)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.enabled):
                return fn(*args, **kwargs)

        return wrapper


def _user_frame():
    """(filename, line) of the innermost frame outside the minigrad package, or None."""
    frame = sys._getframe(2)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame = frame.f_back
    return None if frame is None else (frame.f_code.co_filename, frame.f_lineno)


def _site_text(site):
    if site is None:
        return None
    filename, line = site
    shown = os.path.relpath(filename) if os.path.abspath(filename).startswith(os.getcwd() + os.sep) else filename
    code = linecache.getline(filename, line).strip()
    return f"{shown}:{line}: {code}" if code else f"{shown}:{line}"


def _bad(array):
    """'nan', 'inf' or '-inf' if ``array`` (or number) holds one, else None; with the count and size."""
    a = np.asarray(array)
    if a.dtype.kind not in "fc":
        return None
    finite = np.isfinite(a)
    if finite.all():
        return None
    bad = a[~finite]
    word = "nan" if np.isnan(bad).any() else ("inf" if (bad.real > 0).any() else "-inf")
    return word, int(bad.size), int(a.size)


def _check_forward(node, gate):
    """Tensor._make calls this in anomaly mode: note where the node was made, then check its values."""
    if gate is None:
        return
    node._site = _user_frame()
    found = _bad(node._data)
    if found is None:
        return
    word, count, size = found
    site = _site_text(node._site)
    where = f"created at {site}" if site else "created inside minigrad, called from no file outside it"
    message = f"{gate.name} produced {word} in forward ({where})"
    if size > 1:
        message += f"; {count} of the {size} elements of its {tuple(node.shape)} output are not finite"
    for i, x in enumerate(node._inputs):
        if _bad(x._data) is not None:
            message += (
                f"; but its input {i} already held {_bad(x._data)[0]}, made outside the checked graph "
                f"(a leaf, data, or a result computed under no_grad): look there first"
            )
            break
    else:
        if gate.name in HINTS:
            message += f"; hint: {HINTS[gate.name]}"
    raise AnomalyError(message, gate.name, "forward", site)


def _check_backward(node, gate, downstream):
    """The backprop loop calls this in anomaly mode with the gradients a gate is about to send."""
    for i, g in enumerate(downstream):
        if g is None:
            continue
        if isinstance(g, float):
            if math.isfinite(g):
                continue
            found = ("nan" if math.isnan(g) else ("inf" if g > 0 else "-inf"), 1, 1)
        else:
            found = _bad(g)
            if found is None:
                continue
        word, count, size = found
        site = _site_text(getattr(node, "_site", None))
        where = f"created at {site}" if site else (
            "a scalar Value: creation sites are recorded for tensors only" if not hasattr(node, "shape")
            else "created before anomaly mode was on"
        )
        message = f"{gate.name} produced {word} in backward while sending the gradient to input {i} ({where})"
        if size > 1:
            message += f"; {count} of the {size} elements of that gradient are not finite"
        upstream = node._g
        if upstream is not None and _bad(upstream) is not None:
            message += (
                f"; but the upstream gradient it received already held {_bad(upstream)[0]} "
                f"(from the gradient given to backward(), a hook's result, or a sum of several consumers' "
                f"gradients that overflowed)"
            )
        elif gate.name in HINTS:
            message += f"; hint: {HINTS[gate.name]}"
        raise AnomalyError(message, gate.name, "backward", site, i)


# --- gradient flow -----------------------------------------------------------------------------

VANISHING = 1e-3
"""``grad_flow_report`` flags a gradient norm below this fraction of the model's largest one."""
EXPLODING = 1e2
"""...and a gradient whose RMS is above this (the drawings' "exploding" colour band)."""


def _norm(array):
    """L2 norm over every element, in float64, as a Python float (inf or nan pass through)."""
    return float(np.linalg.norm(np.asarray(array, dtype=np.float64).reshape(-1)))


def grad_flow(model):
    """One row per parameter, in ``named_parameters()`` order: ``{name, shape, grad_norm, weight_norm}``.

    ``grad_norm`` = ‖∂L/∂w‖₂ and ``weight_norm`` = ‖w‖₂ over every element, as Python floats;
    ``grad_norm`` is None for a parameter with no gradient (before ``backward()``, frozen, or not
    used by the loss) -- None rather than 0.0, so "no gradient" and "a zero gradient" differ.

    Read it from the input side to the output side: by the chain rule the gradient at layer l is
    a product of one Jacobian per later layer, ∇_{o^l} f = Π_{i>l} (W^i)ᵀ Diag(σ'(a^i)) · ∇_{o^L} f,
    so norms that shrink (vanishing) or grow (exploding) steadily towards the first layers show
    that product at work.
    """
    if not hasattr(model, "named_parameters"):
        raise TypeError(f"grad_flow: expected an nn.Module, got {type(model).__name__}")
    return [
        {"name": name, "shape": tuple(p.shape), "grad_norm": None if p.grad is None else _norm(p.grad),
         "weight_norm": _norm(p.data)}
        for name, p in model.named_parameters()
    ]


def grad_flow_report(model, vanishing=VANISHING, exploding=EXPLODING):
    """``grad_flow`` as a table (a string), one line per parameter, with flags:

    ``vanishing`` when ‖∂L/∂w‖ < ``vanishing`` × the largest gradient norm in the model;
    ``exploding`` when the gradient's RMS ‖∂L/∂w‖/√n is above ``exploding`` or not finite;
    ``no gradient`` when ``.grad`` is None. The last column, ‖∂L/∂w‖/‖w‖, is how far one SGD
    step with learning rate 1 would move the weights, relative to their size.
    """
    rows = grad_flow(model)
    norms = [r["grad_norm"] for r in rows if r["grad_norm"] is not None and math.isfinite(r["grad_norm"])]
    largest = max(norms, default=0.0)
    width = max([len("parameter")] + [len(r["name"]) for r in rows])
    lines = [f"{'parameter':<{width}}  {'shape':<16} {'‖grad‖':>10} {'‖weight‖':>10} {'‖grad‖/‖w‖':>11}  flag"]
    for r in rows:
        g, w = r["grad_norm"], r["weight_norm"]
        shape = str(r["shape"])
        if g is None:
            lines.append(f"{r['name']:<{width}}  {shape:<16} {'-':>10} {w:>10.3e} {'-':>11}  no gradient")
            continue
        size = max(int(np.prod(r["shape"])), 1)
        flag = ""
        if not math.isfinite(g) or g / math.sqrt(size) > exploding:
            flag = "exploding"
        elif g < vanishing * largest:
            flag = "vanishing"
        ratio = f"{g / w:>11.3e}" if w > 0 else f"{'-':>11}"
        lines.append(f"{r['name']:<{width}}  {shape:<16} {g:>10.3e} {w:>10.3e} {ratio}  {flag}".rstrip())
    if largest > 0:
        lines.append(f"(vanishing: ‖grad‖ < {vanishing:g} × the largest, {largest:.3e}; "
                     f"exploding: RMS of the gradient > {exploding:g})")
    return "\n".join(lines)


# --- receptive fields --------------------------------------------------------------------------


def _two(value):
    return tuple(int(v) for v in value) if isinstance(value, (tuple, list)) else (int(value), int(value))


def _one_or_two(pair):
    return pair[0] if pair[0] == pair[1] else pair


def _chain(model):
    """``(name, layer)`` of a Sequential in the order data flows through it, nested Sequentials flattened."""
    from .nn import Sequential

    if not isinstance(model, Sequential):
        return [("", model)]
    out, stack = [], [("", model)]
    while stack:
        path, module = stack.pop()
        if isinstance(module, Sequential):
            children = [(f"{path}.{n}" if path else n, m) for n, m in module.named_children()]
            stack.extend(reversed(children))
        else:
            out.append((path, module))
    return out


def receptive_field(model, input_size=None):
    """The receptive field of every layer of a Sequential CNN, as in Araujo et al., "Computing Receptive
    Fields of Convolutional Neural Networks" (Distill 2019).

    One row per layer, ``{name, type, size, jump, start, note}`` (plus ``output_size``, the
    output's height and width, when ``input_size``, an int or (H, W), is given). Starting from
    the input, r₀ = 1, j₀ = 1, start₀ = 0.5, a layer with kernel k, stride s, padding p (before the first row/column) and
    dilation d, whose effective kernel is k_eff = d·(k − 1) + 1, gives

        r_out = r_in + (k_eff − 1)·j_in            (size: input pixels one output sees)
        j_out = j_in · s                           (jump: input pixels between neighbouring outputs)
        start_out = start_in + ((k_eff − 1)/2 − p)·j_in   (centre of the first output's field,
                                                           pixel i spanning [i, i+1))

    and o = ⌊(i + p_before + p_after − k_eff)/s⌋ + 1 for the output size. ``size``, ``jump`` and
    ``start`` are numbers when height and width agree, else (height, width) pairs. The field may
    extend past the image into the padding: r is not clipped.

    Understood: Conv2d, MaxPool2d, AvgPool2d; layers that keep the geometry (ReLU, LeakyReLU,
    Sigmoid, Tanh, BatchNorm2d, Dropout, Identity) get a row with unchanged values; nested
    Sequentials are walked in order. Flatten, Linear and AdaptiveAvgPool2d end the spatial map:
    they get a last row with size, jump and start None and a note (every later unit sees the whole
    input), and the layers after them are not listed. Anything else (a residual block, a
    transposed convolution, a custom module) is a ``ValueError`` naming the layer.
    """
    from . import nn

    keeps = (nn.ReLU, nn.LeakyReLU, nn.Sigmoid, nn.Tanh, nn.BatchNorm2d, nn.Dropout, nn.Identity)
    ends = (nn.Flatten, nn.Linear, nn.AdaptiveAvgPool2d)
    if not isinstance(model, nn.Module):
        raise TypeError(f"receptive_field: expected an nn.Sequential of layers, got {type(model).__name__}")
    size = None if input_size is None else _two(input_size)
    r, j, start = (1, 1), (1, 1), (0.5, 0.5)
    rows = []
    for name, layer in _chain(model):
        kind = type(layer).__name__
        row = {"name": name, "type": kind, "size": None, "jump": None, "start": None, "note": ""}
        if size is not None:
            row["output_size"] = None
        if isinstance(layer, ends):
            row["note"] = "the spatial map ends here: every later unit sees the whole input"
            rows.append(row)
            break
        if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            k, s = _two(layer.kernel_size), _two(layer.stride)
            d = _two(getattr(layer, "dilation", 1))
            k_eff = tuple(di * (ki - 1) + 1 for di, ki in zip(d, k))
            if layer.padding == "same":
                pads = tuple((ke - 1) // 2 for ke in k_eff), tuple(ke - 1 - (ke - 1) // 2 for ke in k_eff)
            elif layer.padding == "valid":
                pads = (0, 0), (0, 0)
            else:
                pads = _two(layer.padding), _two(layer.padding)
            before, after = pads
            start = tuple(st + ((ke - 1) / 2 - p) * ji for st, ke, p, ji in zip(start, k_eff, before, j))
            r = tuple(ri + (ke - 1) * ji for ri, ke, ji in zip(r, k_eff, j))
            j = tuple(ji * si for ji, si in zip(j, s))
            if size is not None:
                out = tuple((i + b + a - ke) // si + 1 for i, b, a, ke, si in zip(size, before, after, k_eff, s))
                if min(out) < 1:
                    raise ValueError(
                        f"receptive_field: layer {name!r} ({kind}) gets a {size[0]}×{size[1]} map (padded "
                        f"{before}, {after}) smaller than its {k_eff[0]}×{k_eff[1]} window; input_size "
                        f"{input_size} is too small for this model"
                    )
                size = out
        elif not isinstance(layer, keeps):
            raise ValueError(
                f"receptive_field: layer {name or '(the model)'!r} ({kind}) is not one it understands: a chain of "
                f"Conv2d, MaxPool2d, AvgPool2d and layers that keep the geometry (ReLU, BatchNorm2d, Dropout, ...), "
                f"ended by Flatten/Linear/AdaptiveAvgPool2d. Residual or branching blocks have several paths; "
                f"pass the nn.Sequential part of the model (e.g. model.features)"
            )
        row.update(size=_one_or_two(r), jump=_one_or_two(j), start=_one_or_two(start))
        if size is not None:
            row["output_size"] = _one_or_two(size)
        rows.append(row)
    return rows


def receptive_field_report(model, input_size=None):
    """``receptive_field`` as a table (a string): layer, type, size r, jump j, start (and output size)."""
    rows = receptive_field(model, input_size)
    shown = ["name", "type", "size", "jump", "start"] + (["output_size"] if input_size is not None else [])
    text = [[str(key) for key in shown]] + [
        ["-" if row.get(key) is None else str(row[key]) for key in shown] for row in rows
    ]
    widths = [max(len(line[c]) for line in text) for c in range(len(shown))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in text]
    lines += [f"{row['name']} ({row['type']}): {row['note']}" for row in rows if row["note"]]
    return "\n".join(lines)
