"""Kernels of one recurrent time step (gate nonlinearities and state updates),
written once against the array namespace ``xp`` (NumPy, CuPy), and the family's
kernel table.

Ops (generic kernels; ``_gates.pyx`` replaces the LSTM and GRU ones on the CPU for
float32/float64, see its docstring for the layouts, and ``cuda.py`` replaces all six
on the cuda backend with one CuPy launch each):

* ``recurrent.lstm_forward(xg, gh, c_prev) -> (h, c, act)``
* ``recurrent.lstm_backward(d_out, dh, dc, act, c, c_prev) -> (d_gates, d_c_prev)``
* ``recurrent.gru_forward(xg, gh, h_prev, b_hh) -> (h, act)``
* ``recurrent.gru_backward(d_out, dh, dh_direct, act, h_prev) -> (d_xg, d_gh, d_h_prev_direct)``
* ``recurrent.rnn_forward(xg, gh, relu) -> h`` (``tanh`` or ``relu`` of the sum)
* ``recurrent.rnn_backward(d_out, dh, h, relu) -> d_pre``

A whole step, its product ``h_prev @ W_hh^T`` included, is one op each way, given the
step kernel above (``gates``) that the generic kernels call after the product (a
backend whose kernel takes the product in too, as cuda's does for small layers,
needs no second launch); ``w_t`` is ``W_hh^T`` ``(K, G*H)``, ``w`` is ``W_hh``
``(G*H, K)``, both C-contiguous:

* ``recurrent.lstm_step(xg, h_prev, w_t, c_prev, gates) -> (h, c, act)``
* ``recurrent.gru_step(xg, h_prev, w_t, b_hh, gates) -> (h, act)``
* ``recurrent.rnn_step(xg, h_prev, w_t, relu, gates) -> h``
* ``recurrent.lstm_step_backward(d_out, dg_next, w, dh, dc, act, c, c_prev, gates)``
  ``-> (d_gates, d_c_prev)``: ``dh`` is ``dg_next @ w`` (the later step's gate
  gradient through the product), or the ``dh`` given where ``dg_next`` is None;
* ``recurrent.gru_step_backward(d_out, dgh_next, w, dh, dh_direct, act, h_prev, gates)``
  ``-> (d_xg, d_gh, d_h_prev_direct)``, likewise from the later step's ``d_gh``;
* ``recurrent.rnn_step_backward(d_out, dg_next, w, dh, h, relu, gates) -> d_pre``.

The gradient of a step's ``h`` arrives by several paths, which the backward kernels
add up themselves, so that the time loop spends no launch per step on the sum:
``d_out`` from the layer's output row of the step (None where the caller has added
it already), ``dh`` from the next step's ``h @ W_hh^T``, and (GRU) ``dh_direct``, the
next step's direct part ``dh * z`` (None at the last step). The GRU forward adds the
hidden bias ``b_hh`` (``(3H,)``, or None) to ``gh`` itself, for the same reason:
``r`` multiplies ``W_hn h + b_hn``, so the bias cannot go into the input projection.
"""

from ember import kernels


def _sigmoid(xp, x):
    return 1 / (1 + xp.exp(-x))


def sum_present(*parts):
    """The sum of the arrays of ``parts`` that are not None (a step's gradient from
    the paths it arrives by; a product and its optional bias)."""
    present = [p for p in parts if p is not None]
    total = present[0]
    for p in present[1:]:
        total = total + p
    return total


def _lstm_forward(xp):
    def lstm_forward(xg, gh, c_prev):
        H = c_prev.shape[1]
        pre = xg + gh
        act = xp.empty_like(pre)
        act[:, :2 * H] = _sigmoid(xp, pre[:, :2 * H])
        act[:, 2 * H:3 * H] = xp.tanh(pre[:, 2 * H:3 * H])
        act[:, 3 * H:] = _sigmoid(xp, pre[:, 3 * H:])
        i, f, g, o = act[:, :H], act[:, H:2 * H], act[:, 2 * H:3 * H], act[:, 3 * H:]
        c = f * c_prev + i * g
        h = o * xp.tanh(c)
        return h, c, act
    return lstm_forward


def _lstm_backward(xp):
    def lstm_backward(d_out, dh, dc, act, c, c_prev):
        dh = sum_present(d_out, dh)
        H = c_prev.shape[1]
        i, f, g, o = act[:, :H], act[:, H:2 * H], act[:, 2 * H:3 * H], act[:, 3 * H:]
        tc = xp.tanh(c)
        dct = dc + dh * o * (1 - tc * tc)
        dg = xp.empty_like(act)
        dg[:, :H] = dct * g * i * (1 - i)
        dg[:, H:2 * H] = dct * c_prev * f * (1 - f)
        dg[:, 2 * H:3 * H] = dct * i * (1 - g * g)
        dg[:, 3 * H:] = dh * tc * o * (1 - o)
        return dg, dct * f
    return lstm_backward


def _gru_forward(xp):
    def gru_forward(xg, gh, h_prev, b_hh):
        H = h_prev.shape[1]
        gh = sum_present(gh, b_hh)
        rz = _sigmoid(xp, xg[:, :2 * H] + gh[:, :2 * H])
        r, z = rz[:, :H], rz[:, H:]
        hn = gh[:, 2 * H:]
        n = xp.tanh(xg[:, 2 * H:] + r * hn)
        h = (1 - z) * n + z * h_prev
        return h, xp.concatenate([rz, n, hn], axis=1)
    return gru_forward


def _gru_backward(xp):
    def gru_backward(d_out, dh, dh_direct, act, h_prev):
        dh = sum_present(d_out, dh, dh_direct)
        H = h_prev.shape[1]
        r, z, n, hn = act[:, :H], act[:, H:2 * H], act[:, 2 * H:3 * H], act[:, 3 * H:]
        dn = dh * (1 - z) * (1 - n * n)
        dr = dn * hn * r * (1 - r)
        dz = dh * (h_prev - n) * z * (1 - z)
        dx = xp.concatenate([dr, dz, dn], axis=1)
        dgh = xp.concatenate([dr, dz, dn * r], axis=1)
        return dx, dgh, dh * z
    return gru_backward


def _rnn_forward(xp):
    def rnn_forward(xg, gh, relu):
        pre = xg + gh
        return xp.maximum(pre, 0) if relu else xp.tanh(pre)
    return rnn_forward


def _rnn_backward(xp):
    def rnn_backward(d_out, dh, h, relu):
        dh = sum_present(d_out, dh)
        return dh * (h > 0) if relu else dh * (1 - h * h)
    return rnn_backward


def _through(dg_next, w, dh):
    """A step's ``dh`` from the later step: ``dg_next @ w``, or ``dh`` as given."""
    return dh if dg_next is None else dg_next @ w


def _lstm_step(xp):
    def lstm_step(xg, h_prev, w_t, c_prev, gates):
        return gates(xg, h_prev @ w_t, c_prev)
    return lstm_step


def _gru_step(xp):
    def gru_step(xg, h_prev, w_t, b_hh, gates):
        return gates(xg, h_prev @ w_t, h_prev, b_hh)
    return gru_step


def _rnn_step(xp):
    def rnn_step(xg, h_prev, w_t, relu, gates):
        return gates(xg, h_prev @ w_t, relu)
    return rnn_step


def _lstm_step_backward(xp):
    def lstm_step_backward(d_out, dg_next, w, dh, dc, act, c, c_prev, gates):
        return gates(d_out, _through(dg_next, w, dh), dc, act, c, c_prev)
    return lstm_step_backward


def _gru_step_backward(xp):
    def gru_step_backward(d_out, dgh_next, w, dh, dh_direct, act, h_prev, gates):
        return gates(d_out, _through(dgh_next, w, dh), dh_direct, act, h_prev)
    return gru_step_backward


def _rnn_step_backward(xp):
    def rnn_step_backward(d_out, dg_next, w, dh, h, relu, gates):
        return gates(d_out, _through(dg_next, w, dh), h, relu)
    return rnn_step_backward


GENERIC_KERNELS = {
    "recurrent.lstm_forward": _lstm_forward,
    "recurrent.lstm_backward": _lstm_backward,
    "recurrent.gru_forward": _gru_forward,
    "recurrent.gru_backward": _gru_backward,
    "recurrent.rnn_forward": _rnn_forward,
    "recurrent.rnn_backward": _rnn_backward,
    "recurrent.lstm_step": _lstm_step,
    "recurrent.gru_step": _gru_step,
    "recurrent.rnn_step": _rnn_step,
    "recurrent.lstm_step_backward": _lstm_step_backward,
    "recurrent.gru_step_backward": _gru_step_backward,
    "recurrent.rnn_step_backward": _rnn_step_backward,
}


def _last_is_floating(*args):
    """The Cython loops take float32/float64 (the last array argument has the dtype)."""
    return kernels.floating(next(a for a in reversed(args) if a is not None))


def _cython_steps(gates):
    """The step kernels of ``_gates.pyx`` under the ops' signatures: the gradient's
    parts (and GRU's hidden bias) summed first, as the loop summed them before."""
    def lstm_backward(d_out, dh, dc, act, c, c_prev):
        return gates.lstm_backward(sum_present(d_out, dh), dc, act, c, c_prev)

    def gru_forward(xg, gh, h_prev, b_hh):
        return gates.gru_forward(xg, sum_present(gh, b_hh), h_prev)

    def gru_backward(d_out, dh, dh_direct, act, h_prev):
        return gates.gru_backward(sum_present(d_out, dh, dh_direct), act, h_prev)

    steps = {"recurrent.lstm_forward": gates.lstm_forward, "recurrent.lstm_backward": lstm_backward,
             "recurrent.gru_forward": gru_forward, "recurrent.gru_backward": gru_backward}
    return {op: kernels.kernel(fn, accepts=_last_is_floating) for op, fn in steps.items()}


def table():
    """``(op, backend) -> kernel`` for ``ember_register_kernels``."""
    from .cuda import KERNELS as cuda

    try:
        from . import _gates
    except ImportError:  # not built: the generic kernels serve the cpu backend
        return kernels.table(GENERIC_KERNELS, cuda=cuda)
    return kernels.table(GENERIC_KERNELS, cuda=cuda, cpu=_cython_steps(_gates))
