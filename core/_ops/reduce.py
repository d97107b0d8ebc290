"""Reductions over dimensions: sum, mean, prod, max/min, arg*, var/std, norm, logsumexp."""

import collections
import math

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ..autograd.graph import Node
from ..autograd.grad_mode import MODE
from ..backend import REGISTRY
from .common import _make, cast, check_tensor, normalize_dim, normalize_dims, record
from .select import where

values_indices = collections.namedtuple("values_indices", ["values", "indices"])


def _kept_shape(shape, dims):
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def _expand_back(g, shape, dims, keepdim):
    """Broadcast a reduced gradient back to the input's shape (differentiable)."""
    if not keepdim and dims:
        g = g.reshape(_kept_shape(shape, dims))
    return g.expand(shape)


class _ReduceBackward(Node):
    def __init__(self, x, dims, keepdim):
        self.shape = tuple(x.shape)
        self.dims = dims
        self.keepdim = keepdim


class SumBackward1(_ReduceBackward):
    def backward(self, g):
        return (_expand_back(g, self.shape, self.dims, self.keepdim),)


class MeanBackward1(_ReduceBackward):
    def backward(self, g):
        return (_expand_back(g, self.shape, self.dims, self.keepdim) / self.count,)


def _reduce_args(input, dim):
    check_tensor(input)
    return normalize_dims(dim, input._data.ndim)


def sum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum of elements over ``dim`` (all by default); integers and bools sum to int64."""
    dims = _reduce_args(input, dim)
    x = input
    if dtype is not None:
        x = cast(x, _dtype.to_dtype(dtype))
    elif x._data.dtype.kind in "biu":
        x = cast(x, _dtype.int64)
    data = x._be.kernels["sum"](x._data, dims, keepdim)
    if MODE.enabled and x._rg:
        return record(SumBackward1(x, dims, keepdim), data, x._be, (x,))
    return _make(data, x._be)


def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean of elements over ``dim`` (all by default); floating inputs only."""
    dims = _reduce_args(input, dim)
    x = input if dtype is None else cast(input, _dtype.to_dtype(dtype))
    if x._data.dtype.kind != "f":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {x.dtype.name.capitalize()}"
        )
    data = x._be.kernels["mean"](x._data, dims, keepdim)
    if MODE.enabled and x._rg:
        node = MeanBackward1(x, dims, keepdim)
        node.count = int(np.prod([x._data.shape[d] for d in dims])) if dims else 1
        return record(node, data, x._be, (x,))
    return _make(data, x._be)


class ProdBackward1(_ReduceBackward):
    def backward(self, g):
        (x,) = self.saved()
        y = self.saved_output()
        g = _expand_back(g, self.shape, self.dims, self.keepdim)
        y = _expand_back(y, self.shape, self.dims, self.keepdim)
        if not bool((x == 0).any()):
            return (g * y / x,)
        others = _product_of_others(x, self.dims)
        return (g * others,)


def _product_of_others(x, dims):
    """For each element, the product of the other elements in its reduction group."""
    xp = x._be.xp
    data = x._data
    moved = xp.moveaxis(data, dims, range(data.ndim - len(dims), data.ndim))
    flat = moved.reshape(moved.shape[: data.ndim - len(dims)] + (-1,))
    ones = xp.ones(flat.shape[:-1] + (1,), dtype=data.dtype)
    left = xp.cumprod(xp.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    right = xp.flip(xp.cumprod(xp.flip(xp.concatenate([flat[..., 1:], ones], axis=-1), -1), axis=-1), -1)
    result = (left * right).reshape(moved.shape)
    return _make(xp.ascontiguousarray(xp.moveaxis(result, range(data.ndim - len(dims), data.ndim), dims)), x._be)


def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product of elements over one ``dim`` (or all); integers multiply in int64."""
    if dim is not None and not isinstance(dim, (int, np.integer)):
        raise TypeError("prod(): argument 'dim' must be int")
    dims = _reduce_args(input, dim)
    x = input
    if dtype is not None:
        x = cast(x, _dtype.to_dtype(dtype))
    elif x._data.dtype.kind in "biu":
        x = cast(x, _dtype.int64)
    data = x._be.kernels["prod"](x._data, dims, keepdim)
    if MODE.enabled and x._rg:
        node = ProdBackward1(x, dims, keepdim)
        node.save(x)
        out = record(node, data, x._be, (x,))
        node.save_output(out)
        return out
    return _make(data, x._be)


class AmaxBackward0(_ReduceBackward):
    """Gradient of max/min over dims: shared evenly between tied extremes."""

    def backward(self, g):
        (x,) = self.saved()
        y = _expand_back(self.saved_output(), self.shape, self.dims, self.keepdim)
        mask = (x == y).to(g.dtype)
        count = sum(mask, self.dims, keepdim=True)
        return (_expand_back(g, self.shape, self.dims, self.keepdim) * mask / count,)


def _extreme(kernel, input, dims, keepdim):
    x = input
    if x._data.size == 0 and any(x._data.shape[d] == 0 for d in dims):
        raise IndexError(
            f"{kernel}(): Expected reduction dim to be specified for input.numel() == 0. "
            "Specify the reduction dim with the 'dim' argument."
            if len(dims) == x._data.ndim else
            f"{kernel}(): Expected reduction dim {dims[0]} to have non-zero size."
        )
    data = x._be.kernels[kernel](x._data, dims, keepdim)
    if MODE.enabled and x._rg:
        node = AmaxBackward0(x, dims, keepdim)
        node.save(x)
        out = record(node, data, x._be, (x,))
        node.save_output(out)
        return out
    return _make(data, x._be)


def amax(input, dim=(), keepdim=False):
    """Largest element over ``dim`` (all dims when empty)."""
    return _extreme("amax", input, _reduce_args(input, dim if dim != () else None), keepdim)


def amin(input, dim=(), keepdim=False):
    """Smallest element over ``dim`` (all dims when empty)."""
    return _extreme("amin", input, _reduce_args(input, dim if dim != () else None), keepdim)


class MaxBackward0(Node):
    """Gradient of max/min along one dim: flows to the returned index."""

    def backward(self, g, *rest):
        (indices,) = self.saved()
        from .index import scatter_into_zeros

        if not self.keepdim:
            g = g.unsqueeze(self.dim)
            indices = indices.unsqueeze(self.dim)
        return (scatter_into_zeros(g, self.dim, indices, self.shape),)

    def apply(self, grads):
        return self.backward(grads[0])


def _extreme_dim(name, input, dim, keepdim):
    check_tensor(input)
    d = normalize_dim(dim, input._data.ndim)
    x = input
    if x._data.ndim and x._data.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    be = x._be
    idx = be.kernels["arg" + name](x._data, d, True)
    values = be.xp.take_along_axis(x._data, idx, axis=d) if x._data.ndim else x._data.copy()
    if not keepdim and x._data.ndim:
        idx = idx.squeeze(d)
        values = values.squeeze(d)
    indices = _make(idx, be)
    if MODE.enabled and x._rg:
        node = MaxBackward0()
        node.n_outputs = 2
        node.dim, node.keepdim, node.shape = d, keepdim, tuple(x.shape)
        node.save(indices)
        vals = record(node, values, be, (x,))
    else:
        vals = _make(values, be)
    return values_indices(vals, indices)


def max(input, dim=None, keepdim=False, *, out=None):
    """Largest element; with ``dim``, ``(values, indices)`` along it; with a tensor,
    the elementwise maximum."""
    if isinstance(dim, Tensor):
        from .binary import maximum

        return maximum(input, dim)
    if dim is None:
        return _extreme("amax", input, _reduce_args(input, None), False)
    return _extreme_dim("max", input, dim, keepdim)


def min(input, dim=None, keepdim=False, *, out=None):
    """Smallest element; with ``dim``, ``(values, indices)`` along it; with a tensor,
    the elementwise minimum."""
    if isinstance(dim, Tensor):
        from .binary import minimum

        return minimum(input, dim)
    if dim is None:
        return _extreme("amin", input, _reduce_args(input, None), False)
    return _extreme_dim("min", input, dim, keepdim)


def _arg(name, input, dim, keepdim):
    check_tensor(input)
    x = input
    if dim is None:
        if x._data.size == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        flat = x._data.reshape(-1)
        idx = x._be.kernels[name](flat, 0, False)
        if keepdim:
            idx = idx.reshape((1,) * x._data.ndim)
        return _make(idx, x._be)
    d = normalize_dim(dim, x._data.ndim)
    if x._data.ndim and x._data.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    if not x._data.ndim:
        return _make(x._be.xp.zeros((), dtype=np.int64), x._be)
    return _make(x._be.kernels[name](x._data, d, keepdim), x._be)


def argmax(input, dim=None, keepdim=False):
    """Index of the largest element (first one on ties), over all or along ``dim``."""
    return _arg("argmax", input, dim, keepdim)


def argmin(input, dim=None, keepdim=False):
    """Index of the smallest element (first one on ties), over all or along ``dim``."""
    return _arg("argmin", input, dim, keepdim)


class VarBackward0(_ReduceBackward):
    def backward(self, g):
        (x,) = self.saved()
        centred = x - mean(x, self.dims, keepdim=True)
        g = _expand_back(g, self.shape, self.dims, self.keepdim)
        if self.std:
            y = _expand_back(self.saved_output(), self.shape, self.dims, self.keepdim)
            return (g * centred / (y * self.denom),)
        return (g * centred * (2.0 / self.denom),)


def _var_args(dim, unbiased, correction):
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return dim, correction


def _var(input, dim, unbiased, keepdim, correction, std):
    dim, correction = _var_args(dim, unbiased, correction)
    dims = _reduce_args(input, dim)
    x = input
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"std and var only support floating point and complex dtypes")
    n = int(np.prod([x._data.shape[d] for d in dims])) if dims else 1
    data = x._be.kernels["var"](x._data, dims, keepdim, correction)
    if std:
        data = x._be.xp.sqrt(data)
    if MODE.enabled and x._rg:
        node = VarBackward0(x, dims, keepdim)
        node.std, node.denom = std, n - correction
        node.save(x)
        out = record(node, data, x._be, (x,))
        if std:
            node.save_output(out)
        out.grad_fn.__class__ = StdBackward0 if std else VarBackward0
        return out
    return _make(data, x._be)


class StdBackward0(VarBackward0):
    pass


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over ``dim``: unbiased (divide by N-1) unless ``unbiased=False`` or
    ``correction`` says otherwise."""
    return _var(input, dim, unbiased, keepdim, correction, False)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation over ``dim``; see ``var`` for the correction."""
    return _var(input, dim, unbiased, keepdim, correction, True)


class NormBackward1(_ReduceBackward):
    def backward(self, g):
        (x,) = self.saved()
        y = _expand_back(self.saved_output(), self.shape, self.dims, self.keepdim)
        g = _expand_back(g, self.shape, self.dims, self.keepdim)
        return (where(y == 0, g * 0, g * x / y),)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """The p-norm over ``dim`` (all elements by default): ``p`` a number, ``inf``,
    ``-inf``, or ``'fro'`` (2-norm of the flattened dims)."""
    check_tensor(input)
    x = input if dtype is None else cast(input, _dtype.to_dtype(dtype))
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"norm(): input dtype should be floating point, but got {x.dtype}")
    if p == "fro" or p is None:
        p = 2
    if p == "nuc":
        raise RuntimeError("nuclear norm is not supported")
    dims = _reduce_args(x, dim)
    if p == 2:
        data = x._be.xp.sqrt(x._be.kernels["sum"](x._data * x._data, dims, keepdim))
        if MODE.enabled and x._rg:
            node = NormBackward1(x, dims, keepdim)
            node.save(x)
            out = record(node, data, x._be, (x,))
            node.save_output(out)
            return out
        return _make(data, x._be)
    a = x.abs()
    if p == math.inf:
        return amax(a, dims, keepdim)
    if p == -math.inf:
        return amin(a, dims, keepdim)
    if p == 0:
        return sum((a != 0).to(x.dtype), dims, keepdim)
    if p == 1:
        return sum(a, dims, keepdim)
    return sum(a ** p, dims, keepdim) ** (1.0 / p)


def logsumexp(input, dim, keepdim=False):
    """``log(sum(exp(input)))`` over ``dim``, computed without overflow."""
    check_tensor(input)
    x = input if input._data.dtype.kind == "f" else cast(input, _dtype.get_default_dtype())
    dims = _reduce_args(x, dim)
    if x._data.size == 0:
        return sum(x.exp(), dims, keepdim).log()
    m = amax(x.detach(), dims, keepdim=True)
    m = where(m.isinf(), m * 0, m) if bool(m.isinf().any()) else m
    out = (x - m).exp().sum(dims, keepdim=True).log() + m
    return out if keepdim else out.squeeze(dims) if dims else out


def all(input, dim=None, keepdim=False):
    """True where every element (over ``dim``) is non-zero."""
    dims = _reduce_args(input, dim)
    return _make(input._be.xp.all(input._data, axis=dims, keepdims=keepdim), input._be)


def any(input, dim=None, keepdim=False):
    """True where some element (over ``dim``) is non-zero."""
    dims = _reduce_args(input, dim)
    return _make(input._be.xp.any(input._data, axis=dims, keepdims=keepdim), input._be)


class CumsumBackward0(Node):
    def backward(self, g):
        return (g.flip(self.dim).cumsum(self.dim).flip(self.dim),)


def cumsum(input, dim, *, dtype=None):
    """Running sums along ``dim``; integers accumulate in int64."""
    check_tensor(input)
    d = normalize_dim(dim, input._data.ndim)
    x = input
    if dtype is not None:
        x = cast(x, _dtype.to_dtype(dtype))
    elif x._data.dtype.kind in "biu":
        x = cast(x, _dtype.int64)
    data = x._be.xp.cumsum(x._data, axis=d) if x._data.ndim else x._data.copy()
    if MODE.enabled and x._rg:
        node = CumsumBackward0()
        node.dim = d
        return record(node, data, x._be, (x,))
    return _make(data, x._be)


def _axis_kernel(fn_name):
    def factory(xp):
        fn = getattr(xp, fn_name)

        def run(x, dims, keepdim, *extra):
            out = fn(x, axis=dims, keepdims=keepdim, *extra) if not extra else fn(
                x, axis=dims, keepdims=keepdim, ddof=extra[0])
            return xp.asarray(out, dtype=x.dtype) if fn_name != "var" else xp.asarray(out, dtype=x.dtype)

        return run

    return factory


def _arg_kernel(fn_name):
    def factory(xp):
        fn = getattr(xp, fn_name)
        return lambda x, dim, keepdim: xp.asarray(fn(x, axis=dim, keepdims=keepdim), dtype=np.int64)

    return factory


REGISTRY.add_generic({
    "sum": _axis_kernel("sum"),
    "mean": _axis_kernel("mean"),
    "prod": _axis_kernel("prod"),
    "amax": _axis_kernel("max"),
    "amin": _axis_kernel("min"),
    "var": _axis_kernel("var"),
    "argmax": _arg_kernel("argmax"),
    "argmin": _arg_kernel("argmin"),
})
