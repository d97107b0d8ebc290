"""CPU kernels of the normalization family: per-channel statistics and the
normalize/affine step in one call, and the matching backward.

The input is viewed as ``(A, C, B)``; the statistics of channel ``c`` are taken
over ``x[:, c, :]`` (batch norm: ``(N, C, H*W)``; a per-row norm: ``(1, rows, K)``).
One thread handles whole channels (``prange`` over ``C``): it reads the channel
once for its sums, then writes the output while the channel is still in cache.
Sums are accumulated in double (also for float32 data), shifted by one sample of
the channel so that a large mean does not cancel the variance away.
"""

from cython.parallel import prange
from cython cimport floating
from libc.math cimport sqrt
from openmp cimport omp_get_max_threads

import numpy as np

# below this many elements one thread does the work: starting (and, on a busy
# machine, waiting for) a team costs more than the arithmetic
DEF SMALL = 32768


cdef int _threads(Py_ssize_t size) noexcept nogil:
    return 1 if size < SMALL else omp_get_max_threads()


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
    cdef int nt = _threads(A * C * B)
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
    cdef int nt = _threads(A * C * B)
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
