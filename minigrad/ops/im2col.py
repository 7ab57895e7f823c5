"""The machinery under the convolution gates: im2col, col2im and the GEMMs, on a flat padded buffer.

``Geometry`` says where every window of one convolution sits; ``im2col`` copies the windows into
columns (one contiguous copy through a strided view, no Python loop over positions) and
``col2im`` adds columns back by kH·kW slice-adds. ``filter_columns`` (W·cols), ``spread`` (Wᵀ·z)
and ``correlate`` (z·colsᵀ) are the three matrix products of a convolution's forward and backward,
one per group. ``ops/conv.py`` holds the gates that combine them.
"""
from __future__ import annotations

import math
import threading

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import window


class Geometry:
    """Where the windows of one convolution sit in the padded input, stored flat.

    Padded images live in a buffer of shape (N, C, S), each image channel one flat row of S elements,
    so a slice of the batch is one block of memory. ``taps(buf)`` views it as (C, N, oh, row) per tap:
    entry [c, n, r, q] is the input under kernel tap (i, j) of output (r, q); im2col copies the taps
    into the columns, channel-major, so each group's GEMM reads one block.

    Outputs are computed for whole rows of the buffer (``row`` ≥ ow): then neighbouring outputs read
    neighbouring inputs, every tap's window is one contiguous run of oh·row elements per image
    channel, and im2col/col2im copy and add those runs instead of ow-element pieces (numpy pays per
    run, so this is several times faster: bench/README.md). The extra outputs per row straddle the
    right edge: ``unextend`` drops them and ``extend`` gives them zero gradient, so they change nothing.

    A stride s would break the runs (output q reads input s·q), so the padded image is stored
    space-to-depth, as s_h·s_w *phase* images: phase (a, b) holds the padded rows a, a + s_h, … and
    columns b, b + s_w, …, each Hq × Wq (the padded size / s, rounded up). Tap (i, j) then reads the
    phase (dil·i mod s_h, dil·j mod s_w) at offset (dil·i div s_h, dil·j div s_w), with stride 1:
    a strided convolution is the sum of stride-1 ones over the phases. With stride 1 there is one
    phase, the padded image itself (row = padded width).
    """

    def __init__(self, size, kernel, stride, padding, dilation, out=None):
        (self.H, self.W), (self.kh, self.kw), (self.sh, self.sw), (self.dh, self.dw) = size, kernel, stride, dilation
        (top, bottom), (left, right) = padding
        self.top, self.bottom, self.left, self.right = top, bottom, left, right
        self.Hp, self.Wp = self.H + top + bottom, self.W + left + right
        self.oh, self.ow = window.out_size(size, kernel, stride, padding, dilation) if out is None else out
        self.Hq, self.Wq = -(-self.Hp // self.sh), -(-self.Wp // self.sw)  # a phase image's size
        self.row = self.Wq
        # one phase image, plus the dil·(kW−1) // s elements that the last row's extra outputs read past it
        self.phase = self.Hq * self.Wq + self.dw * (self.kw - 1) // self.sw
        self.flat = self.sh * self.sw * self.phase

    def flipped(self):
        """For stride 1: the geometry of dL/dX = pad(dL/dO) ⋆ flip(W), else None.

        dL/dO is padded by dil·(k − 1) − p on each side (p: this convolution's padding on that side),
        so the correlation's output is the input's size. None for strides > 1 (zeros would have to be
        inserted) and when a padding exceeds dil·(k − 1) (that side would need cropping instead).
        """
        if (self.sh, self.sw) != (1, 1):
            return None
        reach_h, reach_w = self.dh * (self.kh - 1), self.dw * (self.kw - 1)
        padding = ((reach_h - self.top, reach_h - self.bottom), (reach_w - self.left, reach_w - self.right))
        if min(min(p) for p in padding) < 0:
            return None
        return Geometry((self.oh, self.ow), (self.kh, self.kw), (1, 1), padding, (self.dh, self.dw))

    def phases(self, buf, writeable=False):
        """The phase images (N, C, s_h, s_w, Hq, Wq) inside a flat buffer (N, C, S)."""
        (N, C, _), (ns, cs, e) = buf.shape, buf.strides
        return as_strided(buf, shape=(N, C, self.sh, self.sw, self.Hq, self.Wq),
                          strides=(ns, cs, self.sw * self.phase * e, self.phase * e, self.Wq * e, e), writeable=writeable)

    def _placement(self):
        """Where the unpadded input goes, phase by phase: (a, b, input's [rows, cols], phase image's [rows, cols]).

        Phase a holds padded rows a + s·t; the first of them inside the input is t0 = ⌈(top − a)/s⌉,
        input row h0 = a + s·t0 − top, and from there every s-th input row. Columns likewise.
        """
        def axis(a, s, before, size):
            t0 = -(-(before - a) // s)
            h0 = a + s * t0 - before
            count = len(range(h0, size, s))
            return slice(h0, size, s), slice(t0, t0 + count)

        for a in range(self.sh):
            rows_in, rows_ph = axis(a, self.sh, self.top, self.H)
            for b in range(self.sw):
                cols_in, cols_ph = axis(b, self.sw, self.left, self.W)
                yield a, b, (rows_in, cols_in), (rows_ph, cols_ph)

    def pad(self, x, dtype):
        """x (N, C, H, W) -> the zero-padded flat buffer (N, C, S)."""
        buf = np.zeros(x.shape[:2] + (self.flat,), dtype)
        phases = self.phases(buf, writeable=True)
        for a, b, (rows, cols), (prows, pcols) in self._placement():
            phases[:, :, a, b, prows, pcols] = x[:, :, rows, cols]
        return buf

    def crop(self, buf):
        """The flat buffer (N, C, S) -> the unpadded images (N, C, H, W)."""
        x = np.empty(buf.shape[:2] + (self.H, self.W), buf.dtype)
        phases = self.phases(buf)
        for a, b, (rows, cols), (prows, pcols) in self._placement():
            x[:, :, rows, cols] = phases[:, :, a, b, prows, pcols]
        return x

    def taps(self, buf, writeable=False):
        """(i, j, view) for every kernel tap: view (C, N, oh, row) of a flat buffer is what tap (i, j) sees.

        The tap's row offset dil·i = s·di + a: it reads phase a, di rows down (columns likewise).
        One strided view holds every (phase, offset) pair and each tap takes its own, as building
        a view costs far more than indexing one and a kernel may have 25 taps (bench/README.md).
        """
        (N, C, _), (ns, cs, e) = buf.shape, buf.strides
        reach_h, reach_w = self.dh * (self.kh - 1) // self.sh + 1, self.dw * (self.kw - 1) // self.sw + 1
        view = as_strided(buf, shape=(C, self.sh, self.sw, reach_h, reach_w, N, self.oh, self.row),
                          strides=(cs, self.sw * self.phase * e, self.phase * e, self.Wq * e, e, ns, self.Wq * e, e),
                          writeable=writeable)
        for i in range(self.kh):
            di, a = divmod(self.dh * i, self.sh)
            for j in range(self.kw):
                dj, b = divmod(self.dw * j, self.sw)
                yield i, j, view[:, a, b, di, dj]

    def im2col(self, buf):
        """Every window as a column: (C, kH, kW, N·oh·row), in the thread's column buffer."""
        N, C, _ = buf.shape
        cols = columns.get((C, self.kh, self.kw, N, self.oh, self.row), buf.dtype)
        if self.sh == self.sw == 1:
            # one phase: the taps are evenly spaced, so all of them are one view, copied in one call
            (ns, cs, e), wq = buf.strides, self.Wq
            np.copyto(cols, as_strided(buf, shape=cols.shape, strides=(cs, self.dh * wq * e, self.dw * e, ns, wq * e, e)))
        else:
            for i, j, window in self.taps(buf):
                cols[:, i, j] = window
        return cols.reshape(C, self.kh, self.kw, -1)

    def col2im(self, cols, buf):
        """The adjoint of im2col: each tap adds its columns back into the slice of ``buf`` it read (kH·kW adds)."""
        N, C, _ = buf.shape
        cols = cols.reshape(C, self.kh, self.kw, N, self.oh, self.row)
        for i, j, window in self.taps(buf, writeable=True):
            window += cols[:, i, j]

    def extend(self, y):
        """y (N, C, oh, ow) -> (C, N·oh·row), channel-major, zero at the outputs ``unextend`` drops."""
        N, C = y.shape[:2]
        if self.row == self.ow:
            return np.ascontiguousarray(y.transpose(1, 0, 2, 3)).reshape(C, -1)
        z = np.empty((C, N, self.oh, self.row), y.dtype)
        z[..., : self.ow] = y.transpose(1, 0, 2, 3)
        z[..., self.ow :] = 0
        return z.reshape(C, -1)

    def unextend(self, z, out):
        """(C, N·oh·row) written into ``out`` (N, C, oh, ow)."""
        out[...] = z.reshape(z.shape[0], out.shape[0], self.oh, self.row)[..., : self.ow].transpose(1, 0, 2, 3)

    def batches(self, N, channels, dtype):
        """Slices of the batch whose columns take about ``CACHE_BYTES``.

        im2col, the GEMMs and col2im run one slice at a time: the columns are still in the CPU's
        cache when the next step reads them (faster than one pass over the whole batch:
        bench/README.md), and only one slice of columns, kH·kW times the size of its input, exists
        at a time.
        """
        per_image = channels * self.kh * self.kw * self.oh * self.row * np.dtype(dtype).itemsize
        step = max(1, CACHE_BYTES // per_image)
        return [slice(n, min(n + step, N)) for n in range(0, N, step)]


CACHE_BYTES = 4 << 20


class ColumnBuffer(threading.local):
    """One array per thread that holds the columns of every convolution: im2col's, and Wᵀ·dL/dO's for col2im.

    Fresh memory costs as much as the work done in it. glibc hands out an allocation at least as
    large as its mmap threshold as newly mapped pages and unmaps it on free, and it raises that
    threshold only to the largest block freed so far; so a program's largest recurring temporary
    is mapped afresh every time, and the first touch of each 4 KiB page is a page fault. The
    columns of a batch slice (up to ``CACHE_BYTES``) are those temporaries, and their faults were a
    large part of a CNN training step's time (the counts: bench/README.md). So they are written
    into this buffer, allocated once per thread and grown when a larger slice needs it. Each user
    is done with the columns before the next call fills them again (im2col's are read by one or two
    GEMMs, Wᵀ·dL/dO's by col2im); what a gate returns or saves is never here.
    """

    array = None

    def get(self, shape, dtype):
        """An uninitialised array of ``shape`` in the buffer (overwritten by the next ``get``)."""
        nbytes = math.prod(shape) * np.dtype(dtype).itemsize
        if self.array is None or self.array.nbytes < nbytes:
            self.array = np.empty(nbytes, np.uint8)
        return self.array[:nbytes].view(dtype).reshape(shape)


columns = ColumnBuffer()


def filter_columns(w, cols, groups):
    """W·cols, one GEMM per group: (out, positions)."""
    G, out = groups, w.shape[0]
    return np.matmul(w.reshape(G, out // G, -1), cols.reshape(G, -1, cols.shape[-1])).reshape(out, -1)


def convolve(buf, w, geo, groups, out, bias=None):
    """W ⋆ the padded images in ``buf``, into ``out`` (N, out, oh, ow): im2col and W·cols, slice by slice."""
    for part in geo.batches(buf.shape[0], buf.shape[1], buf.dtype):
        z = filter_columns(w, geo.im2col(buf[part]), groups)
        if bias is not None:
            z += bias[:, None]
        geo.unextend(z, out[part])
    return out


def flip(w, groups):
    """The filter that maps dL/dO back to dL/dX: flipped top-bottom and left-right, in ↔ out channels
    swapped within each group: (out, in/groups, kH, kW) -> (in, out/groups, kH, kW)."""
    out, per_group, kh, kw = w.shape
    flipped = w.reshape(groups, out // groups, per_group, kh, kw).transpose(0, 2, 1, 3, 4)[..., ::-1, ::-1]
    return np.ascontiguousarray(flipped).reshape(groups * per_group, out // groups, kh, kw)


def spread(w, z, groups):
    """Wᵀ·z, one GEMM per group: the columns (C, kH, kW, positions) that col2im adds back (in the column buffer)."""
    G = groups
    out, per_group, kh, kw = w.shape
    wt, z = w.reshape(G, out // G, -1).transpose(0, 2, 1), z.reshape(G, out // G, -1)
    cols = columns.get((G, per_group * kh * kw, z.shape[-1]), np.result_type(w, z))
    # one output channel per group (depthwise): an outer product, which numpy's matmul computes far slower
    # than a broadcast multiply (bench/README.md)
    (np.multiply if out == G else np.matmul)(wt, z, out=cols)
    return cols.reshape(G * per_group, kh, kw, -1)


def correlate(z, cols, groups, shape):
    """z·colsᵀ, one GEMM per group, summed over the batch and positions inside the product: dL/dW."""
    G = groups
    positions = z.shape[1]
    return np.matmul(z.reshape(G, -1, positions), cols.reshape(G, -1, positions).transpose(0, 2, 1)).reshape(shape)
