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
calls), with ``sigmoid(x) = (1 + tanh(x / 2)) / 2``; the Cython passes around them
do the remaining arithmetic in one sweep each and contain no function calls, so the
compiler vectorises them.
"""
from cython.parallel cimport prange

from ember_cython cimport floating, num_threads_for

import numpy as np


def _check(name, a, shape):
    if tuple(a.shape) != shape:
        raise ValueError(f"recurrent.{name}: expected an array of shape {shape}, got {tuple(a.shape)}")


def _prep(a, dtype):
    return np.ascontiguousarray(a, dtype=dtype)


cdef void _lstm_pre(floating[:, ::1] xg, floating[:, ::1] gh, floating[:, ::1] act,
                    int threads) noexcept:
    # act = (xg + gh) scaled by 1/2 in the sigmoid gates (i, f, o)
    cdef Py_ssize_t b, j, B = act.shape[0], G = act.shape[1], H = G // 4
    with nogil:
        for b in prange(B, schedule="static", num_threads=threads):
            for j in range(G):
                act[b, j] = (xg[b, j] + gh[b, j]) * (<floating>1 if 2 * H <= j < 3 * H else <floating>0.5)


cdef void _lstm_post(floating[:, ::1] act, floating[:, ::1] cp, floating[:, ::1] c,
                     int threads) noexcept:
    # act holds tanh of the scaled pre-activations: finish the sigmoids, new cell state
    cdef Py_ssize_t b, j, B = cp.shape[0], H = cp.shape[1]
    cdef floating gi, gf
    with nogil:
        for b in prange(B, schedule="static", num_threads=threads):
            for j in range(H):
                gi = <floating>0.5 * act[b, j] + <floating>0.5
                gf = <floating>0.5 * act[b, H + j] + <floating>0.5
                act[b, j] = gi
                act[b, H + j] = gf
                act[b, 3 * H + j] = <floating>0.5 * act[b, 3 * H + j] + <floating>0.5
                c[b, j] = gf * cp[b, j] + gi * act[b, 2 * H + j]


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
    cdef Py_ssize_t b, j, B = cp.shape[0], H = cp.shape[1]
    cdef floating gi, gf, gg, go, t, dct
    with nogil:
        for b in prange(B, schedule="static", num_threads=threads):
            for j in range(H):
                gi = act[b, j]
                gf = act[b, H + j]
                gg = act[b, 2 * H + j]
                go = act[b, 3 * H + j]
                t = tc[b, j]
                dct = dc[b, j] + dh[b, j] * go * (1 - t * t)
                dg[b, j] = dct * gg * gi * (1 - gi)
                dg[b, H + j] = dct * cp[b, j] * gf * (1 - gf)
                dg[b, 2 * H + j] = dct * gi * (1 - gg * gg)
                dg[b, 3 * H + j] = dh[b, j] * t * go * (1 - go)
                dcp[b, j] = dct * gf


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
    cdef Py_ssize_t b, j, B = act.shape[0], H = act.shape[1] // 4
    with nogil:
        for b in prange(B, schedule="static", num_threads=threads):
            for j in range(2 * H):
                act[b, j] = (xg[b, j] + gh[b, j]) * <floating>0.5
            for j in range(H):
                act[b, 3 * H + j] = gh[b, 2 * H + j]


cdef void _gru_mid(floating[:, ::1] xg, floating[:, ::1] act, int threads) noexcept:
    # finish r and z, then the pre-activation of n
    cdef Py_ssize_t b, j, B = act.shape[0], H = act.shape[1] // 4
    cdef floating r
    with nogil:
        for b in prange(B, schedule="static", num_threads=threads):
            for j in range(H):
                r = <floating>0.5 * act[b, j] + <floating>0.5
                act[b, j] = r
                act[b, H + j] = <floating>0.5 * act[b, H + j] + <floating>0.5
                act[b, 2 * H + j] = xg[b, 2 * H + j] + r * act[b, 3 * H + j]


cdef void _gru_post(floating[:, ::1] act, floating[:, ::1] hp, floating[:, ::1] h,
                    int threads) noexcept:
    cdef Py_ssize_t b, j, B = hp.shape[0], H = hp.shape[1]
    cdef floating z
    with nogil:
        for b in prange(B, schedule="static", num_threads=threads):
            for j in range(H):
                z = act[b, H + j]
                h[b, j] = (1 - z) * act[b, 2 * H + j] + z * hp[b, j]


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
    cdef Py_ssize_t b, j, B = hp.shape[0], H = hp.shape[1]
    cdef floating r, z, n, hn, d, dn, dr, dz
    with nogil:
        for b in prange(B, schedule="static", num_threads=threads):
            for j in range(H):
                r = act[b, j]
                z = act[b, H + j]
                n = act[b, 2 * H + j]
                hn = act[b, 3 * H + j]
                d = dh[b, j]
                dn = d * (1 - z) * (1 - n * n)
                dr = dn * hn * r * (1 - r)
                dz = d * (hp[b, j] - n) * z * (1 - z)
                dx[b, j] = dr
                dgh[b, j] = dr
                dx[b, H + j] = dz
                dgh[b, H + j] = dz
                dx[b, 2 * H + j] = dn
                dgh[b, 2 * H + j] = dn * r
                dhp[b, j] = d * z


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
