"""Tensor creation: from data, filled, ranges, random, and the ``*_like`` forms."""

import numpy as np

from . import _dtype
from ._ops.shape import sizes_arg
from ._tensor import Tensor
from .backend import REGISTRY, check_allocation, check_storage_size

_make = Tensor._make


def _backend(device):
    if device is None:
        return REGISTRY.get("cpu"), None
    return REGISTRY.placement(device)


def _place(arr, device, requires_grad=False):
    be, index = _backend(device)
    data = arr if be.name == "cpu" else be.from_host(arr, index)
    t = _make(data, be)
    if requires_grad:
        _require_grad(t)
    return t


def factory_size(name, sizes, size):
    """The shape a factory was given, as ``f(2, 3)``, ``f((2, 3))`` or ``f(size=(2, 3))``
    (``sizes`` the positional ones, ``size`` the keyword), in ``_sizes``' form; torch's
    TypeError when it is given both ways or not at all."""
    if size is None:
        if not sizes:
            raise TypeError(f'{name}() missing 1 required positional arguments: "size"')
        return sizes
    if sizes:
        raise TypeError(f"{name}() got multiple values for argument 'size'")
    return (size,)


def _require_grad(t):
    """``requires_grad=True`` at creation, with the message torch gives there."""
    if t._data.dtype.kind != "f":
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    t.requires_grad_(True)


def _sizes(size):
    """A creation function's size arguments as a tuple, refusing negative sizes."""
    shape = sizes_arg(size)
    for s in shape:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(shape)}")
    return shape


def _np_dtype(dtype, default=None):
    if dtype is None:
        return (default or _dtype.get_default_dtype()).np
    return _dtype.to_dtype(dtype).np


def _infer_array(data, dtype=None):
    """Data as a NumPy array: of ``dtype`` when given, else with torch's inferred dtype
    (Python floats -> default dtype, ints -> int64)."""
    if isinstance(data, Tensor):
        return data._be.to_host(data._data).copy()
    if isinstance(data, (np.ndarray, np.generic)):
        arr = np.array(data, copy=True)
        _dtype.from_numpy_dtype(arr.dtype)
        return arr
    try:
        arr = np.array(data)
    except (ValueError, TypeError) as e:
        raise _ragged_error(data) or ValueError(f"could not build a tensor from {type(data).__name__}: {e}") from None
    if dtype is not None and arr.dtype.kind in "fiub":
        if dtype.np.kind in "iu" and arr.dtype.kind in "fiu":
            _check_integer_range(arr, dtype)
        return arr.astype(dtype.np)
    if arr.dtype.kind == "f":
        return arr.astype(_dtype.get_default_dtype().np)
    if arr.dtype.kind in "iu":
        if arr.dtype == np.uint64:
            raise ValueError("Overflow when unpacking long long")
        return arr.astype(np.int64)
    if arr.dtype.kind == "b":
        return arr
    if arr.dtype.kind == "O" and _has_big_int(data):
        raise ValueError("Overflow when unpacking long long")
    if data is None:
        raise RuntimeError("Could not infer dtype of NoneType")
    if arr.dtype.kind == "O" or arr.dtype.kind in "USV":
        raise TypeError(f"could not infer a numeric dtype from {data!r:.80}")
    return arr.astype(_dtype.get_default_dtype().np)


def _check_integer_range(arr, dtype):
    """Python numbers converted to an integer dtype must fit, as torch checks (uint8
    also takes negatives down to -255, which wrap around)."""
    info = np.iinfo(dtype.np)
    lo = -int(info.max) if dtype.np == np.uint8 else int(info.min)
    values = arr.astype(np.float64) if arr.dtype.kind == "f" else arr
    with np.errstate(invalid="ignore"):
        bad = (values < lo) | (values > int(info.max))
        if arr.dtype.kind == "f":
            bad |= ~np.isfinite(values)
    if bad.any():
        raise RuntimeError(f"value cannot be converted to type {dtype.name} without overflow")


def _ragged_error(data, dim=0):
    """torch's message for nested lists of unequal lengths (None when that is not the problem)."""
    if not isinstance(data, (list, tuple)) or not data:
        return None
    lengths = [len(d) if isinstance(d, (list, tuple)) else None for d in data]
    first = lengths[0]
    for n in lengths[1:]:
        if n != first:
            if first is None or n is None:
                return TypeError("not a sequence")
            return ValueError(f"expected sequence of length {first} at dim {dim + 1} (got {n})")
    for d in data:
        err = _ragged_error(d, dim + 1)
        if err is not None:
            return err
    return None


def _has_big_int(data):
    if isinstance(data, (list, tuple)):
        return any(_has_big_int(d) for d in data)
    return isinstance(data, int) and not -(1 << 63) <= data < (1 << 63)


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data`` (nested lists, numbers, arrays or tensors).

    The dtype is inferred as torch does (Python floats give the default dtype, ints
    give int64) unless ``dtype`` is given.
    """
    dt = None if dtype is None else _dtype.to_dtype(dtype)
    arr = _infer_array(data, dt)
    if dt is not None:
        arr = arr.astype(dt.np, copy=False)
    return _place(arr, device, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, sharing memory where possible (tensors, NumPy arrays)."""
    if isinstance(data, Tensor):
        out = data
        if device is not None:
            out = out.to(device)
        return out if dtype is None else out.to(_dtype.to_dtype(dtype))
    if isinstance(data, np.ndarray) and device in (None, "cpu"):
        t = from_numpy(data)
        return t if dtype is None else t.to(_dtype.to_dtype(dtype))
    return tensor(data, dtype=dtype, device=device)


def from_numpy(ndarray):
    """A CPU tensor sharing memory with ``ndarray`` (changes show up in both)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    _dtype.from_numpy_dtype(ndarray.dtype)
    if not ndarray.dtype.isnative:
        raise ValueError("given numpy array has byte order different from the native byte order")
    return _make(ndarray, REGISTRY.get("cpu"))


def from_dlpack(ext_tensor):
    """A tensor sharing memory with any object that implements the DLPack protocol
    (or with a host DLPack capsule, as older libraries hand out)."""
    if not hasattr(ext_tensor, "__dlpack_device__"):
        ext_tensor = _HostCapsule(ext_tensor)
    dev_type, dev_id = ext_tensor.__dlpack_device__()
    if dev_type == 1:
        return from_numpy(np.from_dlpack(ext_tensor))
    be = REGISTRY.usable("cuda")
    return _make(be.xp.from_dlpack(ext_tensor), be)


class _HostCapsule:
    """Presents a raw DLPack capsule (assumed to be host memory) through the protocol."""

    def __init__(self, capsule):
        self._capsule = capsule

    def __dlpack__(self, **kwargs):
        return self._capsule

    def __dlpack_device__(self):
        return (1, 0)


def _filled(fill, size, dtype, device, requires_grad, default=None, name=None):
    try:
        shape = _sizes(size)
    except RuntimeError:
        if name is None:
            raise
        raise RuntimeError(f"{name}: Dimension size must be non-negative.") from None
    be, index = _backend(device)
    np_dtype = _np_dtype(dtype, default)
    if be.name == "cpu":
        check_allocation(shape, np.dtype(np_dtype).itemsize, name or "empty")
    else:  # the device's allocator says whether it fits
        check_storage_size(shape, np.dtype(np_dtype).itemsize)
    data = be.full(shape, fill, np_dtype, index)
    t = _make(data, be)
    if requires_grad:
        _require_grad(t)
    return t


def zeros(*sizes, size=None, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    """A tensor of zeros with shape ``size`` (given as ints, one sequence, or ``size=``)."""
    return _filled(0, factory_size("zeros", sizes, size), dtype, device, requires_grad, name="zeros")


def ones(*sizes, size=None, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    """A tensor of ones with shape ``size`` (given as ints, one sequence, or ``size=``)."""
    return _filled(1, factory_size("ones", sizes, size), dtype, device, requires_grad)


def empty(*sizes, size=None, dtype=None, device=None, requires_grad=False, out=None, layout=None, pin_memory=False):
    """An uninitialised tensor with shape ``size`` (given as ints, one sequence, or
    ``size=``; ember fills it with zeros)."""
    return _filled(0, factory_size("empty", sizes, size), dtype, device, requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    """A tensor of shape ``size`` filled with ``fill_value`` (dtype inferred from it)."""
    if dtype is None:
        dtype = _dtype.scalar_dtype(fill_value)
    return _filled(fill_value, (tuple(size),), dtype, device, requires_grad)


def _like(input, dtype, device):
    return (input.dtype if dtype is None else dtype,
            input.device if device is None else device)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False, layout=None, memory_format=None):
    """Zeros with the shape (and by default dtype and device) of ``input``."""
    dtype, device = _like(input, dtype, device)
    return _filled(0, (tuple(input.shape),), dtype, device, requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False, layout=None, memory_format=None):
    """Ones with the shape (and by default dtype and device) of ``input``."""
    dtype, device = _like(input, dtype, device)
    return _filled(1, (tuple(input.shape),), dtype, device, requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False, layout=None, memory_format=None):
    """An uninitialised tensor like ``input`` (ember fills it with zeros)."""
    return zeros_like(input, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None, memory_format=None):
    """``fill_value`` everywhere, with the shape, dtype and device of ``input``."""
    dtype, device = _like(input, dtype, device)
    return _filled(fill_value, (tuple(input.shape),), dtype, device, requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    """Values ``start, start+step, ...`` below ``end`` (int64 unless a bound is a float)."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = vals
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if not (np.isfinite(start) and np.isfinite(end)):
        raise RuntimeError(f"unsupported range: {start} -> {end}")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dtype is None:
        dtype = _dtype.int64 if all(isinstance(v, (int, np.integer)) for v in vals) else _dtype.get_default_dtype()
    dt = _dtype.to_dtype(dtype)
    n = int(np.ceil((end - start) / step))
    arr = (start + np.arange(n, dtype=np.float64 if dt.category == 2 else np.int64) * step).astype(dt.np)
    return _place(arr, device, requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    for name, bound in (("start", start), ("end", end)):
        if isinstance(bound, Tensor) and bound.dim():
            raise RuntimeError(f"linspace only supports 0-dimensional start and end tensors, but got {name} "
                               f"with {bound.dim()} dimension(s).")
    if isinstance(steps, Tensor):
        steps = steps.item()
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
        raise TypeError(f"linspace(): steps must be an int, not {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dt = _np_dtype(dtype)
    if np.dtype(dt).kind in "iub":  # torch converts the bounds to the integer type first
        start, end = int(start), int(end)
    start, end, steps = float(start), float(end), int(steps)
    # torch fills the first half from start and the second half back from end, so both
    # ends are exact and the values are symmetric.
    step = (end - start) / (steps - 1) if steps > 1 else 0.0
    i = np.arange(steps, dtype=np.float64)
    half = steps // 2
    arr = np.where(i < half, start + step * i, end - step * (steps - 1 - i)) if steps > 1 else i + start
    if np.dtype(dt).kind in "iub":
        arr = np.trunc(arr)
    return _place(arr.astype(dt), device, requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    """A 2-D tensor with ones on the diagonal and zeros elsewhere."""
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if m is not None and m < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    return _place(np.eye(n, m, dtype=_np_dtype(dtype)), device, requires_grad)


def _rebuild(array, requires_grad):
    return tensor(array, requires_grad=requires_grad)
