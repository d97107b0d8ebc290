"""The normalization family's cuda kernels (plugins/normalization/cuda.py) compute
what its generic kernels compute: batch, group (and layer) and RMS norm, forward and
backward, on the CPU stand-in for ``cupy`` (tests/cuda_emulator.py), in float32 and
float64, with and without the affine parameters and ``dx``; with the arguments the
family's layers really pass (replayed from batch, instance, layer, group and RMS
norm calls); and the calls they refuse go to the generic kernels.
"""

import numpy as np
import pytest

import ember
from ember.backend import REGISTRY

from ...cuda_emulator import generic, on_device
from ..cuda_replay import assert_same_results, replayed_on_device

FLOATS = [np.float32, np.float64]
# the statistics are float64 on both sides, summed in another order: float64 results
# differ in the last few bits, float32 ones by one rounding at most
TOL = {np.float32: dict(rtol=2e-6, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-12)}
EPS = 1e-5
BN_FWD, BN_BWD = "normalization.batch_norm_forward", "normalization.batch_norm_backward"
GN_FWD, GN_BWD = "normalization.group_norm_forward", "normalization.group_norm_backward"
RMS_FWD, RMS_BWD = "normalization.rms_norm_forward", "normalization.rms_norm_backward"


@pytest.fixture
def rng():
    return np.random.default_rng(11)


def normal(rng, shape, dtype, loc=0.0):
    return (rng.standard_normal(shape) + loc).astype(dtype)


def params(rng, c, dtype, affine):
    """``(weight, bias)`` of ``c`` values, or ``(None, None)``."""
    if not affine:
        return None, None
    return rng.uniform(0.5, 1.5, c).astype(dtype), normal(rng, c, dtype)


def same(op, *args, dtype):
    """The cuda kernel (emulated) and the generic one agree on ``args``."""
    assert REGISTRY.kernels[(op, "cuda")].accepts(*args)
    assert_same_results(on_device(op)(*args), generic(op)(*args), **TOL[dtype])


# --- batch norm: x (A, C, B), statistics per channel over axes 0 and 2 -------------

BN_SHAPES = [(4, 3, 5), (2, 3, 1), (1, 6, 7), (5, 1, 1), (1, 1, 9)]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_forward(shape, affine, dtype, rng):
    x = normal(rng, shape, dtype, loc=3.0)
    same(BN_FWD, x, *params(rng, shape[1], dtype, affine), EPS, dtype=dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_batch_norm_forward_with_only_a_weight_or_only_a_bias(dtype, rng):
    x = normal(rng, (3, 4, 5), dtype)
    w, b = params(rng, 4, dtype, True)
    same(BN_FWD, x, w, None, EPS, dtype=dtype)
    same(BN_FWD, x, None, b, EPS, dtype=dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("want_dx", [True, False])
def test_batch_norm_backward(shape, affine, want_dx, dtype, rng):
    x, g = normal(rng, shape, dtype, loc=-2.0), normal(rng, shape, dtype)
    w, _ = params(rng, shape[1], dtype, affine)
    _, mean, var = generic(BN_FWD)(x, w, None, EPS)
    same(BN_BWD, g, x, mean, var, EPS, w, want_dx, dtype=dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_batch_norm_of_strided_views(dtype, rng):
    # the family reshapes the input's array: a strided input stays a strided view
    x = normal(rng, (3, 4, 10), dtype)[:, :, ::2]
    g = normal(rng, (3, 8, 5), dtype)[:, ::2]
    w, b = params(rng, 4, dtype, True)
    same(BN_FWD, x, w, b, EPS, dtype=dtype)
    _, mean, var = generic(BN_FWD)(x, w, b, EPS)
    same(BN_BWD, g, x, mean, var, EPS, w, True, dtype=dtype)


def test_batch_norm_statistics_are_centred():
    # far from zero, a variance from the sum of squares would lose every digit
    x = normal(np.random.default_rng(0), (8, 2, 16), np.float32, loc=1e4)
    _, mean, var = on_device(BN_FWD)(x, None, None, EPS)
    _, want_mean, want_var = generic(BN_FWD)(x, None, None, EPS)
    np.testing.assert_allclose(mean, want_mean, rtol=1e-15)
    np.testing.assert_allclose(var, want_var, rtol=1e-12)


def test_batch_norm_keeps_nan_and_infinity_in_their_channel():
    x = normal(np.random.default_rng(1), (2, 3, 4), np.float64)
    x[1, 0, 2], x[0, 2, 1] = np.nan, np.inf
    got, want = on_device(BN_FWD)(x, None, None, EPS), generic(BN_FWD)(x, None, None, EPS)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        np.testing.assert_allclose(a, b, **TOL[np.float64])
    assert np.isfinite(got[0][:, 1]).all()


# --- group and layer norm: x (N, C, S), statistics per sample and group ----------

GN_CASES = [((2, 6, 5), 1), ((2, 6, 5), 2), ((2, 6, 5), 3), ((2, 6, 5), 6), ((1, 4, 1), 2),
            ((3, 1, 7), 1), ((7, 10, 1), 1)]  # the last: layer norm's (rows, K, 1)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape,groups", GN_CASES)
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm_forward(shape, groups, affine, dtype, rng):
    x = normal(rng, shape, dtype, loc=1.5)
    w, b = params(rng, shape[1], dtype, affine)
    same(GN_FWD, x, groups, w, b, EPS, dtype=dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_group_norm_forward_with_only_a_weight_or_only_a_bias(dtype, rng):
    x = normal(rng, (2, 4, 3), dtype)
    w, b = params(rng, 4, dtype, True)
    same(GN_FWD, x, 2, w, None, EPS, dtype=dtype)
    same(GN_FWD, x, 2, None, b, EPS, dtype=dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape,groups", GN_CASES)
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("want_dx", [True, False])
def test_group_norm_backward(shape, groups, affine, want_dx, dtype, rng):
    x, g = normal(rng, shape, dtype, loc=0.5), normal(rng, shape, dtype)
    w, b = params(rng, shape[1], dtype, affine)
    _, mean, var = generic(GN_FWD)(x, groups, w, b, EPS)
    same(GN_BWD, g, x, mean, var, EPS, groups, w, want_dx, dtype=dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_group_norm_of_strided_views(dtype, rng):
    x = normal(rng, (2, 6, 8), dtype)[:, :, 1::2]
    g = normal(rng, (4, 6, 4), dtype)[::2]
    w, b = params(rng, 6, dtype, True)
    same(GN_FWD, x, 3, w, b, EPS, dtype=dtype)
    _, mean, var = generic(GN_FWD)(x, 3, w, b, EPS)
    same(GN_BWD, g, x, mean, var, EPS, 3, w, True, dtype=dtype)


def test_group_norm_keeps_nan_in_its_group():
    x = normal(np.random.default_rng(2), (2, 4, 3), np.float64)
    x[0, 3, 1] = np.nan
    got, want = on_device(GN_FWD)(x, 2, None, None, EPS), generic(GN_FWD)(x, 2, None, None, EPS)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        np.testing.assert_allclose(a, b, **TOL[np.float64])
    assert np.isnan(got[0][0, 2:]).all() and np.isfinite(got[0][0, :2]).all()


# --- RMS norm: x (R, K), the mean square per row ------------------------------------

RMS_SHAPES = [(4, 7), (1, 5), (6, 1), (1, 1)]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", RMS_SHAPES)
@pytest.mark.parametrize("affine", [True, False])
def test_rms_norm_forward(shape, affine, dtype, rng):
    x = normal(rng, shape, dtype)
    w, _ = params(rng, shape[1], dtype, affine)
    same(RMS_FWD, x, w, EPS, dtype=dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", RMS_SHAPES)
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("want_dx", [True, False])
def test_rms_norm_backward(shape, affine, want_dx, dtype, rng):
    x, g = normal(rng, shape, dtype), normal(rng, shape, dtype)
    w, _ = params(rng, shape[1], dtype, affine)
    _, ms = generic(RMS_FWD)(x, w, EPS)
    same(RMS_BWD, g, x, ms, EPS, w, want_dx, dtype=dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_rms_norm_of_a_zero_row_and_a_strided_view(dtype, rng):
    x = normal(rng, (5, 12), dtype)[:, ::3]
    x[2] = 0  # eps alone keeps it finite
    g = normal(rng, (5, 4), dtype)
    w, _ = params(rng, 4, dtype, True)
    same(RMS_FWD, x, w, EPS, dtype=dtype)
    _, ms = generic(RMS_FWD)(x, w, EPS)
    same(RMS_BWD, g, x, ms, EPS, w, True, dtype=dtype)


# --- the family's own calls -----------------------------------------------------------

F = ember.nn.functional


def _bn(x, w, b):
    return F.batch_norm(x, None, None, w, b, training=True)


def _instance(x, w, b):
    return F.instance_norm(x, weight=w, bias=b)


def _layer(x, w, b):
    return F.layer_norm(x, x.shape[-2:], None if w is None else w.reshape(x.shape[-2:]).contiguous(),
                        None if b is None else b.reshape(x.shape[-2:]).contiguous())


def _group(x, w, b):
    return F.group_norm(x, 2, w, b)


def _rms(x, w, b):
    return F.rms_norm(x, x.shape[-1:], w)


# (function, input shape, parameter size, ops)
FAMILY_CALLS = {
    "batch_norm": (_bn, (4, 3, 2, 5), 3, (BN_FWD, BN_BWD)),
    "instance_norm": (_instance, (2, 3, 6), 3, (BN_FWD, BN_BWD)),
    "layer_norm": (_layer, (3, 4, 5), 20, (GN_FWD, GN_BWD)),
    "group_norm": (_group, (2, 6, 2, 2), 6, (GN_FWD, GN_BWD)),
    "rms_norm": (_rms, (3, 2, 5), 5, (RMS_FWD, RMS_BWD)),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("input_grad,affine", [(True, True), (True, False), (False, True)],
                         ids=["all", "no-params", "no-dx"])
@pytest.mark.parametrize("name", list(FAMILY_CALLS))
def test_the_familys_calls(name, input_grad, affine, dtype, rng, monkeypatch):
    fn, shape, size, ops = FAMILY_CALLS[name]
    replays = [replayed_on_device(monkeypatch, op) for op in ops]
    x = ember.tensor(normal(rng, shape, dtype, loc=1.0), requires_grad=input_grad)
    w, b = (None if a is None else ember.tensor(a, requires_grad=True)
            for a in params(rng, size, dtype, affine))
    if name == "rms_norm":
        b = None
    fn(x, w, b).backward(ember.tensor(normal(rng, shape, dtype)))
    for calls in replays:
        assert calls
        for got, want in calls:
            assert_same_results(got, want, **TOL[dtype])


# --- the running statistics, updated in place --------------------------------------

STATS = "normalization.running_stats_update"


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("unbias", [1.0, 5 / 4, np.nan])
def test_running_statistics_update(unbias, dtype, rng):
    mean, var = normal(rng, 3, np.float64), rng.uniform(0.1, 2.0, 3)
    buffers = normal(rng, 3, dtype), rng.uniform(0.5, 1.5, 3).astype(dtype)
    on_gpu, reference = [b.copy() for b in buffers], [b.copy() for b in buffers]
    assert REGISTRY.kernels[(STATS, "cuda")].accepts(*on_gpu, mean, var, 0.1, unbias)
    on_device(STATS)(*on_gpu, mean, var, 0.1, unbias)
    generic(STATS)(*reference, mean, var, 0.1, unbias)
    for got, want in zip(on_gpu, reference):
        np.testing.assert_allclose(got, want, **TOL[dtype])
    np.testing.assert_allclose(reference[0], 0.9 * buffers[0] + 0.1 * mean, **TOL[dtype])
    np.testing.assert_allclose(reference[1], 0.9 * buffers[1] + 0.1 * var * unbias, **TOL[dtype])


def test_running_statistics_update_of_strided_buffers(rng):
    mean, var = normal(rng, 3, np.float64), rng.uniform(0.1, 2.0, 3)
    storage = [normal(rng, 6, np.float32) for _ in range(2)]
    expected = [storage[0][::2] * 0.5 + mean * 0.5, storage[1][::2] * 0.5 + var * 2 * 0.5]
    on_device(STATS)(storage[0][::2], storage[1][::2], mean, var, 0.5, 2.0)
    for got, want in zip(storage, expected):
        np.testing.assert_allclose(got[::2], want, rtol=1e-6)


# --- what goes to the generic kernels -----------------------------------------------

f32, f64 = np.ones((2, 3, 4), np.float32), np.ones((2, 3, 4))
c32, s64 = np.ones(3, np.float32), np.ones(3)


@pytest.mark.parametrize("op,args", [
    (BN_FWD, (f32.astype(np.float16), None, None, EPS)),
    (BN_FWD, (f32.astype(np.int64), None, None, EPS)),
    (BN_FWD, (f32, s64, None, EPS)),  # mixed dtypes
    (BN_FWD, (f32, None, s64, EPS)),
    (BN_FWD, (np.ones((2, 3), np.float32), None, None, EPS)),  # not 3-d
    (BN_FWD, (np.ones((0, 3, 4), np.float32), None, None, EPS)),  # empty
    (BN_BWD, (f64, f32, s64, s64, EPS, None, True)),
    (BN_BWD, (f32, f32, c32, c32, EPS, None, True)),  # float32 statistics
    (BN_BWD, (f32[:1], f32, s64, s64, EPS, None, True)),  # shapes differ
    (GN_FWD, (f32, 1, c32.astype(np.float64), None, EPS)),
    (GN_FWD, (f32.astype(np.float16), 1, None, None, EPS)),
    (GN_BWD, (f32, f32, np.ones(2, np.float32), np.ones(2), EPS, 1, None, True)),
    (GN_BWD, (f32, f32, np.ones(2), np.ones(2), EPS, 1, c32.astype(np.float64), True)),
    (RMS_FWD, (f32, None, EPS)),  # 3-d
    (RMS_FWD, (f32[0], s64[:1].repeat(4), EPS)),
    (RMS_BWD, (f32[0], f32[0], np.ones(3, np.float32), EPS, None, True)),
    (RMS_BWD, (f32[0].astype(np.float16), f32[0], np.ones(3), EPS, None, True)),
    (STATS, (None, c32, s64, s64, 0.1, 1.0)),  # one buffer only
    (STATS, (c32, c32.astype(np.float64), s64, s64, 0.1, 1.0)),
    (STATS, (c32, c32, c32, s64, 0.1, 1.0)),  # float32 statistics
    (STATS, (c32, c32, s64[:2], s64[:2], 0.1, 1.0)),
])
def test_calls_the_kernels_do_not_take_go_to_the_generic_kernel(op, args):
    assert not REGISTRY.kernels[(op, "cuda")].accepts(*args)
