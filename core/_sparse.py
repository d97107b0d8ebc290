"""Sparse COO tensors: a shape, an ``(sparse_dim, nnz)`` int64 array of coordinates and
an ``(nnz, *dense_shape)`` array of values. Entries that share coordinates add up;
``coalesce()`` sums them and sorts the coordinates.

They serve sparse gradients (``Embedding(sparse=True)``) and the optimizers that take
them, and sparse operands in autograd (a graph's adjacency, attention coefficients
placed on its edges): construction, ``coalesce``, ``to_dense``, addition of sparse
tensors, adding a sparse tensor into a dense one, scaling by a scalar, ``norm``, and
(in ``_sparse_ops``) sparse @ dense products and sums. Gradients flow through all of
these to the values a sparse tensor was built from, or accumulate in a sparse leaf's
``.grad`` (``_sparse_grad``). Every other operation raises NotImplementedError naming
the operation and the layout: there is no dense array behind a sparse tensor to
compute on.
"""

import math
import sys
from types import FunctionType

from . import _dtype
from ._device import as_device
from ._device import device as _device_cls
from ._layout import sparse_coo
from ._size import Size
from ._tensor import Tensor
from ._tensor_str import format_tensor
from . import _sparse_grad as _grad

_new = object.__new__


def _unsupported(name):
    return NotImplementedError(
        f"{name}() is not supported for tensors with layout ember.sparse_coo; convert the "
        "tensor with .to_dense() first")


def _operation_name():
    """The outermost ember function on the stack: the operation the user called."""
    frame = sys._getframe(2)
    name = None
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module == "ember" or module.startswith("ember."):
            name = frame.f_code.co_name
        elif name is not None:
            break
        frame = frame.f_back
    return name or "this operation"


def _same_size_error(op, a, b):
    return RuntimeError(
        f"{op}: expected 'self' and 'other' to have same size, but self has size {list(a.shape)} "
        f"while other has size {list(b.shape)} (FYI: dense-sparse addition does not currently "
        "support broadcasting)")


def _scatter_add(xp, out, ix, values, unique):
    """``out[ix] += values``, entry after entry where coordinates repeat (torch's order)."""
    if unique:
        out[tuple(ix)] += values
    else:
        xp.add.at(out, tuple(ix), values)


class SparseCooTensor(Tensor):
    """A tensor stored as coordinates and values (``layout == ember.sparse_coo``).

    Make one with :func:`ember.sparse_coo_tensor`; embeddings built with
    ``sparse=True`` give their weight one as gradient.
    """

    __module__ = "ember"
    __slots__ = ("_ix", "_vals", "_dims", "_coal")

    is_sparse = True
    layout = sparse_coo

    @property
    def _data(self):
        raise _unsupported(_operation_name())

    # ----------------------------------------------------------- structure
    def _indices(self):
        """The ``(sparse_dim, nnz)`` int64 coordinates, as stored (repeats and all)."""
        return Tensor._make(self._ix, self._be)

    def _values(self):
        """The ``(nnz, *dense_shape)`` values, as stored; shares memory with this tensor."""
        return Tensor._make(self._vals, self._be)

    def indices(self):
        """The coordinates of a coalesced tensor (raises on an uncoalesced one)."""
        if not self._coal:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return self._indices()

    def values(self):
        """The values of a coalesced tensor (raises on an uncoalesced one); differentiable."""
        if not self._coal:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call "
                               ".coalesce() first")
        if _grad.recording(self):
            return _grad.record(_grad.ValuesBackward0(self), self._values(), (self,))
        return self._values()

    def _nnz(self):
        """The number of stored entries (repeated coordinates counted each time)."""
        return self._ix.shape[1]

    def sparse_dim(self):
        """How many leading dimensions the coordinates address."""
        return self._ix.shape[0]

    def dense_dim(self):
        """How many trailing dimensions each stored value has."""
        return self._vals.ndim - 1

    def is_coalesced(self):
        """True when the coordinates are known to be sorted and unique."""
        return self._coal

    def coalesce(self):
        """This tensor with repeated coordinates summed and coordinates sorted
        (``self`` when it is coalesced already)."""
        if self._coal:
            return self
        xp = self._be.xp
        ix, vals = self._ix, self._vals
        shape = self._dims[:ix.shape[0]]
        flat = xp.ravel_multi_index(tuple(ix), shape)
        order = xp.argsort(flat, kind="stable")
        flat = flat[order]
        first = xp.ones(flat.shape[0], dtype=bool)
        first[1:] = flat[1:] != flat[:-1]
        slot = xp.cumsum(first) - 1
        keys = flat[first]
        out = xp.zeros((keys.shape[0],) + vals.shape[1:], dtype=vals.dtype)
        xp.add.at(out, slot, vals[order])
        new_ix = xp.stack(xp.unravel_index(keys, shape)).astype(xp.int64, copy=False)
        out = _make(new_ix.reshape(len(shape), -1), out, self._dims, self._be, True)
        return _grad.passed_on(_grad.CoalesceBackward0, self, out)

    def to_dense(self, dtype=None, *, masked_grad=True):
        """The same tensor as an ordinary (strided) one (of ``dtype`` when given).

        Its gradient reaches this tensor only at the stored coordinates (a sparse
        gradient), or everywhere (a dense one) with ``masked_grad=False``."""
        if dtype is not None:
            return self.to(dtype).to_dense(masked_grad=masked_grad)
        xp = self._be.xp
        out = xp.zeros(self._dims, dtype=self._vals.dtype)
        _scatter_add(xp, out, self._ix, self._vals, self._coal)
        out = Tensor._make(out, self._be)
        if _grad.recording(self):
            return _grad.record(_grad.ToDenseBackward0(self.detach(), masked_grad), out, (self,))
        return out

    def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
        """This tensor (already sparse; another ``sparse_dim`` is not supported)."""
        if sparse_dim is not None and sparse_dim != self.sparse_dim():
            raise RuntimeError("to_sparse: conversion from Sparse to Sparse with sparse_dim "
                               "argument !=self.sparse_dim() is not supported")
        if layout not in (None, sparse_coo) or blocksize is not None or dense_dim is not None:
            raise NotImplementedError("to_sparse(): ember has only the layout ember.sparse_coo")
        return self

    def to_sparse_coo(self):
        """This tensor (already sparse COO)."""
        return self

    # ----------------------------------------------------------- products and sums
    def mm(self, mat2):
        """``self @ mat2`` for a 2-d sparse matrix and a dense matrix: a dense result."""
        return _ops().sparse_mm(self, mat2)

    def matmul(self, other):
        """``self @ other`` for a 2-d sparse matrix and a dense matrix or vector."""
        return _ops().sparse_matmul(self, other)

    __matmul__ = matmul

    def sum(self, dim=None, keepdim=False, dtype=None):
        """The sum of all elements (a 0-dim dense tensor), or over ``dim``: a sparse tensor
        while some sparse dim is left, else a dense one (``keepdim`` is not supported)."""
        if keepdim:
            raise NotImplementedError("sum(keepdim=True) is not supported for tensors with "
                                      "layout ember.sparse_coo")
        ops = _ops()
        return ops.sparse_sum(self, dim, dtype,
                              ops.SumBackward0 if dim is None else ops.SumBackward1)

    def transpose(self, dim0, dim1):
        """This tensor with its sparse dims ``dim0`` and ``dim1`` swapped (the rows of
        the coordinates trade places)."""
        return _ops().sparse_transpose(self, dim0, dim1)

    def t(self):
        """The transpose of a sparse tensor of at most 2 dims (its 2 dims swapped)."""
        return _ops().sparse_t(self)

    T = property(t, doc="The transpose of a 2-dim sparse tensor, as ``t()``.")

    # ----------------------------------------------------------- attributes
    @property
    def dtype(self):
        """The element type of the values."""
        return _dtype._FROM_NP[self._vals.dtype]

    @property
    def shape(self):
        """The size of each dimension, as an ``ember.Size``."""
        return Size(self._dims)

    def size(self, dim=None):
        """The shape as ``ember.Size``, or the size of dimension ``dim``."""
        if dim is None:
            return Size(self._dims)
        return self._dims[self._wrap_dim(dim)]

    def dim(self):
        """The number of dimensions (sparse and dense together)."""
        return len(self._dims)

    ndimension = dim

    @property
    def ndim(self):
        """The number of dimensions (sparse and dense together)."""
        return len(self._dims)

    def _wrap_dim(self, dim):
        n = len(self._dims)
        if not -n <= dim < n:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                             f"but got {dim})")
        return dim % n

    def numel(self):
        """The number of elements of the dense equivalent."""
        return math.prod(self._dims)

    nelement = numel

    def element_size(self):
        """Bytes per value element."""
        return self._vals.itemsize

    @property
    def itemsize(self):
        """Bytes per value element."""
        return self._vals.itemsize

    @property
    def device(self):
        """The device holding the coordinates and values."""
        return _device_cls(self._be.name, self._be.device_index(self._vals))

    def get_device(self):
        """The CUDA device index, or -1 for CPU tensors."""
        index = self._be.device_index(self._vals)
        return -1 if index is None else index

    def is_floating_point(self):
        """True for floating values."""
        return self._vals.dtype.kind == "f"

    def is_contiguous(self):
        """False: a sparse tensor has no strided memory."""
        return False

    @property
    def data(self):
        """This tensor, detached (shares coordinates and values)."""
        return self.detach()

    @property
    def requires_grad(self):
        """Whether operations on this tensor are recorded for backward."""
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` of this leaf in place; its ``.grad`` is then dense or sparse,
        as the operations that use it give (``ember.mm`` dense, ``ember.sparse.mm`` sparse)."""
        requires_grad = bool(requires_grad)
        if self.grad_fn is not None:
            if requires_grad:
                return self
            raise RuntimeError("you can only change requires_grad flags of leaf variables.")
        if requires_grad and self._vals.dtype.kind != "f":
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._rg = requires_grad
        return self

    def _accumulator(self):
        acc = self._extra.get("acc") if self._extra is not None else None
        if acc is None:
            acc = _grad.SparseLeafSink(self)
            self._extras()["acc"] = acc
        return acc

    # ----------------------------------------------------------- copies and casts
    def detach(self):
        """A tensor sharing this one's coordinates and values."""
        return _make(self._ix, self._vals, self._dims, self._be, self._coal)

    __copy__ = detach

    def clone(self, *, memory_format=None):
        """A copy with its own coordinates and values."""
        xp = self._be.xp
        out = _make(xp.array(self._ix, copy=True), xp.array(self._vals, copy=True), self._dims,
                    self._be, self._coal)
        return _grad.passed_on(_grad.CloneBackward0, self, out)

    def _owned_copy(self, layout_of=None):
        """A copy sharing nothing (a sparse gradient has no layout to follow)."""
        return self.clone()

    def __deepcopy__(self, memo):
        return self.clone()

    def __reduce_ex__(self, protocol):
        be = self._be
        return (_rebuild, (be.to_host(self._ix), be.to_host(self._vals), self._dims, self._coal))

    def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False,
           memory_format=None):
        """This tensor with values of another dtype (moving sparse tensors between
        devices is not supported yet)."""
        for arg in args:
            if isinstance(arg, _dtype.dtype):
                dtype = arg
            elif isinstance(arg, Tensor):
                dtype, device = arg.dtype, arg.device
            else:
                device = arg
        if device is not None and as_device(device).type != self._be.name:
            raise NotImplementedError("to(): ember cannot move tensors with layout "
                                      "ember.sparse_coo between devices yet")
        if dtype is None or dtype is self.dtype:
            return self.clone() if copy else self
        out = _make(self._ix, self._vals.astype(dtype.np), self._dims, self._be, self._coal)
        return _grad.passed_on(_grad.ToCopyBackward0, self, out)

    def double(self, memory_format=None):
        """``self.to(ember.float64)``."""
        return self.to(_dtype.float64)

    def float(self, memory_format=None):
        """``self.to(ember.float32)``."""
        return self.to(_dtype.float32)

    def half(self, memory_format=None):
        """``self.to(ember.float16)``."""
        return self.to(_dtype.float16)

    # ----------------------------------------------------------- arithmetic
    def add(self, other, *, alpha=1):
        """``self + alpha * other`` for a sparse ``other`` of the same shape: the entries
        of both, concatenated (coalesced when both inputs are)."""
        return _sum(self, other, alpha, "add")

    def add_(self, other, *, alpha=1):
        """In-place :meth:`add`."""
        _grad.check_inplace(self, other)
        total = _sum(self, other, alpha, "add_")
        if total.dtype is not self.dtype:
            raise RuntimeError(f"result type {total.dtype.scalar_name} can't be cast to the "
                               f"desired output type {self.dtype.scalar_name}")
        self._ix, self._vals, self._coal = total._ix, total._vals, total._coal
        return self

    def sub(self, other, *, alpha=1):
        """``self - alpha * other`` for a sparse ``other``."""
        return _sum(self, other, -alpha, "sub")

    def sub_(self, other, *, alpha=1):
        """In-place :meth:`sub`."""
        return self.add_(other, alpha=-alpha)

    def mul(self, other):
        """The values multiplied by a number or a one-element dense tensor."""
        values = _scaled(self, other, "mul") * other
        out = _make(self._ix, values._data, self._dims, self._be, self._coal)
        if _grad.recording(self, other):
            node = _grad.MulBackward0((_grad.factor(other),), (self.dtype,))
            return _grad.record(node, out, (self,))
        return out

    def mul_(self, other):
        """In-place :meth:`mul`."""
        _grad.check_inplace(self, other)
        _scaled(self, other, "mul_").mul_(other)
        return self

    def div(self, other):
        """The values divided by a number or a one-element dense tensor."""
        values = _scaled(self, other, "div") / other
        out = _make(self._ix, values._data, self._dims, self._be, self._coal)
        if _grad.recording(self, other):
            return _grad.record(_grad.DivBackward0(_grad.factor(other), self.dtype), out, (self,))
        return out

    def div_(self, other):
        """In-place :meth:`div`."""
        _grad.check_inplace(self, other)
        _scaled(self, other, "div_").div_(other)
        return self

    def neg(self):
        """The values negated."""
        out = _make(self._ix, -self._vals, self._dims, self._be, self._coal)
        if _grad.recording(self):
            return _grad.record(_grad.NegBackward0((-1,), (self.dtype,)), out, (self,))
        return out

    def zero_(self):
        """Drop every entry (the tensor becomes all zeros, with no stored entry)."""
        xp = self._be.xp
        self._ix = xp.zeros((self._ix.shape[0], 0), dtype=xp.int64)
        self._vals = xp.zeros((0,) + self._vals.shape[1:], dtype=self._vals.dtype)
        self._coal = True
        return self

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        """The ``p``-norm of all elements, a 0-dim dense tensor (``dim`` is not supported)."""
        if dim is not None:
            raise _unsupported("norm(dim=...)")
        order = 2.0 if p == "fro" else float(p)
        if order >= 0:  # implicit zeros add nothing to these norms
            return Tensor._make(self.coalesce()._vals, self._be).norm(order, dtype=dtype)
        return self.to_dense().norm(order, dtype=dtype)

    def _add_into(self, dense, alpha=1):
        """``dense += alpha * self`` in dense's memory, without recording a gradient."""
        if tuple(dense.shape) != self._dims:
            raise _same_size_error("add_", dense, self)
        if dense._be is not self._be:
            raise RuntimeError(f"Expected all tensors to be on the same device, but found at least "
                               f"two devices, {dense.device} and {self.device}!")
        if not _dtype.can_cast(_dtype.result_type(dense, self._values()), dense.dtype):
            raise RuntimeError(f"result type {self.dtype.scalar_name} can't be cast to the "
                               f"desired output type {dense.dtype.scalar_name}")
        values = self._vals if alpha == 1 else self._vals * alpha
        _scatter_add(self._be.xp, dense._data, self._ix, values, self._coal)
        dense._bump_version()
        return dense

    def _iadd_data(self, other):
        self.add_(other)

    def __add__(self, other):
        return _sum(self, other, 1, "add")

    def __radd__(self, other):
        if isinstance(other, Tensor):  # dense + sparse: a dense result, a dense gradient
            return other + self.to_dense(masked_grad=False)
        raise _unsupported("add (with a number)")

    def __sub__(self, other):
        return _sum(self, other, -1, "sub")

    def __rsub__(self, other):
        if isinstance(other, Tensor):
            return other - self.to_dense(masked_grad=False)
        raise _unsupported("sub (with a number)")

    __iadd__ = add_
    __isub__ = sub_
    __mul__ = __rmul__ = mul
    __imul__ = mul_
    __truediv__ = div
    __itruediv__ = div_
    __neg__ = neg

    def __len__(self):
        return self._dims[0]

    def __repr__(self):
        def indented(array, width):
            # the dtype is shown once, at the end
            text = format_tensor(self._be.to_host(array), dtype_name="ember.int64",
                                 is_default_dtype=True)
            return text.replace("\n", "\n" + " " * width)

        text = (f"tensor(indices={indented(self._ix, 15)},\n"
                f"       values={indented(self._vals, 14)},\n"
                f"       size={tuple(self._dims)}, nnz={self._nnz()}")
        if self.dtype is not _dtype.get_default_dtype():
            text += f", dtype={self.dtype!r}"
        if self._be.name != "cpu":
            text += f", device='{self.device}'"
        return text + ", layout=ember.sparse_coo)"

    __str__ = __repr__

    def __format__(self, spec):
        return format(repr(self), spec)


def _make(ix, vals, dims, be, coalesced):
    t = _new(SparseCooTensor)
    t._be = be
    t._rg = False
    t._grad = None
    t.grad_fn = None
    t._vc = None
    t._extra = None
    t._ix = ix
    t._vals = vals
    t._dims = tuple(dims)
    t._coal = coalesced
    return t


def _ops():
    from . import _sparse_ops  # it builds on this module

    return _sparse_ops


def _rebuild(ix, vals, dims, coalesced):
    from .backend import REGISTRY

    return _make(ix, vals, dims, REGISTRY.get("cpu"), coalesced)


def _sum(a, b, alpha, op):
    """``a + alpha * b`` for two sparse tensors."""
    if not isinstance(b, SparseCooTensor):
        raise RuntimeError(f"{op}(sparse, dense) is not supported. Use {op}(dense, sparse) "
                           "instead.")
    if a._dims != b._dims:
        raise _same_size_error(op, a, b)
    if a._ix.shape[0] != b._ix.shape[0]:
        raise RuntimeError(f"{op}: expected both sparse tensors to have {a.sparse_dim()} sparse "
                           f"dimensions, but other has {b.sparse_dim()}")
    if a._be is not b._be:
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two "
                           f"devices, {a.device} and {b.device}!")
    xp = a._be.xp
    dtype = _dtype.result_type(a._values(), b._values()).np
    b_vals = b._vals if alpha == 1 else b._vals * alpha
    values = [a._vals.astype(dtype, copy=False), b_vals.astype(dtype, copy=False)]
    out = _make(xp.concatenate([a._ix, b._ix], axis=1), xp.concatenate(values), a._dims, a._be,
                False)
    # torch merges two coalesced operands into a coalesced result
    if a._coal and b._coal:
        out = out.coalesce()
    if _grad.recording(a, b):
        node_cls = _grad.SubBackward0 if op.startswith("sub") else _grad.AddBackward0
        return _grad.record(node_cls((1, alpha), (a.dtype, b.dtype)), out, (a, b))
    return out


def _scaled(t, factor, op):
    """The values of ``t`` as a dense tensor, once ``factor`` is checked to be a scalar."""
    if isinstance(factor, Tensor) and (factor.is_sparse or factor.numel() != 1):
        raise NotImplementedError(f"{op}(): ember multiplies and divides tensors with layout "
                                  "ember.sparse_coo only by scalars")
    return Tensor._make(t._vals, t._be)


def sparse_mask(dense, mask):
    """The entries of ``dense`` at the coordinates stored in the sparse ``mask``, as a
    sparse tensor with ``mask``'s coordinates."""
    if tuple(dense.shape) != mask._dims:
        raise RuntimeError(f"sparse_mask(): expected mask and self to have the same size, but got "
                           f"self {list(dense.shape)} and mask {list(mask.shape)}")
    return _make(mask._ix, dense._data[tuple(mask._ix)], mask._dims, mask._be, mask._coal)


def with_values(sparse, values):
    """A sparse tensor with the coordinates of ``sparse`` and the dense tensor ``values``
    (one row per stored entry) as its values."""
    return _make(sparse._ix, values._data, sparse._dims, sparse._be, sparse._coal)


def _index_array(indices, values_be):
    from ._creation import as_tensor

    t = indices if isinstance(indices, Tensor) else as_tensor(indices)
    if t.is_sparse or t.dtype.category == _dtype._FLOAT or t.dtype is _dtype.bool:
        raise RuntimeError(f"sparse_coo_tensor(): indices must be an integer tensor, but got "
                           f"{'a sparse tensor' if t.is_sparse else t.dtype}")
    arr = t._data.astype(t._be.xp.int64, copy=False)
    if t._be is not values_be:
        arr = values_be.from_host(t._be.to_host(arr), None)
    return arr


def _check_bounds(xp, ix, dims):
    if ix.shape[1] == 0:
        return
    lows, highs = ix.min(axis=1).tolist(), ix.max(axis=1).tolist()
    for d, (lo, hi, size) in enumerate(zip(lows, highs, dims)):
        if lo < 0:
            raise RuntimeError(f"found negative index {lo} for dim {d}")
        if hi >= size:
            raise RuntimeError(f"size is inconsistent with indices: for dim {d}, size is {size} "
                               f"but found index {hi}")


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None, requires_grad=False,
                      check_invariants=None, is_coalesced=None):
    """A sparse COO tensor with ``values[k]`` at coordinates ``indices[:, k]``.

    Entries that share coordinates add up (the tensor is *uncoalesced* until
    :meth:`~SparseCooTensor.coalesce` sums them).

    Args:
        indices: integer ``(sparse_dim, nnz)`` coordinates (a tensor or nested lists).
        values: ``(nnz, *dense_shape)`` values.
        size (sequence of int, optional): the shape; by default the smallest that
            holds every coordinate, followed by ``dense_shape``.
        dtype, device: of the values (default: those of ``values``).
        requires_grad (bool): make the result a leaf that requires grad. Without it,
            the result records its gradient to ``values`` when ``values`` requires grad.
        check_invariants (bool, optional): ``False`` skips the check that every
            coordinate lies inside ``size`` (ember checks by default).
        is_coalesced (bool, optional): declare the coordinates sorted and unique.

    Examples:
        >>> s = ember.sparse_coo_tensor([[0, 2, 0]], [1.0, 2.0, 3.0], (4,))
        >>> s.to_dense()
        tensor([4., 0., 2., 0.])
    """
    from ._creation import as_tensor

    vals_t = as_tensor(values, dtype=dtype, device=device)
    if vals_t.is_sparse:
        raise RuntimeError("sparse_coo_tensor(): values must be a dense tensor")
    be = vals_t._be
    xp = be.xp
    ix = _index_array(indices, be)
    vals = vals_t._data
    if ix.ndim != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(ix.shape)}")
    if ix.shape[0] == 0:
        raise NotImplementedError("sparse_coo_tensor(): ember's sparse tensors need at least one "
                                  "sparse dimension")
    if vals.ndim == 0 or ix.shape[1] != vals.shape[0]:
        nnz = vals.shape[0] if vals.ndim else "none (0-dim values)"
        raise RuntimeError(f"indices and values must have same nnz, but got nnz from indices: "
                           f"{ix.shape[1]}, nnz from values: {nnz}")
    sparse_dim, dense_dim = ix.shape[0], vals.ndim - 1
    if size is None:
        highs = ix.max(axis=1).tolist() if ix.shape[1] else [-1] * sparse_dim
        dims = tuple(h + 1 for h in highs) + tuple(vals.shape[1:])
    else:
        dims = tuple(Size(size))
        if len(dims) != sparse_dim + dense_dim:
            raise RuntimeError(f"'len(size) == sparse_dim + dense_dim' is not satisfied: "
                               f"len(size) = {len(dims)}, sparse_dim = {sparse_dim}, "
                               f"dense_dim = {dense_dim}")
        if tuple(vals.shape[1:]) != dims[sparse_dim:]:
            expected = [vals.shape[0], *dims[sparse_dim:]]
            raise RuntimeError(f"values has incorrect size, expected {expected}, got "
                               f"{list(vals.shape)}")
    if check_invariants is not False:
        _check_bounds(xp, ix, dims)
    coalesced = ix.shape[1] <= 1
    out = _make(ix, vals, dims, be, coalesced)
    if is_coalesced and not coalesced:
        merged = out.coalesce()
        if merged._ix.shape != ix.shape or not bool((merged._ix == ix).all()):
            raise RuntimeError("sparse_coo_tensor(): is_coalesced=True, but the indices are not "
                               "sorted and unique")
        out._coal = True
    if requires_grad:
        return out.requires_grad_()
    if _grad.recording(vals_t):
        return _grad.record(_grad.SparseCooTensorWithDimsAndTensorsBackward0(ix, vals_t.dtype),
                            out, (vals_t,))
    return out


def _install_refusals():
    """Every public Tensor method and operator that the class above does not define
    raises NotImplementedError naming itself, instead of failing somewhere inside."""
    operators = {f"__{n}__" for n in ("getitem", "setitem", "invert", "abs", "pos", "eq", "ne",
                                      "lt", "le", "gt", "ge", "iter", "contains")}
    for n in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or",
              "xor"):
        operators |= {f"__{n}__", f"__r{n}__", f"__i{n}__"}
    own = vars(SparseCooTensor)
    for name, attr in list(vars(Tensor).items()):
        if name in own or not isinstance(attr, FunctionType):
            continue
        if name.startswith("_") and name not in operators:
            continue
        if name in ("detach_", "is_complex"):
            continue

        def refuse(self, *args, _name=name.strip("_") if name.startswith("__") else name,
                   **kwargs):
            raise _unsupported(_name)

        refuse.__name__ = name
        refuse.__doc__ = "Not supported for sparse tensors: raises NotImplementedError."
        setattr(SparseCooTensor, name, refuse)


_install_refusals()

__all__ = ["SparseCooTensor", "sparse_coo_tensor"]
