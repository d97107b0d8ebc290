"""Indexed writes: ``index_add``, ``index_copy``, ``index_fill``, ``masked_scatter``,
``put`` (and its reader ``take``), each with its in-place ``*_`` method.

Every op is split in two: a ``_check_*`` function validates all arguments (indices
in range, dtypes, shapes) and returns a plan, and a ``_write_*`` function applies
the plan to an array. The out-of-place op writes into a copy; the in-place method
writes straight into the tensor's memory when nothing is recorded, and otherwise
goes through ``apply_inplace`` (views, version counters, rebased history). Nothing
is written before every check has passed.
"""

import numpy as np

from .._tensor import Tensor
from ..autograd.grad_mode import MODE
from ..backend import assert_in_range
from ..autograd.graph import Node
from .common import (_make, broadcast_error, cast, checked_scalar, is_scalar, needs_grad, normalize_dim,
                     python_scalar, record, same_backend)
from .index import _assert_along_dim, index_select, masked_select
from .inplace import apply_inplace
from .overlap import refuse_internal_overlap, refuse_overlapping_operands
from .select import masked_fill


def _check_operand(x, op, name, position):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' (position {position}) must be Tensor, "
                        f"not {type(x).__name__}")


def _check_dim_arg(dim, op):
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}(): argument 'dim' (position 1) must be int, not {type(dim).__name__}")


def _key(dim, idx):
    """The array index selecting positions ``idx`` along ``dim``."""
    return (slice(None),) * dim + (idx,)


def _as_vector(data):
    """A 0-d array as a 1-element view (the ``index_*`` ops treat a scalar as size 1)."""
    return data.reshape(1) if data.ndim == 0 else data


def _private_source(target, src, xp):
    """``src``, copied when it may overlap ``target`` (the write must read old values)."""
    return src.copy() if xp.may_share_memory(target, src) else src


def _name(t):
    return t.dtype.scalar_name


# --------------------------------------------------------------------- index_add


def _check_index_add(input, dim, index, source, alpha):
    _check_operand(input, "index_add", "input", 0)
    _check_dim_arg(dim, "index_add")
    _check_operand(index, "index_add", "index", 2)
    _check_operand(source, "index_add", "source", 3)
    if not is_scalar(alpha):
        raise TypeError(f"index_add(): argument 'alpha' must be Number, not {type(alpha).__name__}")
    d = normalize_dim(dim, input._data.ndim)
    idx = index._data
    if idx.ndim > 1:
        raise IndexError(f"index_add_(): Index is supposed to be a vector, but got dim: {idx.ndim} with type: "
                         f"{_name(index)} and size: {list(idx.shape)}")
    if idx.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"index_add_(): Expected dtype int32/int64 for index but got: {_name(index)}")
    if source.dtype is not input.dtype:
        raise RuntimeError(f"index_add_(): self ({_name(input)}) and source ({_name(source)}) must have the "
                           "same scalar type")
    same_backend(input, source)
    same_backend(input, index)
    if input._data.ndim == 0 and source._data.ndim == 0 and idx.size != 1:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    count = source._data.shape[d] if d < source._data.ndim else 1
    if idx.size != count:
        raise RuntimeError(f"index_add_(): Number of indices ({idx.size}) should be equal to source.size(dim): "
                           f"({count}), for dim: {d}")
    if source._data.ndim != input._data.ndim or any(
            a != b for k, (a, b) in enumerate(zip(input._data.shape, source._data.shape)) if k != d):
        raise RuntimeError("source tensor shape must match self tensor shape, excluding the specified dimension. "
                           f"Got self.shape = {list(input.shape)} source.shape = {list(source.shape)}")
    idx = idx.reshape(-1)
    size = input._data.shape[d] if input._data.ndim else 1
    _assert_along_dim(index, "index_add", d, size)
    return d, idx, source._data, python_scalar(alpha, input.dtype)


def _write_index_add(target, xp, d, idx, src, alpha):
    target = _as_vector(target)
    src = _private_source(target, _as_vector(src), xp)
    if alpha != 1:
        src = src * alpha
    xp.add.at(target, _key(d, idx), src)


class IndexAddBackward0(Node):
    def backward(self, g):
        (index,) = self.saved()
        g_source = None
        if self.source_shape is not None:
            g_source = index_select(g, self.dim, index).reshape(self.source_shape)
            if self.alpha != 1:
                g_source = g_source * self.alpha
        return g if self.input_rg else None, None, g_source


def index_add(input, dim, index, source, *, alpha=1):
    """A copy of ``input`` with ``alpha * source`` added at positions ``index`` along ``dim``:
    for ``dim=0``, ``out[index[i]] += alpha * source[i]``. Repeated positions add up.

    Args:
        input: the tensor added into (a copy of it).
        dim: the dimension ``index`` points along.
        index: 1-D int64 or int32 tensor of positions in ``[0, input.size(dim))``.
        source: same dtype as ``input``, same shape except ``len(index)`` along ``dim``.
        alpha: factor applied to ``source``.

    Example:
        >>> ember.zeros(3).index_add(0, ember.tensor([0, 2, 0]), ember.tensor([1., 2., 3.]))
        tensor([4., 0., 2.])
    """
    return _index_add(input, dim, index, source, alpha)


def _index_add(input, dim, index, source, alpha):
    plan = _check_index_add(input, dim, index, source, alpha)
    data = input._data.copy()
    _write_index_add(data, input._be.xp, *plan)
    if needs_grad(input, source):
        node = IndexAddBackward0()
        node.dim, node.alpha, node.input_rg = plan[0], plan[3], input._rg
        node.source_shape = source._data.shape if source._rg else None
        node.save(_index_vector(index))
        return record(node, data, input._be, (input, None, source))
    return _make(data, input._be)


def _index_vector(index):
    """``index`` as a 1-D tensor sharing its memory (a 0-d index holds one position)."""
    return index if index._data.ndim == 1 else _make(index._data.reshape(1), index._be)


# -------------------------------------------------------------------- index_copy


def _check_index_copy(input, dim, index, source):
    _check_operand(input, "index_copy", "input", 0)
    _check_dim_arg(dim, "index_copy")
    _check_operand(index, "index_copy", "index", 2)
    _check_operand(source, "index_copy", "source", 3)
    d = normalize_dim(dim, input._data.ndim)
    idx, src = index._data, source._data
    if idx.ndim > 1:
        raise IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got {idx.ndim})")
    if src.ndim == 0 and idx.size != 1:
        raise IndexError(f"index_copy_(): When source is scalar, index should have one element (got {idx.size})")
    if src.ndim != input._data.ndim and src.ndim and input._data.ndim:
        raise IndexError("index_copy_(): When source and destination are not scalars, their dimensionality must "
                         f"match. Source dimensionality ({src.ndim}), destination dimensionality "
                         f"({input._data.ndim})")
    if idx.dtype != np.int64:
        raise RuntimeError(f"index_copy_(): Expected a long tensor for index, but got {_name(index)}")
    if source.dtype is not input.dtype:
        raise RuntimeError("index_copy_(): self and source expected to have the same dtype, but got (self) "
                           f"{_name(input)} and (source) {_name(source)}")
    same_backend(input, source)
    same_backend(input, index)
    self_slice = [s for k, s in enumerate(input._data.shape) if k != d]
    source_slice = [s for k, s in enumerate(src.shape) if k != d]
    if self_slice != source_slice:
        raise RuntimeError("index_copy_(): Source/destination tensor must have same slice shapes. Destination "
                           f"slice shape: {' '.join(map(str, self_slice))} at dimension {d} and source slice "
                           f"shape: {' '.join(map(str, source_slice))} at dimension 0.")
    if src.ndim and idx.size != src.shape[d]:
        raise IndexError(f"index_copy_(): Number of indices ({idx.size}) should be equal to source.size(dim) "
                         f"({src.shape[d]})")
    idx = idx.reshape(-1)
    size = input._data.shape[d] if input._data.ndim else 1
    assert_in_range(index, f"index_copy index (dimension {d}, size {size})", idx, 0, size, lambda bad: IndexError(
        f"index_copy_(): index {bad} is out of bounds for dimension {d} with size {size}"))
    return d, idx, src


def _write_index_copy(target, xp, d, idx, src):
    target = _as_vector(target)
    src = _private_source(target, src, xp)
    if src.ndim and target.ndim != src.ndim:  # a 0-d target receiving a 1-element source
        src = src.reshape(target[_key(d, idx)].shape)
    # with repeated positions the last value written stays (deterministic on NumPy)
    target[_key(d, idx)] = src


class IndexCopyBackward0(Node):
    def backward(self, g):
        (index,) = self.saved()
        g_input = index_fill(g, self.dim, index, 0) if self.input_rg else None
        g_source = None
        if self.source_shape is not None:
            g_source = index_select(g, self.dim, index).reshape(self.source_shape)
        return g_input, None, g_source


def index_copy(input, dim, index, source):
    """A copy of ``input`` whose slices at positions ``index`` along ``dim`` are replaced
    by the slices of ``source``: for ``dim=0``, ``out[index[i]] = source[i]``.

    Args:
        input: the tensor written into (a copy of it).
        dim: the dimension ``index`` points along.
        index: 0-d or 1-D int64 tensor of positions in ``[0, input.size(dim))``.
        source: same dtype as ``input``, same shape except ``len(index)`` along ``dim``
            (or a 0-d tensor with a single index).

    Where ``index`` repeats a position, the last slice written there is kept.

    Example:
        >>> ember.zeros(3).index_copy(0, ember.tensor([2, 0]), ember.tensor([5., 7.]))
        tensor([7., 0., 5.])
    """
    plan = _check_index_copy(input, dim, index, source)
    data = input._data.copy()
    _write_index_copy(data, input._be.xp, *plan)
    if needs_grad(input, source):
        node = IndexCopyBackward0()
        node.dim, node.input_rg = plan[0], input._rg
        node.source_shape = source._data.shape if source._rg else None
        node.save(_index_vector(index))
        return record(node, data, input._be, (input, None, source))
    return _make(data, input._be)


# -------------------------------------------------------------------- index_fill


def _check_index_fill(input, dim, index, value):
    _check_operand(input, "index_fill", "input", 0)
    _check_dim_arg(dim, "index_fill")
    _check_operand(index, "index_fill", "index", 2)
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError("index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value._data.ndim} dimension(s).")
        number = value.item()
    elif is_scalar(value):
        number = value
    else:
        raise TypeError(f"index_fill(): argument 'value' must be a Number or a 0-dimensional Tensor, "
                        f"not {type(value).__name__}")
    d = normalize_dim(dim, input._data.ndim)
    idx = index._data
    if idx.dtype != np.int64:
        raise IndexError("index_fill_(): Expected dtype int64 for index.")
    if idx.ndim > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    same_backend(input, index)
    idx = idx.reshape(-1)
    size = input._data.shape[d] if input._data.ndim else 1
    assert_in_range(index, f"index_fill index (dimension {d}, size {size})", idx, -size, size,
                    lambda bad: IndexError(f"index {bad} is out of bounds for dimension {d} with size {size}"))
    return d, idx, checked_scalar(number, input.dtype)


def _write_index_fill(target, xp, d, idx, fill):
    _as_vector(target)[_key(d, idx)] = fill


class IndexFillBackward0(Node):
    """Gradient of a fill with a number: none reaches the filled positions."""

    def backward(self, g):
        (index,) = self.saved()
        return index_fill(g, self.dim, index, 0), None, None


class IndexFillBackward1(Node):
    """Gradient of a fill with a 0-d tensor: the value receives the sum over the filled slices."""

    def backward(self, g):
        index, unique = self.saved()
        g_input = index_fill(g, self.dim, index, 0) if self.input_rg else None
        g_value = None
        if self.value_dtype is not None:
            g_value = cast(index_select(g, self.dim, unique).sum(), self.value_dtype)
        return g_input, None, g_value


def index_fill(input, dim, index, value):
    """A copy of ``input`` with the slices at positions ``index`` along ``dim`` set to ``value``.

    Args:
        input: the tensor filled (a copy of it).
        dim: the dimension ``index`` points along.
        index: 0-d or 1-D int64 tensor of positions in ``[-input.size(dim), input.size(dim))``.
        value: a number, or a 0-d tensor (which then receives a gradient).

    Example:
        >>> ember.zeros(2, 3).index_fill(1, ember.tensor([0, -1]), 1.)
        tensor([[1., 0., 1.],
                [1., 0., 1.]])
    """
    plan = _check_index_fill(input, dim, index, value)
    data = input._data.copy()
    _write_index_fill(data, input._be.xp, *plan)
    value_rg = isinstance(value, Tensor) and value._rg and input.dtype.is_floating_point
    if needs_grad(input, value if value_rg else None):
        d, idx = plan[0], plan[1]
        index = _index_vector(index)
        if isinstance(value, Tensor):
            node = IndexFillBackward1()
            node.input_rg = input._rg
            node.value_dtype = value.dtype if value_rg else None
            size = input._data.shape[d] if input._data.ndim else 1
            node.save(index, _make(index._be.xp.unique(idx % size), index._be))
        else:
            node = IndexFillBackward0()
            node.save(index)
        node.dim = d
        return record(node, data, input._be, (input, None, value if value_rg else None))
    return _make(data, input._be)


# ---------------------------------------------------------------- masked_scatter


def _check_masked_scatter(input, mask, source, shape):
    """Checks for writing into a tensor of ``shape`` (``input`` broadcast with ``mask``)."""
    _check_operand(input, "masked_scatter", "input", 0)
    _check_operand(mask, "masked_scatter", "mask", 1)
    _check_operand(source, "masked_scatter", "source", 2)
    if mask._data.dtype != np.bool_:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype {_name(mask)}")
    if source.dtype is not input.dtype:
        raise RuntimeError("masked_scatter: expected self and source to have same dtypes but got "
                           f"{_name(input)} and {_name(source)}")
    same_backend(input, mask)
    same_backend(input, source)
    xp = input._be.xp
    try:
        m = xp.broadcast_to(mask._data, shape)
    except ValueError:
        raise RuntimeError(f"masked_scatter_: a mask of shape {list(mask.shape)} cannot be broadcast to the "
                           f"shape {list(shape)} of the tensor written into") from None
    count = int(xp.count_nonzero(m))
    if count > source._data.size:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    return m, source._data.reshape(-1)[:count]


def _write_masked_scatter(target, xp, m, values):
    target[m] = _private_source(target, values, xp)


def _broadcast_shape(a, b):
    """torch's broadcast of two shapes (RuntimeError naming the first mismatch)."""
    err = broadcast_error(a, b)
    if err is not None:
        raise err
    return tuple(np.broadcast_shapes(tuple(a), tuple(b)))


class MaskedScatterBackward0(Node):
    def backward(self, g):
        (mask,) = self.saved()
        g_input = masked_fill(g, mask, 0) if self.input_rg else None
        g_source = None
        if self.source_shape is not None:
            from .._creation import zeros
            from .join import cat

            taken = masked_select(g, mask)
            rest = int(np.prod(self.source_shape)) - taken._data.size
            pad = zeros(rest, dtype=g.dtype, device=g.device)
            g_source = cat([taken, pad]).reshape(self.source_shape)
        return g_input, None, g_source


def masked_scatter(input, mask, source):
    """A copy of ``input`` (broadcast with ``mask``) where the positions at which the
    bool ``mask`` is true receive the elements of ``source``, in row-major order.

    ``source`` must have the dtype of ``input`` and at least as many elements as
    ``mask`` has true entries; its remaining elements are unused.

    Example:
        >>> mask = ember.tensor([True, False, True])
        >>> ember.zeros(3).masked_scatter(mask, ember.tensor([1., 2., 3.]))
        tensor([1., 0., 2.])
    """
    _check_operand(input, "masked_scatter", "input", 0)
    _check_operand(mask, "masked_scatter", "mask", 1)
    shape = _broadcast_shape(input._data.shape, mask._data.shape)
    if shape != input._data.shape:
        input = input.expand(shape)
    m, values = _check_masked_scatter(input, mask, source, shape)
    data = input._be.xp.array(input._data, copy=True)
    _write_masked_scatter(data, input._be.xp, m, values)
    if needs_grad(input, source):
        node = MaskedScatterBackward0()
        node.input_rg = input._rg
        node.source_shape = source._data.shape if source._rg else None
        node.save(_make(m, input._be))
        return record(node, data, input._be, (input, None, source))
    return _make(data, input._be)


def _check_masked_scatter_into(input, mask, source):
    return _check_masked_scatter(input, mask, source, input._data.shape)


# ------------------------------------------------------------------- put / take


def _check_flat_index(input, index, op):
    """The int64 positions of ``index`` in ``input`` seen as 1-D (negatives count from the end)."""
    if index._data.dtype != np.int64:
        raise RuntimeError(f"{op}(): Expected a long tensor for index, but got {_name(index)}")
    same_backend(input, index)
    idx = index._data.reshape(-1)
    n = input._data.size
    if idx.size and n == 0:
        raise IndexError("put_(): Tried to put elements into an empty tensor" if op == "put_"
                         else "take(): tried to take from an empty tensor")
    assert_in_range(index, f"{op} index (numel {n})", idx, -n, n, lambda bad: IndexError(
        f"out of range: tried to access index {bad} on a tensor of {n} elements."))
    return idx


def _check_put(input, index, source, accumulate):
    _check_operand(input, "put", "input", 0)
    _check_operand(index, "put", "index", 1)
    _check_operand(source, "put", "source", 2)
    if index._data.dtype != np.int64:
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got {_name(index)}")
    if source.dtype is not input.dtype:
        raise RuntimeError("put_(): self and source expected to have the same dtype, but got self.dtype = "
                           f"{_name(input)} and source.dtype = {_name(source)}")
    if source._data.size != index._data.size:
        raise IndexError("put_(): Expected source and index to have the same number of elements, but got "
                         f"source.numel() = {source._data.size}, index.numel() = {index._data.size}")
    same_backend(input, source)
    idx = _check_flat_index(input, index, "put_")
    return idx, source._data.reshape(-1), bool(accumulate)


def _write_put(target, xp, idx, values, accumulate):
    if not idx.size:
        return
    target = _as_vector(target)
    # positions as a full index: writes reach the memory of a non-contiguous target too
    key = xp.unravel_index(idx % target.size, target.shape)
    values = _private_source(target, values, xp)
    if accumulate:
        xp.add.at(target, key, values)
    else:
        target[key] = values


class PutBackward0(Node):
    def backward(self, g):
        (index,) = self.saved()
        g_input = None
        if self.input_rg:
            if self.accumulate:
                g_input = g
            else:
                from .._creation import zeros

                g_input = put(g, index, zeros(self.source_shape, dtype=g.dtype, device=g.device))
        g_source = take(g, index).reshape(self.source_shape) if self.source_rg else None
        return g_input, None, g_source


def put(input, index, source, accumulate=False):
    """A copy of ``input`` with ``source``'s elements written at the flat (row-major)
    positions ``index``, as if ``input`` were 1-D; negative positions count from the end.

    With ``accumulate=True`` the elements are added (repeated positions add up);
    otherwise they replace the old ones (where a position repeats, the last one stays).

    Example:
        >>> ember.zeros(2, 2).put(ember.tensor([0, -1]), ember.tensor([1., 2.]))
        tensor([[1., 0.],
                [0., 2.]])
    """
    plan = _check_put(input, index, source, accumulate)
    data = input._be.xp.array(input._data, copy=True)
    _write_put(data, input._be.xp, *plan)
    if needs_grad(input, source):
        node = PutBackward0()
        node.input_rg, node.source_rg, node.accumulate = input._rg, source._rg, plan[2]
        node.source_shape = source._data.shape
        node.save(index)
        return record(node, data, input._be, (input, None, source))
    return _make(data, input._be)


class TakeBackward0(Node):
    def backward(self, g):
        from .._creation import zeros

        (index,) = self.saved()
        return put(zeros(self.shape, dtype=g.dtype, device=g.device), index, g, accumulate=True), None


def take(input, index):
    """The elements of ``input`` (seen as 1-D, row-major) at the positions ``index``,
    shaped like ``index``; negative positions count from the end.

    Example:
        >>> ember.tensor([[1., 2.], [3., 4.]]).take(ember.tensor([[0, 3]]))
        tensor([[1., 4.]])
    """
    _check_operand(input, "take", "input", 0)
    _check_operand(index, "take", "index", 1)
    idx = _check_flat_index(input, index, "take")
    if idx.size:
        flat = input._data.reshape(-1)
        data = flat[idx % flat.size].reshape(index._data.shape)
    else:
        data = input._be.xp.zeros(index._data.shape, dtype=input._data.dtype)
    if needs_grad(input):
        node = TakeBackward0()
        node.shape = input._data.shape
        node.save(index)
        return record(node, data, input._be, (input, None))
    return _make(data, input._be)


# -------------------------------------------------------------- in-place forms


def _writes_in_place(op, check, write, reads=()):
    """The in-place method of ``op``: checks (the arguments at positions ``reads`` may
    not overlap the tensor), then writes into the tensor's own memory; when autograd
    records, ``apply_inplace`` runs ``op`` (which checks again) instead."""

    def method(self, *args):
        if not isinstance(self, Tensor):
            raise TypeError(f"in-place ops need a Tensor, got {type(self).__name__}")
        plan = check(self, *args)
        refuse_overlapping_operands(self, [args[i] for i in reads], index_write=True)
        if MODE.enabled and (self._rg or any(isinstance(a, Tensor) and a._rg for a in args)):
            return apply_inplace(self, op, *args)
        refuse_internal_overlap(self._data)
        write(self._data, self._be.xp, *plan)
        self._bump_version()
        return self

    return method


# torch checks the index and the source (not a fill value, nor masked_scatter's operands)
_index_add_into = _writes_in_place(_index_add, _check_index_add, _write_index_add, reads=(1, 2))
_index_copy_into = _writes_in_place(index_copy, _check_index_copy, _write_index_copy, reads=(1, 2))
_index_fill_into = _writes_in_place(index_fill, _check_index_fill, _write_index_fill, reads=(1,))
_masked_scatter_into = _writes_in_place(masked_scatter, _check_masked_scatter_into, _write_masked_scatter)
_put_into = _writes_in_place(put, _check_put, _write_put, reads=(0, 1))


def index_add_(self, dim, index, source, *, alpha=1):
    """In-place ``index_add``: adds ``alpha * source`` into this tensor at ``index`` along ``dim``."""
    return _index_add_into(self, dim, index, source, alpha)


def index_copy_(self, dim, index, source):
    """In-place ``index_copy``: replaces this tensor's slices at ``index`` along ``dim``."""
    return _index_copy_into(self, dim, index, source)


def index_fill_(self, dim, index, value):
    """In-place ``index_fill``: sets this tensor's slices at ``index`` along ``dim`` to ``value``."""
    return _index_fill_into(self, dim, index, value)


def masked_scatter_(self, mask, source):
    """In-place ``masked_scatter``; ``mask`` must broadcast to this tensor's shape."""
    return _masked_scatter_into(self, mask, source)


def put_(self, index, source, accumulate=False):
    """In-place ``put``: writes (or adds) ``source`` at the flat positions ``index``."""
    return _put_into(self, index, source, accumulate)


FUNCTIONS = {"index_add": index_add, "index_copy": index_copy, "index_fill": index_fill,
             "masked_scatter": masked_scatter, "put": put, "take": take}
METHODS = dict(FUNCTIONS, index_add_=index_add_, index_copy_=index_copy_, index_fill_=index_fill_,
               masked_scatter_=masked_scatter_, put_=put_)
