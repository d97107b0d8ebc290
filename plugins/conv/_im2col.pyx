"""im2col / col2im on the CPU, one N-d kernel pair (1-d and 2-d are 3-d with
singleton leading spatial dims), parallel over the (batch, channel) planes.

Both take the same geometry ``(in_sp, out_sp, k, d, p, s)``: tuples of one
length (1, 2 or 3) giving the image size, the number of block positions per
dim, the kernel size, the dilation, the padding before the first element and
the stride. Taps that land outside the image read zeros (im2col) or are
dropped (col2im), so the padding after the last element is implicit in
``out_sp`` (asymmetric 'same' padding needs nothing more).

Layouts: image ``(N, C, *in_sp)``, columns ``(N, C*prod(k), prod(out_sp))``:
row ``c*K + kidx`` holds tap ``kidx`` of channel ``c`` for every block.
"""

from cython.parallel cimport prange

from ember_cython cimport floating, imax, imin, num_threads_for, pad3, size_of

import numpy as np


cdef struct Geom:
    Py_ssize_t D, H, W          # image
    Py_ssize_t OD, OH, OW       # block positions
    Py_ssize_t KD, KH, KW       # kernel
    Py_ssize_t dD, dH, dW       # dilation
    Py_ssize_t pD, pH, pW       # padding before
    Py_ssize_t sD, sH, sW       # stride


cdef inline Py_ssize_t _ceil_div(Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    # b > 0
    if a >= 0:
        return (a + b - 1) // b
    return -((-a) // b)


cdef inline void _w_range(Py_ssize_t iw0, Py_ssize_t sW, Py_ssize_t W, Py_ssize_t OW,
                          Py_ssize_t* lo, Py_ssize_t* hi) noexcept nogil:
    """Block columns ``ow`` in [lo, hi) read inside the row: 0 <= iw0 + ow*sW < W."""
    cdef Py_ssize_t a = imax(_ceil_div(-iw0, sW), 0)
    lo[0] = a
    hi[0] = imax(imin(_ceil_div(W - iw0, sW), OW), a)


cdef void _im2col_plane(const floating* src, floating* dst, Geom g) noexcept nogil:
    cdef Py_ssize_t L = g.OD * g.OH * g.OW
    cdef Py_ssize_t kd, kh, kw, od, oh, ow, i_d, ih, iw0, lo, hi
    cdef floating* out
    cdef const floating* row
    for kd in range(g.KD):
        for kh in range(g.KH):
            for kw in range(g.KW):
                out = dst + ((kd * g.KH + kh) * g.KW + kw) * L
                iw0 = kw * g.dW - g.pW
                _w_range(iw0, g.sW, g.W, g.OW, &lo, &hi)
                for od in range(g.OD):
                    i_d = od * g.sD - g.pD + kd * g.dD
                    for oh in range(g.OH):
                        ih = oh * g.sH - g.pH + kh * g.dH
                        if i_d < 0 or i_d >= g.D or ih < 0 or ih >= g.H:
                            for ow in range(g.OW):
                                out[ow] = 0
                        else:
                            row = src + (i_d * g.H + ih) * g.W
                            for ow in range(lo):
                                out[ow] = 0
                            if g.sW == 1:
                                for ow in range(lo, hi):
                                    out[ow] = row[iw0 + ow]
                            else:
                                for ow in range(lo, hi):
                                    out[ow] = row[iw0 + ow * g.sW]
                            for ow in range(hi, g.OW):
                                out[ow] = 0
                        out += g.OW


cdef void _col2im_plane(const floating* src, floating* dst, Geom g) noexcept nogil:
    cdef Py_ssize_t L = g.OD * g.OH * g.OW
    cdef Py_ssize_t n = g.D * g.H * g.W
    cdef Py_ssize_t kd, kh, kw, od, oh, ow, i_d, ih, iw0, lo, hi, j
    cdef const floating* col
    cdef floating* row
    for j in range(n):
        dst[j] = 0
    for kd in range(g.KD):
        for kh in range(g.KH):
            for kw in range(g.KW):
                col = src + ((kd * g.KH + kh) * g.KW + kw) * L
                iw0 = kw * g.dW - g.pW
                _w_range(iw0, g.sW, g.W, g.OW, &lo, &hi)
                for od in range(g.OD):
                    i_d = od * g.sD - g.pD + kd * g.dD
                    for oh in range(g.OH):
                        ih = oh * g.sH - g.pH + kh * g.dH
                        if i_d >= 0 and i_d < g.D and ih >= 0 and ih < g.H:
                            row = dst + (i_d * g.H + ih) * g.W
                            if g.sW == 1:
                                for ow in range(lo, hi):
                                    row[iw0 + ow] += col[ow]
                            else:
                                for ow in range(lo, hi):
                                    row[iw0 + ow * g.sW] += col[ow]
                        col += g.OW


# Convolutions call these kernels between BLAS products, whose threads keep
# spinning on the cores for a while after each product; a team started then waits
# for them (conv2d forward on (32, 16, 32, 32) ran 20% slower with its chunks of
# 1M column elements on two threads).  So the thread policy counts 64 column
# elements as one unit of work: one thread below 2M elements, from where the copy
# itself runs faster on two threads.
cdef enum:
    _COLUMN_ELEMENTS_PER_WORK = 64


cdef void _im2col_all(const floating[:, ::1] src, floating[:, ::1] dst, Geom g) noexcept:
    cdef Py_ssize_t p, n = src.shape[0]
    cdef int threads = num_threads_for(n, n * dst.shape[1] // _COLUMN_ELEMENTS_PER_WORK)
    with nogil:
        for p in prange(n, schedule="static", num_threads=threads):
            _im2col_plane(&src[p, 0], &dst[p, 0], g)


cdef void _col2im_all(const floating[:, ::1] src, floating[:, ::1] dst, Geom g) noexcept:
    cdef Py_ssize_t p, n = src.shape[0]
    cdef int threads = num_threads_for(n, n * src.shape[1] // _COLUMN_ELEMENTS_PER_WORK)
    with nogil:
        for p in prange(n, schedule="static", num_threads=threads):
            _col2im_plane(&src[p, 0], &dst[p, 0], g)


def _geometry(in_sp, out_sp, k, d, p, s):
    """Validate the geometry and pad it to 3-d with leading singleton dims."""
    nd = len(in_sp)
    if not 1 <= nd <= 3 or not all(len(t) == nd for t in (out_sp, k, d, p, s)):
        raise ValueError("im2col: geometry tuples must all have 1, 2 or 3 entries")
    ins, outs, ks, ds = pad3(in_sp, 1), pad3(out_sp, 1), pad3(k, 1), pad3(d, 1)
    ps, ss = pad3(p, 0), pad3(s, 1)
    if min(ins) < 0 or min(outs) < 0 or min(ks) < 1 or min(ds) < 1 or min(ss) < 1 or min(ps) < 0:
        raise ValueError(f"im2col: invalid geometry {in_sp}, {out_sp}, {k}, {d}, {p}, {s}")
    cdef Geom g
    g.D, g.H, g.W = ins
    g.OD, g.OH, g.OW = outs
    g.KD, g.KH, g.KW = ks
    g.dD, g.dH, g.dW = ds
    g.pD, g.pH, g.pW = ps
    g.sD, g.sH, g.sW = ss
    return g


def _work_dtype(dtype):
    """float16 goes through float32; integers through float64 (exact below 2**53)."""
    return np.float32 if dtype == np.float16 else np.float64


def im2col(x, in_sp, out_sp, k, d, p, s, out=None):
    """``(N, C, *in_sp)`` image -> ``(N, C*prod(k), prod(out_sp))`` columns, written
    into ``out`` (C-contiguous, that many elements, the image's float dtype) when given."""
    cdef Geom g = _geometry(in_sp, out_sp, k, d, p, s)
    nd = len(in_sp)
    if x.ndim != nd + 2 or tuple(x.shape[2:]) != tuple(int(v) for v in in_sp):
        raise ValueError(f"im2col: image of shape {x.shape} does not match spatial size {in_sp}")
    N, C = x.shape[0], x.shape[1]
    K, L = size_of(k), size_of(out_sp)
    dtype = x.dtype
    work = x if dtype == np.float32 or dtype == np.float64 else x.astype(_work_dtype(dtype))
    src = np.ascontiguousarray(work).reshape(N * C, size_of(in_sp))
    if out is None:
        out = np.empty((N * C, K * L), dtype=work.dtype)
    elif (not isinstance(out, np.ndarray) or out.dtype != work.dtype or out.size != N * C * K * L
          or not out.flags.c_contiguous):
        raise ValueError(f"im2col: out must be a C-contiguous {work.dtype} array of "
                         f"{N * C * K * L} elements")
    else:
        out = out.reshape(N * C, K * L)
    if N * C and K * L:
        if work.dtype == np.float32:
            _im2col_all[float](src, out, g)
        else:
            _im2col_all[double](src, out, g)
    return out.reshape(N, C * K, L).astype(dtype, copy=False)


def col2im(cols, in_sp, out_sp, k, d, p, s):
    """``(N, C*prod(k), prod(out_sp))`` columns -> ``(N, C, *in_sp)`` image, summing
    overlapping taps (the adjoint of :func:`im2col`)."""
    cdef Geom g = _geometry(in_sp, out_sp, k, d, p, s)
    K, L = size_of(k), size_of(out_sp)
    if cols.ndim != 3 or cols.shape[2] != L or cols.shape[1] % K:
        raise ValueError(f"col2im: columns of shape {cols.shape} do not match kernel {k} "
                         f"and {L} blocks")
    N, C = cols.shape[0], cols.shape[1] // K
    dtype = cols.dtype
    work = cols if dtype == np.float32 or dtype == np.float64 else cols.astype(_work_dtype(dtype))
    src = np.ascontiguousarray(work).reshape(N * C, K * L)
    out = np.empty((N * C, size_of(in_sp)), dtype=work.dtype)
    if N * C:
        if K * L == 0:
            out.fill(0)
        elif work.dtype == np.float32:
            _col2im_all[float](src, out, g)
        else:
            _col2im_all[double](src, out, g)
    return out.reshape((N, C) + tuple(int(v) for v in in_sp)).astype(dtype, copy=False)
