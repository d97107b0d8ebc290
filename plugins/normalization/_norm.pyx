"""CPU kernels of the normalization family: per-channel statistics and the
normalize/affine step in one call, and the matching backward.

The input is viewed as ``(A, C, B)``; the statistics of channel ``c`` are taken
over ``x[:, c, :]`` (batch norm: ``(N, C, H*W)``; a per-row norm: ``(1, rows, K)``).
One thread handles whole channels (``prange`` over ``C``): it reads the channel
once for its sums, then writes the output while the channel is still in cache.
Sums are accumulated in double (also for float32 data), shifted by one sample of
the channel so that a large mean does not cancel the variance away.
"""

from cython.parallel cimport prange, threadid
from libc.math cimport sqrt

from ember_cython cimport floating, imin, num_threads_for

import numpy as np

cdef void _moments(const floating* x, Py_ssize_t A, Py_ssize_t stride, Py_ssize_t B,
                   double* mean, double* var) noexcept nogil:
    # x points at channel c of row 0; row a starts at x + a * stride
    cdef Py_ssize_t a, b
    cdef double shift = x[0]
    cdef double s0 = 0, s1 = 0, s2 = 0, s3 = 0, q0 = 0, q1 = 0, q2 = 0, q3 = 0
    cdef double d0, d1, d2, d3, n = <double>(A * B), m
    cdef const floating* row
    for a in range(A):
        row = x + a * stride
        b = 0
        # four independent chains: the adds do not wait on each other
        while b + 4 <= B:
            d0 = row[b] - shift
            d1 = row[b + 1] - shift
            d2 = row[b + 2] - shift
            d3 = row[b + 3] - shift
            s0 += d0
            s1 += d1
            s2 += d2
            s3 += d3
            q0 += d0 * d0
            q1 += d1 * d1
            q2 += d2 * d2
            q3 += d3 * d3
            b += 4
        while b < B:
            d0 = row[b] - shift
            s0 += d0
            q0 += d0 * d0
            b += 1
    m = (s0 + s1 + s2 + s3) / n
    mean[0] = shift + m
    m = (q0 + q1 + q2 + q3) / n - m * m
    var[0] = m if m > 0 else 0.0


cdef void _grad_sums(const floating* g, const floating* x, Py_ssize_t A, Py_ssize_t stride,
                     Py_ssize_t B, double mean, double* sg, double* sgx) noexcept nogil:
    cdef Py_ssize_t a, b
    cdef double s0 = 0, s1 = 0, s2 = 0, s3 = 0, q0 = 0, q1 = 0, q2 = 0, q3 = 0
    cdef const floating* xr
    cdef const floating* gr
    for a in range(A):
        xr = x + a * stride
        gr = g + a * stride
        b = 0
        while b + 4 <= B:
            s0 += gr[b]
            s1 += gr[b + 1]
            s2 += gr[b + 2]
            s3 += gr[b + 3]
            q0 += gr[b] * (xr[b] - mean)
            q1 += gr[b + 1] * (xr[b + 1] - mean)
            q2 += gr[b + 2] * (xr[b + 2] - mean)
            q3 += gr[b + 3] * (xr[b + 3] - mean)
            b += 4
        while b < B:
            s0 += gr[b]
            q0 += gr[b] * (xr[b] - mean)
            b += 1
    sg[0] = s0 + s1 + s2 + s3
    sgx[0] = q0 + q1 + q2 + q3


def _forward(const floating[:, :, ::1] x, const floating[::1] w, const floating[::1] bias,
             floating[:, :, ::1] y, double[::1] mean, double[::1] var, double eps):
    cdef Py_ssize_t A = x.shape[0], C = x.shape[1], B = x.shape[2], a, b, c
    cdef double inv
    cdef floating scale, shift, mf
    cdef const floating* xr
    cdef floating* yr
    cdef int nt = num_threads_for(C, A * C * B)
    with nogil:
        for c in prange(C, schedule="static", num_threads=nt):
            _moments(&x[0, c, 0], A, C * B, B, &mean[c], &var[c])
            inv = 1.0 / sqrt(var[c] + eps)
            scale = <floating>(inv * w[c])
            shift = bias[c]
            mf = <floating>mean[c]
            for a in range(A):
                xr = &x[a, c, 0]
                yr = &y[a, c, 0]
                for b in range(B):
                    yr[b] = (xr[b] - mf) * scale + shift


def _backward(const floating[:, :, ::1] g, const floating[:, :, ::1] x, const double[::1] mean,
              const double[::1] var, const floating[::1] w, double eps,
              floating[:, :, ::1] dx, floating[::1] dw, floating[::1] db, bint want_dx):
    cdef Py_ssize_t A = x.shape[0], C = x.shape[1], B = x.shape[2], a, b, c
    cdef double inv, sg, sgx, n = <double>(A * B)
    cdef floating k1, k2, k3, mf
    cdef const floating* xr
    cdef const floating* gr
    cdef floating* dr
    cdef int nt = num_threads_for(C, A * C * B)
    with nogil:
        for c in prange(C, schedule="static", num_threads=nt):
            sg = 0
            sgx = 0
            _grad_sums(&g[0, c, 0], &x[0, c, 0], A, C * B, B, mean[c], &sg, &sgx)
            inv = 1.0 / sqrt(var[c] + eps)
            dw[c] = <floating>(sgx * inv)
            db[c] = <floating>sg
            if want_dx:
                # dx = w*inv*(g - mean(g)) - w*inv^3*mean(g*(x-mean))*(x-mean); k3 = mean(g)
                k1 = <floating>(w[c] * inv)
                k2 = <floating>(-w[c] * inv * inv * inv * sgx / n)
                k3 = <floating>(sg / n)
                mf = <floating>mean[c]
                for a in range(A):
                    xr = &x[a, c, 0]
                    gr = &g[a, c, 0]
                    dr = &dx[a, c, 0]
                    for b in range(B):
                        dr[b] = (gr[b] - k3) * k1 + (xr[b] - mf) * k2


def _check(x, name):
    if x.ndim != 3:
        raise ValueError(f"normalization kernel: {name} must be 3-d (A, C, B), got {x.ndim}-d")
    if x.dtype != np.float32 and x.dtype != np.float64:
        raise TypeError(f"normalization kernel: {name} must be float32 or float64, got {x.dtype}")
    return np.ascontiguousarray(x)


def _vector(v, fill, c, dtype, name):
    if v is None:
        return np.full(c, fill, dtype=dtype)
    v = np.ascontiguousarray(v, dtype=dtype)
    if v.shape != (c,):
        raise ValueError(f"normalization kernel: {name} must have shape ({c},), got {v.shape}")
    return v


def batch_norm_forward(x, weight, bias, eps):
    """``(y, mean, var)``: ``x`` ``(A, C, B)`` normalized per channel with its own
    statistics (biased variance, both float64 ``(C,)``), times ``weight`` plus ``bias``."""
    x = _check(x, "input")
    c = x.shape[1]
    if x.shape[0] * x.shape[2] == 0 or c == 0:
        raise ValueError("normalization kernel: empty input")
    w = _vector(weight, 1, c, x.dtype, "weight")
    b = _vector(bias, 0, c, x.dtype, "bias")
    y = np.empty_like(x)
    mean = np.empty(c, dtype=np.float64)
    var = np.empty(c, dtype=np.float64)
    _forward(x, w, b, y, mean, var, float(eps))
    return y, mean, var


def batch_norm_backward(g, x, mean, var, eps, weight, want_dx=True):
    """``(dx, dweight, dbias)`` of :func:`batch_norm_forward` given the output
    gradient ``g`` and the saved ``mean``/``var``; ``dx`` is None unless ``want_dx``."""
    x = _check(x, "input")
    g = _check(g, "grad_output")
    if g.dtype != x.dtype:
        g = g.astype(x.dtype)
    if g.shape != x.shape:
        raise ValueError(f"normalization kernel: grad_output shape {g.shape} != input shape {x.shape}")
    c = x.shape[1]
    if x.shape[0] * x.shape[2] == 0 or c == 0:
        raise ValueError("normalization kernel: empty input")
    mean = _vector(mean, 0, c, np.float64, "mean")
    var = _vector(var, 0, c, np.float64, "var")
    w = _vector(weight, 1, c, x.dtype, "weight")
    dx = np.empty_like(x) if want_dx else np.empty((1, c, 1), dtype=x.dtype)
    dw = np.empty(c, dtype=x.dtype)
    db = np.empty(c, dtype=x.dtype)
    _backward(g, x, mean, var, w, float(eps), dx, dw, db, bool(want_dx))
    return (dx if want_dx else None), dw, db


# --- group-wise normalization with a per-channel affine (group norm, layer norm) ---
# x is (N*G, K, S): the statistics of row r (sample n, group g) are over its K*S
# values; the affine step uses channel c = g*K + k, the same for all S positions.
#
# The statistics are sums centred on the mean of a row's first few values (so a
# large mean does not cancel the variance away), with a second pass centred on the
# mean when that estimate was far off.  They run in vector lanes of the data's own
# type, added into doubles every 256 values, so float32 rounding stays confined to
# a few values per lane.

cdef enum:
    # layer norm backward: rows whose dweight/dbias are summed in the data's type
    # before they are added into the double totals
    ROWS_PER_CHUNK = 32

# The row loops are C: GCC/Clang vector types make the lanes of a sum explicit (the
# compiler may not reorder a plain float sum into lanes by itself, as that changes
# its rounding).  On x86-64 Linux GCC compiles each function three times (AVX-512,
# AVX2, SSE2) and the CPU's best is picked when the module loads (target_clones),
# while the rest of the build stays portable.  A vector of 64 bytes is 16 floats or
# 8 doubles, in 4 SSE, 2 AVX2 or 1 AVX-512 register.
cdef extern from *:
    """
    #include <string.h>
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
    #define EMBER_NORM_WIDE __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
    #else
    #define EMBER_NORM_WIDE
    #endif
    #define EMBER_NORM_BLOCK 256
    typedef float ember_norm_vf __attribute__((vector_size(64)));
    typedef double ember_norm_vd __attribute__((vector_size(64)));
    typedef double ember_norm_vf_wide __attribute__((vector_size(128)));  /* 16 doubles */

    /* One vector step at x + k: u is x - c, or g, or g * w; s += u, q += u * (x - c);
       with db, also db += g and dw += g * (x - c) * scale. */
    #define EMBER_NORM_STEP(k, s, q)                                                   \\
        memcpy(&d, x + (k), sizeof d);                                                 \\
        d = d - c;                                                                     \\
        if (g) memcpy(&u, g + (k), sizeof u); else u = d;                              \\
        if (db) {                                                                      \\
            memcpy(&pv, db + (k), sizeof pv);                                          \\
            pv += u;                                                                   \\
            memcpy(db + (k), &pv, sizeof pv);                                          \\
            memcpy(&pv, dw + (k), sizeof pv);                                          \\
            pv += u * (d * scale);                                                     \\
            memcpy(dw + (k), &pv, sizeof pv);                                          \\
        }                                                                              \\
        if (w) { memcpy(&wv, w + (k), sizeof wv); u = u * wv; }                        \\
        s += u;                                                                        \\
        q += u * d;

    /* total = sum(u), moment = sum(u * (x - c)) over [0:n] (u as in the step; g, w,
       dw, db NULL when absent).  Two accumulator vectors per sum keep two chains of
       adds in flight; each block's lanes go into double vectors (VD: as many doubles
       as V has lanes).  Inlined into entry points that pass NULL literally, so the
       tests on the pointers leave the loops. */
    #define EMBER_NORM_SUMS(T, V, VD, NAME)                                            \\
    static inline __attribute__((always_inline)) void NAME(                            \\
            const T* g, const T* w, const T* x, T* dw, T* db, Py_ssize_t n, T c,       \\
            T scale, double* total, double* moment) {                                  \\
        const Py_ssize_t lanes = sizeof(V) / sizeof(T);                                \\
        double st = 0, qt = 0;                                                         \\
        VD sd = {0}, qd = {0};                                                         \\
        Py_ssize_t i = 0, j, end;                                                      \\
        while (i < n) {                                                                \\
            V s0 = {0}, q0 = {0}, s1 = {0}, q1 = {0}, u, d, wv, pv;                    \\
            T ts = 0, tq = 0, us, ds;                                                  \\
            end = i + EMBER_NORM_BLOCK < n ? i + EMBER_NORM_BLOCK : n;                 \\
            for (; i + 2 * lanes <= end; i += 2 * lanes) {                             \\
                EMBER_NORM_STEP(i, s0, q0)                                             \\
                EMBER_NORM_STEP(i + lanes, s1, q1)                                     \\
            }                                                                          \\
            for (; i + lanes <= end; i += lanes) {                                     \\
                EMBER_NORM_STEP(i, s0, q0)                                             \\
            }                                                                          \\
            for (; i < end; i++) {                                                     \\
                ds = x[i] - c;                                                         \\
                us = g ? g[i] : ds;                                                    \\
                if (db) {                                                              \\
                    db[i] += us;                                                       \\
                    dw[i] += us * (ds * scale);                                        \\
                }                                                                      \\
                us *= w ? w[i] : (T)1;                                                 \\
                ts += us;                                                              \\
                tq += us * ds;                                                         \\
            }                                                                          \\
            st += ts;                                                                  \\
            qt += tq;                                                                  \\
            sd += __builtin_convertvector(s0 + s1, VD);                                \\
            qd += __builtin_convertvector(q0 + q1, VD);                                \\
        }                                                                              \\
        for (j = 0; j < lanes; j++) {                                                  \\
            st += sd[j];                                                               \\
            qt += qd[j];                                                               \\
        }                                                                              \\
        *total = st;                                                                   \\
        *moment = qt;                                                                  \\
    }

    #define EMBER_NORM_ROWS(T, V, VD, S)                                                \\
    EMBER_NORM_SUMS(T, V, VD, ember_norm_sums_##S)                                     \\
    /* sum(x - c), sum((x - c)^2) */                                                   \\
    EMBER_NORM_WIDE static void ember_norm_centred_##S(                                \\
            const T* x, Py_ssize_t n, T c, double* total, double* squares) {           \\
        ember_norm_sums_##S(NULL, NULL, x, NULL, NULL, n, c, 0, total, squares);       \\
    }                                                                                  \\
    /* sum(g), sum(g * (x - c)); with w: sum(g * w), sum(g * w * (x - c)) */           \\
    EMBER_NORM_WIDE static void ember_norm_gradient_##S(                               \\
            const T* g, const T* x, Py_ssize_t n, T c, double* total, double* moment) { \\
        ember_norm_sums_##S(g, NULL, x, NULL, NULL, n, c, 0, total, moment);           \\
    }                                                                                  \\
    /* the weighted sums, and db += g, dw += g * (x - c) * scale */                    \\
    EMBER_NORM_WIDE static void ember_norm_row_grads_##S(                              \\
            const T* g, const T* w, const T* x, T* dw, T* db, Py_ssize_t n, T c,       \\
            T scale, double* total, double* moment) {                                  \\
        ember_norm_sums_##S(g, w, x, dw, db, n, c, scale, total, moment);              \\
    }                                                                                  \\
    /* y = (x - c) * scale * w + b  (w, b per element; w NULL: scale alone) */         \\
    EMBER_NORM_WIDE static void ember_norm_affine_##S(                                 \\
            const T* restrict x, const T* restrict w, const T* restrict b,             \\
            T* restrict y, Py_ssize_t n, T c, T scale, T shift) {                      \\
        Py_ssize_t i;                                                                  \\
        if (w) { for (i = 0; i < n; i++) y[i] = (x[i] - c) * scale * w[i] + b[i]; }    \\
        else { for (i = 0; i < n; i++) y[i] = (x[i] - c) * scale + shift; }            \\
    }                                                                                  \\
    /* dx = (g * w - k3) * scale + (x - c) * k2  (w NULL: g * scale + (x - c) * k2 + k3) */ \\
    EMBER_NORM_WIDE static void ember_norm_input_grad_##S(                             \\
            const T* restrict g, const T* restrict w, const T* restrict x,             \\
            T* restrict dx, Py_ssize_t n, T c, T scale, T k2, T k3) {                  \\
        Py_ssize_t i;                                                                  \\
        if (w) { for (i = 0; i < n; i++) dx[i] = (g[i] * w[i] - k3) * scale + (x[i] - c) * k2; } \\
        else { for (i = 0; i < n; i++) dx[i] = g[i] * scale + (x[i] - c) * k2 + k3; }   \\
    }
    EMBER_NORM_ROWS(float, ember_norm_vf, ember_norm_vf_wide, f)
    EMBER_NORM_ROWS(double, ember_norm_vd, ember_norm_vd, d)
    """
    void ember_norm_centred_f(const float* x, Py_ssize_t n, float c, double* total,
                              double* squares) noexcept nogil
    void ember_norm_centred_d(const double* x, Py_ssize_t n, double c, double* total,
                              double* squares) noexcept nogil
    void ember_norm_gradient_f(const float* g, const float* x, Py_ssize_t n, float c,
                               double* total, double* moment) noexcept nogil
    void ember_norm_gradient_d(const double* g, const double* x, Py_ssize_t n, double c,
                               double* total, double* moment) noexcept nogil
    void ember_norm_row_grads_f(const float* g, const float* w, const float* x, float* dw,
                                float* db, Py_ssize_t n, float c, float scale, double* total,
                                double* moment) noexcept nogil
    void ember_norm_row_grads_d(const double* g, const double* w, const double* x, double* dw,
                                double* db, Py_ssize_t n, double c, double scale, double* total,
                                double* moment) noexcept nogil
    void ember_norm_affine_f(const float* x, const float* w, const float* b, float* y,
                             Py_ssize_t n, float c, float scale, float shift) noexcept nogil
    void ember_norm_affine_d(const double* x, const double* w, const double* b, double* y,
                             Py_ssize_t n, double c, double scale, double shift) noexcept nogil
    void ember_norm_input_grad_f(const float* g, const float* w, const float* x, float* dx,
                                 Py_ssize_t n, float c, float scale, float k2, float k3) noexcept nogil
    void ember_norm_input_grad_d(const double* g, const double* w, const double* x, double* dx,
                                 Py_ssize_t n, double c, double scale, double k2,
                                 double k3) noexcept nogil


# Fused-type fronts of the C row loops.

cdef inline void _centred(const floating* x, Py_ssize_t n, floating c, double* total,
                          double* squares) noexcept nogil:
    if floating is float:
        ember_norm_centred_f(x, n, c, total, squares)
    else:
        ember_norm_centred_d(x, n, c, total, squares)


cdef inline void _gradient(const floating* g, const floating* x, Py_ssize_t n, floating c,
                           double* total, double* moment) noexcept nogil:
    if floating is float:
        ember_norm_gradient_f(g, x, n, c, total, moment)
    else:
        ember_norm_gradient_d(g, x, n, c, total, moment)


cdef inline void _row_grads(const floating* g, const floating* w, const floating* x, floating* dw,
                            floating* db, Py_ssize_t n, floating c, floating scale, double* total,
                            double* moment) noexcept nogil:
    if floating is float:
        ember_norm_row_grads_f(g, w, x, dw, db, n, c, scale, total, moment)
    else:
        ember_norm_row_grads_d(g, w, x, dw, db, n, c, scale, total, moment)


cdef inline void _affine(const floating* x, const floating* w, const floating* b, floating* y,
                         Py_ssize_t n, floating c, floating scale, floating shift) noexcept nogil:
    if floating is float:
        ember_norm_affine_f(x, w, b, y, n, c, scale, shift)
    else:
        ember_norm_affine_d(x, w, b, y, n, c, scale, shift)


cdef inline void _input_grad(const floating* g, const floating* w, const floating* x, floating* dx,
                             Py_ssize_t n, floating c, floating scale, floating k2,
                             floating k3) noexcept nogil:
    if floating is float:
        ember_norm_input_grad_f(g, w, x, dx, n, c, scale, k2, k3)
    else:
        ember_norm_input_grad_d(g, w, x, dx, n, c, scale, k2, k3)


cdef inline void _moments_of(const floating* x, Py_ssize_t n, double* mean, double* var) noexcept nogil:
    # Centred on the mean of a few first values; when that was too far off (the
    # centred squares then hold more than twice the variance), once more on the mean.
    cdef Py_ssize_t i, few = imin(n, 16)
    cdef double total = 0, squares, m, v
    for i in range(few):
        total += x[i]
    cdef floating centre = <floating>(total / few)
    _centred(x, n, centre, &total, &squares)
    m = total / n
    if 2 * m * m > squares / n:
        centre = <floating>(centre + m)
        _centred(x, n, centre, &total, &squares)
        m = total / n
    mean[0] = centre + m
    v = squares / n - m * m
    var[0] = v if v > 0 else 0.0


cdef inline void _mean_square_of(const floating* x, Py_ssize_t n, double* var) noexcept nogil:
    # RMS norm's statistic: the sums of the centred pass, centred on 0
    cdef double total, squares
    _centred(x, n, 0, &total, &squares)
    var[0] = squares / n


cdef void _group_forward(const floating* x, floating* y, Py_ssize_t K, Py_ssize_t S,
                         const floating* w, const floating* bias, double eps,
                         double* mean, double* var, bint centred) noexcept nogil:
    # centred False: RMS norm, the mean held at 0 and var the mean square
    cdef Py_ssize_t k
    if centred:
        _moments_of(x, K * S, mean, var)
    else:
        mean[0] = 0
        _mean_square_of(x, K * S, var)
    cdef double inv = 1.0 / sqrt(var[0] + eps)
    cdef floating mf = <floating>mean[0]
    if S == 1:  # layer norm: one row, the affine varies along it
        _affine(x, w, bias, y, K, mf, <floating>inv, 0)
        return
    for k in range(K):
        _affine(x + k * S, <const floating*>NULL, <const floating*>NULL, y + k * S, S, mf,
                <floating>(inv * w[k]), bias[k])


cdef void _group_backward(const floating* g, const floating* x, Py_ssize_t K, Py_ssize_t S,
                          const floating* w, double mean, double var, double eps,
                          floating* dx, double* dw, double* db, bint want_dx) noexcept nogil:
    # dw/db: this thread's running sums over groups (double)
    cdef Py_ssize_t k
    cdef double inv = 1.0 / sqrt(var + eps), m = <double>(K * S)
    cdef floating mf = <floating>mean
    cdef double off = mean - mf  # sum(g*(x - mean)) = sum(g*(x - mf)) - off*sum(g)
    cdef double sgw = 0, sgxw = 0, sgk, sgxk, k2, k3
    for k in range(K):
        _gradient(g + k * S, x + k * S, S, mf, &sgk, &sgxk)
        sgxk -= off * sgk
        db[k] += sgk
        dw[k] += sgxk * inv
        sgw += sgk * w[k]
        sgxw += sgxk * w[k]
    if not want_dx:
        return
    # dx = inv*w*g - inv*mean(w*g) - (x - mean)*inv^3*mean(w*g*(x - mean))
    k2 = -inv * inv * inv * sgxw / m
    k3 = sgw / m
    for k in range(K):
        _input_grad(g + k * S, <const floating*>NULL, x + k * S, dx + k * S, S, mf,
                    <floating>(inv * w[k]), <floating>k2, <floating>(-inv * k3 - off * k2))


cdef void _row_backward(const floating* g, const floating* x, Py_ssize_t K, const floating* w,
                        double mean, double var, double eps, floating* dx, floating* dw,
                        floating* db, bint want_dx, bint centred) noexcept nogil:
    # _group_backward for S == 1 (layer norm; RMS norm when not centred, mean 0 and
    # var the mean square); dw/db: this chunk's sums (data type)
    cdef double inv = 1.0 / sqrt(var + eps), sgw, sgxw
    cdef floating mf = <floating>mean, invf = <floating>inv
    _row_grads(g, w, x, dw, db, K, mf, invf, &sgw, &sgxw)
    if not want_dx:
        return
    sgxw -= (mean - mf) * sgw
    # dx = inv*(g*w - mean(g*w)) - (x - mean)*inv^3*mean(g*w*(x - mean));
    # a group of one value: g*w - mean(g*w) is exactly 0 (both rounded alike);
    # RMS norm has no mean(g*w) term, as it subtracts no mean
    _input_grad(g, w, x, dx, K, mf, invf, <floating>(-inv * inv * inv * sgxw / K),
                <floating>(sgw / K) if centred else 0)


def _group_forward_all(const floating[:, :, ::1] x, const floating[::1] w,
                       const floating[::1] bias, floating[:, :, ::1] y,
                       double[::1] mean, double[::1] var, double eps, Py_ssize_t G,
                       bint centred):
    # x, y: (N*G, K, S)
    cdef Py_ssize_t R = x.shape[0], K = x.shape[1], S = x.shape[2], r
    cdef int nt = num_threads_for(R, R * K * S)
    with nogil:
        for r in prange(R, schedule="static", num_threads=nt):
            _group_forward(&x[r, 0, 0], &y[r, 0, 0], K, S, &w[(r % G) * K], &bias[(r % G) * K],
                           eps, &mean[r], &var[r], centred)


def _group_backward_all(const floating[:, :, ::1] g, const floating[:, :, ::1] x,
                        const double[::1] mean, const double[::1] var, const floating[::1] w,
                        double eps, Py_ssize_t G, floating[:, :, ::1] dx,
                        double[:, ::1] dw, double[:, ::1] db, bint want_dx):
    # S > 1.  dw, db: (threads, G*K) partial sums, one row per thread
    cdef Py_ssize_t R = x.shape[0], K = x.shape[1], S = x.shape[2], r
    cdef int nt = dw.shape[0], t
    with nogil:
        for r in prange(R, schedule="static", num_threads=nt):
            t = threadid()
            _group_backward(&g[r, 0, 0], &x[r, 0, 0], K, S, &w[(r % G) * K], mean[r], var[r], eps,
                            &dx[r, 0, 0] if want_dx else NULL,
                            &dw[t, (r % G) * K], &db[t, (r % G) * K], want_dx)


def _row_backward_all(const floating[:, :, ::1] g, const floating[:, :, ::1] x,
                      const double[::1] mean, const double[::1] var, const floating[::1] w,
                      double eps, Py_ssize_t G, floating[:, :, ::1] dx,
                      double[:, ::1] dw, double[:, ::1] db,
                      floating[:, ::1] chunk_dw, floating[:, ::1] chunk_db, bint want_dx,
                      bint centred):
    # S == 1.  dw, db: (threads, G*K) partial sums; chunk_dw/chunk_db: each thread's
    # sums over its current chunk of rows
    cdef Py_ssize_t R = x.shape[0], K = x.shape[1], C = dw.shape[1], chunks, ch, r, c, o
    cdef int nt = dw.shape[0], t
    chunks = (R + ROWS_PER_CHUNK - 1) // ROWS_PER_CHUNK
    with nogil:
        for ch in prange(chunks, schedule="static", num_threads=nt):
            t = threadid()
            for c in range(C):
                chunk_dw[t, c] = 0
                chunk_db[t, c] = 0
            for r in range(ch * ROWS_PER_CHUNK, imin(R, (ch + 1) * ROWS_PER_CHUNK)):
                o = (r % G) * K
                _row_backward(&g[r, 0, 0], &x[r, 0, 0], K, &w[o], mean[r], var[r], eps,
                              &dx[r, 0, 0] if want_dx else NULL,
                              &chunk_dw[t, o], &chunk_db[t, o], want_dx, centred)
            for c in range(C):
                dw[t, c] += chunk_dw[t, c]
                db[t, c] += chunk_db[t, c]


def _group_view(x, groups, channels, name):
    """``x`` of shape ``(N, G*K, S)`` as contiguous ``(N*G, K, S)``."""
    x = _check(x, name)
    n, c, s = x.shape
    if groups <= 0 or c != channels or c % groups:
        raise ValueError(f"normalization kernel: {name} has {c} channels, expected {channels} "
                         f"in {groups} groups")
    return x.reshape(n * groups, c // groups, s)


def _grouped_forward(x, groups, weight, bias, eps, centred):
    n, c, s = x.shape
    if n * c * s == 0:
        raise ValueError("normalization kernel: empty input")
    x3 = _group_view(x, groups, c, "input")
    w = _vector(weight, 1, c, x3.dtype, "weight")
    b = _vector(bias, 0, c, x3.dtype, "bias")
    y = np.empty_like(x3)
    mean = np.empty(x3.shape[0], dtype=np.float64)
    var = np.empty(x3.shape[0], dtype=np.float64)
    _group_forward_all(x3, w, b, y, mean, var, float(eps), groups, centred)
    return y.reshape(x.shape), mean, var


def _grouped_backward(g, x, mean, var, eps, groups, weight, want_dx, centred):
    n, c, s = x.shape
    if n * c * s == 0:
        raise ValueError("normalization kernel: empty input")
    x3 = _group_view(x, groups, c, "input")
    g3 = _group_view(g.astype(x3.dtype, copy=False), groups, c, "grad_output")
    if g3.shape != x3.shape:
        raise ValueError(f"normalization kernel: grad_output shape {g.shape} != input shape {x.shape}")
    rows = x3.shape[0]
    mean = _vector(mean, 0, rows, np.float64, "mean")
    var = _vector(var, 0, rows, np.float64, "var")
    w = _vector(weight, 1, c, x3.dtype, "weight")
    threads = num_threads_for(rows, rows * (c // groups) * s)
    dw = np.zeros((threads, c), dtype=np.float64)
    db = np.zeros((threads, c), dtype=np.float64)
    dx = np.empty_like(x3) if want_dx else np.empty((1, 1, 1), dtype=x3.dtype)
    if s == 1:
        chunk_dw = np.empty((threads, c), dtype=x3.dtype)
        chunk_db = np.empty((threads, c), dtype=x3.dtype)
        _row_backward_all(g3, x3, mean, var, w, float(eps), groups, dx, dw, db,
                          chunk_dw, chunk_db, bool(want_dx), centred)
    else:
        _group_backward_all(g3, x3, mean, var, w, float(eps), groups, dx, dw, db, bool(want_dx))
    return ((dx.reshape(x.shape) if want_dx else None), dw.sum(0).astype(x3.dtype),
            db.sum(0).astype(x3.dtype))


def group_norm_forward(x, groups, weight, bias, eps):
    """``(y, mean, var)``: ``x`` ``(N, C, S)`` normalized over each of the ``groups``
    channel groups of each sample (statistics float64 ``(N*groups,)``), then
    ``y * weight[c] + bias[c]``. Layer norm is ``(rows, K, 1)`` with one group."""
    return _grouped_forward(x, groups, weight, bias, eps, True)


def group_norm_backward(g, x, mean, var, eps, groups, weight, want_dx=True):
    """``(dx, dweight, dbias)`` of :func:`group_norm_forward` given the output
    gradient ``g``; ``dx`` is None unless ``want_dx``."""
    return _grouped_backward(g, x, mean, var, eps, groups, weight, want_dx, True)


# RMS norm is layer norm with the mean held at 0: the same row loops, ``var`` the
# mean square and no mean(g*w) term in the input's gradient.

def _rows(x, name):
    if x.ndim != 2:
        raise ValueError(f"normalization kernel: {name} must be 2-d (rows, K), got {x.ndim}-d")
    return x.reshape(x.shape + (1,))


def rms_norm_forward(x, weight, eps):
    """``(y, ms)``: each row of ``x`` ``(R, K)`` divided by ``sqrt(mean(x**2) + eps)``,
    times ``weight`` ``(K,)`` (None: ones); ``ms`` the rows' mean squares (float64)."""
    y, _, ms = _grouped_forward(_rows(x, "input"), 1, weight, None, eps, False)
    return y.reshape(x.shape), ms


def rms_norm_backward(g, x, ms, eps, weight, want_dx=True):
    """``(dx, dweight)`` of :func:`rms_norm_forward` given the output gradient ``g``
    and the saved mean squares; ``dx`` is None unless ``want_dx``."""
    zero = np.zeros(x.shape[0], dtype=np.float64)
    dx, dw, _ = _grouped_backward(_rows(g, "grad_output"), _rows(x, "input"), zero, ms, eps, 1,
                                  weight, want_dx, False)
    return (None if dx is None else dx.reshape(x.shape)), dw
