"""The cuda backend's bag and row kernels (plugins/sparse/cuda.py) compute what the
generic kernels compute, built with the CPU stand-in for ``cupy``
(tests/cuda_emulator.py).

The calls ``F.embedding`` and ``F.embedding_bag`` really make (every case of the
family's torch tests, forward, backward and double backward) are recorded on the
CPU backend and replayed on both kernels; then chosen bags: overlapping and empty
ones, factors and zero divisors, repeated rows, ties, NaN and -inf.
"""

import numpy as np
import pytest

import ember
import ember.nn.functional as EF
from ember.backend import REGISTRY
from ember.plugins.sparse import cuda

from ...cuda_emulator import generic, on_device
from ..kernel_calls import recorded_calls
from .test_sparse import BAG_CASES, EMB_CASES

FLOATS = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=2e-6, atol=1e-6), np.float64: dict(rtol=1e-13, atol=1e-14)}
OPS = tuple(cuda.KERNELS)


def random(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def assert_same_result(op, *args):
    got, want = on_device(op)(*args), generic(op)(*args)
    assert got.shape == want.shape and got.dtype == want.dtype
    if op == "sparse.bag_argmax":
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, **TOL[want.dtype.type])


def record(monkeypatch):
    recorded = {op: recorded_calls(monkeypatch, op) for op in OPS}
    return lambda: [(op, call) for op, calls in recorded.items() for call in calls]


def replay(calls):
    assert calls
    for op, (args, _) in calls:
        assert_same_result(op, *args)


def backward_twice(y, weight, dtype):
    """Backward of ``<y, v>`` to the weight, then (where the gradient depends on
    ``v``) backward of that gradient: the gather, its adjoint and the gather again."""
    v = ember.tensor(random(tuple(y.shape), dtype, 1), requires_grad=True)
    grad, = ember.autograd.grad((y * v).sum(), weight, create_graph=True)
    if grad.requires_grad:
        (grad * ember.tensor(random(tuple(grad.shape), dtype, 2))).sum().backward()


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 4])
@pytest.mark.parametrize("input, offsets, last", BAG_CASES)
def test_the_calls_embedding_bag_makes(input, offsets, last, padding_idx, mode, dtype, monkeypatch):
    calls = record(monkeypatch)
    weight = ember.tensor(random((10, 3), dtype), requires_grad=True)
    y = EF.embedding_bag(ember.tensor(input), weight, None if offsets is None else ember.tensor(offsets),
                         mode=mode, include_last_offset=last, padding_idx=padding_idx)
    backward_twice(y, weight, dtype)
    replay(calls())


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("kw", [dict(per_sample_weights=True), dict(per_sample_weights=True, padding_idx=2),
                                dict(scale_grad_by_freq=True), dict(scale_grad_by_freq=True, mode="sum",
                                                                    padding_idx=3)])
def test_the_calls_of_weighted_and_frequency_scaled_bags(kw, dtype, monkeypatch):
    calls = record(monkeypatch)
    index = np.array([1, 2, 2, 5, 3, 3, 3, 0, 2])
    weight = ember.tensor(random((6, 4), dtype), requires_grad=True)
    kw = dict(kw)
    if kw.pop("per_sample_weights", False):
        kw.update(mode="sum", per_sample_weights=ember.tensor(random(index.shape, dtype, 3)))
    y = EF.embedding_bag(ember.tensor(index), weight, ember.tensor(np.array([0, 2, 2, 6])), **kw)
    backward_twice(y, weight, dtype)
    replay(calls())


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("index, padding_idx, scale", EMB_CASES)
def test_the_calls_embedding_makes(index, padding_idx, scale, dtype, monkeypatch):
    calls = record(monkeypatch)
    weight = ember.tensor(random((10, 3), dtype), requires_grad=True)
    y = EF.embedding(ember.tensor(index), weight, padding_idx=padding_idx, scale_grad_by_freq=scale)
    backward_twice(y, weight, dtype)
    replay(calls())


def bags(rng, n_positions, n_bags):
    """Arbitrary ``[start, end)`` ranges: overlapping, empty, the whole range."""
    starts = rng.integers(0, n_positions + 1, n_bags)
    ends = np.minimum(starts + rng.integers(0, 8, n_bags), n_positions)
    starts[0], ends[0] = 0, n_positions
    starts[1], ends[1] = 3, 3
    return starts, ends


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("factors", ["none", "coef", "div", "both"])
@pytest.mark.parametrize("pad", [-1, 3])
def test_chosen_bags(factors, pad, dtype):
    rng = np.random.default_rng(5)
    num, dim, n, n_bags = 7, 5, 30, 9
    W, G = random((num, dim), dtype), random((n_bags, dim), dtype, 1)
    idx = rng.integers(0, num, n)  # rows repeat: the scatters add into one row often
    starts, ends = bags(rng, n, n_bags)
    coef = random(n, dtype, 2) if factors in ("coef", "both") else None
    div = None
    if factors in ("div", "both"):
        div = (ends - starts).astype(dtype)
        div[2] = 0  # read as 1
    assert_same_result("sparse.bag_gather", W, idx, starts, ends, coef, div, pad, num)
    assert_same_result("sparse.bag_scatter", G, idx, starts, ends, coef, div, pad, num)
    assert_same_result("sparse.bag_argmax", W, idx, starts, ends, pad)


@pytest.mark.parametrize("dtype", FLOATS)
def test_bad_offsets_and_indices_are_skipped_never_read(dtype):
    """embedding_bag reports them at the next synchronisation; until then the
    kernels read neither before nor past ``idx``, nor rows outside the weight."""
    num, pad = 6, 2
    W, G = random((num, 4), dtype), random((4, 4), dtype, 1)
    idx = np.array([1, -3, 5, num + 4, 0, 3, 1 << 40, 4])
    starts, ends = np.array([-5, 2, 6, 7]), np.array([3, 1, 9, 1 << 40])
    # what they compute: bad rows taken as padding, bags cut to idx (a bag ending before it starts: empty)
    tame, n = np.where((idx < 0) | (idx >= num), pad, idx), len(idx)
    lo = np.clip(starts, 0, n)
    hi = np.maximum(np.clip(ends, 0, n), lo)
    for op, values, want in [("sparse.bag_gather", W, (W, tame, lo, hi, None, None, pad, num)),
                             ("sparse.bag_scatter", G, (G, tame, lo, hi, None, None, pad, num))]:
        got = on_device(op)(values, idx, starts, ends, None, None, pad, num)
        np.testing.assert_allclose(got, generic(op)(*want), **TOL[dtype])
    np.testing.assert_array_equal(on_device("sparse.bag_argmax")(W, idx, starts, ends, pad),
                                  generic("sparse.bag_argmax")(W, tame, lo, hi, pad))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("with_coef", [False, True])
def test_row_scatter(with_coef, dtype):
    rng = np.random.default_rng(6)
    idx = rng.integers(0, 5, (4, 6))
    G = random((4, 6, 3), dtype)
    coef = random(24, dtype, 1) if with_coef else None
    assert_same_result("sparse.row_scatter", G, idx, coef, 5)
    assert_same_result("sparse.row_scatter", G[:, ::2], idx[:, ::2], None, 5)  # strided


@pytest.mark.parametrize("dtype", FLOATS)
def test_empty_shapes(dtype):
    none = np.zeros(0, np.int64)
    W = random((4, 3), dtype)
    assert_same_result("sparse.bag_gather", W, none, none, none, None, None, -1, 4)       # no bags
    assert_same_result("sparse.bag_scatter", W[:0], none, none, none, None, None, -1, 4)
    assert_same_result("sparse.bag_argmax", W, none, none, none, -1)
    zero = np.zeros(2, np.int64)
    assert_same_result("sparse.bag_gather", W[:, :0], none, zero, zero, None, None, -1, 4)  # no columns
    assert_same_result("sparse.bag_argmax", W, none, zero, zero, -1)                       # empty bags
    assert_same_result("sparse.row_scatter", W[:0], none, None, 4)


def test_argmax_ties_nan_and_negative_infinity():
    W = np.array([[1.0, 2.0, -np.inf], [1.0, 0.0, -np.inf], [np.nan, 2.0, np.nan], [-np.inf, -np.inf, 5.0]])
    idx = np.array([0, 1, 2, 1, 2, 0, 3, 3, 0, 1, 1, 2])
    starts, ends = np.array([0, 3, 5, 6, 8, 10]), np.array([3, 5, 6, 8, 10, 12])
    cpu = REGISTRY.kernels[("sparse.bag_argmax", "cpu")].fn
    for pad in (-1, 0, 1, 3):
        got = on_device("sparse.bag_argmax")(W, idx, starts, ends, pad)
        np.testing.assert_array_equal(got, generic("sparse.bag_argmax")(W, idx, starts, ends, pad))
        np.testing.assert_array_equal(got, cpu(W, idx, starts, ends, pad))
    # torch's rule: the first row (padding skipped) stays unless a greater value comes,
    # -inf included; a NaN wins as the first row only
    np.testing.assert_array_equal(on_device("sparse.bag_argmax")(W, idx, np.array([5]), np.array([8]), 0),
                                  [[3, 3, 3]])
    np.testing.assert_array_equal(on_device("sparse.bag_argmax")(W, idx, np.array([1, 4]), np.array([3, 6]), -1),
                                  [[1, 2, 1], [2, 2, 2]])


@pytest.mark.parametrize("op,args", [
    ("sparse.bag_gather", (np.ones((3, 2), np.float16), None, None, None, None, None, -1, 3)),
    ("sparse.bag_gather", (np.ones((3, 2)), None, None, None, np.ones(2, np.float32), None, -1, 3)),
    ("sparse.bag_scatter", (np.ones((3, 2), np.float32), None, None, None, None, np.ones(3), -1, 3)),
    ("sparse.row_scatter", (np.ones((3, 2), np.float16), None, None, 3)),
    ("sparse.row_scatter", (np.ones((3, 2)), None, np.ones(3, np.float32), 3)),
    ("sparse.bag_argmax", (np.ones((3, 2), np.float16), None, None, None, -1)),
])
def test_calls_the_kernels_do_not_take_go_to_the_generic_kernel(op, args):
    assert not REGISTRY.kernels[(op, "cuda")].accepts(*args)
    floats = tuple(a.astype(np.float64) if isinstance(a, np.ndarray) else a for a in args)
    assert REGISTRY.kernels[(op, "cuda")].accepts(*floats)
