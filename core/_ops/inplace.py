"""In-place ops (``add_``, ``mul_``, ``exp_``, ...) built from their out-of-place forms.

The result is written into the tensor's own memory (so views and NumPy arrays that
share it see the change), the version counter moves on, and when gradients are
recorded the tensor's history is rebased onto the op's node.
"""

from sys import getrefcount as _refcount

from .. import _dtype
from .._tensor import Tensor
from ..autograd.grad_mode import MODE
from ..autograd.graph import AccumulateGrad


def check_inplace(x):
    """Refuse in-place changes that would corrupt gradients, as torch does."""
    if x.grad_fn is None and x._rg:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation."
        )
    if x._extra is not None and x._extra.get("view") and x._rg:
        edges = x.grad_fn.next_edges if x.grad_fn is not None else ()
        if edges and edges[0] is not None and isinstance(edges[0][0], AccumulateGrad):
            raise RuntimeError(
                "a view of a leaf Variable that requires grad is being used in an in-place "
                "operation."
            )
        raise RuntimeError(
            "in-place operation on a view of a tensor that requires grad is not supported by "
            "ember: the gradient of the view's base would be wrong. Use the out-of-place form "
            "(e.g. y = x.add(1)) or modify the base tensor."
        )


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
            f"result type {result.dtype.name.capitalize()} can't be cast to the desired output "
            f"type {x.dtype.name.capitalize()}"
        )
    if result._data.shape != x._data.shape:
        raise RuntimeError(
            f"output with shape {list(x.shape)} doesn't match the broadcast shape {list(result.shape)}"
        )
    if not getattr(x._data.flags, "writeable", True):
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location. Please clone() the tensor before performing the operation."
        )
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
        x.grad_fn = result.grad_fn
        x._out_idx = result._out_idx
        x._rg = True
    x._bump_version()
    return x
