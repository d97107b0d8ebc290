"""The recurrence engine shared by RNN, LSTM, GRU and their cells.

Every layer runs on a *packed* layout: the input of one layer and direction is a
2-D tensor ``(N, features)`` whose rows are grouped by time step, step ``t`` holding
``batch_sizes[t]`` rows (the sequences still running, longest first). A padded
``(T, B, *)`` input is the special case ``batch_sizes = (B,) * T``, so padded and
packed inputs take the same path and packed ones never compute padding.

Per layer and direction:

1. the input projection for all time steps is one matrix product
   (``linear(x, W_ih, b_ih)``, recorded by autograd as usual);
2. the recurrence, :class:`Recurrence`, runs step by step: one step op
   (``recurrent.lstm_step`` ...) per step, the product ``h @ W_hh^T`` and the fused
   gate kernel (``recurrent.lstm_forward`` ...), which a backend may take in one
   launch. Its backward is back-propagation through time in the same style, one
   step op per step, and the gradients of ``W_hh`` (and ``W_hr``) as one product
   over all steps at the end. When gradients are recorded during
   backward (``create_graph=True``), the backward instead re-runs the recurrence
   with differentiable tensor ops and differentiates that, so double backward works.
"""

import ember
from ember.autograd import Function
from ember.backend import data_of, kernel_for, tensor_like, xp_of

#: torch.nn.functional has no recurrent functions; these helpers serve modules.py.
__all__ = []


_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _offsets(batch_sizes):
    offs, s = [], 0
    for b in batch_sizes:
        offs.append(s)
        s += b
    return offs


class Recurrence(Function):
    """One layer, one direction, all time steps.

    ``forward(ctx, xg, h0, c0, w_hh, b_hh, w_hr, mode, batch_sizes, reverse)``:
    ``xg`` (N, G*H) input projections (with the biases that can be folded in),
    ``h0`` (B, H_out), ``c0`` (B, H) or None, ``w_hh`` (G*H, H_out), ``b_hh`` (G*H)
    or None (added to ``h @ W_hh^T`` each step), ``w_hr`` (H_out, H) or None (LSTM
    projection). Returns ``(output (N, H_out), h_n (B, H_out))`` plus ``c_n`` for LSTM.
    """

    @staticmethod
    def forward(ctx, xg, h0, c0, w_hh, b_hh, w_hr, mode, batch_sizes, reverse):
        xp = xp_of(xg)
        X, H0, W = data_of(xg), data_of(h0), data_of(w_hh)
        C0 = data_of(c0) if c0 is not None else None
        BH = data_of(b_hh) if b_hh is not None else None
        WR = data_of(w_hr) if w_hr is not None else None
        lstm, gru = mode == "LSTM", mode == "GRU"
        relu = mode == "RNN_RELU"
        if BH is not None and not gru:  # added to every step's sum: once for all steps
            X, BH = X + BH, None
        kind = "lstm" if lstm else "gru" if gru else "rnn"
        fwd = (kernel_for(f"recurrent.{kind}_step", xg), kernel_for(f"recurrent.{kind}_forward", xg))
        WT = xp.ascontiguousarray(W.T)
        WRT = xp.ascontiguousarray(WR.T) if WR is not None else None
        T = len(batch_sizes)
        offs = _offsets(batch_sizes)
        order = range(T - 1, -1, -1) if reverse else range(T)
        hn = xp.empty_like(H0)
        cn = xp.empty_like(C0) if lstm else None
        saved = [None] * T
        b0 = batch_sizes[order[0]]
        h = H0[:b0]
        c = C0[:b0] if lstm else None
        h, c, out, hprev, hr_buf = _forward_loop(fwd, X, H0, C0, WT, BH, WRT, order, batch_sizes, offs,
                                                 hn, cn, saved, h, c, lstm, gru, relu, xp)
        q = h.shape[0]
        hn[:q] = h
        if lstm:
            cn[:q] = c
        ctx.mode, ctx.batch_sizes, ctx.reverse = mode, batch_sizes, reverse
        ctx.arrays = (saved, out, hprev, hr_buf, offs)
        ctx.save_for_backward(xg, h0, c0, w_hh, b_hh, w_hr)
        outs = (tensor_like(out, xg), tensor_like(hn, xg))
        if lstm:
            outs += (tensor_like(cn, xg),)
        return outs

    @staticmethod
    def backward(ctx, gout, ghn, gcn=None):
        if ember.is_grad_enabled():
            return _backward_differentiable(ctx, gout, ghn, gcn)
        xg, h0, c0, w_hh, b_hh, w_hr = ctx.saved_tensors
        saved, out, hprev, hr_buf, offs = ctx.arrays
        mode, batch_sizes = ctx.mode, ctx.batch_sizes
        xp = xp_of(xg)
        lstm, gru = mode == "LSTM", mode == "GRU"
        relu = mode == "RNN_RELU"
        kind = "lstm" if lstm else "gru" if gru else "rnn"
        bwd = (kernel_for(f"recurrent.{kind}_step_backward", xg), kernel_for(f"recurrent.{kind}_backward", xg))
        W = data_of(w_hh)
        WR = data_of(w_hr) if w_hr is not None else None
        GO, GHN = data_of(gout), data_of(ghn)
        GCN = data_of(gcn) if lstm else None
        T = len(batch_sizes)
        order = list(range(T - 1, -1, -1) if ctx.reverse else range(T))
        dh0 = xp.empty(h0.shape, out.dtype)
        dc0 = xp.empty(c0.shape, out.dtype) if lstm else None
        b = batch_sizes[order[-1]]
        dh = GHN[:b]
        dc = GCN[:b] if lstm else None
        dh, dc, dxg, dgh_all, dhout = _backward_loop(bwd, W, WR, GO, GHN, GCN, order, batch_sizes, offs, saved,
                                                     out, hprev, dh0, dc0, dh, dc, lstm, gru, relu, xp)
        q = dh.shape[0]
        dh0[:q] = dh
        if lstm:
            dc0[:q] = dc
        need = ctx.needs_input_grad
        like = xg
        g_w = tensor_like(dgh_all.T @ hprev, like) if need[3] else None
        g_b = tensor_like(dgh_all.sum(0), like) if b_hh is not None and need[4] else None
        g_wr = None
        if WR is not None and need[5]:
            g_wr = tensor_like(dhout.T @ hr_buf, like)
        return (tensor_like(dxg, like), tensor_like(dh0, like),
                tensor_like(dc0, like) if lstm else None, g_w, g_b, g_wr, None, None, None)


def _rows(xp, steps, width, dtype):
    """The per-step arrays ``steps`` (one per time step, in time order) stacked as the
    packed rows: one concatenation, not one copy per step (a launch each on a GPU)."""
    return xp.concatenate(steps, dtype=dtype) if steps else xp.empty((0, width), dtype)


def _forward_loop(fwd, X, H0, C0, WT, BH, WRT, order, batch_sizes, offs, hn, cn, saved, h, c,
                  lstm, gru, relu, xp):
    """The time loop of :meth:`Recurrence.forward` on arrays, ``fwd`` being the step op
    and its gate kernel; returns the last ``h, c`` and the packed rows of the outputs,
    of each step's incoming ``h`` and (LSTM with a projection) of the unprojected
    outputs."""
    step, gates = fwd
    T = len(order)
    outs, prevs, unprojected = [None] * T, [None] * T, [None] * T
    for t in order:
        b, s = batch_sizes[t], offs[t]
        q = h.shape[0]
        if b != q:
            if b < q:  # sequences b..q ended at the previous step
                hn[b:q] = h[b:]
                h = h[:b]
                if lstm:
                    cn[b:q] = c[b:]
                    c = c[:b]
            else:  # sequences q..b start here (reverse direction)
                h = xp.concatenate([h, H0[q:b]])
                if lstm:
                    c = xp.concatenate([c, C0[q:b]])
        prevs[t] = h
        if lstm:
            hr, c_new, act = step(X[s:s + b], h, WT, c, gates)
            saved[t] = (act, c_new, c)
            c = c_new
            if WRT is not None:
                unprojected[t] = hr
                h = hr @ WRT
            else:
                h = hr
        elif gru:
            h, act = step(X[s:s + b], h, WT, BH, gates)
            saved[t] = act
        else:
            h = step(X[s:s + b], h, WT, relu, gates)
        outs[t] = h
    width = H0.shape[1]
    hr_buf = _rows(xp, unprojected, WRT.shape[0], X.dtype) if WRT is not None else None
    return h, c, _rows(xp, outs, width, X.dtype), _rows(xp, prevs, width, X.dtype), hr_buf


def _backward_loop(bwd, W, WR, GO, GHN, GCN, order, batch_sizes, offs, saved, out, hprev,
                   dh0, dc0, dh, dc, lstm, gru, relu, xp):
    """The time loop of :meth:`Recurrence.backward` (back-propagation through time);
    returns the gradients of the first step's incoming ``h, c``, and the packed rows of
    the gradients of the input projections, of ``h @ W_hh^T`` (the same rows but for
    GRU) and (LSTM with a projection) of the unprojected outputs.

    The step ops (``bwd``: the op and its gate kernel) add the gradient's parts
    themselves (see ``kernels.py``): the output row's, the product ``pending @ W`` of
    the later step's gate gradient (taken here only where the rows change, at the
    end, and before an LSTM projection) and (GRU) the direct part ``dh_direct``, which
    is added here only where the batch changes and at the end."""
    step, gates = bwd
    T = len(order)
    d_inputs, d_hidden, d_unprojected = [None] * T, [None] * T, [None] * T
    dh_direct = pending = None
    for k in range(T - 1, -1, -1):
        t = order[k]
        b, s = batch_sizes[t], offs[t]
        d_out = GO[s:s + b]
        if lstm:
            if WR is not None:
                d_unprojected[t] = d_out + dh
                dh, d_out = d_unprojected[t] @ WR, None
            act, c_new, c_prev = saved[t]
            dg, dc = step(d_out, pending, W, dh, dc, act, c_new, c_prev, gates)
            d_inputs[t] = pending = dg
        elif gru:
            dx, dgh, dh_direct = step(d_out, pending, W, dh, dh_direct, saved[t], hprev[s:s + b], gates)
            d_inputs[t], d_hidden[t] = dx, dgh
            pending = dgh
        else:
            dg = step(d_out, pending, W, dh, out[s:s + b], relu, gates)
            d_inputs[t] = pending = dg
        dh = None
        q = batch_sizes[order[k - 1]] if k > 0 else b
        if b != q or k == 0 or WR is not None:
            dh, pending = pending @ W, None
        if dh_direct is not None and (b != q or k == 0):
            dh, dh_direct = dh + dh_direct, None
        if b < q:  # rows b..q of the previous output went to h_n
            dh = xp.concatenate([dh, GHN[b:q]])
            if lstm:
                dc = xp.concatenate([dc, GCN[b:q]])
        elif b > q:  # rows q..b came from h0
            dh0[q:b] = dh[q:]
            dh = dh[:q]
            if lstm:
                dc0[q:b] = dc[q:]
                dc = dc[:q]
    dxg = _rows(xp, d_inputs, W.shape[0], out.dtype)
    dgh_all = _rows(xp, d_hidden, W.shape[0], out.dtype) if gru else dxg
    dhout = _rows(xp, d_unprojected, WR.shape[0], out.dtype) if WR is not None else None
    return dh, dc, dxg, dgh_all, dhout


def recurrence_ops(xg, h0, c0, w_hh, b_hh, w_hr, mode, batch_sizes, reverse):
    """:class:`Recurrence` written with differentiable tensor ops (slow, but any order
    of derivative works); returns the same outputs."""
    T = len(batch_sizes)
    offs = _offsets(batch_sizes)
    order = range(T - 1, -1, -1) if reverse else range(T)
    lstm, gru = mode == "LSTM", mode == "GRU"
    H = w_hh.shape[0] // _GATES[mode]
    b0 = batch_sizes[order[0]]
    h = h0[:b0]
    c = c0[:b0] if lstm else None
    outs = [None] * T
    h_end, c_end = [], []
    for t in order:
        b, s = batch_sizes[t], offs[t]
        q = h.shape[0]
        if b < q:
            h_end.append((b, h[b:]))
            h = h[:b]
            if lstm:
                c_end.append((b, c[b:]))
                c = c[:b]
        elif b > q:
            h = ember.cat([h, h0[q:b]])
            if lstm:
                c = ember.cat([c, c0[q:b]])
        x = xg[s:s + b]
        gh = h.matmul(w_hh.t())
        if b_hh is not None:
            gh = gh + b_hh
        if lstm:
            g = x + gh
            i, f = g[:, :H].sigmoid(), g[:, H:2 * H].sigmoid()
            gg, o = g[:, 2 * H:3 * H].tanh(), g[:, 3 * H:].sigmoid()
            c = f * c + i * gg
            h = o * c.tanh()
            if w_hr is not None:
                h = h.matmul(w_hr.t())
        elif gru:
            r = (x[:, :H] + gh[:, :H]).sigmoid()
            z = (x[:, H:2 * H] + gh[:, H:2 * H]).sigmoid()
            n = (x[:, 2 * H:] + r * gh[:, 2 * H:]).tanh()
            h = (1 - z) * n + z * h
        else:
            h = (x + gh).relu() if mode == "RNN_RELU" else (x + gh).tanh()
        outs[t] = h
    h_end.append((0, h))
    hn = ember.cat([p for _, p in sorted(h_end, key=lambda e: e[0])])
    result = (ember.cat(outs), hn)
    if lstm:
        c_end.append((0, c))
        result += (ember.cat([p for _, p in sorted(c_end, key=lambda e: e[0])]),)
    return result


def _backward_differentiable(ctx, gout, ghn, gcn):
    inputs = ctx.saved_tensors
    outs = recurrence_ops(*inputs, ctx.mode, ctx.batch_sizes, ctx.reverse)
    wrt = [i for i, (t, need) in enumerate(zip(inputs, ctx.needs_input_grad)) if need and t is not None]
    grads_out = [gout, ghn] + ([gcn] if ctx.mode == "LSTM" else [])
    grads = ember.autograd.grad(list(outs), [inputs[i] for i in wrt], grads_out,
                                create_graph=True, allow_unused=True)
    result = [None] * 9
    for i, g in zip(wrt, grads):
        result[i] = g if g is not None else ember.zeros_like(inputs[i])
    return tuple(result)


def run_layers(mode, x, batch_sizes, hx, cx, weights, num_layers, bidirectional, dropout, training):
    """All layers and directions on packed rows ``x`` (N, input_size).

    ``hx`` (L*D, B, H_out) and ``cx`` (L*D, B, H) (LSTM) hold the initial states in
    the batch order of ``x``; ``weights`` is the flat list of parameters in torch's
    order (per layer and direction: ``w_ih, w_hh[, b_ih, b_hh][, w_hr]``).
    Returns ``(output (N, D*H_out), h_n, c_n or None)``.
    """
    lstm, gru = mode == "LSTM", mode == "GRU"
    D = 2 if bidirectional else 1
    per = len(weights) // (num_layers * D)
    has_bias = per >= 4
    has_proj = lstm and per in (3, 5)
    linear = ember.nn.functional.linear
    layer_in = x
    h_n, c_n = [], []
    for layer in range(num_layers):
        outs = []
        for d in range(D):
            k = layer * D + d
            p = weights[k * per:(k + 1) * per]
            w_ih, w_hh = p[0], p[1]
            b_ih, b_hh = (p[2], p[3]) if has_bias else (None, None)
            w_hr = p[-1] if has_proj else None
            if has_bias and not gru:
                xg = linear(layer_in, w_ih, b_ih + b_hh)
                b_rec = None
            else:
                xg = linear(layer_in, w_ih, b_ih)
                b_rec = b_hh
            res = Recurrence.apply(xg, hx[k], cx[k] if lstm else None, w_hh, b_rec, w_hr,
                                   mode, batch_sizes, d == 1)
            outs.append(res[0])
            h_n.append(res[1])
            if lstm:
                c_n.append(res[2])
        layer_in = outs[0] if D == 1 else ember.cat(outs, 1)
        if dropout and training and layer < num_layers - 1:
            layer_in = ember.nn.functional.dropout(layer_in, dropout, True)
    return layer_in, ember.stack(h_n), (ember.stack(c_n) if lstm else None)


def cell(mode, input, hx, cx, w_ih, w_hh, b_ih, b_hh):
    """One step of a cell on a batch (B, input_size): returns ``h`` or ``(h, c)``."""
    xg = ember.nn.functional.linear(input, w_ih, b_ih)
    res = Recurrence.apply(xg, hx, cx, w_hh, b_hh, None, mode, (input.shape[0],), False)
    return (res[1], res[2]) if mode == "LSTM" else res[1]
