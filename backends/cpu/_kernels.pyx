"""Fused elementwise kernels of the CPU backend (float32 and float64).

Every public function writes into a caller-supplied ``out`` and returns None.
All array arguments must be 1-D, C-contiguous, aligned, native-byte-order
NumPy arrays of one dtype (float32 or float64) and one length; callers pass
``arr.reshape(-1)`` of contiguous tensors.  ``out`` may be the very same
array as an input (in-place update) but may not partially overlap one.

Arguments are checked in the ``def`` wrappers, with the GIL held, so that a
bad call raises ``TypeError``/``ValueError`` instead of reaching C code.  The
``noexcept nogil`` cores are generic over ``floating``; arrays of at least
``PARALLEL_THRESHOLD`` elements are split over OpenMP threads, smaller ones run
on the calling thread (ember_cython's thread policy, shared by every kernel).

The loops are written so that GCC vectorises them (check with
``-fopt-info-vec``); this is why sigmoid evaluates exp with its own
branch-free polynomial (``_exp_nonpos``) instead of calling libm per element,
and why setup.py passes ``-fno-trapping-math``.

Compiler directives (boundscheck, wraparound, ...) are set once in setup.py;
``EMBER_CYTHON_DEBUG=1`` at build time turns the checks back on.

After a parallel kernel has run, a *forked* child process that runs one
hangs (libgomp is not fork-safe): start workers with ``spawn`` or
``forkserver``.
"""
from cython.parallel cimport prange
from libc.math cimport erf as c_erf, erff, fabs, fabsf
from libc.stdint cimport uint32_t, uint64_t, uintptr_t

cimport numpy as cnp
from ember_cython cimport (EMBER_HAVE_OPENMP, PARALLEL_MIN_WORK, floating, max_threads,
                           num_threads_for)

cnp.import_array()

include "_fast_exp.pxi"


#: Arrays with at least this many elements are processed by OpenMP threads.
PARALLEL_THRESHOLD = PARALLEL_MIN_WORK


def has_openmp():
    """Return True if this module was compiled with OpenMP support."""
    return EMBER_HAVE_OPENMP == 1


def num_threads():
    """Return the number of threads a parallel kernel uses (omp_get_max_threads)."""
    return max_threads()


# --------------------------------------------------------------------------
# Argument checks (GIL held).

cdef str _describe(object a):
    return f"shape {a.shape}, dtype {a.dtype}"


cdef int _check_one(object a, str name, bint writable) except -1:
    if not cnp.PyArray_Check(a):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(a).__name__}")
    cdef cnp.ndarray arr = <cnp.ndarray>a
    cdef int typenum = cnp.PyArray_TYPE(arr)
    if (typenum != cnp.NPY_FLOAT32 and typenum != cnp.NPY_FLOAT64) \
            or not cnp.PyArray_ISNOTSWAPPED(arr):
        raise TypeError(
            f"{name} has dtype {a.dtype}; only native float32 and float64 "
            f"arrays are supported")
    if cnp.PyArray_NDIM(arr) != 1:
        raise ValueError(
            f"{name} must be 1-D (pass arr.reshape(-1) of a contiguous array), "
            f"got {_describe(a)}")
    if not cnp.PyArray_IS_C_CONTIGUOUS(arr):
        raise ValueError(
            f"{name} must be C-contiguous (use np.ascontiguousarray), got a "
            f"strided view with strides {a.strides}")
    if not cnp.PyArray_ISALIGNED(arr):
        raise ValueError(f"{name} is not aligned to its dtype")
    if writable and not cnp.PyArray_ISWRITEABLE(arr):
        raise ValueError(f"{name} is read-only; out must be a writable array")
    return 0


cdef Py_ssize_t _check(tuple inputs, tuple names, object out) except -1:
    """Validate ``inputs`` against ``out``; return the common length."""
    _check_one(out, "out", True)
    cdef cnp.ndarray o = <cnp.ndarray>out
    cdef cnp.ndarray arr
    cdef Py_ssize_t n = cnp.PyArray_SIZE(o)
    cdef int typenum = cnp.PyArray_TYPE(o)
    cdef uintptr_t o_lo = <uintptr_t>cnp.PyArray_DATA(o)
    cdef uintptr_t o_hi = o_lo + <uintptr_t>cnp.PyArray_NBYTES(o)
    cdef uintptr_t a_lo
    cdef Py_ssize_t k
    for k in range(len(inputs)):
        a, name = inputs[k], names[k]
        _check_one(a, name, False)
        arr = <cnp.ndarray>a
        if cnp.PyArray_TYPE(arr) != typenum:
            raise ValueError(
                f"dtype mismatch: {name} is {a.dtype} but out is {out.dtype}")
        if cnp.PyArray_SIZE(arr) != n:
            raise ValueError(
                f"length mismatch: {name} has {cnp.PyArray_SIZE(arr)} elements "
                f"but out has {n}")
        # Exact aliasing (in-place) is fine elementwise; a shifted overlap
        # would make the result depend on the loop order and thread split.
        a_lo = <uintptr_t>cnp.PyArray_DATA(arr)
        if n > 0 and a_lo != o_lo and a_lo < o_hi and o_lo < a_lo + (o_hi - o_lo):
            raise ValueError(f"out partially overlaps {name}")
    return n


def contiguous_floats(*args):
    """``ember.kernels.contiguous_floats`` compiled, for NumPy arrays: True when every
    ndarray among the arguments is C-contiguous, aligned, native float32/float64 of
    the first one's dtype and shape (other arguments are not looked at) and there
    is one. It runs before every call of a kernel that uses it as ``accepts``."""
    cdef cnp.ndarray first = None
    cdef cnp.ndarray arr
    cdef int typenum
    for a in args:
        if not cnp.PyArray_Check(a):
            continue
        arr = <cnp.ndarray>a
        if not (cnp.PyArray_IS_C_CONTIGUOUS(arr) and cnp.PyArray_ISALIGNED(arr)
                and cnp.PyArray_ISNOTSWAPPED(arr)):
            return False
        typenum = cnp.PyArray_TYPE(arr)
        if first is None:
            if typenum != cnp.NPY_FLOAT32 and typenum != cnp.NPY_FLOAT64:
                return False
            first = arr
        elif typenum != cnp.PyArray_TYPE(first) or not cnp.PyArray_SAMESHAPE(arr, first):
            return False
    return first is not None


cdef inline bint _is_f32(object out) noexcept:
    return cnp.PyArray_TYPE(<cnp.ndarray>out) == cnp.NPY_FLOAT32


cdef inline void* _ptr(object a) noexcept:
    return cnp.PyArray_DATA(<cnp.ndarray>a)


# --------------------------------------------------------------------------
# Scalar bodies of the loops.  Constants are typed as ``floating`` so float32
# arithmetic never widens to double.

cdef inline floating _sigmoid1(floating v) noexcept nogil:
    # One exp of -|v| keeps both branches finite: for v >= 0 this is
    # 1/(1+exp(-v)), for v < 0 it is exp(v)/(1+exp(v)).  +-inf and +-1000
    # give exactly 1 and 0; NaN stays NaN.
    cdef floating one = 1
    cdef floating e
    if floating is float:
        e = _exp_nonpos(-fabsf(v))
    else:
        e = _exp_nonpos(-fabs(v))
    return (one if v >= 0 else e) / (one + e)


cdef inline floating _sigmoid_bwd1(floating g, floating y) noexcept nogil:
    cdef floating one = 1
    return g * y * (one - y)


cdef inline floating _tanh_bwd1(floating g, floating y) noexcept nogil:
    cdef floating one = 1
    return g * (one - y * y)


cdef inline floating _threshold_bwd1(floating g, floating v, floating t) noexcept nogil:
    # Written as "v <= t ? 0 : g" (like torch) so a NaN input passes its gradient.
    cdef floating zero = 0
    return zero if v <= t else g


cdef inline floating _erf1(floating v) noexcept nogil:
    if floating is float:
        return erff(v)
    else:
        return c_erf(v)


# --------------------------------------------------------------------------
# nogil cores.  Each kernel's loop is written once, in _apply; _run splits the
# array into one contiguous chunk per thread from PARALLEL_THRESHOLD elements
# on, and below it calls _apply directly: an OpenMP region costs about 0.7 us
# even with one thread, as much as sigmoid of 1000 elements.

cdef enum _Op:
    _SIGMOID
    _ERF
    _SIGMOID_BWD
    _TANH_BWD
    _THRESHOLD_BWD
    _MUL_ADD


cdef void _apply(_Op op, const floating* a, const floating* b, const floating* c, floating s,
                 floating* out, Py_ssize_t n) noexcept nogil:
    # a, b, c: the kernel's inputs in order; one with fewer inputs gets its last again
    cdef Py_ssize_t i
    if op == _SIGMOID:
        for i in range(n):
            out[i] = _sigmoid1(a[i])
    elif op == _ERF:
        for i in range(n):
            out[i] = _erf1(a[i])
    elif op == _SIGMOID_BWD:
        for i in range(n):
            out[i] = _sigmoid_bwd1(a[i], b[i])
    elif op == _TANH_BWD:
        for i in range(n):
            out[i] = _tanh_bwd1(a[i], b[i])
    elif op == _THRESHOLD_BWD:
        for i in range(n):
            out[i] = _threshold_bwd1(a[i], b[i], s)
    else:
        for i in range(n):
            out[i] = a[i] * b[i] + c[i]


cdef void _run(_Op op, const floating* a, const floating* b, const floating* c, floating s,
               floating* out, Py_ssize_t n) noexcept nogil:
    cdef int threads = num_threads_for(n, n)
    cdef Py_ssize_t t, lo
    if threads == 1:
        _apply(op, a, b, c, s, out, n)
        return
    for t in prange(threads, schedule="static", num_threads=threads):
        lo = t * n // threads
        _apply(op, a + lo, b + lo, c + lo, s, out + lo, (t + 1) * n // threads - lo)


# --------------------------------------------------------------------------
# Public entry points: validate and take the data pointers with the GIL held,
# then run the core without it.

cdef int _elementwise(_Op op, tuple inputs, tuple names, object out, double s) except -1:
    cdef Py_ssize_t n = _check(inputs, names, out)
    cdef void* a = _ptr(inputs[0])
    cdef void* b = _ptr(inputs[min(1, len(inputs) - 1)])
    cdef void* c = _ptr(inputs[len(inputs) - 1])
    cdef void* o = _ptr(out)
    if _is_f32(out):
        with nogil:
            _run(op, <const float*>a, <const float*>b, <const float*>c, <float>s, <float*>o, n)
    else:
        with nogil:
            _run(op, <const double*>a, <const double*>b, <const double*>c, s, <double*>o, n)
    return 0


def sigmoid(x, out):
    """out[:] = 1 / (1 + exp(-x)), computed without overflow for any x.

    Accurate to a few ulp, also in the tail where the result is tiny
    (subnormal down to exactly 0); +-inf give exactly 1 and 0, NaN stays NaN.
    """
    _elementwise(_SIGMOID, (x,), ("x",), out, 0)


def erf(x, out):
    """out[:] = erf(x), the Gauss error function (C library's erf/erff)."""
    _elementwise(_ERF, (x,), ("x",), out, 0)


def sigmoid_backward(grad, y, out):
    """out[:] = grad * y * (1 - y), where y = sigmoid(x) is the saved output."""
    _elementwise(_SIGMOID_BWD, (grad, y), ("grad", "y"), out, 0)


def tanh_backward(grad, y, out):
    """out[:] = grad * (1 - y * y), where y = tanh(x) is the saved output."""
    _elementwise(_TANH_BWD, (grad, y), ("grad", "y"), out, 0)


def threshold_backward(grad, x, double threshold, out):
    """out[:] = grad where x > threshold, else 0.

    ``threshold`` is rounded to the arrays' dtype first, so the comparison is
    the one NumPy 2 and torch make.  A NaN in ``x`` lets its gradient through
    (as in torch, the test is ``x <= threshold`` -> 0).
    """
    _elementwise(_THRESHOLD_BWD, (grad, x), ("grad", "x"), out, threshold)


def mul_add(a, b, c, out):
    """out[:] = a * b + c in one pass (two roundings, like NumPy's a*b + c)."""
    _elementwise(_MUL_ADD, (a, b, c), ("a", "b", "c"), out, 0)
