"""Whole-tensor comparisons: ``equal``, ``isclose``, ``allclose``, and ``numel``."""

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from .binary import eq
from .common import _make, broadcast_error, is_scalar, same_backend


def _check_operands(input, other, op):
    for name, x, position in (("input", input, 1), ("other", other, 2)):
        if not isinstance(x, Tensor):
            raise TypeError(f"{op}(): argument '{name}' (position {position}) must be Tensor, "
                            f"not {type(x).__name__}")
    return same_backend(input, other)


def equal(input, other):
    """True when both tensors have the same shape and equal elements (compared in their
    promoted dtype, so ``tensor([1]) == tensor([1.])``); NaN equals nothing.

    Example:
        >>> ember.equal(ember.tensor([1, 2]), ember.tensor([1., 2.]))
        True
    """
    _check_operands(input, other, "equal")
    if input._data.shape != other._data.shape:
        return False
    return bool(eq(input, other)._data.all())


def _tolerance(value, name):
    if not is_scalar(value) or isinstance(value, bool):
        raise TypeError(f"isclose(): argument '{name}' must be float, not {type(value).__name__}")
    value = float(value)
    if not value >= 0:  # NaN fails too
        raise RuntimeError(f"{name} must be greater than or equal to zero, but got {value:g}")
    return value


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise ``|input - other| <= atol + rtol * |other|`` (broadcast together), or
    exact equality (infinities close only to themselves); NaNs are close to each other
    only with ``equal_nan=True``.

    Both tensors must have the same dtype. Integer and bool tensors are compared in the
    default floating dtype, as torch does.

    Example:
        >>> ember.isclose(ember.tensor([1., 2.]), ember.tensor([1.000001, 2.1]))
        tensor([ True, False])
    """
    be = _check_operands(input, other, "isclose")
    if input.dtype is not other.dtype:
        raise RuntimeError(f"{input.dtype.scalar_name} did not match {other.dtype.scalar_name}")
    rtol, atol = _tolerance(rtol, "rtol"), _tolerance(atol, "atol")
    err = broadcast_error(input._data.shape, other._data.shape)
    if err is not None:
        raise err
    xp = be.xp
    a, b = input._data, other._data
    close = a == b
    if equal_nan and input.dtype.is_floating_point:
        close = close | (xp.isnan(a) & xp.isnan(b))
    if rtol or atol:
        close = close | _within_tolerance(a, b, rtol, atol, input.dtype, xp)
    return _make(xp.asarray(close), be)


def _within_tolerance(a, b, rtol, atol, dt, xp):
    """``isfinite(|a - b|) & |a - b| <= atol + |rtol * b|``, each step rounded to the
    working dtype: the tensors' floating dtype, else the default one (float16 steps are
    computed in float32 and rounded back, as torch does)."""
    work = dt if dt.is_floating_point else _dtype.get_default_dtype()
    wide = np.float32 if work.np == np.float16 else work.np

    def rounded(x):
        return x.astype(work.np).astype(wide) if wide != work.np else x

    a, b = a.astype(wide), b.astype(wide)
    allowed = rounded(atol + xp.abs(rounded(b * rtol)))
    actual = xp.abs(rounded(a - b))
    return xp.isfinite(actual) & (actual <= allowed)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True when every element of ``isclose(input, other, rtol, atol, equal_nan)`` is true.

    Example:
        >>> ember.allclose(ember.tensor([1., 2.]), ember.tensor([1., 2.000001]))
        True
    """
    be = _check_operands(input, other, "allclose")
    close = isclose(input, other, rtol, atol, equal_nan)
    return bool(be.xp.all(close._data))


def numel(input):
    """The number of elements of ``input``.

    Example:
        >>> ember.numel(ember.zeros(2, 3))
        6
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"numel(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    return int(input._data.size)


FUNCTIONS = {"equal": equal, "isclose": isclose, "allclose": allclose, "numel": numel}
METHODS = {"equal": equal, "isclose": isclose, "allclose": allclose}
