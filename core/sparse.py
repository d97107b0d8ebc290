"""``ember.sparse``: functions on sparse COO tensors and the legacy sparse constructors
(``ember.sparse.FloatTensor(indices, values, size)``).

Not to be confused with the ``sparse`` layer family (``ember.plugins.sparse``:
``nn.Embedding`` and ``nn.EmbeddingBag``), which only produces sparse gradients.
"""

from . import _dtype
from ._legacy_types import _LegacyType
from ._size import Size
from ._sparse import _make, sparse_coo_tensor
from ._sparse_ops import SparseSumBackward0, SumBackward0, masked_mm, sparse_addmm, sparse_sum
from ._sparse_softmax import sparse_softmax
from ._tensor import Tensor

__all__ = ["mm", "addmm", "sum", "softmax", "log_softmax", "FloatTensor", "DoubleTensor", "HalfTensor", "ByteTensor",
           "CharTensor", "ShortTensor", "IntTensor", "LongTensor", "BoolTensor"]


def mm(mat1, mat2, reduce=None):
    """``mat1 @ mat2`` for a sparse COO matrix ``mat1`` (2 sparse dims) and a dense
    ``mat2``: a dense result. Unlike ``ember.mm``, the gradient for ``mat1`` is sparse,
    with values only at ``mat1``'s (coalesced) coordinates.

    Examples:
        >>> a = ember.sparse_coo_tensor([[0, 1], [1, 0]], [2.0, 3.0], (2, 2))
        >>> ember.sparse.mm(a, ember.ones(2, 1))
        tensor([[2.],
                [3.]])
    """
    if reduce is not None:
        raise NotImplementedError("sparse.mm(): ember supports no reduce argument")
    if not isinstance(mat1, Tensor) or not mat1.is_sparse:
        raise TypeError("sparse.mm(): mat1 must be a tensor with layout ember.sparse_coo")
    return masked_mm(mat1, mat2)


def addmm(mat, mat1, mat2, *, beta=1.0, alpha=1.0):
    """``beta * mat + alpha * (mat1 @ mat2)`` for a sparse COO matrix ``mat1`` and dense
    ``mat`` (broadcast to the product's shape) and ``mat2``; ``mat1``'s gradient is sparse,
    as in :func:`mm`."""
    if not isinstance(mat1, Tensor) or not mat1.is_sparse:
        raise TypeError("sparse.addmm(): mat1 must be a tensor with layout ember.sparse_coo")
    return sparse_addmm(mat, mat1, mat2, beta, alpha, True)


def sum(input, dim=None, dtype=None):
    """The sum of the sparse tensor ``input`` over ``dim`` (a dim or a sequence of dims;
    all of them when None), in ``dtype`` when given (integers sum as int64).

    Returns a dense tensor when every sparse dim is summed, else a coalesced sparse one.

    Examples:
        >>> a = ember.sparse_coo_tensor([[0, 1, 1], [2, 0, 2]], [1.0, 2.0, 3.0], (2, 3))
        >>> ember.sparse.sum(a)
        tensor(6.)
        >>> ember.sparse.sum(a, 1).to_dense()
        tensor([1., 5.])
    """
    return sparse_sum(input, dim, dtype, SumBackward0 if dim is None else SparseSumBackward0)


class _SparseType(_LegacyType):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.is_sparse and obj.dtype == cls.dtype

    def __repr__(cls):
        return f"<class 'ember.sparse.{cls.__name__}'>"


def softmax(input, dim, *, dtype=None):
    """Softmax of the sparse tensor ``input`` along ``dim`` over its stored entries only
    (an unspecified entry counts as minus infinity, so it stays unspecified): a
    coalesced sparse tensor with ``input``'s coordinates, computed in ``dtype`` when given.

    Examples:
        >>> a = ember.sparse_coo_tensor([[0, 0, 1], [0, 2, 1]], [1.0, 1.0, 5.0], (2, 3))
        >>> ember.sparse.softmax(a, 1).to_dense()
        tensor([[0.5000, 0.0000, 0.5000],
                [0.0000, 1.0000, 0.0000]])
    """
    return sparse_softmax(input, dim, dtype, log=False)


def log_softmax(input, dim, *, dtype=None):
    """Logarithm of :func:`softmax` of the sparse ``input`` along ``dim`` (over its
    stored entries only), a coalesced sparse tensor with ``input``'s coordinates."""
    return sparse_softmax(input, dim, dtype, log=True)


def _new(cls, *args, device=None):
    """``(indices, values[, size])`` -> that sparse tensor (the values keep their dtype, as
    in torch); integer sizes or a Size -> an all-zero sparse tensor with no stored entry;
    nothing -> a 1-d one of size 0."""
    if device is not None and str(device) != "cpu":
        raise RuntimeError(f"legacy constructor expects device type: cpu but device type: "
                           f"{device} was passed")
    if len(args) in (2, 3) and all(isinstance(a, Tensor) for a in args[:2]):
        return sparse_coo_tensor(*args)
    if len(args) == 1 and isinstance(args[0], Size):
        args = tuple(args[0])
    if not all(isinstance(a, int) and not isinstance(a, bool) for a in args):
        names = ", ".join(type(a).__name__ for a in args)
        raise TypeError(f"new(): invalid arguments ({names}) for sparse.{cls.__name__}: give "
                        f"indices and values tensors (and a size), or integer sizes")
    from .backend import REGISTRY

    be = REGISTRY.get("cpu")
    dims = args or (0,)
    xp = be.xp
    return _make(xp.zeros((len(dims), 0), dtype=xp.int64), xp.zeros(0, dtype=cls.dtype.np), dims,
                 be, True)


def _legacy(name, dtype):
    return _SparseType(name, (), {
        "__new__": _new, "dtype": dtype, "__module__": "ember.sparse",
        "__doc__": f"Legacy constructor of sparse COO {dtype} CPU tensors "
                   f"(``torch.sparse.{name}``); ``isinstance`` checks layout and dtype."})


FloatTensor = _legacy("FloatTensor", _dtype.float32)
DoubleTensor = _legacy("DoubleTensor", _dtype.float64)
HalfTensor = _legacy("HalfTensor", _dtype.float16)
ByteTensor = _legacy("ByteTensor", _dtype.uint8)
CharTensor = _legacy("CharTensor", _dtype.int8)
ShortTensor = _legacy("ShortTensor", _dtype.int16)
IntTensor = _legacy("IntTensor", _dtype.int32)
LongTensor = _legacy("LongTensor", _dtype.int64)
BoolTensor = _legacy("BoolTensor", _dtype.bool)
