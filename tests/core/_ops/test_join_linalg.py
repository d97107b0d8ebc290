"""cat / stack / split / chunk and matrix products against torch: values, gradients, errors."""

import numpy as np
import pytest

import ember
from tests.oracle import check, same_outcome, torch

RNG = np.random.default_rng(3)
FLOATS = [np.float64, np.float32]


def rand(*shape, dtype=np.float64):
    return RNG.standard_normal(shape).astype(dtype)


def lib(x):
    return ember if isinstance(x, ember.Tensor) else torch


# ----------------------------------------------------------------- cat / stack
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim", [0, 1, -1, -2])
def test_cat(dim, dtype):
    shapes = [(2, 3), (2, 3), (2, 3)]
    ins = [rand(*s, dtype=dtype) for s in shapes]
    check(lambda *xs: lib(xs[0]).cat(xs, dim), ins)
    check(lambda *xs: lib(xs[0]).cat([x.t() for x in xs], dim=dim), ins, gradcheck=False)


@pytest.mark.parametrize("dim,shapes", [(0, [(1, 3), (4, 3)]), (1, [(2, 1), (2, 5), (2, 0)]), (0, [(2, 2)])])
def test_cat_uneven(dim, shapes):
    check(lambda *xs: lib(xs[0]).cat(xs, dim), [rand(*s) for s in shapes])


def test_cat_dtype_promotion():
    check(lambda x, y: lib(x).cat([x, y]), [rand(2, 3), rand(2, 3, dtype=np.float32)])
    check(lambda x, y: lib(x).cat([x, y]), [rand(2, 3, dtype=np.float32), np.ones((1, 3), dtype=np.int64)])
    check(lambda x, y: lib(x).cat([x, y]), [np.ones((1, 3), dtype=np.int64), np.zeros((1, 3), dtype=np.bool_)])


def test_cat_skips_empty_1d():
    e = np.zeros(0)
    check(lambda x, y: lib(x).cat([x, y]), [rand(2, 3), e])
    check(lambda x, y: lib(x).cat([y, x], 1), [rand(2, 3), e])
    check(lambda x, y: lib(x).cat([y, y]), [e, e])
    check(lambda x, y: lib(x).cat([x, y, x]), [rand(2, 3), np.zeros(0, dtype=np.float32)])


def test_cat_aliases():
    check(lambda x, y: lib(x).concat([x, y], 1), [rand(2, 3), rand(2, 1)])
    check(lambda x, y: lib(x).concatenate([x, y], 0), [rand(2, 3), rand(1, 3)])


@pytest.mark.parametrize("fn,match", [
    (lambda L: L.cat([L.ones(2, 3), L.ones(2, 4)]), "Sizes of tensors must match except in dimension 0. Expected size 3 but got size 4 for tensor number 1 in the list"),
    (lambda L: L.cat([L.ones(2, 3), L.ones(3)]), "Tensors must have same number of dimensions: got 2 and 1"),
    (lambda L: L.cat([]), "expected a non-empty list of Tensors"),
    (lambda L: L.cat(L.ones(2)), "must be tuple of Tensors, not Tensor"),
    (lambda L: L.cat([L.ones(2, 3), L.ones(2, 3)], 2), "Dimension out of range"),
    (lambda L: L.cat([L.tensor(1.0), L.tensor(2.0)]), "zero-dimensional tensor \\(at position 0\\) cannot be concatenated"),
])
def test_cat_errors(fn, match):
    same_outcome(fn, raises=True, match=match)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
def test_stack(dim, dtype):
    ins = [rand(2, 3, dtype=dtype) for _ in range(3)]
    check(lambda *xs: lib(xs[0]).stack(xs, dim), ins)
    check(lambda *xs: lib(xs[0]).stack([x[:, ::2] for x in xs], dim=dim), ins, gradcheck=False)


def test_stack_scalars_and_promotion():
    check(lambda x, y: lib(x).stack([x, y]), [np.array(1.5), np.array(2.5)])
    check(lambda x, y: lib(x).stack([x, y], 1), [rand(3), rand(3, dtype=np.float32)])


@pytest.mark.parametrize("fn,match", [
    (lambda L: L.stack([L.ones(2, 3), L.ones(2, 4)]), "stack expects each tensor to be equal size, but got \\[2, 3\\] at entry 0 and \\[2, 4\\] at entry 1"),
    (lambda L: L.stack([]), "stack expects a non-empty TensorList"),
    (lambda L: L.stack([L.ones(2), L.ones(2)], 3), "Dimension out of range"),
])
def test_stack_errors(fn, match):
    same_outcome(fn, raises=True, match=match)


# ----------------------------------------------------------------- split / chunk
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("size,dim", [(2, 0), (1, 1), (10, 0), (3, -1), ([1, 4], 0), ((2, 1, 0), 1), ([0, 5], 0)])
def test_split(size, dim, dtype):
    a = rand(5, 3, dtype=dtype)
    check(lambda x: x.split(size, dim), [a])
    check(lambda x: lib(x).split(x.t().t(), size, dim=dim), [a], gradcheck=False)


def test_split_outputs_are_views():
    x = ember.zeros(4, 2)
    parts = x.split(2)
    x.add_(1)
    assert all(p.sum().item() == 4 for p in parts)


@pytest.mark.parametrize("fn,match", [
    (lambda L: L.ones(5, 2).split(0), "split_size can only be 0 if dimension size is 0, but got dimension size of 5"),
    (lambda L: L.ones(5, 2).split([1, 3]), "split_with_sizes expects split_sizes to sum exactly to 5"),
    (lambda L: L.ones(5, 2).split(-1), "split expects split_size be non-negative, but got split_size=-1"),
])
def test_split_errors(fn, match):
    same_outcome(fn, raises=True, match=match)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("n,chunks,dim", [(5, 2, 0), (5, 3, 0), (6, 4, 0), (2, 5, 0), (7, 3, 1), (6, 3, -1), (0, 3, 0)])
def test_chunk(n, chunks, dim, dtype):
    a = rand(n, 2, dtype=dtype) if dim == 0 else rand(2, n, dtype=dtype)
    check(lambda x: x.chunk(chunks, dim), [a], grad=n > 0)
    check(lambda x: lib(x).chunk(x, chunks, dim=dim), [a], grad=False)


def test_chunk_errors():
    same_outcome(lambda L: L.ones(2).chunk(0), raises=True, match="chunk expects `chunks` to be greater than 0, got: 0")
    same_outcome(lambda L: L.tensor(1.0).chunk(2), raises=True, match="chunk expects at least a 1-dimensional tensor")


# ----------------------------------------------------------------- matmul & friends
MATMUL_SHAPES = [
    ((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((2, 1, 3, 4), (5, 4, 2)),
    ((3,), (2, 3, 4)), ((2, 3, 4), (4,)), ((2, 3, 4), (2, 4, 5)), ((1, 3, 4), (2, 4, 1)),
    ((2, 3, 4), (4, 2)), ((4, 2), (3, 2, 3)), ((0, 3), (3, 2)), ((2, 0), (0, 3)),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES, ids=[f"{a}@{b}" for a, b in MATMUL_SHAPES])
def test_matmul(sa, sb, dtype):
    a, b = rand(*sa, dtype=dtype), rand(*sb, dtype=dtype)
    small = np.prod(sa) * np.prod(sb) <= 200
    check(lambda x, y: x @ y, [a, b], gradcheck=small and dtype is np.float64)
    check(lambda x, y: lib(x).matmul(x, y), [a, b], gradcheck=False, double=False)


def test_matmul_noncontiguous():
    check(lambda x, y: x.t() @ y[:, ::2], [rand(3, 2), rand(3, 4)])
    check(lambda x, y: x.transpose(1, 2).matmul(y), [rand(2, 3, 2), rand(3, 2)])


def test_matmul_one_operand_needs_grad():
    a, b = rand(2, 3), rand(3, 2)
    x = ember.tensor(a).requires_grad_()
    (x @ ember.tensor(b)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.ones((2, 2)) @ b.T)


def test_matmul_integers():
    a, b = RNG.integers(-3, 3, (2, 3)), RNG.integers(-3, 3, (3, 4))
    check(lambda x, y: x @ y, [a, b], grad=False)
    check(lambda x, y: x @ y[:, 0], [a, b], grad=False)


@pytest.mark.parametrize("fn,match", [
    (lambda L: L.ones(2, 3) @ L.ones(2, 3), "mat1 and mat2 shapes cannot be multiplied \\(2x3 and 2x3\\)"),
    (lambda L: L.ones(3) @ L.ones(4), "inconsistent tensor size, expected tensor \\[3\\] and src \\[4\\]"),
    (lambda L: L.ones(3) @ L.ones(4, 2), "shapes cannot be multiplied \\(1x3 and 4x2\\)"),
    (lambda L: L.ones(2, 4) @ L.ones(3), "size mismatch, got input \\(2\\), mat \\(2x4\\), vec \\(3\\)"),
    (lambda L: L.ones(2, 2, 3) @ L.ones(3, 3, 2), "The size of tensor a \\(2\\) must match the size of tensor b \\(3\\) at non-singleton dimension 0"),
    (lambda L: L.tensor(1.0) @ L.ones(2), "both arguments to matmul need to be at least 1D, but they are 0D and 1D"),
    (lambda L: L.ones(2, 3) @ L.ones(3, 2, dtype=L.float64), "expected m1 and m2 to have the same dtype, but got: float != double"),
    (lambda L: L.ones(2, 3, dtype=L.bool) @ L.ones(3, 2, dtype=L.bool), "not implemented for 'Bool'"),
])
def test_matmul_errors(fn, match):
    same_outcome(fn, raises=True, match=match)


@pytest.mark.parametrize("dtype", FLOATS)
def test_mm_bmm_dot_outer(dtype):
    check(lambda x, y: lib(x).mm(x, y), [rand(2, 3, dtype=dtype), rand(3, 4, dtype=dtype)])
    check(lambda x, y: x.mm(y.t()), [rand(2, 3, dtype=dtype), rand(4, 3, dtype=dtype)])
    check(lambda x, y: lib(x).bmm(x, y), [rand(2, 2, 3, dtype=dtype), rand(2, 3, 2, dtype=dtype)])
    check(lambda x, y: x.bmm(y.transpose(1, 2)), [rand(2, 2, 3, dtype=dtype), rand(2, 2, 3, dtype=dtype)])
    check(lambda x, y: lib(x).dot(x, y), [rand(4, dtype=dtype), rand(4, dtype=dtype)])
    check(lambda x, y: x.dot(y[::2]), [rand(3, dtype=dtype), rand(6, dtype=dtype)])
    check(lambda x, y: lib(x).outer(x, y), [rand(3, dtype=dtype), rand(2, dtype=dtype)])
    check(lambda x, y: x.outer(y), [rand(3, dtype=dtype), rand(2, dtype=dtype)])


@pytest.mark.parametrize("fn,match", [
    (lambda L: L.mm(L.ones(3), L.ones(3, 2)), "self must be a matrix"),
    (lambda L: L.mm(L.ones(2, 3), L.ones(3)), "mat2 must be a matrix"),
    (lambda L: L.mm(L.ones(2, 3), L.ones(2, 3)), "mat1 and mat2 shapes cannot be multiplied \\(2x3 and 2x3\\)"),
    (lambda L: L.bmm(L.ones(3, 4), L.ones(4, 2)), "batch1 must be a 3D tensor"),
    (lambda L: L.bmm(L.ones(2, 3, 4), L.ones(4, 2)), "batch2 must be a 3D tensor"),
    (lambda L: L.bmm(L.ones(2, 3, 4), L.ones(2, 5, 2)), "Expected size for first two dimensions of batch2 tensor to be: \\[2, 4\\] but got: \\[2, 5\\]."),
    (lambda L: L.bmm(L.ones(2, 3, 4), L.ones(3, 4, 2)), "Expected size for first two dimensions of batch2 tensor to be: \\[2, 4\\] but got: \\[3, 4\\]."),
    (lambda L: L.dot(L.ones(3), L.ones(4)), "inconsistent tensor size"),
    (lambda L: L.dot(L.ones(2, 3), L.ones(3)), "1D tensors expected, but got 2D and 1D tensors"),
    (lambda L: L.dot(L.ones(3), L.ones(3, dtype=L.float64)), "dot : expected both vectors to have same dtype, but found Float and Double"),
    (lambda L: L.outer(L.ones(3, 1), L.ones(2)), "outer: Expected 1-D argument self, but got 2-D"),
    (lambda L: L.outer(L.ones(3), L.ones(2, 1)), "outer: Expected 1-D argument vec2, but got 2-D"),
])
def test_product_errors(fn, match):
    same_outcome(fn, raises=True, match=match)
