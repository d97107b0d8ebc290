"""Gather and scatter-add through per-dimension index maps: the cpu kernels of
reflect, replicate and circular padding.

Every such padding is separable: output position ``(d, h, w)`` of a plane reads
input ``(idx_d[d], idx_h[h], idx_w[w])``. One kernel serves 1-, 2- and 3-d
padding, the caller viewing the input as ``(planes, D, H, W)`` with singleton
dimensions where fewer are padded. The adjoint (the gradient) adds each output
element back onto the input element it was read from; several output
positions share an input element, and planes never share one, so the planes are
split between threads.

Each map carries its identity run ``[a, b)`` (output positions ``a..b-1`` read
input ``i0..i0+b-a-1``), copied by a contiguous loop the compiler vectorises;
only the border positions go through the map.
"""

from cython.parallel cimport prange
from libc.string cimport memcpy, memset

from ember_cython cimport first_out_of_range, floating, index_t, num_threads_for

import numpy as np


cdef void _forward_plane(const floating* src, floating* dst,
                         const index_t* id_, const index_t* ih, const index_t* iw,
                         Py_ssize_t oD, Py_ssize_t oH, Py_ssize_t oW,
                         Py_ssize_t H, Py_ssize_t W,
                         Py_ssize_t a, Py_ssize_t b, Py_ssize_t i0) noexcept nogil:
    cdef Py_ssize_t od, oh, ow
    cdef const floating* row
    cdef floating* out
    for od in range(oD):
        for oh in range(oH):
            row = src + (id_[od] * H + ih[oh]) * W
            out = dst + (od * oH + oh) * oW
            for ow in range(a):
                out[ow] = row[iw[ow]]
            for ow in range(a, b):
                out[ow] = row[ow - a + i0]
            for ow in range(b, oW):
                out[ow] = row[iw[ow]]


cdef void _adjoint_plane(const floating* src, floating* dst,
                         const index_t* id_, const index_t* ih, const index_t* iw,
                         Py_ssize_t oD, Py_ssize_t oH, Py_ssize_t oW,
                         Py_ssize_t H, Py_ssize_t W,
                         Py_ssize_t a, Py_ssize_t b, Py_ssize_t i0) noexcept nogil:
    cdef Py_ssize_t od, oh, ow
    cdef const floating* row
    cdef floating* acc
    for od in range(oD):
        for oh in range(oH):
            row = src + (od * oH + oh) * oW
            acc = dst + (id_[od] * H + ih[oh]) * W
            for ow in range(a):
                acc[iw[ow]] += row[ow]
            for ow in range(a, b):
                acc[ow - a + i0] += row[ow]
            for ow in range(b, oW):
                acc[iw[ow]] += row[ow]


cdef void _check_map(const index_t[::1] idx, Py_ssize_t n, str what) except *:
    cdef Py_ssize_t j = first_out_of_range(idx, n)
    if j >= 0:
        raise IndexError(f"padding index map for {what} holds {idx[j]}, outside [0, {n})")


cdef void _check_run(const index_t[::1] iw, Py_ssize_t W, Py_ssize_t a, Py_ssize_t b,
                     Py_ssize_t i0) except *:
    cdef Py_ssize_t j
    if a < 0 or b < a or b > iw.shape[0] or i0 < 0 or i0 + (b - a) > W:
        raise IndexError(f"padding identity run [{a}, {b}) from {i0} does not fit "
                         f"{iw.shape[0]} outputs and {W} inputs")
    for j in range(a, b):
        if iw[j] != j - a + i0:
            raise IndexError("padding identity run disagrees with the index map")


def _check_maps(const index_t[::1] md, const index_t[::1] mh, const index_t[::1] mw,
                Py_ssize_t D, Py_ssize_t H, Py_ssize_t W, Py_ssize_t a, Py_ssize_t b, Py_ssize_t i0):
    """Every index of the three maps inside its axis, and the width map's identity run."""
    _check_map(md, D, "depth")
    _check_map(mh, H, "height")
    _check_map(mw, W, "width")
    _check_run(mw, W, a, b, i0)


def _as_map(idx):
    return np.ascontiguousarray(idx, dtype=np.int64)


def gather3d(const floating[:, :, :, ::1] x, idx_d, idx_h, idx_w, run):
    """``out[p, d, h, w] = x[p, idx_d[d], idx_h[h], idx_w[w]]``.

    ``run = (a, b, i0)``: ``idx_w[a:b]`` is ``i0, i0 + 1, ...`` (checked).
    """
    cdef const index_t[::1] md = _as_map(idx_d)
    cdef const index_t[::1] mh = _as_map(idx_h)
    cdef const index_t[::1] mw = _as_map(idx_w)
    cdef Py_ssize_t P = x.shape[0], D = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t oD = md.shape[0], oH = mh.shape[0], oW = mw.shape[0]
    cdef Py_ssize_t a = run[0], b = run[1], i0 = run[2]
    cdef Py_ssize_t p
    _check_maps(md, mh, mw, D, H, W, a, b, i0)
    dtype = np.float32 if floating is float else np.float64
    out_arr = np.empty((P, oD, oH, oW), dtype=dtype)
    cdef floating[:, :, :, ::1] out = out_arr
    if P == 0 or oD == 0 or oH == 0 or oW == 0:
        return out_arr
    cdef const floating* xs = &x[0, 0, 0, 0]
    cdef floating* os = &out[0, 0, 0, 0]
    cdef Py_ssize_t in_plane = D * H * W, out_plane = oD * oH * oW
    cdef int nt = num_threads_for(P, P * out_plane)
    with nogil:
        for p in prange(P, schedule="static", num_threads=nt):
            _forward_plane(xs + p * in_plane, os + p * out_plane, &md[0], &mh[0], &mw[0],
                           oD, oH, oW, H, W, a, b, i0)
    return out_arr


def scatter_add3d(const floating[:, :, :, ::1] g, idx_d, idx_h, idx_w, run, Py_ssize_t D,
                  Py_ssize_t H, Py_ssize_t W):
    """The adjoint of :func:`gather3d`: ``out[p, idx_d[d], idx_h[h], idx_w[w]] += g[p, d, h, w]``
    into a zeroed ``(P, D, H, W)`` array."""
    cdef const index_t[::1] md = _as_map(idx_d)
    cdef const index_t[::1] mh = _as_map(idx_h)
    cdef const index_t[::1] mw = _as_map(idx_w)
    cdef Py_ssize_t P = g.shape[0], oD = g.shape[1], oH = g.shape[2], oW = g.shape[3]
    cdef Py_ssize_t a = run[0], b = run[1], i0 = run[2]
    cdef Py_ssize_t p
    if md.shape[0] != oD or mh.shape[0] != oH or mw.shape[0] != oW:
        raise ValueError(f"index maps of lengths ({md.shape[0]}, {mh.shape[0]}, {mw.shape[0]}) "
                         f"do not match the gradient's shape ({oD}, {oH}, {oW})")
    if D < 0 or H < 0 or W < 0:
        raise ValueError("negative input size")
    _check_maps(md, mh, mw, D, H, W, a, b, i0)
    dtype = np.float32 if floating is float else np.float64
    out_arr = np.zeros((P, D, H, W), dtype=dtype)
    cdef floating[:, :, :, ::1] out = out_arr
    if P == 0 or oD == 0 or oH == 0 or oW == 0:
        return out_arr
    cdef const floating* gs = &g[0, 0, 0, 0]
    cdef floating* os = &out[0, 0, 0, 0]
    cdef Py_ssize_t in_plane = D * H * W, out_plane = oD * oH * oW
    cdef int nt = num_threads_for(P, P * out_plane)
    with nogil:
        for p in prange(P, schedule="static", num_threads=nt):
            _adjoint_plane(gs + p * out_plane, os + p * in_plane, &md[0], &mh[0], &mw[0],
                           oD, oH, oW, H, W, a, b, i0)
    return out_arr


cdef void _constant_plane(const char* src, char* dst, Py_ssize_t isz,
                          Py_ssize_t oD, Py_ssize_t oH, Py_ssize_t oW,
                          Py_ssize_t H, Py_ssize_t W,
                          Py_ssize_t ad, Py_ssize_t md, Py_ssize_t sd,
                          Py_ssize_t ah, Py_ssize_t mh, Py_ssize_t sh,
                          Py_ssize_t aw, Py_ssize_t mw, Py_ssize_t sw) noexcept nogil:
    cdef Py_ssize_t od, oh
    cdef Py_ssize_t row = oW * isz
    cdef char* out
    for od in range(oD):
        if od < ad or od >= ad + md:
            memset(dst + od * oH * row, 0, oH * row)
            continue
        for oh in range(oH):
            out = dst + (od * oH + oh) * row
            if oh < ah or oh >= ah + mh:
                memset(out, 0, row)
                continue
            if aw > 0:
                memset(out, 0, aw * isz)
            memcpy(out + aw * isz,
                   src + (((od - ad + sd) * H + (oh - ah + sh)) * W + sw) * isz, mw * isz)
            if aw + mw < oW:
                memset(out + (aw + mw) * isz, 0, (oW - aw - mw) * isz)


def constant3d(x, spec3):
    """Zero padding (negative pads crop) of the last three dims of ``x`` viewed as
    ``(planes, D, H, W)``, for any dtype: rows are copied as bytes.

    ``spec3``: three ``(n, lo, hi)``; checked against ``x`` here.
    """
    if x.ndim != 4 or not x.flags.c_contiguous:
        raise ValueError("constant3d takes a C-contiguous 4-d array")
    cdef Py_ssize_t P = x.shape[0], D = x.shape[1], H = x.shape[2], W = x.shape[3]
    cdef Py_ssize_t isz = x.itemsize
    cdef Py_ssize_t[3] a, m, s, o, n
    cdef Py_ssize_t i, p
    for i in range(3):
        n[i], lo, hi = spec3[i]
        if n[i] != x.shape[1 + i]:
            raise ValueError(f"pad spec {tuple(spec3)} does not match shape {x.shape}")
        o[i] = n[i] + lo + hi
        s[i] = max(-lo, 0)
        m[i] = n[i] - s[i] - max(-hi, 0)
        a[i] = max(lo, 0)
        if o[i] < 0 or m[i] < 0:
            raise ValueError(f"pad spec {tuple(spec3)} crops below zero")
    out_arr = np.empty((P, o[0], o[1], o[2]), dtype=x.dtype)
    if out_arr.size == 0:
        return out_arr
    if m[0] == 0 or m[1] == 0 or m[2] == 0:  # nothing copied
        out_arr.view(np.uint8)[...] = 0
        return out_arr
    cdef const unsigned char[::1] xb = x.reshape(-1).view(np.uint8)
    cdef unsigned char[::1] ob = out_arr.reshape(-1).view(np.uint8)
    cdef const char* xs = <const char*> &xb[0]
    cdef char* os = <char*> &ob[0]
    cdef Py_ssize_t in_plane = D * H * W * isz, out_plane = o[0] * o[1] * o[2] * isz
    cdef int nt = num_threads_for(P, P * out_plane // 4)
    with nogil:
        for p in prange(P, schedule="static", num_threads=nt):
            _constant_plane(xs + p * in_plane, os + p * out_plane, isz, o[0], o[1], o[2], H, W,
                            a[0], m[0], s[0], a[1], m[1], s[1], a[2], m[2], s[2])
    return out_arr
