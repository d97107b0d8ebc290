"""Plumbing shared by every op: wrapping results, recording nodes, operand coercion."""

import numbers

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ..autograd.grad_mode import MODE
from ..autograd.graph import edge_of

_make = Tensor._make


def wrap(data, be):
    """A new tensor (no history) holding ``data`` of backend ``be``."""
    return _make(data, be)


def record(node, data, be, inputs):
    """A new tensor holding ``data``, produced by ``node`` from ``inputs``."""
    node.next_edges = tuple([edge_of(t) if t.__class__ is Tensor else None for t in inputs])
    out = _make(data, be)
    out._rg = True
    out.grad_fn = node
    out._out_idx = 0
    return out


def needs_grad(*tensors):
    """True when an op on these tensors (and None/numbers, ignored) must be recorded."""
    if not MODE.enabled:
        return False
    for t in tensors:
        if t.__class__ is Tensor and t._rg:
            return True
    return False


def same_backend(a, b):
    """The shared backend of two tensors, or a RuntimeError naming both devices."""
    if a._be is not b._be:
        raise RuntimeError(
            f"Expected all tensors to be on the same device, but found at least two devices, "
            f"{a.device} and {b.device}!"
        )
    return a._be


def is_scalar(x):
    """True for Python and NumPy numbers (not tensors or arrays)."""
    return isinstance(x, (numbers.Number, np.bool_)) and not isinstance(x, Tensor)


def check_tensor(x, name="input"):
    """Raise TypeError unless ``x`` is a tensor."""
    if x.__class__ is not Tensor and not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a Tensor, not {type(x).__name__}")


def as_tensor_on(x, be, dtype=None):
    """``x`` as a tensor of backend ``be`` (numbers become 0-d tensors)."""
    if isinstance(x, Tensor):
        return x
    np_dtype = None if dtype is None else dtype.np
    if np_dtype is None:
        np_dtype = _dtype.scalar_dtype(x).np if is_scalar(x) else None
    arr = np.asarray(x, dtype=np_dtype)
    if np_dtype is None:
        arr = arr.astype(_dtype.from_numpy_dtype(arr.dtype).np, copy=False)
    return _make(be.from_host(arr, None) if be.name != "cpu" else arr, be)


def cast(t, dt):
    """``t`` converted to dtype ``dt`` (differentiable; same object when already so)."""
    if t._data.dtype == dt.np:
        return t
    from .convert import to_dtype

    return to_dtype(t, dt)


def promote(a, b):
    """Two operands in torch's promoted dtype, on one backend: ``(a, b, be)``.

    A Python number stays a number (array kernels take it as a weak scalar), so
    ``x * 2`` costs no extra array; tensors are cast when their dtype differs.
    """
    if a.__class__ is Tensor and b.__class__ is Tensor:
        be = same_backend(a, b)
        if a._data.dtype == b._data.dtype:
            return a, b, be
        dt = _dtype.result_type(a, b)
        return cast(a, dt), cast(b, dt), be
    if isinstance(a, Tensor):
        if not is_scalar(b):
            raise TypeError(f"unsupported operand type: {type(b).__name__}")
        dt = _dtype.result_type(a, b)
        return cast(a, dt), _as_python(b, dt), a._be
    if not isinstance(b, Tensor) or not is_scalar(a):
        raise TypeError(f"unsupported operand type: {type(a).__name__}")
    dt = _dtype.result_type(a, b)
    return _as_python(a, dt), cast(b, dt), b._be


def _as_python(x, dt):
    if dt.category == 2:
        return float(x)
    if dt.category == 1:
        return int(x)
    return bool(x)


def cast_any(x, dt):
    """A tensor cast to ``dt``, or a number left as it is."""
    return cast(x, dt) if isinstance(x, Tensor) else x


def normalize_dim(dim, ndim):
    """``dim`` wrapped into ``[0, ndim)``, with torch's IndexError when out of range."""
    lo, hi = (-1, 0) if ndim == 0 else (-ndim, ndim - 1)
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"dim must be an int, got {type(dim).__name__}")
    if not lo <= dim <= hi:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})"
        )
    return int(dim) % ndim if ndim else 0


def normalize_dims(dim, ndim):
    """A tuple of distinct wrapped dims (None means all dims)."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, np.integer)):
        dim = (dim,)
    dims = tuple(normalize_dim(d, ndim) for d in dim)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"dim {dim} appears multiple times in the list of dims")
    return dims


def sum_to(g, shape):
    """Sum the broadcast gradient ``g`` back down to ``shape`` (differentiable)."""
    shape = tuple(shape)
    if tuple(g.shape) == shape:
        return g
    lead = g.dim() - len(shape)
    dims = list(range(lead))
    for i, s in enumerate(shape):
        if s == 1 and g.shape[lead + i] != 1:
            dims.append(lead + i)
    if dims:
        g = g.sum(dims, keepdim=True)
    if lead:
        g = g.reshape(shape)
    return g
