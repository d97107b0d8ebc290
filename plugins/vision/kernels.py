"""The vision family's kernels: generic (array-namespace) ones, which CuPy runs
too, the Cython pair of ``_upsample.pyx`` for float32/float64 on the CPU, the CuPy
pair of ``cuda.py`` for them on the cuda backend, and the family's kernel table.

``vision.interp(x, taps, adjoint_taps, in_spatial, out_spatial)`` applies a
separable map, one CSR table of taps per trailing spatial axis (see
``_taps.py``), and ``vision.interp_adjoint`` (same arguments) applies the
transpose of ``adjoint_taps``. The two tables are the same object except
where torch's backward kernel indexes differently from its forward kernel
(1-d and 3-d ``nearest``), whose numbers ember reproduces. Axes are
processed last to first, the order torch nests its per-axis sums in, so the
float32 results round the same way.

``vision.pixel_shuffle(x, r)`` / ``vision.pixel_unshuffle(x, r)`` move
``r*r`` channel groups into ``r x r`` spatial blocks and back; each is the
other's adjoint (a permutation's transpose is its inverse).

``vision.grid_sample`` and ``vision.grid_sample_backward`` have their generic
kernels in ``_sampling.py``.
"""

import numpy as np

from ember import kernels



def _opmath(dtype):
    """The dtype sums run in: float64 stays, anything else computes in float32."""
    return np.float64 if np.dtype(dtype) == np.float64 else np.float32


def _padded(taps):
    """CSR taps as rectangular ``(n_out, k)`` index/weight/validity arrays (host)."""
    ptr, idx, w = taps
    counts = np.diff(ptr)
    width = max(int(counts.max(initial=0)), 1)
    k = np.arange(width)
    valid = k[None, :] < counts[:, None]
    pos = np.where(valid, ptr[:-1, None] + k[None, :], 0)
    if idx.size == 0:
        return np.zeros(valid.shape, np.int64), np.zeros(valid.shape, w.dtype), valid
    return idx[pos], np.where(valid, w[pos], 0).astype(w.dtype), valid


def _apply_axis(xp, x, axis, taps):
    idx, w, valid = _padded(taps)
    tail = (1,) * (x.ndim - axis - 1)
    out = None
    for k in range(idx.shape[1]):
        wk = xp.asarray(w[:, k]).reshape((-1,) + tail)
        term = xp.take(x, xp.asarray(idx[:, k]), axis=axis) * wk
        if not valid[:, k].all():  # where(), not a zero weight: inf * 0 would be nan
            term = xp.where(xp.asarray(valid[:, k]).reshape((-1,) + tail), term, 0)
        out = term if out is None else out + term
    return out


def _scatter_add(xp, target, index, values):
    """``target[index[i]] += values[i]`` along axis 0, repeated indices summed."""
    at = getattr(xp.add, "at", None)
    if at is not None:
        at(target, index, values)
    else:  # older CuPy
        import cupyx

        cupyx.scatter_add(target, index, values)


def _adjoint_axis(xp, g, axis, taps, n_in):
    # a scatter-add of the weighted rows; on CuPy this measured faster than
    # gathering through the transposed taps (which needs masks and more passes)
    ptr, idx, w = taps
    rows = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))
    moved = xp.moveaxis(g, axis, 0)
    tail = (1,) * (moved.ndim - 1)
    res = xp.zeros((n_in,) + moved.shape[1:], dtype=g.dtype)
    if rows.size:
        vals = moved[xp.asarray(rows)] * xp.asarray(w).reshape((-1,) + tail)
        _scatter_add(xp, res, xp.asarray(idx), vals.astype(g.dtype, copy=False))
    return xp.moveaxis(res, 0, axis)


def _interp(xp):
    def interp(x, taps, adjoint_taps, in_spatial, out_spatial):
        nd = len(in_spatial)
        y = x.astype(_opmath(x.dtype), copy=False)
        for a in reversed(range(nd)):
            y = _apply_axis(xp, y, x.ndim - nd + a, _weights_as(taps[a], y.dtype))
        return y.astype(x.dtype, copy=False)
    return interp


def _interp_adjoint(xp):
    def interp_adjoint(g, forward_taps, taps, in_spatial, out_spatial):
        nd = len(out_spatial)
        y = g.astype(_opmath(g.dtype), copy=False)
        for a in range(nd):
            y = _adjoint_axis(xp, y, g.ndim - nd + a, _weights_as(taps[a], y.dtype), in_spatial[a])
        return y.astype(g.dtype, copy=False)
    return interp_adjoint


def _weights_as(taps, dtype):
    ptr, idx, w = taps
    return ptr, idx, np.asarray(w).astype(dtype, copy=False)


def _pixel_shuffle(xp):
    def pixel_shuffle(x, r):
        *lead, c, h, w = x.shape
        blocks = x.reshape(tuple(lead) + (c // (r * r), r, r, h, w))
        n = len(lead)
        order = tuple(range(n)) + (n, n + 3, n + 1, n + 4, n + 2)
        return xp.ascontiguousarray(blocks.transpose(order)).reshape(
            tuple(lead) + (c // (r * r), h * r, w * r))
    return pixel_shuffle


def _pixel_unshuffle(xp):
    def pixel_unshuffle(x, r):
        *lead, c, h, w = x.shape
        blocks = x.reshape(tuple(lead) + (c, h // r, r, w // r, r))
        n = len(lead)
        order = tuple(range(n)) + (n, n + 2, n + 4, n + 1, n + 3)
        return xp.ascontiguousarray(blocks.transpose(order)).reshape(
            tuple(lead) + (c * r * r, h // r, w // r))
    return pixel_unshuffle


GENERIC_KERNELS = {
    "vision.interp": _interp,
    "vision.interp_adjoint": _interp_adjoint,
    "vision.pixel_shuffle": _pixel_shuffle,
    "vision.pixel_unshuffle": _pixel_unshuffle,
}


def _floating(x, *args):
    return kernels.floating(x)


def table():
    """``(op, backend) -> kernel`` for ``ember_register_kernels``."""
    from . import cuda  # CuPy kernel factories: nothing is built before a cuda op runs
    from ._sampling import GENERIC_KERNELS as sampling

    generic = {**GENERIC_KERNELS, **sampling}
    try:
        from . import _upsample
    except ImportError:  # not built: the generic kernels serve the cpu backend
        return kernels.table(generic, cuda=cuda.KERNELS)
    return kernels.table(generic, cuda=cuda.KERNELS, cpu={
        "vision.interp": kernels.kernel(_upsample.interp, accepts=_floating),
        "vision.interp_adjoint": kernels.kernel(_upsample.interp_adjoint, accepts=_floating),
    })
