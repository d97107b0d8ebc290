"""CPU kernels of adaptive and fractional pooling.

Every kernel sees an array of shape ``(*lead, *spatial)`` with one, two or
three spatial dimensions, views it as ``P = prod(lead)`` planes of shape
``(D, H, W)`` (missing leading spatial dimensions become 1) and splits the
planes over OpenMP threads.

``window_argmax_nd(x, starts, ends)``
    int64 flat per-plane index of the maximum of each window (torch's
    ``return_indices`` convention).  ``starts``/``ends`` hold one int64 array
    per spatial dimension, of shape ``(R, n_out)`` with ``R`` 1 (the same
    windows for every plane: adaptive pooling) or ``P`` (windows of their
    own per plane: fractional pooling).  Ties keep the first maximum in
    row-major order; a NaN wins, and the last NaN of a window wins over
    earlier ones (torch's ``val > max || isnan(val)`` scan).
``adaptive_avg_nd(x, in_spatial, out_spatial)`` and
``adaptive_avg_nd_adjoint(g, in_spatial, out_spatial)``
    the average over the adaptive windows (``start = floor(i * n_in / n_out)``,
    ``end = ceil((i + 1) * n_in / n_out)``) and its transpose.

Shapes and window bounds are checked in the ``def`` wrappers with the GIL
held, so a bad argument raises ValueError before any C loop runs.  Directives
are set once in setup.py.
"""
from cython.parallel cimport prange
from libc.math cimport INFINITY, isnan
from libc.stdlib cimport free, malloc

from ember_cython cimport floating, imax, index_t, num_threads_for, pad3, size_of

import numpy as np


# --------------------------------------------------------------------------
# nogil cores, one plane each; bounds arrays point at the plane's row.

cdef void _argmax_plane(const floating* x, Py_ssize_t H, Py_ssize_t W,
                        const index_t* sd, const index_t* ed, Py_ssize_t od,
                        const index_t* sh, const index_t* eh, Py_ssize_t oh,
                        const index_t* sw, const index_t* ew, Py_ssize_t ow,
                        index_t* out) noexcept nogil:
    cdef Py_ssize_t i, j, k, d, h, w, at, best
    cdef floating v, top
    for i in range(od):
        for j in range(oh):
            for k in range(ow):
                best = (sd[i] * H + sh[j]) * W + sw[k]
                top = -INFINITY
                for d in range(sd[i], ed[i]):
                    for h in range(sh[j], eh[j]):
                        at = (d * H + h) * W
                        for w in range(sw[k], ew[k]):
                            v = x[at + w]
                            if v > top or isnan(v):
                                top = v
                                best = at + w
                out[(i * oh + j) * ow + k] = best


cdef void _avg_plane(const floating* x, Py_ssize_t D, Py_ssize_t H, Py_ssize_t W,
                     const index_t* sd, const index_t* ed, Py_ssize_t od,
                     const index_t* sh, const index_t* eh, Py_ssize_t oh,
                     const index_t* sw, const index_t* ew, Py_ssize_t ow,
                     floating* t1, floating* t2, floating* out) noexcept nogil:
    # Separable: sum the D windows (whole H*W rows at a time), then the H
    # windows (whole W rows), both contiguous and vectorised, then the short
    # W windows. ``t1`` holds (od, H, W) and ``t2`` (od, oh, W) partial sums
    # (t1 is unused when D == od == 1: the plane itself is the D sum).
    cdef Py_ssize_t i, j, k, d, h, w, n
    cdef const floating* src
    cdef const floating* row
    cdef floating* dst
    cdef floating s
    if D == 1 and od == 1:
        t1 = <floating*>x
    else:
        for i in range(od):
            dst = t1 + i * H * W
            for n in range(H * W):
                dst[n] = 0
            for d in range(sd[i], ed[i]):
                src = x + d * H * W
                for n in range(H * W):
                    dst[n] += src[n]
    for i in range(od):
        for j in range(oh):
            dst = t2 + (i * oh + j) * W
            for w in range(W):
                dst[w] = 0
            for h in range(sh[j], eh[j]):
                src = t1 + (i * H + h) * W
                for w in range(W):
                    dst[w] += src[w]
    for i in range(od):
        for j in range(oh):
            row = t2 + (i * oh + j) * W
            for k in range(ow):
                s = 0
                for w in range(sw[k], ew[k]):
                    s = s + row[w]
                # divided size by size, as torch does
                out[(i * oh + j) * ow + k] = s / (ed[i] - sd[i]) / (eh[j] - sh[j]) / (ew[k] - sw[k])


cdef void _add_rows(floating* dst, const floating* src, Py_ssize_t n, bint first) noexcept nogil:
    """dst = src (first) or dst += src, over n elements."""
    cdef Py_ssize_t k
    if first:
        for k in range(n):
            dst[k] = src[k]
    else:
        for k in range(n):
            dst[k] += src[k]


cdef void _avg_adjoint_plane(const floating* g, Py_ssize_t D, Py_ssize_t H, Py_ssize_t W,
                             const index_t* sd, const index_t* ed, Py_ssize_t od,
                             const index_t* sh, const index_t* eh, Py_ssize_t oh,
                             const index_t* sw, const index_t* ew, Py_ssize_t ow,
                             floating* t1, floating* t2, floating* out) noexcept nogil:
    # The forward's steps transposed, in reverse order. Each row of ``t1`` and
    # ``out`` is written once by assignment from the first window covering it
    # and added to by the others (windows tile each axis), so ``out`` needs no
    # zeroing pass: it arrives uninitialised.
    cdef Py_ssize_t i, j, k, d, h, w
    cdef floating* dst
    cdef floating v
    cdef bint first
    for i in range(od):
        for j in range(oh):
            dst = t2 + (i * oh + j) * W
            for w in range(W):
                dst[w] = 0
            for k in range(ow):
                v = g[(i * oh + j) * ow + k] / (ed[i] - sd[i]) / (eh[j] - sh[j]) / (ew[k] - sw[k])
                for w in range(sw[k], ew[k]):
                    dst[w] += v
    if D == 1 and od == 1:
        t1 = out
    for i in range(od):
        for h in range(H):
            dst = t1 + (i * H + h) * W
            first = True
            for j in range(oh):
                if sh[j] <= h < eh[j]:
                    _add_rows(dst, t2 + (i * oh + j) * W, W, first)
                    first = False
            if first:  # a row no window covers (not for adaptive windows)
                for w in range(W):
                    dst[w] = 0
    if not (D == 1 and od == 1):
        for d in range(D):
            dst = out + d * H * W
            first = True
            for i in range(od):
                if sd[i] <= d < ed[i]:
                    _add_rows(dst, t1 + i * H * W, H * W, first)
                    first = False
            if first:
                for k in range(H * W):
                    dst[k] = 0


# --------------------------------------------------------------------------
# plane loops (fused over float/double)

cdef void _argmax_all(const floating[:, ::1] x, Py_ssize_t H, Py_ssize_t W,
                      const index_t[:, ::1] sd, const index_t[:, ::1] ed,
                      const index_t[:, ::1] sh, const index_t[:, ::1] eh,
                      const index_t[:, ::1] sw, const index_t[:, ::1] ew,
                      index_t[:, ::1] out) noexcept:
    cdef Py_ssize_t p, rd, rh, rw, P = x.shape[0]
    with nogil:
        for p in prange(P, schedule="static", num_threads=num_threads_for(P, P * x.shape[1])):
            rd = p if sd.shape[0] > 1 else 0
            rh = p if sh.shape[0] > 1 else 0
            rw = p if sw.shape[0] > 1 else 0
            _argmax_plane(&x[p, 0], H, W, &sd[rd, 0], &ed[rd, 0], sd.shape[1],
                          &sh[rh, 0], &eh[rh, 0], sh.shape[1],
                          &sw[rw, 0], &ew[rw, 0], sw.shape[1], &out[p, 0])


cdef int _avg_all(const floating[:, ::1] x, Py_ssize_t D, Py_ssize_t H, Py_ssize_t W,
                  const index_t[:, ::1] sd, const index_t[:, ::1] ed,
                  const index_t[:, ::1] sh, const index_t[:, ::1] eh,
                  const index_t[:, ::1] sw, const index_t[:, ::1] ew,
                  floating[:, ::1] out, bint adjoint) noexcept:
    """Average (or its adjoint) of every plane; non-zero when scratch memory ran out."""
    cdef Py_ssize_t p, P = x.shape[0]
    cdef Py_ssize_t od = sd.shape[1], oh = sh.shape[1], ow = sw.shape[1]
    cdef Py_ssize_t work = P * imax(x.shape[1], out.shape[1])
    cdef floating* t1
    cdef floating* t2
    cdef int failed = 0
    with nogil:
        for p in prange(P, schedule="static", num_threads=num_threads_for(P, work)):
            t1 = <floating*>malloc((od * H * W + od * oh * W + 1) * sizeof(floating))
            if t1 == NULL:
                failed += 1
                continue
            t2 = t1 + od * H * W
            if adjoint:
                _avg_adjoint_plane(&x[p, 0], D, H, W, &sd[0, 0], &ed[0, 0], od, &sh[0, 0], &eh[0, 0],
                                   oh, &sw[0, 0], &ew[0, 0], ow, t1, t2, &out[p, 0])
            else:
                _avg_plane(&x[p, 0], D, H, W, &sd[0, 0], &ed[0, 0], od, &sh[0, 0], &eh[0, 0], oh,
                           &sw[0, 0], &ew[0, 0], ow, t1, t2, &out[p, 0])
            free(t1)
    return failed


# --------------------------------------------------------------------------
# Python entry points: validation, layout, dtype dispatch

def _work_dtype(a):
    """float32/float64 stay; other floating types are computed in float32."""
    return a.dtype if a.dtype in (np.float32, np.float64) else np.dtype(np.float32)


def _bounds(n_in, n_out):
    """Adaptive window bounds along one axis, as (1, n_out) int64 arrays."""
    i = np.arange(n_out, dtype=np.int64)
    return ((i * n_in) // n_out)[None], (((i + 1) * n_in + n_out - 1) // n_out)[None]


def _padded(spatial, starts, ends):
    """Spatial shape and bounds padded to three dimensions."""
    k = 3 - len(spatial)
    one = np.zeros((1, 1), dtype=np.int64)
    dims = pad3(spatial, 1)
    st = (one,) * k + tuple(np.ascontiguousarray(s, dtype=np.int64) for s in starts)
    en = (one + 1,) * k + tuple(np.ascontiguousarray(e, dtype=np.int64) for e in ends)
    return dims, st, en


def _check_bounds(dims, starts, ends, n_planes):
    for n, s, e in zip(dims, starts, ends):
        if s.ndim != 2 or s.shape != e.shape or s.shape[0] not in (1, n_planes):
            raise ValueError(f"window bounds of shape {s.shape} and {e.shape} do not fit "
                             f"{n_planes} planes")
        if s.size and (s.min() < 0 or e.max() > n or (e <= s).any()):
            raise ValueError(f"window bounds fall outside [0, {n}) or are empty")


def window_argmax_nd(x, starts, ends):
    """int64 index of the maximum of each window, flat within each plane."""
    nsp = len(starts)
    if len(ends) != nsp or not 1 <= nsp <= 3 or x.ndim < nsp:
        raise ValueError(f"{nsp} spatial dimensions do not fit an array of shape {x.shape}")
    lead, spatial = x.shape[:x.ndim - nsp], x.shape[x.ndim - nsp:]
    out_spatial = tuple(int(s.shape[1]) for s in starts)
    P = size_of(lead)
    dims, st, en = _padded(spatial, starts, ends)
    _check_bounds(dims, st, en, P)
    out = np.empty((P, size_of(out_spatial)), dtype=np.int64)
    if out.size:
        a = np.ascontiguousarray(x.reshape(P, size_of(spatial)), dtype=_work_dtype(x))
        if a.dtype == np.float64:
            _argmax_all[double](a, dims[1], dims[2], st[0], en[0], st[1], en[1], st[2], en[2], out)
        else:
            _argmax_all[float](a, dims[1], dims[2], st[0], en[0], st[1], en[1], st[2], en[2], out)
    return out.reshape(tuple(lead) + out_spatial)


def _adaptive_setup(a, n_spatial_from, n_spatial_to, what):
    if len(n_spatial_from) != len(n_spatial_to) or not 1 <= len(n_spatial_to) <= 3:
        raise ValueError(f"{what}: spatial shapes {n_spatial_from} and {n_spatial_to} differ in length")
    nsp = len(n_spatial_from)
    if a.ndim < nsp or tuple(a.shape[a.ndim - nsp:]) != tuple(n_spatial_from):
        raise ValueError(f"{what}: array of shape {a.shape} does not end in {tuple(n_spatial_from)}")
    return a.shape[:a.ndim - nsp], nsp


def _avg(a, in_spatial, out_spatial, bint adjoint):
    what = "adaptive_avg_nd_adjoint" if adjoint else "adaptive_avg_nd"
    src, dst = (out_spatial, in_spatial) if adjoint else (in_spatial, out_spatial)
    lead, nsp = _adaptive_setup(a, src, dst, what)
    if any(int(n) <= 0 for n in in_spatial) or any(int(o) < 0 for o in out_spatial):
        raise ValueError(f"{what}: sizes {in_spatial} -> {out_spatial} are not valid")
    bounds = [_bounds(int(n), int(o)) for n, o in zip(in_spatial, out_spatial)]
    dims, st, en = _padded(in_spatial, [b[0] for b in bounds], [b[1] for b in bounds])
    P = size_of(lead)
    wd = _work_dtype(a)
    out_shape = tuple(lead) + tuple(int(n) for n in dst)
    if a.size == 0:  # nothing to spread or average: zeros (an empty output stays empty)
        return np.zeros(out_shape, dtype=wd)
    out = np.empty((P, size_of(dst)), dtype=wd)
    if out.size:
        a = np.ascontiguousarray(a.reshape(P, size_of(src)), dtype=wd)
        if wd == np.float64:
            failed = _avg_all[double](a, dims[0], dims[1], dims[2], st[0], en[0], st[1], en[1],
                                      st[2], en[2], out, adjoint)
        else:
            failed = _avg_all[float](a, dims[0], dims[1], dims[2], st[0], en[0], st[1], en[1],
                                     st[2], en[2], out, adjoint)
        if failed:
            raise MemoryError(f"{what}: out of memory for the scratch rows")
    return out.reshape(out_shape)


def adaptive_avg_nd(x, in_spatial, out_spatial):
    """Average of every adaptive window: (*lead, *in_spatial) -> (*lead, *out_spatial)."""
    return _avg(x, in_spatial, out_spatial, False).astype(x.dtype, copy=False)


def adaptive_avg_nd_adjoint(g, in_spatial, out_spatial):
    """Transpose of :func:`adaptive_avg_nd`: (*lead, *out_spatial) -> (*lead, *in_spatial)."""
    return _avg(g, in_spatial, out_spatial, True).astype(g.dtype, copy=False)
