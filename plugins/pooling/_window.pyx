"""CPU kernels of windowed pooling (max, average) and of the per-plane gather/scatter.

Every kernel sees its array as ``P`` independent planes of shape ``(D, H, W)``:
``P`` is the product of the leading (batch, channel) dimensions, and 1-d or 2-d
pooling pads the spatial shape with leading ones, so one 3-d loop nest serves
all three ranks. OpenMP splits the planes over threads; within a plane the work
is serial, which keeps the scatters free of races.

Index convention (PyTorch's ``return_indices``): the flat offset
``(d * H + h) * W + w`` of an element inside its input plane.

Window geometry per spatial axis, as PyTorch's CPU kernels: output ``o`` starts
at ``o * stride - padding``; a max window takes every ``dilation``-th element
inside the input; an average window is clipped to the padded input for the
``count_include_pad`` divisor and to the input for the sum.

The ``def`` wrappers check shapes and make contiguous copies before the cores
run without the GIL. The indices of the gather/scatter cores are checked in
their one pass over them: an index outside its plane is flagged and never
followed, and the wrapper raises a ``RuntimeError`` (nothing outside a plane is
ever touched, and the outputs are fresh arrays).
"""
from cython.parallel cimport prange
from libc.math cimport INFINITY

from ember_cython cimport floating, imax, imin, index_t, num_threads_for, pad3, size_of

import numpy as np


cdef struct Geo:
    Py_ssize_t n[3]    # input plane shape
    Py_ssize_t o[3]    # output plane shape
    Py_ssize_t k[3]    # kernel
    Py_ssize_t s[3]    # stride
    Py_ssize_t p[3]    # padding
    Py_ssize_t d[3]    # dilation (max pooling only)


cdef Geo _geo(in_spatial, out_spatial, kernel, stride, padding, dilation) except *:
    cdef Geo g
    cdef int a
    n, o = pad3(in_spatial, 1), pad3(out_spatial, 1)
    k, s = pad3(kernel, 1), pad3(stride, 1)
    p, d = pad3(padding, 0), pad3(dilation, 1)
    for a in range(3):
        if k[a] < 1 or s[a] < 1 or d[a] < 1 or p[a] < 0 or n[a] < 0 or o[a] < 0:
            raise ValueError("pooling kernel: invalid window geometry")
        g.n[a], g.o[a], g.k[a], g.s[a], g.p[a], g.d[a] = n[a], o[a], k[a], s[a], p[a], d[a]
    return g


def _planes(array, spatial):
    """``array`` as a C-contiguous ``(P, D, H, W)`` array of float32 or float64."""
    nd = len(spatial)
    if tuple(array.shape[array.ndim - nd:]) != tuple(spatial):
        raise ValueError(f"pooling kernel: array of shape {array.shape} does not end in {spatial}")
    lead = tuple(array.shape[:array.ndim - nd])
    if array.dtype != np.float32 and array.dtype != np.float64:
        array = array.astype(np.float32)
    return np.ascontiguousarray(array).reshape((size_of(lead),) + pad3(spatial, 1)), lead


def _result(out, lead, spatial, dtype):
    out = out.reshape(lead + tuple(int(v) for v in spatial))
    return out if out.dtype == dtype else out.astype(dtype)


# ---------------------------------------------------------------- max pooling

cdef inline void _take(floating v, Py_ssize_t at, floating* best, Py_ssize_t* best_at) noexcept nogil:
    # PyTorch's rule: a larger value or a NaN takes over, so NaN propagates. Selects,
    # not a branch: on random data a branch mispredicts half the time (several times
    # slower).
    cdef bint take = (v > best[0]) | (v != v)
    best[0] = v if take else best[0]
    best_at[0] = at if take else best_at[0]


cdef void _max_plane(const floating* x, floating* y, index_t* ind, const Geo* g) noexcept nogil:
    cdef Py_ssize_t od, oh, ow, d0, d1, h0, h1, w0, w1, i, j, l, at, best_at
    cdef Py_ssize_t n1 = g.n[1], n2 = g.n[2], dd = g.d[0], dh = g.d[1], dw = g.d[2]
    cdef floating best
    cdef Py_ssize_t q = 0
    for od in range(g.o[0]):
        d0 = od * g.s[0] - g.p[0]
        d1 = imin(d0 + (g.k[0] - 1) * dd + 1, g.n[0])
        while d0 < 0:
            d0 += dd
        for oh in range(g.o[1]):
            h0 = oh * g.s[1] - g.p[1]
            h1 = imin(h0 + (g.k[1] - 1) * dh + 1, n1)
            while h0 < 0:
                h0 += dh
            for ow in range(g.o[2]):
                w0 = ow * g.s[2] - g.p[2]
                w1 = imin(w0 + (g.k[2] - 1) * dw + 1, n2)
                while w0 < 0:
                    w0 += dw
                best = -INFINITY
                best_at = (d0 * n1 + h0) * n2 + w0
                i = d0
                while i < d1:
                    j = h0
                    while j < h1:
                        at = (i * n1 + j) * n2
                        l = w0
                        while l < w1:
                            _take(x[at + l], at + l, &best, &best_at)
                            l += dw
                        j += dh
                    i += dd
                if d0 >= d1 or h0 >= h1 or w0 >= w1:
                    best_at = 0     # empty window (not reachable after the shape checks)
                y[q] = best
                ind[q] = best_at
                q += 1


cdef void _max_row_2x2(const floating* x, Py_ssize_t start, Py_ssize_t n2, Py_ssize_t sw,
                       Py_ssize_t ow_count, floating* y, index_t* ind) noexcept nogil:
    # one output row of 2x2 windows whose first row begins at plane offset ``start``
    # (the most common max pooling)
    cdef Py_ssize_t ow, at
    cdef floating best
    cdef Py_ssize_t best_at
    for ow in range(ow_count):
        at = start + ow * sw
        best = -INFINITY
        best_at = at
        _take(x[at], at, &best, &best_at)
        _take(x[at + 1], at + 1, &best, &best_at)
        _take(x[at + n2], at + n2, &best, &best_at)
        _take(x[at + n2 + 1], at + n2 + 1, &best, &best_at)
        y[ow] = best
        ind[ow] = best_at


cdef void _max_plane_inside(const floating* x, floating* y, index_t* ind, const Geo* g) noexcept nogil:
    # _max_plane for 2-d windows that all lie inside the plane, without dilation (no
    # padding, and ceil mode adding no partial window): no clipping per window
    cdef Py_ssize_t oh, ow, i, j, at, row, best_at
    cdef Py_ssize_t n2 = g.n[2], kh = g.k[1], kw = g.k[2], sh = g.s[1], sw = g.s[2]
    cdef floating best
    cdef Py_ssize_t q = 0
    if kh == 2 and kw == 2:
        for oh in range(g.o[1]):
            _max_row_2x2(x, oh * sh * n2, n2, sw, g.o[2], y + q, ind + q)
            q += g.o[2]
        return
    for oh in range(g.o[1]):
        for ow in range(g.o[2]):
            at = oh * sh * n2 + ow * sw
            best = -INFINITY
            best_at = at
            for i in range(kh):
                row = at + i * n2
                for j in range(kw):
                    _take(x[row + j], row + j, &best, &best_at)
            y[q] = best
            ind[q] = best_at
            q += 1


cdef bint _inside_2d(const Geo* g) noexcept nogil:
    """Whether every window is a plain 2-d block inside the plane."""
    return (g.n[0] == 1 and g.k[0] == 1 and g.p[1] == 0 and g.p[2] == 0 and g.d[1] == 1
            and g.d[2] == 1 and (g.o[1] - 1) * g.s[1] + g.k[1] <= g.n[1]
            and (g.o[2] - 1) * g.s[2] + g.k[2] <= g.n[2])


cdef void _max_all(const floating[:, :, :, ::1] x, floating[:, :, :, ::1] y,
                   index_t[:, :, :, ::1] ind, Geo g) noexcept:
    cdef Py_ssize_t p, n_planes = x.shape[0]
    cdef Py_ssize_t work = (n_planes * y.shape[1] * y.shape[2] * y.shape[3]   # outputs times
                            * g.k[0] * g.k[1] * g.k[2])                      # window size
    cdef bint inside = _inside_2d(&g)
    with nogil:
        for p in prange(n_planes, schedule="static", num_threads=num_threads_for(n_planes, work)):
            if inside:
                _max_plane_inside(&x[p, 0, 0, 0], &y[p, 0, 0, 0], &ind[p, 0, 0, 0], &g)
            else:
                _max_plane(&x[p, 0, 0, 0], &y[p, 0, 0, 0], &ind[p, 0, 0, 0], &g)


def max_pool(x, kernel, stride, padding, dilation, out_spatial):
    """Windowed maximum of ``x`` (``(*lead, *in_spatial)``) and its flat per-plane index.

    Returns ``(values, indices)``, both ``(*lead, *out_spatial)``, indices int64.
    """
    nd = len(kernel)
    in_spatial = tuple(int(v) for v in x.shape[x.ndim - nd:])
    dtype = x.dtype
    planes, lead = _planes(x, in_spatial)
    cdef Geo g = _geo(in_spatial, out_spatial, kernel, stride, padding, dilation)
    shape = (planes.shape[0], g.o[0], g.o[1], g.o[2])
    y = np.empty(shape, dtype=planes.dtype)
    ind = np.empty(shape, dtype=np.int64)
    if y.size and planes.size:
        if planes.dtype == np.float32:
            _max_all[float](planes, y, ind, g)
        else:
            _max_all[double](planes, y, ind, g)
    return _result(y, lead, out_spatial, dtype), ind.reshape(lead + tuple(out_spatial))


# ------------------------------------------------------------ average pooling

cdef inline Py_ssize_t _window(const Geo* g, int a, Py_ssize_t o, Py_ssize_t* lo, Py_ssize_t* hi,
                               bint include_pad) noexcept nogil:
    """Clip output ``o``'s window on axis ``a`` to the input (``lo``, ``hi``) and
    return its length for the divisor."""
    cdef Py_ssize_t start = o * g.s[a] - g.p[a]
    cdef Py_ssize_t end = imin(start + g.k[a], g.n[a] + g.p[a])
    cdef Py_ssize_t padded = end - start
    lo[0] = imax(start, 0)
    hi[0] = imin(end, g.n[a])
    return padded if include_pad else imax(hi[0] - lo[0], 0)


cdef void _avg_plane(const floating* x, floating* y, const Geo* g, bint include_pad,
                     Py_ssize_t divisor, bint adjoint) noexcept nogil:
    """Forward: ``y[q] = sum(window) / div``. Adjoint (``y`` is the gradient of the
    output, ``x`` the zeroed input gradient): add ``y[q] / div`` over the window."""
    cdef Py_ssize_t od, oh, ow, d0, d1, h0, h1, w0, w1, i, j, l, at, div
    cdef Py_ssize_t n1 = g.n[1], n2 = g.n[2], q = 0, cd, ch, cw
    cdef floating acc, share
    cdef floating* gx = <floating*> x
    for od in range(g.o[0]):
        cd = _window(g, 0, od, &d0, &d1, include_pad)
        for oh in range(g.o[1]):
            ch = _window(g, 1, oh, &h0, &h1, include_pad)
            for ow in range(g.o[2]):
                cw = _window(g, 2, ow, &w0, &w1, include_pad)
                div = divisor if divisor != 0 else cd * ch * cw
                if d0 >= d1 or h0 >= h1 or w0 >= w1 or div == 0:
                    if not adjoint:
                        y[q] = 0
                    q += 1
                    continue
                if adjoint:
                    share = y[q] / <floating> div
                    for i in range(d0, d1):
                        for j in range(h0, h1):
                            at = (i * n1 + j) * n2
                            for l in range(w0, w1):
                                gx[at + l] += share
                else:
                    acc = 0
                    for i in range(d0, d1):
                        for j in range(h0, h1):
                            at = (i * n1 + j) * n2
                            for l in range(w0, w1):
                                acc = acc + x[at + l]
                    y[q] = acc / <floating> div
                q += 1


cdef void _avg_plane_inside(const floating* x, floating* y, const Geo* g, Py_ssize_t divisor,
                            bint adjoint) noexcept nogil:
    # _avg_plane for 2-d windows that all lie inside the plane: every window is whole,
    # so no clipping and one divisor
    cdef Py_ssize_t oh, ow, i, j, at, row, q = 0
    cdef Py_ssize_t n2 = g.n[2], kh = g.k[1], kw = g.k[2], sh = g.s[1], sw = g.s[2]
    cdef floating div = <floating> (divisor if divisor != 0 else kh * kw)
    cdef floating acc, share
    cdef floating* gx = <floating*> x
    for oh in range(g.o[1]):
        for ow in range(g.o[2]):
            at = oh * sh * n2 + ow * sw
            if adjoint:
                share = y[q] / div
                for i in range(kh):
                    row = at + i * n2
                    for j in range(kw):
                        gx[row + j] += share
            else:
                acc = 0
                for i in range(kh):
                    row = at + i * n2
                    for j in range(kw):
                        acc = acc + x[row + j]
                y[q] = acc / div
            q += 1


cdef void _avg_all(floating[:, :, :, ::1] x, floating[:, :, :, ::1] y, Geo g, bint include_pad,
                   Py_ssize_t divisor, bint adjoint) noexcept:
    cdef Py_ssize_t p, n_planes = x.shape[0]
    cdef Py_ssize_t work = n_planes * (x.shape[1] * x.shape[2] * x.shape[3]
                                       + y.shape[1] * y.shape[2] * y.shape[3])
    cdef bint inside = _inside_2d(&g)
    with nogil:
        for p in prange(n_planes, schedule="static", num_threads=num_threads_for(n_planes, work)):
            if inside:
                _avg_plane_inside(&x[p, 0, 0, 0], &y[p, 0, 0, 0], &g, divisor, adjoint)
            else:
                _avg_plane(&x[p, 0, 0, 0], &y[p, 0, 0, 0], &g, include_pad, divisor, adjoint)


def _avg(array, in_spatial, out_spatial, kernel, stride, padding, count_include_pad,
         divisor_override, bint adjoint):
    dtype = array.dtype
    planes, lead = _planes(array, out_spatial if adjoint else in_spatial)
    cdef Geo g = _geo(in_spatial, out_spatial, kernel, stride, padding, ())
    cdef Py_ssize_t divisor = int(divisor_override) if divisor_override else 0
    n_planes = planes.shape[0]
    if adjoint:
        big = np.zeros((n_planes, g.n[0], g.n[1], g.n[2]), dtype=planes.dtype)
        small = planes if planes.flags.writeable else planes.copy()
    else:
        big = planes if planes.flags.writeable else planes.copy()
        small = np.empty((n_planes, g.o[0], g.o[1], g.o[2]), dtype=planes.dtype)
    if big.size and small.size:
        if planes.dtype == np.float32:
            _avg_all[float](big, small, g, count_include_pad, divisor, adjoint)
        else:
            _avg_all[double](big, small, g, count_include_pad, divisor, adjoint)
    return _result(big if adjoint else small, lead, in_spatial if adjoint else out_spatial, dtype)


def avg_pool(x, in_spatial, out_spatial, kernel, stride, padding, count_include_pad,
             divisor_override):
    """Windowed mean of ``x`` (``(*lead, *in_spatial)``) with PyTorch's divisor rules."""
    return _avg(x, in_spatial, out_spatial, kernel, stride, padding, count_include_pad,
                divisor_override, False)


def avg_pool_adjoint(g, in_spatial, out_spatial, kernel, stride, padding, count_include_pad,
                     divisor_override):
    """The transpose of :func:`avg_pool`: ``g`` (``(*lead, *out_spatial)``) spread
    back over the windows, ``(*lead, *in_spatial)``."""
    return _avg(g, in_spatial, out_spatial, kernel, stride, padding, count_include_pad,
                divisor_override, True)


# ------------------------------------------------- gather / scatter by indices

cdef enum:
    _GATHER = 0
    _SCATTER_ADD = 1
    _SCATTER_SET = 2


cdef void _indexed_all(floating[:, ::1] big, floating[:, ::1] small, const index_t[:, ::1] ind,
                       int mode, unsigned char[::1] bad) noexcept:
    # One pass: an index outside its plane is skipped and flagged, never followed, and
    # the caller raises; the outputs are fresh arrays, so nothing a user holds changes.
    # (A separate checking pass would read the indices twice: 40% more time here.)
    cdef Py_ssize_t p, n_planes = big.shape[0], n_small = small.shape[1]
    with nogil:
        for p in prange(n_planes, schedule="static",
                        num_threads=num_threads_for(n_planes, n_planes * n_small)):
            _indexed_plane(&big[p, 0], &small[p, 0], &ind[p, 0], big.shape[1], n_small, mode, &bad[p])


cdef void _indexed_plane(floating* big, floating* small, const index_t* ind, Py_ssize_t n_big,
                         Py_ssize_t n_small, int mode, unsigned char* bad) noexcept nogil:
    cdef Py_ssize_t j
    cdef index_t at
    for j in range(n_small):
        at = ind[j]
        if <size_t>at >= <size_t>n_big:
            bad[0] = 1
        elif mode == _GATHER:
            small[j] = big[at]
        elif mode == _SCATTER_ADD:
            big[at] += small[j]
        else:
            big[at] = small[j]


def _indexed(array, indices, in_spatial, out_spatial, int mode):
    nd = len(in_spatial)
    dtype = array.dtype
    n_big, n_small = size_of(in_spatial), size_of(out_spatial)
    spatial = in_spatial if mode == _GATHER else out_spatial
    lead = tuple(array.shape[:array.ndim - nd])
    if tuple(array.shape[array.ndim - nd:]) != tuple(spatial) or \
            tuple(indices.shape) != lead + tuple(out_spatial):
        raise ValueError(f"pooling kernel: shapes {array.shape} and {indices.shape} do not match "
                         f"{in_spatial} -> {out_spatial}")
    n_planes = size_of(lead)
    ind = np.ascontiguousarray(indices, dtype=np.int64).reshape(n_planes, n_small)
    bad = np.zeros(n_planes, dtype=np.uint8)
    if array.dtype != np.float32 and array.dtype != np.float64:
        array = array.astype(np.float32)
    # writable too: the memoryviews refuse read-only memory (a one-element broadcast gradient)
    work = np.require(array, None, ["C", "W"]).reshape(n_planes, size_of(spatial))
    if mode == _GATHER:
        big, small = work, np.empty((n_planes, n_small), dtype=work.dtype)
    else:
        big, small = np.zeros((n_planes, n_big), dtype=work.dtype), work
    if n_planes and n_small:
        if work.dtype == np.float32:
            _indexed_all[float](big, small, ind, mode, bad)
        else:
            _indexed_all[double](big, small, ind, mode, bad)
    if bad.any():
        flat = ind.reshape(-1)
        raise RuntimeError(f"Found an invalid max index: {int(flat[(flat < 0) | (flat >= n_big)][0])} "
                           f"(output volumes are of size {'x'.join(str(int(v)) for v in in_spatial)})")
    out = small if mode == _GATHER else big
    return _result(out, lead, out_spatial if mode == _GATHER else in_spatial, dtype)


def gather_planes(x, indices, in_spatial, out_spatial):
    """``out[p, j] = x[p, indices[p, j]]`` per plane; ``x`` is ``(*lead, *in_spatial)``."""
    return _indexed(x, indices, in_spatial, out_spatial, _GATHER)


def scatter_planes(g, indices, in_spatial, out_spatial):
    """Zeros of ``(*lead, *in_spatial)`` with ``g[p, j]`` added at ``indices[p, j]``."""
    return _indexed(g, indices, in_spatial, out_spatial, _SCATTER_ADD)


def unpool_planes(values, indices, in_spatial, out_spatial):
    """Zeros of ``(*lead, *in_spatial)`` with ``values[p, j]`` written at
    ``indices[p, j]``; of repeated indices the last write wins (PyTorch's MaxUnpool)."""
    return _indexed(values, indices, in_spatial, out_spatial, _SCATTER_SET)
