"""Depthwise convolution (groups = channels, one filter per channel) by direct taps, without im2col.

    O[n, c, r, q] = b[c] + Σ_{i, j} W[c, 0, i, j] · Xp[n, c, s·r + dil·i, s·q + dil·j]

is computed as written: for each kernel tap (i, j), W[:, 0, i, j] times what the tap reads, added
over the kH·kW taps. Backward is the same loop read the other way:

    dL/dW[c, 0, i, j] = Σ_{n, r, q} dL/dO[n, c, r, q] · Xp[n, c, s·r + dil·i, s·q + dil·j]
    dL/dX             = each tap adds W[c, 0, i, j] · dL/dO back where it read
                        (with stride 1: the same direct convolution of the padded dL/dO with the flipped filter)

With one input channel per group, im2col's GEMM would be a (1 × kH·kW)·(kH·kW × positions) product
per channel: a copy kH·kW times the input's size for a product BLAS cannot speed up (bench/README.md
measures both). Here nothing is copied but the output; the work goes in tiles of channels and
images small enough to stay in the CPU's cache over all the taps, the tiles spread over the
pool's threads (``parallel.tiles``). The reads are the views of ``Geometry.taps`` (``ops/im2col.py``).
"""
from __future__ import annotations

import numpy as np

from . import parallel


def applies(x_shape, w_shape, groups):
    """Whether a conv2d of these shapes is depthwise with one filter per channel (this module's case)."""
    return groups > 1 and groups == x_shape[1] == w_shape[0] and w_shape[1] == 1


def convolve(buf, w, geo, out, bias=None):
    """The depthwise convolution of the padded images in ``buf`` (N, C, S) with ``w`` (C, 1, kH, kW), into ``out``."""
    N, C, _ = buf.shape
    taps = [view for _, _, view in geo.taps(buf)]
    wk = w.reshape(C, -1).astype(out.dtype, copy=False)
    ow = geo.ow

    def block(c, n):
        z = np.multiply(taps[0][c, n], wk[c, 0, None, None, None], dtype=out.dtype)
        scratch = np.empty_like(z)
        for t in range(1, len(taps)):
            z += np.multiply(taps[t][c, n], wk[c, t, None, None, None], out=scratch)
        if bias is not None:
            z += bias[c, None, None, None]
        out[n, c] = z[..., :ow].transpose(1, 0, 2, 3)

    parallel.tiles(block, (C, N), geo.oh * geo.row * out.dtype.itemsize, 2 * buf.nbytes + 2 * out.nbytes)
    return out


def weight_grad(buf, z, geo, shape):
    """dL/dW (C, 1, kH, kW): Σ over the batch and positions of dL/dO (extended, (C, N·oh·row)) times each tap's reads."""
    N, C, _ = buf.shape
    taps = [view for _, _, view in geo.taps(buf)]
    z = z.reshape(C, N, geo.oh, geo.row)
    dw = np.zeros((C, len(taps)), np.result_type(buf, z))

    def block(c, n):
        for t, view in enumerate(taps):
            dw[c, t] += np.einsum("cnrq,cnrq->c", z[c, n], view[c, n])

    # tiles of one channel, split by image, would add into the same row of dw: split by channel only
    parallel.tiles(block, (C, N), geo.oh * geo.row * z.dtype.itemsize, 2 * buf.nbytes, split_second=False)
    return dw.reshape(shape)


def scatter(z, w, geo, dbuf):
    """dL/dX for any stride: each tap adds W[c, 0, i, j] · dL/dO (extended, (C, N·oh·row)) where it read, into ``dbuf``."""
    N, C, _ = dbuf.shape
    taps = [view for _, _, view in geo.taps(dbuf, writeable=True)]
    z = z.reshape(C, N, geo.oh, geo.row)
    wk = w.reshape(C, -1)

    def block(c, n):
        g = z[c, n]
        scratch = np.empty_like(g)
        for t, view in enumerate(taps):
            view[c, n] += np.multiply(g, wk[c, t, None, None, None], out=scratch)

    parallel.tiles(block, (C, N), geo.oh * geo.row * z.dtype.itemsize, 4 * z.nbytes)
