"""CPU kernels of the connectionist temporal classification (CTC) loss.

Both entry points work on one batch at a time and split the batch items over
OpenMP threads (each item is an independent dynamic programme).  Layouts:

* ``log_probs``: (T, N, C), C-contiguous, float32 or float64;
* ``targets``: 1-D int64; item ``b`` uses
  ``targets[offsets[b] : offsets[b] + target_lengths[b]]`` (this covers both the
  padded (N, S) layout, flattened, and the concatenated one);
* ``log_alpha``: (N, T, L) with ``L >= 2 * max(target_lengths) + 1``, the
  forward variables in log space, written by ``ctc_forward`` and read back by
  ``ctc_backward``.

The recursions run in log space over the extended label sequence ``blank,
l1, blank, l2, ..., lS, blank`` (Graves et al., 2006), in the dtype of the
input.  The gradient is PyTorch's: with ``gamma[t, c]`` the posterior
occupancy of label ``c`` at frame ``t``, ``exp(log_probs) - gamma``, i.e. the
gradient with respect to the logits when ``log_probs`` is a log-softmax (for
other inputs it is not the derivative of the loss, but it is what PyTorch
returns).  ``gamma`` is summed in the linear domain, where each term is a
probability, which saves two thirds of the exp/log calls of a log-domain sum.

Every index that the cores read is checked in the ``def`` wrappers, with the
GIL held; a bad argument raises ``ValueError`` before any C loop starts.
Compiler directives are set once in setup.py.  As with every OpenMP kernel,
a forked child hangs in a parallel call once the parent has made one: start
worker processes with ``spawn`` or ``forkserver``.
"""
from cython.parallel cimport prange
from libc.math cimport INFINITY, NAN, exp, expf, log, logf

from ember_cython cimport LIBM_CALL_WORK, floating, index_t, num_threads_for

import numpy as np

# The thread policy's work per cell of the dynamic programme: about two libm
# calls (a log and an exp).
cdef enum:
    _CELL_WORK = 2 * LIBM_CALL_WORK


cdef inline floating _exp(floating x) noexcept nogil:
    if floating is float:
        return expf(x)
    else:
        return exp(x)


cdef inline floating _log1p(floating x) noexcept nogil:
    # log(1 + x), not log1p: glibc's log is several times faster, and the
    # rounding of 1 + x (x <= 2) is far below the tolerance of the sum
    if floating is float:
        return logf(1 + x)
    else:
        return log(1 + x)


cdef inline floating _exp0(floating x) noexcept nogil:
    """exp(x), skipping the libm call for the frequent x = -inf."""
    if x == -INFINITY:
        return 0
    return _exp(x)


cdef inline floating _lse3(floating a, floating b, floating c) noexcept nogil:
    """log(exp(a) + exp(b) + exp(c)); -inf when all three are -inf.

    The largest term contributes exp(0) = 1 exactly, so it costs no exp.
    """
    if a >= b and a >= c:
        if a == -INFINITY:
            return a
        return a + _log1p(_exp0(b - a) + _exp0(c - a))
    if b >= c:
        return b + _log1p(_exp0(a - b) + _exp0(c - b))
    return c + _log1p(_exp0(a - c) + _exp0(b - c))


cdef inline floating _lse2(floating a, floating b) noexcept nogil:
    if a >= b:
        if a == -INFINITY:
            return a
        return a + _log1p(_exp0(b - a))
    return b + _log1p(_exp0(a - b))


cdef inline index_t _label(const index_t* tgt, Py_ssize_t s, index_t blank) noexcept nogil:
    """Label at position ``s`` of the extended sequence (blanks at even s)."""
    if s % 2 == 0:
        return blank
    return tgt[s // 2]


# --------------------------------------------------------------------------
# nogil cores, one batch item each.  ``lp`` and ``g`` point at [0, b, 0] of a
# (T, N, C) array (time rows ``row`` elements apart); ``la`` at log_alpha[b].

cdef void _alpha_one(const floating* lp, Py_ssize_t row, const index_t* tgt,
                     Py_ssize_t il, Py_ssize_t tl, index_t blank,
                     floating* la, Py_ssize_t L, floating* nll) noexcept nogil:
    cdef Py_ssize_t t, s, S2 = 2 * tl + 1
    cdef floating a2, a3, l1, l2
    cdef floating* prev
    cdef floating* cur
    cdef const floating* p
    cdef index_t c
    if il == 0:
        # no frames: only the empty target is (trivially) emitted
        l1 = 0 if tl == 0 else -INFINITY
        nll[0] = -l1
        return
    for s in range(S2):
        la[s] = -INFINITY
    la[0] = lp[blank]
    if tl > 0:
        la[1] = lp[tgt[0]]
    for t in range(1, il):
        prev = la + (t - 1) * L
        cur = la + t * L
        p = lp + t * row
        for s in range(S2):
            c = _label(tgt, s, blank)
            a2 = prev[s - 1] if s > 0 else -INFINITY
            # a blank (even s) may be skipped only between two different labels;
            # a target label equal to blank counts as a label here, as in torch
            if s > 1 and (s & 1) and tgt[s // 2 - 1] != c:
                a3 = prev[s - 2]
            else:
                a3 = -INFINITY
            cur[s] = _lse3(prev[s], a2, a3) + p[c]
    cur = la + (il - 1) * L
    l1 = cur[2 * tl]
    l2 = cur[2 * tl - 1] if tl > 0 else -INFINITY
    nll[0] = -_lse2(l1, l2)


cdef void _grad_one(floating gr, const floating* lp, Py_ssize_t row,
                    Py_ssize_t T, Py_ssize_t C, const index_t* tgt,
                    Py_ssize_t il, Py_ssize_t tl, index_t blank,
                    const floating* la, Py_ssize_t L, floating nll,
                    bint zero_infinity, floating* beta, floating* g) noexcept nogil:
    cdef Py_ssize_t t, s, k, S2 = 2 * tl + 1
    cdef floating b2, b3
    cdef floating* nxt
    cdef floating* cur
    cdef floating* gt
    cdef const floating* p
    cdef const floating* at
    cdef index_t c
    if zero_infinity and nll == INFINITY:
        il = 0          # the whole item gets a zero gradient
    if il > 0 and not (nll < INFINITY):
        # no alignment (or NaN input): PyTorch's formula yields NaN everywhere
        for t in range(il):
            gt = g + t * row
            for k in range(C):
                gt[k] = NAN
    elif il > 0:
        # g[t, c] collects the occupancy: the posterior probability of label c
        # at frame t, sum over {s: label(s) == c} of
        # exp(alpha[t, s] + beta[t, s] - log_probs[t, c] + nll)  (each <= 1)
        for t in range(il):
            gt = g + t * row
            for k in range(C):
                gt[k] = 0
        # beta lives in two alternating rows of ``beta``
        t = il - 1
        cur = beta + (t % 2) * L
        p = lp + t * row
        gt = g + t * row
        at = la + t * L
        for s in range(S2):
            cur[s] = -INFINITY
        cur[2 * tl] = p[blank]
        gt[blank] = _exp0(at[2 * tl] + cur[2 * tl] + nll - p[blank])
        if tl > 0:
            c = tgt[tl - 1]
            cur[2 * tl - 1] = p[c]
            gt[c] = _exp0(at[2 * tl - 1] + cur[2 * tl - 1] + nll - p[c])
        for t in range(il - 2, -1, -1):
            nxt = beta + ((t + 1) % 2) * L
            cur = beta + (t % 2) * L
            p = lp + t * row
            gt = g + t * row
            at = la + t * L
            for s in range(S2 - 1, -1, -1):
                c = _label(tgt, s, blank)
                b2 = nxt[s + 1] if s < 2 * tl else -INFINITY
                if s < 2 * tl - 1 and (s & 1) and tgt[s // 2 + 1] != c:
                    b3 = nxt[s + 2]
                else:
                    b3 = -INFINITY
                cur[s] = _lse3(nxt[s], b2, b3) + p[c]
                gt[c] += _exp0(at[s] + cur[s] + nll - p[c])
        for t in range(il):
            p = lp + t * row
            gt = g + t * row
            for k in range(C):
                gt[k] = (_exp(p[k]) - gt[k]) * gr
    for t in range(il, T):
        gt = g + t * row
        for k in range(C):
            gt[k] = 0


cdef void _forward_batch(const floating* lp, Py_ssize_t N, Py_ssize_t C,
                         const index_t* tgt, const index_t* off,
                         const index_t* il, const index_t* tl, index_t blank,
                         floating* la, Py_ssize_t T, Py_ssize_t L,
                         floating* nll, int threads) noexcept nogil:
    cdef Py_ssize_t b
    for b in prange(N, schedule="static", num_threads=threads):
        _alpha_one(lp + b * C, N * C, tgt + off[b], il[b], tl[b], blank,
                   la + b * T * L, L, nll + b)


cdef void _backward_batch(const floating* go, const floating* lp, Py_ssize_t T,
                          Py_ssize_t N, Py_ssize_t C, const index_t* tgt,
                          const index_t* off, const index_t* il,
                          const index_t* tl, index_t blank, const floating* la,
                          Py_ssize_t L, const floating* nll, bint zero_infinity,
                          floating* beta, floating* g, int threads) noexcept nogil:
    cdef Py_ssize_t b
    for b in prange(N, schedule="static", num_threads=threads):
        _grad_one(go[b], lp + b * C, N * C, T, C, tgt + off[b], il[b], tl[b],
                  blank, la + b * T * L, L, nll[b], zero_infinity,
                  beta + 2 * b * L, g + b * C)


# --------------------------------------------------------------------------
# Argument checks (GIL held): everything the cores index with.

cdef Py_ssize_t _check(Py_ssize_t T, Py_ssize_t N, Py_ssize_t C,
                       const index_t[::1] targets, const index_t[::1] offsets,
                       const index_t[::1] input_lengths,
                       const index_t[::1] target_lengths, index_t blank,
                       Py_ssize_t L) except -1:
    """Validate the index arguments; return the number of DP cells."""
    cdef Py_ssize_t b, j, n_tg = targets.shape[0]
    cdef index_t o, n, v
    cdef Py_ssize_t cells = 0
    if offsets.shape[0] != N or input_lengths.shape[0] != N \
            or target_lengths.shape[0] != N:
        raise ValueError(
            f"offsets, input_lengths and target_lengths must have one entry per "
            f"batch item ({N}), got {offsets.shape[0]}, {input_lengths.shape[0]} "
            f"and {target_lengths.shape[0]}")
    if not 0 <= blank < C:
        raise ValueError(f"blank must be in label range [0, {C}), got {blank}")
    for b in range(N):
        n = input_lengths[b]
        if n < 0 or n > T:
            raise ValueError(
                f"input_lengths[{b}] = {n} is outside [0, {T}] (T = log_probs.size(0))")
        n = target_lengths[b]
        o = offsets[b]
        if n < 0 or n > (L - 1) // 2:         # 2n + 1 > L without overflow
            raise ValueError(
                f"target_lengths[{b}] = {n} is negative or exceeds the space "
                f"of log_alpha ({L} = 2 * max target length + 1)")
        if o < 0 or o > n_tg - n:
            raise ValueError(
                f"target {b} spans targets[{o}:{o + n}], outside the "
                f"{n_tg} given labels")
        for j in range(o, o + n):
            v = targets[j]
            if v < 0 or v >= C:
                raise ValueError(
                    f"target {b} contains label {v}, outside the {C} classes "
                    f"[0, {C})")
        cells += input_lengths[b] * (2 * n + 1)
    return cells


def ctc_forward(const floating[:, :, ::1] log_probs, const index_t[::1] targets,
                const index_t[::1] offsets, const index_t[::1] input_lengths,
                const index_t[::1] target_lengths, index_t blank,
                floating[:, :, ::1] log_alpha, floating[::1] nll):
    """Fill ``log_alpha`` (N, T, L) and ``nll`` (N,) = -log p(target | input).

    An item whose target cannot be aligned with its input gets ``inf``.
    """
    cdef Py_ssize_t T = log_probs.shape[0], N = log_probs.shape[1]
    cdef Py_ssize_t C = log_probs.shape[2], L = log_alpha.shape[2]
    if log_alpha.shape[0] != N or log_alpha.shape[1] != T or nll.shape[0] != N:
        raise ValueError(
            f"log_alpha must have shape ({N}, {T}, L) and nll ({N},), got "
            f"{tuple(log_alpha.shape)[:3]} and ({nll.shape[0]},)")
    if N == 0:
        return
    cdef Py_ssize_t cells = _check(T, N, C, targets, offsets, input_lengths,
                                   target_lengths, blank, L)
    cdef int threads = num_threads_for(N, cells * _CELL_WORK)
    with nogil:
        _forward_batch(&log_probs[0, 0, 0], N, C, &targets[0] if targets.shape[0] else NULL,
                       &offsets[0], &input_lengths[0], &target_lengths[0], blank,
                       &log_alpha[0, 0, 0], T, L, &nll[0], threads)


def ctc_backward(const floating[::1] grad_out, const floating[:, :, ::1] log_probs,
                 const index_t[::1] targets, const index_t[::1] offsets,
                 const index_t[::1] input_lengths, const index_t[::1] target_lengths,
                 index_t blank, const floating[:, :, ::1] log_alpha,
                 const floating[::1] nll, bint zero_infinity,
                 floating[:, :, ::1] grad):
    """Fill ``grad`` (T, N, C) with the gradient of ``sum(grad_out * nll)``.

    Uses PyTorch's formula ``(exp(log_probs) - gamma) * grad_out`` (see the
    module docstring); frames past an item's input length get 0, and so does
    every frame of an item with infinite loss when ``zero_infinity`` is set.
    """
    cdef Py_ssize_t T = log_probs.shape[0], N = log_probs.shape[1]
    cdef Py_ssize_t C = log_probs.shape[2], L = log_alpha.shape[2]
    if (grad.shape[0] != T or grad.shape[1] != N or grad.shape[2] != C
            or log_alpha.shape[0] != N or log_alpha.shape[1] != T
            or nll.shape[0] != N or grad_out.shape[0] != N):
        raise ValueError(
            "grad must have the shape of log_probs, log_alpha (N, T, L), nll "
            "and grad_out (N,)")
    if N == 0:
        return
    cdef Py_ssize_t cells = _check(T, N, C, targets, offsets, input_lengths,
                                   target_lengths, blank, L)
    cdef int threads = num_threads_for(N, cells * _CELL_WORK)
    # two rows of beta per batch item
    if floating is float:
        beta_arr = np.empty((N, 2, L), dtype=np.float32)
    else:
        beta_arr = np.empty((N, 2, L), dtype=np.float64)
    cdef floating[:, :, ::1] beta = beta_arr
    with nogil:
        _backward_batch(&grad_out[0], &log_probs[0, 0, 0], T, N, C,
                        &targets[0] if targets.shape[0] else NULL,
                        &offsets[0], &input_lengths[0], &target_lengths[0], blank,
                        &log_alpha[0, 0, 0], L, &nll[0], zero_infinity,
                        &beta[0, 0, 0], &grad[0, 0, 0], threads)
