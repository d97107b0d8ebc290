"""Per-axis interpolation taps: which input samples, with which weights, make
each output sample along one spatial axis.

Every ``F.interpolate`` mode is separable: the value at an output point is a
product of per-axis weights times input samples, so one sparse matrix per
axis describes the whole map. An axis table is stored in CSR form
``(ptr, idx, w)``: output ``j`` takes input samples ``idx[ptr[j]:ptr[j+1]]``
with weights ``w[ptr[j]:ptr[j+1]]``.

The source coordinates follow torch's CPU kernels to the bit, including the
precision they compute in (float32 for float32 tensors, float64 for float64,
float32 ``scale`` for the nearest modes), their shortcuts for equal sizes
(linear) and for equal and doubled sizes (2-d nearest only), and ``1/scale_factor`` (not ``in/out``) as the step when a
scale factor reaches the kernel. Taps whose weight is exactly zero are left
out (torch multiplies them, which only differs for infinite inputs).
"""

import functools

import numpy as np

__all__ = ["axis_taps"]

_CUBIC_A = -0.75


def _csr(idx, w, dtype):
    """Pack per-output tap lists (2-d arrays, one row per output) into CSR,
    dropping zero weights."""
    idx = np.asarray(idx, dtype=np.int64)
    w = np.asarray(w, dtype=dtype)
    keep = w != 0
    counts = keep.sum(axis=1)
    ptr = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    return ptr, np.ascontiguousarray(idx[keep]), np.ascontiguousarray(w[keep])


def _step(in_size, out_size, align_corners, scale, t):
    """torch's ``area_pixel_compute_scale`` in precision ``t``."""
    if align_corners:
        return t(in_size - 1) / t(out_size - 1) if out_size > 1 else t(0)
    if scale is not None and scale > 0:
        return t(1.0 / scale)
    return t(in_size) / t(out_size)


def _nearest(in_size, out_size, scale, exact, shortcuts):
    j = np.arange(out_size)
    if shortcuts and out_size == in_size:
        return j
    if shortcuts and out_size == 2 * in_size:
        return j >> 1
    step = np.float32(1.0 / scale) if scale is not None and scale > 0 else \
        np.float32(in_size) / np.float32(out_size)
    if exact:
        # (j + 0.5) * step is a double product, rounded to float before floorf
        src = ((j + 0.5) * np.float64(step)).astype(np.float32)
    else:
        src = j.astype(np.float32) * step
    return np.minimum(np.floor(src).astype(np.int64), in_size - 1)


def _source(in_size, out_size, align_corners, scale, t, cubic):
    """Real source coordinates of every output index, and (floor, fraction)
    guarded as torch does."""
    step = _step(in_size, out_size, align_corners, scale, t)
    j = np.arange(out_size).astype(t)
    if align_corners:
        real = step * j
    else:
        real = (step * (j + t(0.5)) - t(0.5)).astype(t)
        if not cubic:
            real = np.maximum(real, t(0))
    base = np.minimum(np.floor(real).astype(np.int64), in_size - 1)
    frac = np.clip(real - base.astype(t), t(0), t(1)).astype(t)
    return base, frac


def _linear(in_size, out_size, align_corners, scale, t):
    if out_size == in_size:
        j = np.arange(out_size)
        return j[:, None], np.ones((out_size, 1), dtype=t)
    base, frac = _source(in_size, out_size, align_corners, scale, t, cubic=False)
    nxt = base + (base < in_size - 1)
    return np.stack([base, nxt], 1), np.stack([t(1) - frac, frac], 1)


def _cubic(in_size, out_size, align_corners, scale, t):
    base, x = _source(in_size, out_size, align_corners, scale, t, cubic=True)
    a = t(_CUBIC_A)

    def near(d):  # |d| <= 1
        return ((a + t(2)) * d - (a + t(3))) * d * d + t(1)

    def far(d):  # 1 < |d| < 2
        return ((a * d - t(5) * a) * d + t(8) * a) * d - t(4) * a

    one = t(1)
    w = np.stack([far(x + one), near(x), near(one - x), far(t(2) - x)], 1).astype(t)
    idx = np.clip(base[:, None] + np.arange(-1, 3)[None, :], 0, in_size - 1)
    return idx, w


def _area(in_size, out_size, t):
    if out_size == 0:
        return np.zeros((0, 1), np.int64), np.zeros((0, 1), t)
    j = np.arange(out_size)
    start = (j * in_size) // out_size
    stop = ((j + 1) * in_size + out_size - 1) // out_size
    width = int((stop - start).max())
    k = np.arange(width)[None, :]
    idx = np.minimum(start[:, None] + k, in_size - 1)
    inside = (start[:, None] + k) < stop[:, None]
    w = np.where(inside, t(1) / (stop - start).astype(t)[:, None], t(0))
    return idx, w


@functools.lru_cache(maxsize=512)
def axis_taps(mode, in_size, out_size, align_corners, scale, dtype):
    """CSR taps ``(ptr, idx, w)`` (NumPy, weights of ``dtype``) for one axis.

    Args:
        mode: ``nearest``, ``nearest2d`` (torch's 2-d nearest kernel, which
            copies when the size is kept and halves indices when it doubles,
            whatever the scale factor), ``nearest-exact``, ``linear`` (also
            serves bilinear and trilinear), ``cubic`` or ``area``.
        in_size, out_size: lengths of the axis before and after.
        align_corners: torch's flag (linear and cubic only).
        scale: the user's scale factor when it reaches the kernel, else None.
        dtype: the NumPy dtype the tensor computes in (float32 or float64).
    """
    t = np.dtype(dtype).type
    if mode in ("nearest", "nearest2d", "nearest-exact"):
        idx = _nearest(in_size, out_size, scale, mode == "nearest-exact", mode == "nearest2d")[:, None]
        return _csr(idx, np.ones(idx.shape, dtype=t), t)
    if mode == "linear":
        return _csr(*_linear(in_size, out_size, align_corners, scale, t), t)
    if mode == "cubic":
        return _csr(*_cubic(in_size, out_size, align_corners, scale, t), t)
    if mode == "area":
        return _csr(*_area(in_size, out_size, t), t)
    raise ValueError(f"unknown interpolation mode {mode!r}")


def identity_taps(size, dtype):
    """Taps of an axis left as it is (used to pad 1-d and 2-d maps to 3-d)."""
    return axis_taps("nearest", size, size, None, None, np.dtype(dtype).type)
