"""Indexing: ``x[idx]``, ``x[idx] = v``, ``index_select``, ``gather``, ``narrow``, ``unbind``."""

import numpy as np

from .._tensor import Tensor
from ..backend import assert_in_range, on_host
from ..autograd.graph import Node, edge_of
from ..autograd.grad_mode import MODE
from .common import _make, as_tensor_on, cast, check_tensor, normalize_dim, record, sum_to
from .inplace import check_inplace, set_history
from .overlap import refuse_internal_overlap, refuse_overlap, repeats_elements
from .shape import _view_of


_INDEX_TYPES = ("only integers, slices (`:`), ellipsis (`...`), None and long or byte tensors are "
                "valid indices (got {})")


def _index_part(i, be):
    if isinstance(i, Tensor):
        kind = i._data.dtype
        if i._data.ndim == 0 and kind.kind in "iu" and kind != np.uint8:
            return int(i._data)   # a 0-d integer tensor selects, as an int does (a view)
        if kind == np.int64 or kind == np.bool_:
            return i._data
        if kind == np.int32:
            return i._data.astype(np.int64)
        if kind == np.uint8:  # torch's legacy byte mask
            return i._data.astype(np.bool_)
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if isinstance(i, (list, np.ndarray)):
        arr = np.asarray(i)
        if arr.size == 0 and arr.dtype.kind != "b":   # ``[]`` (float64 to NumPy) selects nothing
            arr = arr.astype(np.int64)
        if arr.dtype.kind == "f":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        if arr.dtype.kind == "O":
            raise IndexError(_INDEX_TYPES.format("list"))
        return arr if be.name == "cpu" else be.from_host(arr, None)
    if isinstance(i, (bool, np.bool_)):
        return np.bool_(i)
    if i is None or i is Ellipsis or isinstance(i, (slice, int, np.integer)):
        if isinstance(i, slice) and i.step is not None and i.step <= 0:
            raise ValueError("step must be greater than zero")
        return i
    raise IndexError(_INDEX_TYPES.format(type(i).__name__))


def _is_basic(p):
    return p is None or p is Ellipsis or isinstance(p, (slice, int, np.integer))


def normalize_index(index, be):
    """The index as something the array namespace takes, and whether it is advanced."""
    parts = index if isinstance(index, tuple) else (index,)
    parts = tuple(_index_part(i, be) for i in parts)
    advanced = False
    for p in parts:
        if not _is_basic(p):
            advanced = True
            break
    return parts, advanced


def _split_ints(parts):
    """torch applies integer indices before advanced ones (NumPy mixes them, which moves
    dims differently): ``x[0, :, [1, 2]]`` is ``x[0][:, [1, 2]]``. Returns the two stages,
    or None when there is no integer to take out first."""
    if not any(isinstance(p, (int, np.integer)) for p in parts):
        return None
    first, second = [], []
    for p in parts:
        if p is Ellipsis:
            first.append(p)
            second.append(p)
        elif p is None or isinstance(p, slice):
            first.append(p)
            second.append(slice(None))
        elif isinstance(p, (int, np.integer)):
            first.append(p)
        elif p.ndim == 0 and p.dtype == np.bool_:
            second.append(p)
        else:
            first.extend([slice(None)] * (p.ndim if p.dtype == np.bool_ else 1))
            second.append(p)
    return tuple(first), tuple(second)


def _index_error(data, parts, err):
    """torch's wording for a failed index (the NumPy message names axes and arrays)."""
    msg = str(err)
    if isinstance(err, IndexError):
        if "too many indices" in msg:
            if data.ndim == 0:
                return IndexError(
                    "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                    "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
            return IndexError(f"too many indices for tensor of dimension {data.ndim}")
        if "boolean index did not match" in msg:
            return IndexError(_mask_mismatch(data, parts) or msg)
        if "shape mismatch" not in msg:
            return IndexError(msg.replace(" for axis ", " for dimension "))
    shapes = ", ".join(str(list(p.shape)) for p in parts if not _is_basic(p))
    return IndexError(f"shape mismatch: indexing tensors could not be broadcast together with shapes {shapes}")


def _dims_used(parts):
    """How many dims of the indexed array the normalised index ``parts`` consumes."""
    return sum(1 if isinstance(p, (int, np.integer, slice)) else 0 if p is None or p is Ellipsis
               else p.ndim if p.dtype == np.bool_ else 1 for p in parts)


def _mask_mismatch(data, parts):
    n_used = _dims_used(parts)
    dim = 0
    for p in parts:
        if p is None:
            continue
        if p is Ellipsis:
            dim += data.ndim - n_used
            continue
        if isinstance(p, (int, np.integer, slice)) or p.dtype != np.bool_:
            dim += 1
            continue
        for k, size in enumerate(p.shape):
            if dim + k < data.ndim and data.shape[dim + k] != size:
                return (f"The shape of the mask {list(p.shape)} at index {k} does not match the shape "
                        f"of the indexed tensor {list(data.shape)} at index {dim + k}")
        dim += p.ndim
    return None


def _assert_indices_in_range(x, parts):
    """torch's IndexError for an entry of an integer index array in ``parts`` past the
    dim it indexes, raised at the next synchronisation: for a backend whose array
    namespace wraps such an index (CuPy) where NumPy raises at once. As in torch,
    the error numbers the dim by the index array's place among the tensor indices."""
    shape = x._data.shape
    dim, position = 0, 0
    for p in parts:
        if p is Ellipsis:
            dim += len(shape) - _dims_used(parts)
        elif isinstance(p, (int, np.integer, slice)):
            dim += 1
        elif p is not None and p.dtype == np.bool_:
            dim, position = dim + p.ndim, position + p.ndim
        elif p is not None:
            if dim >= len(shape):  # too many indices: the namespace says so at once
                return
            size = shape[dim]
            assert_in_range(x, f"tensor index {position} of size {size}", p, -size, size,
                            lambda bad, k=position, n=size: IndexError(
                                f"index {bad} is out of bounds for dimension {k} with size {n}"))
            dim, position = dim + 1, position + 1


def _checked_get(data, idx):
    try:
        return data[idx]
    except (IndexError, ValueError) as e:
        raise _index_error(data, idx, e) from None


class IndexBackward0(Node):
    def backward(self, g):
        return (index_into_zeros(g, self.index, self.shape, self.advanced),)


# One node covers a whole basic index; torch applies it dim by dim (select, slice,
# unsqueeze), so ``grad_fn`` is named after the last step torch would take.
class SelectBackward0(IndexBackward0):
    pass


class SliceBackward0(IndexBackward0):
    pass


class AliasBackward0(IndexBackward0):
    pass


class UnbindBackward0(IndexBackward0):
    pass


class _UnsqueezeIndexBackward(IndexBackward0):
    pass


_UnsqueezeIndexBackward.__name__ = _UnsqueezeIndexBackward.__qualname__ = "UnsqueezeBackward0"


def _basic_node_class(index, idx, shape):
    """The node class named as torch's outermost node for the basic index ``idx``."""
    if index.__class__ is not tuple and index.__class__ is not _Raw:
        p = idx[0]   # a lone index: torch keeps even a full slice
        if p is None:
            return _UnsqueezeIndexBackward
        if p is Ellipsis:
            return AliasBackward0
        return SliceBackward0 if p.__class__ is slice else SelectBackward0
    n_used = 0
    for p in idx:
        if p is not None and p is not Ellipsis:
            n_used += 1
    cls, dim = AliasBackward0, 0
    for p in idx:
        if p is None:
            cls = _UnsqueezeIndexBackward
        elif p is Ellipsis:
            dim += len(shape) - n_used
        elif p.__class__ is slice:
            # torch skips a slice that starts at 0, steps by 1 and reaches the end
            if ((p.start or 0) != 0 or (p.step or 1) != 1
                    or (p.stop is not None and p.stop < shape[dim])):
                cls = SliceBackward0
            dim += 1
        else:
            cls = SelectBackward0
            dim += 1
    return cls


class IndexIntoZerosBackward(Node):
    def backward(self, g):
        return (g[_Raw(self.index, self.advanced)],)


class _Raw:
    """An already-normalised index passed back through ``__getitem__``."""

    __slots__ = ("index", "advanced")

    def __init__(self, index, advanced):
        self.index = index
        self.advanced = advanced


def getitem(x, index, node_cls=None):
    """``x[index]``: basic indexing gives a view, advanced indexing a copy.

    ``node_cls`` (internal) names the node of a basic index, e.g. for ``narrow``."""
    if isinstance(index, _Raw):
        idx, advanced = index.index, index.advanced
    else:
        idx, advanced = normalize_index(index, x._be)
        if advanced:
            if not on_host(x):
                _assert_indices_in_range(x, idx)
            stages = _split_ints(idx)
            if stages is not None:
                return getitem(getitem(x, _Raw(stages[0], False)), _Raw(stages[1], True))
    data = _checked_get(x._data, idx)
    if not advanced:
        if data.__class__ is not x._be.xp.ndarray:
            # NumPy answers a full integer index with a scalar copy; torch with a 0-d view
            data = x._data[idx + (Ellipsis,)] if Ellipsis not in idx else x._data[idx][...]
        node = None
        if x._rg:
            node = (node_cls or _basic_node_class(index, idx, x._data.shape))()
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
        xp = g._be.xp
        keep = xp.ones(self.shape, dtype=g._data.dtype)
        _view_at(keep, self.stages)[self.last] = 0
        gv = None
        if self.value_shape is not None:
            gv = g
            for idx, advanced in self.stages:
                gv = getitem(gv, _Raw(idx, advanced))
            gv = _sum_to_value(gv, self.value_shape)
        return g * _make(keep, g._be), gv


def _view_at(data, stages):
    """``data`` indexed by every stage but the last (basic stages: a view to write into)."""
    for idx, _ in stages[:-1]:
        data = data[idx]
    return data


def _sum_to_value(g, shape):
    """Reduce the gradient of a broadcast assigned value back to the value's shape."""
    extra = len(shape) - g.dim()
    if extra > 0:  # a value may carry leading size-1 dims the target lacks
        g = g.reshape((1,) * extra + tuple(g.shape))
    return sum_to(g, shape)


def _refuse_overlapping_value(target, last, advanced, value):
    """Torch's overlap checks of ``target[last] = value``: a copy into the selected
    view (partial overlap refused); with tensor indices an index write (any overlap of
    ``target`` with the value or an index refused), except that a one-element value
    put through a single boolean mask is a fill, read as a number."""
    parts = last if isinstance(last, tuple) else (last,)
    if not advanced:
        view = target[parts if any(p is Ellipsis for p in parts) else (*parts, Ellipsis)]
        if repeats_elements(view):  # a read-only view alone is left to the write
            refuse_internal_overlap(view)
        refuse_overlap(view, (value._data,))
        return
    arrays = [p for p in parts if hasattr(p, "dtype")]
    if value._data.size == 1 and len(arrays) == 1 and arrays[0].dtype == np.bool_:
        return
    refuse_overlap(target, (value._data, *arrays), index_write=True)


def setitem(x, index, value):
    """``x[index] = value`` in place; recorded for backward when needed."""
    idx, advanced = normalize_index(index, x._be)
    if advanced and not on_host(x):
        _assert_indices_in_range(x, idx)
    stages = ((idx, advanced),)
    if advanced:
        split = _split_ints(idx)
        if split is not None:
            stages = ((split[0], False), (split[1], True))
    if isinstance(value, Tensor):
        v = value
        if v._data.dtype != x._data.dtype:
            v = cast(v, x.dtype)
    else:
        v = as_tensor_on(value, x._be, x.dtype)
    recording = MODE.enabled and (x._rg or v._rg)
    if recording:
        check_inplace(x)
    target = _view_at(x._data, stages)
    last = stages[-1][0]
    try:
        _refuse_overlapping_value(target, last, stages[-1][1], v)
        target[last] = v._data
    except ValueError as e:
        if "read-only" in str(e):  # a broadcast view's memory: torch's refusal of its overlap
            refuse_internal_overlap(target)
        if "could not broadcast" in str(e):
            target_shape = _checked_get(target, last).shape
            raise RuntimeError(
                f"shape mismatch: value tensor of shape {list(v.shape)} cannot be broadcast to "
                f"indexing result of shape {list(target_shape)}") from None
        raise _index_error(target, last, e) from None
    except IndexError as e:
        raise _index_error(target, last, e) from None
    if recording:
        node = IndexPutBackward0()
        node.stages, node.last, node.shape = stages, last, x._data.shape
        node.value_shape = tuple(v.shape) if v._rg else None
        node.next_edges = (edge_of(x), edge_of(v))
        result = _make(x._data, x._be)
        result.grad_fn, result._out_idx, result._rg = node, 0, True
        set_history(x, result)
    x._bump_version()


class IndexSelectBackward0(Node):
    def backward(self, g):
        (index,) = self.saved()
        return index_add_zeros_dim(g, self.dim, index, self.shape), None


def index_add_zeros_dim(g, dim, index, shape):
    """Zeros of ``shape`` with slices of ``g`` added at ``index`` along ``dim``."""
    idx = (slice(None),) * dim + (index._data,)
    return index_into_zeros(g, idx, shape, True)


def _check_index_tensor(index, name, d, shape):
    check_tensor(index, "index")
    if index._data.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"{name}(): Expected dtype int32 or int64 for index")
    if index._data.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector")
    size = shape[d]
    if len(shape) > 1 and not size and index._data.size:
        raise RuntimeError(f"{name}(): self indexing axis dim should be positive")

    def out_of_range(bad):  # torch's index_select takes no negative index
        if d == 1:  # torch's kernel along dim 1 says so in its own words
            return RuntimeError(f"INDICES element is out of DATA bounds, id={bad} axis_dim={size}")
        return IndexError(f"index out of range in self: index {bad} is out of bounds for size {size}")

    assert_in_range(index, f"{name} index (dim {d}, size {size})", index._data, 0, size, out_of_range)


def index_select(input, dim, index):
    """Slices of ``input`` along ``dim`` at the positions in the 1-D ``index``."""
    check_tensor(input)
    d = normalize_dim(dim, input._data.ndim)
    if not input._data.ndim:   # a scalar: one index, a 0-d result
        check_tensor(index, "index")
        if index._data.size != 1:
            raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got {index._data.size} value(s)")
        return index_select(input.reshape(1), 0, index.reshape(1)).reshape(())
    _check_index_tensor(index, "index_select", d, input._data.shape)
    data = input._be.xp.take(input._data, index._data.reshape(-1), axis=d)
    if MODE.enabled and input._rg:
        node = IndexSelectBackward0()
        node.dim, node.shape = d, input._data.shape
        node.save(_make(index._data.reshape(-1), index._be))
        return record(node, data, input._be, (input, index))
    return _make(data, input._be)


class GatherBackward0(Node):
    def backward(self, g):
        (index,) = self.saved()
        if not index._data.size:
            return g.new_zeros(self.shape), None
        # a 0-d input or index took part as 1-d with one element
        g1, index1 = g.reshape(g.shape or (1,)), index.reshape(index.shape or (1,))
        return scatter_into_zeros(g1, self.dim, index1, self.shape or (1,)).reshape(self.shape), None


class ScatterIntoZerosBackward(Node):
    def backward(self, g):
        (index,) = self.saved()
        return (gather(g, self.dim, index),)


def _assert_along_dim(index, name, d, size):
    """torch's RuntimeError of gather, scatter and index_add for an entry of ``index``
    outside ``[0, size)`` (at once on the CPU, at the next synchronisation on a GPU)."""
    assert_in_range(index, f"{name} index (dimension {d}, size {size})", index._data, 0, size,
                    lambda bad: RuntimeError(f"index {bad} is out of bounds for dimension {d} with size {size}"))


def _gather_index_check(input, d, index, name):
    check_tensor(index, "index")
    if index._data.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
    if max(index._data.ndim, 1) != max(input._data.ndim, 1):  # 0-d counts as 1-d, as in torch
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for i, (a, b) in enumerate(zip(index._data.shape or (1,), input._data.shape or (1,))):
        if i != d and a > b:
            raise RuntimeError(
                f"Size does not match at dimension {i} expected index {list(index.shape)} to be no "
                f"larger than self {list(input.shape)} apart from dimension {d}"
            )
    size = input._data.shape[d] if input._data.ndim else 1
    _assert_along_dim(index, name, d, size)


def gather(input, dim, index):
    """``out[i][j] = input[index[i][j]][j]`` for ``dim=0`` (and likewise for other dims)."""
    check_tensor(input)
    d = normalize_dim(dim, input._data.ndim)
    check_tensor(index, "index")
    xp = input._be.xp
    if not index._data.size:  # as torch: an empty index takes nothing and is not checked further
        data = xp.empty(index._data.shape, dtype=input._data.dtype)
    else:
        _gather_index_check(input, d, index, "gather")
        source, where = (a.reshape(a.shape or (1,)) for a in (input._data, index._data))
        sub = source[tuple(slice(0, s) if i != d else slice(None) for i, s in enumerate(where.shape))]
        data = xp.take_along_axis(sub, where, axis=d).reshape(index._data.shape)
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


class ScatterBackward0(Node):
    def backward(self, g):
        (index,) = self.saved()
        # the scattered positions were overwritten: no gradient reaches the old values
        g_input = scatter(g, self.dim, index, 0) if self.input_rg else None
        g_src = gather(g, self.dim, index) if self.src_rg else None
        return g_input, None, g_src


def _scatter_checks(input, dim, index, src, name):
    """torch's checks of ``scatter``/``scatter_add`` arguments; returns the dim."""
    check_tensor(input)
    check_tensor(index, "index")
    d = normalize_dim(dim, max(input._data.ndim, 1))
    if index._data.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
    if isinstance(src, Tensor) and src.dtype != input.dtype:
        raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
    if index._data.ndim != input._data.ndim or (isinstance(src, Tensor) and src._data.ndim != index._data.ndim):
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    small = all(a <= b for i, (a, b) in enumerate(zip(index._data.shape, input._data.shape)) if i != d)
    if isinstance(src, Tensor):
        small = small and all(a <= b for a, b in zip(index._data.shape, src._data.shape))
    if not small:
        src_text = f" and to be smaller size than src {list(src.shape)}" if isinstance(src, Tensor) else ""
        raise RuntimeError(f"Expected index {list(index.shape)} to be no larger than self {list(input.shape)} "
                           f"apart from dimension {d}{src_text}")
    size = input._data.shape[d] if input._data.ndim else 1
    _assert_along_dim(index, name, d, size)
    return d


def _index_grids(xp, index, d):
    """The full index of every element of ``index`` with ``index`` itself along ``d``."""
    n = index.ndim
    grids = [xp.arange(size).reshape((1,) * k + (size,) + (1,) * (n - k - 1))
             for k, size in enumerate(index.shape)]
    grids[d] = index
    return tuple(grids)


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """A copy of ``input`` with ``src`` (a tensor, or a number) written at ``index``
    along ``dim``: for ``dim=1``, ``out[i][index[i][j]] = src[i][j]``. Where
    ``index`` repeats a position, one of the values written there is kept.

    Args:
        input: the tensor written into (a copy of it).
        dim: the axis ``index`` points along.
        index: int64 tensor, as many dims as ``input``, no larger than it apart from ``dim``.
        src: tensor (at least ``index``'s size) or number to write; ``value=`` is torch's
            spelling for a number.
    """
    if reduce is not None:
        raise NotImplementedError("scatter(..., reduce=...) is not supported; use scatter_add")
    if src is None:
        src = value
    d = _scatter_checks(input, dim, index, src, "scatter")
    if input._data.ndim == 0:  # as a 1-element vector
        flat = src.reshape(-1) if isinstance(src, Tensor) else src
        return scatter(input.reshape(1), 0, index.reshape(-1), flat).reshape(())
    xp = input._be.xp
    data = input._data.copy()
    grids = _index_grids(xp, index._data, d)
    if isinstance(src, Tensor):
        sub = src._data[tuple(slice(0, s) for s in index._data.shape)]
        data[grids] = sub
        src_rg = src._rg
    else:
        data[grids] = src
        src_rg = False
    if MODE.enabled and (input._rg or src_rg):
        node = ScatterBackward0()
        node.dim, node.input_rg, node.src_rg = d, input._rg, src_rg
        node.save(index)
        # src's gradient is a gather of index's size: src (maybe larger) is cut to it
        return record(node, data, input._be, (input, index, _index_sized(src, index) if src_rg else None))
    return _make(data, input._be)


def _index_sized(src, index):
    """``src`` cut to ``index``'s size (a differentiable slice, itself when equal)."""
    if tuple(src._data.shape) == tuple(index._data.shape):
        return src
    return src[tuple(slice(0, s) for s in index._data.shape)]


def scatter_add(input, dim, index, src):
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (repeated
    positions add up): for ``dim=1``, ``out[i][index[i][j]] += src[i][j]``."""
    d = _scatter_checks(input, dim, index, src, "scatter_add")
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add(): argument 'src' must be Tensor, not {type(src).__name__}")
    if input._data.ndim == 0:  # as a 1-element vector
        return scatter_add(input.reshape(1), 0, index.reshape(-1), src.reshape(-1)).reshape(())
    return input + scatter_into_zeros(_index_sized(src, index), d, index, input._data.shape)


def narrow(input, dim, start, length):
    """The slice ``start:start+length`` of ``input`` along ``dim`` (a view)."""
    check_tensor(input)
    if not input._data.ndim:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = normalize_dim(dim, input._data.ndim)
    start, length = _narrow_int(start, "start"), _narrow_int(length, "length")
    size = input._data.shape[d]
    if start < -size or start > size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    start = start % size if start < 0 else start
    if length < 0 or start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return getitem(input, (slice(None),) * d + (slice(start, start + length),), SliceBackward0)


def _narrow_int(value, name):
    """``value`` as an int: an int, or a 0-d integer tensor (as torch takes them)."""
    if isinstance(value, Tensor):
        if value._data.ndim or value._data.dtype.kind not in "iu":
            raise RuntimeError(f"{name} must be an 0-dim integral Tensor.")
        return int(value._data)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"narrow(): {name} must be an int or a 0-dim integer tensor, not {type(value).__name__}")
    return int(value)


def select(input, dim, index):
    """The slice at ``index`` along ``dim``, with that dim removed (a view)."""
    return _select(input, dim, index, SelectBackward0)


def _select(input, dim, index, node_cls):
    d = normalize_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input.shape)} at dimension {d}")
    return getitem(input, (slice(None),) * d + (int(index),), node_cls)


def unbind(input, dim=0):
    """The slices along ``dim``, as a tuple of views."""
    d = normalize_dim(dim, input._data.ndim)
    return tuple(_select(input, d, i, UnbindBackward0) for i in range(input._data.shape[d]))


def nonzero(input, *, as_tuple=False):
    """Indices of non-zero elements: an (n, ndim) int64 tensor, or one per dim."""
    check_tensor(input)
    xp = input._be.xp
    if not input._data.ndim:  # one entry per non-zero, with no coordinates
        n = int(bool(input._data))
        if as_tuple:
            return (_make(xp.zeros(n, dtype=np.int64), input._be),)
        return _make(xp.zeros((n, 0), dtype=np.int64), input._be)
    parts = xp.nonzero(input._data)
    if as_tuple:
        return tuple(_make(p.astype(np.int64), input._be) for p in parts)
    return _make(xp.stack(parts, axis=1).astype(np.int64), input._be)


def masked_select(input, mask):
    """The elements of ``input`` where ``mask`` is true, as a 1-D tensor."""
    check_tensor(input)
    check_tensor(mask, "mask")
    shape = _broadcast_shapes(input._data.shape, mask._data.shape)
    if mask._data.dtype.kind != "b":
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    x = input.expand(shape) if tuple(input.shape) != shape else input
    m = mask._data if mask._data.shape == shape else input._be.xp.broadcast_to(mask._data, shape)
    return getitem(x, _Raw((m,), True))


def _broadcast_shapes(a, b):
    """The broadcast of two shapes, with torch's error naming the first mismatching dim."""
    n = len(a) if len(a) > len(b) else len(b)
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    out = []
    for i, (p, q) in enumerate(zip(a, b)):
        if p != q and p != 1 and q != 1:
            raise RuntimeError(
                f"The size of tensor a ({p}) must match the size of tensor b ({q}) at "
                f"non-singleton dimension {i}")
        out.append(q if p == 1 else p)
    return tuple(out)


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
        xp.add.at(out, _index_grids(xp, index, dim), g)
        return out

    return run


GENERIC_KERNELS = {"index_add_zeros": _index_add_zeros, "scatter_add_zeros": _scatter_add_zeros}
