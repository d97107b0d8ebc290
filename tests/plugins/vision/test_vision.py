"""Vision family against torch 2.13: F.interpolate in every mode (values, gradients,
double backward, gradcheck), the Upsample modules, pixel (un)shuffle, errors,
reprs, and the cpu kernel's guards."""

import warnings

import numpy as np
import pytest

import ember
from ember.backend import REGISTRY
import ember.nn.functional as EF
from tests.oracle import as_numpy, assert_same, check, same_outcome, torch
from tests.plugins.library_tensors import lib_tensor

TF = torch.nn.functional
DTYPES = [np.float64, np.float32]
SPATIAL = {1: (5,), 2: (5, 4), 3: (3, 4, 3)}


def _r(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _interp(**kw):
    return lambda x: (EF if isinstance(x, ember.Tensor) else TF).interpolate(x, **kw)


# size vs scale_factor, integer / non-integer / downscaling scales, recompute_scale_factor
REQUESTS = [
    dict(size=7), dict(size=3), dict(size=1),
    dict(scale_factor=2), dict(scale_factor=1.7), dict(scale_factor=0.6), dict(scale_factor=2.1),
    dict(scale_factor=1.1), dict(scale_factor=1.7, recompute_scale_factor=True),
    dict(scale_factor=0.6, recompute_scale_factor=True), dict(scale_factor=0.6, recompute_scale_factor=False),
]
MODES = [("nearest", 1), ("nearest", 2), ("nearest", 3), ("nearest-exact", 1), ("nearest-exact", 2),
         ("nearest-exact", 3), ("linear", 1), ("bilinear", 2), ("bicubic", 2), ("trilinear", 3),
         ("area", 1), ("area", 2), ("area", 3)]
GRID = [(m, nd, ac, req) for m, nd in MODES
        for ac in ([None] if m in ("nearest", "nearest-exact", "area") else [False, True])
        for req in REQUESTS
        if not (m == "area" and req.get("recompute_scale_factor") is False)]


def _torch_backward_is_not_the_transpose(mode, nd, shape, req):
    """torch's backward kernels index differently from the forward ones for
    1-d/3-d nearest when a size is kept or doubled by a scale factor that is
    not exactly 1 or 2, and for bicubic when no size changes; ember gives
    torch's numbers, which then differ from finite differences."""
    s = req.get("scale_factor")
    if s is None or req.get("recompute_scale_factor"):
        return False
    out = [int(n * s) for n in shape]
    if mode == "nearest" and nd != 2:
        return any(o in (n, 2 * n) for o, n in zip(out, shape)) and s not in (1, 2)
    return mode == "bicubic" and out == list(shape) and s != 1


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode,nd,align,req", GRID)
def test_interpolate_grid(mode, nd, align, req, dtype):
    x = _r((2, 2) + SPATIAL[nd], dtype)
    check(_interp(mode=mode, align_corners=align, **req), [x], double=dtype == np.float64,
          gradcheck=not _torch_backward_is_not_the_transpose(mode, nd, SPATIAL[nd], req))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode,nd,kw", [
    ("nearest", 2, dict(scale_factor=(2, 1.5))), ("bilinear", 2, dict(size=(3, 9))),
    ("bicubic", 2, dict(scale_factor=(0.5, 3.0), align_corners=True)),
    ("trilinear", 3, dict(size=(2, 5, 7))), ("area", 3, dict(size=(2, 3, 2))),
    ("nearest-exact", 3, dict(scale_factor=(1.5, 0.75, 2.0))), ("linear", 1, dict(size=(11,))),
])
def test_interpolate_per_axis_sizes(mode, nd, kw, dtype):
    x = _r((1, 3) + SPATIAL[nd], dtype, 1)  # batch of 1
    check(_interp(mode=mode, **kw), [x], double=False, gradcheck=dtype == np.float64)


@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic", "area", "nearest-exact"])
def test_interpolate_non_contiguous(mode):
    x = _r((2, 3, 6, 5), seed=2)

    def fn(t):  # a transposed view and a step-sliced view
        lib = EF if isinstance(t, ember.Tensor) else TF
        return lib.interpolate(t.transpose(2, 3)[:, ::2], size=(4, 9), mode=mode)
    check(fn, [x])


@pytest.mark.parametrize("dtype", DTYPES)
def test_interpolate_larger_planes_parallel(dtype):
    # many planes and rows: both kernel loops run in parallel
    x = _r((3, 5, 17, 19), dtype, 3)
    for kw in [dict(scale_factor=2, mode="bilinear"), dict(scale_factor=1.7, mode="bicubic", align_corners=True),
               dict(scale_factor=2, mode="nearest"), dict(size=(6, 5), mode="area")]:
        check(_interp(**kw), [x], double=False, gradcheck=False)


def test_interpolate_float16_runs_in_float32(device):
    x = _r((1, 2, 4, 5), np.float32, 4).astype(np.float16)
    e = EF.interpolate(ember.tensor(x, device=device), scale_factor=1.5, mode="bilinear")
    t = TF.interpolate(torch.from_numpy(x), scale_factor=1.5, mode="bilinear")
    assert e.dtype == ember.float16
    np.testing.assert_allclose(as_numpy(e).astype(np.float32), t.float().numpy(), rtol=2e-3, atol=2e-3)


def test_interpolate_empty_batch_and_area_empty_output(device):
    e = EF.interpolate(ember.zeros(0, 2, 3, 3, device=device), size=5, mode="bilinear")
    assert tuple(e.shape) == (0, 2, 5, 5)
    for kw in [dict(size=(0, 2)), dict(scale_factor=0.1)]:
        e = EF.interpolate(ember.ones(1, 2, 5, 4, device=device), mode="area", **kw)
        t = TF.interpolate(torch.ones(1, 2, 5, 4), mode="area", **kw)
        assert tuple(e.shape) == tuple(t.shape)


@pytest.mark.parametrize("mode,nd,name", [
    ("nearest", 1, "UpsampleNearest1DBackward0"), ("nearest", 2, "UpsampleNearest2DBackward0"),
    ("nearest-exact", 3, "UpsampleNearestExact3DBackward0"), ("linear", 1, "UpsampleLinear1DBackward0"),
    ("bilinear", 2, "UpsampleBilinear2DBackward0"), ("bicubic", 2, "UpsampleBicubic2DBackward0"),
    ("trilinear", 3, "UpsampleTrilinear3DBackward0"), ("area", 2, "AdaptiveAvgPool2DBackward0"),
])
def test_grad_fn_names(mode, nd, name, device):
    x = ember.randn(1, 1, *SPATIAL[nd], requires_grad=True, device=device)
    assert EF.interpolate(x, scale_factor=2, mode=mode).grad_fn.name() == name
    t = torch.randn(1, 1, *SPATIAL[nd], requires_grad=True)
    assert TF.interpolate(t, scale_factor=2, mode=mode).grad_fn.name() == name


def test_spec_examples(device):
    x = ember.arange(1, 5, device=device).view(1, 1, 2, 2).float()
    up = ember.nn.Upsample(scale_factor=2, mode="bilinear")(x)
    np.testing.assert_allclose(as_numpy(up)[0, 0, 1], [1.5, 1.75, 2.25, 2.5])
    up = ember.nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)(x)
    np.testing.assert_allclose(as_numpy(up)[0, 0, 0], [1, 4 / 3, 5 / 3, 2], rtol=1e-6)
    x3 = ember.zeros(1, 1, 3, 3, device=device)
    x3[:, :, :2, :2] = x
    up = ember.nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)(x3)
    np.testing.assert_allclose(as_numpy(up)[0, 0, 1], [1.8, 2.2, 2.6, 2.24, 1.12, 0.0], rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------- modules


def _module_pair(cls, *args, **kwargs):
    return getattr(ember.nn, cls)(*args, **kwargs), getattr(torch.nn, cls)(*args, **kwargs)


MODULE_CASES = [
    ("Upsample", (), dict(scale_factor=2), 2),
    ("Upsample", (), dict(scale_factor=1.5, mode="bilinear"), 2),
    ("Upsample", (), dict(size=(3, 7), mode="bicubic", align_corners=True), 2),
    ("Upsample", (), dict(scale_factor=(2, 0.5, 1.5), mode="trilinear"), 3),
    ("Upsample", (), dict(size=4, mode="linear", align_corners=False), 1),
    ("Upsample", (), dict(scale_factor=0.7, mode="area"), 3),
    ("Upsample", (), dict(scale_factor=1.7, mode="nearest-exact", recompute_scale_factor=True), 2),
    ("UpsamplingNearest2d", (), dict(scale_factor=3), 2),
    ("UpsamplingNearest2d", (), dict(size=(7, 3)), 2),
    ("UpsamplingBilinear2d", (), dict(scale_factor=2), 2),
    ("UpsamplingBilinear2d", (), dict(size=5), 2),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls,args,kwargs,nd", MODULE_CASES)
def test_upsample_modules(cls, args, kwargs, nd, dtype):
    e_m, t_m = _module_pair(cls, *args, **kwargs)
    assert repr(e_m) == repr(t_m)
    x = _r((2, 3) + SPATIAL[nd], dtype, 5)
    check(lambda t: (e_m if isinstance(t, ember.Tensor) else t_m)(t), [x], double=False)


@pytest.mark.parametrize("cls,kwargs", [
    ("Upsample", dict(size=(4, 5))), ("Upsample", dict(scale_factor=(2, 3), mode="bilinear")),
    ("Upsample", dict(scale_factor=2.5, mode="bicubic", align_corners=True)),
    ("Upsample", dict()), ("UpsamplingNearest2d", dict(size=3)), ("UpsamplingBilinear2d", dict(scale_factor=1)),
    ("PixelShuffle", dict(upscale_factor=3)), ("PixelUnshuffle", dict(downscale_factor=2)),
])
def test_module_repr_and_attributes(cls, kwargs):
    e_m, t_m = _module_pair(cls, **kwargs)
    assert repr(e_m) == repr(t_m)
    for attr in ("size", "scale_factor", "mode", "align_corners", "recompute_scale_factor", "name",
                 "upscale_factor", "downscale_factor"):
        if hasattr(t_m, attr):
            assert getattr(e_m, attr) == getattr(t_m, attr), attr
    assert repr(ember.nn.Sequential(e_m)) == repr(torch.nn.Sequential(t_m))


# ---------------------------------------------------------------- pixel shuffle


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,r", [((2, 9, 3, 4), 3), ((1, 8, 2, 2), 2), ((8, 3, 5), 2),
                                     ((2, 3, 4, 2, 3), 2), ((2, 4, 2, 1), 1)])
def test_pixel_shuffle(shape, r, dtype):
    check(lambda t: (EF if isinstance(t, ember.Tensor) else TF).pixel_shuffle(t, r), [_r(shape, dtype)])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,r", [((2, 1, 6, 9), 3), ((1, 2, 4, 4), 2), ((3, 4, 2), 2),
                                     ((2, 3, 2, 4, 6), 2), ((2, 2, 3, 3), 1)])
def test_pixel_unshuffle(shape, r, dtype):
    check(lambda t: (EF if isinstance(t, ember.Tensor) else TF).pixel_unshuffle(t, r), [_r(shape, dtype)])


@pytest.mark.parametrize("dtype", DTYPES)
def test_pixel_shuffle_modules_round_trip(dtype, device):
    x = _r((2, 8, 3, 5), dtype, 6)
    e_s, t_s = _module_pair("PixelShuffle", 2)
    e_u, t_u = _module_pair("PixelUnshuffle", 2)

    def fn(t):
        s, u = (e_s, e_u) if isinstance(t, ember.Tensor) else (t_s, t_u)
        return s(t).transpose(2, 3), u(s(t))  # a non-contiguous result too
    check(fn, [x])
    e = ember.tensor(x, device=device)
    assert (as_numpy(e_u(e_s(e))) == x).all()
    assert EF.pixel_shuffle(e.requires_grad_(), 2).grad_fn.name() == "PixelShuffleBackward0"


# ---------------------------------------------------------------- deprecated wrappers


@pytest.mark.parametrize("name,kw", [("upsample", dict(scale_factor=2, mode="bilinear")),
                                     ("upsample", dict(size=(3, 7))),
                                     ("upsample_nearest", dict(scale_factor=2)),
                                     ("upsample_bilinear", dict(size=(6, 3)))])
def test_deprecated_upsample_functions(name, kw, device):
    x = _r((1, 2, 4, 3))
    with pytest.warns(UserWarning, match=f"`nn.functional.{name}` is deprecated"):
        e = getattr(EF, name)(ember.tensor(x, device=device), **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = getattr(TF, name)(torch.from_numpy(x), **kw)
    assert_same(e, t)


# ---------------------------------------------------------------- errors


ERRORS = {
    "both size and scale": lambda F, L: F.interpolate(L.ones(1, 1, 4, 4), size=2, scale_factor=2),
    "neither": lambda F, L: F.interpolate(L.ones(1, 1, 4, 4)),
    "size length": lambda F, L: F.interpolate(L.ones(1, 1, 4, 4), size=(2,)),
    "size type": lambda F, L: F.interpolate(L.ones(1, 1, 4, 4), size=(2.0, 3)),
    "scale length": lambda F, L: F.interpolate(L.ones(1, 1, 4, 4), scale_factor=(2.0, 2.0, 2.0)),
    "recompute with size": lambda F, L: F.interpolate(L.ones(1, 1, 4, 4), size=2, recompute_scale_factor=True),
    "align nearest": lambda F, L: F.interpolate(L.ones(1, 1, 4, 4), size=2, align_corners=True),
    "align area": lambda F, L: F.interpolate(L.ones(1, 1, 4, 4), size=2, mode="area", align_corners=False),
    "linear 4d": lambda F, L: F.interpolate(L.ones(1, 1, 4, 4), size=2, mode="linear"),
    "bilinear 3d": lambda F, L: F.interpolate(L.ones(1, 1, 4), size=2, mode="bilinear"),
    "trilinear 4d": lambda F, L: F.interpolate(L.ones(1, 1, 4, 4), size=2, mode="trilinear"),
    "bicubic 5d": lambda F, L: F.interpolate(L.ones(1, 1, 4, 4, 4), size=2, mode="bicubic"),
    "2d input": lambda F, L: F.interpolate(L.ones(4, 4), size=2),
    "6d input": lambda F, L: F.interpolate(L.ones(1, 1, 2, 2, 2, 2), size=2),
    "unknown mode": lambda F, L: F.interpolate(L.ones(1, 1, 4, 4), size=2, mode="foo"),
    "zero output": lambda F, L: F.interpolate(L.ones(1, 1, 4, 4), scale_factor=0.1),
    "zero output 1d": lambda F, L: F.interpolate(L.ones(1, 1, 4), size=0),
    "negative size": lambda F, L: F.interpolate(L.ones(1, 1, 4, 4, 4), size=(2, -1, 2), mode="trilinear"),
    "negative scale": lambda F, L: F.interpolate(L.ones(1, 1, 4, 4), scale_factor=-2.0, mode="bilinear"),
    "nan scale": lambda F, L: F.interpolate(L.ones(1, 1, 4, 4), scale_factor=float("nan")),
    "empty channels": lambda F, L: F.interpolate(L.ones(1, 0, 4, 4), size=2),
    "empty spatial": lambda F, L: F.interpolate(L.ones(1, 1, 0, 4), size=2, mode="bilinear"),
    "area empty spatial": lambda F, L: F.interpolate(L.ones(1, 1, 0, 4), size=2, mode="area"),
    "antialias nearest": lambda F, L: F.interpolate(L.ones(1, 1, 4, 4), size=2, antialias=True),
    "antialias 3d": lambda F, L: F.interpolate(L.ones(1, 1, 4), size=2, mode="linear", antialias=True),
    "lanczos without antialias": lambda F, L: F.interpolate(L.ones(1, 1, 4, 4), size=2, mode="lanczos"),
    "integer input": lambda F, L: F.interpolate(L.ones(1, 1, 4, 4, dtype=L.int64), size=2),
    "shuffle factor 0": lambda F, L: F.pixel_shuffle(L.ones(1, 4, 2, 2), 0),
    "shuffle channels": lambda F, L: F.pixel_shuffle(L.ones(1, 6, 2, 2), 2),
    "shuffle 2d": lambda F, L: F.pixel_shuffle(L.ones(4, 4), 2),
    "shuffle float factor": lambda F, L: F.pixel_shuffle(L.ones(1, 4, 2, 2), 2.0),
    "unshuffle height": lambda F, L: F.pixel_unshuffle(L.ones(1, 1, 5, 4), 2),
    "unshuffle width": lambda F, L: F.pixel_unshuffle(L.ones(1, 1, 4, 5), 2),
    "unshuffle factor": lambda F, L: F.pixel_unshuffle(L.ones(1, 1, 4, 4), -1),
    "unshuffle 2d": lambda F, L: F.pixel_unshuffle(L.ones(4, 4), 2),
    "module bad mode": lambda F, L: L.nn.Upsample(scale_factor=2, mode="linear")(L.ones(1, 1, 2, 2)),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_torch(name):
    ours, theirs = same_outcome(lambda L: ERRORS[name](L.nn.functional, L), raises=True, exact_type=True)
    e, t = ours.error, theirs.error
    if isinstance(t, (ValueError, RuntimeError)) and "ember" not in str(e) and name != "integer input":
        assert str(e).split(",")[0] == str(t).split(",")[0]


def test_antialias_not_implemented_names_it(device):
    with pytest.raises(NotImplementedError, match="antialias"):
        EF.interpolate(ember.ones(1, 1, 4, 4, device=device), size=2, mode="bilinear", antialias=True)


# ---------------------------------------------------------------- kernels


def _taps(mode, n_in, n_out, dtype=np.float64):
    from ember.plugins.vision._taps import axis_taps

    return axis_taps(mode, n_in, n_out, False if mode in ("linear", "cubic") else None, None, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cpu_kernel_matches_generic(dtype):
    _upsample = pytest.importorskip("ember.plugins.vision._upsample")
    interp, interp_adjoint = REGISTRY.generic("vision.interp", np), REGISTRY.generic("vision.interp_adjoint", np)

    x = _r((2, 3, 4, 5, 6), dtype, 7)
    for modes in [("linear",), ("cubic", "area"), ("nearest", "linear", "area")]:
        sizes_out = (7, 3, 9)[:len(modes)]
        sizes_in = x.shape[5 - len(modes):]
        taps = tuple(_taps(m, i, o, dtype) for m, i, o in zip(modes, sizes_in, sizes_out))
        y = _upsample.interp(x, taps, taps, sizes_in, sizes_out)
        np.testing.assert_allclose(y, interp(x, taps, taps, sizes_in, sizes_out), rtol=1e-5, atol=1e-6)
        g = _r(y.shape, dtype, 8)
        np.testing.assert_allclose(_upsample.interp_adjoint(g, taps, taps, sizes_in, sizes_out),
                                   interp_adjoint(g, taps, taps, sizes_in, sizes_out),
                                   rtol=1e-5, atol=1e-5)
        # <A x, g> == <x, A^T g>: the adjoint is the transpose
        np.testing.assert_allclose((y * g).sum(), (x * _upsample.interp_adjoint(g, taps, taps, sizes_in, sizes_out)).sum(),
                                   rtol=1e-4)


def test_cpu_kernel_rejects_bad_taps():
    _upsample = pytest.importorskip("ember.plugins.vision._upsample")
    x = np.ones((1, 1, 4))
    ptr, idx, w = _taps("linear", 4, 6)
    good = ((ptr, idx, w),)
    with pytest.raises(IndexError):
        _upsample.interp(x, ((ptr, idx + 4, w),), good, (4,), (6,))
    with pytest.raises(IndexError):
        _upsample.interp_adjoint(np.ones((1, 1, 6)), good, ((ptr, idx - 10, w),), (4,), (6,))
    with pytest.raises(ValueError):
        _upsample.interp(x, ((ptr[:-1], idx, w),), good, (4,), (6,))
    with pytest.raises(ValueError):
        _upsample.interp(x, ((ptr[::-1].copy(), idx, w),), good, (4,), (6,))
    with pytest.raises(ValueError):
        _upsample.interp(np.ones((1, 1, 5)), good, good, (4,), (6,))
    with pytest.raises(ValueError):
        _upsample.interp_adjoint(np.ones((1, 1, 5)), good, good, (4,), (6,))


def test_taps_are_rows_of_the_torch_matrix():
    # each output's weights sum to one for the averaging modes
    for mode in ["linear", "cubic", "area", "nearest", "nearest-exact"]:
        ptr, idx, w = _taps(mode, 7, 12)
        sums = np.add.reduceat(w, ptr[:-1])
        np.testing.assert_allclose(sums, 1.0, rtol=1e-12)


# ---------------------------------------------------------------- every backend


@pytest.mark.parametrize("mode,nd,kw", [
    ("nearest", 2, dict(scale_factor=1.7)), ("bilinear", 2, dict(scale_factor=2)),
    ("bicubic", 2, dict(size=(3, 7), align_corners=True)), ("trilinear", 3, dict(scale_factor=0.6)),
    ("area", 2, dict(size=(3, 3))), ("nearest-exact", 1, dict(size=9)), ("linear", 1, dict(scale_factor=2.5)),
])
def test_interpolate_on_each_backend(mode, nd, kw, device):
    check(_interp(mode=mode, **kw), [_r((2, 3) + SPATIAL[nd], seed=9)], device=device)


def test_pixel_shuffle_on_each_backend(device):
    check(lambda t: (EF if isinstance(t, ember.Tensor) else TF).pixel_shuffle(t, 2),
          [_r((2, 8, 3, 2), seed=10)], device=device)
    check(lambda t: (EF if isinstance(t, ember.Tensor) else TF).pixel_unshuffle(t, 3),
          [_r((2, 1, 3, 6), seed=11)], device=device)


def test_upsample_module_on_each_backend(device):
    e_m, t_m = _module_pair("Upsample", scale_factor=2, mode="bilinear")
    x = _r((1, 2, 3, 4), seed=12)
    check(lambda t: (e_m if isinstance(t, ember.Tensor) else t_m)(t), [x], device=device)


# ---------------------------------------------------------------- affine_grid


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (1, 1, 1, 3), (2, 1, 7, 1), (2, 3, 3, 4, 2), (1, 2, 1, 2, 3)])
@pytest.mark.parametrize("align", [False, True])
def test_affine_grid(size, align, dtype):
    theta = _r((size[0],) + ((2, 3) if len(size) == 4 else (3, 4)), dtype, 13)

    def fn(t):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unit-size grids with align_corners=True warn
            return (EF if isinstance(t, ember.Tensor) else TF).affine_grid(t, size, align_corners=align)
    check(fn, [theta])


def test_affine_grid_warnings_and_errors(device):
    theta = ember.zeros(1, 2, 3, device=device)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        EF.affine_grid(theta, (1, 1, 2, 2))
    with pytest.warns(UserWarning, match="unit-size grids"):
        EF.affine_grid(theta, (1, 1, 1, 2), align_corners=True)
    for call in [lambda F, L: F.affine_grid(L.zeros(1, 2, 3), (1, 1, 2, 2, 2), align_corners=False),
                 lambda F, L: F.affine_grid(L.zeros(1, 3, 4), (1, 1, 2, 2), align_corners=False),
                 lambda F, L: F.affine_grid(L.zeros(1, 2, 3), (1, 2, 2), align_corners=False),
                 lambda F, L: F.affine_grid(L.zeros(1, 2, 3, dtype=L.int64), (1, 1, 2, 2), align_corners=False),
                 lambda F, L: F.affine_grid(L.zeros(1, 2, 3), (1, 0, 2, 2), align_corners=False),
                 lambda F, L: F.affine_grid(L.zeros(3, 2, 3), (2, 1, 4, 4), align_corners=False)]:
        same_outcome(lambda L: call(L.nn.functional, L), raises=True, exact_type=True)


# ------------------------------------------------------------------ grid_sample

_GRID_CASES = [(d, m, p, a) for d in (4, 5) for m in ("bilinear", "nearest", "bicubic")
               for p in ("zeros", "border", "reflection") for a in (False, True)
               if not (d == 5 and m == "bicubic")]


def _grid_inputs(dims, dtype, seed=0, spread=1.6):
    rng = np.random.default_rng(seed)
    shape, gshape = ((2, 3, 5, 6), (2, 4, 7, 2)) if dims == 4 else ((2, 2, 3, 4, 5), (2, 3, 4, 2, 3))
    return rng.standard_normal(shape).astype(dtype), rng.uniform(-spread, spread, gshape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("dims,mode,padding,align", _GRID_CASES)
def test_grid_sample_matches_torch(dims, mode, padding, align, dtype, device):
    x, g = _grid_inputs(dims, dtype)
    results = []
    for lib in (ember, torch):
        xt, gt = lib_tensor(lib, x, device, requires_grad=True), lib_tensor(lib, g, device, requires_grad=True)
        out = lib.nn.functional.grid_sample(xt, gt, mode=mode, padding_mode=padding, align_corners=align)
        weights = lib_tensor(lib, np.random.default_rng(1).standard_normal(tuple(out.shape)).astype(dtype), device)
        (out * weights).sum().backward()
        results.append((out, xt.grad, gt.grad))
    kw = dict(rtol=1e-7, atol=1e-9) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-4)
    for e, t, what in zip(results[0], results[1], ("output", "input grad", "grid grad")):
        assert e.dtype.name == str(t.dtype).replace("torch.", "")
        np.testing.assert_allclose(as_numpy(e), as_numpy(t), err_msg=what, **kw)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("padding", ["zeros", "border", "reflection"])
def test_grid_sample_gradcheck(mode, padding, device):
    x, g = _grid_inputs(4, np.float64, seed=3, spread=1.2)
    x = ember.tensor(x[:1, :1, :3, :4], device=device, requires_grad=True)
    g = ember.tensor(g[:1, :2, :3], device=device, requires_grad=True)
    fn = lambda a, b: EF.grid_sample(a, b, mode=mode, padding_mode=padding, align_corners=False)  # noqa: E731
    assert ember.autograd.gradcheck(fn, (x, g))
    assert ember.autograd.gradgradcheck(fn, (x, g))


def test_grid_sample_identity_grid_and_default_warning(device):
    img = ember.arange(20.0, device=device).reshape(1, 1, 4, 5)
    grid = EF.affine_grid(ember.tensor([[[1.0, 0, 0], [0, 1.0, 0]]], device=device), (1, 1, 4, 5), align_corners=False)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        out = EF.grid_sample(img, grid)
    np.testing.assert_allclose(as_numpy(out), as_numpy(img), atol=1e-5)


@pytest.mark.parametrize("make", [
    lambda L: L.nn.functional.grid_sample(L.ones(2, 3, 4, 5), L.ones(2, 6, 7, 2, dtype=L.float64), align_corners=False),
    lambda L: L.nn.functional.grid_sample(L.ones(2, 3, 4, 5), L.ones(2, 6, 7, 3), align_corners=False),
    lambda L: L.nn.functional.grid_sample(L.ones(2, 3, 4, 5), L.ones(1, 6, 7, 2), align_corners=False),
    lambda L: L.nn.functional.grid_sample(L.ones(2, 3, 4, 5), L.ones(2, 6, 2), align_corners=False),
    lambda L: L.nn.functional.grid_sample(L.ones(1, 1, 2, 2, 2), L.ones(1, 1, 1, 1, 3), mode="bicubic",
                                          align_corners=False),
    lambda L: L.nn.functional.grid_sample(L.ones(2, 3, 0, 5), L.ones(2, 6, 7, 2), align_corners=False),
    lambda L: L.nn.functional.grid_sample(L.ones(2, 3, 4, 5).long(), L.ones(2, 6, 7, 2).long(),
                                          align_corners=False),
    lambda L: L.nn.functional.grid_sample(L.ones(2, 3, 4, 5), L.ones(2, 6, 7, 2), mode="area"),
    lambda L: L.nn.functional.grid_sample(L.ones(2, 3, 4, 5), L.ones(2, 6, 7, 2), padding_mode="wrap"),
])
def test_grid_sample_errors_like_torch(make):
    same_outcome(make, raises=True)
