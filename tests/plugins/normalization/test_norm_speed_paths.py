"""The Cython group/layer norm kernels' own paths against a float64 reference: sums in
vector lanes with tails (lengths not a multiple of the lanes or of a block), the
second statistics pass taken when the first values are far from the mean, layer
norm's weight/bias gradients summed per chunk of rows (row counts not a multiple of
the chunk, several threads), and the weight/bias gradients without ``dx``; and the
Functions' own views (one graph node, parameters of any shape, an input without grad)."""

import numpy as np
import pytest

import ember
from tests.oracle import tol, torch

_norm = pytest.importorskip("ember.plugins.normalization._norm")


def _reference(x, g, groups, w, b, eps):
    """Forward output, mean, var and the three gradients, in float64 (textbook formulas)."""
    n, c, s = x.shape
    x4 = x.astype(np.float64).reshape(n, groups, -1)
    mean = x4.mean(axis=2)
    var = x4.var(axis=2)
    inv = 1 / np.sqrt(var + eps)
    xhat = ((x4 - mean[..., None]) * inv[..., None]).reshape(x.shape)
    w64, g64 = w.astype(np.float64), g.astype(np.float64)
    y = xhat * w64[None, :, None] + b.astype(np.float64)[None, :, None]
    gw = (g64 * w64[None, :, None]).reshape(n, groups, -1)
    xh4 = xhat.reshape(n, groups, -1)
    dx = inv[..., None] * (gw - gw.mean(axis=2, keepdims=True)
                           - xh4 * (gw * xh4).mean(axis=2, keepdims=True))
    dw = (g64 * xhat).sum(axis=(0, 2))
    db = g64.sum(axis=(0, 2))
    return y, mean.reshape(-1), var.reshape(-1), dx.reshape(x.shape), dw, db


def _inputs(shape, dtype, loc=0.0, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) + loc).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    w = rng.uniform(0.5, 1.5, shape[1]).astype(dtype)
    b = rng.standard_normal(shape[1]).astype(dtype)
    return x, g, w, b


def _check(shape, groups, dtype, loc=0.0, x=None, scale=10):
    x0, g, w, b = _inputs(shape, dtype, loc)
    x = x0 if x is None else x.astype(dtype)
    y, mean, var, dx, dw, db = _reference(x, g, groups, w, b, 1e-5)
    kw = tol(dtype)
    kw = dict(rtol=kw["rtol"] * scale, atol=kw["atol"] * scale)
    ky, kmean, kvar = _norm.group_norm_forward(x, groups, w, b, 1e-5)
    np.testing.assert_allclose(ky, y, **kw)
    np.testing.assert_allclose(kmean, mean, rtol=kw["rtol"], atol=kw["atol"] * (1 + abs(loc)))
    np.testing.assert_allclose(kvar, var, **kw)
    kdx, kdw, kdb = _norm.group_norm_backward(g, x, kmean, kvar, 1e-5, groups, w, True)
    np.testing.assert_allclose(kdx, dx, **kw)
    np.testing.assert_allclose(kdw, dw, rtol=kw["rtol"], atol=kw["atol"] * shape[0] * shape[2])
    np.testing.assert_allclose(kdb, db, rtol=kw["rtol"], atol=kw["atol"] * shape[0] * shape[2])
    none, kdw2, kdb2 = _norm.group_norm_backward(g, x, kmean, kvar, 1e-5, groups, w, False)
    assert none is None
    np.testing.assert_allclose(kdw2, kdw, rtol=1e-6 if dtype == np.float32 else 1e-12)
    np.testing.assert_allclose(kdb2, kdb, rtol=1e-6 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,groups", [
    ((3, 1, 1), 1),          # one value per row
    ((5, 7, 1), 1),          # shorter than one vector of lanes
    ((67, 517, 1), 1),       # layer norm: lanes + tail, blocks + tail, 67 rows = 2 chunks + 3
    ((2, 6, 1), 3),          # layer-norm layout with several groups
    ((4, 6, 333), 3),        # group norm: channel length with a tail
    ((3, 4, 1000), 1),       # one group longer than a block
])
def test_kernels_match_float64_reference(shape, groups, dtype):
    _check(shape, groups, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_mean_small_spread(dtype):
    """A mean far from zero: the sums are centred, so the variance keeps its digits."""
    _check((8, 300, 1), 1, dtype, loc=1000.0, scale=100)
    _check((2, 4, 50), 2, dtype, loc=-1000.0, scale=100)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_first_values_far_from_the_mean(dtype):
    """The first values (the first centre) are outliers: the second pass recentres."""
    x, _, _, _ = _inputs((4, 200, 1), dtype)
    x = x.astype(np.float64) + 100.0
    x[:, :16] += 5000.0
    _check((4, 200, 1), 1, dtype, x=x, scale=100)


def test_threads_agree_with_one_thread():
    """Per-thread partial sums (rows split over threads) give one thread's answer."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    x, g, w, b = _inputs((1024, 96, 1), np.float64)
    y, mean, var = _norm.group_norm_forward(x, 1, w, b, 1e-5)
    many = _norm.group_norm_backward(g, x, mean, var, 1e-5, 1, w, True)
    with threadpoolctl.threadpool_limits(1, user_api="openmp"):
        y1, mean1, var1 = _norm.group_norm_forward(x, 1, w, b, 1e-5)
        one = _norm.group_norm_backward(g, x, mean, var, 1e-5, 1, w, True)
    np.testing.assert_array_equal(y, y1)
    np.testing.assert_array_equal(var, var1)
    np.testing.assert_array_equal(many[0], one[0])
    for a, c in zip(many[1:], one[1:]):
        np.testing.assert_allclose(a, c, rtol=1e-12)


# ------------------------------------------- one graph node, parameters of any shape

def _both(fn_e, fn_t, x, params, x_grad, dtype=np.float64):
    """Forward, then backward of ``sum(y * r)``, in ember and torch; the gradients of
    whatever requires grad (x only when ``x_grad``) compared."""
    results = []
    for lib, fn in ((ember, fn_e), (torch, fn_t)):
        xt = lib.tensor(x.astype(dtype), requires_grad=x_grad)
        ps = [None if p is None else lib.tensor(p.astype(dtype), requires_grad=True) for p in params]
        y = fn(xt, *ps)
        r = np.random.default_rng(5).standard_normal(tuple(y.shape))
        (y * lib.tensor(r.astype(dtype))).sum().backward()
        results.append([np.asarray(y.detach().tolist())]
                       + [np.asarray(t.grad.tolist()) for t in [xt] + ps if t is not None and t.grad is not None])
        assert (xt.grad is not None) == x_grad
    assert len(results[0]) == len(results[1])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("x_grad", [True, False])
def test_layer_norm_parameters_of_several_dims(x_grad):
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((3, 4, 5)), rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    _both(lambda x, w, b: ember.nn.functional.layer_norm(x, (4, 5), w, b),
          lambda x, w, b: torch.nn.functional.layer_norm(x, (4, 5), w, b), x, [w, b], x_grad)
    _both(lambda x, b: ember.nn.functional.layer_norm(x, (4, 5), None, b),
          lambda x, b: torch.nn.functional.layer_norm(x, (4, 5), None, b), x, [b], x_grad)


@pytest.mark.parametrize("x_grad", [True, False])
def test_group_norm_input_without_grad(x_grad):
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((2, 6, 3, 2)), rng.standard_normal(6), rng.standard_normal(6)
    _both(lambda x, w, b: ember.nn.functional.group_norm(x, 3, w, b),
          lambda x, w, b: torch.nn.functional.group_norm(x, 3, w, b), x, [w, b], x_grad)


def test_one_node_per_norm():
    """The input's views are taken on arrays: the output's node leads straight to the
    input's and parameters' accumulators."""
    x = ember.randn(2, 6, 4, requires_grad=True)
    for y in (ember.nn.LayerNorm(4)(x), ember.nn.GroupNorm(3, 6)(x)):
        nodes = [f for f, _ in y.grad_fn.next_functions if f is not None]
        assert {type(f).__name__ for f in nodes} == {"AccumulateGrad"}


@pytest.mark.parametrize("x_grad", [True, False])
def test_noncontiguous_inputs(x_grad):
    """A transposed input: the Function's array views copy it where they must."""
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((5, 6, 4)), rng.standard_normal(6), rng.standard_normal(6)
    _both(lambda x, w, b: ember.nn.functional.layer_norm(x.transpose(1, 2), (6,), w, b),
          lambda x, w, b: torch.nn.functional.layer_norm(x.transpose(1, 2), (6,), w, b), x, [w, b], x_grad)
    _both(lambda x, w, b: ember.nn.functional.group_norm(x.transpose(0, 2), 3, w, b),
          lambda x, w, b: torch.nn.functional.group_norm(x.transpose(0, 2), 3, w, b),
          rng.standard_normal((6, 6, 4)), [w, b], x_grad)


def test_float16_input_with_float32_parameters():
    """float16 is computed in float32 (torch's rule) and comes back as float16."""
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((4, 8)), rng.standard_normal(8), rng.standard_normal(8)
    outs = []
    for lib in (ember, torch):
        xt = lib.tensor(x.astype(np.float16), requires_grad=True)
        wt = lib.tensor(w.astype(np.float32), requires_grad=True)
        bt = lib.tensor(b.astype(np.float32), requires_grad=True)
        y = lib.nn.functional.layer_norm(xt, (8,), wt, bt)
        y.float().sum().backward()
        outs.append((y, xt.grad, wt.grad, bt.grad))
    for e, t in zip(*outs):
        assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        np.testing.assert_allclose(np.asarray(e.float().tolist()), t.detach().float().numpy(), rtol=2e-3, atol=2e-3)
