"""Fused optimizer steps of the CPU backend (float32 and float64).

Each entry point updates one parameter in place, with its gradient and its
optimizer state, in one pass over memory: what torch's optimizers compute with
3 to 6 tensor ops (and their temporaries) per parameter.  The arithmetic is
the one of those tensor ops, rounding for rounding: every constant is rounded
to the arrays' dtype, as NumPy and torch round a Python scalar, and each
``a + alpha * b`` is a product then a sum (this file is built without FMA
contraction).

All arrays must be 1-D, C-contiguous, aligned, of one dtype (float32 or
float64) and one length, and all but the gradient writable; callers pass
``arr.reshape(-1)`` of contiguous tensors.  Arrays that share memory are
declined (the entry point returns False).  The checks run with the GIL held;
the loops run without it, split over OpenMP threads for large arrays
(ember_cython's thread policy).
"""
from cython.parallel cimport prange
from libc.math cimport pow, sqrt, sqrtf

cimport numpy as cnp
from ember_cython cimport floating, num_threads_for

cnp.import_array()


cdef Py_ssize_t _check(tuple arrays, tuple names) except -1:
    """Validate ``arrays`` (None entries skipped) against the first; return the length.
    The second, the gradient, is only read; the others must be writable."""
    cdef cnp.ndarray first = None, arr
    cdef Py_ssize_t k
    for k in range(len(arrays)):
        a, name = arrays[k], names[k]
        if a is None:
            continue
        if not cnp.PyArray_Check(a):
            raise TypeError(f"{name} must be a numpy.ndarray, got {type(a).__name__}")
        arr = <cnp.ndarray>a
        if cnp.PyArray_TYPE(arr) not in (cnp.NPY_FLOAT32, cnp.NPY_FLOAT64) \
                or not cnp.PyArray_ISNOTSWAPPED(arr):
            raise TypeError(f"{name} has dtype {a.dtype}; only native float32 and float64 are supported")
        if cnp.PyArray_NDIM(arr) != 1 or not cnp.PyArray_IS_C_CONTIGUOUS(arr) \
                or not cnp.PyArray_ISALIGNED(arr):
            raise ValueError(f"{name} must be a 1-D aligned C-contiguous array, got shape {a.shape}, "
                             f"strides {a.strides}")
        if k != 1 and not cnp.PyArray_ISWRITEABLE(arr):
            raise ValueError(f"{name} is read-only")
        if first is None:
            first = arr
        elif cnp.PyArray_TYPE(arr) != cnp.PyArray_TYPE(first) or arr.shape[0] != first.shape[0]:
            raise ValueError(f"{name} ({a.dtype}, {a.shape[0]} elements) does not match "
                             f"{names[0]} ({first.dtype}, {first.shape[0]} elements)")
    return first.shape[0]


cdef bint _overlapping(tuple arrays) noexcept:
    """Whether two of ``arrays`` (checked ones, None skipped, at most 8) share memory.
    The loops read and write element by element, while the tensor ops finish one
    array before the next: with shared memory their results could differ."""
    cdef size_t lo[8]
    cdef size_t hi[8]
    cdef int j, count = 0
    for a in arrays:
        if a is None:
            continue
        lo[count] = <size_t>cnp.PyArray_DATA(<cnp.ndarray>a)
        hi[count] = lo[count] + <size_t>cnp.PyArray_NBYTES(<cnp.ndarray>a)
        for j in range(count):
            if lo[count] < hi[j] and lo[j] < hi[count]:
                return True
        count += 1
    return False


cdef inline void* _ptr(object a) noexcept:
    return NULL if a is None else cnp.PyArray_DATA(<cnp.ndarray>a)


cdef inline bint _is_f32(object a) noexcept:
    return cnp.PyArray_TYPE(<cnp.ndarray>a) == cnp.NPY_FLOAT32


# --------------------------------------------------------------------------
# SGD

cdef enum _Momentum:
    _NONE        # plain SGD: no buffer
    _START       # the buffer starts as the gradient
    _CONTINUE    # the buffer decays and takes in the gradient


cdef inline void _sgd_loop(floating* p, const floating* g, floating* buf, Py_ssize_t n,
                           floating lr, floating momentum, floating keep, floating weight_decay,
                           bint decays, _Momentum mode, bint nesterov) noexcept nogil:
    # Called with constant flags only, so that each call compiles to its own
    # branch-free (vectorisable) loop.  keep = 1 - dampening.
    cdef Py_ssize_t i
    cdef floating d, b
    for i in range(n):
        d = g[i]
        if decays:
            d = d + p[i] * weight_decay
        if mode != _NONE:
            b = d if mode == _START else buf[i] * momentum + d * keep
            buf[i] = b
            d = d + b * momentum if nesterov else b
        p[i] = p[i] + d * lr


cdef void _sgd(floating* p, const floating* g, floating* buf, Py_ssize_t n, floating lr,
               floating momentum, floating keep, floating weight_decay, bint nesterov,
               bint first) noexcept nogil:
    cdef _Momentum mode = _NONE if buf == NULL else (_START if first else _CONTINUE)
    cdef bint decays = weight_decay != 0
    if mode == _NONE:
        if decays:
            _sgd_loop(p, g, buf, n, lr, momentum, keep, weight_decay, True, _NONE, False)
        else:
            _sgd_loop(p, g, buf, n, lr, momentum, keep, weight_decay, False, _NONE, False)
    elif nesterov:
        if decays:
            _sgd_loop(p, g, buf, n, lr, momentum, keep, weight_decay, True, mode, True)
        else:
            _sgd_loop(p, g, buf, n, lr, momentum, keep, weight_decay, False, mode, True)
    elif mode == _START:
        if decays:
            _sgd_loop(p, g, buf, n, lr, momentum, keep, weight_decay, True, _START, False)
        else:
            _sgd_loop(p, g, buf, n, lr, momentum, keep, weight_decay, False, _START, False)
    elif decays:
        _sgd_loop(p, g, buf, n, lr, momentum, keep, weight_decay, True, _CONTINUE, False)
    else:
        _sgd_loop(p, g, buf, n, lr, momentum, keep, weight_decay, False, _CONTINUE, False)


cdef void _sgd_run(floating* p, const floating* g, floating* buf, Py_ssize_t n, floating lr,
                   floating momentum, floating keep, floating weight_decay, bint nesterov,
                   bint first) noexcept nogil:
    cdef int threads = num_threads_for(n, 3 * n)
    cdef Py_ssize_t t, lo
    if threads == 1:
        _sgd(p, g, buf, n, lr, momentum, keep, weight_decay, nesterov, first)
        return
    for t in prange(threads, schedule="static", num_threads=threads):
        lo = t * n // threads
        _sgd(p + lo, g + lo, NULL if buf == NULL else buf + lo, (t + 1) * n // threads - lo,
             lr, momentum, keep, weight_decay, nesterov, first)


def sgd_step(param, grad, momentum_buffer, double lr, double momentum, double dampening,
             double weight_decay, bint nesterov, bint first):
    """One SGD step on ``param``, in place (torch's formulation).

    ``d = grad + weight_decay * param``; with a ``momentum_buffer`` (None without
    momentum), the buffer becomes ``d`` when ``first``, else
    ``momentum * buffer + (1 - dampening) * d``, and ``d`` becomes the buffer, or
    ``d + momentum * buffer`` with ``nesterov``; finally ``param -= lr * d``.
    A ``weight_decay`` of 0 leaves ``d`` exactly ``grad`` (no ``0 * param``, which
    would turn an infinite parameter into NaN). Returns True, or False without
    changing anything when two of the arrays share memory.
    """
    cdef tuple arrays = (param, grad, momentum_buffer)
    cdef Py_ssize_t n = _check(arrays, ("param", "grad", "momentum_buffer"))
    if _overlapping(arrays):
        return False
    cdef void* p = _ptr(param)
    cdef void* g = _ptr(grad)
    cdef void* b = _ptr(momentum_buffer)
    # -lr * d rounds like lr * d, negated: p + d * (-lr) is torch's p.add_(d, alpha=-lr)
    if _is_f32(param):
        with nogil:
            _sgd_run(<float*>p, <const float*>g, <float*>b, n, <float>-lr, <float>momentum,
                     <float>(1 - dampening), <float>weight_decay, nesterov, first)
    else:
        with nogil:
            _sgd_run(<double*>p, <const double*>g, <double*>b, n, -lr, momentum, 1 - dampening,
                     weight_decay, nesterov, first)
    return True


# --------------------------------------------------------------------------
# Adam and AdamW

cdef inline floating _sqrt(floating v) noexcept nogil:
    if floating is float:
        return sqrtf(v)
    else:
        return sqrt(v)


cdef inline void _adam_loop(floating* p, const floating* g, floating* m, floating* v,
                            floating* vmax, Py_ssize_t n, floating beta1, floating keep1,
                            floating beta2, floating keep2, floating weight_decay, floating decay,
                            floating bias2_sqrt, floating eps, floating step, bint decoupled,
                            bint coupled, bint amsgrad) noexcept nogil:
    # Called with constant flags only (one branch-free loop per case).
    # keep1/keep2 = 1 - beta1/beta2; AdamW (decoupled) scales p by
    # decay = 1 - lr * weight_decay, Adam (coupled) adds weight_decay * p to the
    # gradient; step = -lr / (1 - beta1**t).
    cdef Py_ssize_t i
    cdef floating x, d, a, s, second
    for i in range(n):
        x = p[i]
        d = g[i]
        if decoupled:
            x = x * decay
        if coupled:
            d = d + x * weight_decay
        a = m[i] * beta1 + d * keep1
        s = v[i] * beta2 + (d * d) * keep2
        m[i] = a
        v[i] = s
        second = s
        if amsgrad:
            second = vmax[i]
            # torch.maximum: a NaN on either side wins
            second = second if (second >= s) | (second != second) else s
            vmax[i] = second
        p[i] = x + (a / (_sqrt(second) / bias2_sqrt + eps)) * step


cdef void _adam(floating* p, const floating* g, floating* m, floating* v, floating* vmax,
                Py_ssize_t n, floating beta1, floating keep1, floating beta2, floating keep2,
                floating weight_decay, floating decay, floating bias2_sqrt, floating eps,
                floating step) noexcept nogil:
    # weight_decay is 0 for AdamW, decay is 1 for Adam; p * 1 is p, so skipping it
    # changes no bit
    cdef bint amsgrad = vmax != NULL
    cdef bint coupled = weight_decay != 0
    cdef bint decoupled = decay != 1
    if decoupled:
        if amsgrad:
            _adam_loop(p, g, m, v, vmax, n, beta1, keep1, beta2, keep2, weight_decay, decay,
                       bias2_sqrt, eps, step, True, False, True)
        else:
            _adam_loop(p, g, m, v, vmax, n, beta1, keep1, beta2, keep2, weight_decay, decay,
                       bias2_sqrt, eps, step, True, False, False)
    elif coupled:
        if amsgrad:
            _adam_loop(p, g, m, v, vmax, n, beta1, keep1, beta2, keep2, weight_decay, decay,
                       bias2_sqrt, eps, step, False, True, True)
        else:
            _adam_loop(p, g, m, v, vmax, n, beta1, keep1, beta2, keep2, weight_decay, decay,
                       bias2_sqrt, eps, step, False, True, False)
    elif amsgrad:
        _adam_loop(p, g, m, v, vmax, n, beta1, keep1, beta2, keep2, weight_decay, decay,
                   bias2_sqrt, eps, step, False, False, True)
    else:
        _adam_loop(p, g, m, v, vmax, n, beta1, keep1, beta2, keep2, weight_decay, decay,
                   bias2_sqrt, eps, step, False, False, False)


cdef void _adam_run(floating* p, const floating* g, floating* m, floating* v, floating* vmax,
                    Py_ssize_t n, floating beta1, floating keep1, floating beta2, floating keep2,
                    floating weight_decay, floating decay, floating bias2_sqrt, floating eps,
                    floating step) noexcept nogil:
    cdef int threads = num_threads_for(n, 8 * n)
    cdef Py_ssize_t t, lo
    if threads == 1:
        _adam(p, g, m, v, vmax, n, beta1, keep1, beta2, keep2, weight_decay, decay, bias2_sqrt,
              eps, step)
        return
    for t in prange(threads, schedule="static", num_threads=threads):
        lo = t * n // threads
        _adam(p + lo, g + lo, m + lo, v + lo, NULL if vmax == NULL else vmax + lo,
              (t + 1) * n // threads - lo, beta1, keep1, beta2, keep2, weight_decay, decay,
              bias2_sqrt, eps, step)


def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, double lr, double beta1,
              double beta2, double eps, double weight_decay, bint decoupled, double step):
    """One Adam (or, with ``decoupled``, AdamW) step on ``param``, in place.

    ``step`` is the step count after this step (1 on the first). AdamW first
    scales ``param`` by ``1 - lr * weight_decay``; Adam adds
    ``weight_decay * param`` to the gradient ``d`` instead. Then
    ``exp_avg = beta1 * exp_avg + (1 - beta1) * d``,
    ``exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * d * d``, with
    ``max_exp_avg_sq`` (AMSGrad; else None) the running maximum of ``exp_avg_sq``
    is taken below, and
    ``param -= lr / (1 - beta1**step) * exp_avg / (sqrt(second) / sqrt(1 - beta2**step) + eps)``.
    Returns True, or False without changing anything when two of the arrays share memory.
    """
    cdef tuple arrays = (param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq)
    cdef Py_ssize_t n = _check(arrays, ("param", "grad", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"))
    if _overlapping(arrays):
        return False
    cdef void* p = _ptr(param)
    cdef void* g = _ptr(grad)
    cdef void* m = _ptr(exp_avg)
    cdef void* v = _ptr(exp_avg_sq)
    cdef void* vmax = _ptr(max_exp_avg_sq)
    # the scalars exactly as the tensor-op formulation computes them in Python floats
    cdef double decay = 1 - lr * weight_decay if decoupled and weight_decay != 0 else 1
    cdef double coupled_decay = 0 if decoupled else weight_decay
    # (pow, as Python's float ** calls it: Cython's ** would go through complex numbers)
    cdef double bias2_sqrt = sqrt(1 - pow(beta2, step))
    cdef double step_scale = -lr / (1 - pow(beta1, step))
    if _is_f32(param):
        with nogil:
            _adam_run(<float*>p, <const float*>g, <float*>m, <float*>v, <float*>vmax, n,
                      <float>beta1, <float>(1 - beta1), <float>beta2, <float>(1 - beta2),
                      <float>coupled_decay, <float>decay, <float>bias2_sqrt,
                      <float>eps, <float>step_scale)
    else:
        with nogil:
            _adam_run(<double*>p, <const double*>g, <double*>m, <double*>v, <double*>vmax, n,
                      beta1, 1 - beta1, beta2, 1 - beta2, coupled_decay, decay,
                      bias2_sqrt, eps, step_scale)
    return True
