"""Creation, random tensors and dtype conversions against torch."""

import math

import numpy as np
import pytest

import ember
from tests.oracle import assert_same, check, same_outcome, torch

RNG = np.random.default_rng(4)


@pytest.fixture
def default_float64():
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    yield
    ember.set_default_dtype(ember.float32)
    torch.set_default_dtype(torch.float32)


# ----------------------------------------------------------------- tensor()
DATA = [
    1.5, 3, True, -7, [1, 2.5], [True, 2], [[1, 2], [3, 4]], [], [[], []], [[1.0], [2.0]],
    [True, False], [[True], [False]], (1, 2), [(1, 2), (3, 4)], [0.1, -0.0, math.inf, -math.inf],
    -(1 << 63), [1, True, 0.5], [[[1]]], 1e300,
]


@pytest.mark.parametrize("data", DATA, ids=[repr(d)[:20] for d in DATA])
def test_tensor_infers_dtype(data):
    same_outcome(lambda L: L.tensor(data), raises=False)


@pytest.mark.parametrize("data", [[1.5, 2.0], 2, True, [[1, 2]]])
def test_tensor_infers_default_float(data, default_float64):
    same_outcome(lambda L: L.tensor(data), raises=False)
    same_outcome(lambda L: L.tensor(data, dtype=L.float32), raises=False)


@pytest.mark.parametrize("np_dtype", [np.float64, np.float32, np.float16, np.int64, np.int32, np.int16,
                                      np.int8, np.uint8, np.bool_])
def test_tensor_from_numpy_keeps_dtype(np_dtype):
    a = (RNG.standard_normal((2, 3)) * 3).astype(np_dtype)
    same_outcome(lambda L: L.tensor(a), raises=False)
    same_outcome(lambda L: L.tensor(a[:, ::2]), raises=False)
    same_outcome(lambda L: L.tensor(a.T), raises=False)
    same_outcome(lambda L: L.tensor(a[0, 0]), raises=False)


def test_tensor_copies_its_data():
    a = np.zeros(3)
    t = ember.tensor(a)
    a[0] = 5
    assert t.tolist() == [0.0, 0.0, 0.0]
    src = ember.ones(2)
    copy = ember.tensor(src)
    src.add_(1)
    assert copy.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("data,dtype", [
    ([1, 2], "float64"), (2.7, "int64"), ([-1.7, 2.7], "int32"), ([0, 2], "bool"), ([1.5, 0.0], "bool"),
    ([1, 2], "float16"), ([300, -1], "int16"), (3, "uint8"),
])
def test_tensor_with_dtype(data, dtype):
    same_outcome(lambda L: L.tensor(data, dtype=getattr(L, dtype)), raises=False)


def test_tensor_requires_grad():
    t = ember.tensor([[1.5]], requires_grad=True)
    assert t.requires_grad and t.is_leaf
    same_outcome(lambda L: L.tensor([1], requires_grad=True), raises=True, match="floating point")


def test_tensor_of_tensors_and_numpy_scalars():
    same_outcome(lambda L: L.tensor([L.tensor(1.0), L.tensor(2.0)]), raises=False)
    same_outcome(lambda L: L.tensor(np.float64(2.0)), raises=False)
    same_outcome(lambda L: L.tensor(np.int32(2)), raises=False)


@pytest.mark.parametrize("data,exc,match", [
    ([[1, 2], [3]], ValueError, "expected sequence of length 2 at dim 1 \\(got 1\\)"),
    ([[1, 2], 3], TypeError, None),
    (1 << 63, ValueError, "Overflow"),
    ([1, 1 << 64], ValueError, "Overflow"),
    ("a", TypeError, None),
])
def test_tensor_errors(data, exc, match):
    with pytest.raises(exc):
        torch.tensor(data)
    with pytest.raises(exc, match=match):
        ember.tensor(data)


# ----------------------------------------------------------------- filled tensors
@pytest.mark.parametrize("name", ["zeros", "ones", "empty"])
@pytest.mark.parametrize("size", [(2, 3), ((2, 3),), ([4],), ((),), (0,), (1, 0, 2)])
@pytest.mark.parametrize("dtype", [None, "float64", "int32", "bool", "float16"])
def test_filled(name, size, dtype):
    def make(L):
        kw = {} if dtype is None else {"dtype": getattr(L, dtype)}
        t = getattr(L, name)(*size, **kw)
        return t.zero_() if name == "empty" else t
    same_outcome(make, raises=False)


def test_filled_requires_grad_and_errors():
    z = ember.zeros(2, requires_grad=True)
    assert z.requires_grad and z.is_leaf
    same_outcome(lambda L: L.zeros(-1), raises=True, match="zeros: Dimension size must be non-negative")
    same_outcome(lambda L: L.ones(2, -1), raises=True,
                 match="Trying to create tensor with negative dimension -1: \\[2, -1\\]")
    same_outcome(lambda L: L.empty(-1), raises=True, match="negative dimension")
    same_outcome(lambda L: L.zeros(2.0), raises=True)


@pytest.mark.parametrize("fill,dtype", [(3, None), (3.0, None), (True, None), (3, "float64"), (2.5, "int64"),
                                        (-1, "int8"), (math.inf, None)])
@pytest.mark.parametrize("size", [(2,), [2, 3], ()])
def test_full(fill, dtype, size):
    same_outcome(lambda L: L.full(size, fill) if dtype is None else L.full(size, fill, dtype=getattr(L, dtype)),
                 raises=False)


# ----------------------------------------------------------------- ranges
ARANGE = [
    (5,), (1, 4), (0, 1, 0.25), (5.0,), (5, 0, -1), (1, 0, -0.3), (0, 5, 2), (0,), (3, 3), (0, 1, 0.1),
    (-1.5, 1.5), (0, 3, 1.0), (10, -10, -3), (0.0, 1.0, 1 / 3),
]


@pytest.mark.parametrize("args", ARANGE, ids=[repr(a) for a in ARANGE])
def test_arange(args):
    same_outcome(lambda L: L.arange(*args), raises=False)
    same_outcome(lambda L: L.arange(*args, dtype=L.float64), raises=False)


def test_arange_dtypes_and_tensor_bounds():
    same_outcome(lambda L: L.arange(0.5, 3, dtype=L.int64), raises=False)
    same_outcome(lambda L: L.arange(0, 10, 3, dtype=L.int32), raises=False)
    same_outcome(lambda L: L.arange(L.tensor(3)), raises=False)
    same_outcome(lambda L: L.arange(np.int64(3)), raises=False)
    same_outcome(lambda L: L.arange(start=1, end=4, step=2), raises=False)


def test_arange_default_dtype(default_float64):
    same_outcome(lambda L: L.arange(0, 1, 0.25), raises=False)


@pytest.mark.parametrize("args,match", [
    ((0, 5, 0), "step must be nonzero"), ((5, 0), "upper bound and lower bound inconsistent with step sign"),
    ((0, 5, -1), "upper bound and lower bound inconsistent with step sign"), ((math.inf,), "unsupported range"),
])
def test_arange_errors(args, match):
    same_outcome(lambda L: L.arange(*args), raises=True, match=match)


LINSPACE = [(0, 1, 5), (0, 1, 1), (0, 1, 0), (2, -2, 4), (0, 3, 4), (-1.5, 7.25, 11), (1, 1, 3), (0, 1, 2)]


@pytest.mark.parametrize("args", LINSPACE, ids=[repr(a) for a in LINSPACE])
@pytest.mark.parametrize("dtype", [None, "float64", "int64"])
def test_linspace(args, dtype):
    same_outcome(lambda L: L.linspace(*args) if dtype is None else L.linspace(*args, dtype=getattr(L, dtype)),
                 raises=False)


def test_linspace_errors():
    same_outcome(lambda L: L.linspace(0, 1, -1), raises=True, match="number of steps must be non-negative")


@pytest.mark.parametrize("args", [(3,), (2, 3), (3, 2), (0,), (1, 0)])
def test_eye(args):
    same_outcome(lambda L: L.eye(*args), raises=False)
    same_outcome(lambda L: L.eye(*args, dtype=L.int64), raises=False)


def test_eye_errors():
    same_outcome(lambda L: L.eye(-1), raises=True, match="n must be greater or equal to 0, got -1")
    same_outcome(lambda L: L.eye(2, -1), raises=True, match="m must be greater or equal to 0, got -1")


# ----------------------------------------------------------------- *_like
@pytest.mark.parametrize("src_dtype", ["float32", "float64", "int32", "bool"])
def test_like(src_dtype):
    def src(L):
        return L.ones(2, 3, dtype=getattr(L, src_dtype))
    same_outcome(lambda L: L.zeros_like(src(L)), raises=False)
    same_outcome(lambda L: L.ones_like(src(L)), raises=False)
    same_outcome(lambda L: L.ones_like(src(L), dtype=L.float64), raises=False)
    same_outcome(lambda L: L.full_like(src(L), 7), raises=False)
    same_outcome(lambda L: L.full_like(src(L), 2.7), raises=False)
    same_outcome(lambda L: L.empty_like(src(L)).zero_(), raises=False)
    same_outcome(lambda L: L.zeros_like(src(L)[:, ::2]), raises=False)
    assert ember.ones_like(src(ember), dtype=ember.float32, requires_grad=True).requires_grad


@pytest.mark.parametrize("fn", [
    lambda L, x: L.rand_like(x), lambda L, x: L.randn_like(x), lambda L, x: L.randint_like(x, 5),
    lambda L, x: L.randint_like(x, 3, 5), lambda L, x: L.rand_like(x, dtype=L.float64),
])
@pytest.mark.parametrize("src_dtype", ["float32", "float64", "float16"])
def test_random_like_shape_dtype(fn, src_dtype):
    e = fn(ember, ember.ones(2, 3, dtype=getattr(ember, src_dtype)))
    t = fn(torch, torch.ones(2, 3, dtype=getattr(torch, src_dtype)))
    assert tuple(e.shape) == tuple(t.shape) and e.dtype.name == str(t.dtype)[6:]


def test_rand_like_of_integers_raises():
    same_outcome(lambda L: L.rand_like(L.ones(2, dtype=L.int64)), raises=True, match="not implemented for 'Long'")


# ----------------------------------------------------------------- random
@pytest.mark.parametrize("fn", [
    lambda L: L.rand(2, 3), lambda L: L.rand((4,), dtype=L.float64), lambda L: L.randn(3, 2),
    lambda L: L.randn(5, dtype=L.float16), lambda L: L.rand(()), lambda L: L.randint(5, (3,)),
    lambda L: L.randint(2, 5, (3, 2)), lambda L: L.randint(5, (3,), dtype=L.float32),
    lambda L: L.randint(3, size=(2,)), lambda L: L.randint(low=1, high=3, size=(2,)),
    lambda L: L.randint(2, (3,), dtype=L.bool), lambda L: L.randperm(6), lambda L: L.rand([2, 2]),
    lambda L: L.randint(-5, -2, (4,), dtype=L.int8),
])
def test_random_shape_dtype(fn):
    e, t = fn(ember), fn(torch)
    assert tuple(e.shape) == tuple(t.shape)
    assert e.dtype.name == str(t.dtype).replace("torch.", "")


def test_random_ranges():
    ember.manual_seed(0)
    u = ember.rand(4000).numpy()
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.03
    n = ember.randn(4000, dtype=ember.float64).numpy()
    assert abs(n.mean()) < 0.1 and abs(n.std() - 1) < 0.1
    r = ember.randint(-3, 4, (4000,)).numpy()
    assert r.min() == -3 and r.max() == 3
    p = ember.randperm(50).numpy()
    assert sorted(p.tolist()) == list(range(50)) and p.dtype == np.int64


@pytest.mark.parametrize("fn", [
    lambda: ember.rand(3, 2), lambda: ember.randn(4, dtype=ember.float64), lambda: ember.randint(0, 100, (5,)),
    lambda: ember.randperm(10), lambda: ember.rand_like(ember.zeros(3)),
    lambda: ember.zeros(4).uniform_(-1, 1), lambda: ember.zeros(4).normal_(2.0, 0.5),
])
def test_manual_seed_reproducible(fn):
    ember.manual_seed(123)
    a = fn().numpy().copy()
    b = fn().numpy().copy()
    ember.manual_seed(123)
    c = fn().numpy().copy()
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)
    ember.manual_seed(124)
    assert not np.array_equal(fn().numpy(), a)
    assert ember.initial_seed() == 124


@pytest.mark.parametrize("fn,match", [
    (lambda L: L.rand(2, dtype=L.int64), "\"check_uniform_bounds\" not implemented for 'Long'"),
    (lambda L: L.randn(2, dtype=L.int64), "\"normal_kernel_cpu\" not implemented for 'Long'"),
    (lambda L: L.randint(5, 5, (3,)), "random_ expects 'from' to be less than 'to', but got from=5 >= to=5"),
    (lambda L: L.randint(5, (3,), dtype=L.bool), "to - 1 is out of bounds for bool"),
    (lambda L: L.rand(-1), "negative dimension"),
    (lambda L: L.randint(3, (-1,)), "negative dimension"),
])
def test_random_errors(fn, match):
    same_outcome(fn, raises=True, match=match)


# ----------------------------------------------------------------- from_numpy / as_tensor
def test_from_numpy_shares_memory_both_ways():
    a = np.zeros((2, 3))
    t = ember.from_numpy(a)
    a[0, 1] = 5
    assert t[0, 1].item() == 5
    t.add_(1)
    assert a[1, 2] == 1 and a[0, 1] == 6
    t[1] = 7.0
    assert (a[1] == 7).all()
    assert t.numpy() is a or np.shares_memory(t.numpy(), a)


@pytest.mark.parametrize("np_dtype", [np.float64, np.float32, np.float16, np.int64, np.int32, np.int16,
                                      np.int8, np.uint8, np.bool_])
def test_from_numpy_dtypes_and_strides(np_dtype):
    a = np.arange(6).reshape(2, 3).astype(np_dtype)
    e, t = ember.from_numpy(a), torch.from_numpy(a)
    assert_same(e, t)
    for view in (a[:, ::2], a.T, a[1]):
        e, t = ember.from_numpy(view), torch.from_numpy(view)
        assert_same(e, t)
        assert e.stride() == t.stride() and e.is_contiguous() == t.is_contiguous()


def test_from_numpy_errors():
    same_outcome(lambda L: L.from_numpy([1, 2]), raises=True, match="expected np.ndarray")
    same_outcome(lambda L: L.from_numpy(np.array(["a"])), raises=True)


def test_numpy_of_tensor_shares_memory():
    t = ember.zeros(3)
    a = t.numpy()
    a[0] = 4
    assert t[0].item() == 4
    with pytest.raises(RuntimeError, match="Use tensor.detach\\(\\).numpy\\(\\) instead"):
        ember.zeros(2, requires_grad=True).numpy()


def test_as_tensor():
    a = np.zeros(3, dtype=np.int32)
    t = ember.as_tensor(a)
    a[0] = 9
    assert t.dtype == ember.int32 and t[0].item() == 9       # shares a NumPy array's memory
    c = ember.as_tensor(a, dtype=ember.float64)
    a[1] = 3
    assert c.tolist() == [9.0, 0.0, 0.0]                    # a cast copies
    x = ember.ones(2)
    assert ember.as_tensor(x) is x
    same_outcome(lambda L: L.as_tensor([1, 2]), raises=False)
    same_outcome(lambda L: L.as_tensor([1, 2.0], dtype=L.float64), raises=False)
    same_outcome(lambda L: L.as_tensor(3.5), raises=False)
    same_outcome(lambda L: L.as_tensor(L.ones(2), dtype=L.float64), raises=False)


def test_set_default_dtype_effect(default_float64):
    assert ember.get_default_dtype() is ember.float64
    for fn in (lambda L: L.tensor([1.5]), lambda L: L.zeros(2), lambda L: L.ones(1), lambda L: L.full((1,), 2.5),
               lambda L: L.arange(0.5, 2), lambda L: L.linspace(0, 1, 3), lambda L: L.eye(2), lambda L: L.rand(2),
               lambda L: L.randn(2), lambda L: L.tensor(3) * 0.5, lambda L: L.empty(2), lambda L: L.full((1,), 2)):
        e, t = fn(ember), fn(torch)
        assert e.dtype.name == str(t.dtype)[6:]


def test_set_default_dtype_rejects_integers():
    same_outcome(lambda L: L.set_default_dtype(L.int64), raises=True, match="only floating-point types are supported")


# ----------------------------------------------------------------- conversions
CASTS = ["float", "double", "half", "long", "int", "bool", "short", "char", "byte"]


@pytest.mark.parametrize("method", CASTS)
@pytest.mark.parametrize("src", [np.array([-1.7, 0.0, 2.5, 3.49]), np.array([3, 0, -2]), np.array([True, False]),
                                 np.array([[1.5, -0.5]], dtype=np.float32)], ids=["f64", "i64", "bool", "f32"])
def test_cast_methods(method, src):
    if method == "byte" and (src < 0).any():
        src = np.abs(src)   # negative -> uint8 is platform-defined
    check(lambda x: getattr(x, method)(), [src], grad=False)
    check(lambda x: getattr(x.t() if x.dim() == 2 else x, method)(), [src], grad=False)


def test_cast_to_same_dtype_returns_self():
    x = ember.ones(2)
    assert x.float() is x
    assert x.to(ember.float32) is x
    assert x.to("cpu") is x
    assert x.type(ember.float32) is x
    assert x.to(ember.float32, copy=True) is not x
    assert x.double() is not x


@pytest.mark.parametrize("fn", [
    lambda L, x: x.to(L.int32), lambda L, x: x.to("cpu", L.float64), lambda L, x: x.to(L.ones(1, dtype=L.int64)),
    lambda L, x: x.to(dtype=L.float16), lambda L, x: x.to(device="cpu", dtype=L.uint8), lambda L, x: x.to(L.float64, copy=True),
    lambda L, x: x.type(L.float64), lambda L, x: x.type("torch.DoubleTensor"), lambda L, x: x.type("torch.IntTensor"),
    lambda L, x: x.type_as(L.ones(1, dtype=L.int64)), lambda L, x: x.to(L.device("cpu")),
])
def test_to_and_type(fn):
    a = np.array([0.25, 1.75, 3.0])
    assert_same(fn(ember, ember.tensor(a)), fn(torch, torch.from_numpy(a.copy())))


@pytest.mark.parametrize("dtype,name", [("float32", "torch.FloatTensor"), ("float64", "torch.DoubleTensor"),
                                        ("int64", "torch.LongTensor"), ("bool", "torch.BoolTensor"),
                                        ("uint8", "torch.ByteTensor"), ("float16", "torch.HalfTensor")])
def test_type_name(dtype, name):
    assert ember.ones(1, dtype=getattr(ember, dtype)).type() == name == torch.ones(1, dtype=getattr(torch, dtype)).type()


def test_type_invalid_name():
    same_outcome(lambda L: L.ones(1).type("foo"), raises=True)


@pytest.mark.parametrize("dst", ["float64", "float32", "float16"])
@pytest.mark.parametrize("src", [np.float32, np.float64])
def test_cast_gradient(src, dst):
    a = RNG.standard_normal((2, 3)).astype(src)

    def fn(x):
        lib = ember if isinstance(x, ember.Tensor) else torch
        return (x.to(getattr(lib, dst)) * 3) ** 2   # IEEE-exact ops: no 1-ulp library differences

    check(fn, [a], gradcheck=src is np.float64 and dst == "float64")
    check(lambda x: x.double() * x.float().double(), [a], gradcheck=False)


def test_cast_gradient_names_and_integer_casts():
    g = ember.tensor([1.5, -2.0], requires_grad=True)
    assert g.double().grad_fn.name() == "ToCopyBackward0"
    assert g.half().grad_fn.name() == "ToCopyBackward0"
    assert not g.long().requires_grad and g.long().grad_fn is None
    assert not g.bool().requires_grad
    y = g.double()
    y.sum().backward()
    assert g.grad.dtype == ember.float32 and g.grad.tolist() == [1.0, 1.0]
