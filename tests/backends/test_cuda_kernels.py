"""The cuda backend's own kernels compute what the generic kernels compute.

Every machine runs them: the factories are built with the CPU stand-in for ``cupy``
(tests/cuda_emulator.py), which compiles their CUDA C with the host's compiler. The
generic kernels they are compared with are the ones the torch-oracle tests check;
the optimizer steps are compared with the CPU backend's loops. On a GPU the same
factories run under CuPy in the ``-m cuda`` tests of every family.
"""

import importlib
import pathlib

import numpy as np
import pytest

import ember.plugins
from ember.backend import REGISTRY
from ember.backends.cuda.kernels import KERNELS, same_floats

from ..cuda_emulator import generic, on_device

FLOATS = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=2e-6, atol=1e-6), np.float64: dict(rtol=1e-13, atol=1e-14)}


def with_edges(x):
    """``x`` with a NaN, infinities, signed zeros and large magnitudes in its first cells."""
    flat = x.reshape(-1)
    edges = [np.nan, np.inf, -np.inf, 0.0, -0.0, 88.0, -88.0, 1e-30]
    flat[:len(edges)] = np.array(edges[:flat.size], dtype=x.dtype)
    return x


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def test_every_cuda_kernel_is_a_factory_of_the_namespace():
    assert set(KERNELS) <= set(op for op, backend in REGISTRY.kernels if backend == "cuda")
    assert all(entry.factory for (op, backend), entry in REGISTRY.kernels.items() if backend == "cuda")


FAMILIES_WITH_CUDA_KERNELS = sorted(path.parent.name for folder in ember.plugins.__path__
                                    for path in pathlib.Path(folder).glob("*/cuda.py"))


@pytest.mark.parametrize("family", FAMILIES_WITH_CUDA_KERNELS)
def test_a_familys_cuda_kernels_are_registered_as_it_wrote_them(family):
    written = importlib.import_module(f"ember.plugins.{family}.cuda").KERNELS
    assert written
    for op, entry in written.items():
        assert REGISTRY.kernels[(op, "cuda")] is entry and entry.factory


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("op", ["relu", "sigmoid", "erf"])
def test_unary_kernels(op, dtype, rng):
    x = with_edges((rng.standard_normal((5, 7)) * 4).astype(dtype))
    got, want = on_device(op)(x), generic(op)(x)
    assert got.dtype == want.dtype == dtype
    np.testing.assert_allclose(got, want, **TOL[dtype])


@pytest.mark.parametrize("dtype", FLOATS)
def test_unary_kernel_of_a_strided_view(dtype, rng):
    x = rng.standard_normal((6, 8)).astype(dtype)[::2, 1::3]
    np.testing.assert_allclose(on_device("sigmoid")(x), generic("sigmoid")(x), **TOL[dtype])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("op", ["sigmoid_backward", "tanh_backward"])
def test_output_gradient_kernels(op, dtype, rng):
    g = rng.standard_normal((4, 9)).astype(dtype)
    y = rng.uniform(-1, 1, (4, 9)).astype(dtype)
    np.testing.assert_allclose(on_device(op)(g, y), generic(op)(g, y), **TOL[dtype])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("threshold", [0.0, 0.5, -1.0])
def test_threshold_backward(dtype, threshold, rng):
    g = rng.standard_normal((3, 11)).astype(dtype)
    x = with_edges(rng.standard_normal((3, 11)).astype(dtype))
    x[0, 9] = threshold  # at the threshold: no gradient
    got = on_device("threshold_backward")(g, x, threshold)
    np.testing.assert_array_equal(got, generic("threshold_backward")(g, x, threshold))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape,dim", [((4, 10), 1), ((4, 10), 0), ((2, 3, 5), -1), ((2, 3, 5), 1),
                                       ((7,), 0), ((3, 1), 1)])
@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_kernels(op, shape, dim, dtype, rng):
    x = (rng.standard_normal(shape) * 5).astype(dtype)
    got, want = on_device(op)(x, dim), generic(op)(x, dim)
    assert got.dtype == dtype and got.shape == shape
    np.testing.assert_allclose(got, want, **TOL[dtype])


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_kernels_keep_nan_and_infinity_rows(op):
    x = np.array([[1.0, np.nan, 2.0], [-np.inf, 0.0, 1.0], [np.inf, 0.0, 1.0], [-np.inf] * 3])
    np.testing.assert_array_equal(np.isnan(on_device(op)(x, 1)), np.isnan(generic(op)(x, 1)))
    np.testing.assert_allclose(on_device(op)(x, 1), generic(op)(x, 1))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape,dim", [((4, 10), 1), ((2, 3, 5), 0), ((2, 3, 5), -1)])
@pytest.mark.parametrize("op", ["softmax_backward", "log_softmax_backward"])
def test_softmax_backward_kernels(op, shape, dim, dtype, rng):
    g = rng.standard_normal(shape).astype(dtype)
    y = generic(op.replace("_backward", ""))(rng.standard_normal(shape).astype(dtype), dim)
    np.testing.assert_allclose(on_device(op)(g, y, dim), generic(op)(g, y, dim), **TOL[dtype])


@pytest.mark.parametrize("op,args", [
    ("relu", (np.arange(4),)),  # integers
    ("sigmoid", (np.ones(3, np.float16),)),
    ("sigmoid_backward", (np.ones(3, np.float32), np.ones(3, np.float64))),  # mixed dtypes
    ("softmax", (np.ones((), np.float64), 0)),  # 0-d
    ("softmax", (np.ones((0, 3), np.float32), 1)),  # empty
    ("softmax_backward", (np.ones((2, 3)), np.ones((1, 3)), 1)),  # broadcast shapes
])
def test_calls_the_kernels_do_not_take_go_to_the_generic_kernel(op, args):
    assert not REGISTRY.kernels[(op, "cuda")].accepts(*args)


def test_same_floats():
    f32, f64 = np.ones(2, np.float32), np.ones(2, np.float64)
    assert same_floats(f32, 2.0, f32) and same_floats(f64)
    assert not same_floats(f32, f64) and not same_floats(np.ones(2, np.int64)) and not same_floats(1.0)


def optimizer_arrays(rng, dtype, n, count):
    return [rng.standard_normal(n).astype(dtype) for _ in range(count)]


def assert_same_update(op, arrays, hyper, dtype):
    """The cuda step (emulated) and the CPU backend's loop give the same arrays."""
    cpu = [None if a is None else a.copy() for a in arrays]
    assert on_device(op)(*arrays, *hyper) is True
    assert REGISTRY.kernels[(op, "cpu")].fn(*cpu, *hyper) is True
    for got, want in zip(arrays, cpu):
        if got is not None:
            np.testing.assert_allclose(got, want, **TOL[dtype])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("momentum,dampening,weight_decay,nesterov,first", [
    (0.0, 0.0, 0.0, False, False), (0.0, 0.0, 0.1, False, False), (0.9, 0.0, 0.0, False, True),
    (0.9, 0.1, 0.01, False, False), (0.9, 0.0, 0.01, True, False), (0.9, 0.0, 0.0, True, True)])
def test_sgd_step(dtype, momentum, dampening, weight_decay, nesterov, first, rng):
    p, g, buf = optimizer_arrays(rng, dtype, 37, 3)
    arrays = [p, g, buf if momentum else None]
    assert_same_update("optim.sgd_step", arrays, (0.05, momentum, dampening, weight_decay, nesterov, first),
                       dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("weight_decay,decoupled,amsgrad,step", [
    (0.0, False, False, 1), (0.1, False, False, 3), (0.1, True, False, 2), (0.0, False, True, 5),
    (0.05, True, True, 10)])
def test_adam_step(dtype, weight_decay, decoupled, amsgrad, step, rng):
    p, g, m, v, vmax = optimizer_arrays(rng, dtype, 29, 5)
    v, vmax = np.abs(v), np.abs(vmax)
    vmax[3] = np.nan
    arrays = [p, g, m, v, vmax if amsgrad else None]
    assert_same_update("optim.adam_step", arrays, (1e-3, 0.9, 0.999, 1e-8, weight_decay, decoupled, step),
                       dtype)


def test_optimizer_steps_decline_arrays_they_do_not_take(rng):
    p = rng.standard_normal(8)
    sgd = on_device("optim.sgd_step")
    hyper = (0.1, 0.0, 0.0, 0.0, False, False)
    assert sgd(p, p, None, *hyper) is False  # the gradient is the parameter
    assert sgd(p, p[::-1].copy().astype(np.float32), None, *hyper) is False  # mixed dtypes
    assert sgd(p[::2], p[1::2].copy(), None, *hyper) is False  # a strided parameter
    before = p.copy()
    assert on_device("optim.adam_step")(p, p.copy(), p[:4].copy(), p.copy(), None,
                                         1e-3, 0.9, 0.999, 1e-8, 0.0, False, 1) is False  # shapes
    np.testing.assert_array_equal(p, before)


def test_the_emulator_refuses_a_scalar_cupy_would_pass_as_another_c_type():
    from ..cuda_emulator import CUPY

    kernel = CUPY.RawKernel('extern "C" __global__ void ember_fill(float* y, int n) '
                            '{ for (int i = 0; i < n; ++i) y[i] = 1.0f; }', "ember_fill")
    y = np.zeros(3, np.float32)
    with pytest.raises(TypeError, match="pass a NumPy int32 scalar"):
        kernel((1,), (1,), (y, 3))   # CuPy would pass 8 bytes of int64
    kernel((1,), (1,), (y, np.int32(3)))
    assert (y == 1).all()


def test_the_emulator_refuses_a_strided_array_for_a_raw_kernel():
    from ..cuda_emulator import CUPY

    kernel = CUPY.RawKernel('extern "C" __global__ void ember_first(const float* x, float* y) '
                            '{ y[0] = x[1]; }', "ember_first")
    x, y = np.arange(6, dtype=np.float32), np.zeros(1, np.float32)
    with pytest.raises(TypeError, match="not C-contiguous"):
        kernel((1,), (1,), (x[::2], y))   # the kernel would read x[1], not x[2]
    kernel((1,), (1,), (np.ascontiguousarray(x[::2]), y))
    assert y[0] == 2


def test_the_emulator_refuses_an_array_of_another_type_than_the_kernel_reads():
    from ..cuda_emulator import CUPY

    kernel = CUPY.RawKernel('typedef double T;\nextern "C" __global__ void ember_copy(const long long* i, T* y) '
                            '{ y[0] = T(i[0]); }', "ember_copy")
    y = np.zeros(1)
    with pytest.raises(TypeError, match="argument 0 of ember_copy is a long long\\*: got an array of int32"):
        kernel((1,), (1,), (np.array([7], np.int32), y))
    with pytest.raises(TypeError, match="argument 1 of ember_copy is a double\\*: got an array of float32"):
        kernel((1,), (1,), (np.array([7]), np.zeros(1, np.float32)))
    kernel((1,), (1,), (np.array([7], np.int64), y))
    assert y[0] == 7


@pytest.mark.parametrize("grid, block, what", [
    ((0,), (1,), "grid dimension x is 0"),
    ((1, 65536), (1,), "grid dimension y is 65536"),
    ((1,), (2048,), "block dimension x is 2048"),
    ((1,), (1, 1, 65), "block dimension z is 65"),
    ((1,), (64, 32), "more than 1024 threads"),
])
def test_the_emulator_refuses_a_launch_the_gpu_would_refuse(grid, block, what):
    from ..cuda_emulator import CUPY

    kernel = CUPY.RawKernel('extern "C" __global__ void ember_nothing(float* y) {}', "ember_nothing")
    with pytest.raises(ValueError, match=what):
        kernel(grid, block, (np.zeros(1, np.float32),))
