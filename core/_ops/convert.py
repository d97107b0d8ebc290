"""Casts between dtypes and moves between devices (``to``, ``type``, ``float``, ``cuda``...)."""

from .. import _dtype
from .._memory import is_pinned
from .._tensor import Tensor
from ..autograd.graph import Node
from ..autograd.grad_mode import MODE
from ..backend import REGISTRY
from .common import _make, record


class ToCopyBackward0(Node):
    def backward(self, g):
        out = g
        if g._be is not self.be or self.index != g._be.device_index(g._data):
            out = to_device(out, self.be, self.index)
        return (to_dtype(out, self.dtype),)


def _node(x):
    node = ToCopyBackward0()
    node.dtype, node.be, node.index = x.dtype, x._be, x._be.device_index(x._data)
    return node


def to_dtype(x, dt, copy=False):
    """``x`` converted to dtype ``dt`` (a copy unless it already has it)."""
    if x._data.dtype == dt.np and not copy:
        return x
    data = x._data.astype(dt.np)
    if MODE.enabled and x._rg and dt.category == 2:
        return record(_node(x), data, x._be, (x,))
    return _make(data, x._be)


def to_device(x, be, index=None, copy=False, non_blocking=False):
    """``x`` on backend ``be`` (device ``index``); the same tensor if already there.
    ``non_blocking`` copies a pinned CPU tensor with the backend's ``from_pinned``
    when it has one (the host does not wait for the copy); otherwise it changes nothing."""
    if x._be is be and (index is None or be.device_index(x._data) in (None, index)) and not copy:
        return x
    if x._be is be:
        data = x._be.xp.array(x._data, copy=True)
    elif be.name == "cpu":
        data = x._be.to_host(x._data).copy()
    elif non_blocking and hasattr(be, "from_pinned") and is_pinned(x) and x._data.flags.c_contiguous:
        data = be.from_pinned(x._data, index)
    else:
        data = be.from_host(x._be.to_host(x._data), index)
    if MODE.enabled and x._rg:
        return record(_node(x), data, be, (x,))
    return _make(data, be)


def _parse_to(args, kwargs):
    device = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    flags = [kwargs.pop("non_blocking", False), kwargs.pop("copy", False)]
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    given = 0   # positional bools are non_blocking, then copy, as in torch
    for a in args:
        if isinstance(a, Tensor):
            device, dtype = a.device, a.dtype
        elif isinstance(a, _dtype.dtype):
            dtype = a
        elif isinstance(a, bool):
            if given == len(flags):
                raise TypeError("to() takes at most two positional bools (non_blocking, copy)")
            flags[given] = flags[given] or a
            given += 1
        elif a is not None:
            device = a
    return device, dtype, *flags


def to(x, *args, **kwargs):
    """``x.to(dtype)``, ``x.to(device, dtype=None)`` or ``x.to(other)``: cast and/or move.
    ``non_blocking`` and ``copy`` come as keywords or as trailing bools, in that order."""
    device, dtype, non_blocking, copy = _parse_to(args, dict(kwargs))
    out = x
    if device is not None:
        be, index = REGISTRY.placement(device)
        out = to_device(out, be, index, copy=copy, non_blocking=non_blocking)
        copy = copy and out is x
    if dtype is not None:
        out = to_dtype(out, _dtype.to_dtype(dtype), copy=copy)
    elif copy and out is x:
        out = to_dtype(out, x.dtype, copy=True)
    return out


_TYPE_NAMES = {
    "torch.FloatTensor": _dtype.float32, "torch.DoubleTensor": _dtype.float64,
    "torch.HalfTensor": _dtype.float16, "torch.LongTensor": _dtype.int64,
    "torch.IntTensor": _dtype.int32, "torch.ShortTensor": _dtype.int16,
    "torch.CharTensor": _dtype.int8, "torch.ByteTensor": _dtype.uint8,
    "torch.BoolTensor": _dtype.bool,
}


def type_(x, dtype=None, non_blocking=False, **kwargs):
    """With no argument, the type name (``'torch.FloatTensor'``); else a cast to ``dtype``."""
    if dtype is None:
        name = {v: k for k, v in _TYPE_NAMES.items()}[x.dtype]
        return name if x._be.name == "cpu" else name.replace("torch.", "torch.cuda.")
    legacy = getattr(dtype, "dtype", None)
    if isinstance(dtype, type) and legacy is not None:  # ember.FloatTensor and the like
        return to_dtype(x, legacy)
    if isinstance(dtype, str):
        key = dtype.replace("ember.", "torch.").replace("torch.cuda.", "torch.")
        if key not in _TYPE_NAMES:
            raise ValueError(f"invalid type: '{dtype}'")
        out = to_dtype(x, _TYPE_NAMES[key])
        return to(out, "cuda") if ".cuda." in dtype else out
    return to_dtype(x, _dtype.to_dtype(dtype))


def cpu(x):
    """A copy on the CPU (``x`` itself when already there)."""
    return to(x, "cpu")


def cuda(x, device=None, non_blocking=False):
    """A copy on CUDA device ``device`` (the current one by default); ``non_blocking``
    lets the host go on while a pinned tensor is copied."""
    if device is None:
        device = "cuda"
    elif isinstance(device, int):
        device = f"cuda:{device}"
    return to(x, device, non_blocking=non_blocking)
