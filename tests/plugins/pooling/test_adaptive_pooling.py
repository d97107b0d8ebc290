"""Adaptive (max, average) and fractional max pooling against torch 2.13:
values, indices, gradients, double backward, gradcheck, modules, errors,
and the generic (any-backend) kernels against the Cython ones."""

import numpy as np
import pytest

import ember
import ember.nn.functional as EF
from tests.oracle import as_numpy, assert_same, check, current_device, same_outcome, torch
from tests.plugins.library_tensors import device_kwargs

TF = torch.nn.functional
DTYPES = [np.float64, np.float32]


def _r(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _lib(x):
    return (EF, ember.nn) if isinstance(x, ember.Tensor) else (TF, torch.nn)


# (input shape, output_size): smaller and not dividing, larger, equal,
# dividing, None entries, 1 (global), batch of 1, unbatched
CASES = {
    1: [((2, 3, 10), 4), ((2, 3, 5), 8), ((1, 2, 7), 7), ((2, 2, 12), (3,)), ((3, 9), 2),
        ((2, 3, 6), 1)],
    2: [((2, 3, 10, 9), (4, 5)), ((1, 2, 5, 6), (8, 7)), ((2, 2, 6, 6), (6, 6)),
        ((2, 3, 8, 12), (4, 3)), ((2, 2, 7, 5), (None, 3)), ((2, 2, 7, 5), (2, None)),
        ((3, 9, 11), 4), ((2, 3, 7, 6), 1), ((2, 2, 5, 9), (1, 2))],
    3: [((2, 2, 5, 6, 7), (2, 3, 4)), ((1, 2, 3, 4, 2), (5, 6, 3)), ((2, 2, 4, 6, 3), (2, 3, 3)),
        ((2, 1, 5, 4, 6), (None, 3, None)), ((2, 5, 4, 6), 3), ((2, 2, 3, 4, 5), 1)],
}
GRID = [(nd, shape, out) for nd, cases in CASES.items() for shape, out in cases]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("nd,shape,out", GRID)
def test_adaptive_max_functional(nd, shape, out, dtype):
    def fn(x):
        return getattr(_lib(x)[0], f"adaptive_max_pool{nd}d")(x, out, return_indices=True)

    check(fn, [_r(shape, dtype)], gradcheck=dtype == np.float64 and np.prod(shape) < 400)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("nd,shape,out", GRID)
def test_adaptive_avg_functional(nd, shape, out, dtype):
    def fn(x):
        return getattr(_lib(x)[0], f"adaptive_avg_pool{nd}d")(x, out)

    check(fn, [_r(shape, dtype)], gradcheck=dtype == np.float64 and np.prod(shape) < 400)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_with_indices_variants(nd, device):
    x = _r((2, 3) + (7,) * nd)
    e = getattr(EF, f"adaptive_max_pool{nd}d_with_indices")(ember.tensor(x, device=device), 3)
    t = getattr(TF, f"adaptive_max_pool{nd}d_with_indices")(torch.tensor(x), 3)
    assert len(e) == 2
    assert_same(e[0], t[0])
    assert_same(e[1], t[1], "indices")
    assert e[1].dtype == ember.int64


@pytest.mark.parametrize("kind", ["transpose", "step"])
@pytest.mark.parametrize("op", ["max", "avg"])
def test_non_contiguous_input(kind, op):
    def fn(x):
        v = x.transpose(-1, -2) if kind == "transpose" else x[:, ::2, :, 1::2]
        f = getattr(_lib(x)[0], f"adaptive_{op}_pool2d")
        return f(v, (3, 4))

    check(fn, [_r((2, 6, 9, 11))], gradcheck=False)


@pytest.mark.parametrize("op", ["max", "avg"])
def test_large_planes_parallel_path(op):
    # many planes, enough elements for the OpenMP path; float32 as in models
    x = _r((4, 16, 20, 18), np.float32)

    def fn(x):
        return getattr(_lib(x)[0], f"adaptive_{op}_pool2d")(x, (7, 5))

    check(fn, [x], double=False, gradcheck=False)


def test_global_average_is_mean(device):
    x = ember.tensor(_r((2, 3, 5, 4)), requires_grad=True, device=device)
    y = EF.adaptive_avg_pool2d(x, 1)
    assert type(y.grad_fn).__name__ == "MeanBackward1"
    np.testing.assert_allclose(as_numpy(y), as_numpy(x).mean((2, 3), keepdims=True), rtol=1e-12)


@pytest.mark.parametrize("fn,name", [
    (lambda x: EF.adaptive_max_pool2d(x, 3), "AdaptiveMaxPool2DBackward0"),
    (lambda x: EF.adaptive_max_pool3d(x.unsqueeze(2), 3), "AdaptiveMaxPool3DBackward0"),
    (lambda x: EF.adaptive_avg_pool2d(x, 3), "AdaptiveAvgPool2DBackward0"),
    (lambda x: EF.adaptive_avg_pool3d(x.unsqueeze(2), (1, 3, 3)), "AdaptiveAvgPool3DBackward0"),
    (lambda x: EF.fractional_max_pool2d(x, 2, output_size=3), "FractionalMaxPool2DBackward0"),
])
def test_grad_fn_names(fn, name, device):
    y = fn(ember.randn(2, 3, 8, 8, requires_grad=True, device=device))
    assert type(y.grad_fn).__name__ == name


def test_gradgradcheck(device):
    x = ember.tensor(_r((1, 2, 5, 6)), requires_grad=True, device=device)
    assert ember.autograd.gradgradcheck(lambda t: EF.adaptive_avg_pool2d(t, (3, 4)), [x])
    assert ember.autograd.gradgradcheck(lambda t: EF.adaptive_max_pool2d(t, (3, 4)), [x])
    rs = ember.tensor(np.random.default_rng(1).random((1, 2, 2)), device=device)
    assert ember.autograd.gradgradcheck(
        lambda t: EF.fractional_max_pool2d(t, 2, output_size=(3, 4), _random_samples=rs), [x])


# --- ties, NaN, infinities: torch's indices --------------------------------

SPECIAL = [
    [[1.0, np.nan, 3.0, np.nan, 0.0, 2.0]],      # the last NaN of a window wins
    [[2.0, 2.0, 2.0, 1.0, 5.0, 5.0]],            # ties: the first maximum
    [[-np.inf] * 6],                             # all -inf: the window's start
    [[np.inf, 1.0, np.inf, np.nan, -np.inf, np.inf]],
]


@pytest.mark.parametrize("row", SPECIAL)
@pytest.mark.parametrize("out", [1, 2, 4])
def test_adaptive_max_special_values(row, out, device):
    x = np.array([row])
    e = EF.adaptive_max_pool1d(ember.tensor(x, device=device), out, return_indices=True)
    t = TF.adaptive_max_pool1d(torch.tensor(x), out, return_indices=True)
    assert_same(e[0], t[0])
    assert_same(e[1], t[1], "indices")


def test_adaptive_max_2d_ties_row_major(device):
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 0] = x[0, 0, 0, 1] = 5.0
    x[0, 0, 3, 3] = x[0, 0, 2, 2] = np.nan
    for out in [(1, 1), (2, 2), (3, 1)]:
        e = EF.adaptive_max_pool2d(ember.tensor(x, device=device), out, return_indices=True)
        t = TF.adaptive_max_pool2d(torch.tensor(x), out, return_indices=True)
        assert_same(e[1], t[1], "indices")


# --- the generic kernels (CuPy's path) against the Cython ones --------------

def _kernels():
    from ember.backend import REGISTRY
    from ember.plugins.pooling import _adaptive, adaptive  # noqa: F401 (registers)

    gen = {op: REGISTRY.generic(op, np) for op in
           ("pooling.window_argmax_nd", "pooling.adaptive_avg_nd", "pooling.adaptive_avg_nd_adjoint")}
    cy = {"pooling.window_argmax_nd": _adaptive.window_argmax_nd,
          "pooling.adaptive_avg_nd": _adaptive.adaptive_avg_nd,
          "pooling.adaptive_avg_nd_adjoint": _adaptive.adaptive_avg_nd_adjoint}
    return gen, cy, adaptive


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("in_sp,out_sp", [((9,), (4,)), ((7, 10), (3, 4)), ((8, 6), (4, 3)),
                                           ((3, 5, 7), (2, 4, 3)), ((4, 5), (9, 6)), ((6, 6), (0, 2))])
def test_generic_kernels_match_cython(in_sp, out_sp, dtype):
    gen, cy, adaptive = _kernels()
    x = _r((2, 3) + in_sp, dtype)
    x.flat[::7] = np.nan
    x.flat[3::11] = -np.inf
    starts, ends = zip(*(adaptive.adaptive_bounds(np, n, o) for n, o in zip(in_sp, out_sp)))
    op = "pooling.window_argmax_nd"
    np.testing.assert_array_equal(gen[op](x, starts, ends), cy[op](x, starts, ends))
    x = _r((2, 3) + in_sp, dtype)
    g = _r((2, 3) + out_sp, dtype, 1)
    for op, a in [("pooling.adaptive_avg_nd", x), ("pooling.adaptive_avg_nd_adjoint", g)]:
        r1, r2 = gen[op](a, in_sp, out_sp), cy[op](a, in_sp, out_sp)
        assert r1.dtype == r2.dtype == dtype and r1.shape == r2.shape
        np.testing.assert_allclose(r1, r2, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6)


def test_generic_argmax_per_plane_windows():
    gen, cy, _ = _kernels()
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 9, 8))
    starts = (rng.integers(0, 6, (6, 4)), rng.integers(0, 5, (6, 3)))
    ends = (starts[0] + 3, starts[1] + 2)
    op = "pooling.window_argmax_nd"
    np.testing.assert_array_equal(gen[op](x, starts, ends), cy[op](x, starts, ends))


@pytest.mark.parametrize("bad", ["negative", "past_end", "empty", "rows"])
def test_kernel_rejects_bad_windows(bad):
    gen, cy, _ = _kernels()
    x = np.zeros((2, 6))
    s, e = np.array([[0, 2]]), np.array([[3, 5]])
    if bad == "negative":
        s = s - 1
    elif bad == "past_end":
        e = e + 2
    elif bad == "empty":
        e = s.copy()
    else:
        s, e = np.zeros((3, 2), np.int64), np.ones((3, 2), np.int64)
    with pytest.raises(ValueError):
        cy["pooling.window_argmax_nd"](x, (s,), (e,))
    if bad != "rows":
        with pytest.raises(ValueError):
            gen["pooling.window_argmax_nd"](x, (s,), (e,))


# --- fractional max pooling -------------------------------------------------

FRACTIONAL = [
    (2, (2, 3, 11, 13), 3, dict(output_size=(5, 6))),
    (2, (2, 3, 11, 13), (2, 3), dict(output_ratio=(0.5, 0.6))),
    (2, (1, 2, 9, 10), 2, dict(output_ratio=0.5)),
    (2, (3, 10, 12), 2, dict(output_size=9)),
    (2, (2, 2, 25, 20), 4, dict(output_size=(7, 1))),
    (2, (2, 2, 8, 8), 1, dict(output_size=(8, 5))),
    (3, (2, 2, 9, 8, 7), 3, dict(output_size=(4, 5, 3))),
    (3, (2, 9, 10, 8), (2, 3, 2), dict(output_ratio=(0.5, 0.6, 0.7))),
    (3, (1, 1, 6, 6, 7), 2, dict(output_size=(4, 2, 5))),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("nd,shape,k,kw", FRACTIONAL)
def test_fractional_functional(nd, shape, k, kw, dtype):
    n = shape[0] if len(shape) == nd + 2 else 1
    samples = np.random.default_rng(5).random((n, shape[-nd - 1], nd)).astype(dtype)

    ratio = kw.get("output_ratio")
    if ratio is not None and not isinstance(ratio, tuple):
        # torch 2.13's functional calls len() on the ratio; ember takes a number too
        t_kw = dict(kw, output_ratio=(ratio,) * nd)
    else:
        t_kw = kw

    def fn(x):
        f, args = (EF, kw) if isinstance(x, ember.Tensor) else (TF, t_kw)
        rs = ember.tensor(samples, device=x.device) if f is EF else torch.tensor(samples)
        return getattr(f, f"fractional_max_pool{nd}d")(x, k, return_indices=True,
                                                        _random_samples=rs, **args)

    check(fn, [_r(shape, dtype)], gradcheck=dtype == np.float64 and np.prod(shape) < 700)


def test_fractional_non_contiguous_and_modules(device):
    x = _r((2, 3, 12, 10))
    rs = np.random.default_rng(2).random((2, 3, 2))
    e = ember.nn.FractionalMaxPool2d(3, output_size=(4, 5), return_indices=True,
                                     _random_samples=ember.tensor(rs, device=device))
    t = torch.nn.FractionalMaxPool2d(3, output_size=(4, 5), return_indices=True,
                                     _random_samples=torch.tensor(rs))
    ye, ie = e(ember.tensor(x, device=device).transpose(-1, -2))
    yt, it = t(torch.tensor(x).transpose(-1, -2))
    assert_same(ye, yt)
    assert_same(ie, it, "indices")
    assert repr(e) == repr(t) == "FractionalMaxPool2d()"
    assert list(dict(e.named_buffers())) == list(dict(t.named_buffers())) == ["_random_samples"]
    x3 = _r((1, 2, 7, 8, 9))
    rs3 = np.random.default_rng(2).random((1, 2, 3))
    e3 = ember.nn.FractionalMaxPool3d(2, output_ratio=0.5, _random_samples=ember.tensor(rs3, device=device))
    t3 = torch.nn.FractionalMaxPool3d(2, output_ratio=0.5, _random_samples=torch.tensor(rs3))
    assert_same(e3(ember.tensor(x3, device=device)), t3(torch.tensor(x3)))
    assert e3.kernel_size == t3.kernel_size and e3.output_ratio == t3.output_ratio
    assert repr(e3) == repr(t3)


def test_fractional_random_samples_drawn_from_ember_rng(device):
    x = ember.tensor(_r((2, 3, 10, 10), np.float32), device=device)
    ember.manual_seed(7)
    y1, i1 = EF.fractional_max_pool2d(x, 2, output_ratio=(0.5, 0.5), return_indices=True)
    ember.manual_seed(7)
    rs = ember.rand(2, 3, 2, dtype=ember.float32, device=device)
    y2, i2 = EF.fractional_max_pool2d(x, 2, output_size=5, return_indices=True, _random_samples=rs)
    assert y1.shape == (2, 3, 5, 5)
    np.testing.assert_array_equal(as_numpy(i1), as_numpy(i2))
    np.testing.assert_array_equal(as_numpy(y1), as_numpy(y2))
    # the same samples give torch's answer
    yt, it = TF.fractional_max_pool2d(torch.tensor(as_numpy(x)), 2, output_size=5, return_indices=True,
                                      _random_samples=torch.tensor(as_numpy(rs)))
    assert_same(y2, yt)
    assert_same(i2, it, "indices")
    m = ember.nn.FractionalMaxPool3d(2, output_size=3).to(device)
    assert m(ember.randn(3, 6, 6, 6, device=device)).shape == (3, 3, 3, 3)


# --- modules ----------------------------------------------------------------

MODULES = [
    ("AdaptiveMaxPool1d", (5,), (2, 3, 8)),
    ("AdaptiveMaxPool1d", (3, True), (3, 8)),
    ("AdaptiveMaxPool2d", ((5, 7),), (1, 4, 8, 9)),
    ("AdaptiveMaxPool2d", ((None, 7), True), (1, 4, 10, 9)),
    ("AdaptiveMaxPool3d", ((3, None, 2),), (1, 2, 5, 4, 6)),
    ("AdaptiveMaxPool3d", (2, True), (2, 5, 4, 6)),
    ("AdaptiveAvgPool1d", (5,), (2, 3, 8)),
    ("AdaptiveAvgPool2d", ((5, 7),), (1, 4, 8, 9)),
    ("AdaptiveAvgPool2d", (7,), (4, 10, 9)),
    ("AdaptiveAvgPool2d", ([None, 3],), (1, 4, 10, 9)),
    ("AdaptiveAvgPool3d", ((3, None, 2),), (1, 2, 5, 4, 6)),
    ("AdaptiveAvgPool3d", (1,), (1, 2, 5, 4, 6)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,args,shape", MODULES)
def test_modules(name, args, shape, dtype):
    e_m, t_m = getattr(ember.nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(e_m) == repr(t_m)
    assert e_m.output_size == t_m.output_size
    assert getattr(e_m, "return_indices", None) == getattr(t_m, "return_indices", None)
    check(lambda x: (e_m if isinstance(x, ember.Tensor) else t_m)(x), [_r(shape, dtype)],
          gradcheck=False)


# --- degenerate sizes -------------------------------------------------------

@pytest.mark.parametrize("op", ["max", "avg"])
@pytest.mark.parametrize("shape,out", [((0, 2, 5, 5), 3), ((2, 2, 5, 5), 0), ((0, 4, 4), (2, 0))])
def test_empty_batch_and_zero_output(op, shape, out, device):
    x = np.zeros(shape)
    e = getattr(EF, f"adaptive_{op}_pool2d")(ember.tensor(x, device=device), out)
    t = getattr(TF, f"adaptive_{op}_pool2d")(torch.tensor(x), out)
    assert_same(e, t)


def test_fractional_empty_batch_and_zero_output(device):
    e = EF.fractional_max_pool2d(ember.zeros(0, 2, 8, 8, device=device), 2, output_size=3)
    assert e.shape == (0, 2, 3, 3)
    e, i = EF.fractional_max_pool3d(ember.zeros(1, 2, 8, 8, 8, device=device), 2, output_size=0, return_indices=True)
    assert e.shape == i.shape == (1, 2, 0, 0, 0)


# --- errors: torch's exception types ----------------------------------------

def _rand(lib, *shape, dtype=None):
    on = device_kwargs(lib, current_device())
    return lib.randn(*shape, **on) if dtype is None else lib.ones(*shape, dtype=getattr(lib, dtype), **on)


ERRORS = [
    # adaptive: dimensions, output_size length, negative sizes, empty dims, dtype
    ("adaptive_max_pool1d", (5,), (3,), {}),
    ("adaptive_max_pool1d", (1, 2, 5, 1), (3,), {}),
    ("adaptive_max_pool1d", (2, 5), ((3, 3),), {}),
    ("adaptive_max_pool1d", (2, 5), (-1,), {}),
    ("adaptive_max_pool1d", (2, 0), (3,), {}),
    ("adaptive_max_pool1d", (2, 0, 4), (3,), {}),
    ("adaptive_avg_pool1d", (5,), (3,), {}),
    ("adaptive_avg_pool1d", (2, 5), ((None,),), {}),
    ("adaptive_avg_pool1d", (2, 5), (-1,), {}),
    ("adaptive_avg_pool1d", (2, 0), (3,), {}),
    ("adaptive_max_pool2d", (4, 4), (2,), {}),
    ("adaptive_max_pool2d", (2, 2, 2, 2, 2), (2,), {}),
    ("adaptive_max_pool2d", (4, 4, 4), ((2, 2, 2),), {}),
    ("adaptive_max_pool2d", (4, 4, 4, 4), ((2,),), {}),
    ("adaptive_max_pool2d", (4, 4, 4), (-2,), {}),
    ("adaptive_max_pool2d", (2, 2, 0, 4), (2,), {}),
    ("adaptive_max_pool2d", (2, 0, 4, 4), (2,), {}),
    ("adaptive_max_pool2d", (4, 4, 4), (None,), {}),
    ("adaptive_avg_pool2d", (4, 4), (2,), {}),
    ("adaptive_avg_pool2d", (4, 4, 4, 4), ((2, 2, 2),), {}),
    ("adaptive_avg_pool2d", (4, 4, 4), (-2,), {}),
    ("adaptive_avg_pool2d", (2, 2, 0, 4), (2,), {}),
    ("adaptive_max_pool3d", (4, 4, 4), (2,), {}),
    ("adaptive_max_pool3d", (4, 4, 4, 4), ((2, 2),), {}),
    ("adaptive_max_pool3d", (4, 4, 4, 4), (-1,), {}),
    ("adaptive_avg_pool3d", (2, 2, 2, 2, 2, 2), (2,), {}),
    ("adaptive_avg_pool3d", (2, 0, 4, 4, 4), (2,), {}),
    ("adaptive_avg_pool3d", (4, 4, 4, 4), ((2, 2, 2, 2),), {}),
    ("adaptive_max_pool2d", (2, 4, 4), (2,), {"dtype": "int64"}),
    ("adaptive_avg_pool3d", (2, 4, 4, 4), (2,), {"dtype": "int64"}),
    # fractional
    ("fractional_max_pool2d", (1, 2, 8, 8), (2,), {}),
    ("fractional_max_pool2d", (1, 2, 8, 8), (3,), {"output_size": 7}),
    ("fractional_max_pool2d", (1, 2, 8, 8), ((2, 2, 2),), {"output_size": 3}),
    ("fractional_max_pool2d", (1, 2, 8, 8), (2,), {"output_size": (3, 3, 3)}),
    ("fractional_max_pool2d", (1, 2, 8, 8), (2,), {"output_ratio": (0.5, 0.5, 0.5)}),
    ("fractional_max_pool2d", (1, 2, 8, 8), (2,), {"output_size": -1}),
    ("fractional_max_pool2d", (8, 8), (2,), {"output_size": 3}),
    ("fractional_max_pool2d", (1, 1, 1, 8, 8), (2,), {"output_size": 3, "rs": (1, 1, 2)}),
    ("fractional_max_pool2d", (1, 2, 0, 8), (2,), {"output_size": 3}),
    ("fractional_max_pool2d", (1, 0, 8, 8), (2,), {"output_size": 3}),
    ("fractional_max_pool2d", (2, 2, 8, 8), (2,), {"output_size": 3, "rs": (1, 2, 2)}),
    ("fractional_max_pool2d", (1, 2, 8, 8), (2,), {"output_size": 3, "rs": (2, 2)}),
    ("fractional_max_pool2d", (1, 2, 8, 8), (2,), {"output_size": 3, "rs": (1, 3, 2)}),
    ("fractional_max_pool2d", (1, 2, 8, 8), (2,), {"output_size": 3, "rs": (1, 2, 3)}),
    ("fractional_max_pool2d", (1, 2, 8, 8), (2,), {"output_size": 3, "rs": (1, 2, 2), "rs_dtype": "float64"}),
    ("fractional_max_pool2d", (1, 2, 8, 8), (2,), {"output_size": 3, "dtype": "int64"}),
    ("fractional_max_pool3d", (1, 2, 8, 8, 8), (2,), {}),
    ("fractional_max_pool3d", (1, 2, 8, 8, 8), (2,), {"output_ratio": 1.0}),
    ("fractional_max_pool3d", (1, 2, 8, 8, 8), (3,), {"output_size": (3, 6, 3)}),
    ("fractional_max_pool3d", (1, 1, 6, 6, 6), (2,), {"output_size": (4, 4, 5)}),
    ("fractional_max_pool3d", (8, 8, 8), (2,), {"output_size": 3}),
    ("fractional_max_pool3d", (1, 2, 0, 8, 8), (2,), {"output_size": 3}),
    ("fractional_max_pool3d", (1, 2, 8, 8, 8), (2,), {"output_size": 3, "rs": (1, 2, 2)}),
]


def _pool(lib, name, shape, args, kw):
    """``name`` (an ERRORS case) applied with ``lib``."""
    kw = dict(kw)
    dtype, rs, rs_dtype = kw.pop("dtype", None), kw.pop("rs", None), kw.pop("rs_dtype", None)
    x = _rand(lib, *shape, dtype=dtype)
    if rs is not None:
        kw["_random_samples"] = lib.rand(*rs, dtype=getattr(lib, rs_dtype or "float32"),
                                         **device_kwargs(lib, current_device()))
    return getattr(lib.nn.functional, name)(x, *args, **kw)


@pytest.mark.parametrize("name,shape,args,kw", ERRORS)
def test_errors_match_torch(name, shape, args, kw):
    same_outcome(lambda L: _pool(L, name, shape, args, kw), raises=True, exact_type=True)


@pytest.mark.parametrize("cls,args,kw", [
    ("FractionalMaxPool2d", (2,), {}),
    ("FractionalMaxPool2d", (2,), {"output_size": 3, "output_ratio": 0.5}),
    ("FractionalMaxPool2d", (2,), {"output_ratio": 1}),
    ("FractionalMaxPool2d", (2,), {"output_ratio": (0.5, 0.0)}),
    ("FractionalMaxPool3d", (2,), {}),
    ("FractionalMaxPool3d", (2,), {"output_size": 3, "output_ratio": 0.5}),
    ("FractionalMaxPool3d", (2,), {"output_ratio": 1.5}),
    ("FractionalMaxPool3d", (0,), {"output_size": 3}),
    ("FractionalMaxPool3d", ((2, -1, 2),), {"output_size": 3}),
])
def test_fractional_module_errors(cls, args, kw):
    with pytest.raises(ValueError):
        getattr(ember.nn, cls)(*args, **kw)
    with pytest.raises(ValueError):
        getattr(torch.nn, cls)(*args, **kw)


def test_fractional_kernel_size_not_positive(device):
    # torch's functional lets a kernel of 0 through and returns -inf; ember refuses
    with pytest.raises(ValueError, match="kernel_size"):
        EF.fractional_max_pool2d(ember.randn(1, 2, 8, 8, device=device), 0, output_size=3)


# --- on every backend -------------------------------------------------------

@pytest.mark.parametrize("op,out", [("max", (3, 4)), ("avg", (3, 4)), ("avg", (4, 3)), ("max", 1)])
def test_adaptive_on_device(device, op, out):
    def fn(x):
        return getattr(_lib(x)[0], f"adaptive_{op}_pool2d")(x, out)

    check(fn, [_r((2, 3, 8, 9))], device=device, gradcheck=False)


def test_adaptive_3d_on_device(device):
    check(lambda x: _lib(x)[0].adaptive_max_pool3d(x, (2, 3, 2), return_indices=True),
          [_r((2, 2, 4, 5, 3), np.float32)], device=device, double=False, gradcheck=False)


def test_fractional_on_device(device):
    samples = np.random.default_rng(4).random((2, 3, 2))

    def fn(x):
        if isinstance(x, ember.Tensor):
            f, rs = EF, ember.tensor(samples, device=device)
        else:
            f, rs = TF, torch.tensor(samples)
        return f.fractional_max_pool2d(x, 2, output_size=(4, 5), return_indices=True,
                                       _random_samples=rs)

    check(fn, [_r((2, 3, 9, 10))], device=device, gradcheck=False)


@pytest.mark.parametrize("kernels", ["registered", "generic"])
def test_empty_batch_gathers_through_every_kernel(kernels, monkeypatch):
    from ember.backend import REGISTRY

    if kernels == "generic":
        cpu = REGISTRY.get("cpu")
        for op in ("pooling.gather_planes", "pooling.scatter_planes"):
            monkeypatch.setitem(cpu.kernels, op, REGISTRY.generic(op, np))
    x = ember.zeros(0, 2, 5, 5, requires_grad=True)
    out = ember.nn.functional.adaptive_max_pool2d(x, 3)
    assert tuple(out.shape) == (0, 2, 3, 3)
    out.sum().backward()
    assert tuple(x.grad.shape) == (0, 2, 5, 5)
