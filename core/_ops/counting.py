"""Counting ops: histc, bincount, unique, unique_consecutive.

Their results are counts and distinct values, not differentiable functions of the
input: no gradient is recorded (torch records a node that refuses to backward).
"""

import math

import numpy as np

from .common import _make, check_tensor, is_scalar, normalize_dim, same_backend


# ----------------------------------------------------------------- histc
def _histc_range(x, min, max):
    """The histogram's (low, high) edges, as torch picks them."""
    if not is_scalar(min) or not is_scalar(max):
        raise TypeError("histc(): 'min' and 'max' must be numbers")
    low, high = float(min), float(max)
    if low > high:
        raise RuntimeError("torch.histc: max must be larger than min")
    if low == high and x.size:  # no range given: the data's own
        low, high = float(x.min()), float(x.max())
    if low == high:
        low, high = low - 1, high + 1
    if not (np.isfinite(low) and np.isfinite(high)):
        raise RuntimeError(f"torch.histc: range of [{low}, {high}] is not finite")
    return low, high


def histc(input, bins=100, min=0, max=0):
    """Counts of the elements in ``bins`` equal-width bins between ``min`` and ``max``
    (the data's own minimum and maximum when both are 0); elements outside the range
    (and NaN) are not counted, an element equal to ``max`` counts in the last bin.
    Returns a tensor of the input's floating dtype."""
    check_tensor(input)
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{input.dtype.scalar_name}'")
    if not isinstance(bins, (int, np.integer)) or isinstance(bins, bool):
        raise TypeError(f"histc(): argument 'bins' must be int, not {type(bins).__name__}")
    if bins <= 0:
        raise RuntimeError(f"torch.histc: bins must be > 0, but got {bins}")
    xp, x = input._be.xp, input._data.reshape(-1)
    low, high = _histc_range(x, min, max)
    dt = x.dtype.type
    left, right = dt(low), dt(high)
    inside = x[(x >= left) & (x <= right)]
    # the bin position in the input's precision, as torch computes it
    position = ((inside - left) * dt(bins) / (right - left)).astype(np.int64)
    position = xp.minimum(position, bins - 1)
    counts = xp.bincount(position, minlength=bins).astype(x.dtype)
    return _make(counts, input._be)


# ----------------------------------------------------------------- bincount
def bincount(input, weights=None, minlength=0):
    """How often each value 0, 1, ..., occurs in a 1-D tensor of non-negative integers
    (at least ``minlength`` counts); with ``weights``, the sum of each value's weights
    (float32 weights give float32, others float64)."""
    check_tensor(input)
    kind = input._data.dtype.kind
    if kind not in "iu":
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{input.dtype.scalar_name}'")
    data = input._data
    if data.ndim != 1 or (data.size and int(data.min()) < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if not isinstance(minlength, (int, np.integer)) or isinstance(minlength, bool):
        raise TypeError(f"bincount(): argument 'minlength' must be int, not {type(minlength).__name__}")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    xp = input._be.xp
    if weights is None:
        return _make(xp.bincount(data, minlength=int(minlength)).astype(np.int64), input._be)
    check_tensor(weights, "weights")
    same_backend(input, weights)
    if weights._data.ndim != 1 or weights._data.shape[0] != data.shape[0]:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    out_dtype = np.float32 if weights._data.dtype == np.float32 else np.float64
    counts = xp.bincount(data, weights=weights._data.astype(np.float64), minlength=int(minlength))
    return _make(counts.astype(out_dtype), input._be)


# ----------------------------------------------------------------- unique
def _unique_args(input, dim):
    check_tensor(input)
    if dim is None:
        return None
    if input._data.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = normalize_dim(dim, input._data.ndim)
    shape = input._data.shape
    if shape[d] and any(s == 0 for i, s in enumerate(shape) if i != d):
        raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so unique cannot be applied")
    return d


def _as_rows(xp, data, d):
    """The slices along ``d`` as rows of a 2-D array (a flattened tensor: one per element)."""
    if d is None:
        return data.reshape(-1, 1)
    moved = xp.moveaxis(data, d, 0)
    return moved.reshape(moved.shape[0], math.prod(moved.shape[1:]))


def _groups(xp, rows, order):
    """For rows taken in ``order``: where each run of equal rows starts, and the run each
    row belongs to. NaN never equals NaN, so each NaN is a run of its own."""
    ordered = rows[order]
    starts = xp.ones(len(order), dtype=bool)
    if len(order) > 1:
        starts[1:] = xp.any(ordered[1:] != ordered[:-1], axis=1)
    return starts, xp.cumsum(starts) - 1


def _unique_result(input, d, rows, order, return_inverse, return_counts):
    xp, be = input._be.xp, input._be
    starts, run = _groups(xp, rows, order)
    picked = order[starts]
    if d is None:
        values = input._data.reshape(-1)[picked]
    else:
        values = xp.take(input._data, picked, axis=d)
    out = [_make(xp.ascontiguousarray(values), be)]
    if return_inverse:
        inverse = xp.empty(len(order), dtype=np.int64)
        inverse[order] = run
        out.append(_make(inverse.reshape(input._data.shape if d is None else (-1,)), be))
    if return_counts:
        bounds = xp.concatenate([xp.nonzero(starts)[0], xp.asarray([len(order)])])
        out.append(_make(xp.diff(bounds).astype(np.int64), be))
    return out[0] if len(out) == 1 else tuple(out)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct elements of ``input`` in ascending order (with ``dim``: the distinct
    slices along it, in lexicographic order); optionally also, for each element (or
    slice), the index of its value in the result, and how often each value occurs.

    Returns a tensor, or a tuple ``(output, inverse_indices?, counts?)`` when asked for
    more. ``sorted=False`` is accepted and gives the same ascending order."""
    d = _unique_args(input, dim)
    xp = input._be.xp
    rows = _as_rows(xp, input._data, d)
    if rows.shape[0] and rows.shape[1]:
        # lexsort takes its primary key last; a stable sort keeps equal rows in order
        order = xp.lexsort(rows.T[::-1]) if rows.shape[1] > 1 else xp.argsort(rows[:, 0], kind="stable")
    else:
        order = xp.arange(rows.shape[0])
    return _unique_result(input, d, rows, order.astype(np.int64), return_inverse, return_counts)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Like ``unique``, but only runs of equal neighbouring elements (or slices along
    ``dim``) are merged, and the order is kept."""
    d = _unique_args(input, dim)
    xp = input._be.xp
    rows = _as_rows(xp, input._data, d)
    return _unique_result(input, d, rows, xp.arange(rows.shape[0], dtype=np.int64), return_inverse, return_counts)


_OPS = dict(histc=histc, bincount=bincount, unique=unique, unique_consecutive=unique_consecutive)
FUNCTIONS = dict(_OPS)
METHODS = dict(_OPS)
