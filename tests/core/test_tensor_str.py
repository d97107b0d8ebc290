"""format_tensor must print exactly what torch prints for the same data (torch -> ember)."""

import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ember._tensor_str import (  # noqa: E402
    PRINT_OPTS,
    PrintOptions,
    format_tensor,
    get_printoptions,
    printoptions,
    set_printoptions,
)

_TORCH_DEFAULT_OPTS = dict(precision=4, threshold=1000, edgeitems=3, linewidth=80, sci_mode=None)


@pytest.fixture(autouse=True)
def _restore_options():
    yield
    torch.set_printoptions(profile="default", sci_mode=None)
    torch.set_default_dtype(torch.float32)
    set_printoptions(profile="default", sci_mode=None)


def _expected(t):
    return repr(t).replace("torch.", "ember.")


def _ours(t, **kwargs):
    suffixes = []
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{type(t.grad_fn).__name__}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    default = torch.get_default_dtype()
    default_complex = torch.complex128 if default == torch.float64 else torch.complex64
    return format_tensor(
        t.detach().numpy(),
        dtype_name=str(t.dtype).replace("torch.", "ember."),
        is_default_dtype=t.dtype in (default, default_complex),
        suffixes=suffixes,
        **kwargs,
    )


def _check(t, **kwargs):
    assert _ours(t, **kwargs) == _expected(t)


def _rng(seed):
    return np.random.default_rng(seed)


# ---------------------------------------------------------------- float cases


def _float_cases():
    cases = []
    r = _rng(0)
    for scale in [1e-8, 1e-5, 1e-4, 1e-3, 0.1, 1.0, 10.0, 123.0, 1e3, 1e4, 1e5, 1e7, 1e8, 1e9, 1e12]:
        cases.append((f"normal-1d-{scale:g}", r.standard_normal(7) * scale))
        cases.append((f"normal-2d-{scale:g}", r.standard_normal((3, 5)) * scale))
    cases += [
        ("integral", np.array([1.0, 2.0, 3.0])),
        ("integral-neg", np.array([-1.0, 20.0, -300.0])),
        ("integral-big", np.array([1.0, 1e8, 2.0])),
        ("integral-huge", np.array([1e9, -3.0])),
        ("integral-sci-ratio", np.array([1.0, 5000.0])),
        ("halves", np.array([0.5, 1.5, -2.5])),
        ("zeros", np.zeros(4)),
        ("neg-zero", np.array([-0.0, 0.0])),
        ("neg-zero-mixed", np.array([-0.0, 1.5, 2.25])),
        ("neg-zero-int", np.array([-0.0, 1.0, 10.0])),
        ("nan-only", np.array([np.nan, np.nan])),
        ("inf-only", np.array([np.inf, -np.inf])),
        ("nan-inf-int", np.array([np.nan, np.inf, -np.inf, 1.0, 2.0])),
        ("nan-inf-frac", np.array([np.nan, np.inf, -np.inf, 1.25, 2.5])),
        ("nan-inf-sci", np.array([np.nan, np.inf, 1e-7, 3.0])),
        ("nan-zero", np.array([np.nan, 0.0])),
        ("tiny-and-big", np.array([1e-10, 1e10])),
        ("double-extremes", np.array([1e308, 5e-324, -1.7e308])),
        ("ratio-1000", np.array([1.0, 1000.0, 0.5])),
        ("ratio-just-over", np.array([1.0, 1000.5])),
        ("min-1e-4", np.array([1e-4, 0.5])),
        ("rounding-9999", np.array([0.99999, 9.99995, -99.99995])),
        ("one-long-row", np.linspace(-1, 1, 40)),
        ("long-row-ints", np.arange(60, dtype=np.float64)),
        ("sci-long-row", np.logspace(-6, 6, 30)),
        ("3d", r.standard_normal((2, 3, 4))),
        ("4d", r.standard_normal((2, 2, 2, 3))),
        ("5d", r.standard_normal((2, 1, 2, 1, 2))),
        ("3d-wide", r.standard_normal((2, 3, 20))),
        ("column", r.standard_normal((5, 1))),
        ("row-2d", r.standard_normal((1, 30))),
        ("singleton-3d", np.array([[[2.5]]])),
        ("summarized-1d", r.standard_normal(2000)),
        ("summarized-2d", r.standard_normal((100, 100))),
        ("summarized-3d", r.standard_normal((20, 10, 10))),
        ("summarized-short-rows", r.standard_normal((1001, 2))),
        ("summarized-wide", r.standard_normal((3, 1000)) * 1e6),
        ("summarized-4d", r.standard_normal((8, 8, 8, 8))),
        ("summarized-hidden-sci", np.concatenate([[1.0], np.full(2000, 1e-9), [2.0]])),
        ("summarized-exact-edge", r.standard_normal((7, 150))),
    ]
    return cases


_FLOAT_CASES = _float_cases()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
@pytest.mark.parametrize("name,data", _FLOAT_CASES, ids=[c[0] for c in _FLOAT_CASES])
def test_float(name, data, dtype):
    with np.errstate(over="ignore"):
        _check(torch.tensor(data, dtype=dtype))


@pytest.mark.parametrize("name,data", _FLOAT_CASES, ids=[c[0] for c in _FLOAT_CASES])
def test_float_requires_grad(name, data):
    _check(torch.tensor(data, dtype=torch.float32, requires_grad=True))


@pytest.mark.parametrize("name,data", _FLOAT_CASES[::4], ids=[c[0] for c in _FLOAT_CASES[::4]])
def test_float_grad_fn(name, data):
    leaf = torch.tensor(data, dtype=torch.float64, requires_grad=True)
    _check(leaf * 2)
    _check(leaf + 1)


def test_bfloat16_from_float32_storage():
    data = _rng(1).standard_normal((4, 4)).astype(np.float32)
    t = torch.tensor(data).to(torch.bfloat16)
    got = format_tensor(t.float().numpy(), dtype_name="ember.bfloat16", is_default_dtype=False)
    assert got == _expected(t)


# -------------------------------------------------------------- scalars (0-d)

_SCALARS = [3.0, -3.0, 0.0, -0.0, 0.5, 1e-5, 1e10, 123456.789, float("nan"), float("inf"), -float("inf"), 1e8, 2.0**60]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
@pytest.mark.parametrize("value", _SCALARS, ids=[repr(v) for v in _SCALARS])
def test_scalar_float(value, dtype):
    _check(torch.tensor(value, dtype=dtype))
    _check(torch.tensor(value, dtype=dtype, requires_grad=True))


@pytest.mark.parametrize("value,dtype", [
    (value, dtype) for dtype in (torch.int64, torch.int32, torch.int8, torch.uint8, torch.int16)
    for value in (0, 7, -7, 2**40, -(2**63)) if torch.iinfo(dtype).min <= value <= torch.iinfo(dtype).max])
def test_scalar_int(value, dtype):
    _check(torch.tensor(value, dtype=dtype))


@pytest.mark.parametrize("value", [True, False])
def test_scalar_bool(value):
    _check(torch.tensor(value))


def test_scalar_grad_fn():
    x = torch.tensor(2.0, requires_grad=True)
    _check(x * 3)
    _check((x * x).sum())


# ----------------------------------------------------------- integers / bools

_INT_DTYPES = {
    torch.int64: np.int64,
    torch.int32: np.int32,
    torch.int16: np.int16,
    torch.int8: np.int8,
    torch.uint8: np.uint8,
}


def _int_cases():
    r = _rng(2)
    return [
        ("small", np.array([1, 2, 3])),
        ("neg", np.array([-1, 10, -100])),
        ("width", np.array([[1, 22222], [333, 4]])),
        ("zeros", np.zeros((2, 3), dtype=np.int64)),
        ("rand-2d", r.integers(-100, 100, (4, 6))),
        ("rand-3d", r.integers(0, 120, (2, 3, 4))),
        ("long-row", np.arange(100)),
        ("summarized", np.arange(5000).reshape(50, 100)),
        ("summarized-1d", np.arange(1001)),
        ("summarized-3d", r.integers(-120, 120, (11, 11, 11))),
        ("4d", r.integers(-5, 5, (2, 2, 3, 2))),
    ]


_INT_CASES = _int_cases()


@pytest.mark.parametrize("dtype", list(_INT_DTYPES))
@pytest.mark.parametrize("name,data", _INT_CASES, ids=[c[0] for c in _INT_CASES])
def test_int(name, data, dtype):
    np_dtype = _INT_DTYPES[dtype]
    info = np.iinfo(np_dtype)
    data = np.clip(data, info.min, info.max).astype(np_dtype)
    _check(torch.tensor(data, dtype=dtype))


def test_int64_extremes():
    _check(torch.tensor([np.iinfo(np.int64).min, 0, np.iinfo(np.int64).max]))


@pytest.mark.parametrize(
    "data",
    [
        np.array([True, False, True]),
        np.array([True, True]),
        np.array([[True], [False]]),
        _rng(3).random((4, 5, 6)) > 0.5,
        _rng(4).random(3000) > 0.5,
        np.ones((40, 40), dtype=bool),
    ],
    ids=["mixed", "all-true", "column", "3d", "summarized", "summarized-2d"],
)
def test_bool(data):
    _check(torch.tensor(data))


# ------------------------------------------------------------------- complex


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
@pytest.mark.parametrize(
    "data",
    [
        np.array([1 + 2j, -3 - 4j]),
        np.array([0.5 - 0.25j, 1e-6 + 3j]),
        np.array([[1j, -0.0 - 1j], [2.0, np.nan + 1j]]),
        np.array(1.5 - 2j),
        (_rng(5).standard_normal(2000) + 1j * _rng(6).standard_normal(2000)),
    ],
    ids=["simple", "sci-imag", "2d-special", "scalar", "summarized"],
)
def test_complex(data, dtype):
    _check(torch.tensor(data, dtype=dtype))


# --------------------------------------------------------------------- empty

_EMPTY_SHAPES = [(0,), (0, 3), (3, 0), (2, 0, 4), (0, 0), (1, 0)]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.int64, torch.int32, torch.uint8, torch.bool, torch.complex64])
@pytest.mark.parametrize("shape", _EMPTY_SHAPES, ids=[str(s) for s in _EMPTY_SHAPES])
def test_empty(shape, dtype):
    _check(torch.zeros(shape, dtype=dtype))
    if dtype.is_floating_point:
        _check(torch.zeros(shape, dtype=dtype, requires_grad=True))


# ------------------------------------------------------------- default dtype


_DEFAULT_DTYPE_DATA = {"float": np.array([1.5, 2.0]), "int": np.array([1, 2]), "empty": np.zeros((0, 2)),
                       "scalar": np.array(2.0), "complex": np.array([1 + 1j])}


# an explicit dtype converts float data only
@pytest.mark.parametrize("name,dtype", [
    (name, dtype) for dtype in (torch.float32, torch.float64, None) for name, data in _DEFAULT_DTYPE_DATA.items()
    if dtype is None or data.dtype.kind not in "ic"])
def test_default_dtype_float64(name, dtype):
    torch.set_default_dtype(torch.float64)
    _check(torch.tensor(_DEFAULT_DTYPE_DATA[name], dtype=dtype))


# ------------------------------------------------------------- print options

_OPTION_SETS = [
    dict(precision=2),
    dict(precision=8),
    dict(precision=0),
    dict(threshold=5),
    dict(threshold=5, edgeitems=1),
    dict(threshold=5, edgeitems=0),
    dict(edgeitems=0),
    dict(linewidth=40),
    dict(linewidth=200),
    dict(linewidth=5),
    dict(sci_mode=True),
    dict(sci_mode=False),
    dict(profile="short"),
    dict(profile="full"),
    dict(profile="short", precision=6),
]

_OPTION_DATA = [
    np.array([1.123456789, -22.5, 3e-3]),
    np.array([1.0, 2.0, 3.0]),
    np.array([1e-9, 5.0]),
    np.array(0.25),
    np.array(7),
    np.arange(12.0).reshape(3, 4) / 7,
    np.arange(24).reshape(2, 3, 4),
    _rng(7).standard_normal(1500),
    _rng(8).standard_normal((40, 40)),
    np.array([np.nan, 1.5, np.inf]),
    np.linspace(0, 1, 30),
]


@pytest.mark.parametrize("opts", _OPTION_SETS, ids=[str(o) for o in _OPTION_SETS])
@pytest.mark.parametrize("index", range(len(_OPTION_DATA)))
def test_set_printoptions(opts, index):
    torch.set_printoptions(**opts)
    set_printoptions(**opts)
    t = torch.tensor(_OPTION_DATA[index])
    _check(t)
    if t.dtype.is_floating_point:
        _check(t.float().requires_grad_())


@pytest.mark.parametrize("opts", _OPTION_SETS, ids=[str(o) for o in _OPTION_SETS])
def test_printoptions_argument(opts):
    torch.set_printoptions(**opts)
    resolved = {k: v for k, v in get_printoptions_of_torch().items()}
    for data in _OPTION_DATA:
        t = torch.tensor(data)
        assert _ours(t, printoptions=resolved) == _expected(t)
        assert _ours(t, printoptions=PrintOptions(**resolved)) == _expected(t)
    # The argument must not leak into the global options.
    assert get_printoptions() == _TORCH_DEFAULT_OPTS


def get_printoptions_of_torch():
    return torch._tensor_str.get_printoptions()


def test_printoptions_partial_mapping_uses_globals():
    set_printoptions(precision=2)
    t = torch.tensor([1.23456, 2.5])
    torch.set_printoptions(precision=2, linewidth=20)
    assert _ours(t, printoptions={"linewidth": 20}) == _expected(t)


def test_printoptions_context_manager():
    with printoptions(precision=1, sci_mode=True):
        assert PRINT_OPTS.precision == 1
        assert PRINT_OPTS.sci_mode is True
    assert get_printoptions() == _TORCH_DEFAULT_OPTS


def test_set_printoptions_matches_torch_state():
    steps = [
        dict(profile="short"),
        dict(precision=7),
        dict(profile="full", sci_mode=True),
        dict(linewidth=120),
        dict(profile="default"),
        dict(profile="no-such-profile", edgeitems=5),
    ]
    for step in steps:
        torch.set_printoptions(**step)
        set_printoptions(**step)
        assert get_printoptions() == torch._tensor_str.get_printoptions()


# ------------------------------------------------------- suffixes and device


def test_suffix_wraps_at_linewidth():
    # Rows whose last line is just short of the width push the suffix to a new line.
    for n in range(1, 16):
        t = torch.arange(n, dtype=torch.float64).mul_(1.25).requires_grad_()
        _check(t)
        _check(t * 2)
        _check(torch.arange(n * 7, dtype=torch.float64).reshape(n, 7).requires_grad_())


def test_device_suffix_first():
    got = format_tensor(
        np.array([1.0, 2.0], dtype=np.float64),
        dtype_name="ember.float64",
        is_default_dtype=False,
        device="cuda:0",
        suffixes=["requires_grad=True"],
    )
    assert got == "tensor([1., 2.], device='cuda:0', dtype=ember.float64, requires_grad=True)"


def test_device_suffix_wraps():
    got = format_tensor(
        np.arange(17, dtype=np.float32),
        dtype_name="ember.float32",
        is_default_dtype=True,
        device="cuda:1",
        suffixes=["grad_fn=<AddBackward0>"],
    )
    assert got == (
        "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n"
        "        14., 15., 16.], device='cuda:1', grad_fn=<AddBackward0>)"
    )


def test_device_suffix_empty():
    got = format_tensor(np.zeros((0, 2), np.int32), dtype_name="ember.int32", is_default_dtype=False, device="cuda:0")
    assert got == "tensor([], device='cuda:0', size=(0, 2), dtype=ember.int32)"


def test_custom_prefix_indents():
    data = np.arange(6.0).reshape(2, 3)
    got = format_tensor(data, dtype_name="ember.float32", is_default_dtype=True, prefix="Parameter")
    assert got == "Parameter([[0., 1., 2.],\n           [3., 4., 5.]])"


def test_non_contiguous_input():
    data = _rng(9).standard_normal((6, 8))[::2, ::-3].T
    _check(torch.tensor(np.ascontiguousarray(data)))
    t = torch.tensor(np.ascontiguousarray(data))
    assert format_tensor(data, dtype_name="ember.float64", is_default_dtype=False) == _expected(t)


# ------------------------------------------------------------------- fuzzing


def _fuzz_array(r):
    ndim = int(r.integers(0, 5))
    shape = tuple(int(s) for s in r.integers(1, 6, ndim))
    if r.random() < 0.1:
        shape = tuple(int(s) for s in r.integers(20, 40, max(ndim, 1)))
    kind = r.choice(["float", "int", "bool"], p=[0.7, 0.2, 0.1])
    if kind == "bool":
        return r.random(shape) > 0.5
    if kind == "int":
        return r.integers(-(10 ** int(r.integers(1, 12))), 10 ** int(r.integers(1, 12)), shape)
    scale = 10.0 ** r.uniform(-9, 12)
    data = r.standard_normal(shape) * scale
    if r.random() < 0.3:
        data = np.round(data)
    if r.random() < 0.3 and data.size:
        flat = data.reshape(-1)
        picks = r.integers(0, flat.size, max(1, flat.size // 4))
        flat[picks] = r.choice([np.nan, np.inf, -np.inf, 0.0, -0.0], picks.size)
        data = flat.reshape(shape)
    return data


@pytest.mark.parametrize("seed", range(300))
def test_fuzz(seed):
    r = _rng(1000 + seed)
    data = _fuzz_array(r)
    dtypes = {"f": [torch.float32, torch.float64, torch.float16], "i": [torch.int64, torch.int32], "b": [torch.bool]}
    dtype = dtypes[data.dtype.kind][seed % len(dtypes[data.dtype.kind])]
    with np.errstate(over="ignore", invalid="ignore"):
        t = torch.tensor(data).to(dtype)
    _check(t)
    if dtype.is_floating_point:
        _check(t.clone().requires_grad_())


@pytest.mark.parametrize("threshold,edgeitems,linewidth", list(itertools.product([3, 50], [1, 2, 4], [30, 80, 120])))
def test_fuzz_with_options(threshold, edgeitems, linewidth):
    torch.set_printoptions(threshold=threshold, edgeitems=edgeitems, linewidth=linewidth)
    set_printoptions(threshold=threshold, edgeitems=edgeitems, linewidth=linewidth)
    r = _rng(threshold * 1000 + edgeitems * 10 + linewidth)
    for _ in range(15):
        data = _fuzz_array(r)
        _check(torch.tensor(data))
