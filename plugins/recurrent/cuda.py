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
The backward kernels add up the parts of the step's gradient, and the GRU forward
its hidden bias, in the generic kernels' order; a part that is None is passed as
the scalar 0 (exact), an absent bias as a flag.

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
T dh = d_out + dh_next;
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
T r = ember_sigmoid(xg[p] + (biased ? gh[p] + b_hh[j] : gh[p]));
T z = ember_sigmoid(xg[p + H] + (biased ? gh[p + H] + b_hh[H + j] : gh[p + H]));
T hn = biased ? gh[p + 2 * H] + b_hh[2 * H + j] : gh[p + 2 * H];
T n = tanh(xg[p + 2 * H] + r * hn);
act[a] = r; act[a + H] = z; act[a + 2 * H] = n; act[a + 3 * H] = hn;
h = (T(1) - z) * n + z * h_prev;
"""

_GRU_BACKWARD = _UNIT + """
long long p = row * 3 * H + j, a = row * 4 * H + j;
T dh = d_out + dh_next + dh_direct;
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
_RNN_BACKWARD = "T dh = d_out + dh_next; d = relu ? dh * T(h > T(0)) : dh * (T(1) - h * h)"


def _zero(a):
    """``a``, or the scalar 0 for a part of a gradient that is None."""
    return 0 if a is None else a


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
    run = _step(xp, ("T d_out, T dh_next, T dc, raw T act, T c, T c_prev, int64 H", "T dc_prev, raw T dg"),
                _LSTM_BACKWARD, "lstm_backward")

    def lstm_backward(d_out, dh, dc, act, c, c_prev):
        dg = xp.empty(act.shape, act.dtype)
        dc_prev = xp.empty(c_prev.shape, c_prev.dtype)
        run(_zero(d_out), dh, dc, xp.ascontiguousarray(act), c, c_prev, c_prev.shape[1], dc_prev, dg)
        return dg, dc_prev

    return lstm_backward


def _gru_forward(xp):
    run = _step(xp, ("raw T xg, raw T gh, raw T b_hh, bool biased, T h_prev, int64 H", "T h, raw T act"),
                _GRU_FORWARD, "gru_forward")

    def gru_forward(xg, gh, h_prev, b_hh):
        b, hidden = h_prev.shape
        h = xp.empty((b, hidden), h_prev.dtype)
        act = xp.empty((b, 4 * hidden), h_prev.dtype)
        gh = xp.ascontiguousarray(gh)
        bias = gh if b_hh is None else xp.ascontiguousarray(b_hh)  # gh: read by no unit
        run(xp.ascontiguousarray(xg), gh, bias, b_hh is not None, h_prev, hidden, h, act)
        return h, act

    return gru_forward


def _gru_backward(xp):
    run = _step(xp, ("T d_out, T dh_next, T dh_direct, raw T act, T h_prev, int64 H",
                     "T dh_prev, raw T dx, raw T dgh"), _GRU_BACKWARD, "gru_backward")

    def gru_backward(d_out, dh, dh_direct, act, h_prev):
        b, hidden = h_prev.shape
        dx = xp.empty((b, 3 * hidden), h_prev.dtype)
        dgh = xp.empty_like(dx)
        dh_prev = xp.empty(h_prev.shape, h_prev.dtype)
        run(_zero(d_out), dh, _zero(dh_direct), xp.ascontiguousarray(act), h_prev, hidden, dh_prev, dx, dgh)
        return dx, dgh, dh_prev

    return gru_backward


def _rnn_forward(xp):
    run = _step(xp, ("T xg, T gh, bool relu", "T h"), _RNN_FORWARD, "rnn_forward")
    return lambda xg, gh, relu: run(xg, gh, bool(relu))


def _rnn_backward(xp):
    run = _step(xp, ("T d_out, T dh_next, T h, bool relu", "T d"), _RNN_BACKWARD, "rnn_backward")
    return lambda d_out, dh, h, relu: run(_zero(d_out), dh, h, bool(relu))


def _units(gates, hidden_state, gate_arrays, unit_arrays, bias=None):
    """True when the arrays are of one float dtype, 2-d, every unit array of
    ``hidden_state``'s shape ``(b, H)`` (a part that is None left out), every gate
    array ``(b, gates * H)`` and ``bias`` None or ``(gates * H,)``."""
    unit_arrays = [a for a in unit_arrays if a is not None]
    if not same_floats(*gate_arrays, *unit_arrays, bias) or hidden_state.ndim != 2:
        return False
    b, hidden = hidden_state.shape
    return (all(a.shape == (b, hidden) for a in unit_arrays)
            and all(a.shape == (b, gates * hidden) for a in gate_arrays)
            and (bias is None or bias.shape == (gates * hidden,)))


def lstm_forward_args(xg, gh, c_prev):
    """The LSTM step calls the cuda kernel takes: ``xg``, ``gh`` ``(b, 4H)``, ``c_prev`` ``(b, H)``."""
    return _units(4, c_prev, (xg, gh), (c_prev,))


def lstm_backward_args(d_out, dh, dc, act, c, c_prev):
    """The LSTM step's backward calls the cuda kernel takes (``act`` ``(b, 4H)``)."""
    return _units(4, c_prev, (act,), (d_out, dh, dc, c, c_prev))


def gru_forward_args(xg, gh, h_prev, b_hh):
    """The GRU step calls the cuda kernel takes: ``xg``, ``gh`` ``(b, 3H)``, ``h_prev``
    ``(b, H)``, ``b_hh`` ``(3H,)`` or None."""
    return _units(3, h_prev, (xg, gh), (h_prev,), b_hh)


def gru_backward_args(d_out, dh, dh_direct, act, h_prev):
    """The GRU step's backward calls the cuda kernel takes (``act`` ``(b, 4H)``)."""
    return _units(4, h_prev, (act,), (d_out, dh, dh_direct, h_prev))


def rnn_forward_args(xg, gh, relu):
    """The plain RNN step calls the cuda kernel takes: one float dtype."""
    return same_floats(xg, gh)


def rnn_backward_args(d_out, dh, h, relu):
    """The plain RNN step's backward calls the cuda kernel takes: one float dtype
    (the same shape: an element-wise kernel broadcasts, the generic one too)."""
    return same_floats(d_out, dh, h)


#: op -> kernel factory of the ``cupy`` namespace (registered under the "cuda" backend).
KERNELS = {
    "recurrent.lstm_forward": on_device(_lstm_forward, lstm_forward_args),
    "recurrent.lstm_backward": on_device(_lstm_backward, lstm_backward_args),
    "recurrent.gru_forward": on_device(_gru_forward, gru_forward_args),
    "recurrent.gru_backward": on_device(_gru_backward, gru_backward_args),
    "recurrent.rnn_forward": on_device(_rnn_forward, rnn_forward_args),
    "recurrent.rnn_backward": on_device(_rnn_backward, rnn_backward_args),
}
