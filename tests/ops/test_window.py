"""The window arguments and geometry shared by conv, pooling and the conv variants: the output-size formula
against a count of window positions by sliding, ceil_mode's rule, 'same' padding, conv_transpose2d's inverse,
and the parse errors."""
import itertools

import numpy as np
import pytest

from minigrad.ops import window


def slide(d, k, s, padding, dil, ceil_mode=False):
    """How many windows fit, counted by sliding one along the padded axis, s at a time.

    Without ceil_mode a window is kept while it lies wholly inside the padded axis. With ceil_mode
    (PyTorch's words) windows may run off the end as long as they start inside the input or the
    left padding, and one is added while some element at the end is still covered by no window.
    """
    before, after = padding
    padded, reach = d + before + after, dil * (k - 1) + 1
    count, covered = 0, 0  # covered: one past the last element the windows so far reach
    for start in itertools.count(0, s):
        if ceil_mode:
            if start > 0 and (covered >= padded or start >= d + before):
                return count
        elif start + reach > padded:
            return count
        count, covered = count + 1, start + reach


AXES = [(d, k, s, (lo, hi), dil)
        for d in range(1, 9) for k in range(1, 5) for s in range(1, 4) for lo in range(3) for hi in range(3)
        for dil in range(1, 3) if dil * (k - 1) + 1 <= d + lo + hi]


def test_out_length_is_the_number_of_window_positions():
    for d, k, s, padding, dil in AXES:
        assert window.out_length(d, k, s, padding, dil) == slide(d, k, s, padding, dil), (d, k, s, padding, dil)


def test_ceil_mode_counts_windows_that_start_inside_the_input_or_its_left_padding():
    # pooling's padding is at most half the kernel (PyTorch's rule), so at most one window is dropped
    for d, k, s, (p, _), dil in AXES:
        if p <= k // 2 and dil * (k - 1) + 1 <= d + 2 * p:
            assert window.out_length(d, k, s, (p, p), dil, ceil_mode=True) == slide(d, k, s, (p, p), dil, True), \
                (d, k, s, p, dil)


def test_the_lectures_output_sizes():
    assert window.out_length(32, 5) == 28                   # LeNet's first conv: (32 − 5)/1 + 1
    assert window.out_length(227, 11, 4) == 55              # AlexNet's first conv: (227 − 11)/4 + 1
    assert window.out_length(7, 3, 2, (1, 1)) == 4          # (7 + 2 − 3)/2 + 1
    assert window.out_length(5, 2, 2, ceil_mode=True) == 3  # ⌈(5 − 2)/2⌉ + 1: the last window hangs over
    assert window.out_size((6, 5), (3, 3), (1, 2), ((1, 1), (0, 1)), (2, 1)) == (4, 2)


def test_same_padding_keeps_the_size_and_puts_the_odd_pixel_at_the_bottom_right():
    for k, dil in itertools.product(range(1, 6), range(1, 4)):
        ((top, bottom), (left, right)) = window.same_padding((k, k), (dil, dil))
        assert top + bottom == dil * (k - 1) and bottom - top in (0, 1) and (left, right) == (top, bottom)
        assert all(window.out_length(d, k, 1, (top, bottom), dil) == d for d in range(dil * (k - 1) + 1, 12))
    assert window.same_padding((4, 3)) == ((1, 2), (1, 1))


def test_transposed_length_gives_back_the_size_conv2d_rounded_down():
    for d, k, s, (p, _), dil in AXES:
        o = window.out_length(d, k, s, (p, p), dil)
        output_padding = (d + 2 * p - dil * (k - 1) - 1) % s
        assert window.transposed_length(o, k, s, p, dil, output_padding) == d, (d, k, s, p, dil)


def test_pair_reads_an_int_or_two():
    assert window.pair("op", "stride", 2) == (2, 2)
    assert window.pair("op", "stride", [1, np.int64(3)]) == (1, 3)
    assert all(type(v) is int for v in window.pair("op", "stride", np.int32(2)))
    for bad in (1.0, True, (1, 2, 3), (1, 2.0), "2", None):
        with pytest.raises(TypeError, match=r"op: stride must be an int or a pair of ints \(height, width\), got "):
            window.pair("op", "stride", bad)


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: window.positive("op", "stride", 0), r"^op: stride must be at least 1, got \(0, 0\)$"),
        (lambda: window.positive("op", "dilation", (1, 0), explain=True),
         r"^op: dilation must be at least 1, got \(1, 0\); use 1 for the plain operation$"),
        (lambda: window.non_negative("op", "padding", -1), r"^op: padding must be ≥ 0, got \(-1, -1\)$"),
        (lambda: window.non_negative("op", "output_padding", (0, -2), explain=True),
         r"^op: output_padding must be ≥ 0, got \(0, -2\); "
         r"negative output_padding is not supported, crop the tensor instead$"),
        (lambda: window.padding("op", "same", (2, 1), (3, 3)),
         r"^op: padding='same' needs stride 1, got stride \(2, 1\); give the padding explicitly$"),
        (lambda: window.padding("op", "same", (2, 2), (3, 5), (2, 1), explain=True),
         r"^op: padding='same' needs stride 1, got stride \(2, 2\) \(as in PyTorch\); "
         r"give the padding explicitly, e.g. padding=\(2, 2\)$"),
        (lambda: window.padding("op", "full", (1, 1), (3, 3)),
         r"^op: padding must be an int, a pair, 'same' or 'valid', got 'full'$"),
        (lambda: window.padding("op", (1, -1), (1, 1), (3, 3)), r"^op: padding must be ≥ 0, got \(1, -1\)$"),
    ],
)
def test_bad_arguments_are_errors_naming_the_op_and_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_padding_reads_ints_pairs_and_the_two_names():
    assert window.padding("op", 1, (2, 2), (3, 3)) == ((1, 1), (1, 1))
    assert window.padding("op", (0, 2), (1, 1), (3, 3)) == ((0, 0), (2, 2))
    assert window.padding("op", "valid", (2, 2), (3, 3)) == ((0, 0), (0, 0))
    assert window.padding("op", "same", (1, 1), (4, 3), (1, 2)) == ((1, 2), (2, 2))
