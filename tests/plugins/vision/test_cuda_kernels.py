"""The cuda backend's ``vision.interp`` and ``vision.interp_adjoint``
(plugins/vision/cuda.py) compute what the generic kernels compute, built with the
CPU stand-in for ``cupy`` (tests/cuda_emulator.py).

The calls ``F.interpolate`` really makes, in every mode and request of the
family's torch tests, forward, backward and double backward, are recorded on the
CPU backend and replayed on both kernels; then chosen edge cases.
"""

import os
from types import SimpleNamespace

import numpy as np
import pytest

import ember
import ember.nn.functional as EF
from ember.backend import REGISTRY
from ember.plugins.vision import cuda
from ember.plugins.vision._taps import axis_taps

from ...cuda_emulator import CUPY, generic, on_device
from ..kernel_calls import recorded_calls
from .test_vision import GRID, SPATIAL

FLOATS = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=2e-6, atol=1e-6), np.float64: dict(rtol=1e-13, atol=1e-14)}
OPS = ("vision.interp", "vision.interp_adjoint")  # grid_sample's: test_cuda_grid_sample.py
# emulated, the kernels round as the generic ones (same sums in the same order), to
# the bit; a GPU may contract a product and a sum into one fma
EXACT = os.environ.get("EMBER_CUDA_KERNEL_TESTS") != "gpu"


def random(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def assert_close(got, want, tol=TOL):
    """Equal to the bit emulated; within ``tol`` (per dtype) on a GPU."""
    assert got.shape == want.shape and got.dtype == want.dtype
    if EXACT:
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, **tol[want.dtype.type])


def replay(calls):
    """Every recorded call, on the cuda kernel and on the generic one."""
    for op, (args, _) in calls:
        assert_close(on_device(op)(*args), generic(op)(*args))


def record(monkeypatch):
    recorded = {op: recorded_calls(monkeypatch, op) for op in OPS}
    return lambda: [(op, call) for op, calls in recorded.items() for call in calls]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("mode,nd,align,req", GRID)
def test_the_calls_interpolate_makes(mode, nd, align, req, dtype, monkeypatch):
    calls = record(monkeypatch)
    x = ember.tensor(random((2, 2) + SPATIAL[nd], dtype), requires_grad=True)
    y = EF.interpolate(x, mode=mode, align_corners=align, **req)
    v = ember.tensor(random(tuple(y.shape), dtype, 1), requires_grad=True)
    grad, = ember.autograd.grad((y * v).sum(), x, create_graph=True)
    (grad * ember.tensor(random(tuple(x.shape), dtype, 2))).sum().backward()  # double backward
    assert sorted({op for op, _ in calls()}) == sorted(OPS)
    replay(calls())


@pytest.mark.parametrize("mode,nd,kw", [
    ("nearest", 2, dict(scale_factor=(2, 1.5))), ("bicubic", 2, dict(scale_factor=(0.5, 3.0), align_corners=True)),
    ("trilinear", 3, dict(size=(2, 5, 7))), ("area", 2, dict(size=(1, 3))), ("area", 1, dict(size=2)),
    ("nearest-exact", 3, dict(scale_factor=(1.5, 0.75, 2.0))), ("linear", 1, dict(size=1)),
])
def test_per_axis_sizes_and_uint8_images(mode, nd, kw, monkeypatch):
    calls = record(monkeypatch)
    shape = (1, 3) + tuple(4 * s for s in SPATIAL[nd])
    x = ember.tensor(random(shape, np.float64, 4), requires_grad=True)
    EF.interpolate(x, mode=mode, **kw).sum().backward()
    if mode in ("nearest", "nearest-exact") or (nd == 2 and mode == "bicubic"):
        image = ember.tensor((np.abs(random(shape, np.float64, 5)) * 60).astype(np.uint8))
        EF.interpolate(image, mode=mode, **kw)
    replay(calls())


def _taps(mode, sizes_in, sizes_out, dtype):
    align = False if mode in ("linear", "cubic") else None
    return tuple(axis_taps(mode, i, o, align, None, dtype) for i, o in zip(sizes_in, sizes_out))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("mode,lead,sizes_in,sizes_out", [
    ("linear", (2, 3), (4, 5, 6), (7, 3, 9)),
    ("cubic", (1,), (5, 4), (2, 9)),
    ("area", (2, 1), (20, 3), (3, 1)),          # wide area taps, an axis down to 1
    ("nearest", (3, 2), (1,), (4,)),             # a single input sample
    ("linear", (0, 2), (3, 4), (5, 6)),          # an empty batch
    ("cubic", (), (6,), (11,)),                  # no leading dims
])
def test_chosen_maps(mode, lead, sizes_in, sizes_out, dtype):
    taps = _taps(mode, sizes_in, sizes_out, dtype)
    args = (taps, taps, sizes_in, sizes_out)
    x = random(lead + sizes_in, dtype)
    assert_close(on_device("vision.interp")(x, *args), generic("vision.interp")(x, *args))
    g = random(lead + sizes_out, dtype, 1)
    assert_close(on_device("vision.interp_adjoint")(g, *args), generic("vision.interp_adjoint")(g, *args))


@pytest.mark.parametrize("dtype", FLOATS)
def test_strided_inputs(dtype):
    taps = _taps("linear", (5, 4), (3, 7), dtype)
    args = (taps, taps, (5, 4), (3, 7))
    x = random((4, 3, 4, 5), dtype).transpose(0, 1, 3, 2)[::2]
    assert_close(on_device("vision.interp")(x, *args), generic("vision.interp")(x, *args))
    g = random((2, 6, 3, 7), dtype, 1)[:, ::2]
    assert_close(on_device("vision.interp_adjoint")(g, *args), generic("vision.interp_adjoint")(g, *args))


@pytest.mark.parametrize("mode", ["linear", "cubic", "area", "nearest"])
def test_nan_and_infinity(mode):
    taps = _taps(mode, (6, 5), (4, 8), np.float64)
    args = (taps, taps, (6, 5), (4, 8))
    x = random((2, 6, 5), np.float64)
    x[0, 1, 1], x[0, 4, 2], x[1, 2, 3], x[1, 2, 4] = np.nan, np.inf, -np.inf, np.inf
    got, want = on_device("vision.interp")(x, *args), generic("vision.interp")(x, *args)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, rtol=1e-13)
    g = random((2, 4, 8), np.float64, 1)
    g[0, 0, 0], g[1, 3, 7] = np.inf, np.nan
    np.testing.assert_allclose(on_device("vision.interp_adjoint")(g, *args),
                               generic("vision.interp_adjoint")(g, *args), rtol=1e-13)


def test_the_adjoint_of_torchs_other_nearest_tables():
    """1-d nearest: the adjoint gets other taps (``nearest2d``) than the forward."""
    forward, backward = _taps("nearest", (5,), (10,), np.float32), _taps("nearest2d", (5,), (10,), np.float32)
    g = random((2, 3, 10), np.float32)
    args = (forward, backward, (5,), (10,))
    assert_close(on_device("vision.interp_adjoint")(g, *args), generic("vision.interp_adjoint")(g, *args))


def test_transposed_tables():
    ptr, idx, w = taps = axis_taps("cubic", 5, 8, False, None, np.float64)
    dense = np.zeros((8, 5))
    np.add.at(dense, (np.repeat(np.arange(8), np.diff(ptr)), idx), w)
    t_ptr, t_idx, t_w = cuda.transposed(taps, 5)
    back = np.zeros((5, 8))
    np.add.at(back, (np.repeat(np.arange(5), np.diff(t_ptr)), t_idx), t_w)
    np.testing.assert_array_equal(back, dense.T)
    for j in range(5):  # outputs in order (repeated where cubic clamps), as the scatter visits them
        assert np.all(np.diff(t_idx[t_ptr[j]:t_ptr[j + 1]]) >= 0)


def test_device_tables_are_uploaded_once():
    tables = cuda._Tables(CUPY)
    taps = axis_taps("linear", 4, 9, True, None, np.float32)
    dtype = np.dtype(np.float32)
    first = tables.get(taps, dtype)
    assert tables.get(taps, dtype) is first
    assert tables.get(taps, dtype, 4) is not first and tables.get(taps, dtype, 4) is tables.get(taps, dtype, 4)
    assert first[2].dtype == np.float32 and tables.get(taps, np.dtype(np.float64))[2].dtype == np.float64
    for n in range(2, cuda.CACHED_TABLES + 3):
        tables.get(axis_taps("nearest", n, n + 1, None, None, np.float32), dtype)
    assert len(tables._kept) == cuda.CACHED_TABLES


def test_device_tables_are_kept_per_gpu():
    current = [0]
    gpus = SimpleNamespace(asarray=np.asarray, cuda=SimpleNamespace(Device=lambda: SimpleNamespace(id=current[0])))
    tables = cuda._Tables(gpus)
    taps, dtype = axis_taps("cubic", 4, 9, True, None, np.float64), np.dtype(np.float64)
    on_first, unit_on_first = tables.get(taps, dtype), tables.unit(dtype)
    current[0] = 1
    assert tables.get(taps, dtype) is not on_first and tables.unit(dtype) is not unit_on_first
    current[0] = 0
    assert tables.get(taps, dtype) is on_first and tables.unit(dtype) is unit_on_first


@pytest.mark.parametrize("op", OPS)
def test_float16_goes_to_the_generic_kernel(op):
    taps = _taps("linear", (4,), (6,), np.float32)
    x = np.ones((1, 2, 4 if op == "vision.interp" else 6), np.float16)
    assert not REGISTRY.kernels[(op, "cuda")].accepts(x, taps, taps, (4,), (6,))
    assert REGISTRY.kernels[(op, "cuda")].accepts(x.astype(np.float32), taps, taps, (4,), (6,))
