"""The row-wise softmax kernels of the CPU backend (``_softmax.pyx``) against NumPy
in long double, on every build this CPU runs, and their argument checks."""

from importlib import import_module

import numpy as np
import pytest

import ember
from ember.backends.cpu import dispatch

from .test_kernels import _variant_params

# absolute terms for results that cancel to near 0 (the largest logit's log-probability)
TOL = {np.float32: dict(rtol=2e-6, atol=1e-6), np.float64: dict(rtol=1e-13, atol=1e-14)}
# rows of one element, short rows, rows with a vector remainder, long rows
SHAPES = [(1, 1), (3, 1), (5, 7), (4, 33), (64, 1001), (2, 20000)]


@pytest.fixture(params=_variant_params())
def loops(request):
    """``_softmax`` as built for each variant this CPU runs, imported after the CPU check."""
    dispatch.load(request.param)   # raises, and skips below, when the build is missing
    stem = dispatch.VARIANTS[request.param][0].replace("_kernels", "_softmax")
    try:
        return import_module(f"ember.backends.cpu.{stem}")
    except ImportError as error:
        pytest.skip(str(error))


@pytest.fixture(params=[np.float32, np.float64], ids=["float32", "float64"])
def dtype(request):
    return request.param


def _reference(x, take_log):
    w = x.astype(np.longdouble)
    shifted = w - w.max(axis=1, keepdims=True)
    total = np.exp(shifted).sum(axis=1, keepdims=True)
    return (shifted - np.log(total) if take_log else np.exp(shifted) / total).astype(x.dtype)


def _run(loop, *arrays):
    out = np.empty_like(arrays[0])
    loop(*arrays, out)
    return out


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_forward_matches_long_double(loops, dtype, shape, name):
    x = (np.random.default_rng(0).standard_normal(shape) * 30).astype(dtype)
    out = _run(getattr(loops, name), x)
    np.testing.assert_allclose(out, _reference(x, name == "log_softmax"), **TOL[dtype])


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_backward_matches_the_formulas(loops, dtype, shape):
    rng = np.random.default_rng(1)
    x, g = (rng.standard_normal(shape).astype(dtype) for _ in range(2))
    y = _reference(x, False)
    wide_y, wide_g = y.astype(np.longdouble), g.astype(np.longdouble)
    expected = wide_y * (wide_g - (wide_g * wide_y).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(_run(loops.softmax_backward, g, y), expected.astype(dtype), **TOL[dtype])
    log_y = _reference(x, True)
    expected = wide_g - np.exp(log_y.astype(np.longdouble)) * wide_g.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(_run(loops.log_softmax_backward, g, log_y), expected.astype(dtype),
                               **TOL[dtype])


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_rows_without_a_finite_maximum_are_nan(loops, dtype, name):
    inf, nan = np.inf, np.nan
    x = np.array([[inf, 1, 2], [-inf, -inf, -inf], [nan, 1, 2], [-inf, 0, 1], [1000, -1000, 0]], dtype)
    out = _run(getattr(loops, name), x)
    assert np.isnan(out[:3]).all()
    assert not np.isnan(out[3:]).any()
    np.testing.assert_allclose(out[3:], _reference(x[3:], name == "log_softmax"), **TOL[dtype])


def test_empty_arrays_are_left_alone(loops):
    for shape in [(0, 5), (3, 0)]:
        x = np.zeros(shape, np.float32)
        assert _run(loops.softmax, x).shape == shape


@pytest.mark.parametrize("make_bad, message", [
    (lambda x, out: (x.astype(np.float16), out), "float32 or float64"),
    (lambda x, out: (x.astype(np.float64), out), "float32 or float64"),
    (lambda x, out: (x[:, ::2].copy(), out), "shape"),
    (lambda x, out: (x.reshape(-1), out.reshape(-1)), "2-D"),
    (lambda x, out: (np.asfortranarray(x), out), "C-contiguous"),
    (lambda x, out: (x, x), "shares memory"),
    (lambda x, out: (x.tolist(), out), "NumPy array"),
])
def test_bad_arguments_raise_before_the_loops(loops, make_bad, message):
    x = np.ones((4, 6), np.float32)
    args = make_bad(x, np.empty_like(x))
    with pytest.raises((TypeError, ValueError), match=message):
        loops.softmax(*args)


def test_read_only_out_raises(loops):
    x = np.ones((2, 3))
    out = np.empty_like(x)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        loops.log_softmax(x, out)


@pytest.mark.parametrize("dim, fused", [(2, True), (-1, True), (1, False), (0, False)])
def test_the_kernel_table_sends_only_row_reductions_to_the_loops(dim, fused):
    from ember.backends.cpu import softmax as cpu_softmax

    x = np.ones((2, 3, 4), np.float32)
    d = dim % 3
    assert cpu_softmax.KERNELS["softmax"].accepts(x, d) is fused
    # a trailing dim of one element still leaves the reduced dim's elements adjacent
    assert cpu_softmax.KERNELS["log_softmax"].accepts(x.reshape(2, 3, 4, 1), d) is (d == 2)
    assert not cpu_softmax.KERNELS["softmax"].accepts(x[:, :, ::2], 2)
    assert not cpu_softmax.KERNELS["softmax"].accepts(x.astype(np.float16), 2)


@pytest.mark.parametrize("dim", [0, 1, 2])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_ops_agree_with_the_generic_kernels_forward_and_backward(dim, name):
    ember.manual_seed(0)
    x = (ember.randn(3, 4, 50, dtype=ember.float64) * 10).requires_grad_()
    g = ember.randn(3, 4, 50, dtype=ember.float64)
    y = getattr(ember, name)(x, dim)
    (gx,) = ember.autograd.grad(y, x, g)
    wide = x.detach().numpy().astype(np.longdouble)
    shifted = wide - wide.max(axis=dim, keepdims=True)
    total = np.exp(shifted).sum(axis=dim, keepdims=True)
    soft = np.exp(shifted) / total
    gn = g.numpy()
    if name == "softmax":
        np.testing.assert_allclose(y.detach().numpy(), soft, rtol=1e-13, atol=1e-300)
        expected = soft * (gn - (gn * soft).sum(axis=dim, keepdims=True))
    else:
        np.testing.assert_allclose(y.detach().numpy(), shifted - np.log(total), rtol=1e-13, atol=1e-14)
        expected = gn - soft * gn.sum(axis=dim, keepdims=True)
    np.testing.assert_allclose(gx.numpy(), expected, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_double_backward_goes_through_tensor_ops(name):
    x = ember.randn(4, 6, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda t: getattr(ember, name)(t, 1), (x,))
