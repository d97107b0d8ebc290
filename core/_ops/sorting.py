"""Sorting, selection and scans: sort, argsort, topk, kthvalue, median, mode,
cumprod, cummax/cummin, roll.

NaN counts as larger than every number, as in torch. Results that pick elements
(values with their int64 indices) come as named tuples with ``values`` and
``indices`` fields, which also unpack as pairs. Ties are broken by a stable sort:
the earlier element first (the later one for ``mode``).
"""

import collections

import numpy as np

from .. import _dtype
from ..autograd.graph import Node
from ..autograd.grad_mode import MODE
from .common import _make, cast, check_tensor, normalize_dim, record, record_with_output
from .inplace import apply_inplace
from .reduce import MaxBackward0, MaxBackward1, cumsum
from .select import where


def _values_indices(name):
    cls = collections.namedtuple(name, ["values", "indices"])
    cls.__doc__ = f"The ``(values, indices)`` result of ``{name}``."
    return cls


RETURN_TYPES = {name: _values_indices(name)
                for name in ("sort", "topk", "kthvalue", "median", "mode", "cummax", "cummin")}


# ----------------------------------------------------------------- nodes
class SortBackward0(MaxBackward0):
    """Gradient of an op that picks elements along a dim: each value's gradient goes
    back to the position its index names (added up where an index repeats)."""


class TopkBackward0(SortBackward0):
    pass


class KthvalueBackward0(SortBackward0):
    pass


class MedianBackward1(SortBackward0):
    pass


class ModeBackward0(SortBackward0):
    pass


class CummaxBackward0(SortBackward0):
    pass


class CumminBackward0(SortBackward0):
    pass


class MedianBackward0(MaxBackward1):
    """Gradient of the median of all elements: shared evenly between the elements equal
    to it (the NaNs when it is NaN)."""


# ----------------------------------------------------------------- argument checks
def _dim_of(input, dim):
    check_tensor(input)
    return normalize_dim(dim, input._data.ndim)


def _check_k(name, k):
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
        raise TypeError(f"{name}(): argument 'k' must be int, not {type(k).__name__}")
    return int(k)


def _size_along(x, d):
    return x._data.shape[d] if x._data.ndim else 1


def _check_nonempty(name, x, d):
    if _size_along(x, d) == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def _refuse_bool(name, x):
    if x._data.dtype == np.bool_:
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for 'Bool'")


# ----------------------------------------------------------------- kernels
def _argsort(xp, data, axis, descending):
    """Stable order along ``axis`` (NaN last ascending, first descending)."""
    if not descending:
        return xp.argsort(data, axis=axis, kind="stable")
    # Sorting the reversed data and reversing the order keeps equal elements in their
    # original order, which negating the keys would not do (nor work for unsigned/bool).
    n = data.shape[axis]
    backwards = xp.flip(xp.argsort(xp.flip(data, axis), axis=axis, kind="stable"), axis)
    return (n - 1) - backwards


def _sorted_data(x, d, descending):
    """``(values, indices)`` arrays of x sorted along d (a 0-d tensor is its own sort)."""
    xp, data = x._be.xp, x._data
    if data.ndim == 0:
        return data.copy(), xp.zeros((), dtype=np.int64)
    order = _argsort(xp, data, d, descending).astype(np.int64, copy=False)
    return xp.take_along_axis(data, order, axis=d), order


def _picked(name, x, d, values, indices, keepdim=True):
    """Wrap values picked from x along d (with their indices) as ``name``'s result."""
    be = x._be
    idx = _make(indices, be)
    if MODE.enabled and x._rg:
        node = _NODES[name]()
        node.dim, node.keepdim, node.shape = d, keepdim, x._data.shape
        node.save(idx)
        vals = record(node, values, be, (x,))
    else:
        vals = _make(values, be)
    return RETURN_TYPES[name](vals, idx)


_NODES = {"sort": SortBackward0, "topk": TopkBackward0, "kthvalue": KthvalueBackward0,
          "median": MedianBackward1, "mode": ModeBackward0, "cummax": CummaxBackward0,
          "cummin": CumminBackward0}


def _pick_at(x, d, values, indices, position, keepdim):
    """The entries at ``position`` along d of sorted ``values``/``indices`` (a 0-d tensor
    stays as it is)."""
    if x._data.ndim == 0:
        return values, indices
    take = (slice(None),) * d + (slice(position, position + 1),)
    values, indices = values[take], indices[take]
    if not keepdim:
        values, indices = values.squeeze(d), indices.squeeze(d)
    return values, indices


# ----------------------------------------------------------------- sort / argsort / topk
def sort(input, dim=-1, descending=False, *, stable=False):
    """The elements sorted along ``dim`` with the index each came from.

    Args:
        input: the tensor to sort.
        dim: the dimension to sort along (the last by default).
        descending: largest first when True.
        stable: accepted for torch's signature; the sort is always stable (equal
            elements keep their order).

    Returns:
        ``(values, indices)``, a named tuple; NaN sorts as the largest value.
    """
    d = _dim_of(input, dim)
    values, indices = _sorted_data(input, d, descending)
    return _picked("sort", input, d, values, indices)


def argsort(input, dim=-1, descending=False, *, stable=False):
    """The int64 indices that sort ``input`` along ``dim`` (see ``sort``)."""
    return sort(input, dim, descending, stable=stable).indices


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (or, with ``largest=False``, smallest) elements along ``dim``.

    Returns ``(values, indices)`` in sorted order (``sorted=False`` is accepted and
    gives the same order). NaN counts as the largest value.
    """
    d = _dim_of(input, dim)
    k = _check_k("topk", k)
    if input._data.dtype == np.bool_:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    if not 0 <= k <= _size_along(input, d):
        raise RuntimeError("selected index k out of range")
    values, indices = _sorted_data(input, d, largest)
    if input._data.ndim:
        take = (slice(None),) * d + (slice(0, k),)
        values, indices = values[take], indices[take]
    return _picked("topk", input, d, values, indices)


# ----------------------------------------------------------------- kthvalue / median / mode
def kthvalue(input, k, dim=-1, keepdim=False):
    """The ``k``-th smallest element (``k`` from 1) along ``dim``, with its index."""
    d = _dim_of(input, dim)
    k = _check_k("kthvalue", k)
    _refuse_bool("kthvalue", input)
    _check_nonempty("kthvalue", input, d)
    if not 1 <= k <= _size_along(input, d):
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    values, indices = _sorted_data(input, d, False)
    return _picked("kthvalue", input, d, *_pick_at(input, d, values, indices, k - 1, keepdim), keepdim)


def median(input, dim=None, keepdim=False):
    """The lower median: of all elements (a 0-d tensor), or along ``dim`` as
    ``(values, indices)``. A NaN makes the median NaN (with ``dim``: the first NaN)."""
    check_tensor(input)
    _refuse_bool("median", input)
    if dim is None:
        return _median_all(input)
    d = normalize_dim(dim, input._data.ndim)
    _check_nonempty("median", input, d)
    values, indices = _sorted_data(input, d, False)
    if input._data.ndim == 0:
        return _picked("median", input, d, values, indices, keepdim)
    xp = input._be.xp
    n = input._data.shape[d]
    # the lower middle of the non-NaN elements, or the first NaN (they sort last, in order)
    nans = xp.sum(xp.isnan(values), axis=d, keepdims=True) if values.dtype.kind == "f" else 0
    position = xp.where(nans > 0, n - nans, (n - 1) // 2)
    position = xp.broadcast_to(position, values.shape[:d] + (1,) + values.shape[d + 1:])
    values = xp.take_along_axis(values, position, axis=d)
    indices = xp.take_along_axis(indices, position, axis=d)
    if not keepdim:
        values, indices = values.squeeze(d), indices.squeeze(d)
    return _picked("median", input, d, values, indices, keepdim)


def _median_all(input):
    xp, flat = input._be.xp, input._data.reshape(-1)
    if flat.size == 0:
        if flat.dtype.kind != "f":
            raise RuntimeError("median(): an empty integer tensor has no median")
        data = xp.full((), np.nan, dtype=flat.dtype)
    else:
        ordered = xp.sort(flat)
        data = ordered[(flat.size - 1) // 2].reshape(()).copy()
        if flat.dtype.kind == "f":  # NaNs sort last: one there makes the median NaN
            data = xp.where(xp.isnan(ordered[-1]), ordered[-1], data)
    if MODE.enabled and input._rg:
        return record_with_output(MedianBackward0(input, tuple(range(input._data.ndim)), False), data, input)
    return _make(data, input._be)


def mode(input, dim=-1, keepdim=False):
    """The most frequent value along ``dim`` (the smallest one on a tie) and the index
    of its last occurrence."""
    d = _dim_of(input, dim)
    _check_nonempty("mode", input, d)
    values, indices = _sorted_data(input, d, False)
    if input._data.ndim == 0:
        return _picked("mode", input, d, values, indices, keepdim)
    xp = input._be.xp
    n = values.shape[d]
    values_last, indices_last = xp.moveaxis(values, d, -1), xp.moveaxis(indices, d, -1)
    position = xp.arange(n)
    starts = xp.ones(values_last.shape, dtype=bool)
    starts[..., 1:] = values_last[..., 1:] != values_last[..., :-1]
    run_start = xp.maximum.accumulate(xp.where(starts, position, 0), axis=-1)
    ends = xp.ones(values_last.shape, dtype=bool)
    ends[..., :-1] = starts[..., 1:]
    # each run's length, at its last element; a stable sort leaves the last occurrence there
    run_length = xp.where(ends, position - run_start + 1, 0)
    best = xp.argmax(run_length, axis=-1)[..., None]
    values = xp.take_along_axis(values_last, best, axis=-1)[..., 0]
    indices = xp.take_along_axis(indices_last, best, axis=-1)[..., 0]
    if keepdim:
        values, indices = xp.expand_dims(values, d), xp.expand_dims(indices, d)
    return _picked("mode", input, d, values, indices, keepdim)


# ----------------------------------------------------------------- cummax / cummin
def _cumulative_extreme(name, input, dim):
    d = _dim_of(input, dim)
    xp, data = input._be.xp, input._data
    if data.ndim == 0:
        return _picked(name, input, d, data.copy(), xp.zeros((), dtype=np.int64))
    ufunc = xp.maximum if name == "cummax" else xp.minimum
    values = ufunc.accumulate(data, axis=d) if data.size else data.copy()
    # the index is the last position (so far) holding the running extreme; once a NaN is
    # met the extreme stays NaN and each later NaN takes over
    reached = data == values
    if data.dtype.kind == "f":
        reached |= xp.isnan(data)
    shape = [1] * data.ndim
    shape[d] = data.shape[d]
    position = xp.arange(data.shape[d], dtype=np.int64).reshape(shape)
    held = xp.where(reached, position, 0)
    indices = xp.maximum.accumulate(held, axis=d) if data.size else held
    return _picked(name, input, d, values, indices)


def cummax(input, dim):
    """Running maximum along ``dim`` and the index where each was reached (the latest
    on ties); NaN, once met, is the maximum from there on."""
    return _cumulative_extreme("cummax", input, dim)


def cummin(input, dim):
    """Running minimum along ``dim`` and the index where each was reached (the latest
    on ties); NaN, once met, is the minimum from there on."""
    return _cumulative_extreme("cummin", input, dim)


# ----------------------------------------------------------------- cumprod
class CumprodBackward0(Node):
    """Gradient of running products, exact where the input has zeros."""

    def backward(self, g):
        (x,) = self.saved()
        d = self.dim
        if x._data.ndim == 0:
            return (g,)
        y = self.saved_output()
        zero_data = x._data == 0
        if not zero_data.any():
            return (_reverse_cumsum(g * y, d) / x,)
        if MODE.enabled:  # building a graph (double backward): the exact formula
            return (_cumprod_grad_quadratic(g, x, d),)
        return (_cumprod_grad_with_zeros(g, x, y, _make(zero_data, x._be), d),)


def _reverse_cumsum(t, d):
    return t.flip(d).cumsum(d).flip(d)


def _cumprod_grad_with_zeros(g, x, y, zero, d):
    """dy_i/dx_k is the product of x_j (j <= i, j != k). Before a slice's first zero
    that is y_i / x_k (and y vanishes from the zero on); at the first zero it is the
    running product with that zero left out; after it every term holds the zero."""
    zeros_so_far = cumsum(zero.to(_dtype.int64), d)
    first_zero = zero & (zeros_so_far == 1)
    before = _reverse_cumsum(g * y, d) / where(zero, 1.0, x)
    without_zero = cumprod(where(first_zero, 1.0, x), d)
    from_zero = (g * where(zeros_so_far > 0, without_zero, 0.0)).sum(d, keepdim=True)
    return where(zeros_so_far == 0, before, where(first_zero, from_zero, 0.0))


def _cumprod_grad_quadratic(g, x, d):
    """The same gradient as a differentiable function of x everywhere: for each k, the
    running product of x with x_k replaced by 1, weighted by g from position k on."""
    xl, gl = x.movedim(d, -1), g.movedim(d, -1)
    n = xl.shape[-1]
    be = x._be
    eye = _make(be.xp.eye(n, dtype=bool), be)
    later = _make(be.xp.triu(be.xp.ones((n, n), dtype=bool)), be)  # [k, i]: i >= k
    left_out = where(eye, 1.0, xl.unsqueeze(-2))  # [..., k, j]
    products = cumprod(left_out, -1)  # [..., k, i]
    grad = (where(later, products, 0.0) * gl.unsqueeze(-2)).sum(-1)
    return grad.movedim(-1, d)


def cumprod(input, dim, *, dtype=None):
    """Running products along ``dim``; integers and bools multiply in int64."""
    d = _dim_of(input, dim)
    x = input
    if dtype is not None:
        x = cast(x, _dtype.to_dtype(dtype))
    elif x._data.dtype.kind in "biu":
        x = cast(x, _dtype.int64)
    xp = x._be.xp
    data = xp.cumprod(x._data, axis=d) if x._data.ndim else x._data.copy()
    if MODE.enabled and x._rg:
        node = CumprodBackward0()
        node.dim = d
        return record_with_output(node, data, x)
    return _make(data, x._be)


# ----------------------------------------------------------------- roll
class RollBackward0(Node):
    def backward(self, g):
        return (roll(g, tuple(-s for s in self.shifts), self.dims),)


def _int_tuple(value, what):
    items = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    for v in items:
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
            raise TypeError(f"roll(): '{what}' must be ints, got {type(v).__name__}")
    return tuple(int(v) for v in items)


def roll(input, shifts, dims=None):
    """Shift elements circularly by ``shifts`` along ``dims`` (elements pushed off one
    end come back at the other); without ``dims``, over the flattened tensor."""
    check_tensor(input)
    shifts = _int_tuple(shifts, "shifts")
    if not shifts:
        raise RuntimeError("`shifts` required")
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        flat = input.reshape(-1)
        return roll(flat, shifts, 0).reshape(input._data.shape)
    dims = _int_tuple(dims, "dims")
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    if input._data.ndim == 0:
        raise IndexError(f"Dimension specified as {dims[0]} but tensor has no dimensions")
    dims = tuple(normalize_dim(d, input._data.ndim) for d in dims)
    data = input._be.xp.roll(input._data, shifts, dims)
    if MODE.enabled and input._rg:
        node = RollBackward0()
        node.shifts, node.dims = shifts, dims
        return record(node, data, input._be, (input,))
    return _make(data, input._be)


def _running_inplace(op):
    def inplace(self, dim, *, dtype=None):
        return apply_inplace(self, op, dim, dtype=dtype)

    inplace.__name__ = op.__name__ + "_"
    inplace.__doc__ = f"In-place ``{op.__name__}``: the running results replace the tensor's values."
    return inplace


_OPS = dict(sort=sort, argsort=argsort, topk=topk, kthvalue=kthvalue, median=median, mode=mode,
            cummax=cummax, cummin=cummin, cumprod=cumprod, roll=roll)
FUNCTIONS = dict(_OPS)
METHODS = dict(_OPS, cumprod_=_running_inplace(cumprod), cumsum_=_running_inplace(cumsum))
