"""sort, argsort, topk, kthvalue, median, mode, cumprod, cummax/cummin, roll, and the
0-d cumsum / flip(dims=) forms, compared with torch."""

import numpy as np
import pytest

import ember
from tests.oracle import assert_same, check, torch

FLOATS = [np.float64, np.float32]
rng = np.random.default_rng(0)


def distinct(shape, dtype=np.float64):
    """Values without ties (so every index torch returns is determined)."""
    n = int(np.prod(shape))
    return (rng.permutation(n).reshape(shape) * 0.37 - 3.0).astype(dtype)


def with_ties(shape, dtype=np.float64):
    return rng.integers(0, 3, size=shape).astype(dtype)


def assert_indices_pick(result, x, dim, keepdim=True):
    """The indices of a (values, indices) result point at its values."""
    values, indices = result
    assert indices.dtype == ember.int64
    if x.dim() == 0:
        assert indices.item() == 0
        return
    idx = indices if keepdim else indices.unsqueeze(dim)
    got = x.gather(dim, idx)
    np.testing.assert_array_equal(got.numpy(), (values if keepdim else values.unsqueeze(dim)).numpy())


# ----------------------------------------------------------------- sort / argsort
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_matches_torch(dtype, dim, descending):
    check(lambda a: a.sort(dim, descending), [distinct((3, 4, 5), dtype)])


def test_sort_non_contiguous_and_named_fields():
    x = distinct((4, 5))
    check(lambda a: a.transpose(0, 1).sort(0), [x])
    out = ember.sort(ember.tensor(x), dim=0)
    values, indices = out
    assert out.values is values and out.indices is indices
    assert type(out).__name__ == "sort"


@pytest.mark.parametrize("descending", [False, True])
def test_stable_sort_with_ties_and_nan_is_torchs(descending):
    x = np.array([[2.0, np.nan, 1.0, 2.0, -np.inf, np.nan, 1.0, np.inf, 0.0, -0.0]])
    e = ember.sort(ember.tensor(x), descending=descending, stable=True)
    t = torch.sort(torch.tensor(x), descending=descending, stable=True)
    assert_same(e.values, t.values)
    assert_same(e.indices, t.indices)
    assert_same(ember.argsort(ember.tensor(x), descending=descending, stable=True),
                torch.argsort(torch.tensor(x), descending=descending, stable=True))


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
def test_sort_integer_and_bool(dtype):
    x = with_ties((4, 6)).astype(dtype)
    for descending in (False, True):
        e = ember.sort(ember.tensor(x), dim=1, descending=descending, stable=True)
        t = torch.sort(torch.tensor(x), dim=1, descending=descending, stable=True)
        assert_same(e.values, t.values)
        assert_same(e.indices, t.indices)


def test_sort_gradient_with_ties_goes_to_the_picked_elements():
    x = ember.tensor(with_ties((3, 5)), requires_grad=True)
    values, indices = x.sort(1)
    values.backward(ember.ones_like(values))
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((3, 5)))
    assert values.grad_fn.name() == "SortBackward0"


def test_argsort_matches_torch():
    x = distinct((3, 5))
    assert_same(ember.tensor(x).argsort(0, True), torch.tensor(x).argsort(0, True))
    assert_same(ember.argsort(ember.tensor(x)), torch.argsort(torch.tensor(x)))


# ----------------------------------------------------------------- topk
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("k", [0, 1, 3, 5])
def test_topk_matches_torch(dtype, largest, k):
    check(lambda a: a.topk(k, 1, largest), [distinct((4, 5, 2), dtype)])
    check(lambda a: a.topk(k, largest=largest, sorted=True), [distinct((3, 5), dtype)])


def test_topk_nan_is_largest():
    x = np.array([1.0, np.nan, 3.0, 2.0])
    e, t = ember.topk(ember.tensor(x), 2), torch.topk(torch.tensor(x), 2)
    assert_same(e.values, t.values)
    assert_same(e.indices, t.indices)


def test_topk_with_ties_picks_values():
    x = with_ties((4, 7))
    e, t = ember.topk(ember.tensor(x), 3), torch.topk(torch.tensor(x), 3)
    assert_same(e.values, t.values)
    assert_indices_pick(e, ember.tensor(x), 1)


# ----------------------------------------------------------------- kthvalue / median / mode
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("keepdim", [False, True])
def test_kthvalue_matches_torch(dtype, keepdim):
    for k in (1, 3, 5):
        check(lambda a: a.kthvalue(k, 1, keepdim), [distinct((3, 5, 2), dtype)])
    check(lambda a: ember.kthvalue(a, 2, -1, keepdim) if isinstance(a, ember.Tensor)
          else torch.kthvalue(a, 2, -1, keepdim), [distinct((4, 3), dtype)])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("n", [5, 6])
def test_median_dim_matches_torch(dtype, keepdim, n):
    check(lambda a: a.median(0, keepdim), [distinct((n, 3), dtype)])
    check(lambda a: a.median(-1, keepdim=keepdim), [distinct((2, n), dtype)])


@pytest.mark.parametrize("dtype", FLOATS)
def test_median_all_matches_torch(dtype):
    check(lambda a: a.median(), [distinct((4, 3), dtype)])
    check(lambda a: a.median(), [with_ties((4, 3), dtype)], gradcheck=False)  # evenly shared gradient
    check(lambda a: a.median(), [np.array([1.0, np.nan, 3.0, np.nan], dtype)], gradcheck=False)


def test_median_with_nan_along_dim():
    x = np.array([[3.0, 1.0, np.nan, 1.0, 2.0], [0.0, 5.0, 1.0, 2.0, 4.0]])
    e, t = ember.median(ember.tensor(x), 1), torch.median(torch.tensor(x), 1)
    assert_same(e.values, t.values)
    assert_same(e.indices, t.indices)


def test_median_and_kthvalue_with_ties_pick_values():
    x = with_ties((5, 6))
    for dim in (0, 1):
        for e, t in ((ember.median(ember.tensor(x), dim), torch.median(torch.tensor(x), dim)),
                     (ember.kthvalue(ember.tensor(x), 2, dim), torch.kthvalue(torch.tensor(x), 2, dim))):
            assert_same(e.values, t.values)
            assert_indices_pick(e, ember.tensor(x), dim, keepdim=False)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_mode_matches_torch(dtype):
    x = np.array([[1, 2, 2, 1, 3], [5, 5, 5, 2, 2], [3, 1, 2, 2, 1], [4, 0, 0, 4, 4]], dtype)
    for dim, keepdim in ((1, False), (-1, True), (0, False)):
        e, t = ember.tensor(x).mode(dim, keepdim), torch.tensor(x).mode(dim, keepdim)
        assert_same(e.values, t.values)
        assert_indices_pick(e, ember.tensor(x), dim % 2, keepdim)
    e, t = ember.mode(ember.tensor(x)), torch.mode(torch.tensor(x))
    assert_same(e.indices, t.indices)  # the last occurrence, as torch's


def test_mode_gradient():
    check(lambda a: a.mode(1)[0], [np.array([[1.0, 2.0, 2.0], [3.0, 3.0, 0.5]])], gradcheck=False)


def test_median_empty_and_integer():
    assert_same(ember.median(ember.tensor(np.zeros(0))), torch.median(torch.tensor(np.zeros(0))))
    x = np.array([[3, 1, 2], [7, 9, 8]])
    assert_same(ember.median(ember.tensor(x)), torch.median(torch.tensor(x)))
    with pytest.raises(RuntimeError, match="empty integer"):
        ember.median(ember.tensor(np.zeros(0, np.int64)))


# ----------------------------------------------------------------- 0-d and empty
@pytest.mark.parametrize("name, args", [
    ("sort", ()), ("argsort", ()), ("topk", (1,)), ("kthvalue", (1,)), ("median", ()),
    ("median", (0,)), ("mode", ()), ("cummax", (0,)), ("cummin", (-1,)), ("cumprod", (0,)),
    ("cumsum", (-1,)), ("roll", (1,)),
])
def test_zero_dim(name, args):
    check(lambda a: getattr(a, name)(*args), [np.array(2.5)])


@pytest.mark.parametrize("name, args", [
    ("sort", (0,)), ("argsort", (1,)), ("topk", (0, 1)), ("cummax", (0,)), ("cummin", (1,)),
    ("cumprod", (0,)), ("roll", (1, 0)), ("kthvalue", (1, 1)), ("median", (1,)), ("mode", (1,)),
])
def test_empty(name, args):
    check(lambda a: getattr(a, name)(*args), [np.zeros((0, 3))], gradcheck=False)


@pytest.mark.parametrize("name", ["kthvalue", "median", "mode"])
def test_empty_reduction_dim_raises_index_error(name):
    args = (1, 0) if name == "kthvalue" else (0,)
    with pytest.raises(IndexError, match="non-zero size"):
        getattr(ember.zeros(0, 3), name)(*args)


# ----------------------------------------------------------------- cumprod / cummax / cummin
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumprod_matches_torch(dtype, dim):
    x = rng.uniform(0.5, 1.5, (4, 5)).astype(dtype) * rng.choice([-1, 1], (4, 5))
    check(lambda a: a.cumprod(dim), [x])


@pytest.mark.parametrize("x", [
    [1.0, 2.0, 0.0, 3.0, 4.0],
    [0.0, 2.0, 3.0, 0.5, 4.0],
    [1.0, 2.0, 3.0, 0.5, 0.0],
    [1.5, 0.0, 3.0, 0.0, 4.0],
    [0.0, 0.0, 0.0, 2.0, 3.0],
])
def test_cumprod_gradient_with_zeros(x):
    x = np.array(x)
    check(lambda a: ember.cumprod(a, 0) if isinstance(a, ember.Tensor) else torch.cumprod(a, 0), [x])
    # across a batch, and without a graph for double backward (the O(n) path)
    batch = np.stack([x, x[::-1], np.ones_like(x)], 1)
    check(lambda a: a.cumprod(0), [batch], double=False)


def test_cumprod_dtypes():
    for dtype in (np.int32, np.uint8, np.bool_):
        x = np.array([1, 2, 3, 1]).astype(dtype)
        assert_same(ember.tensor(x).cumprod(0), torch.tensor(x).cumprod(0))
    x = np.array([1.0, 2.0, 3.0])
    assert_same(ember.tensor(x).cumprod(0, dtype=ember.float32), torch.tensor(x).cumprod(0, dtype=torch.float32))


@pytest.mark.parametrize("name", ["cumprod_", "cumsum_"])
def test_running_inplace(name):
    x = distinct((3, 4))
    e, t = ember.tensor(x), torch.tensor(x)
    assert getattr(e, name)(1) is e
    getattr(t, name)(1)
    assert_same(e, t)
    check(lambda a: getattr(a * 1, name)(0), [x])


@pytest.mark.parametrize("name", ["cummax", "cummin"])
@pytest.mark.parametrize("dtype", FLOATS)
def test_cummax_cummin_match_torch(name, dtype):
    check(lambda a: getattr(a, name)(1), [distinct((3, 6), dtype)])
    x = np.array([[1.0, 3.0, 3.0, 0.0, np.nan, 5.0, np.nan], [2.0, 2.0, 1.0, 1.0, 4.0, 4.0, 0.0]], dtype)
    check(lambda a: getattr(a, name)(-1), [x], gradcheck=False)
    check(lambda a: getattr(a, name)(0), [with_ties((6, 3), dtype)], gradcheck=False)


def test_cummax_integer():
    x = np.array([[1, 3, 3, 0, 5], [True, False, True, True, False]])
    for dtype in (np.int64, np.bool_):
        for name in ("cummax", "cummin"):
            e, t = getattr(ember.tensor(x.astype(dtype)), name)(1), getattr(torch.tensor(x.astype(dtype)), name)(1)
            assert_same(e.values, t.values)
            assert_same(e.indices, t.indices)


# ----------------------------------------------------------------- roll / cumsum / flip
@pytest.mark.parametrize("shifts, dims", [(1, 0), (-2, 1), ((1, 2), (0, 1)), (7, None), ((3, -1), (-1, 0)),
                                          ((1, 1), (0, 0))])
def test_roll_matches_torch(shifts, dims):
    check(lambda a: a.roll(shifts, dims), [distinct((3, 4))])
    check(lambda a: a.transpose(0, 1).roll(shifts, dims), [distinct((4, 3))])


def test_cumsum_zero_dim():
    check(lambda a: a.cumsum(0), [np.array(3.0)])
    assert_same(ember.cumsum(ember.tensor(3), -1), torch.cumsum(torch.tensor(3), -1))


def test_flip_forms():
    x = distinct((2, 3, 4))
    e, t = ember.tensor(x), torch.tensor(x)
    assert_same(e.flip(0, 1), t.flip(0, 1))
    assert_same(ember.flip(e, dims=(0, 2)), torch.flip(t, dims=(0, 2)))
    assert_same(e.flip(dims=[-1]), t.flip(dims=[-1]))
    assert_same(ember.flip(e, [1]), torch.flip(t, [1]))
    check(lambda a: a.flip(dims=(0,)), [np.array(2.0)])
    with pytest.raises(RuntimeError, match="multiple times"):
        e.flip(0, 0)
    with pytest.raises(IndexError):
        e.flip(dims=(3,))


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize("call, error, match", [
    (lambda x: x.sort(2), IndexError, "Dimension out of range"),
    (lambda x: x.argsort(-3), IndexError, "Dimension out of range"),
    (lambda x: x.topk(4), RuntimeError, "selected index k out of range"),
    (lambda x: x.topk(-1), RuntimeError, "selected index k out of range"),
    (lambda x: x.topk(1.5), TypeError, "'k' must be int"),
    (lambda x: x.topk(1, 2), IndexError, "Dimension out of range"),
    (lambda x: x.kthvalue(4), RuntimeError, "k out of range"),
    (lambda x: x.kthvalue(0), RuntimeError, "k out of range"),
    (lambda x: x.median(2), IndexError, "Dimension out of range"),
    (lambda x: x.mode(-3), IndexError, "Dimension out of range"),
    (lambda x: x.cumprod(2), IndexError, "Dimension out of range"),
    (lambda x: x.cummax(5), IndexError, "Dimension out of range"),
    (lambda x: x.roll((1, 2)), RuntimeError, "shifts and dimensions must align"),
    (lambda x: x.roll(1, (0, 1)), RuntimeError, "shifts and dimensions must align"),
    (lambda x: x.roll((), ()), RuntimeError, "`shifts` required"),
    (lambda x: x.roll(1, 2), IndexError, "Dimension out of range"),
    (lambda x: x.roll(1.0, 0), TypeError, "must be ints"),
    (lambda x: ember.roll(ember.tensor(1.0), 1, 0), IndexError, "no dimensions"),
    (lambda x: x.bool().topk(1), RuntimeError, "bool"),
    (lambda x: x.bool().kthvalue(1), NotImplementedError, "Bool"),
    (lambda x: x.bool().median(), NotImplementedError, "Bool"),
    (lambda x: ember.sort([1, 2]), TypeError, "Tensor"),
])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call(ember.tensor(distinct((2, 3))))
