"""1.0-era names that scripts use besides the ops: dtype limits, the default tensor
type, ``Tensor.new``, print options, ``std_mean``/``var_mean``, the in-place functions,
``range``, ``fill_diagonal_``, ``apply_``/``map_``, ``is_storage``, ``clip_grad_norm``;
each compared with torch."""

import warnings

import numpy as np
import pytest

import ember
from tests.oracle import check

torch = pytest.importorskip("torch")

FLOATS = ["float16", "float32", "float64"]
INTS = ["uint8", "int8", "int16", "int32", "int64"]


@pytest.mark.parametrize("name", FLOATS)
def test_finfo_matches_torch(name):
    e, t = ember.finfo(getattr(ember, name)), torch.finfo(getattr(torch, name))
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(e, attr) == getattr(t, attr), attr
    assert e.dtype == t.dtype


def test_finfo_default_is_the_default_dtype():
    assert ember.finfo().eps == torch.finfo().eps


@pytest.mark.parametrize("name", INTS)
def test_iinfo_matches_torch(name):
    e, t = ember.iinfo(getattr(ember, name)), torch.iinfo(getattr(torch, name))
    assert (e.bits, e.min, e.max, e.dtype) == (t.bits, t.min, t.max, t.dtype)


@pytest.mark.parametrize("call", [lambda m: m.finfo(m.int32), lambda m: m.iinfo(m.float32),
                                  lambda m: m.iinfo(m.bool)])
def test_limits_refuse_the_wrong_kind(call):
    with pytest.raises(TypeError):
        call(torch)
    with pytest.raises(TypeError, match="info"):
        call(ember)


@pytest.mark.parametrize("spec", ["torch.DoubleTensor", "DoubleTensor", "FloatTensor"])
def test_set_default_tensor_type(spec):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.set_default_tensor_type(spec if spec.startswith("torch") else getattr(torch, spec))
        ember.set_default_tensor_type(spec if spec.startswith("torch") else getattr(ember, spec))
        assert ember.ones(2).dtype.name == str(torch.ones(2).dtype).split(".")[1]
        assert ember.get_default_dtype().name == str(torch.get_default_dtype()).split(".")[1]
    finally:
        torch.set_default_dtype(torch.float32)
        ember.set_default_dtype(ember.float32)


@pytest.mark.parametrize("spec", ["torch.LongTensor", "torch.NoSuchTensor", 3])
def test_set_default_tensor_type_refuses(spec):
    with pytest.raises(TypeError):
        ember.set_default_tensor_type(spec)
    assert ember.get_default_dtype() is ember.float32


@pytest.mark.parametrize("args", [(2,), (2, 3), ([1, 2],), ([[1.5], [2.0]],), ()])
@pytest.mark.parametrize("dtype", ["float64", "int32"])
def test_tensor_new(args, dtype):
    e = ember.ones(1, dtype=getattr(ember, dtype)).new(*args)
    t = torch.ones(1, dtype=getattr(torch, dtype)).new(*args)
    assert tuple(e.shape) == tuple(t.shape) and e.dtype.name == dtype
    if args and isinstance(args[0], list):
        np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_tensor_new_from_size_and_errors():
    x = ember.ones(1, dtype=ember.float64)
    assert x.new(ember.Size([2, 2])).shape == (2, 2)
    with pytest.raises(TypeError, match="new"):
        x.new("abc")


def test_printoptions_are_exported():
    try:
        ember.set_printoptions(precision=2)
        assert repr(ember.tensor([1.23456])) == "tensor([1.23])"
    finally:
        ember.set_printoptions(profile="default")
    with ember.printoptions(precision=1):
        assert ember.get_printoptions()["precision"] == 1


# ---------------------------------------------------------------- std_mean / var_mean
_SPREAD_CALLS = {
    "all": lambda f, x: f(x),
    "unbiased_positional": lambda f, x: f(x, False),
    "dim": lambda f, x: f(x, 1),
    "dims_keepdim": lambda f, x: f(x, (0, 2), keepdim=True),
    "dim_unbiased_keepdim": lambda f, x: f(x, 1, False, True),
    "correction": lambda f, x: f(x, dim=2, correction=0),
    "correction_2": lambda f, x: f(x, dim=(1,), correction=2, keepdim=True),
}


@pytest.mark.parametrize("name", ["std_mean", "var_mean"])
@pytest.mark.parametrize("how", sorted(_SPREAD_CALLS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_spread_and_mean_match_torch(name, how, dtype):
    call = _SPREAD_CALLS[how]
    x = np.random.default_rng(1).standard_normal((3, 4, 5)).astype(dtype)
    check(lambda v: call(getattr(ember, name), v), [x], torch_fn=lambda v: call(getattr(torch, name), v))


@pytest.mark.parametrize("name", ["std_mean", "var_mean"])
def test_spread_and_mean_share_one_node_named_as_torchs(name):
    e = getattr(ember, name)(ember.ones(3, requires_grad=True))
    t = getattr(torch, name)(torch.ones(3, requires_grad=True))
    assert type(e) is tuple and len(e) == 2
    assert e[0].grad_fn is e[1].grad_fn
    assert e[0].grad_fn.name() == type(t[0].grad_fn).__name__
    assert [x.item() for x in e] == [x.item() for x in t]  # std of equal values: 0, no NaN


@pytest.mark.parametrize("name", ["std_mean", "var_mean"])
@pytest.mark.parametrize("call,error", [
    (lambda f, L: f(L.arange(3)), RuntimeError),
    (lambda f, L: f(L.ones(3), 3), IndexError),
    (lambda f, L: f(L.ones(3), unbiased=True, correction=1), TypeError),
    (lambda f, L: f([1.0, 2.0]), TypeError),
])
def test_spread_and_mean_refuse_as_torch(name, call, error):
    with pytest.raises(error):
        call(getattr(torch, name), torch)
    with pytest.raises(error, match=name if error is RuntimeError else None):
        call(getattr(ember, name), ember)


# ---------------------------------------------------------------- in-place functions
def test_every_in_place_method_that_torch_has_as_a_function_is_one():
    methods = [n for n in dir(ember.Tensor) if n.endswith("_") and not n.startswith("_")]
    wanted = [n for n in methods if hasattr(torch, n)]
    assert len(wanted) > 30
    assert [n for n in wanted if not hasattr(ember, n)] == []


@pytest.mark.parametrize("name,args,kwargs", [
    ("relu_", (), {}), ("sigmoid_", (), {}), ("tanh_", (), {}), ("exp_", (), {}), ("abs_", (), {}),
    ("clamp_", (), {"min": -0.5, "max": 0.5}), ("clamp_", (-0.2,), {}), ("neg_", (), {}),
    ("fill_", (3.0,), {}), ("zero_", (), {}), ("floor_", (), {}), ("sqrt_", (), {}),
])
def test_in_place_functions_match_torch(name, args, kwargs):
    x = np.random.default_rng(2).standard_normal((2, 3))
    if name == "sqrt_":
        x = np.abs(x)
    e, t = ember.tensor(x), torch.tensor(x)
    e_out, t_out = getattr(ember, name)(e, *args, **kwargs), getattr(torch, name)(t, *args, **kwargs)
    assert e_out is e and t_out is t
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-12)


def test_addmv_function_in_place_forms():
    m, v = np.ones((2, 3)), np.arange(3.0)
    for lib in (torch, ember):
        y = lib.ones(2, dtype=lib.float64)
        assert lib.addmv_(y, lib.tensor(m), lib.tensor(v), beta=2, alpha=0.5) is y
        assert y.tolist() == [3.5, 3.5]


# ---------------------------------------------------------------- ember.range
@pytest.mark.parametrize("args,kwargs", [
    ((1, 4), {}), ((1, 4, 0.5), {}), ((0, 1, 0.3), {}), ((4, 1, -1), {}), ((1, 1), {}),
    ((1, 4), {"dtype": "int64"}), ((0.5, 3.7, 1.1), {"dtype": "float64"}),
    ((), {"start": 0, "end": 2, "step": 1}), ((-3, 3, 2), {"dtype": "int32"}),
])
def test_range_includes_the_end_and_warns_as_torch(args, kwargs):
    results = []
    for lib in (torch, ember):
        kw = {k: getattr(lib, v) if k == "dtype" else v for k, v in kwargs.items()}
        with pytest.warns(UserWarning, match="range is deprecated"):
            results.append(lib.range(*args, **kw))
    t, e = results
    assert e.dtype.name == str(t.dtype).split(".")[1]
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-7)


def test_range_takes_0d_tensors_requires_grad_and_out():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = ember.range(ember.tensor(0), ember.tensor(2), requires_grad=True)
        out = ember.empty(3)
        assert ember.range(0, 2, out=out) is out
    assert r.requires_grad and r.tolist() == out.tolist() == [0.0, 1.0, 2.0]


@pytest.mark.parametrize("args,error", [
    ((1, 4, 0), RuntimeError), ((1, 4, -1), RuntimeError), ((0, float("nan")), RuntimeError),
    ((0, float("inf")), RuntimeError), (("a", 3), TypeError), ((4,), TypeError),
])
def test_range_refuses_as_torch(args, error):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error):
            torch.range(*args)
        with pytest.raises(error):
            ember.range(*args)


# ---------------------------------------------------------------- fill_diagonal_
@pytest.mark.parametrize("shape,value,wrap,transposed", [
    ((3, 3), 5, False, False), ((7, 3), 5, False, False), ((7, 3), 5, True, False),
    ((3, 7), 5, True, False), ((2, 2, 2), -1.5, False, False), ((4, 4, 4, 4), 2, False, False),
    ((2, 0), 1, False, False), ((3, 4), 1, True, True), ((7, 3), 1, True, True), ((8, 3), 2, True, False),
])
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_fill_diagonal_matches_torch(shape, value, wrap, transposed, dtype):
    results = []
    for lib in (torch, ember):
        x = lib.zeros(*shape, dtype=getattr(lib, dtype))
        x = x.t() if transposed else x
        assert x.fill_diagonal_(value, wrap=wrap) is x
        results.append(x.numpy().copy())
    np.testing.assert_array_equal(results[1], results[0])


def test_fill_diagonal_takes_a_0d_tensor_and_truncates_for_integers():
    assert ember.zeros(2, 2).fill_diagonal_(ember.tensor(2.0)).tolist() == [[2.0, 0.0], [0.0, 2.0]]
    assert ember.zeros(2, 2, dtype=ember.int64).fill_diagonal_(2.7).tolist() == [[2, 0], [0, 2]]


def test_fill_diagonal_gradient_as_torch():
    grads = []
    for lib in (torch, ember):
        w = lib.tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
        y = (w * 2).fill_diagonal_(0.5, wrap=True)
        (y * lib.tensor(np.linspace(1, 2, 12).reshape(4, 3))).sum().backward()
        grads.append((y.detach().numpy(), w.grad.numpy()))
    for t, e in zip(*grads):
        np.testing.assert_allclose(e, t)


@pytest.mark.parametrize("make,value,error", [
    (lambda L: L.zeros(3), 1, RuntimeError),
    (lambda L: L.zeros(2, 3, 2), 1, RuntimeError),
    (lambda L: L.zeros(3, 3), "a", TypeError),
    (lambda L: L.zeros(3, 3, requires_grad=True), 1, RuntimeError),
])
def test_fill_diagonal_refuses_as_torch(make, value, error):
    with pytest.raises(error):
        make(torch).fill_diagonal_(value)
    with pytest.raises(error):
        make(ember).fill_diagonal_(value)


# ---------------------------------------------------------------- apply_ / map_
@pytest.mark.parametrize("dtype,fn", [
    ("float64", lambda v: v * 2 - 1), ("int64", lambda v: v * 2.5), ("bool", lambda v: not v),
    ("float32", lambda v: float(type(v) is float)), ("int32", lambda v: int(type(v) is int)),
])
def test_apply_matches_torch(dtype, fn):
    results = []
    for lib in (torch, ember):
        x = lib.tensor([[0, 1, 2], [3, 4, 5]], dtype=getattr(lib, dtype))
        view = x[:, 1:]
        assert view.apply_(fn) is view
        results.append(x.numpy().copy())
    np.testing.assert_array_equal(results[1], results[0])


def test_map_matches_torch_with_broadcasting():
    results = []
    for lib in (torch, ember):
        x = lib.arange(6.0).reshape(2, 3)
        assert x.map_(lib.tensor([1.0, 10.0, 100.0]), lambda a, b: a * b + (type(a) is float)) is x
        results.append(x.numpy())
    np.testing.assert_array_equal(results[1], results[0])


@pytest.mark.parametrize("call,error", [
    (lambda L: L.ones(3, requires_grad=True).apply_(lambda v: v), RuntimeError),
    (lambda L: L.ones(3, requires_grad=True).clone().apply_(lambda v: v), RuntimeError),
    (lambda L: L.ones(3).apply_(lambda v: None), TypeError),
    (lambda L: L.ones(3).apply_(lambda v: "x"), TypeError),
    (lambda L: L.ones(3).apply_(3), TypeError),
    (lambda L: L.ones(3).map_(L.ones(3, requires_grad=True), lambda a, b: a), RuntimeError),
    (lambda L: L.ones(3, requires_grad=True).map_(L.ones(3), lambda a, b: a), RuntimeError),
    (lambda L: L.ones(3).map_(L.ones(3, dtype=L.int64), lambda a, b: a), TypeError),
    (lambda L: L.ones(2).map_(L.ones(2, 2), lambda a, b: a), RuntimeError),
    (lambda L: L.ones(2).map_(3, lambda a, b: a), TypeError),
])
def test_apply_and_map_refuse_as_torch(call, error):
    with pytest.raises(error):
        call(torch)
    with pytest.raises(error):
        call(ember)


def test_apply_refusal_names_detach():
    with pytest.raises(RuntimeError, match=r"requires grad. Use tensor.detach\(\).apply_\(\)"):
        ember.ones(3, requires_grad=True).apply_(lambda v: v)


# ---------------------------------------------------------------- is_storage, clip_grad_norm
@pytest.mark.parametrize("obj", [lambda L: L.ones(2), lambda L: [1], lambda L: None])
def test_is_storage_is_false_for_non_storages_as_torch(obj):
    assert ember.is_storage(obj(ember)) is torch.is_storage(obj(torch)) is False


def test_clip_grad_norm_alias_warns_as_torch_and_clips():
    results = []
    for lib in (torch, ember):
        p = lib.nn.Parameter(lib.ones(3, dtype=lib.float64))
        p.grad = lib.tensor([3.0, 4.0, 0.0], dtype=lib.float64)
        with pytest.warns(FutureWarning, match="clip_grad_norm_"):
            total = lib.nn.utils.clip_grad_norm(p, 1.0, norm_type=2.0)
        results.append((total.item(), p.grad.numpy()))
    assert results[0][0] == results[1][0] == 5.0
    np.testing.assert_allclose(results[1][1], results[0][1])
    assert not hasattr(torch.nn.utils, "clip_grad_value") and not hasattr(ember.nn.utils, "clip_grad_value")
