"""Fused attention on the CPU, flash style: ``softmax(Q K^T * scale) V`` computed tile
by tile with an online softmax, so the ``L x S`` score matrix is never held whole.

Layouts (float32 or float64; ``*`` one or two leading dims making ``B`` independent
problems, e.g. batch x heads): ``q (*, L, E)``, ``k (*, S, E)``, ``v (*, S, Ev)``,
each row contiguous but rows any distance apart (heads split off a wider row are read
in place); the output ``(*, L, Ev)`` and the log-sum-exp of each row's scaled scores
``lse (B, L)``, which is all the backward needs to rebuild any tile of the
probabilities. ``causal`` masks as torch's ``is_causal`` does (upper-left aligned):
query ``i`` sees keys ``j <= i``, so every row sees key 0 and key tiles wholly right
of a query tile are skipped.

Forward (:func:`forward`): a work item is one problem's tile of query rows, written
into its own rows of the output, so items are independent and run in parallel even
for one problem. For each tile of ``BLOCK_N`` keys: scores by one product, the
running row maxima and sums updated, the rows accumulated so far rescaled, and the
tile's probabilities times its values added. Up to ``KEEP_MAX_KEYS`` keys there is
one key tile, and when a backward follows its probabilities are kept for it
(``L x S`` per problem, no more than the math path holds).

Backward (:func:`backward`), Dao's FlashAttention-2: with ``D = rowsum(dO * O)``,
per key tile and then per query tile that sees it, ``P = exp(Q K^T * scale - lse)``
(or the kept probabilities), ``dV += P^T dO``, ``dP = dO V^T``,
``dS = P * (dP - D) * scale``, ``dK += dS^T Q`` and ``dQ += dS K``. A work item is one
problem's set of key tiles, so ``dK`` and ``dV`` rows belong to one item; ``dQ`` is
shared by the key tiles of a problem, so when there are fewer problems than threads
the key tiles are split into groups, each adding into its own copy of ``dQ``, summed
at the end.

The products are BLAS (``scipy.linalg.cython_blas``), called from the OpenMP
threads with the BLAS limited to the calling thread meanwhile; the elementwise
passes are loops on raw pointers around ``_exp_nonpos`` (no libm call), and the row
maxima and sums run in independent lanes, which GCC vectorises.
"""

from cython.parallel cimport prange, threadid
from libc.math cimport INFINITY, log
from libc.string cimport memset
from scipy.linalg.cython_blas cimport dgemm, sgemm

from ember_cython cimport floating, imax, imin, num_threads_for

include "_fast_exp.pxi"

import contextlib

import numpy as np

from ember._threads import one_blas_thread


cdef enum:
    # query rows and key rows per tile: a 128 x 64 score tile (32 KiB of float32) and
    # the rows it meets stay in a core's L2 cache
    BLOCK_M = 128
    BLOCK_N = 64
    # query rows per tile when all the keys make one tile (at most KEEP_MAX_KEYS): the
    # products then fit OpenBLAS's small-matrix kernels, which skip packing their
    # operands (the backward of 128 x 128 problems ran 20% faster than with 128 rows)
    ONE_TILE_M = 64


cdef inline Py_ssize_t _tile_rows(Py_ssize_t width, Py_ssize_t S) noexcept nogil:
    # query rows per tile against key tiles ``width`` wide
    return ONE_TILE_M if width >= S else BLOCK_M


cdef inline void _mm(bint ta, bint tb, int M, int N, int K, floating alpha,
                     const floating* A, int lda, const floating* B, int ldb, floating beta,
                     floating* C, int ldc) noexcept nogil:
    # row-major C (M x N) = alpha op(A) op(B) + beta C: BLAS is column-major, where a
    # row-major matrix is its transpose, so this is C^T = op(B)^T op(A)^T
    cdef char* na = "T" if ta else "N"
    cdef char* nb = "T" if tb else "N"
    if floating is float:
        sgemm(nb, na, &N, &M, &K, &alpha, <float*>B, &ldb, <float*>A, &lda, &beta, C, &ldc)
    else:
        dgemm(nb, na, &N, &M, &K, &alpha, <double*>B, &ldb, <double*>A, &lda, &beta, C, &ldc)


cdef inline Py_ssize_t _visible(Py_ssize_t i, Py_ssize_t j0, Py_ssize_t bn, bint causal) noexcept nogil:
    # how many of the bn keys from j0 on query row i sees
    return imax(0, imin(bn, i - j0 + 1)) if causal else bn


cdef enum:
    # independent partial results of a row's maximum and sum, so that the compiler can
    # keep them in vector lanes (one running total would be a chain of dependent adds)
    LANES = 8


cdef inline floating _row_max(const floating* s, Py_ssize_t n, floating start) noexcept nogil:
    # max(start, s[0], ..., s[n - 1])
    cdef floating part[LANES]
    cdef Py_ssize_t b, j, u, whole = n - n % LANES
    for u in range(LANES):
        part[u] = start
    for b in range(n // LANES):
        j = b * LANES
        for u in range(LANES):
            part[u] = s[j + u] if s[j + u] > part[u] else part[u]
    for j in range(whole, n):
        part[0] = s[j] if s[j] > part[0] else part[0]
    for u in range(1, LANES):
        part[0] = part[u] if part[u] > part[0] else part[0]
    return part[0]


cdef inline floating _row_sum(const floating* s, Py_ssize_t n) noexcept nogil:
    cdef floating part[LANES]
    cdef Py_ssize_t b, j, u, whole = n - n % LANES
    for u in range(LANES):
        part[u] = 0
    for b in range(n // LANES):
        j = b * LANES
        for u in range(LANES):
            part[u] += s[j + u]
    for j in range(whole, n):
        part[0] += s[j]
    for u in range(1, LANES):
        part[0] += part[u]
    return part[0]


cdef inline void _exp_rows(floating* s, Py_ssize_t n, Py_ssize_t bn, floating shift) noexcept nogil:
    # s[j] = exp(s[j] - shift) for j < n and 0 for n <= j < bn
    cdef Py_ssize_t j
    for j in range(n):
        s[j] = _exp_nonpos(s[j] - shift)
    for j in range(n, bn):
        s[j] = 0


cdef struct Rows:
    # the distance between consecutive rows of q, k, v and the output gradient, in
    # elements (a row is contiguous; rows need not be, e.g. heads split off a wider row)
    Py_ssize_t q, k, v, do


cdef void _forward_tile(const floating* q, const floating* k, const floating* v,
                        floating* o, floating* lse, Rows ld, Py_ssize_t L, Py_ssize_t S,
                        Py_ssize_t E, Py_ssize_t Ev, Py_ssize_t i0, floating scale,
                        bint causal, floating* s, Py_ssize_t rows, Py_ssize_t width,
                        floating* m, floating* l, bint keep) noexcept nogil:
    # rows i0 .. i0 + rows of one problem (q, o, lse at its row 0; k, v at its key 0), key
    # tiles ``width`` wide, the scores in ``s`` (rows ``width`` apart); with ``keep``,
    # one key tile (``width == S``) whose probabilities stay in ``s``
    cdef Py_ssize_t bm = imin(rows, L - i0), bn, j0, t, r, c, n
    cdef Py_ssize_t end = imin(S, i0 + bm) if causal else S
    # one key tile: each row's maximum and sum are final after its pass, so the row
    # is normalised then, while in cache, and the output needs no rescaling
    cdef bint single = end <= width
    cdef floating mx, corr, inv
    cdef floating* row
    cdef floating* orow
    for r in range(bm):
        m[r] = -INFINITY
        l[r] = 0
    for t in range((end + width - 1) // width):
        j0 = t * width
        bn = imin(width, end - j0)
        _mm(False, True, <int>bm, <int>bn, <int>E, scale, q + i0 * ld.q, <int>ld.q, k + j0 * ld.k,
            <int>ld.k, 0, s, <int>width)
        for r in range(bm):
            row = s + r * width
            n = _visible(i0 + r, j0, bn, causal)
            if n == 0:
                memset(row, 0, bn * sizeof(floating))
                continue
            mx = _row_max(row, n, m[r])
            if mx > m[r]:
                if m[r] != -INFINITY:
                    corr = _exp_nonpos(m[r] - mx)
                    l[r] *= corr
                    orow = o + (i0 + r) * Ev
                    for c in range(Ev):
                        orow[c] *= corr
                m[r] = mx
            _exp_rows(row, n, bn, mx)
            l[r] += _row_sum(row, n)
            if single:
                inv = 1 / l[r]
                for c in range(n):
                    row[c] *= inv
        # the first tile's product writes the output rows (rescaling starts after it)
        _mm(False, False, <int>bm, <int>Ev, <int>bn, 1, s, <int>width, v + j0 * ld.v, <int>ld.v,
            0 if t == 0 else 1, o + i0 * Ev, <int>Ev)
    for r in range(bm):
        lse[i0 + r] = m[r] + log(l[r])
        if not single:
            inv = 1 / l[r]
            orow = o + (i0 + r) * Ev
            for c in range(Ev):
                orow[c] *= inv
        if keep:
            memset(s + r * width + end, 0, (S - end) * sizeof(floating))


cdef void _forward_all(const floating[:, :, :, :] q, const floating[:, :, :, :] k,
                       const floating[:, :, :, :] v, Rows ld, floating[:, :, ::1] o,
                       floating[:, ::1] lse, floating[:, :, ::1] probs, Py_ssize_t width,
                       floating scale, bint causal, floating[:, ::1] scratch, int threads) noexcept:
    # q, k, v: (B1, B2, rows, E) with rows ``ld`` apart; o, lse, probs: B = B1 * B2
    # problems; key tiles ``width`` wide; probs: (B, L, S) to keep the probabilities in
    # (``width == S``), or empty
    cdef Py_ssize_t B2 = q.shape[1], L = q.shape[2], E = q.shape[3]
    cdef Py_ssize_t S = k.shape[2], Ev = v.shape[3]
    cdef Py_ssize_t rows = _tile_rows(width, S), tiles = (L + rows - 1) // rows, item, b, i0
    cdef bint keep = probs.shape[0] != 0
    cdef floating* s
    cdef floating* m
    with nogil:
        for item in prange(o.shape[0] * tiles, schedule="dynamic", num_threads=threads):
            b = item // tiles
            i0 = (item % tiles) * rows
            m = &scratch[threadid(), 0]
            s = &probs[b, i0, 0] if keep else m + 2 * BLOCK_M
            _forward_tile(&q[b // B2, b % B2, 0, 0], &k[b // B2, b % B2, 0, 0], &v[b // B2, b % B2, 0, 0],
                          &o[b, 0, 0], &lse[b, 0], ld, L, S, E, Ev, i0, scale, causal, s, rows,
                          width, m, m + BLOCK_M, keep)


cdef void _backward_pair(const floating* q, const floating* k, const floating* v,
                         const floating* do, Rows ld, const floating* lse, const floating* dsum,
                         floating* dq, floating* dk, floating* dv, Py_ssize_t E, Py_ssize_t Ev,
                         Py_ssize_t i0, Py_ssize_t bm, Py_ssize_t j0, Py_ssize_t bn,
                         floating scale, bint causal, floating* p, floating* dp,
                         Py_ssize_t width, bint recompute) noexcept nogil:
    # one query tile against one key tile: adds into dq's rows i0.., dk's and dv's rows j0..
    # (all three contiguous); the tile's probabilities are in p (rows ``width`` apart), or
    # rebuilt there with ``recompute``
    cdef Py_ssize_t r, c
    cdef floating* prow
    cdef floating* dprow
    cdef floating d
    if causal:  # keys past the tile's last row are hidden from all its rows
        bn = imin(bn, i0 + bm - j0)
    if recompute:
        _mm(False, True, <int>bm, <int>bn, <int>E, scale, q + i0 * ld.q, <int>ld.q, k + j0 * ld.k,
            <int>ld.k, 0, p, <int>width)
        for r in range(bm):
            _exp_rows(p + r * width, _visible(i0 + r, j0, bn, causal), bn, lse[i0 + r])
    _mm(True, False, <int>bn, <int>Ev, <int>bm, 1, p, <int>width, do + i0 * ld.do, <int>ld.do,
        1, dv + j0 * Ev, <int>Ev)
    _mm(False, True, <int>bm, <int>bn, <int>Ev, 1, do + i0 * ld.do, <int>ld.do, v + j0 * ld.v,
        <int>ld.v, 0, dp, <int>width)
    for r in range(bm):
        prow = p + r * width
        dprow = dp + r * width
        d = dsum[i0 + r]
        for c in range(bn):
            dprow[c] = prow[c] * (dprow[c] - d) * scale
    _mm(False, False, <int>bm, <int>E, <int>bn, 1, dp, <int>width, k + j0 * ld.k, <int>ld.k,
        1, dq + i0 * E, <int>E)
    _mm(True, False, <int>bn, <int>E, <int>bm, 1, dp, <int>width, q + i0 * ld.q, <int>ld.q,
        1, dk + j0 * E, <int>E)


cdef void _row_dots(const floating[:, :, :, :] a, const floating[:, :, ::1] b,
                    floating[:, ::1] out, int threads) noexcept:
    # out[p, i] = a[p // B2, p % B2, i] . b[p, i] (a's rows contiguous)
    cdef Py_ssize_t p, i, c, B2 = a.shape[1], n = a.shape[3]
    cdef const floating* ar
    cdef const floating* br
    cdef floating t
    with nogil:
        for p in prange(b.shape[0], schedule="static", num_threads=threads):
            for i in range(b.shape[1]):
                ar = &a[p // B2, p % B2, i, 0]
                br = &b[p, i, 0]
                t = 0
                for c in range(n):
                    t = t + ar[c] * br[c]
                out[p, i] = t


cdef void _backward_all(const floating[:, :, :, :] q, const floating[:, :, :, :] k,
                        const floating[:, :, :, :] v, const floating[:, :, :, :] do, Rows ld,
                        const floating[:, ::1] lse, floating[:, :, ::1] probs,
                        const floating[:, ::1] dsum, floating[:, :, :, ::1] dq,
                        floating[:, :, ::1] dk, floating[:, :, ::1] dv, floating scale,
                        bint causal, floating[:, ::1] scratch, int threads) noexcept:
    # q, k, v, do: (B1, B2, rows, E) with rows ``ld`` apart, the rest over B = B1 * B2
    # problems. dq is (B, groups, L, E): group g takes key tiles g, g + groups, ...;
    # probs is the forward's (B, L, S) probabilities (one key tile), or empty to rebuild
    # them by tiles
    cdef Py_ssize_t B2 = q.shape[1], L = q.shape[2], E = q.shape[3]
    cdef Py_ssize_t S = k.shape[2], Ev = v.shape[3], groups = dq.shape[1]
    cdef bint keep = probs.shape[0] != 0
    cdef Py_ssize_t width = S if keep else BLOCK_N
    cdef Py_ssize_t rows = _tile_rows(width, S)
    cdef Py_ssize_t tiles = (S + width - 1) // width, item, b, g, t, j0, i, i0
    cdef floating* p
    cdef floating* dp
    with nogil:
        for item in prange(dq.shape[0] * groups, schedule="dynamic", num_threads=threads):
            b = item // groups
            g = item % groups
            dp = &scratch[threadid(), 0]
            t = g
            while t < tiles:
                j0 = t * width
                # a causal query row i < j0 sees none of the tile's keys
                for i in range(j0 // rows if causal else 0, (L + rows - 1) // rows):
                    i0 = i * rows
                    p = &probs[b, i0, 0] if keep else dp + BLOCK_M * width
                    _backward_pair(&q[b // B2, b % B2, 0, 0], &k[b // B2, b % B2, 0, 0],
                                   &v[b // B2, b % B2, 0, 0], &do[b // B2, b % B2, 0, 0], ld,
                                   &lse[b, 0], &dsum[b, 0], &dq[b, g, 0, 0], &dk[b, 0, 0],
                                   &dv[b, 0, 0], E, Ev, i0, imin(rows, L - i0), j0,
                                   imin(width, S - j0), scale, causal, p, dp, width, not keep)
                t = t + groups


#: Up to this many keys the forward keeps the attention weights (``L x S`` per
#: problem, as the math path does), so the backward skips one of its five products
#: and the exponentials; longer sequences rebuild them tile by tile.
KEEP_MAX_KEYS = 256


def _rows(a):
    """``a`` as (B1, B2, rows, cols) with contiguous rows that do not overlap (a copy
    when it has none such), and the distance between its rows in elements."""
    a = a if a.ndim == 4 else a[None]
    item = a.itemsize
    step = a.strides[2]
    if not (a.flags.aligned and a.strides[3] == item and min(a.strides) >= 0 and step % item == 0
            and (step >= a.shape[3] * item or a.shape[2] == 1)):
        a = np.ascontiguousarray(a)
        step = a.strides[2]
    return a, max(step // item, a.shape[3], 1)


def _checked(q, k, v):
    """``q``'s leading dims, and ``q, k, v`` as (B1, B2, rows, cols) arrays with
    contiguous rows (see :func:`_rows`) after checking their dtypes and shapes, and
    their rows' distances."""
    for name, a in (("query", q), ("key", k), ("value", v)):
        if not isinstance(a, np.ndarray) or a.dtype not in (np.float32, np.float64) or a.ndim not in (3, 4):
            raise ValueError(f"flash attention: {name} must be a 3-d or 4-d float32 or float64 array, got "
                             f"{getattr(a, 'dtype', type(a).__name__)} of shape {getattr(a, 'shape', None)}")
        if a.dtype != q.dtype:
            raise ValueError(f"flash attention: {name} is {a.dtype}, query is {q.dtype}")
    # (no negative indices: the module is compiled without wraparound)
    n = q.ndim
    lead = q.shape[:n - 2]
    if (k.ndim != n or v.ndim != n or k.shape[:n - 2] != lead or k.shape[n - 1] != q.shape[n - 1]
            or v.shape[:n - 1] != k.shape[:n - 1]):
        raise ValueError(f"flash attention: shapes query {q.shape}, key {k.shape}, value {v.shape} "
                         "do not fit (*, L, E), (*, S, E), (*, S, Ev)")
    if 0 in q.shape or 0 in v.shape:
        raise ValueError(f"flash attention: empty dims in query {q.shape}, key {k.shape}, value {v.shape}")
    (q, ldq), (k, ldk), (v, ldv) = _rows(q), _rows(k), _rows(v)
    return lead, q, k, v, ldq, ldk, ldv


def forward(q, k, v, scale, causal, keep=True):
    """``(out (*, L, Ev), lse (B, L), probs)``: attention of ``q (*, L, E)`` over
    ``k (*, S, E)``, ``v (*, S, Ev)`` (``*``: one or two dims, ``B`` problems in all),
    scores scaled by ``scale``, causally masked with ``causal``. The rows of each input
    need not be adjacent. With ``keep`` (a backward will follow) and at most
    ``KEEP_MAX_KEYS`` keys, ``probs`` holds the attention weights ``(B, L, S)`` for the
    backward, which then skips rebuilding them; else it is None."""
    cdef Rows ld
    lead, q, k, v, ld.q, ld.k, ld.v = _checked(q, k, v)
    B1, B2, L, E = q.shape
    S, Ev = v.shape[2:]
    B = B1 * B2
    out = np.empty((B, L, Ev), q.dtype)
    lse = np.empty((B, L), q.dtype)
    # up to KEEP_MAX_KEYS keys, one key tile (kept or not): no rescaling of rows
    width = S if S <= KEEP_MAX_KEYS else BLOCK_N
    keep = keep and width == S
    probs = np.empty((B, L, S) if keep else (0, 0, 0), q.dtype)
    items = B * -(-L // _tile_rows(width, S))
    threads = num_threads_for(items, B * L * S * (E + Ev))
    scratch = np.empty((threads, 2 * BLOCK_M + (0 if keep else BLOCK_M * width)), q.dtype)
    with one_blas_thread() if threads > 1 else contextlib.nullcontext():
        if q.dtype == np.float32:
            _forward_all[float](q, k, v, ld, out, lse, probs, width, scale, causal, scratch, threads)
        else:
            _forward_all[double](q, k, v, ld, out, lse, probs, width, scale, causal, scratch, threads)
    return out.reshape(lead + (L, Ev)), lse, (probs if probs.size else None)


def backward(dout, q, k, v, out, lse, probs, scale, causal):
    """``(dq, dk, dv)``, C-contiguous: the gradients of :func:`forward`'s inputs given
    ``dout``, the gradient of its output, and its results ``out``, ``lse`` and ``probs``."""
    cdef Rows ld
    lead, q, k, v, ld.q, ld.k, ld.v = _checked(q, k, v)
    B1, B2, L, E = q.shape
    S, Ev = v.shape[2:]
    B = B1 * B2
    if probs is None:
        probs = np.empty((0, 0, 0), q.dtype)
    for name, a, shape in (("output gradient", dout, lead + (L, Ev)), ("output", out, lead + (L, Ev)),
                           ("lse", lse, (B, L)), ("probs", probs, (B, L, S) if probs.size else (0, 0, 0))):
        if not isinstance(a, np.ndarray) or a.dtype != q.dtype or a.shape != shape:
            raise ValueError(f"flash attention: {name} must be a {q.dtype} array of shape {shape}, "
                             f"got {getattr(a, 'dtype', type(a).__name__)} {getattr(a, 'shape', None)}")
    dout, ld.do = _rows(dout)
    out = np.ascontiguousarray(out).reshape(B, L, Ev)
    lse, probs = np.ascontiguousarray(lse), np.ascontiguousarray(probs)
    keep = probs.size != 0
    width = S if keep else BLOCK_N
    work = B * L * S * ((2 if keep else 3) * E + 2 * Ev)
    limit = num_threads_for(B * S, work)
    # fewer problems than threads: split each problem's key tiles into groups
    groups = 1 if B >= limit else min(-(-limit // B), -(-S // width))
    threads = num_threads_for(B * groups, work)
    dq = np.zeros((B, groups, L, E), q.dtype)
    dk = np.zeros((B, S, E), q.dtype)
    dv = np.zeros((B, S, Ev), q.dtype)
    dsum = np.empty((B, L), q.dtype)
    scratch = np.empty((threads, (1 if keep else 2) * BLOCK_M * width), q.dtype)
    with one_blas_thread() if threads > 1 else contextlib.nullcontext():
        if q.dtype == np.float32:
            _row_dots[float](dout, out, dsum, threads)
            _backward_all[float](q, k, v, dout, ld, lse, probs, dsum, dq, dk, dv, scale, causal,
                                 scratch, threads)
        else:
            _row_dots[double](dout, out, dsum, threads)
            _backward_all[double](q, k, v, dout, ld, lse, probs, dsum, dq, dk, dv, scale, causal,
                                  scratch, threads)
    dq = dq[:, 0] if groups == 1 else dq.sum(1)
    return dq.reshape(lead + (L, E)), dk.reshape(lead + (S, E)), dv.reshape(lead + (S, Ev))
