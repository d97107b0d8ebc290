"""Softmax and log-softmax of a sparse COO tensor along one dim: over the stored entries
only (an unspecified entry counts as minus infinity), giving a coalesced sparse tensor
with the input's coordinates, and their gradients to the input's values."""

from . import _dtype
from ._sparse import _make
from ._sparse_grad import named, no_double_backward, recording, record, values_at
from .autograd.graph import Node


def _groups(s, dim):
    """For coalesced ``s`` and its ``dim``: ``(group, count, axis)``. Softmax along a
    sparse dim runs over the entries that agree on every other sparse coordinate:
    ``group[k]`` numbers entry ``k``'s set, ``count`` is how many sets there are. Along a
    dense dim it runs along ``axis`` of the values, each entry alone (``group`` None)."""
    sparse_dim = s.sparse_dim()
    if dim >= sparse_dim:
        return None, 0, 1 + dim - sparse_dim
    xp = s._be.xp
    others = [d for d in range(sparse_dim) if d != dim]
    if not others or s._ix.shape[1] == 0:
        return xp.zeros(s._ix.shape[1], dtype=xp.int64), 1, None
    keys = xp.ravel_multi_index(tuple(s._ix[others]), tuple(s._dims[d] for d in others))
    _, group = xp.unique(keys, return_inverse=True)
    return group, int(group.max()) + 1, None


def _group_reduce(xp, ufunc, vals, group, count, initial):
    out = xp.full((count,) + vals.shape[1:], initial, dtype=vals.dtype)
    ufunc.at(out, group, vals)
    return out


def _shifted(xp, vals, group, count, axis):
    """``vals`` minus the largest of each set, and the sets' sums of exponentials
    (each taken back to the entries)."""
    if group is None:
        shifted = vals - vals.max(axis=axis, keepdims=True)
        return shifted, xp.exp(shifted).sum(axis=axis, keepdims=True)
    shifted = vals - _group_reduce(xp, xp.maximum, vals, group, count, -xp.inf)[group]
    return shifted, _group_reduce(xp, xp.add, xp.exp(shifted), group, count, 0)[group]


def _group_sum(xp, vals, group, count, axis):
    if group is None:
        return vals.sum(axis=axis, keepdims=True)
    return _group_reduce(xp, xp.add, vals, group, count, 0)[group]


class _SoftmaxBackward(Node):
    """Gradient of a sparse softmax or log-softmax: values at the input's coordinates."""

    def __init__(self, out, sets, log):
        self.out, self.sets, self.log = out, sets, log

    def backward(self, g):
        no_double_backward()
        out = self.out
        xp = out._be.xp
        grad = values_at(g, out._ix).astype(out._vals.dtype, copy=False)
        if self.log:
            vals = grad - xp.exp(out._vals) * _group_sum(xp, grad, *self.sets)
        else:
            vals = out._vals * (grad - _group_sum(xp, grad * out._vals, *self.sets))
        # sorted and unique, but flagged uncoalesced as torch flags it
        return (_make(out._ix, vals, out._dims, out._be, False),)


SparseSoftmaxBackward0 = named(_SoftmaxBackward, "SparseSoftmaxBackward0")
SparseLogSoftmaxBackward0 = named(_SoftmaxBackward, "SparseLogSoftmaxBackward0")


def sparse_softmax(input, dim, dtype, log):
    """``softmax`` (``log_softmax`` with ``log``) of the sparse ``input`` along ``dim``,
    computed in ``dtype`` when given."""
    source = input if dtype is None else input.to(dtype)
    if source.dtype.category != _dtype._FLOAT:
        raise RuntimeError(f"{'log_' if log else ''}softmax: expected a floating-point sparse "
                           f"tensor, but got {source.dtype}")
    s = source.coalesce()
    sets = _groups(s, input._wrap_dim(dim))
    xp = s._be.xp
    shifted, sums = _shifted(xp, s._vals, *sets)
    vals = shifted - xp.log(sums) if log else xp.exp(shifted) / sums
    out = _make(s._ix, vals, s._dims, s._be, True)
    if recording(source):
        node_cls = SparseLogSoftmaxBackward0 if log else SparseSoftmaxBackward0
        return record(node_cls(out, sets, log), out, (source,))
    return out
