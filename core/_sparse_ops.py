"""Operations that take a sparse COO tensor and give a dense one or a new sparse one:
sparse @ dense products (``mm``, ``matmul``, ``addmm`` and ``ember.sparse``'s forms),
sums, and ``Tensor.to_sparse``.

torch gives the two families of products different gradients for the sparse operand:
``ember.mm``/``matmul``/``addmm`` a dense one (``grad @ mat2.T``), ``ember.sparse.mm``/
``addmm`` a sparse one holding that product only at the operand's coordinates.
"""

from . import _dtype
from ._ops import linalg, matrix
from ._ops.common import sum_to
from ._ops.overloads import taking_deprecated_forms
from ._sparse import SparseCooTensor, _make
from ._sparse_grad import named, no_double_backward, pattern, record, recording, values_at
from ._tensor import Tensor
from .autograd.grad_mode import no_grad
from .autograd.graph import Node

_SCALAR_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
                 "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


# ---------------------------------------------------------------- products
def _spmm_data(s, dense):
    """``s @ dense`` as an array, for a sparse matrix ``s`` and a dense 2-D array."""
    xp = s._be.xp
    rows, cols = s._ix
    out = xp.zeros((s._dims[0], dense.shape[1]), dtype=dense.dtype)
    xp.add.at(out, rows, s._vals[:, None] * dense[cols])
    return out


class _ProductBackward(Node):
    """Gradient of ``beta * input + alpha * (sparse @ dense)`` (``dense`` a matrix, or a
    vector taken as a column); the sparse operand's gradient is dense, or sparse at the
    operand's coordinates when ``masked``."""

    def __init__(self, sparse, dense, beta, alpha, masked, input_shape):
        self.sparse = sparse.detach()
        self.beta, self.alpha, self.masked, self.input_shape = beta, alpha, masked, input_shape
        self.save(dense)

    def apply(self, grads):
        no_double_backward()
        g = grads[0]
        (dense,) = self.saved()
        s = self.sparse
        vector = dense.dim() == 1
        if vector:
            g, dense = g.unsqueeze(1), dense.unsqueeze(1)
        *needs_input, needs_sparse, needs_dense = [e is not None for e in self.next_edges]
        g_input = g_sparse = g_dense = None
        if needs_input and needs_input[0]:
            g_input = sum_to(g if self.beta == 1 else g * self.beta, self.input_shape)
        scaled = g if self.alpha == 1 else g * self.alpha
        if needs_sparse and self.masked:
            ix = pattern(s._ix, s._dims, s._be.xp)
            rows, cols = ix
            vals = (scaled._data[rows] * dense._data[cols]).sum(axis=1)
            g_sparse = _make(ix, vals, s._dims, s._be, False)
        elif needs_sparse:
            g_sparse = scaled.mm(dense.t())
        if needs_dense:
            g_dense = Tensor._make(_spmm_data(_swapped(s, 0, 1), scaled._data), s._be)
            if vector:
                g_dense = g_dense.squeeze(1)
        return (g_sparse, g_dense) if self.input_shape is None else (g_input, g_sparse, g_dense)


MmBackward0 = named(_ProductBackward, "MmBackward0")
MvBackward0 = named(_ProductBackward, "MvBackward0")
AddmmBackward0 = named(_ProductBackward, "AddmmBackward0")
SparseAddmmBackward0 = named(_ProductBackward, "SparseAddmmBackward0")


def _check_product(sparse, dense, op, vector=False):
    """torch's checks on ``sparse @ dense`` for a 2-d sparse matrix of scalars (and a dense
    vector when ``vector``)."""
    if not isinstance(dense, Tensor):
        raise TypeError(f"{op}(): argument 'mat2' must be Tensor, not {type(dense).__name__}")
    if dense.is_sparse:
        raise NotImplementedError(f"{op}(): ember multiplies a tensor with layout "
                                  "ember.sparse_coo only by a dense (strided) tensor; convert "
                                  "the second operand with .to_dense()")
    if sparse.sparse_dim() != 2 or sparse.dense_dim() != 0:
        if sparse.dim() != 2:
            raise RuntimeError(f"{op}: matrices expected, got {sparse.dim()}D tensor")
        raise NotImplementedError(f"{op}(): ember multiplies only sparse matrices with 2 sparse "
                                  f"and 0 dense dimensions, got {sparse.sparse_dim()} sparse and "
                                  f"{sparse.dense_dim()} dense")
    if dense.dim() != 2 and not (vector and dense.dim() == 1):
        raise RuntimeError(f"{op}: matrices expected, got {dense.dim()}D tensor")
    if sparse._be is not dense._be:
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least "
                           f"two devices, {sparse.device} and {dense.device}!")
    if sparse.dtype is not dense.dtype:
        raise RuntimeError(f"expected scalar type {_SCALAR_NAMES[sparse.dtype.name]} but found "
                           f"{_SCALAR_NAMES[dense.dtype.name]}")
    if dense.shape[0] != sparse.shape[1]:
        raise RuntimeError(f"{op}: Argument #3 (dense): Expected dim 0 size {sparse.shape[1]}, "
                           f"got {dense.shape[0]}")


def _product(input, sparse, dense, beta, alpha, node_cls):
    """``beta * input + alpha * (sparse @ dense)`` (``input`` None: the product alone)."""
    vector = node_cls is MvBackward0
    _check_product(sparse, dense, "addmm", vector)
    with no_grad():
        if vector:
            out = Tensor._make(_spmm_data(sparse, dense._data[:, None])[:, 0], sparse._be)
        else:
            out = Tensor._make(_spmm_data(sparse, dense._data), sparse._be)
        if alpha != 1:
            out = out * alpha
        if input is not None:
            out = (input if beta == 1 else input * beta) + out
    if not recording(input, sparse, dense):
        return out
    shape = None if input is None else tuple(input.shape)
    node = node_cls(sparse, dense, beta, alpha, node_cls is SparseAddmmBackward0, shape)
    inputs = (sparse, dense) if input is None else (input, sparse, dense)
    return record(node, out, inputs)


def sparse_mm(sparse, dense):
    """``sparse @ dense`` for a 2-d sparse matrix, with the sparse operand's gradient dense
    (as ``ember.mm``)."""
    return _product(None, sparse, dense, 1, 1, MmBackward0)


def sparse_matmul(sparse, other):
    """``sparse @ other`` for a 2-d sparse matrix and a dense matrix or vector."""
    if isinstance(other, Tensor) and not other.is_sparse and other.dim() == 1:
        return _product(None, sparse, other, 1, 1, MvBackward0)
    return sparse_mm(sparse, other)


def masked_mm(sparse, dense):
    """``sparse @ dense`` whose gradient for ``sparse`` is sparse, at its coordinates (as
    ``ember.sparse.mm``)."""
    return _product(None, sparse, dense, 1, 1, SparseAddmmBackward0)


def sparse_addmm(input, sparse, dense, beta, alpha, masked):
    """``beta * input + alpha * (sparse @ dense)``; ``masked`` picks ``ember.sparse.addmm``'s
    sparse gradient for ``sparse`` over ``ember.addmm``'s dense one."""
    if isinstance(input, Tensor) and input.is_sparse:
        raise RuntimeError("addmm_sparse_dense: expected strided result tensor, got tensor with "
                           "layout Sparse")
    return _product(input, sparse, dense, beta, alpha,
                    SparseAddmmBackward0 if masked else AddmmBackward0)


def _refuse_dense_sparse(op):
    return NotImplementedError(f"{op}(): ember multiplies a tensor with layout ember.sparse_coo "
                               "only as the first operand (sparse @ dense)")


def mm(input, mat2):
    """Product of two matrices; a sparse ``input`` (2 sparse dims) times a dense ``mat2``
    gives a dense result."""
    if input.__class__ is SparseCooTensor:
        return sparse_mm(input, mat2)
    if mat2.__class__ is SparseCooTensor:
        raise _refuse_dense_sparse("mm")
    return linalg.mm(input, mat2)


def matmul(input, other):
    """Matrix product with torch's broadcasting rules; a sparse ``input`` (2 sparse dims)
    times a dense matrix or vector gives a dense result."""
    if input.__class__ is SparseCooTensor:
        return sparse_matmul(input, other)
    if other.__class__ is SparseCooTensor:
        raise _refuse_dense_sparse("matmul")
    return linalg.matmul(input, other)


@taking_deprecated_forms
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)``; ``mat1`` may be a sparse matrix. Also
    takes PyTorch 1.0's deprecated form with the scale factors first and positional."""
    if mat1.__class__ is SparseCooTensor:
        return sparse_addmm(input, mat1, mat2, beta, alpha, False)
    return matrix.addmm(input, mat1, mat2, beta=beta, alpha=alpha)


# ---------------------------------------------------------------- sums
class _SumBackward(Node):
    """Gradient of a sum of a sparse tensor: at each of the input's (coalesced)
    coordinates, the output gradient at the coordinates left after the sum, spread
    over the summed dense dims."""

    def __init__(self, source, kept_sparse, dense_axes):
        self.ix, self.dims, self.be = source._ix, source._dims, source._be
        self.dtype, self.kept_sparse, self.dense_axes = source.dtype, kept_sparse, dense_axes

    def backward(self, g):
        no_double_backward()
        xp = self.be.xp
        sparse_dim = self.ix.shape[0]
        ix = pattern(self.ix, self.dims[:sparse_dim], xp)
        if self.kept_sparse:
            vals = values_at(g, ix[list(self.kept_sparse)])
        else:
            vals = xp.broadcast_to(g._data, (ix.shape[1],) + g._data.shape)
        vals = xp.expand_dims(vals, tuple(1 + a for a in self.dense_axes))
        vals = xp.broadcast_to(vals, (ix.shape[1],) + self.dims[sparse_dim:])
        vals = xp.array(vals, dtype=self.dtype.np)
        # torch flags the gradient of a full sum coalesced, that of a sum over dims not
        return (_make(ix, vals, self.dims, self.be, isinstance(self, SumBackward0)),)


SumBackward0 = named(_SumBackward, "SumBackward0")
SumBackward1 = named(_SumBackward, "SumBackward1")
SparseSumBackward0 = named(_SumBackward, "SparseSumBackward0")


def _sum_dims(s, dim):
    n = s.dim()
    dims = [dim] if isinstance(dim, int) else list(dim)
    wrapped = [s._wrap_dim(d) for d in dims]
    for d in wrapped:
        if wrapped.count(d) > 1:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return sorted(wrapped) if dims else list(range(n))


def sparse_sum(s, dim, dtype, node_cls):
    """The sum of ``s`` over ``dim`` (all dims when None): a dense tensor when every sparse
    dim is summed, else a coalesced sparse tensor."""
    if dtype is None and s.dtype.category != _dtype._FLOAT:
        dtype = _dtype.int64  # integers sum as int64, as torch does
    source = s if dtype is None else s.to(dtype)
    sparse_dim = s.sparse_dim()
    dims = list(range(s.dim())) if dim is None else _sum_dims(s, dim)
    kept = tuple(d for d in range(sparse_dim) if d not in dims)
    dense_axes = tuple(d - sparse_dim for d in dims if d >= sparse_dim)
    xp = s._be.xp
    vals = source._vals.sum(axis=tuple(1 + a for a in dense_axes)) if dense_axes else source._vals
    if not kept:
        out = Tensor._make(xp.asarray(vals.sum(axis=0)), s._be)
    else:
        dims_left = tuple(s._dims[d] for d in kept) + tuple(
            size for a, size in enumerate(s._dims[sparse_dim:]) if a not in dense_axes)
        out = _make(s._ix[list(kept)], vals, dims_left, s._be, False).coalesce()
    if recording(s):
        return record(node_cls(s, kept, dense_axes), out, (s,))
    return out


# ---------------------------------------------------------------- transpose
class TransposeBackward0(Node):
    """Gradient of a transpose of two sparse dims: the gradient (dense or sparse)
    transposed back."""

    def __init__(self, dim0, dim1):
        self.dims = dim0, dim1

    def backward(self, g):
        no_double_backward()
        if g.is_sparse:
            return (_swapped(g, *self.dims),)
        return (Tensor._make(g._data.swapaxes(*self.dims), g._be),)


TBackward0 = named(TransposeBackward0, "TBackward0")


def _swapped(s, dim0, dim1):
    """``s`` with its sparse dims ``dim0`` and ``dim1`` swapped, not recorded; torch
    flags the result uncoalesced when it moved the coordinates."""
    if dim0 == dim1:
        return _make(s._ix, s._vals, s._dims, s._be, s._coal)
    dims, order = list(s._dims), list(range(s.sparse_dim()))
    dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
    order[dim0], order[dim1] = dim1, dim0
    return _make(s._ix[order], s._vals, dims, s._be, False)


def sparse_transpose(s, dim0, dim1, node_cls=TransposeBackward0):
    """``s`` with dims ``dim0`` and ``dim1`` swapped, recorded for autograd."""
    dim0, dim1 = s._wrap_dim(dim0), s._wrap_dim(dim1)
    if max(dim0, dim1) >= s.sparse_dim():
        raise RuntimeError(f"sparse transpose: transposed dimensions must be sparse Got sparse_dim: "
                           f"{s.sparse_dim()}, d0: {dim0}, d1: {dim1}")
    out = _swapped(s, dim0, dim1)
    if recording(s):
        return record(node_cls(dim0, dim1), out, (s,))
    return out


def sparse_t(s):
    """The transpose of a sparse tensor of at most 2 dims."""
    if s.sparse_dim() > 2 or s.dense_dim():
        raise RuntimeError(f"t() expects a tensor with <= 2 sparse and 0 dense dimensions, but got "
                           f"{s.sparse_dim()} sparse and {s.dense_dim()} dense dimensions")
    return sparse_transpose(s, 0, -1, TBackward0)


# ---------------------------------------------------------------- dense -> sparse
class ToSparseBackward0(Node):
    """Gradient of ``to_sparse``: the gradient in dense form."""

    def backward(self, g):
        return (g.to_dense(),)


ToSparseBackward1 = named(ToSparseBackward0, "ToSparseBackward1")  # to_sparse() without dims


def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
    """This tensor as a coalesced sparse COO tensor holding its nonzero entries; with
    ``sparse_dim``, the first ``sparse_dim`` dims are addressed by coordinates and each
    stored value is the slice of the remaining dims (stored where it is not all zero)."""
    from ._layout import sparse_coo

    if layout not in (None, sparse_coo) or blocksize is not None or dense_dim is not None:
        raise NotImplementedError("to_sparse(): ember converts only to layout ember.sparse_coo "
                                  "(no blocksize or dense_dim)")
    n = self.dim()
    node_cls = ToSparseBackward1 if sparse_dim is None else ToSparseBackward0
    sparse_dim = n if sparse_dim is None else sparse_dim
    if not 0 <= sparse_dim <= n:
        raise RuntimeError(f"dense_to_sparse: sparse_dim argument must be in [0,{n}] range, but "
                           f"{sparse_dim} is given")
    if sparse_dim == 0:
        raise NotImplementedError("to_sparse(): ember's sparse tensors need at least one sparse "
                                  "dimension")
    xp = self._be.xp
    data = self._data
    nonzero = data != 0
    if sparse_dim < n:
        nonzero = nonzero.any(axis=tuple(range(sparse_dim, n)))
    ix = xp.stack(xp.nonzero(nonzero)).astype(xp.int64, copy=False)
    out = _make(ix.reshape(sparse_dim, -1), data[tuple(ix)], data.shape, self._be, True)
    if recording(self):
        return record(node_cls(), out, (self,))
    return out
