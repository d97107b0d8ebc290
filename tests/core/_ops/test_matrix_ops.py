"""Matrix construction and products (tril/triu, diagonals, trace, einsum, mv/ger, the
add* family) against torch: values, dtypes, gradients, double backward, gradcheck."""

import numpy as np
import pytest

import ember
from tests.oracle import check, same_outcome, torch

DTYPES = [np.float64, np.float32]


def rand(*shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed + len(shape)).standard_normal(shape).astype(dtype)


def lib(x):
    """The library a tensor belongs to."""
    return ember if isinstance(x, ember.Tensor) else torch


# ----------------------------------------------------------------- triangles
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["tril", "triu"])
@pytest.mark.parametrize("shape,k", [((4, 5), 0), ((4, 5), 2), ((4, 5), -1), ((2, 3, 4), 1), ((0, 3), 0),
                                     ((3, 3), -7)])
def test_triangles(name, shape, k, dtype):
    check(lambda x: getattr(x, name)(k), [rand(*shape, dtype=dtype)])
    check(lambda x: getattr(lib(x), name)(x, diagonal=k), [rand(*shape, dtype=dtype)])


@pytest.mark.parametrize("name", ["tril", "triu"])
def test_triangles_keep_integer_and_bool_dtypes_and_take_noncontiguous_input(name):
    for x in (np.arange(12).reshape(3, 4), np.arange(12).reshape(3, 4) % 2 == 0):
        e = getattr(ember, name)(ember.tensor(x).t(), 1)
        t = getattr(torch, name)(torch.from_numpy(x).t(), 1)
        assert e.dtype.name == str(t.dtype)[6:]
        np.testing.assert_array_equal(e.numpy(), t.numpy())


@pytest.mark.parametrize("name", ["tril_", "triu_"])
def test_triangles_in_place(name):
    x = rand(3, 4)
    check(lambda a: getattr(a * 1, name)(-1), [x])
    e = ember.tensor(x)
    assert getattr(e, name)() is e
    np.testing.assert_allclose(e.numpy(), getattr(torch.from_numpy(x), name)().numpy())


@pytest.mark.parametrize("name", ["tril", "triu"])
def test_triangles_refuse_vectors(name):
    assert "at least 2 dimensions" in same_outcome(lambda x: getattr(lib(x), name)(x), [rand(3)],
                                                   raises=True)[0].message


# ----------------------------------------------------------------- diagonals
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,args", [((4, 5), ()), ((4, 5), (1,)), ((4, 5), (-2,)), ((4, 5), (9,)),
                                        ((2, 3, 4), (1, 0, 2)), ((2, 3, 4), (-1, -1, 0)),
                                        ((2, 3, 4, 5), (0, 3, 1)), ((0, 3), ())])
def test_diagonal(shape, args, dtype):
    check(lambda x: x.diagonal(*args), [rand(*shape, dtype=dtype)])
    check(lambda x: (x.diagonal(*args) * 2).exp(), [rand(*shape, dtype=dtype)])


def test_diagonal_is_a_writable_view():
    x = ember.zeros(3, 4)
    d = x.diagonal(1)
    d.fill_(5.0)
    np.testing.assert_array_equal(x.numpy(), np.eye(3, 4, 1) * 5)
    a = ember.tensor(rand(3, 3), requires_grad=True)
    b = a * 1
    b.diagonal().mul_(3)
    t = torch.from_numpy(rand(3, 3)).requires_grad_()
    tb = t * 1
    tb.diagonal().mul_(3)
    g = rand(3, 3)
    b.backward(ember.tensor(g))
    tb.backward(torch.from_numpy(g))
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,args", [((3,), ()), ((2, 3), (1,)), ((2, 3), (-2, 0, 2)), ((2, 3), (0, 2, 0)),
                                        ((2, 3, 4), (1, 1, 3)), ((0,), ())])
def test_diag_embed(shape, args, dtype):
    check(lambda x: lib(x).diag_embed(x, *args), [rand(*shape, dtype=dtype)])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,k", [((4,), 0), ((4,), 2), ((4,), -1), ((3, 5), 0), ((3, 5), 2), ((3, 5), -1),
                                     ((3, 5), 7), ((0,), 1)])
def test_diag(shape, k, dtype):
    check(lambda x: x.diag(k), [rand(*shape, dtype=dtype)])


def test_diag_of_a_matrix_is_a_copy():
    x = ember.zeros(3, 3)
    ember.diag(x).fill_(1)
    assert not x.numpy().any()


def test_diagonal_errors():
    assert "cannot be identical" in same_outcome(lambda x: lib(x).diagonal(x, 0, -1, 1), [rand(3, 4)],
                                                 raises=True)[0].message
    same_outcome(lambda x: lib(x).diagonal(x, 0, 0, 2), [rand(3, 4)], raises=True)
    assert "cannot be identical" in same_outcome(lambda x: lib(x).diag_embed(x, 0, 0, 0), [rand(3)],
                                                 raises=True)[0].message
    assert "Got 3D" in same_outcome(lambda x: lib(x).diag(x), [rand(2, 3, 4)], raises=True)[0].message
    assert "Got 0D" in same_outcome(lambda x: lib(x).diag(x), [rand()], raises=True)[0].message


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 3), (2, 5), (5, 2), (0, 3)])
def test_trace(shape, dtype):
    check(lambda x: x.trace(), [rand(*shape, dtype=dtype)])


def test_trace_dtypes_and_errors():
    x = np.arange(12, dtype=np.int32).reshape(3, 4)
    e, t = ember.trace(ember.tensor(x)), torch.trace(torch.from_numpy(x))
    assert e.dtype == ember.int64 and e.item() == t.item()
    assert "expected a matrix" in same_outcome(lambda x: lib(x).trace(x), [rand(2, 2, 2)], raises=True)[0].message
    same_outcome(lambda x: lib(x).trace(x), [np.ones((2, 2), bool)], raises=True)


# ----------------------------------------------------------------- einsum
EQUATIONS = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("ij->ji", [(3, 4)]),
    ("ij->", [(3, 4)]),
    ("iij->j", [(3, 3, 2)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("...ij,...jk", [(2, 3, 4), (4, 2)]),
    ("i...i", [(3, 2, 3)]),
    ("...ii->...", [(2, 3, 3)]),
    ("...ij->ij", [(2, 3, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("ij,kj->ik", [(3, 1), (4, 5)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    ("i,i,i->i", [(3,), (3,), (3,)]),
    ("ijk,k->ij", [(2, 3, 4), (4,)]),
    ("Ab,bA->A", [(3, 2), (2, 3)]),
    ("i j , j k -> i k", [(2, 3), (3, 2)]),
    ("->", [()]),
    (",i->i", [(), (3,)]),
    ("ij,jk->ik", [(0, 3), (3, 2)]),
    ("ij,jk->ik", [(2, 0), (0, 3)]),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("equation,shapes", EQUATIONS)
def test_einsum(equation, shapes, dtype):
    inputs = [rand(*s, dtype=dtype, seed=i) for i, s in enumerate(shapes)]
    check(lambda *xs: lib(xs[0]).einsum(equation, *xs), inputs)


def test_einsum_takes_a_list_noncontiguous_inputs_and_integers():
    a, b = rand(4, 3), rand(5, 4)
    e = ember.einsum("ij,jk->ik", [ember.tensor(a).t(), ember.tensor(b).t()])
    np.testing.assert_allclose(e.numpy(), a.T @ b.T)
    i = np.arange(6).reshape(2, 3)
    e = ember.einsum("ij,kj", ember.tensor(i), ember.tensor(i))
    assert e.dtype == ember.int64
    np.testing.assert_array_equal(e.numpy(), i @ i.T)


def test_einsum_promotes_mixed_dtypes():
    e = ember.einsum("i,j", ember.ones(2), ember.ones(3, dtype=ember.float64))
    assert e.dtype == ember.float64


def test_einsum_single_operand_is_a_view():
    x = ember.zeros(3, 3)
    ember.einsum("ii->i", x).fill_(1)
    np.testing.assert_array_equal(x.numpy(), np.eye(3))


def test_einsum_third_order_gradient():
    a = ember.tensor(rand(3, 3), requires_grad=True)
    t = torch.from_numpy(rand(3, 3)).requires_grad_()
    grads = []
    for lib, x in ((ember, a), (torch, t)):
        y = lib.einsum("ij,jk,ki->", x, x, x)
        (g1,) = lib.autograd.grad(y, x, create_graph=True)
        (g2,) = lib.autograd.grad(g1.sum(), x, create_graph=True)
        (g3,) = lib.autograd.grad((g2 * g2).sum(), x)
        grads.append(g3.detach().numpy())
    np.testing.assert_allclose(*grads, rtol=1e-10)


@pytest.mark.parametrize("equation,shapes,words", [
    ("ij,jk", [(3, 4)], "fewer operands"),
    ("ij", [(3, 4), (4,)], "more operands"),
    ("ij", [(3,)], "does not match the number of dimensions"),
    ("...ij", [(2,)], "is more than the number of dimensions"),
    ("ii", [(3, 4)], "is repeated for operand 0"),
    ("i,i", [(3,), (4,)], "does not broadcast"),
    ("...i,...i", [(2, 3), (4, 3)], "does not broadcast"),
    ("i1", [(3, 4)], "invalid subscript given at index 1"),
    ("ij->k", [(3, 4)], "output subscript k does not appear"),
    ("ij->jj", [(3, 4)], "appears more than once"),
    ("i.j", [(2, 3, 4)], "not part of any ellipsis"),
    ("...i...", [(2, 3, 4)], "ellipsis was already found"),
    ("i->i->", [(1,)], "invalid subscript given at index 4"),
])
def test_einsum_errors(equation, shapes, words):
    inputs = [rand(*s) for s in shapes]
    assert words in same_outcome(lambda *xs: lib(xs[0]).einsum(equation, *xs), inputs, raises=True)[0].message


def test_einsum_argument_types():
    same_outcome(lambda lib: lib.einsum(3, lib.ones(2)), raises=True)
    same_outcome(lambda lib: lib.einsum("i,i", lib.ones(3), [1, 2, 3]), raises=True)
    same_outcome(lambda lib: lib.einsum("i"), raises=True)
    same_outcome(lambda lib: lib.einsum("i,i", lib.ones(3, dtype=lib.bool), lib.ones(3, dtype=lib.bool)), raises=True)


# ----------------------------------------------------------------- mv / ger
@pytest.mark.parametrize("dtype", DTYPES)
def test_mv_and_ger(dtype):
    check(lambda m, v: m.mv(v), [rand(3, 4, dtype=dtype), rand(4, dtype=dtype)])
    check(lambda a, b: a.ger(b), [rand(3, dtype=dtype), rand(4, dtype=dtype)])
    check(lambda m, v: m.t().mv(v), [rand(4, 3, dtype=dtype), rand(4, dtype=dtype)])
    check(lambda m, v: m.mv(v), [rand(0, 4, dtype=dtype), rand(4, dtype=dtype)])


def test_mv_ger_errors_and_dtypes():
    assert "size mismatch" in same_outcome(lambda m, v: lib(m).mv(m, v), [rand(3, 4), rand(3)], raises=True)[0].message
    same_outcome(lambda m, v: lib(m).mv(m, v), [rand(4), rand(4)], raises=True)
    same_outcome(lambda m, v: lib(m).mv(m, v), [rand(3, 4), rand(4, 1)], raises=True)
    same_outcome(lambda m, v: lib(m).mv(m, v), [rand(3, 4), rand(4).astype(np.float32)], raises=True)
    same_outcome(lambda a, b: lib(a).ger(a, b), [rand(3, 1), rand(4)], raises=True)
    assert ember.ger(ember.ones(2), ember.ones(3, dtype=ember.float64)).dtype == ember.float64
    assert ember.ger(ember.ones(2), ember.arange(3)).dtype == ember.float32


# ----------------------------------------------------------------- the add* family
ADD_CASES = [
    ("addmm", [(3, 5), (3, 4), (4, 5)]),
    ("addmm", [(5,), (3, 4), (4, 5)]),
    ("addmm", [(), (3, 4), (4, 5)]),
    ("addmv", [(3,), (3, 4), (4,)]),
    ("addmv", [(1,), (3, 4), (4,)]),
    ("addr", [(3, 4), (3,), (4,)]),
    ("addr", [(3, 1), (3,), (4,)]),
    ("addbmm", [(3, 5), (2, 3, 4), (2, 4, 5)]),
    ("addbmm", [(1, 5), (2, 3, 4), (2, 4, 5)]),
    ("baddbmm", [(2, 3, 5), (2, 3, 4), (2, 4, 5)]),
    ("baddbmm", [(3, 5), (2, 3, 4), (2, 4, 5)]),
    ("addcmul", [(3, 4), (3, 4), (3, 4)]),
    ("addcmul", [(3, 1), (4,), (1, 1, 4)]),
    ("addcdiv", [(3, 4), (3, 4), (3, 4)]),
    ("addcdiv", [(4,), (3, 1), (4,)]),
]


def _positive(name, i, x):
    return np.abs(x) + 0.5 if name == "addcdiv" and i == 2 else x


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,shapes", ADD_CASES)
@pytest.mark.parametrize("scale", [{}, {"beta": 0.5, "alpha": -2.0}, {"beta": 0}])
def test_add_family(name, shapes, scale, dtype):
    if name in ("addcmul", "addcdiv"):
        scale = {"value": scale["alpha"]} if "alpha" in scale else {}
    inputs = [_positive(name, i, rand(*s, dtype=dtype, seed=i)) for i, s in enumerate(shapes)]
    check(lambda *xs: getattr(xs[0], name)(*xs[1:], **scale), inputs)
    check(lambda *xs: getattr(lib(xs[0]), name)(*xs, **scale), inputs)


@pytest.mark.parametrize("name,shapes,kwargs", [
    ("addmm", [(3, 5), (3, 4), (4, 5)], {"alpha": 0.5}),
    ("addmv", [(3,), (3, 4), (4,)], {"beta": 2}),
    ("addr", [(3, 4), (3,), (4,)], {}),
    ("addbmm", [(3, 5), (2, 3, 4), (2, 4, 5)], {}),
    ("baddbmm", [(2, 3, 5), (2, 3, 4), (2, 4, 5)], {"alpha": 0.5}),
    ("addcmul", [(3, 4), (3, 1), (4,)], {"value": 3}),
    ("addcdiv", [(3, 4), (3, 4), (4,)], {"value": 3}),
])
def test_add_family_in_place(name, shapes, kwargs):
    inputs = [_positive(name, i, rand(*s, seed=i)) for i, s in enumerate(shapes)]
    check(lambda *xs: getattr(xs[0] * 1, name + "_")(*xs[1:], **kwargs), inputs)
    x = ember.tensor(inputs[0])
    assert getattr(x, name + "_")(*map(ember.tensor, inputs[1:])) is x


def test_add_family_in_place_keeps_the_shape():
    assert "doesn't match the broadcast shape" in same_outcome(lambda a, b, c: a.addcmul_(b, c),
                                                               [rand(3, 1), rand(4), rand(4)], raises=True)[0].message
    same_outcome(lambda a, b, c: a.addmm_(b, c), [rand(5), rand(3, 4), rand(4, 5)], raises=True)


def test_add_family_beta_zero_ignores_nan():
    x = np.full((3, 5), np.nan)
    m1, m2 = rand(3, 4), rand(4, 5)
    e = ember.addmm(ember.tensor(x), ember.tensor(m1), ember.tensor(m2), beta=0)
    np.testing.assert_allclose(e.numpy(), m1 @ m2)


def test_add_family_integers():
    i = [np.arange(12).reshape(3, 4), np.arange(12).reshape(3, 4), np.arange(16).reshape(4, 4)]
    for kwargs in ({}, {"beta": 2, "alpha": 3}, {"beta": 0.5, "alpha": 1.5}):
        e = ember.addmm(*[ember.tensor(a) for a in i], **kwargs)
        t = torch.addmm(*[torch.from_numpy(a) for a in i], **kwargs)
        assert e.dtype == ember.int64
        np.testing.assert_array_equal(e.numpy(), t.numpy())
    v = [np.arange(3), np.arange(3), np.arange(3)]
    for value in (2, 0.5, 1.5):
        e = ember.addcmul(*[ember.tensor(a) for a in v], value=value)
        np.testing.assert_array_equal(e.numpy(), torch.addcmul(*[torch.from_numpy(a) for a in v], value=value).numpy())
    ints = [np.ones((3, 4), np.int64), np.ones(3, np.int64), np.ones(4, np.int64)]
    assert "For integral input tensors" in same_outcome(lambda a, b, c: lib(a).addr(a, b, c, alpha=1.5), ints,
                                                        raises=True)[0].message


def test_add_family_bool():
    a, b, c = np.zeros((3, 4), bool), np.arange(3) % 2 == 0, np.ones(4, bool)
    e = ember.addr(ember.tensor(a), ember.tensor(b), ember.tensor(c))
    np.testing.assert_array_equal(e.numpy(), torch.addr(*map(torch.from_numpy, (a, b, c))).numpy())
    same_outcome(lambda x, y, z: lib(x).addmm(x, y, z),
                 [np.ones((2, 2), bool), np.ones((2, 2), bool), np.ones((2, 2), bool)], raises=True)


def test_addcdiv_refuses_integer_division_and_promotes():
    assert "Integer division" in same_outcome(lambda a, b, c: lib(a).addcdiv(a, b, c),
                                              [rand(3), np.arange(3), np.arange(3) + 1], raises=True)[0].message
    e = ember.addcdiv(ember.arange(3), ember.arange(3.0), ember.arange(3) + 1, value=1.5)
    t = torch.addcdiv(torch.arange(3), torch.arange(3.0), torch.arange(3) + 1, value=1.5)
    assert e.dtype == ember.float32
    np.testing.assert_allclose(e.numpy(), t.numpy())
    assert ember.addcmul(ember.ones(2), ember.ones(2, dtype=ember.float64), ember.ones(2)).dtype == ember.float64


@pytest.mark.parametrize("call,shapes", [
    (lambda a, b, c: lib(a).addmm(a, b, c), [(3, 4), (4,), (4, 4)]),
    (lambda a, b, c: lib(a).addmm(a, b, c), [(3, 4), (3, 4), (3, 4)]),
    (lambda a, b, c: lib(a).addmm(a, b, c), [(2,), (3, 4), (4, 4)]),
    (lambda a, b, c: lib(a).addmv(a, b, c), [(3,), (3, 4), (3,)]),
    (lambda a, b, c: lib(a).addmv(a, b, c), [(2,), (3, 4), (4,)]),
    (lambda a, b, c: lib(a).addmv(a, b, c), [(3,), (3, 4, 1), (4,)]),
    (lambda a, b, c: lib(a).addr(a, b, c), [(3, 4), (3, 1), (4,)]),
    (lambda a, b, c: lib(a).addbmm(a, b, c), [(3, 5), (2, 3, 4), (3, 4, 5)]),
    (lambda a, b, c: lib(a).addbmm(a, b, c), [(3, 5), (3, 4), (3, 4, 5)]),
    (lambda a, b, c: lib(a).addbmm(a, b, c), [(3, 5), (2, 3, 4), (2, 5, 5)]),
    (lambda a, b, c: lib(a).baddbmm(a, b, c), [(3, 3, 5), (2, 3, 4), (2, 4, 5)]),
    (lambda a, b, c: lib(a).addcmul(a, b, c), [(3,), (4,), (4,)]),
])
def test_add_family_shape_errors(call, shapes):
    same_outcome(call, [rand(*s) for s in shapes], raises=True)


def test_add_family_dtype_mismatches():
    f, d = rand(3, 4).astype(np.float32), rand(4, 4)
    same_outcome(lambda a, b, c: lib(a).addmm(a, b, c), [f, f, d], raises=True)
    same_outcome(lambda a, b, c: lib(a).addmm(a, b, c), [d, f, rand(4, 4).astype(np.float32)], raises=True)
    same_outcome(lambda a, b, c: lib(a).addmv(a, b, c), [rand(3), f, rand(4).astype(np.float32)], raises=True)
    same_outcome(lambda a, b, c: lib(a).baddbmm(a, b, c),
                 [rand(3, 5), rand(2, 3, 4).astype(np.float32), rand(2, 4, 5).astype(np.float32)], raises=True)


def test_addbmm_in_place_takes_the_product_shape_as_torch():
    b1, b2 = rand(2, 5, 3), rand(2, 3, 4)
    leaf_e, leaf_t = ember.tensor(2.0, dtype=ember.float64, requires_grad=True), torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    e = leaf_e * 1
    t = leaf_t * 1
    assert e.addbmm_(ember.tensor(b1), ember.tensor(b2), beta=0.6) is e
    t.addbmm_(torch.from_numpy(b1), torch.from_numpy(b2), beta=0.6)
    assert e.shape == t.shape == (5, 4)
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy())
    e.sum().backward()
    t.sum().backward()
    np.testing.assert_allclose(leaf_e.grad.numpy(), leaf_t.grad.numpy())
    base = ember.zeros(4, dtype=ember.float64)
    base[:1].addbmm_(ember.tensor(b1), ember.tensor(b2))
    assert not base.numpy().any()


@pytest.mark.parametrize("dtype", DTYPES)
def test_dot_and_outer_match_torch(dtype):
    check(lambda a, b: a.dot(b), [rand(5, dtype=dtype), rand(5, dtype=dtype, seed=1)])
    check(lambda a, b: lib(a).outer(a, b), [rand(3, dtype=dtype), rand(4, dtype=dtype, seed=1)])
    check(lambda a, b: a.dot(b), [rand(0, dtype=dtype), rand(0, dtype=dtype, seed=1)])
    same_outcome(lambda a, b: lib(a).dot(a, b), [rand(3), rand(4)], raises=True)
    same_outcome(lambda a, b: lib(a).dot(a, b), [rand(3, 1), rand(3)], raises=True)
    same_outcome(lambda a, b: lib(a).dot(a, b), [rand(3), rand(3).astype(np.float32)], raises=True)
    same_outcome(lambda a, b: lib(a).outer(a, b), [rand(3), rand(4, 1)], raises=True)
