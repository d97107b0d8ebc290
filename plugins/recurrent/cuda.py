"""The cuda backend's kernels for one recurrent time step: the gate nonlinearities
and state updates of an LSTM, GRU or plain RNN step, forward and backward, each in
one CuPy element-wise launch (the generic kernels take 2 to 25: a launch per
slice, activation, product and concatenation). The matrix products around them
stay with ``cupy.matmul`` in the family's recurrence loop.

The ops and their layouts are those of ``kernels.py`` (and ``_gates.pyx``): gate
blocks of ``H`` columns, in torch's order (LSTM ``i, f, g, o``; GRU ``r, z, n``,
its saved activations ``r, z, n, hn``). The LSTM and GRU kernels run over the
``(b, H)`` hidden units; each reads its unit's gate values from the ``(b, G*H)``
arrays (``raw`` parameters, made C-contiguous first: a no-op for the rows of the
loop's contiguous buffers) and writes the unit's values into the gate-shaped
outputs. The sigmoid is ``1 / (1 + exp(-x))``, as the generic kernels compute it.

Calls with float16, integer or mixed dtypes, or arrays whose shapes do not match
those layouts, go to the generic kernels through ``accepts``.
"""

from ember.backends.cuda.kernels import on_device, same_floats

# The hidden unit's row and column (one 64-bit division per unit).
_UNIT = "long long row = i / H, j = i - row * H;"
_PREAMBLE = """
template <typename U> __device__ U ember_sigmoid(U x) { return U(1) / (U(1) + exp(-x)); }
"""

_LSTM_FORWARD = _UNIT + """
long long a = row * 4 * H + j;
T gi = ember_sigmoid(xg[a] + gh[a]);
T gf = ember_sigmoid(xg[a + H] + gh[a + H]);
T gg = tanh(xg[a + 2 * H] + gh[a + 2 * H]);
T go = ember_sigmoid(xg[a + 3 * H] + gh[a + 3 * H]);
act[a] = gi; act[a + H] = gf; act[a + 2 * H] = gg; act[a + 3 * H] = go;
T cn = gf * c_prev + gi * gg;
c = cn;
h = go * tanh(cn);
"""

_LSTM_BACKWARD = _UNIT + """
long long a = row * 4 * H + j;
T gi = act[a], gf = act[a + H], gg = act[a + 2 * H], go = act[a + 3 * H];
T tc = tanh(c);
T dct = dc + dh * go * (T(1) - tc * tc);
dg[a] = dct * gg * gi * (T(1) - gi);
dg[a + H] = dct * c_prev * gf * (T(1) - gf);
dg[a + 2 * H] = dct * gi * (T(1) - gg * gg);
dg[a + 3 * H] = dh * tc * go * (T(1) - go);
dc_prev = dct * gf;
"""

_GRU_FORWARD = _UNIT + """
long long p = row * 3 * H + j, a = row * 4 * H + j;
T r = ember_sigmoid(xg[p] + gh[p]);
T z = ember_sigmoid(xg[p + H] + gh[p + H]);
T hn = gh[p + 2 * H];
T n = tanh(xg[p + 2 * H] + r * hn);
act[a] = r; act[a + H] = z; act[a + 2 * H] = n; act[a + 3 * H] = hn;
h = (T(1) - z) * n + z * h_prev;
"""

_GRU_BACKWARD = _UNIT + """
long long p = row * 3 * H + j, a = row * 4 * H + j;
T r = act[a], z = act[a + H], n = act[a + 2 * H], hn = act[a + 3 * H];
T dn = dh * (T(1) - z) * (T(1) - n * n);
T dr = dn * hn * r * (T(1) - r);
T dz = dh * (h_prev - n) * z * (T(1) - z);
dx[p] = dr; dx[p + H] = dz; dx[p + 2 * H] = dn;
dgh[p] = dr; dgh[p + H] = dz; dgh[p + 2 * H] = dn * r;
dh_prev = dh * z;
"""

# relu as xp.maximum(pre, 0): a NaN passes through
_RNN_FORWARD = "T p = xg + gh; h = relu ? ((p > T(0) || p != p) ? p : T(0)) : tanh(p)"
# dh * (h > 0) keeps a NaN of dh where h <= 0, as the generic product does
_RNN_BACKWARD = "d = relu ? dh * T(h > T(0)) : dh * (T(1) - h * h)"


def _step(xp, params, operation, name):
    ins, outs = params
    return xp.ElementwiseKernel(ins, outs, operation, "ember_" + name, preamble=_PREAMBLE)


def _lstm_forward(xp):
    run = _step(xp, ("raw T xg, raw T gh, T c_prev, int64 H", "T h, T c, raw T act"),
                _LSTM_FORWARD, "lstm_forward")

    def lstm_forward(xg, gh, c_prev):
        h, c = xp.empty(c_prev.shape, c_prev.dtype), xp.empty(c_prev.shape, c_prev.dtype)
        act = xp.empty(xg.shape, xg.dtype)
        run(xp.ascontiguousarray(xg), xp.ascontiguousarray(gh), c_prev, c_prev.shape[1], h, c, act)
        return h, c, act

    return lstm_forward


def _lstm_backward(xp):
    run = _step(xp, ("T dh, T dc, raw T act, T c, T c_prev, int64 H", "T dc_prev, raw T dg"),
                _LSTM_BACKWARD, "lstm_backward")

    def lstm_backward(dh, dc, act, c, c_prev):
        dg = xp.empty(act.shape, act.dtype)
        dc_prev = xp.empty(c_prev.shape, c_prev.dtype)
        run(dh, dc, xp.ascontiguousarray(act), c, c_prev, c_prev.shape[1], dc_prev, dg)
        return dg, dc_prev

    return lstm_backward


def _gru_forward(xp):
    run = _step(xp, ("raw T xg, raw T gh, T h_prev, int64 H", "T h, raw T act"),
                _GRU_FORWARD, "gru_forward")

    def gru_forward(xg, gh, h_prev):
        b, hidden = h_prev.shape
        h = xp.empty((b, hidden), h_prev.dtype)
        act = xp.empty((b, 4 * hidden), h_prev.dtype)
        run(xp.ascontiguousarray(xg), xp.ascontiguousarray(gh), h_prev, hidden, h, act)
        return h, act

    return gru_forward


def _gru_backward(xp):
    run = _step(xp, ("T dh, raw T act, T h_prev, int64 H", "T dh_prev, raw T dx, raw T dgh"),
                _GRU_BACKWARD, "gru_backward")

    def gru_backward(dh, act, h_prev):
        b, hidden = h_prev.shape
        dx = xp.empty((b, 3 * hidden), h_prev.dtype)
        dgh = xp.empty_like(dx)
        dh_prev = xp.empty(h_prev.shape, h_prev.dtype)
        run(dh, xp.ascontiguousarray(act), h_prev, hidden, dh_prev, dx, dgh)
        return dx, dgh, dh_prev

    return gru_backward


def _rnn_forward(xp):
    run = _step(xp, ("T xg, T gh, bool relu", "T h"), _RNN_FORWARD, "rnn_forward")
    return lambda xg, gh, relu: run(xg, gh, bool(relu))


def _rnn_backward(xp):
    run = _step(xp, ("T dh, T h, bool relu", "T d"), _RNN_BACKWARD, "rnn_backward")
    return lambda dh, h, relu: run(dh, h, bool(relu))


def _units(gates, hidden_state, gate_arrays, unit_arrays):
    """True when the arrays are of one float dtype, 2-d, every unit array of
    ``hidden_state``'s shape ``(b, H)`` and every gate array ``(b, gates * H)``."""
    if not same_floats(*gate_arrays, *unit_arrays) or hidden_state.ndim != 2:
        return False
    b, hidden = hidden_state.shape
    return (all(a.shape == (b, hidden) for a in unit_arrays)
            and all(a.shape == (b, gates * hidden) for a in gate_arrays))


def lstm_forward_args(xg, gh, c_prev):
    """The LSTM step calls the cuda kernel takes: ``xg``, ``gh`` ``(b, 4H)``, ``c_prev`` ``(b, H)``."""
    return _units(4, c_prev, (xg, gh), (c_prev,))


def lstm_backward_args(dh, dc, act, c, c_prev):
    """The LSTM step's backward calls the cuda kernel takes (``act`` ``(b, 4H)``)."""
    return _units(4, c_prev, (act,), (dh, dc, c, c_prev))


def gru_forward_args(xg, gh, h_prev):
    """The GRU step calls the cuda kernel takes: ``xg``, ``gh`` ``(b, 3H)``, ``h_prev`` ``(b, H)``."""
    return _units(3, h_prev, (xg, gh), (h_prev,))


def gru_backward_args(dh, act, h_prev):
    """The GRU step's backward calls the cuda kernel takes (``act`` ``(b, 4H)``)."""
    return _units(4, h_prev, (act,), (dh, h_prev))


def rnn_args(a, b, relu):
    """The plain RNN step calls (either way) the cuda kernel takes: one float dtype."""
    return same_floats(a, b)



#: op -> kernel factory of the ``cupy`` namespace (registered under the "cuda" backend).
KERNELS = {
    "recurrent.lstm_forward": on_device(_lstm_forward, lstm_forward_args),
    "recurrent.lstm_backward": on_device(_lstm_backward, lstm_backward_args),
    "recurrent.gru_forward": on_device(_gru_forward, gru_forward_args),
    "recurrent.gru_backward": on_device(_gru_backward, gru_backward_args),
    "recurrent.rnn_forward": on_device(_rnn_forward, rnn_args),
    "recurrent.rnn_backward": on_device(_rnn_backward, rnn_args),
}
