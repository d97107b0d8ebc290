"""The Tensor data model against torch 2.13: sizes, attributes, conversions to Python
and NumPy, DLPack, repr, copying and pickling, casts, ``.T``/``.mT``/``.H`` and ``.data``."""

import copy
import pickle
import warnings

import numpy as np
import pytest

import ember
from tests.oracle import outcome, same_outcome, torch

# what same_outcome asks here: an error of torch's very type and message, or torch's value
SAME_ERROR = dict(raises=True, exact_type=True, message=True, quiet=True)
SAME_VALUE = dict(raises=False, quiet=True)


def _both(fn):
    """``fn(ember)`` and ``fn(torch)``, warnings silenced; each is a value or the raised exception."""
    runs = (outcome(lambda: fn(lib), quiet=True) for lib in (ember, torch))
    return [run.value if run.error is None else run.error for run in runs]


# ---------------------------------------------------------------- sizes
def test_size_and_shape():
    x = ember.zeros(2, 3, 4)
    assert x.size() == (2, 3, 4) and x.shape == (2, 3, 4)
    assert isinstance(x.size(), ember.Size) and isinstance(x.shape, ember.Size)
    assert x.size(1) == 3 and x.size(-1) == 4 and x.shape[0] == 2
    assert x.dim() == 3 and x.ndim == 3 and x.ndimension() == 3
    assert x.numel() == 24 and x.nelement() == 24
    assert ember.zeros(()).dim() == 0 and ember.zeros(()).numel() == 1
    assert ember.zeros(0, 3).numel() == 0


def test_size_dim_out_of_range():
    same_outcome(lambda L: L.zeros(2, 3).size(2), **SAME_ERROR)
    same_outcome(lambda L: L.zeros(2, 3).size(-3), **SAME_ERROR)


@pytest.mark.parametrize("expr", [
    "L.Size([2, 3])", "L.Size([])", "L.Size([1])", "L.zeros(2, 3, 4).size()[1:]",
    "L.zeros(2, 3, 4).shape[::-1]", "L.Size([2, 3]) + (4,)", "(4,) + L.Size([2, 3])",
    "L.Size([2]) * 2", "L.Size((L.tensor(3),))", "L.Size(iter([1, 2]))",
    "pickle.loads(pickle.dumps(L.Size([5, 6])))",
])
def test_size_repr_and_type_like_torch(expr):
    e, t = _both(lambda L: eval(expr))
    assert repr(e) == repr(t).replace("torch.", "ember."), (e, t)
    assert type(e).__name__ == type(t).__name__


def test_size_values():
    s = ember.Size([2, 3, 4])
    assert s.numel() == 24 and ember.Size([]).numel() == 1
    assert s == (2, 3, 4) and s[1] == 3 and isinstance(s[1], int)
    assert list(s) == [2, 3, 4] and len(s) == 3
    assert str(s) == "ember.Size([2, 3, 4])"


@pytest.mark.parametrize("bad", ["[2.5]", "[None]", "['a']", "3"])
def test_size_rejects_non_ints(bad):
    same_outcome(lambda L: L.Size(eval(bad)), **SAME_ERROR)


# ---------------------------------------------------------------- attributes
def test_dtype_and_device_attributes():
    x = ember.zeros(2, 3)
    assert x.dtype is ember.float32 and x.dtype == ember.float32
    assert ember.zeros(2, dtype=ember.float64).dtype is ember.float64
    assert ember.tensor([1, 2]).dtype is ember.int64
    assert ember.tensor([True]).dtype is ember.bool
    assert x.device == ember.device("cpu") and str(x.device) == "cpu"
    assert x.device.type == "cpu" and x.device.index is None
    assert repr(x.device) == "device(type='cpu')"
    assert not x.is_cuda
    assert x.is_floating_point() and not ember.tensor([1]).is_floating_point()


def test_device_objects_like_torch():
    for spec in ["'cpu'", "'cuda'", "'cuda:1'", "'cuda', 2"]:
        e, t = _both(lambda L: eval(f"L.device({spec})"))
        assert (repr(e), str(e), e.type, e.index) == (repr(t), str(t), t.type, t.index)
    assert ember.device("cuda:1") == "cuda:1" and ember.device("cpu") != ember.device("cuda")
    same_outcome(lambda L: L.device("cuda:-1"), **SAME_ERROR)


def test_layout_attributes():
    x = ember.arange(12.0).reshape(3, 4)
    t = torch.arange(12.0).reshape(3, 4)
    assert x.stride() == t.stride() and x.t().stride() == t.t().stride()
    assert x.stride(1) == 1 and x.element_size() == 4
    assert x.is_contiguous() and not x.t().is_contiguous()
    assert x.t().contiguous().is_contiguous()
    assert x.data_ptr() == x.view(12).data_ptr() == x.detach().data_ptr()


# ---------------------------------------------------------------- to Python / NumPy
def test_item_and_tolist():
    assert same_outcome(lambda L: L.tensor([1.5]).item(), **SAME_VALUE)[0].value == 1.5
    assert type(ember.tensor(3).item()) is int and type(ember.tensor(True).item()) is bool
    assert type(ember.tensor([2.0]).item()) is float
    same_outcome(lambda L: L.tensor([[1, 2], [3, 4]]).tolist(), **SAME_VALUE)
    same_outcome(lambda L: L.tensor(2.5).tolist(), **SAME_VALUE)
    same_outcome(lambda L: L.tensor([1.0, 2.0], requires_grad=True).tolist(), **SAME_VALUE)
    same_outcome(lambda L: L.zeros(2, 0).tolist(), **SAME_VALUE)
    same_outcome(lambda L: L.tensor([1.0, 2.0]).item(), **SAME_ERROR)


def test_numpy_shares_memory():
    x = ember.arange(4.0)
    n = x.numpy()
    n[0] = 10.0
    x[1] = 20.0
    assert x.tolist() == [10.0, 20.0, 2.0, 3.0] and n.tolist() == x.tolist()
    assert n.dtype == np.float32


def test_numpy_of_requires_grad_raises():
    same_outcome(lambda L: L.tensor([1.0, 2.0], requires_grad=True).numpy(), **SAME_ERROR)
    n = ember.tensor([1.0, 2.0], requires_grad=True).numpy(force=True)
    assert n.tolist() == [1.0, 2.0]
    assert ember.tensor([1.0], requires_grad=True).detach().numpy().tolist() == [1.0]


def test_from_numpy_shares_memory_and_dtype():
    for dt in (np.float64, np.float32, np.int64, np.int32, np.uint8, np.bool_):
        a = np.zeros(4, dtype=dt)
        t = ember.from_numpy(a)
        assert t.dtype.name == str(torch.from_numpy(a).dtype).split(".")[1]
        a[1] = 1
        assert t[1].item() == a[1]
    a = np.arange(4.0)
    t = ember.from_numpy(a)
    t[2] = 7.0
    assert a[2] == 7.0 and t.numpy() is a or np.shares_memory(t.numpy(), a)


def test_from_numpy_errors():
    same_outcome(lambda L: L.from_numpy([1, 2]), **SAME_ERROR)


def test_np_asarray_of_tensor():
    x = ember.arange(3.0)
    assert np.asarray(x).tolist() == [0.0, 1.0, 2.0]
    assert np.asarray(x, dtype=np.float64).dtype == np.float64


def test_len_iter():
    assert len(ember.zeros(3, 2)) == 3
    rows = list(ember.arange(6.0).reshape(3, 2))
    assert [r.tolist() for r in rows] == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
    same_outcome(lambda L: len(L.tensor(1.0)), **SAME_ERROR)
    same_outcome(lambda L: iter(L.tensor(1.0)), **SAME_ERROR)


def test_iter_rows_are_differentiable():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    rows = [r * r for r in x * 2]
    assert all(r.requires_grad for r in rows)
    sum(rows).backward()
    assert x.grad.tolist() == [8.0, 16.0]


@pytest.mark.parametrize("expr", [
    "bool(L.tensor([0.0]))", "bool(L.tensor(1))", "bool(L.tensor([[True]]))",
    "float(L.tensor([2.5]))", "int(L.tensor(3.7))", "int(L.tensor(-3.7))", "float(L.tensor(3))",
    "[10, 20, 30][L.tensor(1)]", "range(10)[L.tensor(2):L.tensor(5)]", "list(range(5))[L.tensor([3])]",
    "L.tensor(5).__index__()", "int(L.tensor(True))",
])
def test_python_number_protocols(expr):
    e, t = _both(lambda L: eval(expr))
    assert e == t and type(e) is type(t), (e, t)


@pytest.mark.parametrize("expr", [
    "bool(L.tensor([1.0, 2.0]))", "bool(L.tensor([]))", "float(L.tensor([1.0, 2.0]))",
    "int(L.tensor([1, 2]))", "[1, 2][L.tensor(1.0)]", "[1, 2][L.tensor([0, 1])]",
    "int(L.tensor(float('nan')))",
])
def test_python_number_protocol_errors(expr):
    same_outcome(lambda L: eval(expr), **SAME_ERROR)


def test_float_of_requires_grad_warns():
    x = ember.tensor([1.5], requires_grad=True)
    with pytest.warns(UserWarning, match="requires_grad=True to a scalar"):
        assert float(x) == 1.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.item() == 1.5 and int(x) == 1


# ---------------------------------------------------------------- DLPack
def test_dlpack_ember_to_torch_shares_memory():
    e = ember.arange(6.0).reshape(2, 3)
    t = torch.from_dlpack(e)
    assert t.shape == (2, 3) and t.dtype == torch.float32
    t[0, 0] = 100.0
    e[1, 2] = -1.0
    assert e[0, 0].item() == 100.0 and t[1, 2].item() == -1.0


def test_dlpack_torch_to_ember_shares_memory():
    t = torch.arange(6, dtype=torch.int64).reshape(2, 3)
    e = ember.from_dlpack(t)
    assert e.shape == (2, 3) and e.dtype is ember.int64
    e[0, 0] = 100
    t[1, 2] = -1
    assert t[0, 0].item() == 100 and e[1, 2].item() == -1


def test_dlpack_keeps_strides():
    t = torch.arange(6.0).reshape(2, 3).t()
    e = ember.from_dlpack(t)
    assert e.stride() == t.stride() and e.tolist() == t.tolist()


def test_dlpack_with_numpy():
    e = ember.arange(4.0)
    n = np.from_dlpack(e)
    n[1] = 50.0
    assert e[1].item() == 50.0
    a = np.arange(3)
    e2 = ember.from_dlpack(a)
    e2[0] = 9
    assert a[0] == 9 and e2.dtype is ember.int64


def test_dlpack_of_requires_grad_raises():
    e = ember.ones(2, requires_grad=True)
    t = torch.ones(2, requires_grad=True)
    for x in (e, t):
        with pytest.raises(BufferError, match="Can't export tensors that require gradient"):
            x.__dlpack__()
    assert torch.from_dlpack(e.detach()).tolist() == [1.0, 1.0]


# ---------------------------------------------------------------- repr
@pytest.mark.parametrize("expr", [
    "L.tensor([1.0, 2.0], requires_grad=True)",
    "L.tensor([1.0, 2.0], requires_grad=True) * 2",
    "L.tensor([1.0, 2.0], dtype=L.float64, requires_grad=True).exp()",
    "L.tensor([[1, 2], [3, 4]])",
    "L.zeros(0, 3)",
    "L.tensor(3.5, requires_grad=True).exp()",
    "L.tensor([1.0, 2.0], requires_grad=True).sum(0)",
    "L.arange(6.0).reshape(2, 3).requires_grad_().t()",
    "L.tensor([True, False])",
    "L.tensor([1.5, -2.25], dtype=L.float16)",
    "L.tensor([1.0, 2.0], requires_grad=True).detach()",
    "L.tensor([1e-8, 1e8], dtype=L.float64)",
])
def test_repr_matches_torch(expr):
    e, t = _both(lambda L: eval(expr))
    assert repr(e) == repr(t).replace("torch.", "ember."), (repr(e), repr(t))
    assert str(e) == str(t).replace("torch.", "ember.")


# ---------------------------------------------------------------- copy and pickle
def test_deepcopy_leaf_with_grad():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    y = copy.deepcopy(x)
    y.data[0] = 5.0
    assert x.tolist() == [1.0, 2.0] and y.tolist() == [5.0, 2.0]
    assert y.requires_grad and y.is_leaf
    assert y.grad.tolist() == [2.0, 4.0] and y.grad is not x.grad
    assert not np.shares_memory(y.grad.numpy(), x.grad.numpy())


def test_deepcopy_non_leaf_raises():
    e, t = _both(lambda L: copy.deepcopy(L.tensor([1.0], requires_grad=True) * 2))
    assert type(e) is type(t) is RuntimeError
    assert str(t).startswith(str(e)[:90])


def test_deepcopy_keeps_identity_and_shared_storage():
    def f(L):
        x = L.arange(6.0)
        a, b, v = copy.deepcopy([x, x, x[2:4]])
        a[2] = 100.0
        return a is b, v.tolist(), x.tolist()
    assert same_outcome(f, **SAME_VALUE)[0].value == (True, [100.0, 3.0], [0.0, 1.0, 2.0, 3.0, 4.0, 5.0])


def test_copy_copy_shares_data():
    def f(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
        y = copy.copy(x)
        return y is x, y.data_ptr() == x.data_ptr(), y.requires_grad, y.is_leaf, y.grad
    assert same_outcome(f, **SAME_VALUE)[0].value == (False, True, True, True, None)


@pytest.mark.parametrize("expr", [
    "L.tensor([1.0, 2.0], requires_grad=True)", "L.tensor([1, 2], dtype=L.int16)",
    "L.arange(12.0).reshape(3, 4).t()", "L.tensor(3.5, dtype=L.float64)", "L.zeros(0, 2)",
])
def test_pickle_roundtrip(expr):
    def f(L):
        x = eval(expr)
        y = pickle.loads(pickle.dumps(x))
        return repr(y), y.is_leaf, y.requires_grad, tuple(y.shape), y.tolist()
    e, t = _both(f)
    assert e[0] == t[0].replace("torch.", "ember.") and e[1:] == t[1:]


# ---------------------------------------------------------------- casts
@pytest.mark.parametrize("expr", [
    "L.tensor([1.5, 2.7]).to(L.int64)", "L.tensor([1, 2]).float()", "L.tensor([1.0, 2.0]).double()",
    "L.tensor([1, 2]).to(L.float16)", "L.tensor([1, 0, 3]).bool()", "L.tensor([-1.7]).long()",
    "L.tensor([1.7]).int()", "L.tensor([1.0]).half()", "L.tensor([300]).to(L.uint8)",
    "L.tensor([1.5]).to('cpu')", "L.tensor([1.5]).to(L.device('cpu'), L.float64)",
    "L.tensor([1.5]).to(L.tensor([1], dtype=L.int8))", "L.tensor([1.5]).to(dtype=L.float64)",
    "L.tensor([1.5]).type(L.int32)", "L.tensor([2.5]).type_as(L.tensor([1]))",
    "L.tensor([1.5]).short()", "L.tensor([1.5]).char()", "L.tensor([1.5]).byte()",
])
def test_casts_match_torch(expr):
    e, t = _both(lambda L: eval(expr))
    assert repr(e) == repr(t).replace("torch.", "ember."), (e, t)


def test_type_names():
    # ember keeps torch's legacy type strings so code comparing them keeps working
    assert ember.tensor([1.5]).type() == torch.tensor([1.5]).type()
    assert ember.tensor([1]).type() == torch.tensor([1]).type()
    assert ember.tensor([1.5]).type("ember.DoubleTensor").dtype is ember.float64


def test_cast_returns_self_when_nothing_changes():
    def f(L):
        x = L.tensor([1.5])
        return (x.to(L.float32) is x, x.to("cpu") is x, x.float() is x, x.cpu() is x,
                x.to(L.float32, copy=True) is x)
    same_outcome(f, **SAME_VALUE)


def test_cast_is_differentiable():
    def f(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        y = x.to(L.float64)
        (y * y).sum().backward()
        return repr(y), x.grad.tolist(), x.grad.dtype == L.float32
    e, t = _both(f)
    assert e[0] == t[0].replace("torch.", "ember.") and e[1:] == t[1:]


def test_float_to_int_cast_has_no_grad():
    def f(L):
        y = L.tensor([1.5], requires_grad=True).long()
        return y.requires_grad, y.grad_fn
    same_outcome(f, **SAME_VALUE)


# ---------------------------------------------------------------- clone / detach / flags
def test_clone_detach_requires_grad():
    def f(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        c, d = x.clone(), x.detach()
        r = L.tensor([1.0]).requires_grad_()
        return (c.is_leaf, type(c.grad_fn).__name__, c.data_ptr() == x.data_ptr(),
                d.requires_grad, d.is_leaf, d.data_ptr() == x.data_ptr(),
                r.requires_grad, r.requires_grad_(False).requires_grad, x.requires_grad)
    same_outcome(f, **SAME_VALUE)


def test_clone_gradient():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    (x.clone() * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_tensor_constructor_requires_grad():
    x = ember.tensor([1.0], requires_grad=True)
    assert x.requires_grad and x.is_leaf and x.grad is None and x.grad_fn is None
    assert ember.zeros(2, requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match="floating point"):
        ember.tensor([1], requires_grad=True)


# ---------------------------------------------------------------- transposes and .data
@pytest.mark.parametrize("expr", [
    "L.arange(6.0).reshape(2, 3).T", "L.arange(24.0).reshape(2, 3, 4).T", "L.tensor([1.0, 2.0]).T",
    "L.tensor(1.0).T", "L.arange(6.0).reshape(2, 3).mT", "L.arange(24.0).reshape(2, 3, 4).mT",
    "L.arange(6.0).reshape(2, 3).H", "L.arange(24.0).reshape(2, 3, 4).mH",
    "L.arange(6.0).reshape(2, 3).mH", "L.tensor(1.0).mT", "L.tensor(1.0).mH",
])
def test_transposes_match_torch(expr):
    e, t = _both(lambda L: eval(expr))
    assert repr(e) == repr(t).replace("torch.", "ember."), (e, t)


@pytest.mark.parametrize("expr", ["L.tensor([1.0]).mT", "L.tensor([1.0]).mH", "L.zeros(2, 3, 4).H",
                                  "L.tensor([1.0]).H"])
def test_transpose_errors(expr):
    same_outcome(lambda L: eval(expr), **SAME_ERROR)


@pytest.mark.parametrize("attr, advice", [("mT", "the identity"), ("mH", "x.conj")])
def test_matrix_transposes_of_0d_warn(attr, advice):
    with pytest.warns(UserWarning, match=f"Tensor.{attr} is deprecated on 0-D tensors.*{advice}") as caught:
        getattr(ember.tensor(1.0), attr)
    assert caught[0].filename == __file__


def test_T_on_non_matrix_warns():
    with pytest.warns(UserWarning, match="dimension other than 2"):
        ember.zeros(2, 3, 4).T
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.zeros(2, 3).T


def test_T_is_a_differentiable_view():
    x = ember.arange(6.0).reshape(2, 3).requires_grad_()
    y = x.T
    assert y.shape == (3, 2) and y.data_ptr() == x.data_ptr()
    (y * ember.arange(6.0).reshape(3, 2)).sum().backward()
    assert x.grad.tolist() == [[0.0, 2.0, 4.0], [1.0, 3.0, 5.0]]


def test_data_attribute():
    def f(L):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        d = x.data
        d[0] = 7.0
        x.data = L.tensor([3.0, 4.0, 5.0])
        return d.requires_grad, d.is_leaf, x.tolist(), x.requires_grad, x._version
    same_outcome(f, **SAME_VALUE)
    same_outcome(lambda L: setattr(L.tensor([1.0]), "data", [1.0]), **SAME_ERROR)


# ---------------------------------------------------------------- legacy constructor and extras
@pytest.mark.parametrize("expr", [
    "L.Tensor([1, 2])", "L.Tensor((1, 2))", "L.Tensor(np.array([1, 2]))", "L.Tensor([[1.5]])",
    "L.Tensor(2, 3).shape", "L.Tensor(L.Size([2, 2])).shape", "L.Tensor().shape", "L.Tensor(0).shape",
    "L.Tensor(L.tensor([1.0, 2.0]))",
])
def test_legacy_constructor(expr):
    e, t = _both(lambda L: eval(expr))
    assert repr(e) == repr(t).replace("torch.", "ember."), (e, t)


@pytest.mark.parametrize("expr", [
    "reversed(L.tensor([1, 2, 3]))", "reversed(L.tensor(1))", "reversed(L.arange(6).reshape(3, 2))",
    "(2 in L.tensor([1, 2, 3]), 5 in L.tensor([1, 2, 3]), L.tensor(2) in L.tensor([[1, 2]]))",
    "f'{L.tensor(2.5):.3f}'", "f'{L.tensor(7):>4}'", "f'{L.tensor([2.5])}'", "format(L.tensor([1, 2]))",
    "f'{L.tensor(2.5, requires_grad=True):.1f}'",
    "(L.tensor([1.0, 2.0]).nbytes, L.tensor([1.0, 2.0]).itemsize, L.zeros(3, dtype=L.int16).nbytes)",
    "(L.arange(10.0)[3:].view(7)[2:].storage_offset(), L.arange(4.0).storage_offset())",
    "L.arange(12.0).reshape(3, 4).t()[1:].storage_offset()",
    "(L.tensor(1.0).get_device(), L.tensor(1.0).is_complex(), L.tensor(1.0).is_sparse)",
])
def test_python_protocols_and_metadata(expr):
    e, t = _both(lambda L: eval(expr))
    assert not isinstance(e, Exception) and not isinstance(t, Exception), (e, t)
    assert repr(e) == repr(t).replace("torch.", "ember."), (e, t)


@pytest.mark.parametrize("expr", [
    "'a' in L.tensor([1, 2])", "f'{L.tensor([2.5]):.3f}'", "f'{L.tensor([2.5, 1.0]):.3f}'",
])
def test_python_protocol_errors(expr):
    same_outcome(lambda L: eval(expr), **SAME_ERROR)


def test_tensor_from_python_floats_in_float64_is_exact():
    assert ember.tensor([0.3], dtype=ember.float64).item() == 0.3
