"""The cuda backend's kernels for one recurrent time step: the gate nonlinearities
and state updates of an LSTM, GRU or plain RNN step, forward and backward, each in
one CuPy element-wise launch (the generic kernels take 2 to 25: a launch per
slice, activation, product and concatenation). For a small layer the step ops
(``recurrent.lstm_step`` ..., see ``kernels.py``) fold the step's product with
``W_hh`` into that launch too (:data:`MOST_FUSED_PRODUCT`); a bigger one leaves the
product to ``cupy.matmul`` (cuBLAS).

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
# The fused steps' order: consecutive threads take the B rows of one unit, so that a
# warp's reads of the weight are one or two addresses, broadcast (each element of the
# weight is fetched once a step, not once per row); their arrays are all ``raw``, the
# unit's values bound to the cells' names at ``u``.
_FUSED_UNIT = "long long j = i / B, row = i - j * B, u = row * H + j;\n"
_PREAMBLE = """
template <typename U> __device__ U ember_sigmoid(U x) { return U(1) / (U(1) + exp(-x)); }
"""



def _product(gates):
    """Code giving the unit ``(row, j)`` its parts ``p0 .. p{gates-1}`` of the step's
    product ``h_src @ w_t``: ``h_src`` ``(b, K)``, ``w_t`` ``(K, gates * H)``."""
    parts = ", ".join(f"p{g} = T(0)" for g in range(gates))
    adds = " ".join(f"p{g} += hk * w_t[w + {g} * H];" for g in range(gates))
    return (f"T {parts};\nfor (long long k = 0; k < K; ++k) {{\n"
            f"T hk = h_src[row * K + k]; long long w = k * {gates} * H + j; {adds}\n}}\n")


def _product_back(gates):
    """Code giving the unit ``(row, j)`` its part ``p0`` of ``dg_next @ w``:
    ``dg_next`` ``(b, gates * H)``, ``w`` ``(gates * H, H)``."""
    return (f"T p0 = T(0);\nfor (long long q = 0; q < {gates} * H; ++q) "
            f"p0 += dg_next[row * {gates} * H + q] * w[q * H + j];\n")


# the step's cells, from the product's parts p0..p3 (gate order i, f, g, o)
_LSTM_CELL = """
T gi = ember_sigmoid(xg[a] + p0);
T gf = ember_sigmoid(xg[a + H] + p1);
T gg = tanh(xg[a + 2 * H] + p2);
T go = ember_sigmoid(xg[a + 3 * H] + p3);
act[a] = gi; act[a + H] = gf; act[a + 2 * H] = gg; act[a + 3 * H] = go;
T cn = gf * c_prev + gi * gg;
c = cn;
h = go * tanh(cn);
"""
_LSTM_FORWARD = (_UNIT + "long long a = row * 4 * H + j;\n"
                 "T p0 = gh[a], p1 = gh[a + H], p2 = gh[a + 2 * H], p3 = gh[a + 3 * H];" + _LSTM_CELL)
_LSTM_STEP = (_FUSED_UNIT + "long long a = row * 4 * H + j;\n"
              "const T c_prev = c_prev_rows[u]; T& c = c_rows[u]; T& h = h_rows[u];\n" + _product(4) + _LSTM_CELL)

# ... and back from the step's dh
_LSTM_BACKWARD_CELL = """
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
_LSTM_BACKWARD = _UNIT + "T dh = d_out + dh_next;" + _LSTM_BACKWARD_CELL
_OUT_PART = "const T d_out = has_out ? d_out_rows[u] : T(0);\n"
_LSTM_STEP_BACKWARD = (_FUSED_UNIT + _OUT_PART + "const T dc = dc_rows[u], c = c_rows[u], c_prev = c_prev_rows[u];"
                       " T& dc_prev = dc_prev_rows[u];\n" + _product_back(4) + "T dh = d_out + p0;"
                       + _LSTM_BACKWARD_CELL)

_GRU_CELL = """
T r = ember_sigmoid(xg[p] + (biased ? p0 + b_hh[j] : p0));
T z = ember_sigmoid(xg[p + H] + (biased ? p1 + b_hh[H + j] : p1));
T hn = biased ? p2 + b_hh[2 * H + j] : p2;
T n = tanh(xg[p + 2 * H] + r * hn);
act[a] = r; act[a + H] = z; act[a + 2 * H] = n; act[a + 3 * H] = hn;
h = (T(1) - z) * n + z * h_prev;
"""
_GRU_FORWARD = (_UNIT + "long long p = row * 3 * H + j, a = row * 4 * H + j;\n"
                "T p0 = gh[p], p1 = gh[p + H], p2 = gh[p + 2 * H];" + _GRU_CELL)
_GRU_STEP = (_FUSED_UNIT + "long long p = row * 3 * H + j, a = row * 4 * H + j;\n"
             "const T h_prev = h_src[u]; T& h = h_rows[u];\n" + _product(3) + _GRU_CELL)

_GRU_BACKWARD_CELL = """
long long p = row * 3 * H + j, a = row * 4 * H + j;
T r = act[a], z = act[a + H], n = act[a + 2 * H], hn = act[a + 3 * H];
T dn = dh * (T(1) - z) * (T(1) - n * n);
T dr = dn * hn * r * (T(1) - r);
T dz = dh * (h_prev - n) * z * (T(1) - z);
dx[p] = dr; dx[p + H] = dz; dx[p + 2 * H] = dn;
dgh[p] = dr; dgh[p + H] = dz; dgh[p + 2 * H] = dn * r;
dh_prev = dh * z;
"""
_GRU_BACKWARD = _UNIT + "T dh = d_out + dh_next + dh_direct;" + _GRU_BACKWARD_CELL
_GRU_STEP_BACKWARD = (_FUSED_UNIT + _OUT_PART + "const T dh_direct = has_direct ? direct_rows[u] : T(0);"
                      " const T h_prev = h_prev_rows[u]; T& dh_prev = dh_prev_rows[u];\n" + _product_back(3)
                      + "T dh = d_out + p0 + dh_direct;" + _GRU_BACKWARD_CELL)

# relu as xp.maximum(pre, 0): a NaN passes through
_RNN_CELL = "h = relu ? ((p > T(0) || p != p) ? p : T(0)) : tanh(p)"
_RNN_FORWARD = "T p = xg + gh; " + _RNN_CELL
_RNN_STEP = (_FUSED_UNIT + "const T xg = xg_rows[u]; T& h = h_rows[u];\n" + _product(1) + "T p = xg + p0; "
             + _RNN_CELL)
# dh * (h > 0) keeps a NaN of dh where h <= 0, as the generic product does
_RNN_BACKWARD_CELL = "d = relu ? dh * T(h > T(0)) : dh * (T(1) - h * h)"
_RNN_BACKWARD = "T dh = d_out + dh_next; " + _RNN_BACKWARD_CELL
_RNN_STEP_BACKWARD = (_FUSED_UNIT + _OUT_PART + "const T h = h_rows[u]; T& d = d_rows[u];\n" + _product_back(1)
                      + "T dh = d_out + p0; " + _RNN_BACKWARD_CELL)


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
        return _run_gru(xp, run, xg, (gh,), b_hh, (h_prev, h_prev.shape[1]), h_prev.shape)

    return gru_forward


def _run_gru(xp, run, xg, reads, b_hh, rest, shape):
    """Launch GRU forward kernel ``run`` on ``xg``, the arrays ``reads`` (``gh``, or
    ``h_prev`` and ``w_t``), the hidden bias (where absent, the first read, which no
    unit then reads) and the arguments ``rest``, for ``shape`` ``(b, H)`` hidden
    units; returns ``(h, act)``."""
    b, hidden = shape
    h = xp.empty((b, hidden), xg.dtype)
    act = xp.empty((b, 4 * hidden), xg.dtype)
    reads = [xp.ascontiguousarray(a) for a in reads]
    bias = reads[0] if b_hh is None else xp.ascontiguousarray(b_hh)
    run(xp.ascontiguousarray(xg), *reads, bias, b_hh is not None, *rest, h, act)
    return h, act


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


def _rows(a, stand_in):
    """``(a, True)``, or ``(stand_in, False)`` for a part that is None (an array no
    thread then reads). A part may be strided (the rows of a broadcast output
    gradient, say): a raw array's element ``u`` follows its strides, so it is not
    copied first, a launch a step."""
    return (stand_in, False) if a is None else (a, True)


def _lstm_step(xp):
    run = _step(xp, ("raw T xg, raw T h_src, raw T w_t, raw T c_prev_rows, int64 K, int64 H, int64 B",
                     "raw T h_rows, raw T c_rows, raw T act"), _LSTM_STEP, "lstm_step")

    def lstm_step(xg, h_prev, w_t, c_prev, gates):
        (b, hidden), c = c_prev.shape, xp.ascontiguousarray(c_prev)
        h_new, c_new = xp.empty((b, hidden), c.dtype), xp.empty((b, hidden), c.dtype)
        act = xp.empty(xg.shape, xg.dtype)
        run(xp.ascontiguousarray(xg), xp.ascontiguousarray(h_prev), w_t, c, h_prev.shape[1], hidden, b,
            h_new, c_new, act, size=b * hidden)
        return h_new, c_new, act

    return lstm_step


def _gru_step(xp):
    run = _step(xp, ("raw T xg, raw T h_src, raw T w_t, raw T b_hh, bool biased, int64 K, int64 H, int64 B",
                     "raw T h_rows, raw T act"), _GRU_STEP, "gru_step")

    def gru_step(xg, h_prev, w_t, b_hh, gates):
        b, hidden = h_prev.shape
        return _run_gru(xp, lambda *args: run(*args, size=b * hidden), xg, (h_prev, w_t), b_hh,
                        (hidden, hidden, b), (b, hidden))

    return gru_step


def _rnn_step(xp):
    run = _step(xp, ("raw T xg_rows, raw T h_src, raw T w_t, bool relu, int64 K, int64 H, int64 B",
                     "raw T h_rows"), _RNN_STEP, "rnn_step")

    def rnn_step(xg, h_prev, w_t, relu, gates):
        b, hidden = xg.shape
        h = xp.empty((b, hidden), xg.dtype)
        run(xp.ascontiguousarray(xg), xp.ascontiguousarray(h_prev), w_t, bool(relu), h_prev.shape[1], hidden, b,
            h, size=b * hidden)
        return h

    return rnn_step


def _lstm_step_backward(xp):
    run = _step(xp, ("raw T d_out_rows, bool has_out, raw T dg_next, raw T w, raw T dc_rows, raw T act,"
                     " raw T c_rows, raw T c_prev_rows, int64 H, int64 B", "raw T dc_prev_rows, raw T dg"),
                _LSTM_STEP_BACKWARD, "lstm_step_backward")

    def lstm_step_backward(d_out, dg_next, w, dh, dc, act, c, c_prev, gates):
        (b, hidden), c_prev = c_prev.shape, xp.ascontiguousarray(c_prev)
        dg = xp.empty(act.shape, act.dtype)
        dc_prev = xp.empty((b, hidden), c_prev.dtype)
        run(*_rows(d_out, c_prev), dg_next, w, xp.ascontiguousarray(dc), xp.ascontiguousarray(act),
            xp.ascontiguousarray(c), c_prev, hidden, b, dc_prev, dg, size=b * hidden)
        return dg, dc_prev

    return lstm_step_backward


def _gru_step_backward(xp):
    run = _step(xp, ("raw T d_out_rows, bool has_out, raw T dg_next, raw T w, raw T direct_rows, bool has_direct,"
                     " raw T act, raw T h_prev_rows, int64 H, int64 B", "raw T dh_prev_rows, raw T dx, raw T dgh"),
                _GRU_STEP_BACKWARD, "gru_step_backward")

    def gru_step_backward(d_out, dgh_next, w, dh, dh_direct, act, h_prev, gates):
        (b, hidden), h_prev = h_prev.shape, xp.ascontiguousarray(h_prev)
        dx = xp.empty((b, 3 * hidden), h_prev.dtype)
        dgh = xp.empty_like(dx)
        dh_prev = xp.empty((b, hidden), h_prev.dtype)
        run(*_rows(d_out, h_prev), dgh_next, w, *_rows(dh_direct, h_prev), xp.ascontiguousarray(act),
            h_prev, hidden, b, dh_prev, dx, dgh, size=b * hidden)
        return dx, dgh, dh_prev

    return gru_step_backward


def _rnn_step_backward(xp):
    run = _step(xp, ("raw T d_out_rows, bool has_out, raw T dg_next, raw T w, raw T h_rows, bool relu, int64 H,"
                     " int64 B", "raw T d_rows"), _RNN_STEP_BACKWARD, "rnn_step_backward")

    def rnn_step_backward(d_out, dg_next, w, dh, h, relu, gates):
        (b, hidden), h = h.shape, xp.ascontiguousarray(h)
        d = xp.empty((b, hidden), h.dtype)
        run(*_rows(d_out, h), dg_next, w, h, bool(relu), hidden, b, d, size=b * hidden)
        return d

    return rnn_step_backward


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


#: The most multiply-adds of a step's product that a fused step takes: each of its
#: ``b * H`` threads runs ``G * K`` of them in turn, which beats a matrix product's
#: launch for the small layers whose steps are launch-bound, and not for big ones.
MOST_FUSED_PRODUCT = 2 ** 23


def _fused(gates, w, h_rows, k, dtype_arrays):
    """The common conditions of a fused step: one float dtype, a C-contiguous weight
    ``w`` and a product of at most :data:`MOST_FUSED_PRODUCT` multiply-adds."""
    return (same_floats(*dtype_arrays) and w.ndim == 2 and w.flags.c_contiguous and h_rows.ndim == 2
            and h_rows.shape[0] * gates * h_rows.shape[1] * k <= MOST_FUSED_PRODUCT)


def lstm_step_args(xg, h_prev, w_t, c_prev, gates):
    """The LSTM steps the fused kernel takes: ``w_t`` ``(K, 4H)`` for ``h_prev``
    ``(b, K)``, the gate kernel's layouts, a small product."""
    return (lstm_forward_args(xg, xg, c_prev) and h_prev.ndim == 2 and h_prev.shape[0] == c_prev.shape[0]
            and w_t.shape == (h_prev.shape[1], xg.shape[1])
            and _fused(4, w_t, c_prev, h_prev.shape[1], (xg, h_prev, w_t, c_prev)))


def gru_step_args(xg, h_prev, w_t, b_hh, gates):
    """The GRU steps the fused kernel takes: ``w_t`` ``(H, 3H)``, a small product."""
    return (gru_forward_args(xg, xg, h_prev, b_hh) and w_t.shape == (h_prev.shape[1], xg.shape[1])
            and _fused(3, w_t, h_prev, h_prev.shape[1], (xg, h_prev, w_t)))


def rnn_step_args(xg, h_prev, w_t, relu, gates):
    """The plain RNN steps the fused kernel takes: ``xg``, ``h_prev`` ``(b, H)``,
    ``w_t`` ``(H, H)``, a small product."""
    return (xg.ndim == 2 and h_prev.shape == xg.shape and w_t.shape == (xg.shape[1], xg.shape[1])
            and _fused(1, w_t, h_prev, h_prev.shape[1], (xg, h_prev, w_t)))


def lstm_step_backward_args(d_out, dg_next, w, dh, dc, act, c, c_prev, gates):
    """The LSTM step backward calls the fused kernel takes: the later step's
    ``dg_next`` ``(b, 4H)`` given, ``w`` ``(4H, H)``."""
    return (dg_next is not None and lstm_backward_args(d_out, c_prev, dc, act, c, c_prev)
            and dg_next.shape == act.shape and dg_next.flags.c_contiguous and w.shape == act.shape[1:] + c.shape[1:]
            and _fused(4, w, c_prev, c_prev.shape[1], (dg_next, w, act)))


def gru_step_backward_args(d_out, dgh_next, w, dh, dh_direct, act, h_prev, gates):
    """The GRU step backward calls the fused kernel takes: ``dgh_next`` ``(b, 3H)``
    given, ``w`` ``(3H, H)``."""
    return (dgh_next is not None and gru_backward_args(d_out, h_prev, dh_direct, act, h_prev)
            and dgh_next.shape == (h_prev.shape[0], 3 * h_prev.shape[1]) and dgh_next.flags.c_contiguous
            and w.shape == (3 * h_prev.shape[1], h_prev.shape[1])
            and _fused(3, w, h_prev, h_prev.shape[1], (dgh_next, w, h_prev)))


def rnn_step_backward_args(d_out, dg_next, w, dh, h, relu, gates):
    """The plain RNN step backward calls the fused kernel takes: ``dg_next``, ``h``
    ``(b, H)``, ``w`` ``(H, H)``."""
    return (dg_next is not None and h.ndim == 2 and dg_next.shape == h.shape and dg_next.flags.c_contiguous
            and (d_out is None or d_out.shape == h.shape) and w.shape == (h.shape[1], h.shape[1])
            and _fused(1, w, h, h.shape[1], (d_out, dg_next, w, h)))


#: op -> kernel factory of the ``cupy`` namespace (registered under the "cuda" backend).
KERNELS = {
    "recurrent.lstm_forward": on_device(_lstm_forward, lstm_forward_args),
    "recurrent.lstm_backward": on_device(_lstm_backward, lstm_backward_args),
    "recurrent.gru_forward": on_device(_gru_forward, gru_forward_args),
    "recurrent.gru_backward": on_device(_gru_backward, gru_backward_args),
    "recurrent.rnn_forward": on_device(_rnn_forward, rnn_forward_args),
    "recurrent.rnn_backward": on_device(_rnn_backward, rnn_backward_args),
    "recurrent.lstm_step": on_device(_lstm_step, lstm_step_args),
    "recurrent.gru_step": on_device(_gru_step, gru_step_args),
    "recurrent.rnn_step": on_device(_rnn_step, rnn_step_args),
    "recurrent.lstm_step_backward": on_device(_lstm_step_backward, lstm_step_backward_args),
    "recurrent.gru_step_backward": on_device(_gru_step_backward, gru_step_backward_args),
    "recurrent.rnn_step_backward": on_device(_rnn_step_backward, rnn_step_backward_args),
}
