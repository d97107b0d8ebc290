"""Index maps of the padding modes, the generic padding kernels (any ``xp``), and
the family's kernel table (with the Cython ones of ``cpu.py`` and the CuPy
RawKernels of ``cuda.py``).

Every padding mode is linear in the input and separable: along each padded
dimension of size ``n`` with pads ``(lo, hi)``, output position ``j`` reads one
input position ``idx[j]`` (reflect, replicate, circular) or a constant
(constant padding). So the forward pass is a gather along each padded dimension
and its adjoint, the gradient, a scatter-add through the same maps: several
output positions can read one input element.

A kernel's ``spec`` is one ``(n, lo, hi)`` per padded dimension, outermost
first, for the last ``len(spec)`` dimensions of the array. Negative pads crop.

Circular padding with a negative pad crops first and then wraps the cropped
values, as torch does: ``pad([0, 1, 2, 3], (-1, 1), 'circular')`` is
``[1, 2, 3, 1]``.
"""

from functools import lru_cache

import numpy as np

from ember import kernels

__all__ = ["index_map", "fill_border", "negated", "device_id", "MODES"]

MODES = ("reflect", "replicate", "circular")


@lru_cache(maxsize=1024)
def index_map(mode, n, lo, hi):
    """The map of one padded dimension: ``(idx, (a, b, i0))``.

    ``idx`` (read-only int64, length ``n + lo + hi``) holds the input position
    each output position reads; output positions ``a..b-1`` read the contiguous
    inputs ``i0..i0+b-a-1`` (the copied interior), the others are border.
    The caller has checked the pads (torch's rules for ``mode``).
    """
    out = n + lo + hi
    j = np.arange(out, dtype=np.int64)
    if mode == "reflect":
        r = np.abs(j - lo)
        idx = (n - 1) - np.abs((n - 1) - r)
    elif mode == "replicate":
        idx = np.clip(j - lo, 0, n - 1)
    elif mode == "circular":
        start = max(-lo, 0)
        kept = n - start - max(-hi, 0)
        idx = (j - max(lo, 0)) % kept + start if out > 0 else j
    else:
        raise ValueError(f"no index map for padding mode '{mode}'")
    a = max(lo, 0)
    b = max(a, min(out, n + lo))
    i0 = max(-lo, 0) if b > a else 0
    idx = np.ascontiguousarray(idx, dtype=np.int64)
    idx.flags.writeable = False
    return idx, (a, b, i0)


def negated(spec):
    """The spec of the transposed constant pad: crop what was padded, pad what was cropped."""
    return tuple((n + lo + hi, -lo, -hi) for n, lo, hi in spec)


def _axis_index(ndim, axis, index):
    return (slice(None),) * axis + (index,) + (slice(None),) * (ndim - axis - 1)


def fill_border(out, spec, value):
    """Write ``value`` into the padded (not copied) part of ``out``, in place."""
    k = len(spec)
    for i, (n, lo, hi) in enumerate(spec):
        axis = out.ndim - k + i
        size = out.shape[axis]
        if lo > 0:
            out[_axis_index(out.ndim, axis, slice(0, min(lo, size)))] = value
        if hi > 0:
            out[_axis_index(out.ndim, axis, slice(max(size - hi, 0), size))] = value
    return out


def _constant(xp):
    def constant(x, spec):
        """Zero padding of the last ``len(spec)`` dims; negative pads crop."""
        k = len(spec)
        lead = x.shape[:x.ndim - k]
        src, dst, shape = [], [], []
        for n, lo, hi in spec:
            start, stop = max(-lo, 0), n - max(-hi, 0)
            kept = max(stop - start, 0)
            src.append(slice(start, start + kept))
            dst.append(slice(max(lo, 0), max(lo, 0) + kept))
            shape.append(n + lo + hi)
        out = xp.empty(tuple(lead) + tuple(shape), dtype=x.dtype)
        fill_border(out, spec, 0)
        full = (slice(None),) * len(lead)
        out[full + tuple(dst)] = x[full + tuple(src)]
        return out

    return constant


def _constant_adjoint(xp):
    constant = _constant(xp)

    def constant_adjoint(g, spec):
        """Crop what the forward padded, zero-pad what it cropped."""
        return constant(g, negated(spec))

    return constant_adjoint


def device_id(xp):
    """The current device's index in namespace ``xp`` (None for NumPy): device
    copies of the index maps are kept per device."""
    device = getattr(getattr(xp, "cuda", None), "Device", None)
    return device().id if device is not None else None


class _DeviceMaps:
    """Index maps as arrays of one backend, made once per (mode, n, lo, hi, device)."""

    def __init__(self, xp):
        self.xp = xp
        self.cache = {}

    def get(self, mode, n, lo, hi, border=False):
        key = (mode, n, lo, hi, border, device_id(self.xp))
        arr = self.cache.get(key)
        if arr is None:
            idx, (a, b, _) = index_map(mode, n, lo, hi)
            if border:
                pos = np.concatenate([np.arange(0, a), np.arange(b, idx.shape[0])]).astype(np.int64)
                arr = (self.xp.asarray(pos), self.xp.asarray(idx[pos]))
            else:
                arr = self.xp.asarray(idx)
            self.cache[key] = arr
        return arr


def _gather_for(mode):
    def factory(xp):
        maps = _DeviceMaps(xp)

        def gather(x, spec):
            """Read each output element from its input element through the maps."""
            k = len(spec)
            y = x
            for i, (n, lo, hi) in enumerate(spec):
                if lo == 0 and hi == 0:
                    continue
                y = xp.take(y, maps.get(mode, n, lo, hi), axis=x.ndim - k + i)
            return xp.array(y, copy=True) if y is x else y

        return gather

    return factory


def _scatter_for(mode):
    def factory(xp):
        maps = _DeviceMaps(xp)

        def scatter(g, spec):
            """The adjoint of the gather: add each gradient element onto the element it was read from."""
            k = len(spec)
            res = g
            for i, (n, lo, hi) in enumerate(spec):
                if lo == 0 and hi == 0:
                    continue
                axis = g.ndim - k + i
                _, (a, b, i0) = index_map(mode, n, lo, hi)
                shape = list(res.shape)
                shape[axis] = n
                acc = xp.zeros(tuple(shape), dtype=res.dtype)
                if b > a:
                    acc[_axis_index(acc.ndim, axis, slice(i0, i0 + b - a))] = \
                        res[_axis_index(res.ndim, axis, slice(a, b))]
                pos, targets = maps.get(mode, n, lo, hi, border=True)
                if pos.shape[0]:
                    xp.add.at(acc, _axis_index(acc.ndim, axis, targets), xp.take(res, pos, axis=axis))
                res = acc
            return xp.array(res, copy=True) if res is g else res

        return scatter

    return factory


GENERIC_KERNELS = {
    "padding.constant": _constant,
    "padding.constant_adjoint": _constant_adjoint,
    **{f"padding.{m}": _gather_for(m) for m in MODES},
    **{f"padding.{m}_adjoint": _scatter_for(m) for m in MODES},
}


def table():
    """``(op, backend) -> kernel`` for ``ember_register_kernels``."""
    from . import cuda  # CuPy kernel factories: nothing is built before a cuda op runs
    from .cpu import cpu_kernels

    return kernels.table(GENERIC_KERNELS, cpu=cpu_kernels(), cuda=cuda.KERNELS)
