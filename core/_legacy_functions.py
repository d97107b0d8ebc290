"""Top-level names that PyTorch 1.0 programs still call: ``ember.range`` (deprecated, end
included), ``ember.is_storage``, and the in-place ops as functions (``ember.relu_(x)``)."""

import math
import numbers
import warnings

import numpy as np

from . import _dtype
from ._creation import _place
from ._tensor import Tensor

# torch's in-place functions ``torch.<name>_`` that are also Tensor methods: each is
# exported as ``ember.<name>_`` when ember's Tensor has the method.
TORCH_INPLACE_FUNCTIONS = (
    "abs_", "acos_", "acosh_", "addmv_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_",
    "arctanh_", "as_strided_", "asin_", "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_",
    "clamp_min_", "clip_", "conj_physical_", "cos_", "cosh_", "deg2rad_", "detach_", "erf_", "erfc_",
    "exp2_", "exp_", "expm1_", "fill_", "fix_", "floor_", "frac_", "gcd_", "i0_", "index_put_", "lcm_",
    "ldexp_", "log10_", "log1p_", "log2_", "log_", "logit_", "nan_to_num_", "neg_", "negative_",
    "rad2deg_", "reciprocal_", "relu_", "resize_as_", "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_",
    "sinh_", "sqrt_", "square_", "tan_", "tanh_", "trunc_", "xlogy_", "zero_",
)


def inplace_functions():
    """``{name: Tensor.<name>}`` for the in-place methods torch also offers as functions."""
    return {name: getattr(Tensor, name) for name in TORCH_INPLACE_FUNCTIONS if hasattr(Tensor, name)}


def _bound(name, position, value):
    if isinstance(value, Tensor):
        value = value.item()
    if not isinstance(value, numbers.Number) or isinstance(value, complex):
        raise TypeError(f"range(): argument '{name}' (position {position}) must be Number, "
                        f"not {type(value).__name__}")
    return value


def range(start, end, step=1, *, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    """Deprecated: ``start, start + step, ...`` up to and *including* ``end`` (unlike
    Python's ``range`` and ``ember.arange``), in the default floating dtype unless
    ``dtype`` is given. Warns; use ``ember.arange(start, end + step, step)`` instead."""
    warnings.warn("ember.range is deprecated and will be removed: unlike Python's range it includes "
                  "the end. Use ember.arange, whose values lie in [start, end).", UserWarning, stacklevel=2)
    start, end, step = (_bound(n, i, v) for i, (n, v) in enumerate(zip(("start", "end", "step"),
                                                                         (start, end, step)), 1))
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if not (math.isfinite(start) and math.isfinite(end)):
        raise RuntimeError(f"unsupported range: {start} -> {end}")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    dt = _dtype.get_default_dtype() if dtype is None else _dtype.to_dtype(dtype)
    count = int(math.floor((end - start) / step)) + 1
    work = np.float64 if dt.category == 2 else np.int64
    values = (start + np.arange(count, dtype=work) * step).astype(dt.np)
    if out is None:
        return _place(values, device, requires_grad)
    if tuple(out.shape) != values.shape:
        raise RuntimeError(f"range(): out has shape {list(out.shape)}, the range has {count} elements")
    return out.copy_(_place(values, out.device, False))


def is_storage(obj):
    """Whether ``obj`` is a storage object; ember has none, so always False."""
    return False
