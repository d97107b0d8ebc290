"""Choosing between values elementwise: ``where``, ``clamp``, ``masked_fill``."""

from .. import _dtype
from .._tensor import Tensor
from ..autograd.graph import Node
from ..autograd.grad_mode import MODE
from ..backend import REGISTRY
from .common import _make, as_tensor_on, cast, check_tensor, record, same_backend, sum_to


class WhereBackward0(Node):
    def backward(self, g):
        (cond,) = self.saved()
        sx, sy = self.shapes
        zero = g * 0
        return (None,
                None if sx is None else sum_to(where(cond, g, zero), sx),
                None if sy is None else sum_to(where(cond, zero, g), sy))


def where(condition, input, other):
    """Elements of ``input`` where ``condition`` is true, else of ``other``, broadcast together."""
    check_tensor(condition, "condition")
    if condition._data.dtype.kind != "b":
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype {condition.dtype}")
    be = condition._be
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        dt = _dtype.result_type(input, other)
    else:
        dt = _dtype.result_type(input, other)
    x = as_tensor_on(input, be, None if isinstance(input, Tensor) else dt)
    y = as_tensor_on(other, be, None if isinstance(other, Tensor) else dt)
    same_backend(x, condition)
    same_backend(y, condition)
    x, y = cast(x, dt), cast(y, dt)
    data = be.kernels["where"](condition._data, x._data, y._data)
    if MODE.enabled and (x._rg or y._rg):
        node = WhereBackward0()
        node.shapes = (x.shape if x._rg else None, y.shape if y._rg else None)
        node.save(condition)
        return record(node, data, be, (condition, x, y))
    return _make(data, be)


class ClampBackward1(Node):
    def backward(self, g):
        (x,) = self.saved()
        mask = None
        if self.lo is not None:
            mask = x >= self.lo
        if self.hi is not None:
            upper = x <= self.hi
            mask = upper if mask is None else mask & upper
        return (where(mask, g, g * 0),)


def clamp(input, min=None, max=None):
    """Limit every element to ``[min, max]`` (either bound may be None)."""
    check_tensor(input)
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        from .binary import maximum, minimum

        out = input
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
        return out
    x = input
    if x._data.dtype.kind != "f" and (isinstance(min, float) or isinstance(max, float)):
        x = cast(x, _dtype.get_default_dtype())
    data = x._be.kernels["clamp"](x._data, min, max)
    if MODE.enabled and x._rg:
        node = ClampBackward1()
        node.lo, node.hi = min, max
        node.save(x)
        return record(node, data, x._be, (x,))
    return _make(data, x._be)


class MaskedFillBackward0(Node):
    def backward(self, g):
        (mask,) = self.saved()
        return where(mask, g * 0, g), None


def masked_fill(input, mask, value):
    """A copy of ``input`` with ``value`` where the bool ``mask`` (broadcast) is true."""
    check_tensor(input)
    check_tensor(mask, "mask")
    if mask._data.dtype.kind != "b":
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {mask.dtype}")
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise RuntimeError(
                f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value.dim()} dimension(s)."
            )
        value = value.item()
    xp = input._be.xp
    data = xp.where(mask._data, xp.asarray(value, dtype=input._data.dtype), input._data)
    if data.shape != input._data.shape:
        raise RuntimeError(
            f"the mask of shape {list(mask.shape)} does not broadcast to the input's shape "
            f"{list(input.shape)}"
        )
    if MODE.enabled and input._rg:
        node = MaskedFillBackward0()
        node.save(mask)
        return record(node, data, input._be, (input, mask))
    return _make(data, input._be)


def _clamp_kernel(xp):
    def clamp(x, lo, hi):
        out = x
        if lo is not None:
            out = xp.maximum(out, xp.asarray(lo, dtype=x.dtype))
        if hi is not None:
            out = xp.minimum(out, xp.asarray(hi, dtype=x.dtype))
        return out if out is not x else x.copy()

    return clamp


REGISTRY.add_generic({"where": lambda xp: xp.where, "clamp": _clamp_kernel})
