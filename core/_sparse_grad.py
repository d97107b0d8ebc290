"""Autograd for sparse COO tensors: the graph nodes of the sparse operations, the sink
that accumulates a sparse leaf's ``.grad``, and lookups of gradient values at stored
coordinates.

A gradient reaching a sparse tensor's node may be dense (``mm``, dense + sparse) or
sparse (``ember.sparse.mm``, ``to_dense``), as in torch; every node below takes both.
Backward through these nodes is not itself recorded: double backward through a sparse
tensor raises NotImplementedError rather than giving a wrong second derivative.
"""

from ._tensor import Tensor
from .autograd.grad_mode import MODE
from .autograd.graph import AccumulateGrad, Node, edge_of


def record(node, out, inputs):
    """``out`` (a fresh dense or sparse tensor) as the output of ``node`` on ``inputs``."""
    node.next_edges = tuple(edge_of(t) if isinstance(t, Tensor) else None for t in inputs)
    out._rg = True
    out.grad_fn = node
    out._out_idx = 0
    return out


def recording(*tensors):
    """True when an op on these tensors (None and numbers ignored) must be recorded."""
    return MODE.enabled and any(isinstance(t, Tensor) and t._rg for t in tensors)


def passed_on(node_cls, source, out):
    """``out``, recorded as ``node_cls`` passing its gradient back to ``source`` unchanged
    (but for the dtype) when ``source`` needs one."""
    if out is not source and recording(source):
        return record(node_cls((1,), (source.dtype,)), out, (source,))
    return out


def check_inplace(t, other):
    if recording(t, other):
        raise RuntimeError("in-place operations on tensors with layout ember.sparse_coo that "
                           "require grad are not supported by ember")


def factor(other):
    """A scalar operand as a number; a one-element tensor that requires grad is refused."""
    if isinstance(other, Tensor):
        if other._rg:
            raise NotImplementedError("ember computes no gradient for the tensor that scales a "
                                      "tensor with layout ember.sparse_coo; pass a number or a "
                                      "tensor that does not require grad")
        return other.item()
    return other


def pattern(ix, sparse_shape, xp):
    """The sorted unique coordinates among ``ix`` (the coordinates of its coalesced form)."""
    if ix.shape[1] == 0:
        return ix
    keys = xp.unique(xp.ravel_multi_index(tuple(ix), sparse_shape))
    return xp.stack(xp.unravel_index(keys, sparse_shape)).astype(xp.int64, copy=False)


def values_at(grad, ix):
    """The values of ``grad`` (dense, or sparse with ``ix.shape[0]`` sparse dims) at each
    coordinate column of ``ix``: an ``(nnz, *dense_shape)`` array."""
    if not grad.is_sparse:
        return grad._data[tuple(ix)]
    xp = grad._be.xp
    g = grad.coalesce()
    out = xp.zeros((ix.shape[1],) + g._vals.shape[1:], dtype=g._vals.dtype)
    if g._ix.shape[1] == 0 or ix.shape[1] == 0:
        return out
    shape = g._dims[:g._ix.shape[0]]
    stored = xp.ravel_multi_index(tuple(g._ix), shape)
    wanted = xp.ravel_multi_index(tuple(ix), shape)
    pos = xp.minimum(xp.searchsorted(stored, wanted), stored.shape[0] - 1)
    found = stored[pos] == wanted
    out[found] = g._vals[pos[found]]
    return out


def no_double_backward():
    if MODE.enabled:
        raise NotImplementedError("ember cannot differentiate twice through operations on "
                                  "tensors with layout ember.sparse_coo (create_graph=True)")


def _cast(grad, dtype):
    return grad if grad.dtype is dtype else grad.to(dtype)


def named(base, name):
    """A subclass of ``base`` named as torch names the node of that operation."""
    return type(name, (base,), {"__module__": __name__, "__qualname__": name})


class SparseCooTensorWithDimsAndTensorsBackward0(Node):
    """``sparse_coo_tensor(indices, values)``: each value gets the gradient at its
    coordinates (repeated coordinates each get the whole gradient there)."""

    def __init__(self, ix, dtype):
        self.ix, self.dtype = ix, dtype

    def backward(self, g):
        no_double_backward()
        return (_cast(Tensor._make(values_at(g, self.ix), g._be), self.dtype),)


class ValuesBackward0(Node):
    """``values()`` of a coalesced tensor: the gradient, placed back at its coordinates."""

    def __init__(self, source):
        self.ix, self.dims = source._ix, source._dims

    def backward(self, g):
        from ._sparse import _make

        no_double_backward()
        return (_make(self.ix, g._data, self.dims, g._be, True),)


class ToDenseBackward0(Node):
    """``to_dense()``: the gradient restricted to the input's coordinates (a sparse
    gradient), or unchanged with ``masked_grad=False``."""

    def __init__(self, source, masked):
        self.source, self.masked = source, masked

    def backward(self, g):
        from ._sparse import _make

        no_double_backward()
        s = self.source
        if not self.masked:
            return (_cast(g, s.dtype),)
        ix = pattern(s._ix, s._dims[:s._ix.shape[0]], s._be.xp)
        # torch leaves the flag unset although the coordinates are sorted and unique
        return (_make(ix, values_at(g, ix).astype(s._vals.dtype, copy=False), s._dims, s._be,
                      False),)


class _Scaled(Node):
    """The gradient times ``factor`` for each input (for ``+``, ``-``, scaling, copies)."""

    def __init__(self, factors, dtypes):
        self.factors, self.dtypes = factors, dtypes

    def apply(self, grads):
        no_double_backward()
        g = grads[0]
        return tuple(_cast(g if f == 1 else g * f, dt) for f, dt in zip(self.factors, self.dtypes))


AddBackward0 = named(_Scaled, "AddBackward0")
SubBackward0 = named(_Scaled, "SubBackward0")
MulBackward0 = named(_Scaled, "MulBackward0")
NegBackward0 = named(_Scaled, "NegBackward0")
CoalesceBackward0 = named(_Scaled, "CoalesceBackward0")
CloneBackward0 = named(_Scaled, "CloneBackward0")
ToCopyBackward0 = named(_Scaled, "ToCopyBackward0")


class DivBackward0(Node):
    """``sparse / number``: the gradient divided by the number."""

    def __init__(self, divisor, dtype):
        self.divisor, self.dtype = divisor, dtype

    def backward(self, g):
        no_double_backward()
        return (_cast(g / self.divisor, self.dtype),)


class SparseLeafSink(AccumulateGrad):
    """Accumulates the ``.grad`` of a sparse leaf: the first gradient is copied as it
    is, dense or sparse (the dense leaf's sink would look for the leaf's strides)."""

    def accumulate(self, grad, create_graph):
        tensor = self.tensor_ref()
        if tensor is not None and tensor._grad is None and not create_graph:
            tensor._grad = grad._owned_copy()
            return
        AccumulateGrad.accumulate(self, grad, create_graph)
