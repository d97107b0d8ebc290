"""``F.pad``: constant, reflect, replicate and circular padding.

Every mode is linear in the input, so each goes through
:func:`ember.autograd.linear_map` with a kernel pair (the padding and its
adjoint) and is differentiable to any order. Constant padding copies the input
into the interior of a new array (its adjoint crops); the other modes gather
through per-dimension index maps (their adjoint scatter-adds), see
``kernels.py``. A non-zero constant is written into the border after the
linear zero padding, so the recorded map stays linear.
"""

import operator

import numpy as np

from ember.autograd import linear_map
from ember.backend import check_allocation, data_of

from .kernels import fill_border
from .._checks import tensor_arg

__all__ = ["pad"]

_MODES = ("constant", "reflect", "replicate", "circular")
_NODE = {"reflect": "ReflectionPad{}DBackward0", "replicate": "ReplicationPad{}DBackward0"}
_KERNEL_NAME = {"reflect": "reflection_pad{}d", "replicate": "replication_pad{}d"}
_C_NAMES = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int",
            "int64": "int64_t", "float16": "c10::Half", "float32": "float", "float64": "double"}
_DIM_LETTER = "DHW"


def _pad_tuple(pad):
    if not isinstance(pad, (tuple, list)):
        raise TypeError(f"pad(): argument 'pad' (position 2) must be tuple of ints, not {type(pad).__name__}")
    out = []
    for i, p in enumerate(pad):
        if isinstance(p, (bool, np.bool_)):
            raise TypeError(f"pad(): argument 'pad' (position 2) must be tuple of ints, but found "
                            f"element of type bool at pos {i}")
        try:
            out.append(operator.index(p))
        except TypeError:
            raise TypeError(f"pad(): argument 'pad' (position 2) must be tuple of ints, but found "
                            f"element of type {type(p).__name__} at pos {i}") from None
    return tuple(out)


def _fill_value(value, dtype):
    """``value`` as a scalar of ``dtype``, refused where torch refuses it (overflow)."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    np_dtype = dtype.np
    if np_dtype.kind == "b":
        return bool(value)
    v = float(value) if not isinstance(value, (int, np.integer)) else int(value)
    if np_dtype.kind in "iu":
        info = np.iinfo(np_dtype)
        if isinstance(v, float):
            if not np.isfinite(v):
                v = None
            else:
                v = int(v)  # truncation toward zero, as a C cast
        if v is None or not info.min <= v <= info.max:
            raise RuntimeError(f"value cannot be converted to type {_C_NAMES[np_dtype.name]} without overflow")
        return v
    v = float(v)
    if np.isfinite(v) and abs(v) > float(np.finfo(np_dtype).max):
        raise RuntimeError(f"value cannot be converted to type {_C_NAMES[np_dtype.name]} without overflow")
    return v


def _check_reflect_replicate(mode, shape, spec):
    k, ndim = len(spec), len(shape)
    batched = ndim == k + 2
    if any(s == 0 for i, s in enumerate(shape) if not (batched and i == 0)):
        raise RuntimeError(f"Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 batch size "
                           f"and other non-zero dimensions for input, but got: {list(shape)}")
    if mode == "reflect":
        for j, (n, lo, hi) in enumerate(reversed(spec)):
            if lo >= n or hi >= n:
                raise RuntimeError(
                    f"Argument #{4 + 2 * j}: Padding size should be less than the corresponding input "
                    f"dimension, but got: padding ({lo}, {hi}) at dimension {ndim - 1 - j} of input {list(shape)}")
    for j, (n, lo, hi) in enumerate(reversed(spec)):
        out = n + lo + hi
        # torch refuses an empty output in 1-d only; a negative size is never allowed
        if out < (1 if k == 1 else 0):
            letter = _DIM_LETTER[2 - j]
            raise RuntimeError(f"input ({letter}: {n}) is too small. Calculated output {letter}: {out}")


def _check_circular(spec):
    for n, lo, hi in spec:
        if lo > n or hi > n:
            raise RuntimeError(f"Padding value causes wrapping around more than once: padding ({lo}, {hi}) "
                               f"of a dimension of size {n}")
        out = n + lo + hi
        if out < 0:
            raise RuntimeError("Negative padding value is resulting in an empty dimension")
        kept = n - max(-lo, 0) - max(-hi, 0)
        if out > 0 and (kept <= 0 or lo > kept or hi > kept):
            # torch crops first and then wraps the kept part; more padding than is
            # kept would wrap it more than once (torch fails or reads garbage there)
            raise RuntimeError(
                f"Padding value causes wrapping around more than once: padding ({lo}, {hi}) of a "
                f"dimension of size {n} keeps {max(kept, 0)} elements after cropping")


def pad(input, pad, mode="constant", value=None):
    """Pad (or, with negative pads, crop) the last dimensions of ``input``.

    ``pad`` lists ``(left, right)`` pairs starting from the last dimension:
    ``(left, right)`` pads the last dimension, ``(left, right, top, bottom)``
    the last two, ``(left, right, top, bottom, front, back)`` the last three.

    Args:
        input (Tensor): the tensor to pad.
        pad (tuple of int): an even number of sizes, at most twice ``input.dim()``.
            Negative sizes remove elements.
        mode (str): ``'constant'`` (any number of dimensions, any dtype),
            ``'reflect'`` (mirror about the edge element, which is not repeated),
            ``'replicate'`` (repeat the edge element) or ``'circular'`` (wrap
            around). The last three pad the last 1, 2 or 3 dimensions of a
            batched or unbatched input: ``(C, W)``/``(N, C, W)``,
            ``(C, H, W)``/``(N, C, H, W)`` or ``(C, D, H, W)``/``(N, C, D, H, W)``.
            Default: ``'constant'``.
        value (float, optional): fill value of ``'constant'`` padding. Default: ``0``.

    Returns:
        Tensor: same dtype, each padded dimension of size ``size + left + right``.

    Examples::

        >>> x = ember.arange(4.0).reshape(1, 1, 4)
        >>> F.pad(x, (2, 1), mode="reflect").tolist()
        [[[2.0, 1.0, 0.0, 1.0, 2.0, 3.0, 2.0]]]
        >>> F.pad(x, (1, 1), value=-1.0).tolist()
        [[[-1.0, 0.0, 1.0, 2.0, 3.0, -1.0]]]
        >>> F.pad(x, (-1, 2), mode="circular").tolist()
        [[[1.0, 2.0, 3.0, 1.0, 2.0]]]
    """
    tensor_arg(input, "pad", "input")
    pad = _pad_tuple(pad)
    if not isinstance(mode, str):
        raise TypeError(f"pad(): argument 'mode' (position 3) must be str, not {type(mode).__name__}")
    if mode not in _MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    shape = tuple(input.shape)
    ndim, k = len(shape), len(pad) // 2
    if k > ndim:
        raise RuntimeError("Padding length should be less than or equal to two times the input dimension "
                           f"but got padding length {len(pad)} and input of dimension {ndim}")
    spec = tuple((shape[ndim - k + i], pad[2 * (k - 1 - i)], pad[2 * (k - 1 - i) + 1]) for i in range(k))
    check_allocation(shape[:ndim - k] + tuple(max(n + lo + hi, 0) for n, lo, hi in spec),
                     input.element_size(), "pad")
    if mode == "constant":
        return _constant_pad(input, spec, value)
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if not (1 <= k <= 3 and ndim in (k + 1, k + 2)):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {ndim}D input tensor.")
    if mode == "circular":
        _check_circular(spec)
        name = "CopySlices"
    else:
        if input.dtype.name == "bool":
            raise NotImplementedError(f'"{_KERNEL_NAME[mode].format(k)}" not implemented for \'Bool\'')
        _check_reflect_replicate(mode, shape, spec)
        name = _NODE[mode].format(k)
    return linear_map(input, f"padding.{mode}", f"padding.{mode}_adjoint", (spec,), name)


def _constant_pad(input, spec, value):
    for n, lo, hi in spec:
        if n - max(-lo, 0) - max(-hi, 0) < 0:
            raise RuntimeError(f"narrow(): length must be non-negative. (padding ({lo}, {hi}) crops more "
                               f"than the {n} elements of its dimension)")
    fill = _fill_value(value, input.dtype)
    out = linear_map(input, "padding.constant", "padding.constant_adjoint", (spec,), "ConstantPadNdBackward0")
    if fill is not None and (fill != 0 or np.signbit(fill)):
        fill_border(data_of(out), spec, fill)
    return out
