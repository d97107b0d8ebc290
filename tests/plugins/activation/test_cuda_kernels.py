"""The activation family's fused kernels: the cuda ones (plugins/activation/cuda.py,
formulas traced into CuPy element-wise kernels) compute what the generic ones
compute, on the CPU stand-in for ``cupy`` (tests/cuda_emulator.py), in float32 and
float64, on random inputs and on the edge values (0, signed zeros, infinities, NaN,
the kinks and thresholds of each activation, large magnitudes); and every fused
activation passes gradcheck and gradgradcheck in float64, its double backward
(create_graph) being the formula on tensors.
"""

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.backend import REGISTRY
from ember.plugins.activation.formulas import FORMULAS
from ember.plugins.activation.kernels import op_names

from ...cuda_emulator import generic, on_device

FLOATS = [np.float32, np.float64]
# exp, tanh, erf... of the C library against NumPy's (vectorised) ones
TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-13, atol=1e-14)}
EDGES = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-30, -1e-30, 3.0, -3.0, 6.0, -6.0, 1.0, -1.0,
         20.0, -20.0, 20.5, 40.0, 88.0, -88.0, 100.0, -100.0, 1e10, -1e10, 0.5, -0.5, 2.0, -2.0]
# the parameters of each activation the kernels are compared with (several for some)
PARAMS = {
    "softplus": [(1.0, 20.0), (2.0, 20.0), (0.5, 10.0), (-1.0, 20.0)],
    "leaky_relu": [(0.01,), (0.2,), (-0.5,)],
    "elu": [(1.0, 1.0, 1.0), (0.5, 1.0, 1.0), (1.6732632423543772 * 1.0507009873554805, 1.0507009873554805, 1.0),
            (2.0, 1.0, 0.5)],
    "hardtanh": [(-1.0, 1.0), (0.0, 6.0), (-0.5, 2.0), (1.0, 1.0)],
    "hardshrink": [(0.5,), (0.0,), (2.0,), (-1.0,)],
    "softshrink": [(0.5,), (0.0,), (2.0,)],
}
CASES = [(name, params) for name in FORMULAS for params in PARAMS.get(name, [()])]
IDS = [f"{name}-{'-'.join(f'{p:g}' for p in params)}" if params else name for name, params in CASES]


def inputs(dtype, seed=0):
    """Random values at several scales, then every edge value."""
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.standard_normal(40) * 4, rng.standard_normal(20) * 30, EDGES])
    return x.astype(dtype)


def both_ways(name, kernel, g, x, params):
    """``(y, dx)`` of the forward and backward ``kernel`` (``on_device`` or ``generic``)
    of activation ``name``, the backward given what the forward kept, if anything."""
    forward, backward = op_names(name)
    y = kernel(forward)(x, *params)
    if FORMULAS[name].kept is None:
        return y, kernel(backward)(g, x, *params)
    y, kept = y
    return y, kernel(backward)(g, x, kept, *params)


def compare(name, g, x, params, dtype):
    forward, backward = op_names(name)
    assert REGISTRY.kernels[(forward, "cuda")].accepts(x, *params)
    assert REGISTRY.kernels[(backward, "cuda")].accepts(g, x, *params)
    for got, want, op in zip(both_ways(name, on_device, g, x, params), both_ways(name, generic, g, x, params),
                             (forward, backward)):
        assert got.dtype == want.dtype == dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, err_msg=op, **TOL[dtype])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name,params", CASES, ids=IDS)
def test_cuda_kernels_compute_what_the_generic_ones_compute(name, params, dtype):
    x = inputs(dtype)
    compare(name, np.random.default_rng(1).standard_normal(x.shape).astype(dtype), x, params, dtype)


@pytest.mark.parametrize("name,params", CASES[:3], ids=IDS[:3])
def test_cuda_kernels_broadcast_and_take_strided_views(name, params):
    x = inputs(np.float64).reshape(-1, 1)[::2]
    g = np.broadcast_to(np.random.default_rng(2).standard_normal((1, 1)), x.shape)
    compare(name, g, x, params, np.float64)


def test_the_kept_intermediate():
    # gelu's generic forward keeps its CDF for the backward; the cuda forward keeps
    # nothing, and a backward given nothing computes it again
    x = inputs(np.float64)
    g = np.ones_like(x)
    y, kept = generic("activation.gelu")(x)
    assert on_device("activation.gelu")(x)[1] is None
    np.testing.assert_array_equal(generic("activation.gelu_backward")(g, x, None),
                                  generic("activation.gelu_backward")(g, x, kept))


def test_other_dtypes_go_to_the_generic_kernels():
    half = np.ones(3, np.float16)
    assert not REGISTRY.kernels[("activation.gelu", "cuda")].accepts(half)
    assert not REGISTRY.kernels[("activation.gelu_backward", "cuda")].accepts(half, np.ones(3, np.float32))


@pytest.mark.parametrize("name,params", CASES, ids=IDS)
def test_generic_kernels_keep_nan_and_the_dtype(name, params):
    for dtype in (np.float16, np.float32, np.float64):
        x = np.array([np.nan, 0.5, -0.5], dtype)
        y, dx = both_ways(name, generic, np.ones(3, dtype), x, params)
        assert y.dtype == dx.dtype == dtype and np.isnan(y[0])
    y, dx = both_ways(name, generic, np.array(1.0), np.array(0.5), params)
    assert isinstance(y, np.ndarray) and y.shape == dx.shape == ()


# the public functions behind the formulas, with arguments covering each formula's parameters
FUNCTIONS = [
    ("gelu", lambda x: F.gelu(x)), ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh")),
    ("silu", F.silu), ("mish", F.mish), ("softplus", F.softplus),
    ("softplus-beta", lambda x: F.softplus(x, beta=2.0, threshold=3.0)),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.2)), ("elu", lambda x: F.elu(x, 0.7)), ("selu", F.selu),
    ("celu", lambda x: F.celu(x, 2.0)), ("hardtanh", lambda x: F.hardtanh(x, -0.5, 2.0)), ("relu6", F.relu6),
    ("hardsigmoid", F.hardsigmoid), ("hardswish", F.hardswish), ("logsigmoid", F.logsigmoid),
    ("hardshrink", lambda x: F.hardshrink(x, 0.7)), ("softshrink", lambda x: F.softshrink(x, 0.7)),
]


def away_from_kinks(seed=3):
    """float64 inputs at least 0.05 away from every kink (0, +-3, 6, the bounds above),
    where finite differences hold."""
    x = np.random.default_rng(seed).uniform(-7, 7, 30)
    kinks = np.array([0.0, 3.0, -3.0, 6.0, -0.5, 2.0, 1.5, 0.7, -0.7])
    near = np.abs(x[:, None] - kinks[None, :]).min(axis=1) < 0.05
    return ember.tensor(np.where(near, x + 0.1, x), dtype=ember.float64, requires_grad=True)


@pytest.mark.parametrize("name,fn", FUNCTIONS, ids=[n for n, _ in FUNCTIONS])
def test_gradcheck_and_gradgradcheck(name, fn):
    x = away_from_kinks()
    assert ember.autograd.gradcheck(fn, (x,))
    assert ember.autograd.gradgradcheck(fn, (x,))


@pytest.mark.parametrize("name,fn", FUNCTIONS, ids=[n for n, _ in FUNCTIONS])
def test_one_node_whose_backward_matches_the_graph_of_the_backward(name, fn):
    x = away_from_kinks(4)
    y = fn(x)
    assert y.grad_fn.next_functions[0][0] is not None and "Backward0" in type(y.grad_fn).__name__
    g = ember.tensor(np.random.default_rng(5).standard_normal(30), requires_grad=True)
    (fused,) = ember.autograd.grad(y, x, g, retain_graph=True)
    (graph,) = ember.autograd.grad(y, x, g, create_graph=True)
    np.testing.assert_allclose(fused.numpy(), graph.detach().numpy(), rtol=1e-14, atol=1e-15)


def test_the_saved_input_is_checked_for_inplace_changes():
    x = ember.randn(5, dtype=ember.float64, requires_grad=True)
    h = x * 1
    y = F.gelu(h)
    h.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_the_output_may_change_in_place():
    # the node saves its input only, as torch's: an in-place op on the output is fine
    x = ember.randn(5, dtype=ember.float64, requires_grad=True)
    y = F.silu(x)
    y.add_(1).sum().backward()
    s = 1 / (1 + np.exp(-x.detach().numpy()))
    np.testing.assert_allclose(x.grad.numpy(), s * (1 + x.detach().numpy() * (1 - s)), rtol=1e-12)
