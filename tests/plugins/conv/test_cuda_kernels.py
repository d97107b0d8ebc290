"""The cuda backend's im2col/col2im (plugins/conv/cuda.py) compute what the generic
kernels compute, built with the CPU stand-in for ``cupy`` (tests/cuda_emulator.py).

Both kernels copy, or add in the generic kernel's order, so the comparisons are
exact. Besides chosen geometries, the calls the convolutions, unfold and fold
really make (recorded on the CPU backend with its Winograd and direct paths
declined, as the cuda backend's decline) are replayed on both kernels.
"""

import numpy as np
import pytest

import ember
import ember.nn.functional as EF
from ember.backend import REGISTRY
from ember.plugins.conv.cuda import KERNELS

from ...cuda_emulator import generic, on_device
from ..kernel_calls import recorded_calls
from .test_conv import CONV_CASES, TRANSPOSE_CASES

FLOATS = [np.float32, np.float64]

# (in_sp, out_sp, k, d, p, s)
GEOMETRIES = [
    ((7,), (3,), (3,), (2,), (1,), (2,)),
    ((9,), (9,), (1,), (1,), (0,), (1,)),                                   # 1x1 kernel
    ((5, 6), (5, 6), (2, 3), (1, 1), (0, 1), (1, 1)),
    ((6, 7), (3, 4), (3, 3), (1, 1), (1, 1), (2, 2)),
    ((3, 3), (5, 4), (1, 2), (1, 1), (1, 1), (1, 1)),                       # blocks past the image
    ((8, 5), (2, 2), (2, 2), (3, 1), (0, 2), (3, 4)),                       # stride > kernel: gaps
    ((1, 1), (1, 1), (1, 1), (1, 1), (0, 0), (1, 1)),                       # a single element
    ((4, 5, 6), (2, 3, 2), (2, 2, 3), (1, 2, 1), (1, 0, 2), (2, 1, 3)),
    ((3, 1, 4), (3, 1, 2), (1, 1, 3), (1, 1, 1), (0, 0, 0), (1, 1, 1)),   # size-1 dims
]


def random(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def assert_same_array(got, want):
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("batch,channels", [(2, 3), (1, 1), (0, 2)])
@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_im2col_and_col2im(geometry, batch, channels, dtype):
    x = random((batch, channels) + geometry[0], dtype)
    cols = generic("conv.im2col")(x, *geometry)
    assert_same_array(on_device("conv.im2col")(x, *geometry), cols)
    c = random(cols.shape, dtype, 1)
    assert_same_array(on_device("conv.col2im")(c, *geometry), generic("conv.col2im")(c, *geometry))


@pytest.mark.parametrize("dtype", FLOATS)
def test_im2col_writes_into_out(dtype):
    geometry = GEOMETRIES[3]
    x = random((2, 3) + geometry[0], dtype)
    want = generic("conv.im2col")(x, *geometry)
    out = np.full(want.size, np.nan, dtype)  # a flat workspace, as the convolution passes
    got = on_device("conv.im2col")(x, *geometry, out)
    assert_same_array(got, want)
    np.testing.assert_array_equal(out.reshape(want.shape), want)


@pytest.mark.parametrize("dtype", FLOATS)
def test_strided_inputs(dtype):
    geometry = GEOMETRIES[2]
    x = random((3, 4) + tuple(2 * v for v in geometry[0]), dtype)[::2, 1::2, ::2, 1::2]
    assert_same_array(on_device("conv.im2col")(x, *geometry), generic("conv.im2col")(x, *geometry))
    cols = random((5, 3 * 6, 30), dtype)[::2, ::3].copy()[..., ::-1]  # reversed last axis
    assert_same_array(on_device("conv.col2im")(cols, *geometry), generic("conv.col2im")(cols, *geometry))


def test_nan_and_infinity_are_copied_and_summed():
    geometry = GEOMETRIES[0]
    x = random((1, 2) + geometry[0], np.float64)
    x[0, 0, :3] = [np.nan, np.inf, -np.inf]
    cols = on_device("conv.im2col")(x, *geometry)
    np.testing.assert_array_equal(cols, generic("conv.im2col")(x, *geometry))
    cols[0, 1, 1] = np.inf
    np.testing.assert_array_equal(on_device("conv.col2im")(cols, *geometry),
                                  generic("conv.col2im")(cols, *geometry))


@pytest.mark.parametrize("dtype", [np.bool_, np.int8, np.float16, np.int32, np.int64, np.complex64,
                                   np.complex128])
def test_im2col_moves_every_dtype(dtype):
    """Elements of 1 to 8 bytes are moved by the kernel; complex128 takes the generic one."""
    geometry = GEOMETRIES[3]
    x = (random((2, 3) + geometry[0], np.float64) * 4).astype(dtype)
    if dtype == np.complex64:
        x = x * (1 - 2j)
    assert_same_array(on_device("conv.im2col")(x, *geometry), generic("conv.im2col")(x, *geometry))


@pytest.mark.parametrize("dtype", [np.float16, np.int64, np.bool_])
def test_col2im_of_other_dtypes_goes_to_the_generic_kernel(dtype):
    geometry = GEOMETRIES[3]
    cols = np.ones((2, 27, 12), dtype)
    assert not REGISTRY.kernels[("conv.col2im", "cuda")].accepts(cols, *geometry)


def test_an_out_of_another_dtype_takes_the_generic_kernel():
    geometry = GEOMETRIES[3]
    x = random((2, 3) + geometry[0], np.float32)
    want = generic("conv.im2col")(x, *geometry)
    out = np.zeros(want.size, np.float64)
    assert_same_array(on_device("conv.im2col")(x, *geometry, out), want.astype(np.float64))


def _declined_whole_convolutions(monkeypatch):
    """The CPU backend without its Winograd and direct kernels: every convolution
    takes the im2col path, as on the cuda backend."""
    table = REGISTRY.get("cpu").kernels
    for op in ("conv.winograd", "conv.winograd_weight_grad", "conv.direct", "conv.direct_weight_grad"):
        monkeypatch.setitem(table, op, lambda *args: None)


def _replay(calls):
    """Every recorded call, on the cuda kernel and on the generic one."""
    for op, (args, kwargs) in calls:
        positional = args + tuple(kwargs.values())  # ``out``, the last parameter
        want = generic(op)(*args, **{k: (None if v is None else v.copy()) for k, v in kwargs.items()})
        assert_same_array(on_device(op)(*positional), want)


def _record(monkeypatch):
    _declined_whole_convolutions(monkeypatch)
    recorded = {op: recorded_calls(monkeypatch, op) for op in KERNELS}
    return lambda: [(op, call) for op, calls in recorded.items() for call in calls]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name,xs,ws,bias,kw", CONV_CASES + TRANSPOSE_CASES)
def test_the_calls_convolutions_make(name, xs, ws, bias, kw, dtype, monkeypatch):
    calls = _record(monkeypatch)
    tensors = [ember.tensor(random(s, dtype, k), requires_grad=True) for k, s in enumerate((xs, ws))]
    if bias:
        tensors.append(ember.tensor(random(ws[0] if "transpose" not in name else ws[1] * kw.get("groups", 1),
                                           dtype, 2), requires_grad=True))
    y = getattr(EF, name)(*tensors, **kw)
    (y * ember.tensor(random(tuple(y.shape), dtype, 3))).sum().backward()
    shortcut = all(v == 1 for v in ws[2:]) and not kw  # 1x1: the columns are the image
    assert bool(calls()) != shortcut
    _replay(calls())


def test_the_calls_unfold_makes_of_a_bool_image(monkeypatch):
    calls = _record(monkeypatch)
    EF.unfold(ember.tensor(random((2, 3, 5, 6), np.float64) > 0), kernel_size=(2, 3), padding=(1, 0))
    assert calls()[0][1][0][0].dtype == np.bool_
    _replay(calls())


@pytest.mark.parametrize("dtype", FLOATS)
def test_the_calls_unfold_and_fold_make(dtype, monkeypatch):
    calls = _record(monkeypatch)
    kw = dict(kernel_size=(2, 3), dilation=(1, 2), padding=1, stride=(2, 1))
    x = ember.tensor(random((2, 3, 6, 7), dtype), requires_grad=True)
    cols = EF.unfold(x, **kw)
    folded = EF.fold(cols, (6, 7), **kw)
    v = ember.tensor(random(tuple(folded.shape), dtype, 1), requires_grad=True)
    grad, = ember.autograd.grad((folded * v).sum(), x, create_graph=True)
    (grad * ember.tensor(random(tuple(grad.shape), dtype, 2))).sum().backward()  # double backward
    assert {op for op, _ in calls()} == set(KERNELS)
    _replay(calls())
