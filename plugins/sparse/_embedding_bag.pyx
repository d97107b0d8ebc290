"""CPU kernels of the sparse family: bag sums/means, their adjoint (a scatter-add
into the weight gradient) and the per-column argmax of max bags.

Bag ``b`` covers positions ``[starts[b], ends[b])`` of ``idx``; a position whose
row equals ``pad`` is skipped (``pad = -1``: none). Optional per-position
factors ``coef`` and per-bag divisors ``div`` are passed as empty arrays when
absent. The ``def`` entry points check every shape and every index before the
GIL is released, so a bad index is a Python exception, never a stray read.
"""

from cython.parallel cimport prange

from ember_cython cimport first_out_of_range, floating, imin, index_t, num_threads_for

import numpy as np


cdef Py_ssize_t _first_bad_bag(const index_t[::1] starts, const index_t[::1] ends,
                               index_t n) noexcept nogil:
    cdef Py_ssize_t b
    for b in range(starts.shape[0]):
        if starts[b] < 0 or starts[b] > ends[b] or ends[b] > n:
            return b
    return -1


def _check(idx, starts, ends, num, coef, div, dtype):
    """Contiguous int64 / floating arrays, every index and bag bound verified."""
    idx = np.ascontiguousarray(idx, dtype=np.int64)
    starts = np.ascontiguousarray(starts, dtype=np.int64)
    ends = np.ascontiguousarray(ends, dtype=np.int64)
    if idx.ndim != 1 or starts.ndim != 1 or starts.shape != ends.shape:
        raise ValueError("sparse kernel: idx, starts and ends must be 1-D, starts and ends of one length")
    cdef Py_ssize_t bad = first_out_of_range(idx, num)
    if bad >= 0:
        raise IndexError(f"sparse kernel: index {idx[bad]} out of range for {num} rows")
    bad = _first_bad_bag(starts, ends, idx.shape[0])
    if bad >= 0:
        raise IndexError(f"sparse kernel: bag {bad} = [{starts[bad]}, {ends[bad]}) is not inside "
                         f"the {idx.shape[0]} indices")
    coef = np.empty(0, dtype) if coef is None else np.ascontiguousarray(coef, dtype=dtype)
    div = np.empty(0, dtype) if div is None else np.ascontiguousarray(div, dtype=dtype)
    if coef.ndim != 1 or (coef.shape[0] and coef.shape[0] != idx.shape[0]):
        raise ValueError("sparse kernel: coef must have one entry per index")
    if div.ndim != 1 or (div.shape[0] and div.shape[0] != starts.shape[0]):
        raise ValueError("sparse kernel: div must have one entry per bag")
    return idx, starts, ends, coef, div


def _floating(a):
    if a.dtype != np.float32 and a.dtype != np.float64:
        a = a.astype(np.float64)
    return np.ascontiguousarray(a)


cdef void _gather(const floating[:, ::1] W, const index_t[::1] idx, const index_t[::1] starts,
                  const index_t[::1] ends, const floating[::1] coef, const floating[::1] div,
                  index_t pad, floating[:, ::1] out) noexcept:
    cdef Py_ssize_t B = starts.shape[0], D = W.shape[1], b, i, d
    cdef index_t r
    cdef floating c
    cdef bint has_coef = coef.shape[0] > 0, has_div = div.shape[0] > 0
    cdef floating* o
    cdef const floating* w
    with nogil:
        for b in prange(B, schedule="static", num_threads=num_threads_for(B, (idx.shape[0] + B) * D)):
            o = &out[b, 0] if D > 0 else NULL
            for d in range(D):
                o[d] = 0
            for i in range(starts[b], ends[b]):
                r = idx[i]
                if r == pad:
                    continue
                w = &W[r, 0]
                if has_coef:
                    c = coef[i]
                    for d in range(D):
                        o[d] += c * w[d]
                else:
                    for d in range(D):
                        o[d] += w[d]
            if has_div and div[b] != 0:
                for d in range(D):
                    o[d] = o[d] / div[b]


cdef void _scatter(const floating[:, ::1] G, const index_t[::1] idx, const index_t[::1] starts,
                   const index_t[::1] ends, const floating[::1] coef, const floating[::1] div,
                   index_t pad, floating[:, ::1] out) noexcept:
    # Race-free: each thread owns a block of columns of every row of ``out``; blocks of
    # at least 16 columns keep threads off each other's cache lines.
    cdef Py_ssize_t B = starts.shape[0], D = G.shape[1], b, i, d, t, d0, d1
    cdef int n_chunks = num_threads_for(D // 16, idx.shape[0] * D)
    cdef Py_ssize_t width = (D + n_chunks - 1) // n_chunks
    cdef index_t r
    cdef floating c
    cdef bint has_coef = coef.shape[0] > 0, has_div = div.shape[0] > 0
    cdef floating* o
    cdef const floating* g
    with nogil:
        for t in prange(n_chunks, schedule="static", num_threads=n_chunks):
            d0 = t * width
            d1 = imin(d0 + width, D)
            for b in range(B):
                g = &G[b, 0]
                for i in range(starts[b], ends[b]):
                    r = idx[i]
                    if r == pad:
                        continue
                    c = coef[i] if has_coef else 1
                    if has_div and div[b] != 0:
                        c = c / div[b]
                    o = &out[r, 0]
                    for d in range(d0, d1):
                        o[d] += c * g[d]


cdef void _argmax(const floating[:, ::1] W, const index_t[::1] idx, const index_t[::1] starts,
                  const index_t[::1] ends, index_t pad, index_t[:, ::1] rows) noexcept:
    # the first non-padding row wins ties; a later NaN never replaces the current best
    cdef Py_ssize_t B = starts.shape[0], D = W.shape[1], b, i, d
    cdef index_t r, cur
    with nogil:
        for b in prange(B, schedule="static", num_threads=num_threads_for(B, idx.shape[0] * D)):
            for d in range(D):
                rows[b, d] = -1
            for i in range(starts[b], ends[b]):
                r = idx[i]
                if r == pad:
                    continue
                for d in range(D):
                    cur = rows[b, d]
                    if cur < 0 or W[r, d] > W[cur, d]:
                        rows[b, d] = r


def bag_gather(W, idx, starts, ends, coef, div, pad, num):
    """``out[b] = sum_{i in bag b, idx[i] != pad} coef[i] * W[idx[i]] / div[b]``."""
    given = W.dtype
    W = _floating(W)
    if W.ndim != 2 or W.shape[0] != num:
        raise ValueError(f"sparse kernel: weight must be ({num}, D), got {W.shape}")
    idx, starts, ends, coef, div = _check(idx, starts, ends, num, coef, div, W.dtype)
    out = np.empty((starts.shape[0], W.shape[1]), dtype=W.dtype)
    cdef index_t p = pad
    if W.dtype == np.float32:
        _gather[float](W, idx, starts, ends, coef, div, p, out)
    else:
        _gather[double](W, idx, starts, ends, coef, div, p, out)
    return out.astype(given, copy=False)  # float16 is computed in float64


def bag_scatter(G, idx, starts, ends, coef, div, pad, num):
    """The adjoint of :func:`bag_gather`: a ``(num, D)`` array of scatter-added bags."""
    given = G.dtype
    G = _floating(G)
    if G.ndim != 2 or G.shape[0] != np.asarray(starts).shape[0]:
        raise ValueError(f"sparse kernel: gradient must be (n_bags, D), got {G.shape}")
    idx, starts, ends, coef, div = _check(idx, starts, ends, num, coef, div, G.dtype)
    out = np.zeros((num, G.shape[1]), dtype=G.dtype)
    cdef index_t p = pad
    if G.dtype == np.float32:
        _scatter[float](G, idx, starts, ends, coef, div, p, out)
    else:
        _scatter[double](G, idx, starts, ends, coef, div, p, out)
    return out.astype(given, copy=False)


def bag_argmax(W, idx, starts, ends, pad):
    """Per bag and column, the row of ``W`` holding the largest value (-1: empty bag)."""
    W = _floating(W)
    if W.ndim != 2:
        raise ValueError(f"sparse kernel: weight must be 2-D, got {W.shape}")
    idx, starts, ends, _, _ = _check(idx, starts, ends, W.shape[0], None, None, W.dtype)
    rows = np.empty((starts.shape[0], W.shape[1]), dtype=np.int64)
    cdef index_t p = pad
    if W.dtype == np.float32:
        _argmax[float](W, idx, starts, ends, p, rows)
    else:
        _argmax[double](W, idx, starts, ends, p, rows)
    return rows


def row_scatter(G, idx, coef, num):
    """``out[idx[i]] += coef[i] * G[i]``: the adjoint of gathering rows ``W[idx]``."""
    n = np.asarray(idx).shape[0]
    steps = np.arange(n + 1, dtype=np.int64)
    return bag_scatter(G, idx, steps[:n], steps[1:], coef, None, -1, num)
