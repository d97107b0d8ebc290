"""Tests of the fused Cython kernels of the CPU backend against NumPy.

Every test that takes the ``kernels`` fixture runs once per build (portable,
avx2, avx512; the ids say which). A build the CPU cannot run is skipped with
the missing features named, and never imported: the check is the library's own
(ember.backends.cpu.dispatch).
"""
import warnings

import numpy as np
import pytest

from ember.backends.cpu import _kernels as portable
from ember.backends.cpu import dispatch

DTYPES = [np.float32, np.float64]

# rtol/atol per dtype; inputs are O(1), so atol sits at the rtol scale.
TOL = {
    np.float32: dict(rtol=1e-6, atol=1e-6),
    np.float64: dict(rtol=1e-14, atol=1e-14),
}

THRESHOLD = portable.PARALLEL_THRESHOLD
# Ragged sizes on both sides of the OpenMP threshold, so vector remainders
# and uneven thread splits are exercised too.
SIZES = {
    "empty": 0,
    "one": 1,
    "small": 1001,
    "below-threshold": THRESHOLD - 1,
    "at-threshold": THRESHOLD,
    "above-threshold": 3 * THRESHOLD + 7,
}


def _assert_close(actual, expected, dtype, **override):
    assert actual.dtype == dtype
    np.testing.assert_allclose(actual, expected, **{**TOL[dtype], **override})


def _sigmoid_reference(x):
    """Stable sigmoid in the widest float NumPy has, rounded to x's dtype."""
    w = x.astype(np.longdouble)
    e = np.exp(-np.abs(w))
    return (np.where(w >= 0, 1, e) / (1 + e)).astype(x.dtype)


def _variant_params():
    params = []
    for variant in dispatch.VARIANTS:
        missing = dispatch.missing_features(variant)
        marks = [pytest.mark.skip(reason=f"this CPU lacks {', '.join(missing)}")] if missing else []
        params.append(pytest.param(variant, id=variant, marks=marks))
    return params


@pytest.fixture(params=_variant_params())
def kernels(request):
    """Each kernel build this CPU runs, imported only after the CPU check."""
    try:
        return dispatch.load(request.param)
    except RuntimeError as error:  # not built: only x86-64 builds have the wider variants
        pytest.skip(str(error))


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(params=DTYPES, ids=lambda d: np.dtype(d).name)
def dtype(request):
    return request.param


@pytest.fixture(params=list(SIZES.values()), ids=list(SIZES))
def n(request):
    return request.param


def test_size_cases_straddle_threshold():
    assert SIZES["below-threshold"] < THRESHOLD <= SIZES["at-threshold"]


def test_openmp_queries(kernels):
    assert isinstance(kernels.has_openmp(), bool)
    threads = kernels.num_threads()
    assert isinstance(threads, int) and threads >= 1
    if not kernels.has_openmp():
        assert threads == 1


# --------------------------------------------------------------------------
# Values


def test_sigmoid(kernels, rng, dtype, n):
    x = (rng.standard_normal(n) * 8).astype(dtype)
    out = np.full_like(x, np.nan)
    assert kernels.sigmoid(x, out) is None
    _assert_close(out, _sigmoid_reference(x), dtype)


def test_erf_matches_the_standard_library(kernels, rng, dtype, n):
    import math

    x = (rng.standard_normal(n) * 3).astype(dtype)
    out = np.empty_like(x)
    kernels.erf(x, out)
    _assert_close(out, np.array([math.erf(v) for v in x.astype(np.float64)]).astype(dtype), dtype)


def test_sigmoid_matches_naive_formula_on_moderate_inputs(kernels, rng, dtype, n):
    x = rng.uniform(-10, 10, n).astype(dtype)
    out = np.empty_like(x)
    kernels.sigmoid(x, out)
    _assert_close(out, 1 / (1 + np.exp(-x)), dtype)


def test_sigmoid_extremes_are_exact_and_quiet(kernels, dtype):
    x = np.array([1000, -1000, np.inf, -np.inf, 1e30, -1e30, 0.0, -0.0],
                 dtype=dtype)
    out = np.empty_like(x)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        kernels.sigmoid(x, out)
    np.testing.assert_array_equal(out, [1, 0, 1, 0, 1, 0, 0.5, 0.5])
    assert not np.isnan(out).any()


def test_sigmoid_extremes_above_threshold(kernels, dtype):
    x = np.resize(np.array([1000, -1000], dtype=dtype), 2 * THRESHOLD + 1)
    out = np.empty_like(x)
    kernels.sigmoid(x, out)
    np.testing.assert_array_equal(out, np.where(x > 0, 1, 0).astype(dtype))


def test_sigmoid_tail_keeps_relative_accuracy(kernels, dtype):
    # Where exp(x) is tiny, 1/(1+exp(-x)) overflows; the kernel must still
    # follow exp(x), into the subnormal range and down to exactly 0.
    lo = {np.float32: -110.0, np.float64: -760.0}[dtype]
    x = np.linspace(lo, -20.0, 20001, dtype=dtype)
    out = np.empty_like(x)
    kernels.sigmoid(x, out)
    _assert_close(out, _sigmoid_reference(x), dtype,
                  atol=np.finfo(dtype).smallest_subnormal)
    assert out[0] == 0


def test_sigmoid_propagates_nan(kernels, dtype):
    x = np.array([np.nan, 1.0, np.nan, -1.0], dtype=dtype)
    out = np.empty_like(x)
    kernels.sigmoid(x, out)
    np.testing.assert_array_equal(np.isnan(out), [True, False, True, False])


def test_sigmoid_in_place(kernels, rng, dtype, n):
    x = rng.standard_normal(n).astype(dtype)
    expected = _sigmoid_reference(x)
    kernels.sigmoid(x, x)
    _assert_close(x, expected, dtype)


def test_sigmoid_backward(kernels, rng, dtype, n):
    grad = rng.standard_normal(n).astype(dtype)
    y = rng.uniform(0, 1, n).astype(dtype)
    out = np.full_like(y, np.nan)
    assert kernels.sigmoid_backward(grad, y, out) is None
    _assert_close(out, grad * y * (1 - y), dtype)


def test_tanh_backward(kernels, rng, dtype, n):
    grad = rng.standard_normal(n).astype(dtype)
    y = rng.uniform(-1, 1, n).astype(dtype)
    out = np.full_like(y, np.nan)
    assert kernels.tanh_backward(grad, y, out) is None
    _assert_close(out, grad * (1 - y * y), dtype)


@pytest.mark.parametrize("threshold", [0.0, 0.5, -1.25])
def test_threshold_backward(kernels, rng, dtype, n, threshold):
    grad = rng.standard_normal(n).astype(dtype)
    x = rng.standard_normal(n).astype(dtype)
    x[::5] = threshold  # ties: x == threshold gives 0
    out = np.full_like(x, np.nan)
    assert kernels.threshold_backward(grad, x, threshold, out) is None
    np.testing.assert_array_equal(out, np.where(x > threshold, grad, 0))


def test_threshold_backward_compares_in_the_array_dtype(kernels, dtype):
    # 0.1 is not exact in binary: compared as a double, float32(0.1) would be
    # above it.  NumPy 2 and torch round the threshold to the dtype first.
    x = np.array([0.1, 0.2, 0.05], dtype=dtype)
    grad = np.ones_like(x)
    out = np.empty_like(x)
    kernels.threshold_backward(grad, x, 0.1, out)
    np.testing.assert_array_equal(out, np.where(x > 0.1, grad, 0))
    np.testing.assert_array_equal(out, [0, 1, 0])


def test_threshold_backward_nan_input_passes_gradient(kernels, dtype):
    # As torch: the mask is "x <= threshold -> 0", which is False for NaN.
    x = np.array([np.nan, -1.0, 2.0], dtype=dtype)
    grad = np.array([3.0, 4.0, 5.0], dtype=dtype)
    out = np.empty_like(x)
    kernels.threshold_backward(grad, x, 0.0, out)
    np.testing.assert_array_equal(out, [3, 0, 5])


def test_mul_add(kernels, rng, dtype, n):
    a, b, c = (rng.standard_normal(n).astype(dtype) for _ in range(3))
    out = np.full_like(a, np.nan)
    assert kernels.mul_add(a, b, c, out) is None
    _assert_close(out, a * b + c, dtype)


def test_mul_add_into_an_input(kernels, rng, dtype, n):
    a, b, c = (rng.standard_normal(n).astype(dtype) for _ in range(3))
    expected = a * b + c
    kernels.mul_add(a, b, c, c)
    _assert_close(c, expected, dtype)


def test_read_only_inputs_are_accepted(kernels, rng, dtype):
    x = rng.standard_normal(100).astype(dtype)
    x.flags.writeable = False
    out = np.empty_like(x)
    kernels.sigmoid(x, out)
    _assert_close(out, _sigmoid_reference(x), dtype)


def test_reshaped_contiguous_views_are_accepted(kernels, rng, dtype):
    x = rng.standard_normal((4, 5, 6)).astype(dtype)
    out = np.empty_like(x)
    kernels.sigmoid(x.reshape(-1), out.reshape(-1))
    _assert_close(out, _sigmoid_reference(x), dtype)


# --------------------------------------------------------------------------
# Bad arguments: rejected with a clear message before any C code runs.


def _bad_calls(kernels, dtype):
    """(description, callable, exception, message pattern) for each misuse."""
    n = 16
    x = np.linspace(-1, 1, n, dtype=dtype)
    g = np.ones(n, dtype=dtype)
    out = np.zeros(n, dtype=dtype)
    other = np.float64 if dtype == np.float32 else np.float32
    read_only = np.zeros(n, dtype=dtype)
    read_only.flags.writeable = False
    big = np.zeros(n + 1, dtype=dtype)
    return [
        ("length", lambda: kernels.sigmoid(x[:-1], out),
         ValueError, "length mismatch: x has 15 elements but out has 16"),
        ("length-3", lambda: kernels.mul_add(x, g, g[:-1], out),
         ValueError, "length mismatch: c has 15"),
        ("dtype", lambda: kernels.sigmoid_backward(g, x.astype(other), out),
         ValueError, "dtype mismatch: y is"),
        ("out-dtype", lambda: kernels.tanh_backward(g, x, out.astype(other)),
         ValueError, "dtype mismatch: grad is"),
        ("strided", lambda: kernels.sigmoid(big[::2][:n // 2], out[:n // 2]),
         ValueError, "x must be C-contiguous"),
        ("strided-out", lambda: kernels.sigmoid(x[:8], np.zeros(16, dtype)[::2]),
         ValueError, "out must be C-contiguous"),
        ("2-D", lambda: kernels.sigmoid(x.reshape(4, 4), out.reshape(4, 4)),
         ValueError, "out must be 1-D"),
        ("read-only", lambda: kernels.threshold_backward(g, x, 0.0, read_only),
         ValueError, "out is read-only"),
        ("int", lambda: kernels.sigmoid(np.arange(n), np.zeros(n, np.int64)),
         TypeError, "out has dtype int64; only native float32 and float64"),
        ("int-input", lambda: kernels.sigmoid(np.arange(n), out),
         TypeError, "x has dtype int64; only native float32 and float64"),
        ("float16", lambda: kernels.sigmoid(x.astype(np.float16), out),
         TypeError, "x has dtype float16"),
        ("byteswapped", lambda: kernels.sigmoid(
            x.astype(np.dtype(dtype).newbyteorder()), out),
         TypeError, "only native"),
        ("list", lambda: kernels.sigmoid(list(x), out),
         TypeError, "x must be a numpy.ndarray, got list"),
        ("overlap", lambda: kernels.sigmoid(big[:-1], big[1:]),
         ValueError, "out partially overlaps x"),
        ("threshold", lambda: kernels.threshold_backward(g, x, "0", out),
         TypeError, "must be real number"),
    ]


@pytest.mark.parametrize("case", range(len(_bad_calls(portable, np.float32))),
                         ids=[c[0] for c in _bad_calls(portable, np.float32)])
def test_bad_arguments_raise(kernels, dtype, case):
    _, call, exc, pattern = _bad_calls(kernels, dtype)[case]
    with pytest.raises(exc, match=pattern):
        call()


def test_failed_call_leaves_out_untouched(kernels, dtype):
    x = np.ones(10, dtype=dtype)
    out = np.full(10, 7, dtype=dtype)
    with pytest.raises(ValueError):
        kernels.mul_add(x, x, x[:9], out)
    np.testing.assert_array_equal(out, 7)


# --------------------------------------------------------------------------
# The wider builds agree with the portable one


@pytest.mark.parametrize("n", [7, 100_003])
def test_build_matches_portable(kernels, dtype, n):
    if kernels is portable:
        pytest.skip("the portable build is the reference")
    rng = np.random.default_rng(5)
    x = (rng.standard_normal(n) * 6).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    y = 1 / (1 + np.exp(-x.astype(np.float64)))
    y = y.astype(dtype)
    for fn, args in (("sigmoid", (x,)), ("erf", (x,)), ("sigmoid_backward", (g, y)),
                     ("tanh_backward", (g, y))):
        want, got = np.empty_like(x), np.empty_like(x)
        getattr(portable, fn)(*args, want)
        getattr(kernels, fn)(*args, got)
        _assert_close(got, want, dtype)
    want, got = np.empty_like(x), np.empty_like(x)
    portable.threshold_backward(g, x, 0.5, want)
    kernels.threshold_backward(g, x, 0.5, got)
    np.testing.assert_array_equal(got, want)
    assert kernels.has_openmp() == portable.has_openmp()


def _unaligned(n):
    raw = np.zeros(n * 8 + 1, dtype=np.uint8)
    return np.frombuffer(raw[1:].data, dtype=np.float64)


_ACCEPTS_CASES = {
    "two-contiguous": lambda: (np.zeros((2, 3)), np.ones((2, 3)), 0.5),
    "float32": lambda: (np.zeros(4, np.float32), np.zeros(4, np.float32)),
    "zero-d": lambda: (np.array(1.0), np.array(2.0)),
    "empty": lambda: (np.zeros((0, 3)), np.zeros((0, 3))),
    "transposed": lambda: (np.zeros((2, 3)).T, np.zeros((3, 2))),
    "mixed-dtypes": lambda: (np.zeros(3, np.float32), np.zeros(3)),
    "shapes-differ": lambda: (np.zeros((2, 3)), np.zeros((3, 2))),
    "same-size-other-shape": lambda: (np.zeros(6), np.zeros((2, 3))),
    "int": lambda: (np.zeros(3, np.int64),),
    "float16": lambda: (np.zeros(3, np.float16),),
    "byte-swapped": lambda: (np.zeros(3, ">f8"),),
    "unaligned": lambda: (_unaligned(4), np.zeros(4)),
    "no-array": lambda: (1.0, None),
    "later-array-strided": lambda: (np.zeros(4), np.zeros(8)[::2]),
}


@pytest.mark.parametrize("case", sorted(_ACCEPTS_CASES))
def test_compiled_contiguous_floats_agrees_with_the_reference(kernels, case):
    from ember.kernels import contiguous_floats

    args = _ACCEPTS_CASES[case]()
    assert kernels.contiguous_floats(*args) == contiguous_floats(*args)
    expected = case in ("two-contiguous", "float32", "zero-d", "empty")
    assert contiguous_floats(*args) is expected


def test_an_unaligned_tensor_takes_the_generic_kernels():
    import ember

    values = np.zeros(4 * 8 + 1, np.uint8)[1:].view(np.float64)
    values[:] = [-1.0, 0.0, 1.0, 2.0]
    assert not values.flags.aligned
    x = ember.from_numpy(values).requires_grad_()
    y = x.sigmoid()
    y.sum().backward()
    expected = 1 / (1 + np.exp(-np.array([-1.0, 0.0, 1.0, 2.0])))
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-15)
    np.testing.assert_allclose(x.grad.numpy(), expected * (1 - expected), rtol=1e-15)


@pytest.mark.parametrize("source, target", [
    ((), (3, 4)), ((1,), (5,)), ((3, 1), (2, 3, 4)), ((2, 3), (2, 3)), ((1, 3), (0, 3)),
    ((4,), (2, 1, 4)), ((0,), (2, 0)),
], ids=str)
def test_broadcast_view_matches_numpy(source, target):
    from ember.backends.cpu.kernels import broadcast_to

    x = np.arange(float(np.prod(source))).reshape(source)
    view = broadcast_to(x, target)
    expected = np.broadcast_to(x, target)
    assert view.shape == expected.shape and view.strides == expected.strides
    np.testing.assert_array_equal(view, expected)
    assert not view.flags.writeable and (view.size == 0 or np.shares_memory(view, x))


@pytest.mark.parametrize("source, target", [((3,), (4,)), ((2, 3), (3,)), ((2,), (2, 3)), ((1,), (-1,))],
                         ids=str)
def test_broadcast_view_refuses_what_numpy_refuses(source, target):
    from ember.backends.cpu.kernels import broadcast_to

    x = np.zeros(source)
    with pytest.raises(ValueError, match="cannot broadcast"):
        broadcast_to(x, target)
    with pytest.raises(ValueError):
        np.broadcast_to(x, target)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int8, np.int64, np.uint8, ">f4"])
def test_relu_keeps_the_dtype_and_passes_nan(dtype):
    from ember.backends.cpu.kernels import relu

    kind = np.dtype(dtype).kind
    values = ([3] if kind == "u" else [-3]) + [0, 2] + (
        [float("nan"), -float("inf"), float("inf")] if kind == "f" else [])
    x = np.array(values, dtype=dtype)
    out = relu(x)
    assert out.dtype == x.dtype
    np.testing.assert_array_equal(out, np.maximum(x, 0))
