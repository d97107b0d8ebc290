"""Choosing between values elementwise: ``where``, ``clamp``, ``masked_fill``."""

import warnings

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ..autograd.graph import Node
from ..autograd.grad_mode import MODE
from .common import (broadcast_error, cast, check_tensor, checked_scalar, is_scalar, python_scalar, record,
                     same_backend, sum_to, wrap)


def _c_type_name(dt):
    """torch's C++ spelling of a dtype in some messages ("long int", "float")."""
    return {"float64": "double", "float32": "float", "float16": "c10::Half", "int64": "long int",
            "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
            "bool": "bool"}[dt.name]


def _broadcast_error(*shapes):
    """The error for a kernel's ValueError: torch's broadcasting message, if that was it."""
    err = broadcast_error(*shapes)
    if err is None:
        raise  # noqa: PLE0704 - re-raise the ValueError being handled
    return err


def _broadcast_checked(kernel, arrays, *args):
    try:
        return kernel(*arrays, *args)
    except ValueError:
        raise _broadcast_error(*(getattr(a, "shape", ()) for a in arrays)) from None


class WhereBackward0(Node):
    def backward(self, g):
        (cond,) = self.saved()
        sx, sy = self.shapes
        zero = g * 0
        return (None,
                None if sx is None else sum_to(where(cond, g, zero), sx),
                None if sy is None else sum_to(where(cond, zero, g), sy))


def where(condition, input=None, other=None):
    """Elements of ``input`` where ``condition`` is true, else of ``other``, broadcast together.

    ``where(condition)`` alone is ``condition.nonzero(as_tuple=True)``.
    """
    check_tensor(condition, "condition")
    if condition._data.dtype == np.uint8:   # torch 1.0's mask dtype: still accepted, with a warning
        warnings.warn("where received a uint8 condition tensor. This behavior is deprecated and will be "
                      "removed in a future version of PyTorch. Use a boolean condition instead.", UserWarning)
        condition = cast(condition, _dtype.bool)
    be = condition._be
    if (input.__class__ is Tensor and other.__class__ is Tensor and input._be is be and other._be is be
            and input._data.dtype == other._data.dtype and condition._data.dtype.kind == "b"):
        x, y = input, other  # the common case: two tensors of one dtype
        dx, dy = x._data, y._data
    else:
        x, y, dx, dy = _where_operands(condition, input, other)
        if x is None and y is None:
            from .index import nonzero

            return nonzero(condition, as_tuple=True)
    data = _broadcast_checked(be.kernels["where"], (condition._data, dx, dy))
    rx = x.__class__ is Tensor and x._rg or isinstance(x, Tensor) and x._rg
    ry = y.__class__ is Tensor and y._rg or isinstance(y, Tensor) and y._rg
    if MODE.enabled and (rx or ry):
        node = WhereBackward0()
        node.shapes = (x.shape if rx else None, y.shape if ry else None)
        node.save(condition)
        return record(node, data, be, (condition, x if rx else None, y if ry else None))
    return wrap(data, be)


def _where_operands(condition, input, other):
    """Checked and promoted ``(x, y, x_data, y_data)`` for ``where``; all None for
    ``where(condition)``."""
    if input is None and other is None:
        return None, None, None, None
    for x in (input, other):
        if not isinstance(x, Tensor) and not is_scalar(x):
            raise TypeError(f"where(): expected a Tensor or a number for input and other, "
                            f"got {type(x).__name__}")
    if condition._data.dtype.kind != "b":
        raise RuntimeError("where expected condition to be a boolean tensor, but got a tensor with "
                           f"dtype {condition.dtype.scalar_name}")
    be = condition._be
    for x in (input, other):
        if isinstance(x, Tensor):
            same_backend(condition, x)
    dt = _dtype.result_type(input, other)
    x = cast(input, dt) if isinstance(input, Tensor) else input
    y = cast(other, dt) if isinstance(other, Tensor) else other
    dx = x._data if isinstance(x, Tensor) else be.xp.asarray(python_scalar(x, dt), dtype=dt.np)
    dy = y._data if isinstance(y, Tensor) else be.xp.asarray(python_scalar(y, dt), dtype=dt.np)
    return x, y, dx, dy


class ClampBackward1(Node):
    """Gradient of clamp with number bounds: passes where ``min <= x <= max``."""

    def backward(self, g):
        (x,) = self.saved()
        mask = None
        if self.lo is not None:
            mask = x >= self.lo
        if self.hi is not None:
            upper = x <= self.hi
            mask = upper if mask is None else mask & upper
        return (where(mask, g, g * 0),)


class ClampBackward0(Node):
    """Gradient of clamp with tensor bounds: each element's gradient goes to whichever of
    ``x``, ``min`` and ``max`` produced it (``max`` wins when ``min > max``)."""

    def backward(self, g):
        x, lo, hi = self.saved()
        zero = g * 0
        gx = glo = ghi = None
        if lo is not None and hi is not None:
            gx = where((x >= lo) & (x <= hi), g, zero)
            glo = where((x < lo) & (lo < hi), g, zero)
            ghi = where((x > hi) | (hi < lo), g, zero)
        elif lo is not None:
            gx = where(x >= lo, g, zero)
            glo = where(x < lo, g, zero)
        else:
            gx = where(x <= hi, g, zero)
            ghi = where(x > hi, g, zero)
        return tuple(None if t is None or gt is None or not t._rg else sum_to(gt, t.shape)
                     for t, gt in ((x, gx), (lo, glo), (hi, ghi)))

    def saved(self):
        saved = iter(super().saved())
        return [next(saved) if present else None for present in self.present]


_NUMBERS = (float, int, bool)
_NUMBER_OR_NONE = (float, int, type(None))


def clamp(input, min=None, max=None):
    """Limit every element to ``[min, max]``; either bound may be None, and both may be
    numbers or both tensors (broadcast with ``input``)."""
    check_tensor(input)
    if input._data.dtype.kind == "f" and min.__class__ in _NUMBER_OR_NONE and max.__class__ in _NUMBER_OR_NONE:
        x = input  # the common case: a floating tensor and Python-number bounds
        dt = _dtype._FROM_NP[x._data.dtype]
        if min is None and max is None:
            raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    else:
        if min is None and max is None:
            raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
        lo_t, hi_t = isinstance(min, Tensor), isinstance(max, Tensor)
        if lo_t or hi_t:
            if (min is not None and not lo_t) or (max is not None and not hi_t):
                raise TypeError("clamp(): min and max must both be Tensors or both be numbers, got "
                                f"{type(min).__name__} and {type(max).__name__}")
            return _clamp_tensors(input, min, max)
        for bound in (min, max):
            if bound is not None and not is_scalar(bound):
                raise TypeError(f"clamp(): min and max must be numbers or Tensors, not {type(bound).__name__}")
        dt = _dtype.result_type(input, *[b for b in (min, max) if b is not None])
        if dt is _dtype.bool:
            raise NotImplementedError(f"\"clamp_{input._be.name}\" not implemented for 'Bool'")
        x = cast(input, dt)
    lo = None if min is None else checked_scalar(min, dt)
    hi = None if max is None else checked_scalar(max, dt)
    data = x._be.kernels["clamp"](x._data, lo, hi)
    if MODE.enabled and x._rg:
        node = ClampBackward1()
        node.lo, node.hi = lo, hi
        node.save(x)
        return record(node, data, x._be, (x,))
    return wrap(data, x._be)


def _clamp_tensors(input, min, max):
    tensors = [t for t in (input, min, max) if t is not None]
    be = input._be
    for t in tensors[1:]:
        same_backend(input, t)
    dt = _dtype.result_type(*tensors)
    if dt is _dtype.bool:
        raise NotImplementedError(f"\"clamp_{be.name}\" not implemented for 'Bool'")
    x = cast(input, dt)
    lo = None if min is None else cast(min, dt)
    hi = None if max is None else cast(max, dt)
    arrays = [t._data for t in (x, lo, hi) if t is not None]
    data = _broadcast_checked(be.kernels["clamp_tensors"], arrays, lo is not None, hi is not None)
    if MODE.enabled and any(t._rg for t in (x, lo, hi) if t is not None):
        node = ClampBackward0()
        node.present = (True, lo is not None, hi is not None)
        node.save(*[t for t in (x, lo, hi) if t is not None])
        return record(node, data, be, (x, lo, hi))
    return wrap(data, be)


class MaskedFillBackward0(Node):
    def backward(self, g):
        (mask,) = self.saved()
        zero = g * 0
        gx = None if self.shapes[0] is None else sum_to(where(mask, zero, g), self.shapes[0])
        gv = None
        if self.shapes[1] is not None:
            gv = where(mask, g, zero).sum()
            if gv.dtype is not self.value_dtype:
                gv = cast(gv, self.value_dtype)
        return gx, None, gv


def masked_fill(input, mask, value):
    """A copy of ``input`` with ``value`` where the bool ``mask`` is true (broadcast together).

    ``value`` is a number or a 0-d tensor (which then receives a gradient).
    """
    check_tensor(input)
    check_tensor(mask, "mask")
    if mask._data.dtype.kind != "b":
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{_c_type_name(mask.dtype)}")
    be = same_backend(input, mask)
    dt = _dtype._FROM_NP[input._data.dtype]
    value_t = None
    if value.__class__ in _NUMBERS:
        fill = be.xp.asarray(checked_scalar(value, dt), dtype=dt.np)
    elif isinstance(value, Tensor):
        if value.dim() != 0:
            raise RuntimeError(
                f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value.dim()} dimension(s)."
            )
        value_t = value
        if value._be is be and value._data.dtype == dt.np:
            fill = value._data
        else:
            fill = be.xp.asarray(checked_scalar(value.item(), dt), dtype=dt.np)
    elif is_scalar(value):
        fill = be.xp.asarray(checked_scalar(value, dt), dtype=dt.np)
    else:
        raise TypeError(f"masked_fill(): value must be a number or a 0-dimensional Tensor, "
                        f"not {type(value).__name__}")
    try:
        data = be.kernels["where"](mask._data, fill, input._data)
    except ValueError:
        raise _broadcast_error(mask._data.shape, input._data.shape) from None
    rx = input._rg
    rv = value_t is not None and value_t._rg
    if MODE.enabled and (rx or rv):
        node = MaskedFillBackward0()
        node.shapes = (input.shape if rx else None, () if rv else None)
        node.value_dtype = value_t.dtype if rv else None
        node.save(mask)
        return record(node, data, be, (input if rx else None, None, value_t if rv else None))
    return wrap(data, be)


def _clamp_kernel(xp):
    def clamp(x, lo, hi):
        # lo and hi are Python numbers already converted for x's dtype: weak scalars
        if lo is not None:
            return xp.maximum(x, lo) if hi is None else xp.minimum(xp.maximum(x, lo), hi)
        return xp.minimum(x, hi)

    return clamp


def _clamp_tensors_kernel(xp):
    def clamp_tensors(*arrays):
        *arrays, has_lo, has_hi = arrays
        out = arrays[0]
        i = 1
        if has_lo:
            out = xp.maximum(out, arrays[i])
            i += 1
        if has_hi:
            out = xp.minimum(out, arrays[i])
        return out

    return clamp_tensors


GENERIC_KERNELS = {"where": lambda xp: xp.where, "clamp": _clamp_kernel,
                      "clamp_tensors": _clamp_tensors_kernel}
