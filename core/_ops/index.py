"""Indexing: ``x[idx]``, ``x[idx] = v``, ``index_select``, ``gather``, ``narrow``, ``unbind``."""

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ..autograd.graph import Node, edge_of
from ..autograd.grad_mode import MODE
from ..backend import REGISTRY
from .common import _make, as_tensor_on, check_tensor, normalize_dim, record, sum_to
from .inplace import check_inplace
from .shape import _view_of


def _index_part(i, be):
    if isinstance(i, Tensor):
        if i._data.dtype.kind not in "biu":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return i._data if i._data.dtype.kind == "b" else i._data.astype(np.int64, copy=False)
    if isinstance(i, (list, np.ndarray)):
        arr = np.asarray(i)
        if arr.dtype.kind == "f":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        if arr.dtype.kind == "O":
            raise IndexError("only integers, slices, ellipsis, None and integer or boolean tensors are valid indices")
        return arr if be.name == "cpu" else be.from_host(arr, None)
    if isinstance(i, (bool, np.bool_)):
        return np.bool_(i)
    if i is None or i is Ellipsis or isinstance(i, (slice, int, np.integer)):
        if isinstance(i, slice) and i.step is not None and i.step <= 0:
            raise ValueError("step must be greater than zero")
        return i
    raise IndexError(
        f"only integers, slices (`:`), ellipsis (`...`), None and long or byte tensors are valid "
        f"indices (got {type(i).__name__})"
    )


def normalize_index(index, be):
    """The index as something the array namespace takes, and whether it is advanced."""
    parts = index if isinstance(index, tuple) else (index,)
    parts = tuple(_index_part(i, be) for i in parts)
    advanced = any(not (p is None or p is Ellipsis or isinstance(p, (slice, int, np.integer)))
                   for p in parts)
    return parts, advanced


def _checked_get(data, idx):
    try:
        return data[idx]
    except IndexError as e:
        raise IndexError(str(e)) from None


class IndexBackward0(Node):
    def backward(self, g):
        return (index_into_zeros(g, self.index, self.shape, self.advanced),)


class IndexIntoZerosBackward(Node):
    def backward(self, g):
        return (g[_Raw(self.index, self.advanced)],)


class _Raw:
    """An already-normalised index passed back through ``__getitem__``."""

    __slots__ = ("index", "advanced")

    def __init__(self, index, advanced):
        self.index = index
        self.advanced = advanced


def getitem(x, index):
    """``x[index]``: basic indexing gives a view, advanced indexing a copy."""
    if isinstance(index, _Raw):
        idx, advanced = index.index, index.advanced
    else:
        idx, advanced = normalize_index(index, x._be)
    data = _checked_get(x._data, idx)
    if not advanced:
        node = None
        if x._rg:
            node = IndexBackward0()
            node.index, node.shape, node.advanced = idx, x._data.shape, False
        return _view_of(x, data, node)
    if MODE.enabled and x._rg:
        node = IndexBackward0()
        node.index, node.shape, node.advanced = idx, x._data.shape, True
        return record(node, data, x._be, (x,))
    return _make(data, x._be)


def index_into_zeros(g, idx, shape, advanced):
    """Zeros of ``shape`` with ``g`` added at ``idx`` (repeated indices accumulate)."""
    data = g._be.kernels["index_add_zeros"](g._data, idx, shape, advanced)
    if MODE.enabled and g._rg:
        node = IndexIntoZerosBackward()
        node.index, node.advanced = idx, advanced
        return record(node, data, g._be, (g,))
    return _make(data, g._be)


class IndexPutBackward0(Node):
    def backward(self, g):
        ones = _make(g._be.xp.ones(self.shape, dtype=g._data.dtype), g._be)
        ones._data[self.index] = 0
        gv = None
        if self.value_shape is not None:
            gv = sum_to(g[_Raw(self.index, self.advanced)], self.value_shape)
        return g * ones, gv


def setitem(x, index, value):
    """``x[index] = value`` in place; recorded for backward when needed."""
    idx, advanced = normalize_index(index, x._be)
    v = as_tensor_on(value, x._be, None if isinstance(value, Tensor) else x.dtype)
    recording = MODE.enabled and (x._rg or v._rg)
    if recording:
        check_inplace(x)
    vdata = v._data if v._data.dtype == x._data.dtype else v._data.astype(x._data.dtype)
    try:
        x._data[idx] = vdata
    except ValueError as e:
        raise RuntimeError(f"cannot assign a value of shape {list(v.shape)} to x[index]: {e}") from None
    except IndexError as e:
        raise IndexError(str(e)) from None
    if recording:
        node = IndexPutBackward0()
        node.index, node.advanced, node.shape = idx, advanced, x._data.shape
        node.value_shape = tuple(v.shape) if v._rg else None
        node.next_edges = (edge_of(x), edge_of(v))
        x.grad_fn, x._out_idx, x._rg = node, 0, True
    x._bump_version()


class IndexSelectBackward0(Node):
    def backward(self, g):
        (index,) = self.saved()
        return index_add_zeros_dim(g, self.dim, index, self.shape), None


def index_add_zeros_dim(g, dim, index, shape):
    """Zeros of ``shape`` with slices of ``g`` added at ``index`` along ``dim``."""
    idx = (slice(None),) * dim + (index._data,)
    return index_into_zeros(g, idx, shape, True)


def _check_index_tensor(index, name, size, allow_ndim=(0, 1)):
    check_tensor(index, "index")
    if index._data.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")
    if index._data.ndim not in allow_ndim:
        raise IndexError(f"{name}(): Index is supposed to be a vector")
    if index._data.size:
        lo, hi = int(index._data.min()), int(index._data.max())
        if lo < -size or hi >= size:
            bad = hi if hi >= size else lo
            raise IndexError(f"index out of range in self: index {bad} is out of bounds for size {size}")


def index_select(input, dim, index):
    """Slices of ``input`` along ``dim`` at the positions in the 1-D ``index``."""
    check_tensor(input)
    d = normalize_dim(dim, input._data.ndim)
    size = input._data.shape[d] if input._data.ndim else 1
    _check_index_tensor(index, "index_select", size)
    data = input._be.xp.take(input._data, index._data.reshape(-1), axis=d) if input._data.ndim else input._data[index._data.reshape(-1)]
    if MODE.enabled and input._rg:
        node = IndexSelectBackward0()
        node.dim, node.shape = d, input._data.shape
        node.save(_make(index._data.reshape(-1), index._be))
        return record(node, data, input._be, (input, index))
    return _make(data, input._be)


class GatherBackward0(Node):
    def backward(self, g):
        (index,) = self.saved()
        return scatter_into_zeros(g, self.dim, index, self.shape), None


class ScatterIntoZerosBackward(Node):
    def backward(self, g):
        (index,) = self.saved()
        return (gather(g, self.dim, index),)


def _gather_index_check(input, d, index, name):
    check_tensor(index, "index")
    if index._data.dtype != np.int64:
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")
    if index._data.ndim != input._data.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for i, (a, b) in enumerate(zip(index._data.shape, input._data.shape)):
        if i != d and a > b:
            raise RuntimeError(
                f"Size does not match at dimension {i} expected index {list(index.shape)} to be no "
                f"larger than self {list(input.shape)} apart from dimension {d}"
            )
    size = input._data.shape[d] if input._data.ndim else 1
    if index._data.size:
        lo, hi = int(index._data.min()), int(index._data.max())
        if lo < -size or hi >= size:
            raise RuntimeError(f"index {hi if hi >= size else lo} is out of bounds for dimension {d} with size {size}")


def gather(input, dim, index):
    """``out[i][j] = input[index[i][j]][j]`` for ``dim=0`` (and likewise for other dims)."""
    check_tensor(input)
    d = normalize_dim(dim, input._data.ndim)
    _gather_index_check(input, d, index, "gather")
    xp = input._be.xp
    sub = input._data[tuple(slice(0, s) if i != d else slice(None) for i, s in enumerate(index._data.shape))]
    data = xp.take_along_axis(sub, index._data, axis=d) if input._data.ndim else input._data[()].reshape(()).copy()
    if MODE.enabled and input._rg:
        node = GatherBackward0()
        node.dim, node.shape = d, input._data.shape
        node.save(index)
        return record(node, data, input._be, (input, index))
    return _make(data, input._be)


def scatter_into_zeros(g, dim, index, shape):
    """Zeros of ``shape`` with ``g`` added at ``index`` along ``dim`` (scatter_add into zeros)."""
    data = g._be.kernels["scatter_add_zeros"](g._data, dim, index._data, shape)
    if MODE.enabled and g._rg:
        node = ScatterIntoZerosBackward()
        node.dim = dim
        node.save(index)
        return record(node, data, g._be, (g, index))
    return _make(data, g._be)


def narrow(input, dim, start, length):
    """The slice ``start:start+length`` of ``input`` along ``dim`` (a view)."""
    check_tensor(input)
    d = normalize_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    if start < -size or start > size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    start = start % size if start < 0 else start
    if length < 0 or start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return getitem(input, (slice(None),) * d + (slice(start, start + length),))


def select(input, dim, index):
    """The slice at ``index`` along ``dim``, with that dim removed (a view)."""
    d = normalize_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input.shape)} at dimension {d}")
    return getitem(input, (slice(None),) * d + (int(index),))


def unbind(input, dim=0):
    """The slices along ``dim``, as a tuple of views."""
    d = normalize_dim(dim, input._data.ndim)
    return tuple(select(input, d, i) for i in range(input._data.shape[d]))


def nonzero(input, *, as_tuple=False):
    """Indices of non-zero elements: an (n, ndim) int64 tensor, or one per dim."""
    xp = input._be.xp
    parts = xp.nonzero(input._data) if input._data.ndim else xp.nonzero(input._data.reshape(1))
    if as_tuple:
        return tuple(_make(p.astype(np.int64), input._be) for p in parts)
    return _make(xp.stack(parts, axis=1).astype(np.int64) if parts else xp.zeros((0, 0), np.int64), input._be)


def masked_select(input, mask):
    """The elements of ``input`` where ``mask`` is true, as a 1-D tensor."""
    check_tensor(mask, "mask")
    if mask._data.dtype.kind != "b":
        raise RuntimeError(f"masked_select: expected BoolTensor for mask")
    shape = np.broadcast_shapes(input._data.shape, mask._data.shape)
    x = input.expand(shape) if tuple(input.shape) != shape else input
    m = mask._data if mask._data.shape == shape else input._be.xp.broadcast_to(mask._data, shape)
    return getitem(x, _Raw((m,), True))


def _index_add_zeros(xp):
    def run(g, idx, shape, advanced):
        out = xp.zeros(shape, dtype=g.dtype)
        if advanced:
            xp.add.at(out, idx, g)
        else:
            out[idx] = g
        return out

    return run


def _scatter_add_zeros(xp):
    def run(g, dim, index, shape):
        out = xp.zeros(shape, dtype=g.dtype)
        grids = list(xp.indices(index.shape, sparse=True))
        grids[dim] = index
        xp.add.at(out, tuple(grids), g)
        return out

    return run


REGISTRY.add_generic({"index_add_zeros": _index_add_zeros, "scatter_add_zeros": _scatter_add_zeros})
