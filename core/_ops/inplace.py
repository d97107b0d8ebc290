"""In-place ops (``add_``, ``mul_``, ``exp_``, ...) built from their out-of-place forms.

The result is written into the tensor's own memory (so views and NumPy arrays that
share it see the change), the version counter moves on, and when gradients are
recorded the tensor's history is rebased onto the op's node.
"""

from sys import getrefcount as _refcount

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ..autograd.grad_mode import MODE
from ..autograd.graph import Node, edge_of
from .overlap import address, has_internal_overlap, refuse_internal_overlap


def view_base(x):
    """The tensor whose memory ``x`` views (None when x is not a view)."""
    extra = x._extra
    return None if extra is None else extra.get("base")


def check_inplace(x):
    """Refuse in-place changes that would corrupt gradients, as torch does."""
    if x.grad_fn is None and x._rg:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation."
        )
    base = view_base(x)
    if base is not None and base.grad_fn is None and base._rg:
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place operation."
        )


class CopySlices(Node):
    """History of a base tensor after an in-place change through one of its views:
    the viewed elements come from the change, the others from the old base."""

    def backward(self, g):
        labels = Tensor._make(self.labels, g._be)
        from .index import getitem

        flat = g.reshape(-1)
        keep = g._be.xp.ones(g._data.size, dtype=g._data.dtype)
        keep[self.labels.reshape(-1)] = 0
        old = g * Tensor._make(keep.reshape(g._data.shape), g._be)
        return old, getitem(flat, labels)


def _labels_in_base(base, view, xp):
    """For each element of ``view``, its row-major position in ``base`` (same memory)."""
    item = base.itemsize
    lo = sum(min(0, (n - 1) * s) for n, s in zip(base.shape, base.strides) if n)
    hi = sum(max(0, (n - 1) * s) for n, s in zip(base.shape, base.strides) if n)
    buf = xp.full((hi - lo) // item + 1, -1, dtype=np.int64)
    as_strided = xp.lib.stride_tricks.as_strided

    def laid_out(start, shape, strides):
        return as_strided(buf[start // item:], shape=shape, strides=[s // item * 8 for s in strides])

    laid_out(-lo, base.shape, base.strides)[...] = xp.arange(base.size).reshape(base.shape)
    offset = address(view) - address(base)
    return laid_out(offset - lo, view.shape, view.strides).copy()


def set_history(x, result):
    """Make ``result``'s node the history of ``x``; when x is a view, the base's history
    is rewritten too (its viewed elements now come from ``result``)."""
    base = view_base(x)
    if base is None:
        x.grad_fn, x._out_idx, x._rg = result.grad_fn, result._out_idx, True
        return
    from .index import getitem

    labels = _labels_in_base(base._data, x._data, x._be.xp)
    node = CopySlices()
    node.labels = labels
    node.next_edges = (edge_of(base), edge_of(result))
    base.grad_fn, base._out_idx, base._rg = node, 0, True
    replay = getitem(base.reshape(-1), Tensor._make(labels, x._be))
    x.grad_fn, x._out_idx, x._rg = replay.grad_fn, replay._out_idx, True


def _stand_in(x):
    """A stand-in for x's value before the change: same history and (for now) same data."""
    old = Tensor._make(x._data, x._be)
    old._rg = x._rg
    old.grad_fn = x.grad_fn
    if x.grad_fn is not None:
        old._out_idx = x._out_idx
    return old


def write_result(x, result):
    """Store ``result`` into x's memory, checking dtype and shape as torch does."""
    if not _dtype.can_cast(result.dtype, x.dtype):
        raise RuntimeError(
            f"result type {result.dtype.scalar_name} can't be cast to the desired output "
            f"type {x.dtype.scalar_name}"
        )
    if result._data.shape != x._data.shape:
        raise RuntimeError(
            f"output with shape {list(x.shape)} doesn't match the broadcast shape {list(result.shape)}"
        )
    refuse_internal_overlap(x._data)
    if result._data is not x._data:
        x._data[...] = result._data


def apply_inplace(x, fn, *args, **kwargs):
    """Run ``fn(x, *args)`` and make its result the new value of ``x``."""
    if not isinstance(x, Tensor):
        raise TypeError(f"in-place ops need a Tensor, got {type(x).__name__}")
    recording = MODE.enabled and (x._rg or any(isinstance(a, Tensor) and a._rg for a in args))
    if recording:
        check_inplace(x)
        old = _stand_in(x)
        result = fn(old, *args, **kwargs)
        if _refcount(old) > 2:
            # The op kept the old value for its backward (exp_ and add_ don't, mul_(y)
            # and sin_ do): give it its own copy before x's memory is overwritten.
            old._data = old._be.xp.array(old._data, copy=True)
    else:
        result = fn(x, *args, **kwargs)
    write_result(x, result)
    if recording and result._rg:
        set_history(x, result)
    x._bump_version()
    return x


def arithmetic_into(x, kernel_name, other, alpha=1):
    """``x (op)= alpha * other`` computed straight into x's memory; True when done.

    The common optimizer case (nothing recorded, same dtype, ``other`` broadcasting
    to x's shape) needs no temporary result and no copy. Anything else returns False
    and takes the general path of ``apply_inplace``.
    """
    is_tensor = isinstance(other, Tensor)    # Parameters included
    if MODE.enabled and (x._rg or (is_tensor and other._rg)):
        return False
    data = x._data
    kind = data.dtype.kind
    if kind == "b" or (kernel_name == "true_divide" and kind != "f"):
        return False
    if is_tensor and not other.is_sparse:
        operand = other._data
        if other._be is not x._be or operand.dtype != data.dtype or operand.ndim > data.ndim:
            return False
        if any(o != 1 and o != d for o, d in zip(operand.shape[::-1], data.shape[::-1])):
            return False
    elif isinstance(other, (int, float)) and (kind == "f" or isinstance(other, int)):
        operand = other
    elif is_tensor and kernel_name in ("add", "subtract"):  # sparse
        other._add_into(x, alpha if kernel_name == "add" else -alpha)  # adds the stored entries
        return True
    else:
        return False
    if has_internal_overlap(data):  # the general path refuses it
        return False
    kernel = x._be.kernels[kernel_name]
    if getattr(kernel, "nin", None) != 2:  # only array ufuncs take ``out=``
        return False
    if alpha != 1:
        if not isinstance(alpha, (int, float)) or (kind != "f" and not isinstance(alpha, int)):
            return False
        operand = x._be.kernels["multiply"](operand, alpha)
        if getattr(operand, "dtype", data.dtype) != data.dtype:
            return False
    kernel(data, operand, out=data)
    x._bump_version()
    return True
