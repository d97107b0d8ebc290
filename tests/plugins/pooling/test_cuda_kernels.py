"""The cuda backend's pooling kernels (plugins/pooling/cuda.py) compute what the
generic kernels compute, built with the CPU stand-in for ``cupy``
(tests/cuda_emulator.py).

The calls the family's functions really make (max, average, power-average,
adaptive, fractional pooling and unpooling; forward, backward and double
backward, on the grids of the family's torch tests) are recorded on the CPU
backend and replayed on both kernels; then chosen edge cases (NaN, infinities,
ties, windows wholly in the padding, repeated and bad indices, strided and empty
arrays) and the calls left to the generic kernels.
"""

import numpy as np
import pytest

import ember
import ember.nn.functional as EF
from ember.backend import REGISTRY
from ember.plugins.pooling import cuda
from ember.plugins.pooling.kernels import adaptive_bounds

from ...cuda_emulator import generic, on_device
from ..kernel_calls import recorded_calls
from .test_adaptive_pooling import FRACTIONAL, GRID as ADAPTIVE_GRID
from .test_pooling import AVG_GRID, MAX_GRID

FLOATS = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=2e-6, atol=1e-6), np.float64: dict(rtol=1e-13, atol=1e-14)}
OPS = tuple(cuda.KERNELS)
# ops that pick or copy elements: the same bits
EXACT = {"pooling.max_nd", "pooling.window_argmax_nd", "pooling.gather_planes", "pooling.unpool_planes"}


def random(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def assert_same(op, got, want):
    """One result (or tuple of results) of ``op``'s cuda kernel against the generic one's."""
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            assert_same(op, g, w)
        return
    assert got.shape == want.shape and got.dtype == want.dtype
    if op in EXACT or want.dtype.kind != "f":
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, **TOL[want.dtype.type])


def compare(op, *args):
    assert_same(op, on_device(op)(*args), generic(op)(*args))


def record(monkeypatch):
    recorded = {op: recorded_calls(monkeypatch, op) for op in OPS}
    return lambda: [(op, args) for op, calls in recorded.items() for args, _ in calls]


def replay(calls):
    for op, args in calls:
        compare(op, *args)


def second_order(fn, x, dtype):
    """``fn(x)``, its gradient and the gradient of that gradient (with respect to the
    incoming gradient), so every kernel of the family's pair runs."""
    x = ember.tensor(x, requires_grad=True)
    y = fn(x)
    v = ember.tensor(random(tuple(y.shape), dtype, 1), requires_grad=True)
    grad, = ember.autograd.grad((y * v).sum(), x, create_graph=True)
    (grad * ember.tensor(random(tuple(x.shape), dtype, 2))).sum().backward()


# ------------------------------------------------------ the family's own calls

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("nd,shape,k,s,p,d,ceil", MAX_GRID)
def test_the_calls_max_pooling_makes(nd, shape, k, s, p, d, ceil, dtype, monkeypatch):
    calls = record(monkeypatch)
    pool = getattr(EF, f"max_pool{nd}d")
    second_order(lambda t: pool(t, k, s, p, d, ceil), random(shape, dtype), dtype)
    assert {"pooling.max_nd", "pooling.scatter_planes", "pooling.gather_planes"} <= {op for op, _ in calls()}
    replay(calls())


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("nd,shape,k,s,p,ceil,cip,div", AVG_GRID)
def test_the_calls_average_pooling_makes(nd, shape, k, s, p, ceil, cip, div, dtype, monkeypatch):
    calls = record(monkeypatch)
    pool = getattr(EF, f"avg_pool{nd}d")
    extra = () if nd == 1 else (div,)
    second_order(lambda t: pool(t, k, s, p, ceil, cip, *extra), random(shape, dtype), dtype)
    assert {op for op, _ in calls()} == {"pooling.avg_nd", "pooling.avg_nd_adjoint"}
    replay(calls())


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("nd,norm", [(1, 2.0), (2, 3), (3, float("inf"))])
def test_the_calls_power_average_pooling_makes(nd, norm, dtype, monkeypatch):
    calls = record(monkeypatch)
    x = np.abs(random((2, 2) + (6,) * nd, dtype)) + 0.1
    second_order(lambda t: getattr(EF, f"lp_pool{nd}d")(t, norm, 2, 2, True), x, dtype)
    replay(calls())


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("nd,shape,out", ADAPTIVE_GRID)
@pytest.mark.parametrize("kind", ["avg", "max"])
def test_the_calls_adaptive_pooling_makes(kind, nd, shape, out, dtype, monkeypatch):
    calls = record(monkeypatch)
    second_order(lambda t: getattr(EF, f"adaptive_{kind}_pool{nd}d")(t, out), random(shape, dtype), dtype)
    assert calls()
    replay(calls())


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("nd,shape,k,kw", FRACTIONAL)
def test_the_calls_fractional_pooling_makes(nd, shape, k, kw, dtype, monkeypatch):
    calls = record(monkeypatch)
    n = shape[0] if len(shape) == nd + 2 else 1
    samples = ember.tensor(np.random.default_rng(5).random((n, shape[-nd - 1], nd)).astype(dtype))
    pool = getattr(EF, f"fractional_max_pool{nd}d")
    second_order(lambda t: pool(t, k, _random_samples=samples, **kw), random(shape, dtype), dtype)
    assert "pooling.window_argmax_nd" in {op for op, _ in calls()}
    replay(calls())


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("nd,shape,k,s,p", [
    (1, (2, 3, 9), 2, None, 0), (1, (3, 10), 3, 2, 1),  # overlapping windows: repeated indices
    (2, (2, 3, 9, 8), 3, 2, 1), (3, (2, 5, 5, 7), 3, 2, 1), (3, (2, 2, 5, 6, 5), 2, None, 0)])
def test_the_calls_max_unpooling_makes(nd, shape, k, s, p, dtype, monkeypatch):
    pooled, indices = getattr(EF, f"max_pool{nd}d")(ember.tensor(random(shape, dtype)), k, s, p,
                                                    return_indices=True)
    calls = record(monkeypatch)
    unpool = getattr(EF, f"max_unpool{nd}d")
    second_order(lambda t: unpool(t, indices, k, s, p, shape[-nd:]), pooled.numpy(), dtype)
    assert {op for op, _ in calls()} == {"pooling.unpool_planes", "pooling.gather_planes", "pooling.scatter_planes"}
    replay(calls())


# ------------------------------------------------------------- edge cases

def with_specials(x, seed=3):
    """``x`` with NaNs, infinities and ties (integer values) spread over it."""
    rng = np.random.default_rng(seed)
    flat = x.reshape(-1)
    flat[:] = np.round(flat * 2)
    for value in (np.nan, np.inf, -np.inf):
        flat[rng.choice(flat.size, max(1, flat.size // 12), replace=False)] = value
    return x


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("geometry", [
    ((3, 3), (1, 1), (1, 1), (1, 1), (6, 8)),
    ((2, 3), (2, 1), (1, 1), (2, 2), (3, 6)),
    ((3, 2, 2), (1, 2, 1), (1, 0, 1), (1, 1, 2), (4, 4, 5)),
    ((5,), (1,), (2,), (1,), (10,)),
])
def test_max_with_nan_infinities_and_ties(geometry, dtype):
    k, s, p, d, out = geometry
    spatial = tuple((o - 1) * st - 2 * pa + dd * (kk - 1) + 1 for o, st, pa, dd, kk in zip(out, s, p, d, k))
    x = with_specials(random((2, 3) + spatial, dtype))
    compare("pooling.max_nd", x, k, s, p, d, out)


def test_max_window_wholly_in_the_padding_gives_minus_inf_at_index_0():
    # dilation 2 with padding 1 over a depth of 1: a depth window reads only padding
    x = random((1, 1, 1, 8, 5), np.float64)
    values, at = on_device("pooling.max_nd")(x, (2, 2, 2), (2, 2, 2), (1, 1, 1), (2, 2, 2), (1, 4, 3))
    want = generic("pooling.max_nd")(x, (2, 2, 2), (2, 2, 2), (1, 1, 1), (2, 2, 2), (1, 4, 3))
    assert_same("pooling.max_nd", (values, at), want)
    assert np.isneginf(values).all() and not at.any()


@pytest.mark.parametrize("row", [
    [1.0, np.nan, 3.0, np.nan, 0.0, 2.0, np.nan], [2.0, 2.0, 2.0, 1.0, 5.0, 5.0, 5.0], [-np.inf] * 7,
    [np.inf, 1.0, np.inf, np.nan, -np.inf, np.inf, 0.0]])
@pytest.mark.parametrize("out", [1, 2, 3, 9])
def test_window_argmax_nan_ties_and_infinities(row, out):
    x = np.array([row, row[::-1]], dtype=np.float32)
    s, e = adaptive_bounds(np, 7, out)
    compare("pooling.window_argmax_nd", x, (s,), (e,))


@pytest.mark.parametrize("dtype", FLOATS)
def test_window_argmax_per_plane_windows(dtype):
    x = with_specials(random((2, 3, 9, 8), dtype))
    rng = np.random.default_rng(4)
    starts = (rng.integers(0, 6, (6, 2)), rng.integers(0, 5, (6, 4)))
    ends = (starts[0] + 3, starts[1] + rng.integers(1, 4, (6, 4)))
    compare("pooling.window_argmax_nd", x, starts, ends)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("in_spatial,out_spatial", [
    ((9,), (4,)), ((5,), (8,)), ((7, 10), (3, 4)), ((1, 5), (1, 3)), ((3, 4, 5), (2, 3, 7)),
    ((8, 6), (4, 3)), ((7, 6), (1, 1)), ((4,), (0,))])
def test_adaptive_averages_of_equal_and_unequal_windows(in_spatial, out_spatial, dtype):
    x = random((2, 3) + in_spatial, dtype)
    compare("pooling.adaptive_avg_nd", x, in_spatial, out_spatial)
    g = random((2, 3) + out_spatial, dtype, 1)
    compare("pooling.adaptive_avg_nd_adjoint", g, in_spatial, out_spatial)


@pytest.mark.parametrize("dtype", FLOATS)
def test_strided_inputs(dtype):
    x = random((3, 4, 9, 10), dtype).transpose(0, 1, 3, 2)[::2]
    compare("pooling.max_nd", x, (3, 2), (2, 2), (1, 1), (1, 1), (5, 5))
    compare("pooling.avg_nd", x, (10, 9), (4, 4), (3, 3), (2, 2), (1, 1), False, None)
    compare("pooling.avg_nd_adjoint", random((2, 4, 6, 5), dtype).transpose(0, 1, 3, 2),
            (10, 9), (5, 6), (3, 2), (2, 2), (1, 1), True, None)
    compare("pooling.adaptive_avg_nd", x, (10, 9), (4, 7))
    compare("pooling.adaptive_avg_nd_adjoint", random((2, 4, 7, 4), dtype).transpose(0, 1, 3, 2), (10, 9), (4, 7))
    indices = np.random.default_rng(2).integers(0, 90, (2, 4, 3, 3))
    compare("pooling.gather_planes", x, indices, (10, 9), (3, 3))
    compare("pooling.scatter_planes", random((2, 4, 3, 3), dtype)[..., ::-1], indices, (10, 9), (3, 3))


@pytest.mark.parametrize("op,args", [
    ("pooling.max_nd", ((2, 2), (2, 2), (0, 0), (1, 1), (2, 2))),
    ("pooling.avg_nd", ((4, 4), (2, 2), (2, 2), (2, 2), (0, 0), True, None)),
    ("pooling.adaptive_avg_nd", ((4, 4), (3, 3))),
])
def test_an_empty_batch(op, args):
    x = np.zeros((0, 3, 4, 4))
    compare(op, x, *args)


@pytest.mark.parametrize("dtype", FLOATS)
def test_scatter_adds_repeated_indices(dtype):
    g = random((3, 2, 5), dtype)
    indices = np.array([[0, 0, 3, 0, 3], [1, 1, 1, 1, 1]] * 3).reshape(3, 2, 5)
    compare("pooling.scatter_planes", g, indices, (4,), (5,))
    compare("pooling.gather_planes", random((3, 2, 4), dtype), indices, (4,), (5,))


def test_gather_and_scatter_wrap_indices_outside_a_plane_as_cupy_indexing_does():
    x = random((2, 4), np.float64)
    indices = np.array([[-1, 4, 9], [-6, 0, 3]])
    np.testing.assert_array_equal(on_device("pooling.gather_planes")(x, indices, (4,), (3,)),
                                  np.take_along_axis(x, indices % 4, axis=1))
    got = on_device("pooling.scatter_planes")(np.ones((2, 3)), indices, (4,), (3,))
    np.testing.assert_array_equal(got, [[1, 1, 0, 1], [1, 0, 1, 1]])


@pytest.mark.parametrize("dtype", FLOATS)
def test_unpool_keeps_the_last_of_repeated_indices(dtype):
    values = random((2, 3, 6), dtype)
    indices = np.array([[0, 0, 5, 2, 5, 0], [1, 1, 1, 1, 1, 1], [7, 6, 7, 6, 3, 2]] * 2).reshape(2, 3, 6)
    compare("pooling.unpool_planes", values, indices, (8,), (6,))


@pytest.mark.parametrize("bad", [-1, 8, 100])
def test_unpool_skips_an_index_outside_its_plane(bad):
    # the family reports it on the device (assert_on_device); the kernel must not follow it
    values = random((2, 6), np.float32)
    indices = np.arange(12).reshape(2, 6) % 6
    indices[1, 3] = bad
    got = on_device("pooling.unpool_planes")(values, indices, (8,), (6,))
    indices[1, 3] = 7  # a position no other value writes
    want = generic("pooling.unpool_planes")(values, indices, (8,), (6,))
    want[1, 7] = 0
    np.testing.assert_array_equal(got, want)


def test_unpool_of_nothing():
    compare("pooling.unpool_planes", np.zeros((0, 2, 3)), np.zeros((0, 2, 3), np.int64), (5,), (3,))
    compare("pooling.unpool_planes", np.zeros((2, 0)), np.zeros((2, 0), np.int64), (5,), (0,))


# ------------------------------------------------- calls left to the generic kernels

def accepts(op, *args):
    return REGISTRY.kernels[(op, "cuda")].accepts(*args)


@pytest.mark.parametrize("op,args", [
    ("pooling.max_nd", (np.zeros((1, 4, 4), np.float16), (2, 2), (2, 2), (0, 0), (1, 1), (2, 2))),
    ("pooling.max_nd", (np.zeros((1, 4, 4), np.int64), (2, 2), (2, 2), (0, 0), (1, 1), (2, 2))),
    ("pooling.max_nd", (np.zeros((1,) + (2,) * 4), (1,) * 4, (1,) * 4, (0,) * 4, (1,) * 4, (2,) * 4)),
    ("pooling.avg_nd", (np.zeros((1, 4, 4), np.int64), (4, 4), (2, 2), (2, 2), (2, 2), (0, 0), True, None)),
    ("pooling.avg_nd_adjoint", (np.zeros((1, 2, 2), np.float16), (4, 4), (2, 2), (2, 2), (2, 2), (0, 0),
                                True, None)),
    ("pooling.adaptive_avg_nd", (np.zeros((1, 6, 6)), (6, 6), (3, 2))),  # equal windows: one reduction
    ("pooling.adaptive_avg_nd", (np.zeros((1, 6, 6)), (6, 6), (1, 1))),
    ("pooling.adaptive_avg_nd_adjoint", (np.zeros((1, 2, 2), np.float16), (5, 5), (2, 2))),
    ("pooling.window_argmax_nd", (np.zeros((3, 6)), (np.zeros((2, 2), np.int64),), (np.ones((2, 2), np.int64),))),
    ("pooling.window_argmax_nd", (np.zeros((3, 6)), (np.zeros((1, 2), np.int32),), (np.ones((1, 2), np.int32),))),
    ("pooling.gather_planes", (np.zeros((2, 4)), np.zeros((2, 3), np.int32), (4,), (3,))),
    ("pooling.gather_planes", (np.zeros((2, 0)), np.zeros((2, 3), np.int64), (0,), (3,))),
    ("pooling.scatter_planes", (np.zeros((2, 3), np.float16), np.zeros((2, 3), np.int64), (4,), (3,))),
    ("pooling.unpool_planes", (np.zeros((2, 3)), np.zeros((2, 3), np.int32), (4,), (3,))),
])
def test_calls_the_kernels_do_not_take_go_to_the_generic_kernel(op, args):
    assert not accepts(op, *args)


def test_the_hot_calls_are_taken():
    x = np.zeros((2, 3, 8, 8), np.float32)
    assert accepts("pooling.max_nd", x, (2, 2), (2, 2), (0, 0), (1, 1), (4, 4))
    assert accepts("pooling.avg_nd", x, (8, 8), (4, 4), (2, 2), (2, 2), (0, 0), True, None)
    assert accepts("pooling.adaptive_avg_nd", x, (8, 8), (3, 3))
    assert accepts("pooling.scatter_planes", x[..., :4, :4], np.zeros((2, 3, 4, 4), np.int64), (8, 8), (4, 4))
