"""Direct stride-1 convolution on the CPU, for layers with few channels, where
im2col would copy each input element ``prod(kernel)`` times for a product too
thin to run BLAS at speed (LeNet's 1 -> 6 and 6 -> 16 channel 5x5 layers).

One sample's channels are copied into a zero-padded buffer of ``Hp x Wp``
planes. Flattened, output position ``(oh, ow)`` is ``i = oh * Wp + ow`` and tap
``(kh, kw)`` reads the buffer at ``i + kh * dH * Wp + kw * dW``: every tap is a
unit-stride run, and the ``Wp - OW`` positions between the ends of two output
rows, computed along, are dropped. So the convolution of a block of four output
channels is a sum of vector multiply-adds over the channels and taps, with eight
vector accumulators in registers (:c:func:`ember_direct_block_f`); the weight
gradient is a dot product per (output channel, input channel, tap), with the
output gradient spread the same way and zeros at the dropped positions
(:c:func:`ember_direct_wgrad_f`).

The input gradient of a convolution is the convolution of the output gradient
with the kernel flipped in both dims and its channel dims swapped, padded by
``dilation * (kernel - 1) - padding`` before (negative padding crops), which
:func:`conv2d` runs with ``transposed``.
"""

from cython.parallel cimport prange, threadid
from libc.string cimport memset

from ember_cython cimport floating, imax, imin, num_threads_for

import numpy as np


# The loops over positions are C with GCC/Clang vector types (8 floats or 4
# doubles), so each tap is one broadcast multiply-add per vector and the eight
# accumulators stay in registers. On x86-64 Linux GCC compiles them for AVX-512,
# AVX2 and SSE2, and the CPU's best is picked when the module loads
# (EMBER_SIMD_CLONES, from ember_cython.pxd); the rest of the build stays portable.
cdef extern from *:
    """
    #include <string.h>
    #define EMBER_DIRECT_BYTES 32
    /* output channels per block; positions per step of the block kernel are two
       vectors, so spans are rounded up to EMBER_DIRECT_STEP (a multiple of both) */
    #define EMBER_DIRECT_CHANNELS 4
    #define EMBER_DIRECT_STEP 16
    typedef float ember_direct_vf __attribute__((vector_size(EMBER_DIRECT_BYTES)));
    typedef double ember_direct_vd __attribute__((vector_size(EMBER_DIRECT_BYTES)));

    #define EMBER_DIRECT_KERNELS(T, V, S)                                              \\
    /* out[k * span + i] = sum over planes c and taps t of                              \\
       w[(c * taps + t) * 4 + k] * x[c * plane + offs[t] + i], for i < span (a multiple \\
       of EMBER_DIRECT_STEP) and the block's four channels k. */                       \\
    EMBER_SIMD_CLONES static void ember_direct_block_##S(                               \\
            const T* x, Py_ssize_t plane, Py_ssize_t planes, const Py_ssize_t* offs,    \\
            Py_ssize_t taps, const T* w, T* out, Py_ssize_t span) {                     \\
        const Py_ssize_t L = sizeof(V) / sizeof(T);                                     \\
        Py_ssize_t i, c, t, j;                                                          \\
        for (i = 0; i < span; i += 2 * L) {                                             \\
            V a00 = {0}, a01 = {0}, a10 = {0}, a11 = {0};                               \\
            V a20 = {0}, a21 = {0}, a30 = {0}, a31 = {0};                               \\
            const T* wp = w;                                                            \\
            for (c = 0; c < planes; c++) {                                              \\
                const T* xc = x + c * plane + i;                                        \\
                for (t = 0; t < taps; t++, wp += 4) {                                   \\
                    V x0, x1;                                                           \\
                    memcpy(&x0, xc + offs[t], sizeof x0);                               \\
                    memcpy(&x1, xc + offs[t] + L, sizeof x1);                           \\
                    a00 += wp[0] * x0; a01 += wp[0] * x1;                               \\
                    a10 += wp[1] * x0; a11 += wp[1] * x1;                               \\
                    a20 += wp[2] * x0; a21 += wp[2] * x1;                               \\
                    a30 += wp[3] * x0; a31 += wp[3] * x1;                               \\
                }                                                                       \\
            }                                                                           \\
            {                                                                           \\
                V* acc[8] = {&a00, &a01, &a10, &a11, &a20, &a21, &a30, &a31};           \\
                for (j = 0; j < 8; j++)                                                 \\
                    memcpy(out + (j / 2) * span + i + (j % 2) * L, acc[j], sizeof(V));  \\
            }                                                                           \\
        }                                                                               \\
    }                                                                                   \\
    static inline T ember_direct_sum_##S(V v) {                                         \\
        T s = 0;                                                                        \\
        Py_ssize_t l;                                                                   \\
        for (l = 0; l < (Py_ssize_t)(sizeof(V) / sizeof(T)); l++) s += v[l];            \\
        return s;                                                                       \\
    }                                                                                   \\
    /* dw[(c * taps + t) * 4 + k] += the sum over i < span of                          \\
       dy[k * span + i] * x[c * plane + offs[t] + i]: two taps at a time. */            \\
    EMBER_SIMD_CLONES static void ember_direct_wgrad_##S(                               \\
            const T* x, Py_ssize_t plane, Py_ssize_t planes, const Py_ssize_t* offs,    \\
            Py_ssize_t taps, const T* dy, Py_ssize_t span, T* dw) {                     \\
        const Py_ssize_t L = sizeof(V) / sizeof(T);                                     \\
        Py_ssize_t i, c, t;                                                             \\
        for (c = 0; c < planes; c++) {                                                  \\
            for (t = 0; t < taps; t += 2) {                                             \\
                const T* p0 = x + c * plane + offs[t];                                  \\
                const T* p1 = x + c * plane + offs[t + 1 < taps ? t + 1 : t];           \\
                V s00 = {0}, s01 = {0}, s10 = {0}, s11 = {0};                           \\
                V s20 = {0}, s21 = {0}, s30 = {0}, s31 = {0};                           \\
                T* o = dw + (c * taps + t) * 4;                                         \\
                for (i = 0; i < span; i += L) {                                         \\
                    V x0, x1, d;                                                        \\
                    memcpy(&x0, p0 + i, sizeof x0);                                     \\
                    memcpy(&x1, p1 + i, sizeof x1);                                     \\
                    memcpy(&d, dy + i, sizeof d); s00 += d * x0; s01 += d * x1;         \\
                    memcpy(&d, dy + span + i, sizeof d); s10 += d * x0; s11 += d * x1;  \\
                    memcpy(&d, dy + 2 * span + i, sizeof d); s20 += d * x0; s21 += d * x1; \\
                    memcpy(&d, dy + 3 * span + i, sizeof d); s30 += d * x0; s31 += d * x1; \\
                }                                                                       \\
                o[0] += ember_direct_sum_##S(s00); o[1] += ember_direct_sum_##S(s10);   \\
                o[2] += ember_direct_sum_##S(s20); o[3] += ember_direct_sum_##S(s30);   \\
                if (t + 1 < taps) {                                                     \\
                    o[4] += ember_direct_sum_##S(s01); o[5] += ember_direct_sum_##S(s11); \\
                    o[6] += ember_direct_sum_##S(s21); o[7] += ember_direct_sum_##S(s31); \\
                }                                                                       \\
            }                                                                           \\
        }                                                                               \\
    }
    EMBER_DIRECT_KERNELS(float, ember_direct_vf, f)
    EMBER_DIRECT_KERNELS(double, ember_direct_vd, d)
    """
    const Py_ssize_t CHANNELS "EMBER_DIRECT_CHANNELS"
    const Py_ssize_t STEP "EMBER_DIRECT_STEP"
    void ember_direct_block_f(const float* x, Py_ssize_t plane, Py_ssize_t planes,
                              const Py_ssize_t* offs, Py_ssize_t taps, const float* w,
                              float* out, Py_ssize_t span) noexcept nogil
    void ember_direct_block_d(const double* x, Py_ssize_t plane, Py_ssize_t planes,
                              const Py_ssize_t* offs, Py_ssize_t taps, const double* w,
                              double* out, Py_ssize_t span) noexcept nogil
    void ember_direct_wgrad_f(const float* x, Py_ssize_t plane, Py_ssize_t planes,
                              const Py_ssize_t* offs, Py_ssize_t taps, const float* dy,
                              Py_ssize_t span, float* dw) noexcept nogil
    void ember_direct_wgrad_d(const double* x, Py_ssize_t plane, Py_ssize_t planes,
                              const Py_ssize_t* offs, Py_ssize_t taps, const double* dy,
                              Py_ssize_t span, double* dw) noexcept nogil


cdef struct Layout:
    Py_ssize_t C, H, W          # image channels and size
    Py_ssize_t pH, pW           # zeros before the image (negative: rows/columns cropped)
    Py_ssize_t Hp, Wp           # padded plane
    Py_ssize_t OH, OW           # output
    Py_ssize_t plane            # Hp * Wp
    Py_ssize_t span             # (OH - 1) * Wp + OW, rounded up to STEP
    Py_ssize_t taps             # KH * KW
    Py_ssize_t blocks           # output channels / CHANNELS, rounded up


cdef Py_ssize_t _scratch_size(Layout g) noexcept:
    # the padded planes, STEP zeros read past the last one and four spread rows, in
    # whole pages and a page apart: threads writing next to each other's rows ran
    # 20-40% slower
    return (g.C * g.plane + STEP + CHANNELS * g.span + 2047) // 1024 * 1024


cdef void _pad_plane(const floating* src, floating* dst, Layout g) noexcept nogil:
    """dst (Hp, Wp) = src (H, W) moved by (pH, pW), zeros around."""
    cdef Py_ssize_t y, r, X
    cdef Py_ssize_t lo = imax(0, g.pW), hi = imax(lo, imin(g.Wp, g.W + g.pW))
    cdef floating* row
    for y in range(g.Hp):
        row = dst + y * g.Wp
        r = y - g.pH
        if r < 0 or r >= g.H:
            memset(row, 0, g.Wp * sizeof(floating))
            continue
        memset(row, 0, lo * sizeof(floating))
        for X in range(lo, hi):
            row[X] = src[r * g.W + X - g.pW]
        memset(row + hi, 0, (g.Wp - hi) * sizeof(floating))


cdef floating* _pad_sample(const floating* src, floating* dst, Layout g) noexcept nogil:
    """All channels of one sample padded into a thread's scratch, then STEP zeros;
    returns where the scratch's spread rows start."""
    cdef Py_ssize_t c
    for c in range(g.C):
        _pad_plane(&src[c * g.H * g.W], &dst[c * g.plane], g)
    memset(&dst[g.C * g.plane], 0, STEP * sizeof(floating))
    return dst + g.C * g.plane + STEP


cdef void _forward_all(const floating[:, ::1] x, const floating[:, ::1] w, const floating[::1] bias,
                       floating[:, :, ::1] out, const Py_ssize_t[::1] offs, floating[:, ::1] scratch,
                       Layout g, int threads) noexcept:
    # one (sample, block of CHANNELS output channels) per item
    cdef Py_ssize_t item, n, b, k, co, oh, ow, items = x.shape[0] * g.blocks
    cdef Py_ssize_t Co = out.shape[1]
    cdef floating* buf
    cdef floating* wide
    cdef floating* dst
    with nogil:
        for item in prange(items, schedule="static", num_threads=threads):
            n = item // g.blocks
            b = item % g.blocks
            buf = &scratch[threadid(), 0]
            wide = _pad_sample(&x[n, 0], buf, g)
            if floating is float:
                ember_direct_block_f(buf, g.plane, g.C, &offs[0], g.taps, &w[b, 0], wide, g.span)
            else:
                ember_direct_block_d(buf, g.plane, g.C, &offs[0], g.taps, &w[b, 0], wide, g.span)
            for k in range(CHANNELS):
                co = b * CHANNELS + k
                if co >= Co:
                    break
                for oh in range(g.OH):
                    dst = &out[n, co, oh * g.OW]
                    for ow in range(g.OW):
                        dst[ow] = wide[k * g.span + oh * g.Wp + ow] + bias[co]


cdef void _wgrad_all(const floating[:, ::1] x, const floating[:, :, ::1] dy, floating[:, :, ::1] acc,
                     const Py_ssize_t[::1] offs, floating[:, ::1] scratch, Layout g,
                     int threads) noexcept:
    # one (sample, block) per item, each thread adding into its own acc[thread]
    cdef Py_ssize_t item, n, b, k, co, oh, ow, items = x.shape[0] * g.blocks
    cdef Py_ssize_t Co = dy.shape[1]
    cdef int t
    cdef floating* buf
    cdef floating* wide
    with nogil:
        for item in prange(items, schedule="static", num_threads=threads):
            n = item // g.blocks
            b = item % g.blocks
            t = threadid()
            buf = &scratch[t, 0]
            wide = _pad_sample(&x[n, 0], buf, g)
            memset(wide, 0, CHANNELS * g.span * sizeof(floating))
            for k in range(CHANNELS):
                co = b * CHANNELS + k
                if co >= Co:
                    break
                for oh in range(g.OH):
                    for ow in range(g.OW):
                        wide[k * g.span + oh * g.Wp + ow] = dy[n, co, oh * g.OW + ow]
            if floating is float:
                ember_direct_wgrad_f(buf, g.plane, g.C, &offs[0], g.taps, wide, g.span, &acc[t, b, 0])
            else:
                ember_direct_wgrad_d(buf, g.plane, g.C, &offs[0], g.taps, wide, g.span, &acc[t, b, 0])


cdef Layout _layout(x_shape, out_sp, kernel, dilation, before, Py_ssize_t out_channels) except *:
    cdef Layout g
    g.C, g.H, g.W = x_shape[1], x_shape[2], x_shape[3]
    g.OH, g.OW = out_sp
    g.pH, g.pW = before
    KH, KW = kernel
    dH, dW = dilation
    if min(KH, KW, dH, dW) < 1 or min(g.OH, g.OW) < 1:
        raise ValueError(f"direct conv: kernel {tuple(kernel)}, dilation {tuple(dilation)} "
                         f"and output {tuple(out_sp)} must be positive")
    g.Hp = g.OH + dH * (KH - 1)
    g.Wp = g.OW + dW * (KW - 1)
    g.plane = g.Hp * g.Wp
    g.span = ((g.OH - 1) * g.Wp + g.OW + STEP - 1) // STEP * STEP
    g.taps = KH * KW
    g.blocks = (out_channels + CHANNELS - 1) // CHANNELS
    return g


#: The most one thread's buffers (a padded sample and four spread output rows) may
#: take; above it the kernels decline.
MAX_SCRATCH_BYTES = 1 << 26


def _offsets(kernel, dilation, Py_ssize_t Wp):
    """Where each tap (C order) reads in a padded plane, from an output position."""
    KH, KW = kernel
    dH, dW = dilation
    return np.array([kh * dH * Wp + kw * dW for kh in range(KH) for kw in range(KW)], dtype=np.intp)


def _blocked(w):
    """``(Co, Ci, KH, KW)`` -> ``(blocks, Ci * KH * KW * CHANNELS)``: each block's
    four channels innermost, channels past ``Co`` zero."""
    Co = w.shape[0]
    blocks = (Co + CHANNELS - 1) // CHANNELS
    padded = np.zeros((blocks * CHANNELS,) + w.shape[1:], dtype=w.dtype)
    padded[:Co] = w
    return np.ascontiguousarray(
        padded.reshape(blocks, CHANNELS, -1).transpose(0, 2, 1)).reshape(blocks, -1)


def _float_array(a, name, ndim):
    if not isinstance(a, np.ndarray) or a.dtype not in (np.float32, np.float64) or a.ndim != ndim:
        raise ValueError(f"direct conv: {name} must be a {ndim}-d float32 or float64 array, got "
                         f"{getattr(a, 'dtype', type(a).__name__)} of shape {getattr(a, 'shape', None)}")


def conv2d(x, weight, out_sp, padding, dilation=(1, 1), bias=None, transposed=False):
    """Stride-1 cross-correlation of ``x (N, Ci, H, W)`` with ``weight (Co, Ci, KH, KW)``
    (same float dtype), ``padding = (pH, pW)`` zeros before the image, plus ``bias
    (Co,)`` when given -> ``(N, Co, *out_sp)``; the zeros after the image are what
    ``out_sp`` needs (negative: rows and columns dropped).

    ``transposed``: the stride-1 transposed convolution with ``weight (Ci, Co, KH, KW)``
    and padding ``padding`` instead, to ``out_sp`` (which covers an output padding):
    the convolution with the kernel flipped and padded by ``dilation * (k - 1) - padding``.

    None when one sample's buffers would take more than ``MAX_SCRATCH_BYTES`` (a
    very long image: im2col's chunks need less)."""
    _float_array(x, "image", 4)
    _float_array(weight, "weight", 4)
    if weight.dtype != x.dtype or weight.shape[0 if transposed else 1] != x.shape[1]:
        raise ValueError(f"direct conv: weight {weight.dtype} {weight.shape} does not fit image "
                         f"{x.dtype} {x.shape}")
    kernel, dilation = weight.shape[2:], tuple(int(d) for d in dilation)
    before = tuple(int(p) for p in padding)
    if transposed:
        weight = weight.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1]
        before = tuple(d * (k - 1) - p for d, k, p in zip(dilation, kernel, before))
    N, Co = x.shape[0], weight.shape[0]
    cdef Layout g = _layout(x.shape, out_sp, kernel, dilation, before, Co)
    if _scratch_size(g) * x.itemsize > MAX_SCRATCH_BYTES:
        return None
    b = np.zeros(Co, dtype=x.dtype) if bias is None else np.ascontiguousarray(bias, dtype=x.dtype)
    if b.shape != (Co,):
        raise ValueError(f"direct conv: bias of shape {b.shape} for {Co} channels")
    out = np.empty((N, Co, g.OH * g.OW), dtype=x.dtype)
    if out.size:
        xs = np.ascontiguousarray(x).reshape(N, g.C * g.H * g.W)
        offs = _offsets(kernel, dilation, g.Wp)
        threads = num_threads_for(N * g.blocks, N * g.blocks * g.C * g.taps * CHANNELS * g.span)
        scratch = np.empty((threads, _scratch_size(g)), dtype=x.dtype)
        if x.dtype == np.float32:
            _forward_all[float](xs, _blocked(weight), b, out, offs, scratch, g, threads)
        else:
            _forward_all[double](xs, _blocked(weight), b, out, offs, scratch, g, threads)
    return out.reshape((N, Co) + tuple(out_sp))


def conv2d_weight_grad(x, dy, kernel, padding, dilation=(1, 1)):
    """The gradient of ``conv2d(x, weight, dy.shape[2:], padding, dilation)`` with
    respect to its ``weight`` of spatial size ``kernel``, given the gradient ``dy (N,
    Co, OH, OW)`` of its output -> ``(Co, Ci, KH, KW)``, or None when ``x`` holds an
    infinity or NaN (the dropped positions multiply inputs by zeros, and ``0 * inf``
    would turn an infinite gradient into NaN) or the buffers would be too large, as
    in :func:`conv2d`."""
    _float_array(x, "image", 4)
    _float_array(dy, "output gradient", 4)
    if dy.dtype != x.dtype or dy.shape[0] != x.shape[0]:
        raise ValueError(f"direct conv: output gradient {dy.dtype} {dy.shape} does not fit image "
                         f"{x.dtype} {x.shape}")
    N, Ci, Co = x.shape[0], x.shape[1], dy.shape[1]
    kernel, dilation = tuple(int(k) for k in kernel), tuple(int(d) for d in dilation)
    cdef Layout g = _layout(x.shape, dy.shape[2:], kernel, dilation, tuple(int(p) for p in padding), Co)
    if _scratch_size(g) * x.itemsize > MAX_SCRATCH_BYTES or (x.size and not np.isfinite(x).all()):
        return None
    if N == 0 or Co == 0 or Ci == 0:
        return np.zeros((Co, Ci) + kernel, dtype=x.dtype)
    xs = np.ascontiguousarray(x).reshape(N, g.C * g.H * g.W)
    dys = np.ascontiguousarray(dy).reshape(N, Co, g.OH * g.OW)
    offs = _offsets(kernel, dilation, g.Wp)
    threads = num_threads_for(N * g.blocks, N * g.blocks * g.C * g.taps * CHANNELS * g.span)
    scratch = np.empty((threads, _scratch_size(g)), dtype=x.dtype)
    acc = np.zeros((threads, g.blocks, g.C * g.taps * CHANNELS), dtype=x.dtype)
    if x.dtype == np.float32:
        _wgrad_all[float](xs, dys, acc, offs, scratch, g, threads)
    else:
        _wgrad_all[double](xs, dys, acc, offs, scratch, g, threads)
    blocked = acc.sum(0).reshape(g.blocks, Ci * g.taps, CHANNELS)
    return np.ascontiguousarray(blocked.transpose(0, 2, 1).reshape(-1, Ci * g.taps)[:Co]).reshape(
        (Co, Ci) + kernel)
