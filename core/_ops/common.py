"""Plumbing shared by every op: wrapping results, recording nodes, operand coercion."""

import math
import numbers

import numpy as np

from .. import _dtype
from .._tensor import _NP_SCALARS, Tensor, wrap
from ..autograd.grad_mode import MODE
from ..autograd.graph import edge_of

_make = Tensor._make


def host_kernel(fn):
    """A kernel factory for ``fn`` (float64 NumPy in and out): array modules with
    ``asnumpy`` (CuPy, which refuses a plain conversion) copy to the host and back."""
    def factory(xp):
        to_host = getattr(xp, "asnumpy", None)

        def run(x):
            host = x if to_host is None else to_host(x)
            return xp.asarray(fn(np.asarray(host, dtype=np.float64)).astype(x.dtype))

        return run

    return factory


def record(node, data, be, inputs):
    """A new tensor holding ``data``, produced by ``node`` from ``inputs``."""
    if data.__class__ in _NP_SCALARS:
        data = np.asarray(data)
    edges = []
    for t in inputs:
        edges.append(edge_of(t) if t.__class__ is Tensor or isinstance(t, Tensor) else None)
    node.next_edges = tuple(edges)
    out = _make(data, be)
    out._rg = True
    out.grad_fn = node
    out._out_idx = 0
    return out


def record_with_output(node, data, x):
    """``record`` for a one-input op whose backward needs both its input and its output."""
    node.save(x)
    out = record(node, data, x._be, (x,))
    node.save_output(out)
    return out


def needs_grad(*tensors):
    """True when an op on these tensors (and None/numbers, ignored) must be recorded."""
    if not MODE.enabled:
        return False
    for t in tensors:
        if (t.__class__ is Tensor or isinstance(t, Tensor)) and t._rg:
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


_PY_NUMBERS = frozenset((int, float, bool))


def is_scalar(x):
    """True for Python and NumPy numbers (not tensors or arrays)."""
    if x.__class__ in _PY_NUMBERS:
        return True
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
    if a.__class__ is Tensor:
        if b.__class__ is Tensor:
            be = a._be
            if b._be is not be:
                same_backend(a, b)  # raises, naming both devices
            if a._data.dtype == b._data.dtype:
                return a, b, be
            dt = _dtype.result_type(a, b)
            return cast(a, dt), cast(b, dt), be
        # the common ``tensor op number`` cases, without the general promotion
        cls = b.__class__
        if cls is float:
            if a._data.dtype.kind == "f":
                return a, b, a._be
        elif cls is int:
            kind = a._data.dtype.kind
            if kind == "f":
                return a, float(b), a._be
            if kind in "iu":
                return a, _wrap_int(b, a._data.dtype), a._be
    elif b.__class__ is Tensor:  # ``number op tensor`` (reflected operators)
        cls = a.__class__
        if cls is float:
            if b._data.dtype.kind == "f":
                return a, b, b._be
        elif cls is int:
            kind = b._data.dtype.kind
            if kind == "f":
                return float(a), b, b._be
            if kind in "iu":
                return _wrap_int(a, b._data.dtype), b, b._be
    be = _operands_backend(a, b)
    dt = _dtype.result_type(a, b)
    return _to(a, dt), _to(b, dt), be


def promote_float(a, b):
    """Like ``promote``, but the common dtype is at least the default floating dtype.

    For true division and atan2: integer operands are converted straight to the
    floating dtype (torch computes ``uint8_tensor / -3`` with the value -3).
    """
    if a.__class__ is Tensor:
        kind = a._data.dtype.kind
        if b.__class__ is Tensor:
            if kind == "f" and a._data.dtype == b._data.dtype:
                return a, b, same_backend(a, b)
        elif kind == "f" and (b.__class__ is float or b.__class__ is int):
            return a, float(b), a._be
    elif b.__class__ is Tensor and b._data.dtype.kind == "f" and (a.__class__ is float or a.__class__ is int):
        return float(a), b, b._be
    be = _operands_backend(a, b)
    dt = _dtype.result_type(a, b)
    if dt.category != 2:
        dt = _dtype.get_default_dtype()
    return _to(a, dt), _to(b, dt), be


def _operands_backend(a, b):
    """The backend of the tensor operand(s); TypeError unless each is a tensor or a number."""
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            return same_backend(a, b)
        if not is_scalar(b):
            raise _operand_error(b)
        return a._be
    if not isinstance(b, Tensor):
        raise _operand_error(b if is_scalar(a) else a)
    if not is_scalar(a):
        raise _operand_error(a)
    return b._be


def _to(x, dt):
    return cast(x, dt) if isinstance(x, Tensor) else python_scalar(x, dt)


def _operand_error(x):
    return TypeError(f"unsupported operand type for a tensor operation: '{type(x).__name__}' "
                     "(expected a Tensor or a number)")


def python_scalar(x, dt):
    """The number ``x`` as the Python value an array of dtype ``dt`` takes as a weak scalar.

    Integers out of ``dt``'s range wrap around as torch's integer casts do
    (``uint8_tensor + -1`` adds 255).
    """
    if dt.category == 2:
        return float(x)
    if dt.category == 1:
        return _wrap_int(int(x), dt.np)
    return bool(x)


_C_NAMES = {"float16": "c10::Half", "float32": "float", "float64": "double", "uint8": "uint8_t",
            "int8": "int8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t", "bool": "bool"}


def checked_scalar(x, dt):
    """``python_scalar(x, dt)``, but a value ``dt`` cannot hold raises torch's overflow error.

    Used where torch converts a fill value or bound to the tensor's dtype (``clamp``,
    ``masked_fill``); as in torch, unsigned types accept negatives down to ``-max``.
    """
    if dt.category == 2:
        x = float(x)
        if abs(x) > _FLOAT_MAX[dt.np] and math.isfinite(x):
            raise _overflow(dt)
        return x
    if dt.category == 0:
        return bool(x)
    lo, hi, _ = _INT_LIMITS[dt.np]
    if lo == 0:
        lo = -hi
    if isinstance(x, (float, np.floating)):
        if not math.isfinite(x) or not lo <= x < hi + 1:
            raise _overflow(dt)
        x = int(x)
    elif not lo <= x <= hi:
        raise _overflow(dt)
    return _wrap_int(int(x), dt.np)


def _overflow(dt):
    return RuntimeError(f"value cannot be converted to type {_C_NAMES[dt.name]} without overflow")


_FLOAT_MAX = {np.dtype(t): float(np.finfo(t).max) for t in (np.float16, np.float32, np.float64)}


def _int_limits(np_dtype):
    info = np.iinfo(np_dtype)
    return int(info.min), int(info.max), 1 << info.bits


_INT_LIMITS = {np.dtype(t): _int_limits(t) for t in (np.uint8, np.int8, np.int16, np.int32, np.int64)}


def _wrap_int(x, np_dtype):
    lo, hi, span = _INT_LIMITS[np_dtype]
    if lo <= x <= hi:
        return x
    if not -(1 << 63) <= x < (1 << 64):
        raise OverflowError(f"Python int {x} too large to convert to a 64-bit integer")
    x &= span - 1
    return x - span if x > hi else x


def broadcast_error(*shapes):
    """torch's RuntimeError for shapes that do not broadcast together (None if they do).

    Like torch, the shapes are combined left to right and each pair is compared from
    the last dimension backwards; "tensor a" is the shape broadcast so far.
    """
    acc = tuple(shapes[0])
    for shape in shapes[1:]:
        shape = tuple(shape)
        n = max(len(acc), len(shape))
        a = (1,) * (n - len(acc)) + acc
        b = (1,) * (n - len(shape)) + shape
        for i in range(n - 1, -1, -1):
            if a[i] != b[i] and a[i] != 1 and b[i] != 1:
                return RuntimeError(
                    f"The size of tensor a ({a[i]}) must match the size of tensor b ({b[i]}) "
                    f"at non-singleton dimension {i}"
                )
        acc = tuple(y if x == 1 else x for x, y in zip(a, b))
    return None


def shape_of(x):
    """The shape of a tensor's data, or ``()`` for a number."""
    return x._data.shape if isinstance(x, Tensor) else ()


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
        repeated = next(d for i, d in enumerate(dims) if d in dims[:i])
        raise RuntimeError(f"dim {repeated} appears multiple times in the list of dims")
    return dims


def _broadcast_dims(have, shape):
    """The dims of a broadcast result of shape ``have`` that summing back to ``shape``
    reduces, and whether leading dims must go too."""
    lead = len(have) - len(shape)
    dims = list(range(lead))
    for i, s in enumerate(shape):
        if s == 1 and have[lead + i] != 1:
            dims.append(lead + i)
    return dims, lead > 0


def sum_to(g, shape):
    """Sum the broadcast gradient ``g`` back down to ``shape`` (differentiable)."""
    shape = tuple(shape)
    if g._data.shape == shape:
        return g
    dims, drop_lead = _broadcast_dims(g._data.shape, shape)
    if dims:
        g = g.sum(dims, keepdim=True)
    if drop_lead:
        g = g.reshape(shape)
    return g


def sum_to_array(data, shape, be):
    """``sum_to`` on an array of backend ``be`` (no history)."""
    if data.shape == shape:
        return data
    dims, drop_lead = _broadcast_dims(data.shape, shape)
    if dims:
        data = be.kernels["sum"](data, tuple(dims), True)
    return data.reshape(shape) if drop_lead else data
