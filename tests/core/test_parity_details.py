"""Small torch-parity details: the ``grad_fn`` names of indexing, splitting, stacking and
matrix products; ELU/SELU/CELU's second derivative at exactly 0; in-place threshold's
gradient mask. Every expectation is read from torch 2.13 at run time."""

import numpy as np
import pytest

import ember
import ember.nn.functional as EF

from tests.oracle import as_numpy, assert_same, check, torch

F = torch.nn.functional


def _names(y):
    node = y.grad_fn
    return type(node).__name__, node.name()


def _pair(shape, seed=0, rg=True):
    data = np.random.default_rng(seed).standard_normal(shape)
    e = ember.tensor(data, requires_grad=rg)
    t = torch.tensor(data, requires_grad=rg)
    return e, t


# ---------------------------------------------------------------- basic / advanced indexing
INDEXES = [
    ("int", lambda L: 0),
    ("negative int", lambda L: -1),
    ("slice", lambda L: slice(1, 3)),
    ("full slice alone", lambda L: slice(None)),
    ("clamped slice alone", lambda L: slice(-100, 100)),
    ("empty slice", lambda L: slice(0, 0)),
    ("strided dim 1", lambda L: (slice(None), slice(None, None, 2))),
    ("int, slice", lambda L: (0, slice(1, 3))),
    ("slice, int", lambda L: (slice(1, 3), 0)),
    (":, int", lambda L: (slice(None), 0)),
    ("two ints", lambda L: (0, 1)),
    ("three ints", lambda L: (0, 1, 2)),
    ("tuple of one int", lambda L: (0,)),
    ("tuple of one full slice", lambda L: (slice(None),)),
    ("empty tuple", lambda L: ()),
    ("ellipsis", lambda L: Ellipsis),
    ("ellipsis, int", lambda L: (Ellipsis, 0)),
    ("ellipsis, slice", lambda L: (Ellipsis, slice(1, 2))),
    ("ellipsis, full slice", lambda L: (Ellipsis, slice(None))),
    ("two full slices", lambda L: (slice(None), slice(None))),
    ("three full slices", lambda L: (slice(None),) * 3),
    ("slice past the end in a tuple", lambda L: (slice(None), slice(0, 5))),
    ("negative start in a tuple", lambda L: (slice(None), slice(-100, 100))),
    ("explicit step 1", lambda L: (slice(0, 3, 1), Ellipsis)),
    ("None", lambda L: None),
    (":, None", lambda L: (slice(None), None)),
    ("int, None", lambda L: (0, None)),
    ("None, int", lambda L: (None, 0)),
    ("slice, None", lambda L: (slice(1, 3), None)),
    ("None, slice", lambda L: (None, slice(1, 3))),
    ("None, full slice", lambda L: (None, slice(None))),
    ("None, None", lambda L: (None, None)),
    ("ellipsis, None", lambda L: (Ellipsis, None)),
    ("ellipsis, None, :", lambda L: (Ellipsis, None, slice(None))),
    (":, slice, None", lambda L: (slice(None), slice(1, 2), None)),
    ("list", lambda L: [0, 2]),
    ("int, list", lambda L: (0, [0, 1])),
    (":, list", lambda L: (slice(None), [0, 1])),
    ("long tensor", lambda L: L.tensor([2, 0])),
    ("bool True", lambda L: True),
    ("0-d long tensor", lambda L: L.tensor(1)),
    ("0-d int32 tensor, int", lambda L: (L.tensor(1, dtype=L.int32), 2)),
    ("0-d bool tensor", lambda L: L.tensor(True)),
]


@pytest.mark.parametrize("name,index", INDEXES, ids=[n for n, _ in INDEXES])
def test_getitem_grad_fn_name_and_gradient(name, index):
    e, t = _pair((3, 4, 5))
    ye, yt = e[index(ember)], t[index(torch)]
    assert _names(ye) == _names(yt)
    assert_same(ye, yt)
    w = np.random.default_rng(1).standard_normal(tuple(yt.shape))
    (ye * ember.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    assert_same(e.grad, t.grad, "grad")


def test_getitem_on_a_mask_and_on_a_scalar():
    e, t = _pair((3, 4))
    assert _names(e[e > 0]) == _names(t[t > 0]) == ("IndexBackward0", "IndexBackward0")
    se, st = _pair(())
    for index in (Ellipsis, None, ()):
        assert _names(se[index]) == _names(st[index])


def test_chained_selects_name_each_node():
    e, t = _pair((3, 4, 5))
    ye, yt = e[0][1], t[0][1]
    assert _names(ye) == _names(yt)
    inner_e = ye.grad_fn.next_functions[0][0]
    inner_t = yt.grad_fn.next_functions[0][0]
    assert type(inner_e).__name__ == type(inner_t).__name__ == "SelectBackward0"


def test_zero_dim_integer_tensor_index_is_a_view():
    # torch selects with a 0-d integer tensor (a view sharing memory), as with an int
    for L in (ember, torch):
        x = L.zeros(3, 4)
        y = x[L.tensor(1)]
        y.fill_(2.0)
        assert float(x.sum()) == 8.0 and tuple(y.shape) == (4,)
        x[L.tensor(2)] = 1.0
        assert float(x[2].sum()) == 4.0
    with pytest.raises(IndexError, match="out of bounds"):
        ember.zeros(3)[ember.tensor(3)]


@pytest.mark.parametrize("op", [
    lambda x: x.narrow(1, 0, 2),
    lambda x: x.narrow(1, 0, 4),      # torch names even a full narrow SliceBackward0
    lambda x: x.select(1, 2),
    lambda x: x.select(-1, -1),
    lambda x: x.unbind(1)[0],
    lambda x: x.unbind()[2],
    lambda x: list(x)[1],
    lambda x: x.split(2)[0],
    lambda x: x.split(3)[0],
    lambda x: x.split([1, 2])[1],
    lambda x: x.chunk(2)[1],
    lambda x: x.chunk(1)[0],
])
def test_view_op_grad_fn_names(op):
    e, t = _pair((3, 4, 5))
    ye, yt = op(e), op(t)
    assert _names(ye) == _names(yt)
    assert_same(ye, yt)
    ye.sum().backward()
    yt.sum().backward()
    assert_same(e.grad, t.grad, "grad")


def test_chunk_of_an_empty_dim_names_split_with_sizes():
    for L in (ember, torch):
        x = L.zeros(0, 3, requires_grad=True)
        assert [p.grad_fn.name() for p in x.chunk(2)] == ["SplitWithSizesBackward0"] * 2
        assert [p.grad_fn.name() for p in x.split(2)] == ["SplitBackward0"]


# ---------------------------------------------------------------- stack
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_stack_is_one_node_with_torch_gradients(dim):
    check(lambda a, b, c: ember.stack([a, b, c], dim), [np.random.default_rng(i).standard_normal((2, 3))
                                                         for i in range(3)],
          torch_fn=lambda a, b, c: torch.stack([a, b, c], dim))
    (a, ta), (b, tb) = _pair((2, 3), 0), _pair((2, 3), 1)
    ye, yt = ember.stack([a, b], dim), torch.stack([ta, tb], dim)
    assert _names(ye) == _names(yt) == ("StackBackward0", "StackBackward0")
    assert [type(n).__name__ for n, _ in ye.grad_fn.next_functions] == \
        [type(n).__name__ for n, _ in yt.grad_fn.next_functions]


def test_stack_inputs_without_grad_and_of_other_dtypes():
    a, ta = _pair((2, 3), 0)
    b, tb = _pair((2, 3), 1, rg=False)
    c = ember.tensor(as_numpy(b).astype(np.float32), requires_grad=True)
    tc = torch.tensor(as_numpy(tb).astype(np.float32), requires_grad=True)
    ye, yt = ember.stack([a, b, c]), torch.stack([ta, tb, tc])
    assert_same(ye, yt)
    assert [n is None for n, _ in ye.grad_fn.next_functions] == [n is None for n, _ in yt.grad_fn.next_functions]
    w = np.arange(18.0).reshape(3, 2, 3)
    (ye * ember.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    assert_same(a.grad, ta.grad, "grad a")
    assert_same(c.grad, tc.grad, "grad c (float32)")
    assert b.grad is None


def test_stack_without_grad_records_nothing():
    ye = ember.stack([ember.ones(2), ember.zeros(2)])
    assert ye.grad_fn is None and not ye.requires_grad
    a = ember.ones(2, requires_grad=True)
    with ember.no_grad():
        assert ember.stack([a, a]).grad_fn is None


# ---------------------------------------------------------------- matrix products
MATMUL_SHAPES = [
    ((3,), (3,)), ((2, 3), (3, 4)), ((2, 3), (3,)), ((3,), (3, 4)),
    ((5, 2, 3), (5, 3, 4)), ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((5, 2, 3), (3,)),
    ((3,), (5, 3, 4)), ((1, 2, 3), (5, 3, 4)), ((5, 2, 3), (1, 3, 4)), ((1, 2, 3), (1, 3, 4)),
    ((6, 5, 2, 3), (6, 5, 3, 4)), ((6, 1, 2, 3), (5, 3, 4)), ((6, 5, 2, 3), (3,)),
    ((3,), (6, 5, 3, 4)), ((1, 3), (5, 3, 4)), ((2, 3), (5, 3, 1)), ((2, 3), (5, 1, 3, 4)),
    ((2, 3), (0, 3, 4)), ((2, 3), (2, 5, 3, 4)),
]


@pytest.mark.parametrize("grads", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_grad_fn_name_and_gradients(sa, sb, grads):
    (a, ta), (b, tb) = _pair(sa, 0, grads[0]), _pair(sb, 1, grads[1])
    ye, yt = a @ b, ta @ tb
    assert _names(ye) == _names(yt)
    assert_same(ye, yt)
    w = np.random.default_rng(2).standard_normal(tuple(yt.shape))
    (ye * ember.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    for e, t in ((a, ta), (b, tb)):
        if t.requires_grad:
            assert_same(e.grad, t.grad, "grad")
        else:
            assert e.grad is None


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                                   ((2, 2, 3), (3,)), ((3,), (2, 3, 4)), ((1, 2, 3), (2, 3, 4))])
def test_matmul_vector_operands_double_backward(sa, sb):
    rng = np.random.default_rng(0)
    check(lambda a, b: a.matmul(b), [rng.standard_normal(sa), rng.standard_normal(sb)])


def test_named_products():
    (a, ta), (b, tb) = _pair((2, 3), 0), _pair((3, 4), 1)
    (u, tu), (v, tv) = _pair((3,), 2), _pair((3,), 3)
    (p, tp), (q, tq) = _pair((2, 2, 3), 4), _pair((2, 3, 4), 5)
    pairs = [(ember.mm(a, b), torch.mm(ta, tb)), (ember.dot(u, v), torch.dot(tu, tv)),
             (ember.bmm(p, q), torch.bmm(tp, tq)), (a.matmul(u), ta.matmul(tu)),
             (u.matmul(b), tu.matmul(tb))]
    for ye, yt in pairs:
        assert _names(ye) == _names(yt)
        assert_same(ye, yt)
    check(lambda x, y: ember.bmm(x, y), [as_numpy(tp), as_numpy(tq)], torch_fn=torch.bmm)
    check(lambda x, y: ember.dot(x, y), [as_numpy(tu), as_numpy(tv)], torch_fn=torch.dot)


def test_matmul_errors_unchanged():
    with pytest.raises(RuntimeError, match="size mismatch, got input \\(2\\), mat \\(2x3\\), vec \\(4\\)"):
        ember.randn(2, 3) @ ember.randn(4)
    with pytest.raises(RuntimeError, match="mat1 and mat2 shapes cannot be multiplied \\(1x3 and 4x5\\)"):
        ember.randn(3) @ ember.randn(4, 5)
    with pytest.raises(RuntimeError, match="inconsistent tensor size"):
        ember.randn(3) @ ember.randn(4)
    with pytest.raises(RuntimeError, match="at least 1D"):
        ember.randn(()) @ ember.randn(3)
    with pytest.raises(RuntimeError, match="must match the size"):
        ember.randn(2, 2, 3) @ ember.randn(3, 3, 4)


# ---------------------------------------------------------------- ELU family at exactly 0
ELUS = [("elu", {}), ("elu", {"alpha": 2.0}), ("elu", {"alpha": 0.5}), ("selu", {}),
        ("celu", {}), ("celu", {"alpha": 0.5}), ("celu", {"alpha": 3.0})]


@pytest.mark.parametrize("inplace", [False, True])
@pytest.mark.parametrize("name,kwargs", ELUS)
def test_elu_family_second_derivative_at_zero(name, kwargs, inplace):
    data = np.array([-2.0, -1e-3, -0.0, 0.0, 1e-3, 1.5])
    results = []
    for L, FF in ((ember, EF), (torch, F)):
        x = L.tensor(data, requires_grad=True)
        y = getattr(FF, name)(x * 1 if inplace else x, inplace=inplace, **kwargs)
        w = L.tensor(np.linspace(0.5, 2.0, data.size))
        (g,) = L.autograd.grad((y * w).sum(), x, create_graph=True)
        (gg,) = L.autograd.grad((g * w).sum(), x)
        results.append((y, g, gg))
    for what, e, t in zip(("output", "first derivative", "second derivative"), *results):
        assert_same(e, t, what)
    assert as_numpy(results[0][2])[2:4].tolist() == [0.0, 0.0]


@pytest.mark.parametrize("name,kwargs", ELUS)
def test_elu_family_double_backward_through_grad_output(name, kwargs):
    # gradients of the first derivative with respect to both the input and grad_output
    # (no finite differences across the kink at 0: only the torch comparison)
    data = np.array([[-1.0, 0.0, 2.0], [0.0, -0.5, 0.25]])
    check(lambda x: getattr(EF, name)(x, **kwargs), [data],
          torch_fn=lambda x: getattr(F, name)(x, **kwargs), gradcheck=False)
    check(lambda x: getattr(EF, name)(x, **kwargs), [data + 0.125],
          torch_fn=lambda x: getattr(F, name)(x, **kwargs))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_elu_family_special_values(dtype):
    data = np.array([np.nan, np.inf, -np.inf, 0.0, -50.0, 50.0], dtype=dtype)
    for name, kwargs in ELUS:
        out = []
        for L, FF in ((ember, EF), (torch, F)):
            x = L.tensor(data, requires_grad=True)
            y = getattr(FF, name)(x, **kwargs)
            (g,) = L.autograd.grad(y.sum(), x, create_graph=True)
            (gg,) = L.autograd.grad(g.sum(), x)
            out.append((y, g, gg))
        for e, t in zip(*out):
            assert_same(e, t, name)


def test_elu_module_gradcheck_and_inplace_leaf_error():
    x = ember.tensor([-1.0, 0.3, 2.0], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: EF.celu(t, 0.7), (x,))
    assert ember.autograd.gradgradcheck(lambda t: EF.selu(t), (x,))
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        EF.elu_(x)


# ---------------------------------------------------------------- threshold in place
@pytest.mark.parametrize("threshold,value", [(1.0, 5.0), (1.0, 0.0), (1.0, 1.0), (0.5, 3.0), (0.0, -2.0)])
@pytest.mark.parametrize("how", ["functional", "functional_", "module"])
def test_inplace_threshold_gradient_mask(threshold, value, how):
    data = np.array([-1.0, 0.0, 0.5, 1.0, 2.0, 3.0])
    grads = []
    for L, FF in ((ember, EF), (torch, F)):
        x = L.tensor(data, requires_grad=True)
        y = x * 1
        if how == "functional":
            FF.threshold(y, threshold, value, inplace=True)
        elif how == "functional_":
            FF.threshold_(y, threshold, value)
        else:
            L.nn.Threshold(threshold, value, inplace=True)(y)
        (g,) = L.autograd.grad((y * y).sum(), x)
        grads.append((y, g))
    for e, t in zip(*grads):
        assert_same(e, t)
