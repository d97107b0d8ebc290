"""CPU kernels of ``vision.interp`` and its adjoint ``vision.interp_adjoint``.

One kernel shape serves every interpolation mode and 1, 2 or 3 spatial axes:
the map is separable, given per axis as CSR taps ``(ptr, idx, w)`` (see
``_taps.py``), and 1-d/2-d inputs are viewed as 3-d with identity taps on the
missing leading axes.

Forward, per output row ``(plane, d, h)``: the depth and height taps combine
whole input rows into a buffer of the input width (contiguous, vectorised),
then the width taps gather the output row from that buffer. Every input row
is read from cache and every output element written once. Rows are
independent, so the loop runs in parallel over all of them.

Adjoint, per plane (planes run in parallel, so scatters never race): each
gradient row is scattered through the width taps into a buffer, which is then
added into the input-gradient rows the depth and height taps name.

The ``def`` entry points check shapes and every tap index before releasing
the GIL. They take float32/float64 only: the kernel table sends other dtypes
to the generic kernels (``kernels.py``).
"""

from cython.parallel cimport prange, threadid

from ember_cython cimport first_out_of_range, floating, index_t, num_threads_for, pad3, size_of

import numpy as np


cdef void _forward(const floating[:, :, :, ::1] x, floating[:, :, :, ::1] y, floating[:, ::1] bufs,
                   const index_t[::1] pd, const index_t[::1] id_, const floating[::1] wd,
                   const index_t[::1] ph, const index_t[::1] ih, const floating[::1] wh,
                   const index_t[::1] pw, const index_t[::1] iw, const floating[::1] ww,
                   int threads) noexcept:
    cdef Py_ssize_t n_planes = x.shape[0], wi = x.shape[3]
    cdef Py_ssize_t do_ = y.shape[1], ho_ = y.shape[2], wo_ = y.shape[3]
    cdef Py_ssize_t rows = n_planes * do_ * ho_
    cdef Py_ssize_t r, b, rem, od, oh, ow, td, th, tw, i
    cdef floating *buf
    cdef const floating *src
    cdef const floating *row
    cdef floating *dst
    cdef floating c, acc
    cdef bint first
    with nogil:
        for r in prange(rows, schedule="static", num_threads=threads):
            buf = &bufs[threadid(), 0]
            b = r // (do_ * ho_)
            rem = r - b * (do_ * ho_)
            od = rem // ho_
            oh = rem - od * ho_
            if (pd[od + 1] - pd[od] == 1 and ph[oh + 1] - ph[oh] == 1
                    and wd[pd[od]] == 1 and wh[ph[oh]] == 1):
                # a single row with weight one: read it in place
                row = &x[b, id_[pd[od]], ih[ph[oh]], 0]
            else:
                first = True
                for td in range(pd[od], pd[od + 1]):
                    for th in range(ph[oh], ph[oh + 1]):
                        c = wd[td] * wh[th]
                        src = &x[b, id_[td], ih[th], 0]
                        if first:
                            for i in range(wi):
                                buf[i] = c * src[i]
                            first = False
                        else:
                            for i in range(wi):
                                buf[i] = buf[i] + c * src[i]
                if first:
                    for i in range(wi):
                        buf[i] = 0
                row = buf
            dst = &y[b, od, oh, 0]
            for ow in range(wo_):
                acc = 0
                for tw in range(pw[ow], pw[ow + 1]):
                    acc = acc + ww[tw] * row[iw[tw]]
                dst[ow] = acc


cdef void _adjoint(const floating[:, :, :, ::1] g, floating[:, :, :, ::1] gx, floating[:, ::1] bufs,
                   const index_t[::1] pd, const index_t[::1] id_, const floating[::1] wd,
                   const index_t[::1] ph, const index_t[::1] ih, const floating[::1] wh,
                   const index_t[::1] pw, const index_t[::1] iw, const floating[::1] ww,
                   int threads) noexcept:
    cdef Py_ssize_t n_planes = gx.shape[0], wi = gx.shape[3]
    cdef Py_ssize_t do_ = g.shape[1], ho_ = g.shape[2], wo_ = g.shape[3]
    cdef Py_ssize_t b, od, oh, ow, td, th, tw, i
    cdef floating *buf
    cdef floating *acc
    cdef floating *dst
    cdef const floating *grow
    cdef floating c, gv
    cdef bint direct
    with nogil:
        for b in prange(n_planes, schedule="static", num_threads=threads):
            buf = &bufs[threadid(), 0]
            for od in range(do_):
                for oh in range(ho_):
                    grow = &g[b, od, oh, 0]
                    direct = (pd[od + 1] - pd[od] == 1 and ph[oh + 1] - ph[oh] == 1
                              and wd[pd[od]] == 1 and wh[ph[oh]] == 1)
                    if direct:
                        # one target row with weight one: scatter straight into it
                        acc = &gx[b, id_[pd[od]], ih[ph[oh]], 0]
                    else:
                        acc = buf
                        for i in range(wi):
                            acc[i] = 0
                    for ow in range(wo_):
                        gv = grow[ow]
                        for tw in range(pw[ow], pw[ow + 1]):
                            acc[iw[tw]] = acc[iw[tw]] + ww[tw] * gv
                    if not direct:
                        for td in range(pd[od], pd[od + 1]):
                            for th in range(ph[oh], ph[oh + 1]):
                                c = wd[td] * wh[th]
                                dst = &gx[b, id_[td], ih[th], 0]
                                for i in range(wi):
                                    dst[i] = dst[i] + c * buf[i]


def _checked_taps(taps, in_spatial, out_spatial, dtype):
    """The taps of 3 axes (identity ones prepended), validated, weights of ``dtype``."""
    if len(taps) != len(in_spatial) or len(in_spatial) != len(out_spatial) or not 1 <= len(taps) <= 3:
        raise ValueError("vision.interp: one table of taps per spatial axis (1 to 3 axes)")
    one_ptr, one_idx = np.array([0, 1], dtype=np.int64), np.zeros(1, dtype=np.int64)
    one_w = np.ones(1, dtype=dtype)
    full = [(one_ptr, one_idx, one_w)] * (3 - len(taps))
    for (ptr, idx, w), n_in, n_out in zip(taps, in_spatial, out_spatial):
        ptr = np.ascontiguousarray(ptr, dtype=np.int64)
        idx = np.ascontiguousarray(idx, dtype=np.int64)
        w = np.ascontiguousarray(w, dtype=dtype)
        if ptr.shape != (n_out + 1,) or ptr[0] != 0 or idx.shape != w.shape or ptr[n_out] != idx.shape[0]:
            raise ValueError("vision.interp: malformed taps table")
        if n_out and (ptr[1:] < ptr[:n_out]).any():
            raise ValueError("vision.interp: taps offsets must not decrease")
        if first_out_of_range(idx, n_in) >= 0:
            raise IndexError(f"vision.interp: tap index out of range for an axis of size {n_in}")
        full.append((ptr, idx, w))
    return full


def _buffers(threads, width, dtype):
    """One scratch row per thread (allocated here, so a failure is a MemoryError)."""
    return np.empty((threads, max(width, 1)), dtype=dtype)


def interp(x, taps, adjoint_taps, in_spatial, out_spatial):
    """Apply the separable map given by ``taps`` to the trailing axes of ``x``
    (``adjoint_taps`` serve :func:`interp_adjoint`)."""
    nd = len(in_spatial)
    if tuple(x.shape[x.ndim - nd:]) != tuple(in_spatial):
        raise ValueError(f"vision.interp: input ends in {tuple(x.shape[x.ndim - nd:])}, "
                         f"expected {tuple(in_spatial)}")
    (pd, id_, wd), (ph, ih, wh), (pw, iw, ww) = _checked_taps(taps, in_spatial, out_spatial, x.dtype)
    lead = tuple(x.shape[:x.ndim - nd])
    x4 = np.ascontiguousarray(x).reshape((size_of(lead),) + pad3(in_spatial, 1))
    y4 = np.empty((x4.shape[0],) + pad3(out_spatial, 1), dtype=x.dtype)
    threads = num_threads_for(y4.shape[0] * y4.shape[1] * y4.shape[2], x4.size + y4.size)
    bufs = _buffers(threads, x4.shape[3], x.dtype)
    if y4.size:
        if x.dtype == np.float32:
            _forward[float](x4, y4, bufs, pd, id_, wd, ph, ih, wh, pw, iw, ww, threads)
        else:
            _forward[double](x4, y4, bufs, pd, id_, wd, ph, ih, wh, pw, iw, ww, threads)
    return y4.reshape(lead + tuple(out_spatial))


def interp_adjoint(g, forward_taps, taps, in_spatial, out_spatial):
    """The transposed map of ``taps``: gradient of the output -> of the input."""
    nd = len(out_spatial)
    if tuple(g.shape[g.ndim - nd:]) != tuple(out_spatial):
        raise ValueError(f"vision.interp_adjoint: gradient ends in {tuple(g.shape[g.ndim - nd:])}, "
                         f"expected {tuple(out_spatial)}")
    (pd, id_, wd), (ph, ih, wh), (pw, iw, ww) = _checked_taps(taps, in_spatial, out_spatial, g.dtype)
    lead = tuple(g.shape[:g.ndim - nd])
    g4 = np.ascontiguousarray(g).reshape((size_of(lead),) + pad3(out_spatial, 1))
    gx4 = np.zeros((g4.shape[0],) + pad3(in_spatial, 1), dtype=g.dtype)
    threads = num_threads_for(g4.shape[0], g4.size + gx4.size)
    bufs = _buffers(threads, gx4.shape[3], g.dtype)
    if g4.size and gx4.size:
        if g.dtype == np.float32:
            _adjoint[float](g4, gx4, bufs, pd, id_, wd, ph, ih, wh, pw, iw, ww, threads)
        else:
            _adjoint[double](g4, gx4, bufs, pd, id_, wd, ph, ih, wh, pw, iw, ww, threads)
    return gx4.reshape(lead + tuple(in_spatial))
