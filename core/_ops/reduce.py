"""Reductions over dimensions: sum, mean, prod, max/min, arg*, var/std, norm, logsumexp."""

import collections
import math

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ..autograd.graph import Node
from ..autograd.grad_mode import MODE
from .common import (_make, cast, check_tensor, normalize_dim, normalize_dims, record,
                     record_with_output)
from .select import where

values_indices = collections.namedtuple("values_indices", ["values", "indices"])


def _kept_shape(shape, dims):
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def _expand_back(g, shape, dims, keepdim):
    """Broadcast a reduced gradient back to the input's shape: differentiable in a
    recorded backward, else a broadcast view of the array."""
    if MODE.enabled:
        if not keepdim and dims:
            g = g.reshape(_kept_shape(shape, dims))
        return g.expand(shape)
    data = g._data
    if data.shape == shape:
        return g
    if not keepdim and dims:
        data = data.reshape(_kept_shape(shape, dims))
    return _make(g._be.kernels["broadcast_to"](data, shape), g._be)


def _count(shape, dims):
    n = 1
    for d in dims:
        n *= shape[d]
    return n


class _ReduceBackward(Node):
    def __init__(self, x, dims, keepdim):
        self.shape = tuple(x._data.shape)
        self.dims = dims
        self.keepdim = keepdim


def _reduce_args(input, dim, empty_is_all=True):
    """Wrapped reduction dims; None (and, as in torch, an empty list) means every dim.

    A 0-d tensor accepts dim 0/-1 and reduces over nothing.
    """
    check_tensor(input)
    ndim = input._data.ndim
    if dim is None:
        return tuple(range(ndim))
    if dim.__class__ is int and -ndim <= dim < ndim:  # the common case, without the generic checks
        return (dim % ndim,)
    if empty_is_all and not isinstance(dim, (int, np.integer)) and len(dim) == 0:
        return tuple(range(ndim))
    dims = normalize_dims(dim, ndim)
    return dims if ndim else ()


def _array(xp, data):
    """``data`` as an array: NumPy ufuncs answer 0-d inputs with scalars, which can't be
    written into in place."""
    return data if data.__class__ is xp.ndarray else xp.asarray(data)


# ----------------------------------------------------------------- sum / mean
class SumBackward0(_ReduceBackward):
    """Gradient of a full sum (``SumBackward1`` when dims were given, as torch names them)."""

    def backward(self, g):
        return (_expand_back(g, self.shape, self.dims, self.keepdim),)


class SumBackward1(SumBackward0):
    pass


class MeanBackward0(_ReduceBackward):
    def backward(self, g):
        return (_expand_back(g, self.shape, self.dims, self.keepdim) / self.count,)


class MeanBackward1(MeanBackward0):
    pass


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
        node = (SumBackward0 if dim is None else SumBackward1)(x, dims, keepdim)
        return record(node, data, x._be, (x,))
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
        node = (MeanBackward0 if dim is None else MeanBackward1)(x, dims, keepdim)
        node.count = _count(x._data.shape, dims)
        return record(node, data, x._be, (x,))
    return _make(data, x._be)


# ----------------------------------------------------------------- prod
class ProdBackward0(_ReduceBackward):
    """Gradient of a product: ``y / x``, with zeros handled exactly (double backward too)."""

    def backward(self, g):
        (x,) = self.saved()
        y = _expand_back(self.saved_output(), self.shape, self.dims, self.keepdim)
        g = _expand_back(g, self.shape, self.dims, self.keepdim)
        zero_data = x._data == 0
        if not zero_data.any():
            return (g * y / x,)
        # Where an input is zero, y / x is undefined; the product of the others is then
        # the product of the non-zeros when it is the group's only zero, that times the
        # other zero when there are two, and 0 beyond. Built from differentiable pieces
        # so that the second derivative (through x and through y) is exact as well.
        zero = _make(zero_data, x._be)
        safe = where(zero, 1.0, x)
        count = _make(x._be.xp.sum(zero_data, axis=self.dims, keepdims=True), x._be)
        nonzero_prod = _prod(safe, self.dims, True)
        other_zero = _sum_keep(where(zero, x, 0.0), self.dims) - x
        at_zero = where(count == 1, nonzero_prod, where(count == 2, other_zero * nonzero_prod, 0.0))
        return (g * where(zero, at_zero, y / safe),)


class ProdBackward1(ProdBackward0):
    pass


def _sum_keep(x, dims):
    return sum(x, dims, keepdim=True)


def _prod(x, dims, keepdim, node_cls=ProdBackward1):
    data = x._be.kernels["prod"](x._data, dims, keepdim)
    if MODE.enabled and x._rg:
        return record_with_output(node_cls(x, dims, keepdim), data, x)
    return _make(data, x._be)


def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product of elements over one ``dim`` (or all); integers multiply in int64."""
    if dim is not None and not isinstance(dim, (int, np.integer)):
        raise TypeError(f"prod(): argument 'dim' must be int, not {type(dim).__name__}")
    dims = _reduce_args(input, dim)
    x = input
    if dtype is not None:
        x = cast(x, _dtype.to_dtype(dtype))
    elif x._data.dtype.kind in "biu":
        x = cast(x, _dtype.int64)
    return _prod(x, dims, keepdim, ProdBackward0 if dim is None else ProdBackward1)


# ----------------------------------------------------------------- max / min
class AmaxBackward0(_ReduceBackward):
    """Gradient of max/min over dims: shared evenly between tied extremes."""

    kernel = "amax"

    def backward(self, g):
        (x,) = self.saved()
        y = _expand_back(self.saved_output(), self.shape, self.dims, self.keepdim)
        mask = self._ties(x, y).to(g.dtype)
        count = _sum_keep(mask, self.dims)
        return (_expand_back(g, self.shape, self.dims, self.keepdim) * mask / count,)


    @staticmethod
    def _ties(x, y):
        return x == y


class AminBackward0(AmaxBackward0):
    kernel = "amin"


def _nan_aware_ties(x, y):
    # max()/min() of everything: a NaN result takes its gradient from the NaN
    # elements (torch's rule), instead of no element matching it
    return (x == y) | (x.isnan() & y.isnan())


class MaxBackward1(AmaxBackward0):
    _ties = staticmethod(_nan_aware_ties)


class MinBackward1(AminBackward0):
    _ties = staticmethod(_nan_aware_ties)


def _extreme(name, input, dims, keepdim, node_cls, explicit=False):
    x = input
    shape = x._data.shape
    if x._data.size == 0:
        if not explicit and (len(dims) == len(shape) or not dims):
            raise RuntimeError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument.")
        for d in dims:
            if shape[d] == 0:
                raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    data = x._be.kernels[node_cls.kernel](x._data, dims, keepdim)
    if MODE.enabled and x._rg:
        return record_with_output(node_cls(x, dims, keepdim), data, x)
    return _make(data, x._be)


def _given(dim):
    return dim is not None and not (isinstance(dim, (tuple, list)) and len(dim) == 0)


def amax(input, dim=(), keepdim=False):
    """Largest element over ``dim`` (all dims when empty); ties share the gradient."""
    return _extreme("amax", input, _reduce_args(input, dim), keepdim, AmaxBackward0, _given(dim))


def amin(input, dim=(), keepdim=False):
    """Smallest element over ``dim`` (all dims when empty); ties share the gradient."""
    return _extreme("amin", input, _reduce_args(input, dim), keepdim, AminBackward0, _given(dim))


class MaxBackward0(Node):
    """Gradient of max/min along one dim: flows to the returned index."""

    n_outputs = 2

    def apply(self, grads):
        from .index import scatter_into_zeros

        g = grads[0]
        if not self.shape:
            return (g,)
        (indices,) = self.saved()
        if not self.keepdim:
            g = g.unsqueeze(self.dim)
            indices = indices.unsqueeze(self.dim)
        return (scatter_into_zeros(g, self.dim, indices, self.shape),)


class MinBackward0(MaxBackward0):
    pass


def _extreme_dim(name, input, dim, keepdim):
    check_tensor(input)
    x = input
    ndim = x._data.ndim
    d = normalize_dim(dim, ndim)
    be = x._be
    if not ndim:
        values, idx = be.xp.array(x._data, copy=True), be.xp.zeros((), dtype=np.int64)
    else:
        if x._data.shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
        idx = be.kernels["arg" + name](x._data, d, True)
        values = be.xp.take_along_axis(x._data, idx, axis=d)
        if not keepdim:
            idx = idx.squeeze(d)
            values = values.squeeze(d)
    indices = _make(idx, be)
    if MODE.enabled and x._rg:
        node = MaxBackward0() if name == "max" else MinBackward0()
        node.dim, node.keepdim, node.shape = d, keepdim, x._data.shape
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
        return _extreme("max", input, _reduce_args(input, None), False, MaxBackward1)
    return _extreme_dim("max", input, dim, keepdim)


def min(input, dim=None, keepdim=False, *, out=None):
    """Smallest element; with ``dim``, ``(values, indices)`` along it; with a tensor,
    the elementwise minimum."""
    if isinstance(dim, Tensor):
        from .binary import minimum

        return minimum(input, dim)
    if dim is None:
        return _extreme("min", input, _reduce_args(input, None), False, MinBackward1)
    return _extreme_dim("min", input, dim, keepdim)


def _arg(name, input, dim, keepdim):
    check_tensor(input)
    x = input
    if dim is None:
        if x._data.size == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        idx = x._be.kernels[name](x._data.reshape(-1), 0, False)
        if keepdim:
            idx = idx.reshape((1,) * x._data.ndim)
        return _make(idx, x._be)
    d = normalize_dim(dim, x._data.ndim)
    if not x._data.ndim:
        return _make(x._be.xp.zeros((), dtype=np.int64), x._be)
    if x._data.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    return _make(x._be.kernels[name](x._data, d, keepdim), x._be)


def argmax(input, dim=None, keepdim=False):
    """Index of the largest element (first one on ties), over all or along ``dim``."""
    return _arg("argmax", input, dim, keepdim)


def argmin(input, dim=None, keepdim=False):
    """Index of the smallest element (first one on ties), over all or along ``dim``."""
    return _arg("argmin", input, dim, keepdim)


# ----------------------------------------------------------------- var / std
def _var_grad(node, g, x):
    """Gradient of a variance reduction (the node's dims, shape, keepdim and denominator)."""
    centred = x - mean(x, node.dims, keepdim=True)
    return _expand_back(g, node.shape, node.dims, node.keepdim) * centred * (2.0 / node.denom)


def _std_grad(node, g, x, y):
    """Gradient of a standard deviation reduction whose result is ``y``."""
    centred = x - mean(x, node.dims, keepdim=True)
    g = _expand_back(g, node.shape, node.dims, node.keepdim)
    y = _expand_back(y, node.shape, node.dims, node.keepdim)
    zero = y == 0
    # torch's convention: a zero standard deviation passes no gradient.
    return where(zero, 0.0, g / where(zero, 1.0, y)) * centred / node.denom


class VarBackward0(_ReduceBackward):
    def backward(self, g):
        (x,) = self.saved()
        return (_var_grad(self, g, x),)


class StdBackward0(_ReduceBackward):
    def backward(self, g):
        (x,) = self.saved()
        return (_std_grad(self, g, x, self.saved_output()),)


class VarMeanBackward0(_ReduceBackward):
    """Gradient of ``var_mean``: outputs (variance, mean), one input."""

    n_outputs = 2

    def spread_grad(self, g, x):
        return _var_grad(self, g, x)

    def apply(self, grads):
        g_spread, g_mean = grads
        (x,) = self.saved()
        parts = [] if g_spread is None else [self.spread_grad(g_spread, x)]
        if g_mean is not None:
            parts.append(_expand_back(g_mean, self.shape, self.dims, self.keepdim) / self.count)
        return (parts[0] if len(parts) == 1 else parts[0] + parts[1],)


class StdMeanBackward0(VarMeanBackward0):
    """Gradient of ``std_mean``: outputs (standard deviation, mean), one input."""

    def spread_grad(self, g, x):
        return _std_grad(self, g, x, self.saved_output())


def _var_args(name, input, dim, unbiased, correction):
    """(dims, correction) of a var/std call; ``var(x, False)`` passes ``unbiased`` as ``dim``."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    elif unbiased is not None:
        raise TypeError(f"{name}(): pass either 'unbiased' or 'correction', not both")
    dims = _reduce_args(input, dim)
    if input._data.dtype.kind != "f":
        what = "std and var" if name in ("var", "std") else name
        raise RuntimeError(f"{what} only support floating point and complex dtypes")
    return dims, correction


def _spread(x, dims, keepdim, correction, std):
    data = x._be.kernels["var"](x._data, dims, keepdim, correction)
    return _array(x._be.xp, x._be.xp.sqrt(data)) if std else data


def _var(input, dim, unbiased, keepdim, correction, std):
    dims, correction = _var_args("std" if std else "var", input, dim, unbiased, correction)
    x = input
    data = _spread(x, dims, keepdim, correction, std)
    if MODE.enabled and x._rg:
        node = (StdBackward0 if std else VarBackward0)(x, dims, keepdim)
        node.denom = _count(x._data.shape, dims) - correction
        if std:
            return record_with_output(node, data, x)
        node.save(x)
        return record(node, data, x._be, (x,))
    return _make(data, x._be)


def _spread_and_mean(input, dim, unbiased, keepdim, correction, std):
    dims, correction = _var_args("std_mean" if std else "var_mean", input, dim, unbiased, correction)
    x, be = input, input._be
    spread = _spread(x, dims, keepdim, correction, std)
    centre = _array(be.xp, be.kernels["mean"](x._data, dims, keepdim))
    if not (MODE.enabled and x._rg):
        return _make(spread, be), _make(centre, be)
    node = (StdMeanBackward0 if std else VarMeanBackward0)(x, dims, keepdim)
    node.count = _count(x._data.shape, dims)
    node.denom = node.count - correction
    first = record_with_output(node, spread, x)
    second = _make(centre, be)
    second._rg, second.grad_fn, second._out_idx = True, node, 1
    return first, second


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(var(input, ...), mean(input, ...))`` over the same ``dim``, computed together;
    ``unbiased``/``correction`` as for ``var``. Both results are differentiable."""
    return _spread_and_mean(input, dim, unbiased, keepdim, correction, False)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(std(input, ...), mean(input, ...))`` over the same ``dim``, computed together;
    ``unbiased``/``correction`` as for ``var``. Both results are differentiable."""
    return _spread_and_mean(input, dim, unbiased, keepdim, correction, True)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over ``dim``: unbiased (divide by N-1) unless ``unbiased=False`` or
    ``correction`` says otherwise."""
    return _var(input, dim, unbiased, keepdim, correction, False)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation over ``dim``; see ``var`` for the correction."""
    return _var(input, dim, unbiased, keepdim, correction, True)


# ----------------------------------------------------------------- norm
class LinalgVectorNormBackward0(_ReduceBackward):
    """Gradient of the vector p-norm, from differentiable pieces (double backward works)."""

    def backward(self, g):
        (x,) = self.saved()
        p = self.p
        g = _expand_back(g, self.shape, self.dims, self.keepdim)
        if p == 0:
            return (g * 0.0,)
        if p == 1:
            return (g * x.sign(),)
        y = _expand_back(self.saved_output(), self.shape, self.dims, self.keepdim)
        if p in (math.inf, -math.inf):
            mask = (x.abs() == y).to(g.dtype)
            return (g * x.sign() * mask / _sum_keep(mask, self.dims),)
        zero = y == 0
        safe = where(zero, 1.0, y)
        if p == 2:
            return (where(zero, 0.0, g / safe) * x,)
        a = x.abs()
        scaled = x.sign() * a ** (p - 1)
        if p < 1:
            scaled = where(x == 0, 0.0, scaled)
        return (scaled * where(zero, 0.0, g / safe ** (p - 1)),)


def _vector_norm_data(xp, kernels, data, p, dims, keepdim):
    if p == 2:
        return xp.sqrt(kernels["sum"](data * data, dims, keepdim))
    a = xp.abs(data)
    if p == math.inf or p == -math.inf:
        if data.size == 0:
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the {p} norm on an empty tensor because the "
                "operation does not have an identity")
        return kernels["amax" if p > 0 else "amin"](a, dims, keepdim)
    if p == 0:
        return kernels["sum"]((a != 0).astype(data.dtype), dims, keepdim)
    if p == 1:
        return kernels["sum"](a, dims, keepdim)
    return (kernels["sum"](a ** p, dims, keepdim) ** (1.0 / p)).astype(data.dtype, copy=False)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """The p-norm over ``dim`` (all elements by default): ``p`` a number, ``inf``,
    ``-inf``, ``'fro'`` (2-norm of the flattened dims) or ``'nuc'`` (the sum of the
    singular values of the matrices over the two dims of ``dim``)."""
    check_tensor(input)
    x = input if dtype is None else cast(input, _dtype.to_dtype(dtype))
    if x._data.dtype.kind != "f":
        raise RuntimeError(
            f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {x.dtype.name.capitalize()}")
    if p == "fro" or p is None:
        p = 2
    elif p == "nuc":
        return _nuclear_norm(x, dim, keepdim)
    elif isinstance(p, str):
        raise RuntimeError(f"norm(): the '{p}' norm is not supported by ember")
    dims = _reduce_args(x, dim)
    data = _array(x._be.xp, _vector_norm_data(x._be.xp, x._be.kernels, x._data, p, dims, keepdim))
    if MODE.enabled and x._rg:
        node = LinalgVectorNormBackward0(x, dims, keepdim)
        node.p = p
        return record_with_output(node, data, x)
    return _make(data, x._be)


def _nuclear_norm(x, dim, keepdim):
    """The sum of the singular values of the matrices that the two dims of ``dim`` span."""
    from .decompositions import svd

    dims = tuple(range(x._data.ndim)) if dim is None else tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    if len(dims) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dims))}")
    rows, cols = (normalize_dim(d, x._data.ndim) for d in dims)
    if rows == cols:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({rows}, {cols})")
    out = svd(x.movedim((rows, cols), (-2, -1)), compute_uv=False).S.sum(-1)
    first, second = sorted((rows, cols))
    return out.unsqueeze(first).unsqueeze(second) if keepdim else out


# ----------------------------------------------------------------- logsumexp
class LogsumexpBackward0(_ReduceBackward):
    def backward(self, g):
        (x,) = self.saved()
        y = _expand_back(self.saved_output(), self.shape, self.dims, self.keepdim)
        return (_expand_back(g, self.shape, self.dims, self.keepdim) * (x - y).exp(),)


def logsumexp(input, dim, keepdim=False):
    """``log(sum(exp(input)))`` over ``dim``, computed without overflow."""
    check_tensor(input)
    x = input if input._data.dtype.kind == "f" else cast(input, _dtype.get_default_dtype())
    dims = _reduce_args(x, dim)
    xp, data = x._be.xp, x._data
    if data.size == 0:
        out = xp.log(x._be.kernels["sum"](xp.exp(data), dims, keepdim))
    else:
        m = x._be.kernels["amax"](data, dims, True)
        m = xp.where(xp.isinf(m), 0, m).astype(data.dtype, copy=False)
        with np.errstate(divide="ignore"):
            out = xp.log(x._be.kernels["sum"](xp.exp(data - m), dims, True)) + m
        if not keepdim and dims:
            out = out.reshape(tuple(s for i, s in enumerate(data.shape) if i not in dims))
    out = _array(xp, out)
    if MODE.enabled and x._rg:
        return record_with_output(LogsumexpBackward0(x, dims, keepdim), out, x)
    return _make(out, x._be)


# ----------------------------------------------------------------- all / any / cumsum
def _logical_reduce(fn, input, dim, keepdim):
    dims = _reduce_args(input, dim, empty_is_all=False)
    data = fn(input._data, axis=dims, keepdims=keepdim)
    if input._data.dtype == np.uint8:
        data = data.astype(np.uint8)
    return _make(input._be.xp.asarray(data), input._be)


def all(input, dim=None, keepdim=False):
    """True where every element (over ``dim``) is non-zero (uint8 in, uint8 out)."""
    return _logical_reduce(input._be.xp.all, input, dim, keepdim)


def any(input, dim=None, keepdim=False):
    """True where some element (over ``dim``) is non-zero (uint8 in, uint8 out)."""
    return _logical_reduce(input._be.xp.any, input, dim, keepdim)


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
    data = x._be.xp.cumsum(x._data, axis=d) if x._data.ndim else x._be.xp.array(x._data, copy=True)
    if MODE.enabled and x._rg:
        node = CumsumBackward0()
        node.dim = d if x._data.ndim else 0
        return record(node, data, x._be, (x,))
    return _make(data, x._be)


def _mean_kernel(xp):
    def run(x, dims, keepdim):
        if x.size == 0:  # NaN, as in torch, without NumPy's empty-slice warning
            with np.errstate(invalid="ignore", divide="ignore"):
                return xp.asarray(xp.sum(x, axis=dims, keepdims=keepdim) / 0, dtype=x.dtype)
        out = xp.mean(x, axis=dims, keepdims=keepdim)
        return out if out.__class__ is xp.ndarray and out.dtype == x.dtype else xp.asarray(out, dtype=x.dtype)

    return run


def _axis_kernel(method):
    """A reduction through the array's own method (cheaper than the module function);
    a scalar or up-cast result (NumPy sums small ints in int64) becomes an array of the
    input's dtype."""
    def factory(xp):
        nd = xp.ndarray
        fn = getattr(nd, method)
        if method == "var":
            return lambda x, dims, keepdim, ddof: xp.asarray(
                fn(x, axis=dims, keepdims=keepdim, ddof=ddof), dtype=x.dtype)

        def run(x, dims, keepdim):
            if x.__class__ is not nd:  # a NumPy scalar standing for a 0-d tensor
                x = xp.asarray(x)
            out = fn(x, axis=dims, keepdims=keepdim)
            return out if out.__class__ is nd and out.dtype == x.dtype else xp.asarray(out, dtype=x.dtype)

        return run

    return factory


def _arg_kernel(fn_name):
    def factory(xp):
        fn = getattr(xp, fn_name)
        return lambda x, dim, keepdim: xp.asarray(fn(x, axis=dim, keepdims=keepdim), dtype=np.int64)

    return factory


GENERIC_KERNELS = {
    "sum": _axis_kernel("sum"),
    "mean": _mean_kernel,
    "prod": _axis_kernel("prod"),
    "amax": _axis_kernel("max"),
    "amin": _axis_kernel("min"),
    "var": _axis_kernel("var"),
    "argmax": _arg_kernel("argmax"),
    "argmin": _arg_kernel("argmin"),
}
