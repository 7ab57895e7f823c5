"""Windows sliding over an image: the arguments that place them, and how many fit.

conv2d, conv_transpose2d, the pooling gates and the convolution variants all slide a kH×kW window
over a padded input, s apart, its taps dil apart. Along one axis of size d, padded by lo before and
hi after, a window covers dil·(k − 1) + 1 elements (its span), and

    o = ⌊(d + lo + hi − dil·(k − 1) − 1)/s⌋ + 1

windows fit: the textbook's ⌊(d + 2p − dil·(k−1) − 1)/s⌋ + 1 when lo = hi = p. Pooling's ceil_mode
rounds up instead, and drops a last window that would start in the bottom/right padding (PyTorch's
rule). conv_transpose2d maps o back to d: (o − 1)·s − 2p + dil·(k − 1) + output_padding + 1.

The arguments are read here too: an int or a pair (height, width), at least 1 (kernel size,
stride, dilation) or at least 0 (padding), and padding "valid" or "same". Every error names the
op and the argument; with ``explain`` it also says what to write instead (conv2d's messages).
"""
from __future__ import annotations

import numpy as np


def pair(op, what, value):
    """An int or a pair of ints as a pair (height, width), or a TypeError naming ``op``."""
    def is_int(v):
        return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))

    if is_int(value):
        return (int(value), int(value))
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(is_int(v) for v in value):
        return (int(value[0]), int(value[1]))
    raise TypeError(f"{op}: {what} must be an int or a pair of ints (height, width), got {value!r}")


def positive(op, what, value, explain=False):
    """``value`` as a pair of ints ≥ 1 (a kernel size, stride or dilation), or an error naming ``op``."""
    value = pair(op, what, value)
    if min(value) < 1:
        hint = "; use 1 for the plain operation" if explain else ""
        raise ValueError(f"{op}: {what} must be at least 1, got {value}{hint}")
    return value


def non_negative(op, what, value, explain=False):
    """``value`` as a pair of ints ≥ 0 (a padding), or an error naming ``op``."""
    value = pair(op, what, value)
    if min(value) < 0:
        hint = f"; negative {what} is not supported, crop the tensor instead" if explain else ""
        raise ValueError(f"{op}: {what} must be ≥ 0, got {value}{hint}")
    return value


def padding(op, value, stride, kernel, dilation=None, explain=False):
    """``value`` (an int, a pair, "valid" or "same") as ((top, bottom), (left, right)); "valid" and "same"
    for any number of axes (one (before, after) pair per axis of ``kernel``), as Conv1d takes them too.

    "same" (``same_padding``) keeps the size only with stride 1, and is refused for any other.
    """
    n = len(kernel)
    if isinstance(value, str):
        if value == "valid":
            return ((0, 0),) * n
        if value == "same":
            same = same_padding(kernel, dilation or (1,) * n)
            if any(s != 1 for s in stride):
                example = same[0][0] if n == 1 else tuple(top for top, _ in same)
                raise ValueError(
                    f"{op}: padding='same' needs stride 1, got stride {stride} (as in PyTorch); "
                    f"give the padding explicitly, e.g. padding={example}" if explain else
                    f"{op}: padding='same' needs stride 1, got stride {stride}; give the padding explicitly"
                )
            return same
        ints = "an int" if n == 1 else "an int, a pair"
        raise ValueError(f"{op}: padding must be {ints}, 'same' or 'valid', got {value!r}")
    return tuple((p, p) for p in non_negative(op, "padding", value, explain))


def same_padding(kernel, dilation=(1, 1)):
    """The padding that keeps the size at stride 1, ((top, bottom), (left, right)): the total
    dil·(k − 1) split as evenly as possible, the odd pixel at the bottom/right (PyTorch's choice)."""
    return tuple((total // 2, total - total // 2) for total in (span(k, d) - 1 for k, d in zip(kernel, dilation)))


def span(k, dil=1):
    """How many input elements a kernel of ``k`` taps, ``dil`` apart, covers: dil·(k − 1) + 1."""
    return dil * (k - 1) + 1


def out_length(d, k, s=1, padding=(0, 0), dil=1, ceil_mode=False):
    """How many windows fit along an axis of ``d`` elements padded by ``padding`` = (before, after).

    ⌊(d + before + after − dil·(k − 1) − 1)/s⌋ + 1, or with ``ceil_mode`` ⌈…⌉ + 1 less a last window
    that would start in the after-padding. 0 (or less) when the window does not fit at all.
    """
    before, after = padding
    room = d + before + after - span(k, dil)  # where the last window can start
    if not ceil_mode:
        return room // s + 1
    o = -(-room // s) + 1
    return o - 1 if (o - 1) * s >= d + before else o


def out_size(size, kernel, stride, padding, dilation=(1, 1), ceil_mode=False):
    """``out_length`` per axis: (oh, ow) for ``size`` (H, W), ``padding`` ((top, bottom), (left, right))."""
    axes = zip(size, kernel, stride, padding, dilation)
    return tuple(out_length(d, k, s, p, dil, ceil_mode) for d, k, s, p, dil in axes)


def transposed_length(o, k, s, p, dil, output_padding):
    """conv_transpose2d's output length: (o − 1)·s − 2p + dil·(k − 1) + output_padding + 1.

    With output_padding < s it undoes ``out_length``: of the s input lengths that conv2d rounds
    down to the same o, output_padding picks which one comes back.
    """
    return (o - 1) * s - 2 * p + span(k, dil) + output_padding
