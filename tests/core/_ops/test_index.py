"""Indexing against torch: basic and advanced ``x[idx]``, ``x[idx] = v``, index_select,
gather, narrow, select, unbind, nonzero, masked_select; values, gradients, errors."""

import numpy as np
import pytest

import ember
from tests.oracle import check, same_outcome, torch

RNG = np.random.default_rng(2)
FLOATS = [np.float64, np.float32]


def rand(*shape, dtype=np.float64):
    return RNG.standard_normal(shape).astype(dtype)


def lib(x):
    return ember if isinstance(x, ember.Tensor) else torch


def idx_for(x, index):
    """``index`` with every NumPy array turned into a tensor of x's library."""
    def conv(i):
        if isinstance(i, np.ndarray):
            return ember.tensor(i) if isinstance(x, ember.Tensor) else torch.from_numpy(i.copy())
        return i
    return tuple(conv(i) for i in index) if isinstance(index, tuple) else conv(index)


# ----------------------------------------------------------------- basic indexing
BASIC = [
    0, -1, 2, slice(None), slice(1, 3), slice(None, None, 2), slice(-3, None), slice(1, 100),
    slice(-100, 2), (1, 2), (-1, -2), (slice(None), 1), (slice(None, None, 2), slice(1, None, 2)),
    None, (None, 0), (0, None, slice(1, 3)), Ellipsis, (Ellipsis, 1), (1, Ellipsis, None),
    (slice(None), None, slice(None), None), (0, 1, 2), (slice(3, 1),), (Ellipsis, slice(None, None, 3)),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("index", BASIC, ids=[repr(i) for i in BASIC])
def test_basic_indexing(index, dtype):
    a = rand(4, 3, 3, dtype=dtype)
    check(lambda x: x[index], [a], gradcheck=False)
    check(lambda x: x.transpose(0, 2)[index], [rand(3, 3, 4, dtype=dtype)], gradcheck=False)


def test_basic_indexing_gradcheck():
    check(lambda x: x[1:, ::2], [rand(3, 4)])
    check(lambda x: x[0][None, 1:], [rand(2, 3)])
    check(lambda x: x[..., -1] * x[:, 0], [rand(3, 3)])


def test_basic_index_is_a_view():
    x = ember.zeros(3, 4)
    v = x[1, ::2]
    x.add_(1)
    assert v.tolist() == [1.0, 1.0]
    assert v._version == x._version == 1
    assert v.stride() == (2,)


def test_zero_dim_indexing():
    check(lambda x: x[None], [np.array(2.0)])
    check(lambda x: x[...], [np.array(2.0)])
    same_outcome(lambda x: x[0], [np.array(2.0)], raises=True, match="invalid index of a 0-dim tensor")


# ----------------------------------------------------------------- advanced indexing
ADVANCED = [
    [0, 2], [2, 0, 2, 2], [-1, 0], np.array([1, 1, 0]), np.array([[0, 1], [2, 2]]),
    (slice(None), [0, 2]), ([0, 1], slice(1, None)), ([0, 2], [1, 1]), ([[0], [2]], [1, 0]),
    (slice(None), [1, 1, 1], slice(None, None, 2)), (Ellipsis, [0, 0]), (None, [0, 2]),
    ([0, 1], None, slice(None)), np.array([True, False, True, False]),
    (slice(None), np.array([True, True, False])), ([True, False, True, True],),
    np.array([], dtype=np.int64), (0, slice(None), [1, 2]), (slice(1, 3), 0, [0, 0, 2]),
    ([0, 1], slice(None), [1, 2]), (1, [0, 2]), np.array(2), ([3, 0], Ellipsis, 1),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("index", ADVANCED, ids=[f"adv{i}" for i in range(len(ADVANCED))])
def test_advanced_indexing(index, dtype):
    a = rand(4, 3, 3, dtype=dtype)
    check(lambda x: x[idx_for(x, index)], [a], gradcheck=False)
    check(lambda x: x.transpose(1, 2)[idx_for(x, index)], [a], gradcheck=False)


def test_bool_mask_indexing():
    a = rand(3, 4)
    mask = a > 0
    check(lambda x: x[idx_for(x, mask)], [a])
    check(lambda x: x[x > 0.5], [a], gradcheck=False)
    check(lambda x: x[idx_for(x, mask[:, 0])], [a], gradcheck=False)
    check(lambda x: x[True], [rand(2, 3)], gradcheck=False)
    check(lambda x: x[False], [rand(2, 3)], gradcheck=False)


@pytest.mark.parametrize("index", [[0, 0, 1, 0], np.array([[2, 2], [2, 0]]), ([1, 1], [0, 0])])
def test_repeated_indices_accumulate_gradient(index):
    check(lambda x: x[idx_for(x, index)], [rand(3, 2)])
    check(lambda x: x[idx_for(x, index)] * x[idx_for(x, index)], [rand(3, 2, dtype=np.float32)])


@pytest.mark.filterwarnings("ignore:indexing with dtype torch.uint8 is now deprecated")
@pytest.mark.parametrize("dt", [np.int64, np.int32, np.uint8])
def test_integer_tensor_index_dtypes(dt):
    # uint8 is torch's legacy byte mask
    i = np.array([1, 0, 1, 1]).astype(dt)
    check(lambda x: x[idx_for(x, i)], [rand(4, 3)], gradcheck=False)


@pytest.mark.parametrize("dt", [np.int16, np.int8])
def test_small_integer_index_dtypes_raise(dt):
    same_outcome(lambda x: x[idx_for(x, np.array([1, 0], dtype=dt))], [rand(4, 3)], raises=True,
                 match="tensors used as indices must be long, int, byte or bool tensors")


def test_zero_dim_tensor_index():
    check(lambda x: x[idx_for(x, np.array(1))], [rand(3, 2)])


@pytest.mark.parametrize("fn,match", [
    (lambda x: x[3], "index 3 is out of bounds for dimension 0 with size 3"),
    (lambda x: x[-4], "index -4 is out of bounds for dimension 0 with size 3"),
    (lambda x: x[0, 4], "index 4 is out of bounds for dimension 1 with size 4"),
    (lambda x: x[[0, 3]], "index 3 is out of bounds"),
    (lambda x: x[:, [0, 4]], "index 4 is out of bounds"),
    (lambda x: x[0, 0, 0], "too many indices for tensor of dimension 2"),
    (lambda x: x[1.5], "only integers, slices"),
    (lambda x: x[[0, 1], [0, 1, 2]], "shape mismatch: indexing tensors could not be broadcast together"),
    (lambda x: x[lib(x).tensor([True, False])], "The shape of the mask \\[2\\] at index 0 does not match the shape of the indexed tensor \\[3, 4\\] at index 0"),
    (lambda x: x[:, lib(x).tensor([True, False])], "The shape of the mask \\[2\\] at index 0 does not match the shape of the indexed tensor \\[3, 4\\] at index 1"),
    (lambda x: x[lib(x).tensor([0.0])], "tensors used as indices must be long, int"),
])
def test_index_errors(fn, match):
    same_outcome(fn, [rand(3, 4)], raises=True, match=match)


def test_index_out_of_range_with_tensor():
    same_outcome(lambda x: x[lib(x).tensor([0, 5])], [rand(3, 4)], raises=True,
                 match="index 5 is out of bounds for dimension 0 with size 3")


# ----------------------------------------------------------------- index assignment
SET_CASES = [
    (0, "scalar"), (0, (4,)), (0, (1,)), (slice(1, 3), (2, 4)), (slice(1, 3), (4,)),
    ((slice(None), 1), (3,)), ((slice(None), 1), "scalar"), ([0, 2], (2, 4)), ([0, 2], (1, 4)),
    ((Ellipsis, [1, 3]), (3, 2)), ((slice(None, None, 2), slice(None, None, 2)), (2, 2)),
    ("mask", "scalar"), ("mask", "masked"), (([0, 1], [1, 2]), (2,)), ((1, [0, 3]), (2,)),
    ((0, slice(None), [1]), (1,)), ((0, slice(None), [1, 3]), (3, 2)), ((1, [0, 2], slice(None)), (2, 4)),
    (None, (3, 4)), ((Ellipsis, 2), (1, 3)),
]


def _set_index(x, index, a):
    if isinstance(index, str):
        return x.detach() > 0 if isinstance(x, (ember.Tensor, torch.Tensor)) else a > 0
    return idx_for(x, index)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("index,vshape", SET_CASES, ids=[f"set{i}" for i in range(len(SET_CASES))])
def test_index_assignment(index, vshape, dtype):
    a = rand(3, 4, dtype=dtype)
    if isinstance(index, tuple) and len(index) == 3:
        a = rand(2, 3, 4, dtype=dtype)
    n_masked = int((a > 0).sum())
    v = 2.5 if vshape == "scalar" else rand(*((n_masked,) if vshape == "masked" else vshape), dtype=dtype)

    def fn(x, *rest):
        y = x * 1.0
        y[_set_index(x, index, a)] = rest[0] if rest else v
        return y * y

    check(fn, [a] if vshape == "scalar" else [a, v], gradcheck=dtype is np.float64)


def test_index_assignment_with_repeated_indices_last_wins_values():
    # values only: torch leaves the order of repeated writes unspecified on some devices,
    # and on CPU the last one wins; ember writes in order too.
    e = ember.zeros(3)
    e[[0, 0, 2]] = ember.tensor([1.0, 2.0, 3.0])
    t = torch.zeros(3)
    t[[0, 0, 2]] = torch.tensor([1.0, 2.0, 3.0])
    assert e.tolist() == t.tolist()


def test_index_assignment_value_dtype_and_grad_dtype():
    a, v = rand(3, 4), rand(4).astype(np.float32)

    def fn(x, val):
        y = x * 1.0
        y[1] = val
        return y

    check(fn, [a, v], gradcheck=False)


def test_index_assignment_broadcast_errors():
    with pytest.raises(RuntimeError):
        x = ember.zeros(3, 4)
        x[0] = ember.zeros(3)
    with pytest.raises(IndexError, match="out of bounds"):
        x = ember.zeros(3, 4)
        x[5] = 1.0


def test_index_assignment_on_leaf_requiring_grad_raises():
    x = ember.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x[0] = 1.0
    with ember.no_grad():
        x[0] = 1.0
    assert x.tolist() == [1.0, 0.0, 0.0]


def test_index_assignment_bumps_version_and_is_seen_by_views():
    x = ember.zeros(3, 4)
    v = x[1]
    x[1, 2] = 5.0
    assert v.tolist() == [0.0, 0.0, 5.0, 0.0]
    assert x._version == v._version == 1


def test_index_assignment_saved_tensor_check():
    x = ember.tensor(rand(3), requires_grad=True)
    y = x * 1
    z = y * y
    y[0] = 0.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


# ----------------------------------------------------------------- index_select / gather
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim,index", [(0, [2, 0, 2]), (1, [1]), (-1, [0, 0, 1, 2]), (0, []), (1, 2)])
def test_index_select(dim, index, dtype):
    i = np.array(index, dtype=np.int64)
    check(lambda x: x.index_select(dim, idx_for(x, i)), [rand(3, 3, dtype=dtype)])
    check(lambda x: lib(x).index_select(x.t(), dim, idx_for(x, i)), [rand(3, 3, dtype=dtype)], gradcheck=False)


def test_index_select_int32_index_and_errors():
    check(lambda x: x.index_select(0, idx_for(x, np.array([1, 0], dtype=np.int32))), [rand(2, 3)])
    same_outcome(lambda x: x.index_select(0, lib(x).tensor([3])), [rand(3, 2)], raises=True,
                 match="index out of range in self")
    same_outcome(lambda x: x.index_select(0, lib(x).tensor([[0]])), [rand(3, 2)], raises=True,
                 match="Index is supposed to be a vector")
    same_outcome(lambda x: x.index_select(0, lib(x).tensor([0.0])), [rand(3, 2)], raises=True,
                 match="index_select\\(\\): Expected dtype int32 or int64 for index")
    same_outcome(lambda x: x.index_select(2, lib(x).tensor([0])), [rand(3, 2)], raises=True,
                 match="Dimension out of range")


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_gather(dim, dtype):
    a = rand(3, 4, 2, dtype=dtype)
    shape = [2, 3, 2]
    shape[dim] = 5
    i = RNG.integers(0, a.shape[dim], shape)
    check(lambda x: x.gather(dim, idx_for(x, i)), [a])
    check(lambda x: lib(x).gather(x.transpose(0, 1).transpose(0, 1), dim, idx_for(x, i)), [a], gradcheck=False)


def test_gather_full_and_int32():
    a = rand(3, 4)
    i = np.array([[0, 1, 2, 0], [2, 2, 2, 2]])
    check(lambda x: x.gather(0, idx_for(x, i)), [a])
    check(lambda x: x.gather(1, idx_for(x, i.astype(np.int32) % 4)), [a], gradcheck=False)


@pytest.mark.parametrize("index,dim,match", [
    (np.array([[4]]), 1, "index 4 is out of bounds for dimension 1 with size 4"),
    (np.array([[-1]]), 1, "index -1 is out of bounds for dimension 1 with size 4"),
    (np.array([0]), 1, "Index tensor must have the same number of dimensions as input tensor"),
    (np.array([[0, 0], [0, 0], [0, 0], [0, 0]]), 1, "Size does not match at dimension 0"),
])
def test_gather_errors(index, dim, match):
    same_outcome(lambda x: x.gather(dim, idx_for(x, index)), [rand(3, 4)], raises=True, match=match)


# ----------------------------------------------------------------- narrow / select / unbind
@pytest.mark.parametrize("dim,start,length", [(0, 0, 2), (1, 1, 3), (-1, -2, 2), (0, 3, 0), (1, 0, 4)])
def test_narrow(dim, start, length):
    check(lambda x: x.narrow(dim, start, length), [rand(3, 4)])
    check(lambda x: lib(x).narrow(x.t(), 1 - dim % 2, start, min(length, 3 - start % 3)), [rand(3, 4)], gradcheck=False)


def test_narrow_errors():
    same_outcome(lambda x: x.narrow(0, 2, 2), [rand(3, 4)], raises=True, match="exceeds dimension size")
    same_outcome(lambda x: x.narrow(0, 4, 0), [rand(3, 4)], raises=True, match="out of range")


@pytest.mark.parametrize("dim,index", [(0, 1), (1, -1), (-1, 0), (2, 1)])
def test_select(dim, index):
    check(lambda x: x.select(dim, index), [rand(3, 4, 2)])
    check(lambda x: lib(x).select(x[::2], dim, index), [rand(3, 4, 2)], gradcheck=False)


def test_select_errors():
    same_outcome(lambda x: x.select(0, 3), [rand(3, 4)], raises=True, match="out of range")
    same_outcome(lambda x: x.select(2, 0), [rand(3, 4)], raises=True, match="Dimension out of range")


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_unbind(dim):
    check(lambda x: x.unbind(dim), [rand(3, 2)])
    check(lambda x: lib(x).unbind(x.t(), dim), [rand(3, 2)], gradcheck=False)
    assert len(ember.zeros(3, 2).unbind(dim)) == (3, 2, 2)[dim]


def test_iteration_unbinds():
    x = ember.tensor(rand(3, 2))
    rows = list(x)
    assert len(rows) == 3 and rows[1].tolist() == x[1].tolist()


# ----------------------------------------------------------------- nonzero / masked_select
@pytest.mark.parametrize("a", [
    np.array([[1, 0, 2], [0, 0, 3]]), np.array([0.0, 1.5, 0.0, -2.0]), np.array([[True, False]]),
    np.zeros((2, 3)), np.array(0.0), np.array(3), np.zeros((0, 2)),
], ids=["int2d", "float1d", "bool", "allzero", "zero0d", "one0d", "empty"])
@pytest.mark.parametrize("as_tuple", [False, True])
def test_nonzero(a, as_tuple):
    check(lambda x: x.nonzero(as_tuple=as_tuple), [a], grad=False)
    check(lambda x: lib(x).nonzero(x, as_tuple=as_tuple), [a], grad=False)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("mshape", [(3, 4), (4,), (1, 4), (3, 1)])
def test_masked_select(mshape, dtype):
    a = rand(3, 4, dtype=dtype)
    m = RNG.random(mshape) > 0.4
    check(lambda x: x.masked_select(idx_for(x, m)), [a])
    check(lambda x: lib(x).masked_select(x.t().t(), idx_for(x, m)), [a], gradcheck=False)


def test_masked_select_broadcasts_input():
    check(lambda x: x.masked_select(idx_for(x, np.array([[True, False, True], [False, True, True]]))), [rand(3)])


def test_masked_select_errors():
    same_outcome(lambda x: x.masked_select(lib(x).tensor([True, False])), [rand(3, 4)], raises=True,
                 match="must match the size of tensor b")
    same_outcome(lambda x: x.masked_select(lib(x).tensor([1, 0, 1, 0])), [rand(3, 4)], raises=True,
                 match="masked_select: expected BoolTensor for mask")


def test_full_integer_index_is_a_zero_dim_view():
    for L in (ember, torch):
        x = L.zeros(2, 3)
        v = x[0, 1]
        v.add_(1)
        w = x.unbind(0)[1].unbind(0)[2]
        x[1, 2] = 6.0
        assert x.tolist() == [[0.0, 1.0, 0.0], [0.0, 0.0, 6.0]]
        assert v.item() == 1.0 and w.item() == 6.0 and v.dim() == 0
        assert v._version == x._version == 2


# ------------------------------------------------------------------ scatter, scatter_add

_X = np.random.default_rng(5).standard_normal((3, 5))
_SRC = np.random.default_rng(6).standard_normal((3, 4))
_UNIQUE = np.array([[0, 1, 2, 3], [4, 3, 2, 1], [1, 2, 0, 4]])     # no position twice per row
_REPEATS = np.array([[0, 1, 2, 0], [4, 3, 2, 1], [1, 1, 0, 4]])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("op,index", [("scatter", _UNIQUE), ("scatter_add", _UNIQUE), ("scatter_add", _REPEATS)])
def test_scatter_family_matches_torch(op, index, dtype):
    check(lambda x, s: getattr(x, op)(1, ember.tensor(index), s), [_X.astype(dtype), _SRC.astype(dtype)],
          lambda x, s: getattr(x, op)(1, torch.tensor(index), s))


@pytest.mark.parametrize("make", [
    lambda L: L.tensor(_X).scatter(1, L.tensor(_REPEATS[:, :2]), 2.5),
    lambda L: L.tensor(_X).scatter(0, L.tensor([[0, 1, 2, 0, 1]]), L.tensor(np.ones((1, 5)))),
    lambda L: L.zeros(3, 4).scatter_(1, L.tensor([[1], [3], [0]]), 1),          # 1.0-era one-hot
    lambda L: L.scatter_add(L.zeros(5), 0, L.tensor([0, 0, 4]), L.tensor([1.0, 2.0, 3.0])),
    lambda L: L.tensor(3.0).scatter(0, L.tensor(0), L.tensor(5.0)),
    lambda L: L.tensor(_X).scatter(1, L.tensor([[1]], dtype=L.int32), 1.0),
])
def test_scatter_values_like_torch(make):
    e, t = make(ember), make(torch)
    np.testing.assert_allclose(e.numpy(), t.numpy())


@pytest.mark.parametrize("make", [
    lambda L: L.tensor(_X).scatter(1, L.tensor([[7]]), 1.0),
    lambda L: L.tensor(_X).scatter(1, L.tensor([[-1]]), 1.0),
    lambda L: L.tensor(_X).scatter(1, L.tensor([[1.0]]), 1.0),
    lambda L: L.tensor(_X).scatter(1, L.tensor([[1]]), L.tensor([[1.0]], dtype=L.float32)),
    lambda L: L.tensor(_X).scatter(1, L.tensor(np.zeros((4, 2), dtype=np.int64)), L.tensor(_SRC)),
    lambda L: L.tensor(_X).scatter_add(1, L.tensor([[0, 1]]), L.tensor([[1.0]])),
    lambda L: L.tensor(_X).scatter(1, L.tensor([1]), 1.0),
])
def test_scatter_errors_like_torch(make):
    same_outcome(make, raises=True)


def test_scatter_gradients_of_any_order_and_in_place():
    x = ember.tensor(_X, requires_grad=True)
    s = ember.tensor(_SRC, requires_grad=True)
    assert ember.autograd.gradcheck(lambda a, b: a.scatter(1, ember.tensor(_UNIQUE), b), (x, s))
    assert ember.autograd.gradgradcheck(lambda a, b: a.scatter(1, ember.tensor(_UNIQUE), b) ** 2, (x, s))
    assert ember.autograd.gradgradcheck(lambda a, b: a.scatter_add(1, ember.tensor(_REPEATS), b) ** 2, (x, s))
    b = x * 2
    b.scatter_(1, ember.tensor([[0], [1], [2]]), 0.0)
    b.sum().backward()
    expected = np.full(_X.shape, 2.0)
    expected[[0, 1, 2], [0, 1, 2]] = 0
    np.testing.assert_allclose(x.grad.numpy(), expected)
