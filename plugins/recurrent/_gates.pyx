"""CPU kernels of the recurrent family: the gate nonlinearities and state updates of
one LSTM or GRU time step, forward and backward, each in one pass over the batch.

The matrix products (input projection, ``h @ W_hh^T``) are done by the caller with
NumPy's BLAS; these kernels do everything elementwise that follows them. Layouts
(all C-contiguous, float32 or float64, ``b`` rows = the batch at this step):

* LSTM forward: ``xg``, ``gh`` (b, 4H) pre-activations in torch's gate order
  ``i, f, g, o``; ``c_prev`` (b, H). Returns ``h``, ``c`` (b, H) and ``act``
  (b, 4H), the activated gates kept for backward.
* LSTM backward: ``dh``, ``dc`` (b, H) gradients of the step's outputs, ``act``,
  ``c`` (the new cell state) and ``c_prev``. Returns the gradient of the gate
  pre-activations (b, 4H) and of ``c_prev`` (b, H).
* GRU forward: ``xg`` (b, 3H) input part (with ``b_ih``), ``gh`` (b, 3H) hidden
  part (with ``b_hh``), gate order ``r, z, n``, ``h_prev`` (b, H);
  ``n = tanh(xn + r * hn)``, ``h = (1 - z) * n + z * h_prev``. Returns ``h`` and
  ``act`` (b, 4H) = ``r, z, n, hn``.
* GRU backward: ``dh`` (b, H), ``act``, ``h_prev``. Returns the gradients of
  ``xg`` and ``gh`` (b, 3H each) and the direct part of the gradient of ``h_prev``
  (``dh * z``; the caller adds ``dgh @ W_hh``).

Shapes are checked in the ``def`` wrappers before the GIL is released. Rows are
split over OpenMP threads only when the step is large enough to pay for the team
(ember_cython's thread policy). A step's work is counted as its ``B * H`` hidden
units, not its ``B * 4H`` gate values: each pass is a few multiply-adds per value,
and two threads measured slower than one up to about ``B * H = 32768``.

The transcendental functions are NumPy's ``tanh`` on whole contiguous blocks (its
SIMD loops, chosen at run time for the CPU, are many times faster than scalar libm
calls), with ``sigmoid(x) = (1 + tanh(x / 2)) / 2``; the passes around them do the
remaining arithmetic in one sweep each over a row, as C loops on ``restrict``
pointers that GCC vectorises for the CPU's widest instructions (the memoryview
loops they replace ran scalar, 6-20 instructions per value: two thirds of a
step's 23 us).
"""
from cython.parallel cimport prange

from ember_cython cimport floating, num_threads_for

import numpy as np


# One row of each pass (H hidden units; gate blocks of H values each, in torch's
# order), for float (suffix f) and double (d).
cdef extern from *:
    """
    #define EMBER_GATE_ROWS(T, S)                                                       \\
    /* act = (xg + gh) / 2 in the sigmoid gates i, f, o and xg + gh in g */            \\
    EMBER_SIMD_CLONES static void ember_lstm_pre_##S(const T* restrict xg,              \\
            const T* restrict gh, T* restrict act, Py_ssize_t H) {                      \\
        Py_ssize_t j;                                                                   \\
        for (j = 0; j < 2 * H; j++) act[j] = (xg[j] + gh[j]) * (T)0.5;                  \\
        for (j = 2 * H; j < 3 * H; j++) act[j] = xg[j] + gh[j];                         \\
        for (j = 3 * H; j < 4 * H; j++) act[j] = (xg[j] + gh[j]) * (T)0.5;              \\
    }                                                                                   \\
    /* act holds tanh of those: finish the sigmoids, c = f * c_prev + i * g */          \\
    EMBER_SIMD_CLONES static void ember_lstm_post_##S(T* restrict act,                  \\
            const T* restrict cp, T* restrict c, Py_ssize_t H) {                        \\
        Py_ssize_t j;                                                                   \\
        for (j = 0; j < H; j++) {                                                       \\
            T gi = (T)0.5 * act[j] + (T)0.5, gf = (T)0.5 * act[H + j] + (T)0.5;         \\
            act[j] = gi;                                                                \\
            act[H + j] = gf;                                                            \\
            act[3 * H + j] = (T)0.5 * act[3 * H + j] + (T)0.5;                          \\
            c[j] = gf * cp[j] + gi * act[2 * H + j];                                    \\
        }                                                                               \\
    }                                                                                   \\
    EMBER_SIMD_CLONES static void ember_lstm_bwd_##S(const T* restrict dh,              \\
            const T* restrict dc, const T* restrict act, const T* restrict tc,          \\
            const T* restrict cp, T* restrict dg, T* restrict dcp, Py_ssize_t H) {      \\
        Py_ssize_t j;                                                                   \\
        for (j = 0; j < H; j++) {                                                       \\
            T gi = act[j], gf = act[H + j], gg = act[2 * H + j], go = act[3 * H + j];   \\
            T t = tc[j], dct = dc[j] + dh[j] * go * (1 - t * t);                        \\
            dg[j] = dct * gg * gi * (1 - gi);                                           \\
            dg[H + j] = dct * cp[j] * gf * (1 - gf);                                    \\
            dg[2 * H + j] = dct * gi * (1 - gg * gg);                                   \\
            dg[3 * H + j] = dh[j] * t * go * (1 - go);                                  \\
            dcp[j] = dct * gf;                                                          \\
        }                                                                               \\
    }                                                                                   \\
    /* act[:2H] = (xg + gh) / 2 for r and z; act[3H:] = hn */                           \\
    EMBER_SIMD_CLONES static void ember_gru_pre_##S(const T* restrict xg,               \\
            const T* restrict gh, T* restrict act, Py_ssize_t H) {                      \\
        Py_ssize_t j;                                                                   \\
        for (j = 0; j < 2 * H; j++) act[j] = (xg[j] + gh[j]) * (T)0.5;                  \\
        for (j = 0; j < H; j++) act[3 * H + j] = gh[2 * H + j];                         \\
    }                                                                                   \\
    /* finish r and z, then the pre-activation of n */                                  \\
    EMBER_SIMD_CLONES static void ember_gru_mid_##S(const T* restrict xg,               \\
            T* restrict act, Py_ssize_t H) {                                            \\
        Py_ssize_t j;                                                                   \\
        for (j = 0; j < H; j++) {                                                       \\
            T r = (T)0.5 * act[j] + (T)0.5;                                             \\
            act[j] = r;                                                                 \\
            act[H + j] = (T)0.5 * act[H + j] + (T)0.5;                                  \\
            act[2 * H + j] = xg[2 * H + j] + r * act[3 * H + j];                        \\
        }                                                                               \\
    }                                                                                   \\
    EMBER_SIMD_CLONES static void ember_gru_post_##S(const T* restrict act,             \\
            const T* restrict hp, T* restrict h, Py_ssize_t H) {                        \\
        Py_ssize_t j;                                                                   \\
        for (j = 0; j < H; j++)                                                         \\
            h[j] = (1 - act[H + j]) * act[2 * H + j] + act[H + j] * hp[j];              \\
    }                                                                                   \\
    EMBER_SIMD_CLONES static void ember_gru_bwd_##S(const T* restrict dh,               \\
            const T* restrict act, const T* restrict hp, T* restrict dx,               \\
            T* restrict dgh, T* restrict dhp, Py_ssize_t H) {                           \\
        Py_ssize_t j;                                                                   \\
        for (j = 0; j < H; j++) {                                                       \\
            T r = act[j], z = act[H + j], n = act[2 * H + j], hn = act[3 * H + j];      \\
            T d = dh[j], dn = d * (1 - z) * (1 - n * n);                                \\
            T dr = dn * hn * r * (1 - r), dz = d * (hp[j] - n) * z * (1 - z);           \\
            dx[j] = dr;                                                                 \\
            dgh[j] = dr;                                                                \\
            dx[H + j] = dz;                                                             \\
            dgh[H + j] = dz;                                                            \\
            dx[2 * H + j] = dn;                                                         \\
            dgh[2 * H + j] = dn * r;                                                    \\
            dhp[j] = d * z;                                                             \\
        }                                                                               \\
    }
    EMBER_GATE_ROWS(float, f)
    EMBER_GATE_ROWS(double, d)
    """
    void ember_lstm_pre_f(const float*, const float*, float*, Py_ssize_t) noexcept nogil
    void ember_lstm_pre_d(const double*, const double*, double*, Py_ssize_t) noexcept nogil
    void ember_lstm_post_f(float*, const float*, float*, Py_ssize_t) noexcept nogil
    void ember_lstm_post_d(double*, const double*, double*, Py_ssize_t) noexcept nogil
    void ember_lstm_bwd_f(const float*, const float*, const float*, const float*, const float*,
                          float*, float*, Py_ssize_t) noexcept nogil
    void ember_lstm_bwd_d(const double*, const double*, const double*, const double*, const double*,
                          double*, double*, Py_ssize_t) noexcept nogil
    void ember_gru_pre_f(const float*, const float*, float*, Py_ssize_t) noexcept nogil
    void ember_gru_pre_d(const double*, const double*, double*, Py_ssize_t) noexcept nogil
    void ember_gru_mid_f(const float*, float*, Py_ssize_t) noexcept nogil
    void ember_gru_mid_d(const double*, double*, Py_ssize_t) noexcept nogil
    void ember_gru_post_f(const float*, const float*, float*, Py_ssize_t) noexcept nogil
    void ember_gru_post_d(const double*, const double*, double*, Py_ssize_t) noexcept nogil
    void ember_gru_bwd_f(const float*, const float*, const float*, float*, float*, float*,
                         Py_ssize_t) noexcept nogil
    void ember_gru_bwd_d(const double*, const double*, const double*, double*, double*, double*,
                         Py_ssize_t) noexcept nogil


def _check(name, a, shape):
    if tuple(a.shape) != shape:
        raise ValueError(f"recurrent.{name}: expected an array of shape {shape}, got {tuple(a.shape)}")


def _prep(a, dtype):
    """``a`` as a C-contiguous, writable array of ``dtype`` (the kernels' memoryviews
    refuse read-only memory: a one-element broadcast, a user's read-only array)."""
    return np.require(a, dtype, ["C", "W"])


cdef void _lstm_pre(floating[:, ::1] xg, floating[:, ::1] gh, floating[:, ::1] act,
                    int threads) noexcept:
    # act = (xg + gh) scaled by 1/2 in the sigmoid gates (i, f, o)
    cdef Py_ssize_t b, B = act.shape[0], H = act.shape[1] // 4
    with nogil:
        for b in prange(B, schedule="static", num_threads=threads):
            if floating is float:
                ember_lstm_pre_f(&xg[b, 0], &gh[b, 0], &act[b, 0], H)
            else:
                ember_lstm_pre_d(&xg[b, 0], &gh[b, 0], &act[b, 0], H)


cdef void _lstm_post(floating[:, ::1] act, floating[:, ::1] cp, floating[:, ::1] c,
                     int threads) noexcept:
    # act holds tanh of the scaled pre-activations: finish the sigmoids, new cell state
    cdef Py_ssize_t b, B = cp.shape[0], H = cp.shape[1]
    with nogil:
        for b in prange(B, schedule="static", num_threads=threads):
            if floating is float:
                ember_lstm_post_f(&act[b, 0], &cp[b, 0], &c[b, 0], H)
            else:
                ember_lstm_post_d(&act[b, 0], &cp[b, 0], &c[b, 0], H)


def lstm_forward(xg, gh, c_prev):
    """One LSTM step: ``(h, c, act)`` from gate pre-activations and ``c_prev``."""
    dt = c_prev.dtype
    B, H = c_prev.shape
    _check("lstm_forward", xg, (B, 4 * H))
    _check("lstm_forward", gh, (B, 4 * H))
    xg, gh, c_prev = _prep(xg, dt), _prep(gh, dt), _prep(c_prev, dt)
    act = np.empty((B, 4 * H), dt)
    c = np.empty((B, H), dt)
    threads = num_threads_for(B, B * H)
    if dt == np.float32:
        _lstm_pre[float](xg, gh, act, threads)
        np.tanh(act, out=act)
        _lstm_post[float](act, c_prev, c, threads)
    else:
        _lstm_pre[double](xg, gh, act, threads)
        np.tanh(act, out=act)
        _lstm_post[double](act, c_prev, c, threads)
    h = np.tanh(c)
    h *= act[:, 3 * H:]
    return h, c, act


cdef void _lstm_bwd(floating[:, ::1] dh, floating[:, ::1] dc, floating[:, ::1] act,
                    floating[:, ::1] tc, floating[:, ::1] cp, floating[:, ::1] dg,
                    floating[:, ::1] dcp, int threads) noexcept:
    cdef Py_ssize_t b, B = cp.shape[0], H = cp.shape[1]
    with nogil:
        for b in prange(B, schedule="static", num_threads=threads):
            if floating is float:
                ember_lstm_bwd_f(&dh[b, 0], &dc[b, 0], &act[b, 0], &tc[b, 0], &cp[b, 0],
                                 &dg[b, 0], &dcp[b, 0], H)
            else:
                ember_lstm_bwd_d(&dh[b, 0], &dc[b, 0], &act[b, 0], &tc[b, 0], &cp[b, 0],
                                 &dg[b, 0], &dcp[b, 0], H)


def lstm_backward(dh, dc, act, c, c_prev):
    """Backward of one LSTM step: ``(d_gates, d_c_prev)``."""
    dt = c_prev.dtype
    B, H = c_prev.shape
    for a in (dh, dc, c):
        _check("lstm_backward", a, (B, H))
    _check("lstm_backward", act, (B, 4 * H))
    dh, dc, act, c_prev = (_prep(a, dt) for a in (dh, dc, act, c_prev))
    tc = np.tanh(_prep(c, dt))
    dg = np.empty((B, 4 * H), dt)
    dcp = np.empty((B, H), dt)
    threads = num_threads_for(B, B * H)
    if dt == np.float32:
        _lstm_bwd[float](dh, dc, act, tc, c_prev, dg, dcp, threads)
    else:
        _lstm_bwd[double](dh, dc, act, tc, c_prev, dg, dcp, threads)
    return dg, dcp


cdef void _gru_pre(floating[:, ::1] xg, floating[:, ::1] gh, floating[:, ::1] act,
                   int threads) noexcept:
    # act[:, :2H] = (xg + gh) / 2 for r and z; act[:, 3H:] = hn
    cdef Py_ssize_t b, B = act.shape[0], H = act.shape[1] // 4
    with nogil:
        for b in prange(B, schedule="static", num_threads=threads):
            if floating is float:
                ember_gru_pre_f(&xg[b, 0], &gh[b, 0], &act[b, 0], H)
            else:
                ember_gru_pre_d(&xg[b, 0], &gh[b, 0], &act[b, 0], H)


cdef void _gru_mid(floating[:, ::1] xg, floating[:, ::1] act, int threads) noexcept:
    # finish r and z, then the pre-activation of n
    cdef Py_ssize_t b, B = act.shape[0], H = act.shape[1] // 4
    with nogil:
        for b in prange(B, schedule="static", num_threads=threads):
            if floating is float:
                ember_gru_mid_f(&xg[b, 0], &act[b, 0], H)
            else:
                ember_gru_mid_d(&xg[b, 0], &act[b, 0], H)


cdef void _gru_post(floating[:, ::1] act, floating[:, ::1] hp, floating[:, ::1] h,
                    int threads) noexcept:
    cdef Py_ssize_t b, B = hp.shape[0], H = hp.shape[1]
    with nogil:
        for b in prange(B, schedule="static", num_threads=threads):
            if floating is float:
                ember_gru_post_f(&act[b, 0], &hp[b, 0], &h[b, 0], H)
            else:
                ember_gru_post_d(&act[b, 0], &hp[b, 0], &h[b, 0], H)


def gru_forward(xg, gh, h_prev):
    """One GRU step: ``(h, act)`` from the input and hidden gate parts and ``h_prev``."""
    dt = h_prev.dtype
    B, H = h_prev.shape
    _check("gru_forward", xg, (B, 3 * H))
    _check("gru_forward", gh, (B, 3 * H))
    xg, gh, h_prev = _prep(xg, dt), _prep(gh, dt), _prep(h_prev, dt)
    h = np.empty((B, H), dt)
    act = np.empty((B, 4 * H), dt)
    threads = num_threads_for(B, B * H)
    rz = act[:, :2 * H]
    n = act[:, 2 * H:3 * H]
    if dt == np.float32:
        _gru_pre[float](xg, gh, act, threads)
        np.tanh(rz, out=rz)
        _gru_mid[float](xg, act, threads)
        np.tanh(n, out=n)
        _gru_post[float](act, h_prev, h, threads)
    else:
        _gru_pre[double](xg, gh, act, threads)
        np.tanh(rz, out=rz)
        _gru_mid[double](xg, act, threads)
        np.tanh(n, out=n)
        _gru_post[double](act, h_prev, h, threads)
    return h, act


cdef void _gru_bwd(floating[:, ::1] dh, floating[:, ::1] act, floating[:, ::1] hp,
                   floating[:, ::1] dx, floating[:, ::1] dgh, floating[:, ::1] dhp,
                   int threads) noexcept:
    cdef Py_ssize_t b, B = hp.shape[0], H = hp.shape[1]
    with nogil:
        for b in prange(B, schedule="static", num_threads=threads):
            if floating is float:
                ember_gru_bwd_f(&dh[b, 0], &act[b, 0], &hp[b, 0], &dx[b, 0], &dgh[b, 0], &dhp[b, 0], H)
            else:
                ember_gru_bwd_d(&dh[b, 0], &act[b, 0], &hp[b, 0], &dx[b, 0], &dgh[b, 0], &dhp[b, 0], H)


def gru_backward(dh, act, h_prev):
    """Backward of one GRU step: ``(d_xg, d_gh, d_h_prev_direct)``."""
    dt = h_prev.dtype
    B, H = h_prev.shape
    _check("gru_backward", dh, (B, H))
    _check("gru_backward", act, (B, 4 * H))
    dh, act, h_prev = _prep(dh, dt), _prep(act, dt), _prep(h_prev, dt)
    dx = np.empty((B, 3 * H), dt)
    dgh = np.empty((B, 3 * H), dt)
    dhp = np.empty((B, H), dt)
    threads = num_threads_for(B, B * H)
    if dt == np.float32:
        _gru_bwd[float](dh, act, h_prev, dx, dgh, dhp, threads)
    else:
        _gru_bwd[double](dh, act, h_prev, dx, dgh, dhp, threads)
    return dx, dgh, dhp
