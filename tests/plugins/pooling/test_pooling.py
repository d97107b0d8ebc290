"""Windowed pooling (MaxPool, MaxUnpool, AvgPool, LPPool in 1-3 d) against torch 2.13."""

import numpy as np
import pytest

import ember
import ember.nn.functional as EF
from ember.backend import REGISTRY
from tests.oracle import as_numpy, assert_same, check, same_outcome, synchronize_device, torch

TF = torch.nn.functional
DTYPES = [np.float64, np.float32]


def _r(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _fn(nd, kind):
    return f"{kind}_pool{nd}d"


# --------------------------------------------------------------- max pooling

# (nd, input shape, kernel, stride, padding, dilation, ceil_mode)
MAX_GRID = [
    (1, (2, 3, 9), 2, None, 0, 1, False),
    (1, (2, 3, 10), 3, 2, 1, 2, True),
    (1, (3, 11), 4, 3, 2, 1, True),                     # unbatched
    (2, (2, 3, 7, 6), 2, None, 0, 1, False),
    (2, (1, 2, 9, 8), 3, 2, 1, 1, False),
    (2, (2, 2, 9, 8), 3, 2, 1, 1, True),
    (2, (2, 2, 8, 9), (3, 2), (2, 1), (1, 0), (2, 1), False),
    (2, (2, 2, 10, 7), (3, 3), (3, 2), (1, 1), (1, 2), True),
    (2, (3, 7, 5), 3, 1, 1, 1, False),                  # unbatched
    (3, (2, 2, 5, 6, 5), 2, None, 0, 1, False),
    (3, (1, 2, 6, 7, 5), (3, 2, 3), (2, 1, 2), (1, 1, 0), (1, 2, 1), True),
    (3, (2, 5, 4, 6), 3, 2, 1, 1, True),                # unbatched
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("nd,shape,k,s,p,d,ceil", MAX_GRID)
def test_max_pool_values_indices_grads(nd, shape, k, s, p, d, ceil, dtype):
    def fn(lib):
        F = EF if lib == "e" else TF
        return lambda x: getattr(F, f"max_pool{nd}d")(x, k, s, p, d, ceil_mode=ceil, return_indices=True)
    check(fn("e"), [_r(shape, dtype)], fn("t"), gradcheck=dtype == np.float64)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_max_pool_with_indices_functions_and_plain(nd, device):
    x = _r((2, 3) + (7,) * nd)
    e, t = ember.tensor(x, device=device), torch.tensor(x)
    ey, ei = getattr(EF, f"max_pool{nd}d_with_indices")(e, 3, 2, 1)
    ty, ti = getattr(TF, f"max_pool{nd}d_with_indices")(t, 3, 2, 1)
    assert_same(ey, ty)
    assert_same(ei, ti)
    assert_same(getattr(EF, f"max_pool{nd}d")(e, 3, 2, 1), getattr(TF, f"max_pool{nd}d")(t, 3, 2, 1))


def test_max_pool_nan_and_ties_as_torch(device):
    nan = float("nan")
    x = np.array([[[1.0, nan, 3.0, nan, 2.0, 5.0, 5.0, 4.0, 4.0, -np.inf, -np.inf]]])
    for args in [(3, 1), (2, 2), (4, 3, 2)]:
        ey, ei = EF.max_pool1d(ember.tensor(x, device=device), *args, return_indices=True)
        ty, ti = TF.max_pool1d(torch.tensor(x), *args, return_indices=True)
        assert_same(ey, ty)
        assert_same(ei, ti)
    x2 = np.array([[[[1.0, nan], [nan, 2.0]], [[7.0, 7.0], [7.0, 1.0]]]])
    ey, ei = EF.max_pool2d(ember.tensor(x2, device=device), 2, return_indices=True)
    ty, ti = TF.max_pool2d(torch.tensor(x2), 2, return_indices=True)
    assert_same(ey, ty)
    assert_same(ei, ti)


def test_max_pool_non_contiguous_input_and_grad():
    x = _r((4, 3, 10, 12))
    check(lambda a: EF.max_pool2d(a.transpose(2, 3)[:, :, ::2], 2, 1, 1),
          [x], lambda a: TF.max_pool2d(a.transpose(2, 3)[:, :, ::2], 2, 1, 1))
    check(lambda a: EF.avg_pool2d(a.permute(1, 0, 3, 2), 3, 2, 1),
          [x], lambda a: TF.avg_pool2d(a.permute(1, 0, 3, 2), 3, 2, 1))


def test_max_pool_empty_batch(device):
    e = EF.max_pool2d(ember.zeros(0, 3, 4, 4, device=device), 2)
    assert tuple(e.shape) == (0, 3, 2, 2)
    assert tuple(EF.avg_pool1d(ember.zeros(0, 3, 4, device=device), 2).shape) == (0, 3, 2)


# ------------------------------------------------------------- average pooling

# (nd, shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
AVG_GRID = [
    (1, (2, 3, 9), 2, None, 0, False, True, None),
    (1, (2, 3, 10), 3, 2, 1, True, True, None),
    (1, (3, 10), 3, 2, 1, True, False, None),           # unbatched
    (2, (2, 3, 7, 6), 2, None, 0, False, True, None),
    (2, (1, 2, 9, 8), 3, 2, 1, False, False, None),
    (2, (2, 2, 8, 8), 3, 2, 1, True, True, None),       # ceil windows past the padded edge
    (2, (2, 2, 8, 8), 3, 2, 1, True, False, None),
    (2, (2, 2, 9, 7), (3, 2), (2, 1), (1, 0), True, True, 5),
    (2, (2, 5, 6), 2, 1, 1, False, True, -3),           # unbatched, negative divisor
    (3, (2, 2, 5, 6, 5), 2, None, 0, False, True, None),
    (3, (1, 2, 6, 7, 5), (3, 2, 3), (2, 1, 2), (1, 1, 0), True, False, None),
    (3, (2, 5, 4, 6), 3, 2, 1, True, True, 7),          # unbatched
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("nd,shape,k,s,p,ceil,cip,div", AVG_GRID)
def test_avg_pool(nd, shape, k, s, p, ceil, cip, div, dtype):
    extra = () if nd == 1 else (div,)

    def fn(F):
        return lambda x: getattr(F, f"avg_pool{nd}d")(x, k, s, p, ceil, cip, *extra)
    check(fn(EF), [_r(shape, dtype)], fn(TF), gradcheck=dtype == np.float64)


@pytest.mark.parametrize("nd,shape,k,s,p,ceil,cip,div", AVG_GRID)
def test_avg_pool_of_integers_truncates_toward_zero(nd, shape, k, s, p, ceil, cip, div):
    """int64 input gives int64 averages, each sum divided and truncated toward zero
    (negative sums and divisors included), as torch's CPU kernels divide."""
    extra = () if nd == 1 else (div,)
    x = np.random.default_rng(1).integers(-50, 50, shape)

    def fn(F):
        return lambda x: getattr(F, f"avg_pool{nd}d")(x, k, s, p, ceil, cip, *extra)
    check(fn(EF), [x], fn(TF), grad=False)


# (fn, input shape, kernel, stride, padding, dilation, count_include_pad): the first
# window, with ceil_mode, reaches past the padded input; torch pools what it covers
# (avg_pool3d alone refuses an input smaller than its kernel, tested below)
CEIL_PAST_THE_INPUT = [
    ("max_pool1d", (1, 1, 3), 4, 3, 0, 1, None),
    ("max_pool1d", (2, 1, 2), 3, 4, 0, 2, None),
    ("max_pool2d", (2, 1, 7, 5), 4, 3, 0, 2, None),
    ("max_pool3d", (1, 1, 2, 3, 6), 3, None, 0, 1, None),
    ("avg_pool1d", (1, 1, 1), 3, 3, 0, None, False),
    ("avg_pool2d", (3, 1, 1, 1), 3, None, 0, None, False),
    ("avg_pool2d", (1, 2, 6, 3), 4, 3, 1, None, True),
    ("lp_pool1d", (3, 3, 2), 3, 3, None, None, None),
    ("lp_pool2d", (1, 2, 7, 3), 4, 3, None, None, None),
]


@pytest.mark.parametrize("fn,shape,k,s,p,d,cip", CEIL_PAST_THE_INPUT)
def test_ceil_mode_windows_reaching_past_the_padded_input(fn, shape, k, s, p, d, cip):
    """With ceil_mode a window may start inside the input and reach past its padded
    end, the first one too: torch pools the elements it covers (it refuses the call
    only when no window starts inside)."""
    def call(F):
        if fn.startswith("lp"):
            return lambda x: getattr(F, fn)(x.abs() + 0.5, 2, k, s, ceil_mode=True)
        if fn.startswith("max"):
            return lambda x: getattr(F, fn)(x, k, s, p, d, ceil_mode=True, return_indices=True)
        return lambda x: getattr(F, fn)(x, k, s, p, ceil_mode=True, count_include_pad=cip)
    check(call(EF), [_r(shape)], call(TF))


def test_avg_pool_grad_fn_names(device):
    x = ember.randn(2, 3, 4, 4, 4, requires_grad=True, device=device)
    assert EF.avg_pool2d(x[0], 2).grad_fn.name() == "AvgPool2DBackward0"
    assert EF.avg_pool3d(x, 2).grad_fn.name() == "AvgPool3DBackward0"
    assert EF.max_pool2d(x[0], 2).grad_fn.name() == "MaxPool2DWithIndicesBackward0"
    assert EF.max_pool3d(x, 2).grad_fn.name() == "MaxPool3DWithIndicesBackward0"
    assert EF.max_pool1d(x[0, 0], 2).grad_fn.name() == "SqueezeBackward1"
    assert EF.avg_pool1d(x[0, 0], 2).grad_fn.name() == "SqueezeBackward1"


# ------------------------------------------------------- power-average pooling

# (nd, shape, norm_type, kernel, stride, ceil_mode, positive input)
LP_GRID = [
    (1, (2, 3, 9), 2.0, 3, None, False, False),
    (1, (3, 10), 1.5, 3, 2, True, True),
    (2, (2, 3, 7, 6), 2, 2, None, False, False),
    (2, (2, 2, 9, 8), 3.0, (3, 2), (2, 1), True, True),
    (2, (2, 2, 9, 8), 3.0, (3, 2), (2, 1), True, False),    # negative sums clipped
    (2, (2, 7, 6), 1, 2, 1, False, True),
    (2, (2, 3, 7, 6), float("inf"), 3, 2, True, False),
    (3, (1, 2, 5, 6, 5), 2.0, 2, None, False, False),
    (3, (2, 5, 4, 6), 1.5, (3, 2, 2), (2, 1, 2), True, True),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("nd,shape,norm,k,s,ceil,positive", LP_GRID)
def test_lp_pool(nd, shape, norm, k, s, ceil, positive, dtype):
    x = _r(shape, dtype)
    if positive:
        x = np.abs(x) + 0.1

    def fn(F):
        return lambda a: getattr(F, f"lp_pool{nd}d")(a, norm, k, s, ceil)
    # an odd power of mixed signs clips negative window sums to 0, where the
    # gradient is not defined (torch and ember give the same NaN/0 there)
    smooth = positive or norm in (2, float("inf"))
    if not smooth and dtype == np.float32:
        # gradients near a clipped (zero) window are huge: compare values only
        return check(fn(EF), [x], fn(TF), grad=False)
    check(fn(EF), [x], fn(TF), gradcheck=dtype == np.float64 and smooth)


def test_lp_pool_zero_window_gives_zero_gradient():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 2:, 2:] = 1.0
    check(lambda a: EF.lp_pool2d(a, 2, 2), [x], lambda a: TF.lp_pool2d(a, 2, 2),
          double=False, gradcheck=False)


# ---------------------------------------------------------------- unpooling

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("nd,shape,k,s,p,output_size", [
    (1, (2, 3, 9), 2, None, 0, None),
    (1, (2, 3, 9), 2, None, 0, [9]),
    (1, (3, 10), 3, 2, 1, (2, 3, 10)),                  # overlapping windows: repeated indices
    (2, (2, 3, 8, 6), 2, None, 0, None),
    (2, (2, 3, 9, 7), 2, None, 0, (9, 7)),
    (2, (2, 3, 9, 8), 3, 2, 1, [9, 8]),
    (2, (3, 9, 8), (3, 2), (2, 1), (1, 0), (9, 8)),      # unbatched
    (3, (2, 2, 5, 6, 5), 2, None, 0, [5, 6, 5]),
    (3, (2, 5, 5, 7), 3, 2, 1, None),
])
def test_max_unpool_round_trip(nd, shape, k, s, p, output_size, dtype):
    x = _r(shape, dtype)
    _, idx = getattr(TF, f"max_pool{nd}d")(torch.tensor(x), k, s, p, return_indices=True)
    y = getattr(TF, f"max_pool{nd}d")(torch.tensor(x), k, s, p)
    idx_np = idx.numpy()

    def fn(F, lib):
        def run(values):
            ind = ember.tensor(idx_np, device=values.device) if lib is ember else torch.from_numpy(idx_np.copy())
            return getattr(F, f"max_unpool{nd}d")(values, ind, k, s, p, output_size)
        return run
    planes = idx_np.reshape(-1, idx_np[0].size if idx_np.ndim == nd + 1 else idx_np[0, 0].size)
    repeated = any(len(set(row)) < len(row) for row in planes.tolist())
    # with repeated indices torch's gradient (a gather) is not the derivative of
    # its forward (last write wins), so only the comparison with torch applies
    check(fn(EF, ember), [as_numpy(y).astype(dtype)], fn(TF, torch),
          gradcheck=dtype == np.float64 and not repeated)


def test_max_unpool_repeated_indices_keep_last_value():
    v = np.array([[[1.0, 2.0, 3.0]]])
    idx = np.array([[[0, 0, 2]]])

    def fn(F, lib):
        return lambda a: F.max_unpool1d(a, ember.tensor(idx, device=a.device) if lib is ember else torch.tensor(idx),
                                        2, 1, output_size=[4])
    check(fn(EF, ember), [v], fn(TF, torch), gradcheck=False)


def test_max_unpool_module_with_pool_module(device):
    x = _r((2, 3, 9, 9))
    ep, tp = ember.nn.MaxPool2d(3, 2, 1, return_indices=True), torch.nn.MaxPool2d(3, 2, 1, return_indices=True)
    eu, tu = ember.nn.MaxUnpool2d(3, 2, 1), torch.nn.MaxUnpool2d(3, 2, 1)
    e = eu(*ep(ember.tensor(x, device=device)), output_size=ember.Size([2, 3, 9, 9]))
    t = tu(*tp(torch.tensor(x)), output_size=torch.Size([2, 3, 9, 9]))
    assert_same(e, t)


# ------------------------------------------------------------------ modules

MODULE_CASES = [
    ("MaxPool1d", (3,), dict(stride=2, padding=1, dilation=2, ceil_mode=True), (2, 3, 11)),
    ("MaxPool2d", ((3, 2),), dict(stride=(2, 1), padding=(1, 0)), (2, 3, 8, 7)),
    ("MaxPool2d", (2,), dict(return_indices=True), (3, 6, 6)),
    ("MaxPool3d", (2,), dict(stride=1, dilation=(1, 2, 1), ceil_mode=True), (1, 2, 4, 6, 5)),
    ("AvgPool1d", (3,), dict(stride=2, padding=1, ceil_mode=True, count_include_pad=False), (2, 3, 10)),
    ("AvgPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True), (2, 3, 8, 8)),
    ("AvgPool2d", ((2, 3),), dict(divisor_override=4), (3, 6, 7)),
    ("AvgPool3d", (2,), dict(stride=(1, 2, 1), count_include_pad=False, padding=1), (1, 2, 4, 6, 5)),
    ("LPPool1d", (2, 3), dict(stride=2), (2, 3, 10)),
    ("LPPool2d", (2.0, 2), dict(ceil_mode=True), (2, 3, 7, 7)),
    ("LPPool3d", (2, (2, 1, 2)), dict(), (1, 2, 4, 6, 5)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,args,kw,shape", MODULE_CASES)
def test_modules(name, args, kw, shape, dtype):
    e_m, t_m = getattr(ember.nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    check(e_m, [_r(shape, dtype)], t_m, gradcheck=dtype == np.float64)


REPR_CASES = MODULE_CASES + [
    ("MaxUnpool1d", (2,), {}, None),
    ("MaxUnpool2d", ((2, 3),), dict(stride=1, padding=(1, 0)), None),
    ("MaxUnpool3d", (2,), dict(padding=1), None),
    ("AvgPool1d", (2,), {}, None),
    ("MaxPool2d", (2,), {}, None),
    ("LPPool2d", (2, 3), {}, None),
]


@pytest.mark.parametrize("name,args,kw,shape", REPR_CASES)
def test_module_repr_and_attributes(name, args, kw, shape):
    e_m, t_m = getattr(ember.nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert repr(e_m) == repr(t_m)
    for attr in ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices",
                 "count_include_pad", "divisor_override", "norm_type"):
        assert getattr(e_m, attr, "absent") == getattr(t_m, attr, "absent"), attr


# ------------------------------------------------------------------ errors

ERROR_CASES = [
    ("pad over half kernel 2d", lambda F, x4, i: F.max_pool2d(x4, 3, 1, 2)),
    ("pad over half kernel, dilated", lambda F, x4, i: F.max_pool2d(x4, 3, 1, 2, 2)),
    ("pad over half kernel avg", lambda F, x4, i: F.avg_pool2d(x4, 3, 1, 2)),
    ("pad over half kernel 1d", lambda F, x4, i: F.max_pool1d(x4[0], 3, 1, 2)),
    ("pad over half kernel 3d", lambda F, x4, i: F.avg_pool3d(x4, 3, 1, 2)),
    ("negative pad", lambda F, x4, i: F.max_pool2d(x4, 3, 1, -1)),
    ("zero kernel", lambda F, x4, i: F.max_pool2d(x4, 0, 1)),
    ("zero kernel avg1d", lambda F, x4, i: F.avg_pool1d(x4[0], 0, 1)),
    ("negative stride", lambda F, x4, i: F.avg_pool2d(x4, 2, -1)),
    ("zero stride 3d", lambda F, x4, i: F.max_pool3d(x4, 2, 0)),
    ("zero dilation", lambda F, x4, i: F.max_pool2d(x4, 2, 1, 0, 0)),
    ("output too small", lambda F, x4, i: F.max_pool2d(x4, 9)),
    ("output too small avg", lambda F, x4, i: F.avg_pool2d(x4, 9)),
    ("output too small 1d", lambda F, x4, i: F.max_pool1d(x4[0], 9, return_indices=True)),
    ("output too small lp", lambda F, x4, i: F.lp_pool2d(x4, 2, 9)),
    ("wrong dims 2d", lambda F, x4, i: F.max_pool2d(x4[0, 0], 2)),
    ("wrong dims 2d 5-d", lambda F, x4, i: F.max_pool2d(x4[None], 2)),
    ("wrong dims avg2d", lambda F, x4, i: F.avg_pool2d(x4[0, 0], 2)),
    ("wrong dims 1d", lambda F, x4, i: F.max_pool1d(x4, 2)),
    ("wrong dims avg1d", lambda F, x4, i: F.avg_pool1d(x4[0, 0, 0], 2)),
    ("wrong dims 3d", lambda F, x4, i: F.max_pool3d(x4[0], 2)),
    ("empty channels", lambda F, x4, i: F.max_pool2d(x4[:, :0], 2)),
    ("kernel tuple too long", lambda F, x4, i: F.max_pool2d(x4, (2, 2, 2))),
    ("zero divisor", lambda F, x4, i: F.avg_pool2d(x4, 2, divisor_override=0)),
    ("unpool index too large", lambda F, x4, i: F.max_unpool2d(x4[:, :, :4, :4], i + 100, 2)),
    ("unpool index negative", lambda F, x4, i: F.max_unpool2d(x4[:, :, :4, :4], i - 100, 2)),
    ("unpool index out of small output", lambda F, x4, i: F.max_unpool2d(x4[:, :, :4, :4], i, 2, output_size=[7, 7])),
    ("unpool 1d index", lambda F, x4, i: F.max_unpool1d(x4[:, :, 0, :4], i[:, :, 0] + 40, 2)),
    ("unpool 3d index", lambda F, x4, i: F.max_unpool3d(x4[None, :, :, :4, :4], i[None] + 1000, 2)),
    ("unpool output_size length", lambda F, x4, i: F.max_unpool2d(x4[:, :, :4, :4], i, 2, output_size=[8])),
    ("unpool output_size too big", lambda F, x4, i: F.max_unpool2d(x4[:, :, :4, :4], i, 2, output_size=[10, 8])),
    ("unpool output_size too small", lambda F, x4, i: F.max_unpool2d(x4[:, :, :4, :4], i, 2, output_size=[6, 8])),
    ("unpool int32 indices", lambda F, x4, i: F.max_unpool2d(x4[:, :, :4, :4], i.int(), 2)),
    ("unpool indices shape", lambda F, x4, i: F.max_unpool2d(x4[:, :, :4, :4], i[:, :, :2], 2)),
    ("unpool wrong dims", lambda F, x4, i: F.max_unpool2d(x4[0, 0, :4, :4], i[0, 0], 2)),
]


@pytest.mark.parametrize("what,fn", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_errors_as_torch(what, fn, device):
    x = _r((2, 3, 8, 8))
    _, ti = TF.max_pool2d(torch.tensor(x), 2, return_indices=True)
    ei = ember.tensor(ti.numpy(), device=device)
    same_outcome(lambda: fn(EF, ember.tensor(x, device=device), ei), (), lambda: fn(TF, torch.tensor(x), ti),
                 raises=True, exact_type=True)


def test_error_messages(device):
    x = ember.randn(2, 3, 8, 8, device=device)
    with pytest.raises(RuntimeError, match="pad should be at most half of effective kernel size"):
        EF.avg_pool2d(x, 3, 1, 2)
    with pytest.raises(RuntimeError, match=r"Given input size: \(3x8x8\). Calculated output size: "
                                           r"\(3x0x0\). Output size is too small"):
        EF.max_pool2d(x, 9)
    _, i = EF.max_pool2d(x, 2, return_indices=True)
    with pytest.raises(RuntimeError, match=r"Found an invalid max index: \d+ \(output volumes are of size 8x8\)"):
        EF.max_unpool2d(x[:, :, :4, :4], i + 100, 2)
        synchronize_device()  # where a GPU reports it


# ------------------------------------------------------------- on each device

@pytest.mark.parametrize("nd", [1, 2, 3])
def test_pooling_on_device(device, nd):
    x = _r((2, 3) + (7,) * nd)
    for F_args in [("max", (3, 2, 1, 1, True)), ("avg", (3, 2, 1, True, False))]:
        kind, args = F_args

        def fn(F):
            return lambda a: getattr(F, f"{kind}_pool{nd}d")(a, *args)
        check(fn(EF), [x], fn(TF), device=device, gradcheck=False)


def test_max_pool_indices_and_unpool_on_device(device):
    x = _r((2, 3, 9, 8))
    ey, ei = EF.max_pool2d(ember.tensor(x, device=device), 3, 2, 1, return_indices=True)
    ty, ti = TF.max_pool2d(torch.tensor(x), 3, 2, 1, return_indices=True)
    assert_same(ey, ty)
    assert_same(ei, ti)
    assert_same(EF.max_unpool2d(ey, ei, 3, 2, 1, output_size=[9, 8]),
                TF.max_unpool2d(ty, ti, 3, 2, 1, output_size=[9, 8]))
    with pytest.raises(RuntimeError):
        EF.max_unpool2d(ey, ei + 100, 3, 2, 1)
        synchronize_device()  # where a GPU reports it


# ------------------------------------- generic (array namespace) kernels on NumPy

def _generic(op):
    return REGISTRY.generic(op, np)


def _cython(op):
    return REGISTRY.kernels[(op, "cpu")].fn


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,k,s,p,d,ceil", [
    ((2, 3, 9), (2,), (2,), (0,), (1,), False),
    ((2, 3, 9, 8), (3, 2), (2, 1), (1, 1), (2, 1), True),
    ((2, 6, 5, 7), (3, 3, 2), (2, 1, 2), (1, 1, 1), (1, 2, 1), True),
])
def test_generic_kernels_match_cython(shape, k, s, p, d, ceil, dtype):
    from ember.plugins.pooling.functional import _out_length

    x = _r(shape, dtype)
    x[..., 1] = np.nan                          # NaN propagation the same way
    nd = len(k)
    ins = shape[-nd:]
    outs = tuple(_out_length(n, *a, ceil) for n, *a in zip(ins, k, s, p, d))
    gv, gi = _generic("pooling.max_nd")(x, k, s, p, d, outs)
    cv, ci = _cython("pooling.max_nd")(x, k, s, p, d, outs)
    np.testing.assert_array_equal(gi, ci)
    np.testing.assert_array_equal(gv, cv)
    x = _r(shape, dtype)
    outs = tuple(_out_length(n, a, b, c, 1, ceil) for n, a, b, c in zip(ins, k, s, p))
    g = _r(shape[:-nd] + outs, dtype, 1)
    for cip, div in [(True, None), (False, None), (True, 3)]:
        args = (ins, outs, k, s, p, cip, div)
        for op, arr in [("pooling.avg_nd", x), ("pooling.avg_nd_adjoint", g)]:
            # the adjoint adds overlapping shares in another order: float32 rounding differs
            np.testing.assert_allclose(_generic(op)(arr, *args), _cython(op)(arr, *args),
                                       rtol=1e-5 if dtype == np.float32 else 1e-12,
                                       atol=1e-6 if dtype == np.float32 else 0)
    idx = np.random.default_rng(2).integers(0, int(np.prod(ins)), g.shape)
    np.testing.assert_array_equal(_generic("pooling.unpool_planes")(g, idx, ins, outs),
                                  _cython("pooling.unpool_planes")(g, idx, ins, outs))
    with pytest.raises(RuntimeError, match="invalid max index"):
        _generic("pooling.unpool_planes")(g, idx + 10 ** 6, ins, outs)


@pytest.mark.parametrize("shape,k,p", [((1, 1, 1, 1, 1), 2, 1), ((1, 1, 3, 3, 3), 4, 2), ((1, 1, 8, 8, 1), 4, 0)])
def test_avg_pool3d_refuses_windows_larger_than_the_unpadded_input(shape, k, p, device):
    x = np.ones(shape, dtype=np.float32)
    with pytest.raises(RuntimeError, match="smaller than kernel size") as t_err:
        TF.avg_pool3d(torch.tensor(x), k, 1, p)
    with pytest.raises(RuntimeError) as e_err:
        EF.avg_pool3d(ember.tensor(x, device=device), k, 1, p)
    assert str(e_err.value) == str(t_err.value)


def test_window_wholly_in_padding_gives_minus_inf_and_no_gradient(device):
    # dilation 2 with padding 1 over a depth of 1: the depth window only reads padding
    x = ember.tensor(np.random.default_rng(0).standard_normal((1, 1, 1, 8, 5)), requires_grad=True, device=device)
    out, idx = EF.max_pool3d(x, 2, 2, 1, 2, True, True)
    t_out = TF.max_pool3d(torch.tensor(as_numpy(x)), 2, 2, 1, 2, True)  # torch forward only:
    assert_same(out, t_out)                                                      # its backward corrupts memory
    out.sum().backward()
    assert float(x.grad.abs().sum()) == 0.0
    assert int(idx.min()) >= 0 and int(idx.max()) < 40
