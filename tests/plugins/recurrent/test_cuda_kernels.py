"""The recurrent family's cuda kernels (plugins/recurrent/cuda.py) compute what its
generic kernels compute: one LSTM, GRU or plain RNN step, forward and backward, on
the CPU stand-in for ``cupy`` (tests/cuda_emulator.py), in float32 and float64; with
saturated gates, NaN and infinity; with the arguments the family's layers really
pass (replayed from LSTM, GRU and RNN layers on packed and padded sequences); and
the calls they refuse go to the generic kernels.
"""

import numpy as np
import pytest

import ember
from ember.backend import REGISTRY

from ...cuda_emulator import generic, on_device
from ..cuda_replay import assert_same_results, replayed_on_device

FLOATS = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=2e-6, atol=1e-6), np.float64: dict(rtol=1e-13, atol=1e-14)}
LSTM_FWD, LSTM_BWD = "recurrent.lstm_forward", "recurrent.lstm_backward"
GRU_FWD, GRU_BWD = "recurrent.gru_forward", "recurrent.gru_backward"
RNN_FWD, RNN_BWD = "recurrent.rnn_forward", "recurrent.rnn_backward"
# (batch rows b, hidden units H): several of each, one row, one unit
SHAPES = [(3, 5), (1, 4), (4, 1), (1, 1)]


@pytest.fixture
def rng():
    return np.random.default_rng(5)


def normal(rng, shape, dtype, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(dtype)


def saturated(x):
    """``x`` with large pre-activations (saturated gates, exp overflowing) in its first
    cells."""
    flat = x.reshape(-1)
    edges = [40.0, -40.0, 100.0, -100.0, 1e-30]
    flat[:len(edges)] = np.array(edges[:flat.size], dtype=x.dtype)
    return x


def same(op, *args, dtype):
    """The cuda kernel (emulated) and the generic one agree on ``args``."""
    assert REGISTRY.kernels[(op, "cuda")].accepts(*args)
    assert_same_results(on_device(op)(*args), generic(op)(*args), **TOL[dtype])


def gates(rng, b, hidden, count, dtype):
    """Pre-activations ``(b, count * H)`` as the loop passes them: rows of a larger
    buffer (the input projections of every step)."""
    buffer = normal(rng, (b + 3, count * hidden), dtype, scale=2.0)
    return saturated(buffer[2:2 + b])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("b,hidden", SHAPES)
def test_lstm_step(b, hidden, dtype, rng):
    xg, gh = gates(rng, b, hidden, 4, dtype), normal(rng, (b, 4 * hidden), dtype)
    c_prev = normal(rng, (b, hidden), dtype)
    same(LSTM_FWD, xg, gh, c_prev, dtype=dtype)
    _, c, act = generic(LSTM_FWD)(xg, gh, c_prev)
    d_out, dh, dc = (normal(rng, (b, hidden), dtype) for _ in range(3))
    same(LSTM_BWD, d_out, dh, dc, act, c, c_prev, dtype=dtype)
    same(LSTM_BWD, None, dh, dc, act, c, c_prev, dtype=dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_lstm_backward_with_a_broadcast_cell_gradient(dtype, rng):
    # the first backward step's dc may be the (expanded) gradient of c_n
    b, hidden = 3, 4
    xg, gh, c_prev = (normal(rng, (b, 4 * hidden), dtype), normal(rng, (b, 4 * hidden), dtype),
                      normal(rng, (b, hidden), dtype))
    _, c, act = generic(LSTM_FWD)(xg, gh, c_prev)
    dc = np.broadcast_to(normal(rng, (1, hidden), dtype), (b, hidden))
    same(LSTM_BWD, None, normal(rng, (b, hidden), dtype), dc, act, c, c_prev, dtype=dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("b,hidden", SHAPES)
def test_gru_step(b, hidden, dtype, rng):
    xg, gh = gates(rng, b, hidden, 3, dtype), normal(rng, (b, 3 * hidden), dtype)
    h_prev, b_hh = normal(rng, (b, hidden), dtype), normal(rng, 3 * hidden, dtype)
    same(GRU_FWD, xg, gh, h_prev, None, dtype=dtype)
    same(GRU_FWD, xg, gh, h_prev, b_hh, dtype=dtype)
    _, act = generic(GRU_FWD)(xg, gh, h_prev, b_hh)
    d_out, dh, dh_direct = (normal(rng, (b, hidden), dtype) for _ in range(3))
    same(GRU_BWD, d_out, dh, dh_direct, act, h_prev, dtype=dtype)
    same(GRU_BWD, d_out, dh, None, act, h_prev, dtype=dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_gate_arrays_that_are_not_contiguous(dtype, rng):
    b, hidden = 3, 2
    xg = normal(rng, (b, 8 * hidden), dtype)[:, ::2]
    gh = normal(rng, (b, 4 * hidden), dtype)
    c_prev = normal(rng, (b, 2 * hidden), dtype)[:, 1::2]
    same(LSTM_FWD, xg, gh, c_prev, dtype=dtype)
    _, c, act = generic(LSTM_FWD)(xg, gh, c_prev)
    same(LSTM_BWD, c, c, c, np.asfortranarray(act), c, c_prev, dtype=dtype)
    h_prev = normal(rng, (b, hidden), dtype)
    b_hh = normal(rng, 6 * hidden, dtype)[::2]
    same(GRU_FWD, xg[:, :3 * hidden], gh[:, ::1][:, hidden:], h_prev, b_hh, dtype=dtype)
    _, act = generic(GRU_FWD)(xg[:, :3 * hidden], gh[:, hidden:], h_prev, b_hh)
    same(GRU_BWD, h_prev, h_prev, h_prev, np.asfortranarray(act), h_prev, dtype=dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("relu", [False, True])
def test_rnn_step(relu, dtype, rng):
    xg, gh = saturated(normal(rng, (3, 5), dtype, scale=2.0)), normal(rng, (3, 5), dtype)
    same(RNN_FWD, xg, gh, relu, dtype=dtype)
    h = generic(RNN_FWD)(xg, gh, relu)
    same(RNN_BWD, normal(rng, (3, 5), dtype), normal(rng, (3, 5), dtype), h, relu, dtype=dtype)
    same(RNN_BWD, None, normal(rng, (3, 5), dtype), h, relu, dtype=dtype)


@pytest.mark.parametrize("op,args", [
    (LSTM_FWD, lambda r: (r(2, 8), r(2, 8), r(2, 2))),
    (LSTM_BWD, lambda r: (r(2, 2), r(2, 2), r(2, 2), r(2, 8), r(2, 2), r(2, 2))),
    (GRU_FWD, lambda r: (r(2, 6), r(2, 6), r(2, 2), r(6))),
    (GRU_BWD, lambda r: (r(2, 2), r(2, 2), r(2, 2), r(2, 8), r(2, 2))),
    (RNN_FWD, lambda r: (r(2, 3), r(2, 3), False)),
    (RNN_FWD, lambda r: (r(2, 3), r(2, 3), True)),
    (RNN_BWD, lambda r: (r(2, 3), r(2, 3), r(2, 3), False)),
    (RNN_BWD, lambda r: (r(2, 3), r(2, 3), r(2, 3), True)),
])
def test_nan_and_infinity_go_where_the_generic_kernel_puts_them(op, args, rng):
    def r(*shape):
        a = rng.standard_normal(shape)
        a.reshape(-1)[:3] = [np.nan, np.inf, -np.inf]
        return a

    args = args(r)
    assert_same_results(on_device(op)(*args), generic(op)(*args), **TOL[np.float64])


# --- whole steps: the product with W_hh taken in (small layers) ----------------------

LSTM_STEP, LSTM_STEP_BWD = "recurrent.lstm_step", "recurrent.lstm_step_backward"
GRU_STEP, GRU_STEP_BWD = "recurrent.gru_step", "recurrent.gru_step_backward"
RNN_STEP, RNN_STEP_BWD = "recurrent.rnn_step", "recurrent.rnn_step_backward"


def weights(rng, rows, cols, dtype):
    """``W_hh`` ``(rows, cols)`` and its C-contiguous transpose ``w_t``."""
    w = normal(rng, (rows, cols), dtype, scale=0.7)
    return w, np.ascontiguousarray(w.T)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("b,hidden,width", [(3, 5, 5), (1, 4, 4), (4, 1, 1), (2, 3, 2)])  # width: a projection's
def test_fused_lstm_step(b, hidden, width, dtype, rng):
    xg, c_prev = gates(rng, b, hidden, 4, dtype), normal(rng, (b, hidden), dtype)
    h_prev = normal(rng, (b, width), dtype)
    w, w_t = weights(rng, 4 * hidden, width, dtype)
    same(LSTM_STEP, xg, h_prev, w_t, c_prev, generic(LSTM_FWD), dtype=dtype)
    if width != hidden:  # backward through a projection takes its product apart
        return
    _, c, act = generic(LSTM_FWD)(xg, h_prev @ w_t, c_prev)
    d_out, dc = normal(rng, (b, hidden), dtype), normal(rng, (b, hidden), dtype)
    dg_next = normal(rng, (b, 4 * hidden), dtype)
    for part in (d_out, None):
        same(LSTM_STEP_BWD, part, dg_next, w, None, dc, act, c, c_prev, generic(LSTM_BWD), dtype=dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("b,hidden", SHAPES)
@pytest.mark.parametrize("biased", [True, False])
def test_fused_gru_step(b, hidden, biased, dtype, rng):
    xg, h_prev = gates(rng, b, hidden, 3, dtype), normal(rng, (b, hidden), dtype)
    w, w_t = weights(rng, 3 * hidden, hidden, dtype)
    b_hh = normal(rng, 3 * hidden, dtype) if biased else None
    same(GRU_STEP, xg, h_prev, w_t, b_hh, generic(GRU_FWD), dtype=dtype)
    _, act = generic(GRU_FWD)(xg, h_prev @ w_t, h_prev, b_hh)
    dgh_next, d_out = normal(rng, (b, 3 * hidden), dtype), normal(rng, (b, hidden), dtype)
    for part, direct in ((d_out, normal(rng, (b, hidden), dtype)), (None, None)):
        same(GRU_STEP_BWD, part, dgh_next, w, None, direct, act, h_prev, generic(GRU_BWD), dtype=dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("relu", [True, False])
def test_fused_rnn_step(relu, dtype, rng):
    b, hidden = 3, 4
    xg, h_prev = gates(rng, b, hidden, 1, dtype), normal(rng, (b, hidden), dtype)
    w, w_t = weights(rng, hidden, hidden, dtype)
    same(RNN_STEP, xg, h_prev, w_t, relu, generic(RNN_FWD), dtype=dtype)
    h = generic(RNN_FWD)(xg, h_prev @ w_t, relu)
    dg_next = normal(rng, (b, hidden), dtype)
    for part in (normal(rng, (b, hidden), dtype), None):
        same(RNN_STEP_BWD, part, dg_next, w, None, h, relu, generic(RNN_BWD), dtype=dtype)


def test_big_or_unchained_steps_go_to_the_product_and_the_gate_kernel():
    steps = REGISTRY.kernels
    b, hidden = 64, 1024   # 64 * 4 * 1024 * 1024 multiply-adds a step: a matrix product's job
    big = np.empty((b, 4 * hidden), np.float32), np.empty((b, hidden), np.float32)
    assert not steps[(LSTM_STEP, "cuda")].accepts(big[0], big[1], np.empty((hidden, 4 * hidden), np.float32),
                                                  big[1], None)
    small = f32(2, 8), f32(2, 2)
    assert steps[(LSTM_STEP, "cuda")].accepts(small[0], small[1], f32(2, 8), small[1], None)
    assert not steps[(LSTM_STEP, "cuda")].accepts(small[0], small[1], f32(8, 2).T, small[1], None)  # strided
    act = f32(2, 8)
    # no later step (the last, or the rows change): the dh given, no product to take in
    assert not steps[(LSTM_STEP_BWD, "cuda")].accepts(None, None, f32(8, 2), f32(2, 2), f32(2, 2), act,
                                                      f32(2, 2), f32(2, 2), None)
    assert steps[(LSTM_STEP_BWD, "cuda")].accepts(None, act, f32(8, 2), None, f32(2, 2), act, f32(2, 2),
                                                  f32(2, 2), None)
    assert not steps[(GRU_STEP_BWD, "cuda")].accepts(None, None, f32(6, 2), f32(2, 2), None, act, f32(2, 2), None)
    assert not steps[(RNN_STEP_BWD, "cuda")].accepts(None, f32(2, 2), f32(2, 2).astype(np.float64), None,
                                                     f32(2, 2), True, None)


# --- the family's own calls -----------------------------------------------------------

OPS = {"LSTM": (LSTM_FWD, LSTM_BWD), "GRU": (GRU_FWD, GRU_BWD), "RNN": (RNN_FWD, RNN_BWD)}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("mode,options", [
    ("LSTM", {}), ("LSTM", {"proj_size": 2}), ("GRU", {}), ("RNN", {}),
    ("RNN", {"nonlinearity": "relu"})])
def test_the_familys_calls(mode, options, packed, dtype, rng, monkeypatch):
    replays = [replayed_on_device(monkeypatch, op) for op in OPS[mode]]
    layer = getattr(ember.nn, mode)(3, 4, num_layers=2, bidirectional=True, **options)
    layer = layer.to(ember.float32 if dtype == np.float32 else ember.float64)
    x = ember.tensor(normal(rng, (5, 3, 3), dtype), requires_grad=True)
    if packed:  # sequences of 5, 3 and 2 steps: the batch shrinks (and grows in reverse)
        x = ember.nn.utils.rnn.pack_padded_sequence(x, [5, 3, 2])
    out, state = layer(x)
    out = out.data if packed else out
    loss = (out * out).sum() + sum(s.sum() for s in (state if mode == "LSTM" else (state,)))
    loss.backward()
    for calls in replays:
        assert calls
        for got, want in calls:
            assert_same_results(got, want, **TOL[dtype])


# --- what goes to the generic kernels -----------------------------------------------

def f32(*shape):
    return np.ones(shape, np.float32)


@pytest.mark.parametrize("op,args", [
    (LSTM_FWD, (f32(2, 8).astype(np.float16), f32(2, 8), f32(2, 2))),  # float16, mixed
    (LSTM_FWD, (f32(2, 8).astype(np.float64),) * 2 + (f32(2, 2),)),  # mixed dtypes
    (LSTM_FWD, (f32(2, 6), f32(2, 6), f32(2, 2))),  # not 4 gates
    (LSTM_FWD, (f32(2, 8), f32(1, 8), f32(2, 2))),  # broadcast rows
    (LSTM_FWD, (f32(8), f32(8), f32(2))),  # 1-d
    (LSTM_BWD, (None, f32(2, 2), f32(2, 2), f32(2, 8), f32(2, 2), f32(2, 3))),
    (LSTM_BWD, (None, f32(2, 2), f32(2, 2), f32(2, 8).astype(np.float64), f32(2, 2), f32(2, 2))),
    (LSTM_BWD, (f32(1, 2), f32(2, 2), f32(2, 2), f32(2, 8), f32(2, 2), f32(2, 2))),  # broadcast part
    (GRU_FWD, (f32(2, 8), f32(2, 8), f32(2, 2), None)),  # 4 gates, not 3
    (GRU_FWD, (f32(2, 6).astype(np.int32), f32(2, 6), f32(2, 2), None)),
    (GRU_FWD, (f32(2, 6), f32(2, 6), f32(2, 2), f32(4))),  # a bias of another size
    (GRU_FWD, (f32(2, 6), f32(2, 6), f32(2, 2), f32(6).astype(np.float64))),
    (GRU_BWD, (None, f32(2, 2), None, f32(2, 6), f32(2, 2))),  # act holds 4 blocks
    (GRU_BWD, (f32(2, 2), f32(2, 2), f32(2, 2).astype(np.float64), f32(2, 8), f32(2, 2))),
    (RNN_FWD, (f32(2, 3), f32(2, 3).astype(np.float64), False)),
    (RNN_BWD, (None, f32(2, 3).astype(np.float16), f32(2, 3).astype(np.float16), True)),
    (RNN_BWD, (f32(2, 3).astype(np.float64), f32(2, 3), f32(2, 3), True)),
])
def test_calls_the_kernels_do_not_take_go_to_the_generic_kernel(op, args):
    assert not REGISTRY.kernels[(op, "cuda")].accepts(*args)
