"""Receptive fields of a Sequential CNN: size, jump and start per layer (Araujo et al., Distill 2019)."""
from __future__ import annotations

from ..ops import window


def _two(value):
    return tuple(int(v) for v in value) if isinstance(value, (tuple, list)) else (int(value), int(value))


def _one_or_two(pair):
    return pair[0] if pair[0] == pair[1] else pair


def _chain(model):
    """``(name, layer)`` of a Sequential in the order data flows through it, nested Sequentials flattened."""
    from ..nn import Sequential

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
    from .. import nn

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
            k_eff = tuple(window.span(ki, di) for ki, di in zip(k, d))
            padding = window.padding(type(layer).__name__, layer.padding, s, k, d)
            before, after = zip(*padding)
            start = tuple(st + ((ke - 1) / 2 - p) * ji for st, ke, p, ji in zip(start, k_eff, before, j))
            r = tuple(ri + (ke - 1) * ji for ri, ke, ji in zip(r, k_eff, j))
            j = tuple(ji * si for ji, si in zip(j, s))
            if size is not None:
                out = window.out_size(size, k, s, padding, d, getattr(layer, "ceil_mode", False))  # as the layer does
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
