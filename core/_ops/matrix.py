"""Matrix construction and products: triangles (``tril``/``triu``), diagonals (``diag``,
``diagonal``, ``diag_embed``, ``trace``), ``mv``/``ger``, ``einsum`` and the ``add*`` family
(``beta * input + alpha * product``), with their in-place variants."""

from .. import _dtype
from .._tensor import Tensor
from ..autograd.graph import Node
from .common import _make, broadcast_error, cast, check_tensor, needs_grad, normalize_dim, python_scalar, record
from .einsum import einsum
from .inplace import apply_inplace, check_inplace
from .linalg import MvBackward0, _matmul, bmm, mm, outer
from .overlap import refuse_overlapping_operands
from .overloads import modern, taking_deprecated_forms
from .shape import _view_of


# ----------------------------------------------------------------- triangles
class TrilBackward0(Node):
    def backward(self, g):
        return (tril(g, self.diagonal),)


class TriuBackward0(Node):
    def backward(self, g):
        return (triu(g, self.diagonal),)


def _triangle(name, input, diagonal, node_cls):
    check_tensor(input)
    if input._data.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    if not isinstance(diagonal, int) or isinstance(diagonal, bool):
        raise TypeError(f"{name}(): argument 'diagonal' must be int, not {type(diagonal).__name__}")
    be = input._be
    data = getattr(be.xp, name)(input._data, diagonal)
    if needs_grad(input):
        node = node_cls()
        node.diagonal = diagonal
        return record(node, data, be, (input,))
    return _make(data, be)


def tril(input, diagonal=0):
    """The lower triangle of the last two dims: elements on and below the ``diagonal``-th
    diagonal (0 the main one, positive above it, negative below), zeros elsewhere."""
    return _triangle("tril", input, diagonal, TrilBackward0)


def triu(input, diagonal=0):
    """The upper triangle of the last two dims: elements on and above the ``diagonal``-th
    diagonal, zeros elsewhere."""
    return _triangle("triu", input, diagonal, TriuBackward0)


# ----------------------------------------------------------------- diagonals
def _diagonal_view(data, offset, d1, d2, xp):
    """A writable view of the ``offset`` diagonal of dims ``d1``, ``d2`` of an array, laid
    out as torch's: those dims removed and the diagonal appended as the last one."""
    shape, strides = data.shape, data.strides
    if offset >= 0:
        length, dim, start = min(shape[d1], shape[d2] - offset), d2, offset
    else:
        length, dim, start = min(shape[d1] + offset, shape[d2]), d1, -offset
    length = max(length, 0)
    if length:
        index = [slice(None)] * data.ndim
        index[dim] = slice(start, None)
        data = data[tuple(index)]
    keep = [i for i in range(len(shape)) if i != d1 and i != d2]
    return xp.lib.stride_tricks.as_strided(
        data, [shape[i] for i in keep] + [length], [strides[i] for i in keep] + [strides[d1] + strides[d2]])


def _diagonal_dims(offset, dim1, dim2, ndim):
    if not isinstance(offset, int) or isinstance(offset, bool):
        raise TypeError(f"offset must be an int, got {type(offset).__name__}")
    d1, d2 = normalize_dim(dim1, ndim), normalize_dim(dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


class DiagonalBackward0(Node):
    def backward(self, g):
        return (_embed_diagonal(g, self.shape, self.offset, self.dims, DiagonalBackwardBackward0),)


class _DiagonalOf(Node):
    """Gradient of an op that writes its input onto a diagonal: the diagonal of ``g``."""

    def backward(self, g):
        return (diagonal(g, self.offset, *self.dims),)


class DiagonalBackwardBackward0(_DiagonalOf):
    pass


class DiagEmbedBackward0(_DiagonalOf):
    pass


def _embed_diagonal(src, shape, offset, dims, node_cls):
    """Zeros of ``shape`` with ``src`` on the ``offset`` diagonal of ``dims``."""
    be = src._be
    data = be.xp.zeros(shape, dtype=src._data.dtype)
    _diagonal_view(data, offset, dims[0], dims[1], be.xp)[...] = src._data
    if needs_grad(src):
        node = node_cls()
        node.offset, node.dims = offset, dims
        return record(node, data, be, (src,))
    return _make(data, be)


def _diagonal_node(input, offset, dims):
    if not needs_grad(input):
        return None
    node = DiagonalBackward0()
    node.shape, node.offset, node.dims = input._data.shape, offset, dims
    return node


def diagonal(input, offset=0, dim1=0, dim2=1):
    """A view of the ``offset`` diagonal of dims ``dim1`` and ``dim2`` (0 the main diagonal,
    positive above it); those dims are removed and the diagonal becomes the last dim.
    Writing into the view writes into ``input``."""
    check_tensor(input)
    dims = _diagonal_dims(offset, dim1, dim2, input._data.ndim)
    data = _diagonal_view(input._data, offset, dims[0], dims[1], input._be.xp)
    return _view_of(input, data, _diagonal_node(input, offset, dims))


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """A tensor with one more dim whose ``offset`` diagonal over ``dim1``, ``dim2`` holds the
    last dim of ``input`` (zeros elsewhere): batches of vectors become diagonal matrices."""
    check_tensor(input)
    shape = input._data.shape
    dims = _diagonal_dims(offset, dim1, dim2, len(shape) + 1)
    out_shape = list(shape[:-1])
    for d in sorted(dims):
        out_shape.insert(d, shape[-1] + abs(offset))
    return _embed_diagonal(input, tuple(out_shape), offset, dims, DiagEmbedBackward0)


def diag(input, diagonal=0):
    """A 1-D tensor as a square matrix with it on the ``diagonal``-th diagonal, or a copy
    of the ``diagonal``-th diagonal of a 2-D tensor."""
    check_tensor(input)
    ndim = input._data.ndim
    if ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if ndim != 2:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {ndim}D")
    if not isinstance(diagonal, int) or isinstance(diagonal, bool):
        raise TypeError(f"diag(): argument 'diagonal' must be int, not {type(diagonal).__name__}")
    be = input._be
    data = _diagonal_view(input._data, diagonal, 0, 1, be.xp).copy()
    node = _diagonal_node(input, diagonal, (0, 1))
    return _make(data, be) if node is None else record(node, data, be, (input,))


class TraceBackward0(Node):
    def backward(self, g):
        n = min(self.shape)
        return (_embed_diagonal(g.expand(n), self.shape, 0, (0, 1), DiagEmbedBackward0),)


def trace(input):
    """Sum of the main diagonal of a 2-D tensor (integers sum to int64)."""
    check_tensor(input)
    x = input._data
    if x.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {x.ndim}")
    if x.dtype.kind == "b":
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    be = input._be
    data = be.xp.trace(x, dtype="int64" if x.dtype.kind in "iu" else None)
    if needs_grad(input):
        node = TraceBackward0()
        node.shape = x.shape
        return record(node, data, be, (input,))
    return _make(data, be)


# ----------------------------------------------------------------- products
def _require_ndim(name, t, ndim, what):
    check_tensor(t, name)
    if t._data.ndim != ndim:
        raise RuntimeError(f"{name} must be a {what}, got {t._data.ndim}-D tensor")


def mv(input, vec):
    """Product of a matrix (n, m) and a vector (m,)."""
    check_tensor(input)
    check_tensor(vec, "vec")
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(
            f"vector + matrix @ vector expected, got 1, {input._data.ndim}, {vec._data.ndim}")
    _same_dtypes("mv", input, vec)
    return _matmul(input, vec, MvBackward0)


def ger(input, vec2):
    """Outer product of two 1-D tensors (the old name of ``outer``)."""
    return outer(input, vec2)


def _same_dtypes(name, *tensors):
    names = [t.dtype.scalar_name for t in tensors]
    if len(set(names)) > 1:
        raise RuntimeError(f"{name}: expected all tensors to have the same dtype, but got "
                           + ", ".join(names))


def _scaled_sum(name, input, product, beta, alpha):
    """``beta * input + alpha * product``, ``input`` broadcast to the product's shape; as in
    torch, ``beta == 0`` ignores the values of ``input`` (NaNs included) and the numbers are
    converted to the tensors' dtype."""
    check_tensor(input)
    _same_dtypes(name, input, product)
    expanded = input.expand(product._data.shape)
    dt = product.dtype
    alpha, beta = python_scalar(alpha, dt), python_scalar(beta, dt)
    out = product if alpha == 1 else product * alpha
    if beta == 0:
        return out
    return out + (expanded if beta == 1 else expanded * beta)


def _check_scale(alpha, beta, dt):
    if dt.category == 1 and (isinstance(alpha, float) or isinstance(beta, float)):
        which = "alpha" if isinstance(alpha, float) else "beta"
        raise RuntimeError(f"For integral input tensors, argument {which} must not be a floating point number.")


@taking_deprecated_forms
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)`` for 2-D ``mat1``, ``mat2``; ``input``
    broadcasts to the product's shape."""
    _require_ndim("mat1", mat1, 2, "matrix")
    _require_ndim("mat2", mat2, 2, "matrix")
    return _scaled_sum("addmm", input, mm(mat1, mat2), beta, alpha)


@taking_deprecated_forms
def addmv(input, mat, vec, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat @ vec)`` for a 2-D ``mat`` and 1-D ``vec``."""
    check_tensor(mat, "mat")
    check_tensor(vec, "vec")
    check_tensor(input)
    if mat._data.ndim != 2 or vec._data.ndim != 1 or input._data.ndim > 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input._data.ndim}, "
                           f"{mat._data.ndim}, {vec._data.ndim}")
    n, m = mat._data.shape
    if vec._data.shape[0] != m or input._data.shape not in ((), (1,), (n,)):
        raise RuntimeError(f"size mismatch, got input ({input._data.shape[0] if input._data.ndim else 1}), "
                           f"mat ({n}x{m}), vec ({vec._data.shape[0]})")
    _same_dtypes("addmv", input, mat, vec)
    return _scaled_sum("addmv", input, _matmul(mat, vec, MvBackward0), beta, alpha)


@taking_deprecated_forms
def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """``beta * input + alpha * outer(vec1, vec2)``."""
    for name, v in (("vec1", vec1), ("vec2", vec2)):
        check_tensor(v, name)
        if v._data.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {v._data.ndim}-D")
    check_tensor(input)
    _check_scale(alpha, beta, input.dtype)
    return _scaled_sum("addr", input, outer(vec1, vec2), beta, alpha)


def _check_batches(batch1, batch2):
    _require_ndim("batch1", batch1, 3, "3D tensor")
    _require_ndim("batch2", batch2, 3, "3D tensor")
    (b, n, k), (b2, k2, p) = batch1._data.shape, batch2._data.shape
    if b != b2:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got {b} and {b2}")
    if k != k2:
        raise RuntimeError(f"Incompatible matrix sizes for bmm ({n}x{k} and {k2}x{p})")


@taking_deprecated_forms
def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * sum_b(batch1[b] @ batch2[b])``: the batched products are
    summed into one matrix."""
    _check_batches(batch1, batch2)
    return _scaled_sum("addbmm", input, bmm(batch1, batch2).sum(0), beta, alpha)


@taking_deprecated_forms
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * bmm(batch1, batch2)``, ``input`` broadcast to the batch."""
    _check_batches(batch1, batch2)
    return _scaled_sum("baddbmm", input, bmm(batch1, batch2), beta, alpha)


# ----------------------------------------------------------------- addcmul / addcdiv
def _pointwise_operands(input, tensor1, tensor2):
    for name, t in (("input", input), ("tensor1", tensor1), ("tensor2", tensor2)):
        check_tensor(t, name)
    err = broadcast_error(input._data.shape, tensor1._data.shape, tensor2._data.shape)
    if err is not None:
        raise err
    dt = _dtype.result_type(input, tensor1, tensor2)
    return cast(input, dt), cast(tensor1, dt), cast(tensor2, dt), dt


@taking_deprecated_forms
def addcmul(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 * tensor2``, broadcast together."""
    input, tensor1, tensor2, dt = _pointwise_operands(input, tensor1, tensor2)
    value = python_scalar(value, dt)
    product = tensor1 * tensor2
    return input + (product if value == 1 else product * value)


@taking_deprecated_forms
def addcdiv(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 / tensor2``, broadcast together; two integer tensors are
    refused (torch dropped their old truncating division)."""
    check_tensor(tensor1, "tensor1")
    check_tensor(tensor2, "tensor2")
    if tensor1.dtype.category < 2 and tensor2.dtype.category < 2:
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future release addcdiv "
            "will perform a true division of tensor1 and tensor2. Compute "
            "(input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for the old behaviour "
            "or (input + value * tensor1 / tensor2) for the new one.")
    input, tensor1, tensor2, dt = _pointwise_operands(input, tensor1, tensor2)
    value = python_scalar(value, dt)
    quotient = tensor1 / tensor2
    return input + (quotient if value == 1 else quotient * value)


@taking_deprecated_forms
def addbmm_(self, batch1, batch2, *, beta=1, alpha=1):
    """In-place ``addbmm``. As torch's, a tensor of another shape that broadcasts to the
    product takes the product's shape, in new memory (no longer a view of anything)."""
    check_tensor(self)
    _check_batches(batch1, batch2)
    if self._data.shape == (batch1._data.shape[1], batch2._data.shape[2]):
        return apply_inplace(self, addbmm, batch1, batch2, beta=beta, alpha=alpha)
    if needs_grad(self, batch1, batch2):
        check_inplace(self)
    result = addbmm(self, batch1, batch2, beta=beta, alpha=alpha)
    self._data = result._data
    if self._extra is not None:
        self._extra.pop("base", None)
    self._vc = None
    if result._rg:
        self.grad_fn, self._out_idx, self._rg = result.grad_fn, result._out_idx, True
    return self


def _in_place(fn):
    name = fn.__name__ + "_"

    def method(self, *args, **kwargs):
        if len(args) > 2:  # PyTorch 1.0's forms with the scale factors first
            (self, *args), kwargs = modern(name, (self, *args), kwargs)
        if fn in _ELEMENT_WISE and isinstance(self, Tensor):
            refuse_overlapping_operands(self, (*args, *kwargs.values()))
        return apply_inplace(self, fn, *args, **kwargs)

    method.__name__ = name
    method.__doc__ = f"In-place version of ``{fn.__name__}``."
    return method


_PUBLIC = (tril, triu, diag, diag_embed, diagonal, trace, mv, ger, addmm, addmv, addr, addbmm,
           baddbmm, addcmul, addcdiv)
_IN_PLACE = (tril, triu, addmm, addmv, addr, baddbmm, addcmul, addcdiv)
# whose operands torch checks against self (the products compute into new memory)
_ELEMENT_WISE = (addr, addcmul, addcdiv)

FUNCTIONS = {fn.__name__: fn for fn in _PUBLIC}
FUNCTIONS["einsum"] = einsum
METHODS = dict(FUNCTIONS, addbmm_=addbmm_, **{fn.__name__ + "_": _in_place(fn) for fn in _IN_PLACE})
del METHODS["einsum"]
