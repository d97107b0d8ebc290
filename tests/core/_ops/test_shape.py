"""Shape ops against torch: values, gradients, views sharing memory, strides, errors."""

import numpy as np
import pytest

import ember
from tests.oracle import check, same_outcome, torch

RNG = np.random.default_rng(1)
FLOATS = [np.float64, np.float32]


def rand(*shape, dtype=np.float64):
    return RNG.standard_normal(shape).astype(dtype)


def lib(x):
    """The library ``x`` belongs to: write a test once for both."""
    return ember if isinstance(x, ember.Tensor) else torch


def both(fn, *shape):
    """Run ``fn`` on an ember and a torch tensor with the same data: ``(ember, torch)``."""
    a = rand(*shape)
    return fn(ember.tensor(a)), fn(torch.from_numpy(a.copy()))


# ----------------------------------------------------------------- view / reshape
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(6, 4), (-1,), (2, -1, 3), (24,), (4, 1, 6), (1, 24, 1)])
def test_view(shape, dtype):
    check(lambda x: x.view(*shape) * 2, [rand(2, 3, 4, dtype=dtype)], gradcheck=False)
    check(lambda x: x.view(shape), [rand(2, 3, 4, dtype=dtype)], gradcheck=False)


def test_view_gradcheck():
    check(lambda x: x.view(3, 2), [rand(2, 3)])
    check(lambda x: x.view(-1).view(1, 6, 1), [rand(2, 3)])


def test_view_of_noncontiguous_compatible_dims():
    # merging/splitting only the dims that stay contiguous is allowed
    check(lambda x: x.transpose(0, 1).view(4, 2, 3), [rand(2, 4, 3)])
    check(lambda x: x[:, ::2].view(2, 2, 1), [rand(2, 4)])


@pytest.mark.parametrize("fn", [
    lambda x: x.transpose(0, 1).view(-1), lambda x: x.t().view(8), lambda x: x[:, :2].view(-1),
    lambda x: x.t().view(2, 4),
])
def test_view_incompatible_stride_error(fn):
    same_outcome(fn, [rand(2, 4)], raises=True,
                 match="view size is not compatible with input tensor's size and stride "
                       "\\(at least one dimension spans across two contiguous subspaces\\). "
                       "Use .reshape\\(...\\) instead.")


def test_view_of_uniformly_strided_slice():
    check(lambda x: x[:, ::2].view(-1), [rand(2, 4)])


@pytest.mark.parametrize("args,match", [
    ((5, -1), "shape '\\[5, -1\\]' is invalid for input of size 24"),
    ((-1, -1), "only one dimension can be inferred"),
    ((7,), "shape '\\[7\\]' is invalid for input of size 24"),
    ((), "shape '\\[\\]' is invalid for input of size 24"),
])
@pytest.mark.parametrize("op", ["view", "reshape"])
def test_view_reshape_errors(op, args, match):
    same_outcome(lambda x: getattr(x, op)(*args) if args else getattr(x, op)(()), [rand(2, 3, 4)], raises=True,
                 match=match)


def test_view_zero_elements_ambiguous():
    same_outcome(lambda x: x[:0].view(-1, 0), [rand(2, 3)], raises=True, match="ambiguous")
    check(lambda x: x[:0].view(-1), [rand(2, 3)], grad=False)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("src", ["plain", "transposed", "sliced"])
@pytest.mark.parametrize("shape", [(-1,), (3, 4), (2, 2, 3)])
def test_reshape(shape, src, dtype):
    view = {"plain": lambda x: x, "transposed": lambda x: x.t(), "sliced": lambda x: x[::2]}[src]
    a = rand(4, 3, dtype=dtype) if src != "sliced" else rand(8, 3, dtype=dtype)
    if src == "transposed":
        a = rand(3, 4, dtype=dtype)
    check(lambda x: view(x).reshape(shape), [a], gradcheck=dtype is np.float64 and shape == (3, 4))


def test_reshape_shares_memory_when_possible():
    x = ember.zeros(2, 6)
    y = x.reshape(3, 4)
    x.add_(1)
    assert y[0, 0].item() == 1
    z = x.t().reshape(-1)       # needs a copy
    x.add_(1)
    assert z[0].item() == 1


def test_view_as_reshape_as():
    check(lambda x, y: x.view_as(y), [rand(2, 3), rand(3, 2)])
    check(lambda x, y: x.t().reshape_as(y), [rand(2, 3), rand(6)])


def test_zero_dim_views():
    check(lambda x: x.view(1, 1), [np.array(1.5)])
    check(lambda x: x.reshape(-1), [np.array(1.5)])
    check(lambda x: x.view(()), [rand(1, 1)])


# ----------------------------------------------------------------- flatten / unflatten
@pytest.mark.parametrize("args", [(), (1,), (0, 1), (-2, -1), (1, 1), (0, -1)])
def test_flatten(args):
    check(lambda x: x.flatten(*args), [rand(2, 3, 2)])
    check(lambda x: lib(x).flatten(x.transpose(0, 2), *args), [rand(2, 3, 2)], gradcheck=False)


@pytest.mark.parametrize("shape,args", [((0, 3, 2), (1,)), ((2, 0, 3), ()), ((2, 3, 0), (0, 1)),
                                        ((0,), ())])
def test_flatten_zero_size(shape, args):
    check(lambda x: x.flatten(*args), [rand(*shape)], gradcheck=False)


def test_flatten_zero_dim_and_errors():
    check(lambda x: x.flatten(), [np.array(2.0)])
    same_outcome(lambda x: x.flatten(2, 1), [rand(2, 3, 4)], raises=True, match="start_dim cannot come after end_dim")


@pytest.mark.parametrize("dim,sizes", [(1, (2, 2)), (-1, (2, -1)), (0, (1, 2)), (1, (4, 1)), (1, [-1, 2])])
def test_unflatten(dim, sizes):
    check(lambda x: x.unflatten(dim, sizes), [rand(2, 4)])
    check(lambda x: lib(x).unflatten(x.t(), dim, sizes), [rand(4, 2)], gradcheck=False)


def test_unflatten_errors():
    same_outcome(lambda x: x.unflatten(1, (2, 2)), [rand(2, 3)], raises=True,
                 match="don't multiply up to the size of dim 1")
    same_outcome(lambda x: x.unflatten(1, ()), [rand(2, 3)], raises=True, match="sizes must be non-empty")


# ----------------------------------------------------------------- permute / transpose / t
@pytest.mark.parametrize("dims", [(2, 0, 1), (0, 1, 2), (-1, -3, -2), [1, 2, 0]])
def test_permute(dims):
    check(lambda x: x.permute(*dims), [rand(2, 3, 2)])
    check(lambda x: x.permute(dims), [rand(2, 3, 2)], gradcheck=False)
    check(lambda x: lib(x).permute(x[:, ::2], dims), [rand(2, 4, 2)], gradcheck=False)


@pytest.mark.parametrize("dims,match", [((0, 1), "does not match the length"), ((0, 0, 1), "duplicate dims"),
                                        ((0, 1, 3), "Dimension out of range")])
def test_permute_errors(dims, match):
    same_outcome(lambda x: x.permute(*dims), [rand(2, 3, 4)], raises=True, match=match)


@pytest.mark.parametrize("d0,d1", [(0, 1), (1, 0), (0, 2), (-1, 0), (1, 1)])
def test_transpose(d0, d1):
    check(lambda x: x.transpose(d0, d1), [rand(2, 3, 2)])
    check(lambda x: lib(x).transpose(x, d0, d1).sum(0), [rand(2, 3, 2)], gradcheck=False)


@pytest.mark.parametrize("shape", [(2, 3), (3,), ()])
def test_t(shape):
    check(lambda x: x.t(), [rand(*shape)])
    check(lambda x: lib(x).t(x), [rand(*shape)], gradcheck=False)


def test_t_of_3d_raises():
    same_outcome(lambda x: x.t(), [rand(2, 3, 4)], raises=True,
                 match="t\\(\\) expects a tensor with <= 2 dimensions, but self is 3D")


def test_T_property():
    check(lambda x: x.T, [rand(2, 3)])


@pytest.mark.parametrize("fn", [
    lambda x: x.transpose(0, 1), lambda x: x.permute(2, 0, 1), lambda x: x[:, ::2],
    lambda x: x[1:, :, 1], lambda x: x.unsqueeze(1), lambda x: x.expand(2, 2, 3, 4),
    lambda x: x[:, :1].expand(2, 5, 4), lambda x: x.view(2, 3, 4, 1), lambda x: x.t() if x.dim() == 2 else x.flip(0),
    lambda x: x.transpose(0, 2).contiguous(), lambda x: x.transpose(0, 1).reshape(6, 4),
    lambda x: x.movedim(0, -1), lambda x: x.narrow(2, 1, 2), lambda x: x.select(1, 2),
])
def test_strides_and_contiguity(fn):
    e, t = both(fn, 2, 3, 4)
    assert e.stride() == t.stride()
    assert e.is_contiguous() == t.is_contiguous()
    assert tuple(e.shape) == tuple(t.shape)
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    for d in range(e.dim()):
        assert e.stride(d) == t.stride(d)


# ----------------------------------------------------------------- squeeze / unsqueeze
@pytest.mark.parametrize("dim", [None, 0, 1, -1, 2, (0, 2), (1,), (0, 1, -1), ()])
def test_squeeze(dim):
    a = rand(1, 3, 1)
    check(lambda x: x.squeeze() if dim is None else x.squeeze(dim), [a])
    check(lambda x: lib(x).squeeze(x, dim) if dim is not None else lib(x).squeeze(x), [a], gradcheck=False)


def test_squeeze_errors_and_zero_dim():
    same_outcome(lambda x: x.squeeze(3), [rand(1, 2, 1)], raises=True, match="Dimension out of range")
    check(lambda x: x.squeeze(0), [np.array(2.0)])
    check(lambda x: x.squeeze(), [rand(1, 1)])


@pytest.mark.parametrize("dim", [0, 1, 2, -1, -2, -3])
def test_unsqueeze(dim):
    check(lambda x: x.unsqueeze(dim), [rand(2, 3)])
    check(lambda x: lib(x).unsqueeze(x.t(), dim), [rand(2, 3)], gradcheck=False)


def test_unsqueeze_errors_and_zero_dim():
    same_outcome(lambda x: x.unsqueeze(3), [rand(2, 3)], raises=True,
                 match="Dimension out of range \\(expected to be in range of \\[-3, 2\\], but got 3\\)")
    same_outcome(lambda x: x.unsqueeze(-4), [rand(2, 3)], raises=True, match="Dimension out of range")
    check(lambda x: x.unsqueeze(0), [np.array(2.0)])
    check(lambda x: x.unsqueeze(-1), [np.array(2.0)])


# ----------------------------------------------------------------- expand / broadcast
@pytest.mark.parametrize("sizes", [(2, 3), (4, 2, 3), (-1, 3), (5, -1, -1), (2, 1, 2, 3), (0, 2, 3)])
def test_expand(sizes):
    a = rand(2, 1)
    check(lambda x: x.expand(*sizes), [a])
    check(lambda x: x.expand(sizes), [a], gradcheck=False)
    check(lambda x: x.t().t().expand(list(sizes)), [a], gradcheck=False)


def test_expand_of_zero_dim_and_same_shape():
    check(lambda x: x.expand(2, 3), [np.array(1.5)])
    check(lambda x: x.expand(2, 1), [rand(2, 1)])


@pytest.mark.parametrize("sizes,match", [
    ((3, 3, 4), "The expanded size of the tensor \\(3\\) must match the existing size \\(2\\) at non-singleton dimension 0"),
    ((3, 4), "the number of sizes provided \\(2\\) must be greater or equal to the number of dimensions in the tensor \\(3\\)"),
    ((-1, 2, 3, 4), "isn't allowed in a leading, non-existing dimension 0"),
    ((2, 0, 3, 4), "must match the existing size"),
])
def test_expand_errors(sizes, match):
    same_outcome(lambda x: x.expand(*sizes), [rand(2, 3, 4)], raises=True, match=match)


def test_expand_error_names_legacy_type():
    with pytest.raises(RuntimeError, match="expand\\(torch.FloatTensor\\{\\[2, 3\\]\\}, size=\\[3\\]\\)"):
        ember.zeros(2, 3).expand(3)


def test_expand_as_broadcast_to():
    check(lambda x, y: x.expand_as(y), [rand(3, 1), rand(2, 3, 4)])
    check(lambda x: x.broadcast_to((2, 3, 4)), [rand(3, 1)])
    check(lambda x: lib(x).broadcast_to(x, (3, 2)), [rand(2)])
    same_outcome(lambda x: x.broadcast_to((3, 3)), [rand(2, 1)], raises=True, match="must match the existing size")


def test_expand_is_a_view():
    x = ember.zeros(3, 1)
    y = x.expand(3, 4)
    x.add_(1)
    assert y.sum().item() == 12
    assert y.stride() == (1, 0)


# ----------------------------------------------------------------- contiguous / clone
def test_contiguous():
    check(lambda x: x.t().contiguous(), [rand(2, 3)])
    x = ember.tensor(rand(2, 3))
    assert x.contiguous() is x
    y = x.t().contiguous()
    assert y.is_contiguous() and y.stride() == (2, 1)
    x.add_(1)
    np.testing.assert_array_equal(y.numpy() + 1, x.t().numpy())


def test_clone():
    check(lambda x: x.clone(), [rand(2, 3)])
    check(lambda x: lib(x).clone(x.t()) * 2, [rand(2, 3)])
    x = ember.tensor(rand(2, 3))
    c = x.clone()
    x.add_(1)
    np.testing.assert_array_equal(c.numpy() + 1, x.numpy())
    assert c.grad_fn is None and not c.requires_grad
    r = ember.tensor(rand(2, 3)).requires_grad_()
    assert r.clone().grad_fn.name() == "CloneBackward0"


# ----------------------------------------------------------------- repeat / flip / movedim
@pytest.mark.parametrize("sizes", [(2, 1), (1, 3), (2, 2), (3, 1, 2), (2, 1, 1, 1), (0, 2)])
def test_repeat(sizes):
    check(lambda x: x.repeat(*sizes), [rand(2, 3)])
    check(lambda x: x.t().repeat(sizes), [rand(3, 2)], gradcheck=False)


def test_repeat_errors():
    same_outcome(lambda x: x.repeat(2, 2), [rand(2, 3, 4)], raises=True,
                 match="Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    same_outcome(lambda x: x.repeat(-1, 1, 1), [rand(2, 3, 4)], raises=True,
                 match="Trying to create tensor with negative dimension -2: \\[-2, 3, 4\\]")


def test_repeat_zero_dim():
    check(lambda x: x.repeat(3), [np.array(1.5)])
    check(lambda x: x.repeat(2, 2), [np.array(1.5)])


@pytest.mark.parametrize("dims", [(0,), (1,), (0, 1), (-1,), (0, 2)])
def test_flip(dims):
    check(lambda x: x.flip(dims), [rand(2, 3, 2)])
    check(lambda x: x.flip(*dims), [rand(2, 3, 2)], gradcheck=False)
    check(lambda x: lib(x).flip(x[:, ::2], dims), [rand(2, 4, 2)], gradcheck=False)


def test_flip_is_a_copy_and_errors():
    x = ember.zeros(3)
    y = x.flip(0)
    x.add_(1)
    assert y.sum().item() == 0
    same_outcome(lambda x: x.flip(0, 0), [rand(2, 3)], raises=True, match="appears multiple times in the list of dims")
    same_outcome(lambda x: x.flip(2), [rand(2, 3)], raises=True, match="Dimension out of range")


@pytest.mark.parametrize("src,dst", [(0, 2), (-1, 0), ((0, 1), (2, 0)), ((0, 2), (1, 0)), ([1], [-1])])
def test_movedim(src, dst):
    check(lambda x: x.movedim(src, dst), [rand(2, 3, 2)])
    check(lambda x: lib(x).movedim(x.transpose(0, 1), src, dst), [rand(2, 3, 2)], gradcheck=False)


@pytest.mark.parametrize("src,dst,match", [
    ((0, 1), (1,), "should contain the same number of dims as destination"),
    ((0, 0), (1, 2), "repeated dim in `source`"),
    ((0, 1), (1, 1), "repeated dim in `destination`"),
    (3, 0, "Dimension out of range"),
])
def test_movedim_errors(src, dst, match):
    same_outcome(lambda x: x.movedim(src, dst), [rand(2, 3, 4)], raises=True, match=match)


# ----------------------------------------------------------------- views share memory and versions
@pytest.mark.parametrize("fn", [
    lambda x: x.view(6), lambda x: x.reshape(3, 2), lambda x: x.t(), lambda x: x.transpose(0, 1),
    lambda x: x.permute(1, 0), lambda x: x.unsqueeze(0), lambda x: x.flatten(), lambda x: x[1],
    lambda x: x[:, ::2], lambda x: x.narrow(1, 1, 2), lambda x: x.unflatten(1, (3, 1)),
    lambda x: x.expand(4, 2, 3), lambda x: x.movedim(0, 1), lambda x: x.unbind(1)[0],
    lambda x: x.split(1)[1], lambda x: x.chunk(3, 1)[2], lambda x: x.select(0, 1),
    lambda x: x.unsqueeze(0).squeeze(0), lambda x: x.T, lambda x: x.detach(),
])
def test_views_share_memory_and_version(fn):
    x = ember.tensor(rand(2, 3))
    v = fn(x)
    before = v.numpy().copy()
    assert v._version == x._version
    x.add_(1)
    np.testing.assert_allclose(v.numpy(), before + 1)
    assert v._version == x._version == 1
    if not v.stride() or 0 not in v.stride():   # writing through a broadcast view is not allowed
        v.mul_(2)
        assert x._version == 2
        np.testing.assert_allclose(v.numpy(), (before + 1) * 2)
        assert v.data_ptr() >= x.data_ptr()


def test_view_gradient_after_base_changes_raises():
    x = ember.tensor(rand(2, 3)).requires_grad_()
    y = x * 1
    v = y.view(6)
    w = v * v
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        w.sum().backward()


@pytest.mark.parametrize("op,name", [
    ("view", "ViewBackward0"), ("reshape", "ViewBackward0"), ("permute", "PermuteBackward0"),
    ("transpose", "TransposeBackward0"), ("t", "TBackward0"), ("squeeze", "SqueezeBackward0"),
    ("squeeze1", "SqueezeBackward1"), ("squeeze2", "SqueezeBackward2"), ("unsqueeze", "UnsqueezeBackward0"),
    ("expand", "ExpandBackward0"), ("clone", "CloneBackward0"), ("repeat", "RepeatBackward0"),
    ("flip", "FlipBackward0"), ("reshape_copy", "UnsafeViewBackward0"),
])
def test_grad_fn_names(op, name):
    fns = {
        "view": lambda x: x.view(6), "reshape": lambda x: x.reshape(3, 2), "permute": lambda x: x.permute(1, 0),
        "transpose": lambda x: x.transpose(0, 1), "t": lambda x: x.t(), "squeeze": lambda x: x.squeeze(),
        "squeeze1": lambda x: x.squeeze(0), "squeeze2": lambda x: x.squeeze((0,)),
        "unsqueeze": lambda x: x.unsqueeze(0), "expand": lambda x: x.expand(2, 2, 3),
        "clone": lambda x: x.clone(), "repeat": lambda x: x.repeat(2, 1), "flip": lambda x: x.flip(0),
        "reshape_copy": lambda x: x.t().reshape(6),
    }
    e = fns[op](ember.tensor(rand(2, 3)).requires_grad_())
    t = fns[op](torch.from_numpy(rand(2, 3)).requires_grad_())
    assert t.grad_fn.name() == name
    assert e.grad_fn.name() == name
