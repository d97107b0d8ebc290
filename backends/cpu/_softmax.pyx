"""Softmax and log-softmax over the rows of a 2-D array, forward and backward.

Every public function takes C-contiguous float32 or float64 arrays of one dtype
and shape ``(rows, n)``, writes into ``out`` (which must not share memory with an
input) and returns None; the arguments are checked with the GIL held. Rows are
split over OpenMP threads when there is enough work (ember_cython's thread policy).

A row's maximum is subtracted before exponentiating, so no finite input
overflows; the exponentials use the vectorised ``_exp_nonpos`` and the row sums
accumulate in double. A row whose maximum is not finite (an infinity, or nothing
but -inf) comes out all NaN, as in torch, where ``x - max`` has a NaN there.
"""
from cython.parallel cimport prange
from libc.math cimport NAN, isfinite, log

cimport numpy as cnp
import numpy as np
from ember_cython cimport floating, num_threads_for

cnp.import_array()

include "_fast_exp.pxi"


# Cython cannot write OpenMP's simd pragma; these reductions vectorise with it
# (and run serially, still correct, in a build without OpenMP).
cdef extern from *:
    """
    #define EMBER_ROW_REDUCTIONS(T, S)                                               \\
    static inline double ember_sum_##S(const T* a, Py_ssize_t n) {                   \\
        double s = 0;                                                                \\
        _Pragma("omp simd reduction(+:s)")                                           \\
        for (Py_ssize_t i = 0; i < n; i++) s += a[i];                                \\
        return s;                                                                    \\
    }                                                                                \\
    static inline double ember_dot_##S(const T* a, const T* b, Py_ssize_t n) {       \\
        double s = 0;                                                                \\
        _Pragma("omp simd reduction(+:s)")                                           \\
        for (Py_ssize_t i = 0; i < n; i++) s += (double)a[i] * b[i];                 \\
        return s;                                                                    \\
    }                                                                                \\
    static inline T ember_max_##S(const T* a, Py_ssize_t n) {                        \\
        T m = a[0];                                                                  \\
        _Pragma("omp simd reduction(max:m)")                                         \\
        for (Py_ssize_t i = 1; i < n; i++) m = a[i] > m ? a[i] : m;                  \\
        return m;                                                                    \\
    }
    EMBER_ROW_REDUCTIONS(float, f)
    EMBER_ROW_REDUCTIONS(double, d)
    """
    double ember_sum_f(const float*, Py_ssize_t) noexcept nogil
    double ember_sum_d(const double*, Py_ssize_t) noexcept nogil
    double ember_dot_f(const float*, const float*, Py_ssize_t) noexcept nogil
    double ember_dot_d(const double*, const double*, Py_ssize_t) noexcept nogil
    float ember_max_f(const float*, Py_ssize_t) noexcept nogil
    double ember_max_d(const double*, Py_ssize_t) noexcept nogil


cdef inline double _sum(const floating* a, Py_ssize_t n) noexcept nogil:
    if floating is float:
        return ember_sum_f(a, n)
    else:
        return ember_sum_d(a, n)


cdef inline double _dot(const floating* a, const floating* b, Py_ssize_t n) noexcept nogil:
    if floating is float:
        return ember_dot_f(a, b, n)
    else:
        return ember_dot_d(a, b, n)


cdef inline floating _max(const floating* a, Py_ssize_t n) noexcept nogil:
    if floating is float:
        return ember_max_f(a, n)
    else:
        return ember_max_d(a, n)


cdef void _forward_row(const floating* x, floating* out, Py_ssize_t n, bint take_log) noexcept nogil:
    cdef Py_ssize_t i
    cdef floating m = _max(x, n)
    cdef floating total
    if not isfinite(m):     # x - m has a NaN in every such row, as torch computes it
        for i in range(n):
            out[i] = NAN
        return
    for i in range(n):
        out[i] = _exp_nonpos(x[i] - m)
    if take_log:
        total = <floating>log(_sum(out, n))
        for i in range(n):
            out[i] = (x[i] - m) - total
    else:
        total = <floating>_sum(out, n)
        for i in range(n):
            out[i] = out[i] / total


cdef void _backward_row(const floating* g, const floating* y, floating* out, Py_ssize_t n,
                        bint of_log) noexcept nogil:
    cdef Py_ssize_t i
    cdef floating c
    if of_log:      # g - exp(y) * sum(g)
        c = <floating>_sum(g, n)
        for i in range(n):
            out[i] = g[i] - _exp_nonpos(y[i]) * c
    else:           # y * (g - sum(g * y))
        c = <floating>_dot(g, y, n)
        for i in range(n):
            out[i] = y[i] * (g[i] - c)


cdef void _rows(const floating* a, const floating* b, floating* out, Py_ssize_t rows,
                Py_ssize_t n, bint backward, bint take_log) noexcept nogil:
    cdef Py_ssize_t r
    cdef int threads = num_threads_for(rows, rows * n * 4)
    if backward:
        for r in prange(rows, schedule="static", num_threads=threads):
            _backward_row(a + r * n, b + r * n, out + r * n, n, take_log)
    else:
        for r in prange(rows, schedule="static", num_threads=threads):
            _forward_row(a + r * n, out + r * n, n, take_log)


cdef int _check(tuple inputs, tuple names, object out) except -1:
    for a, name in zip(inputs + (out,), names + ("out",)):
        if not isinstance(a, np.ndarray):
            raise TypeError(f"{name} must be a NumPy array, not {type(a).__name__}")
        if a.dtype != out.dtype or a.dtype not in (np.float32, np.float64):
            raise ValueError(f"{name} must be float32 or float64 like out, got {a.dtype}")
        if a.ndim != 2 or a.shape != out.shape:
            raise ValueError(f"{name} must be 2-D of out's shape {out.shape}, got {a.shape}")
        if not a.flags.c_contiguous or not a.flags.aligned:
            raise ValueError(f"{name} must be C-contiguous and aligned")
    if not out.flags.writeable:
        raise ValueError("out is read-only")
    for a, name in zip(inputs, names):
        if out.size and _overlap(a, out):
            raise ValueError(f"out shares memory with {name}")
    return 0


cdef bint _overlap(cnp.ndarray a, cnp.ndarray b):
    cdef size_t a_lo = <size_t>cnp.PyArray_DATA(a), b_lo = <size_t>cnp.PyArray_DATA(b)
    return a_lo < b_lo + <size_t>cnp.PyArray_NBYTES(b) and b_lo < a_lo + <size_t>cnp.PyArray_NBYTES(a)


cdef int _run(object a, object b, object out, tuple names, bint backward, bint take_log) except -1:
    _check((a, b), names, out)
    cdef Py_ssize_t rows = out.shape[0], n = out.shape[1]
    cdef void* pa = cnp.PyArray_DATA(<cnp.ndarray>a)
    cdef void* pb = cnp.PyArray_DATA(<cnp.ndarray>b)
    cdef void* po = cnp.PyArray_DATA(<cnp.ndarray>out)
    if rows == 0 or n == 0:
        return 0
    if out.dtype == np.float32:
        with nogil:
            _rows(<const float*>pa, <const float*>pb, <float*>po, rows, n, backward, take_log)
    else:
        with nogil:
            _rows(<const double*>pa, <const double*>pb, <double*>po, rows, n, backward, take_log)
    return 0


def softmax(x, out):
    """out[r] = exp(x[r] - max) / sum(exp(x[r] - max)) for every row r."""
    _run(x, x, out, ("x", "x"), False, False)


def log_softmax(x, out):
    """out[r] = (x[r] - max) - log(sum(exp(x[r] - max))) for every row r."""
    _run(x, x, out, ("x", "x"), False, True)


def softmax_backward(grad, y, out):
    """out[r] = y[r] * (grad[r] - sum(grad[r] * y[r])), y the softmax output."""
    _run(grad, y, out, ("grad", "y"), True, False)


def log_softmax_backward(grad, y, out):
    """out[r] = grad[r] - exp(y[r]) * sum(grad[r]), y the log-softmax output."""
    _run(grad, y, out, ("grad", "y"), True, True)
