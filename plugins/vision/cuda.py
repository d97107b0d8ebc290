"""The cuda backend's kernels of the vision family: ``vision.interp`` and its
adjoint ``vision.interp_adjoint`` as one CuPy RawKernel launch each, for every
interpolation mode, where the generic kernels (``kernels.py``) launch a take, a
product, a mask and a sum per tap of every axis, and a scatter per axis.

Both ops apply a separable map given as one CSR table of taps per spatial axis
(``_taps.py``). One kernel serves both: each thread computes one output element
as nested sums over the taps of every axis, the innermost axis's sum first, each
from zero in tap order, which is the order (and the float32 rounding) of the
generic kernels' passes, one axis at a time:

* the forward nests axes first to last (the generic kernel applies the last axis
  first, so its sum is the innermost);
* the adjoint gathers through the transposed tables (input sample -> the outputs
  that read it, in increasing output order, as the generic scatter-add visits
  them) and nests axes last to first (the generic kernel scatters the first axis
  first). Gathering needs no atomics and gives the same sums on every run.

1-d and 2-d maps run as 3-d ones with unit leading axes (one tap of weight 1).
The tables live on the host; their device copies (weights in the array's dtype,
transposed ones for the adjoint) are kept for the tables last used, so a resize
repeated every step copies nothing to the device after its first call.
"""

from collections import OrderedDict

import numpy as np

from ember.backends.cuda.raw import GRID_STRIDE_LOOP, FloatKernels
from ember.kernels import floating, kernel

#: Device copies of this many tables are kept (per dtype and direction).
CACHED_TABLES = 256

_LEVEL = "const long long* ptr{0}, const long long* idx{0}, const T* w{0}, int out{0}, int ostride{0}, " \
         "long long istride{0}"

# Level 0 is the outermost sum, level 2 the innermost; level L reads axis
# ``(o / ostride L) % out L`` of the output and steps ``istride L`` in the input.
# An output plane's size fits an int: its index arithmetic runs in 32 bits (a
# 64-bit division costs a GPU several times more).
_INTERP = f"""
extern "C" __global__ void ember_interp(const T* x, T* y, long long n, long long in_plane,
        long long out_plane, {_LEVEL.format(0)}, {_LEVEL.format(1)}, {_LEVEL.format(2)}) {{
    {GRID_STRIDE_LOOP} {{
        long long plane = i / out_plane;
        int o = (int)(i - plane * out_plane);
        const T* src = x + plane * in_plane;
        int o0 = (o / ostride0) % out0, o1 = (o / ostride1) % out1, o2 = (o / ostride2) % out2;
        T acc0 = T(0);
        for (long long t0 = ptr0[o0]; t0 < ptr0[o0 + 1]; ++t0) {{
            const T* src0 = src + idx0[t0] * istride0;
            T acc1 = T(0);
            for (long long t1 = ptr1[o1]; t1 < ptr1[o1 + 1]; ++t1) {{
                const T* src1 = src0 + idx1[t1] * istride1;
                T acc2 = T(0);
                for (long long t2 = ptr2[o2]; t2 < ptr2[o2 + 1]; ++t2) {{
                    acc2 += src1[idx2[t2] * istride2] * w2[t2];
                }}
                acc1 += acc2 * w1[t1];
            }}
            acc0 += acc1 * w0[t0];
        }}
        y[i] = acc0;
    }}
}}
"""


def transposed(taps, n_in):
    """The CSR table ``(ptr, idx, w)`` of the transpose of ``taps`` (host arrays, an
    axis of ``n_in`` input samples): input sample -> the outputs reading it, in
    increasing output order."""
    ptr, idx, w = taps
    outputs = np.repeat(np.arange(len(ptr) - 1, dtype=np.int64), np.diff(ptr))
    order = np.argsort(idx, kind="stable")
    t_ptr = np.zeros(n_in + 1, dtype=np.int64)
    np.cumsum(np.bincount(idx, minlength=n_in), out=t_ptr[1:])
    return t_ptr, outputs[order], np.asarray(w)[order]


def _device(xp):
    """The current device's index (None for a namespace without devices): one
    kernel serves every GPU, and a table must be on the GPU that reads it."""
    cuda = getattr(xp, "cuda", None)
    return None if cuda is None else cuda.Device().id


class _Tables:
    """Device copies of CSR tables, per (table, dtype, transposed, device), the last
    :data:`CACHED_TABLES` used. A table is known by identity (``axis_taps`` hands
    out the same tuple for the same axis); each entry holds the table, so its id
    is not reused while the entry lives."""

    def __init__(self, xp):
        self._xp = xp
        self._kept = OrderedDict()
        self._unit = {}

    def get(self, taps, dtype, n_in=None):
        """``(ptr, idx, w)`` on the current device, weights of ``dtype``; with
        ``n_in`` (the axis's input size) those of the transposed table."""
        key = (id(taps), dtype, n_in, _device(self._xp))
        entry = self._kept.get(key)
        if entry is not None and entry[0] is taps:
            self._kept.move_to_end(key)
            return entry[1]
        host = taps if n_in is None else transposed(taps, n_in)
        device = self._upload(host, dtype)
        self._kept[key] = (taps, device)
        if len(self._kept) > CACHED_TABLES:
            self._kept.popitem(last=False)
        return device

    def unit(self, dtype):
        """The table of a unit axis (one tap of weight 1), on the current device."""
        key = (dtype, _device(self._xp))
        found = self._unit.get(key)
        if found is None:
            one = (np.array([0, 1], np.int64), np.zeros(1, np.int64), np.ones(1))
            found = self._unit[key] = self._upload(one, dtype)
        return found

    def _upload(self, taps, dtype):
        ptr, idx, w = taps
        xp = self._xp
        return (xp.asarray(np.ascontiguousarray(ptr, dtype=np.int64)),
                xp.asarray(np.ascontiguousarray(idx, dtype=np.int64)),
                xp.asarray(np.ascontiguousarray(w, dtype=dtype)))


def _strides(spatial):
    """C-order element strides of a 3-d spatial block."""
    return (spatial[1] * spatial[2], spatial[2], 1)


def _separable(xp):
    """``apply(src, tables, src_sp, dst_sp, order)``: the launch shared by both ops.

    ``tables[a]`` maps ``src_sp[a]`` samples of axis ``a`` (one of the trailing
    ``len(src_sp)`` axes of ``src``) to ``dst_sp[a]``; ``order`` lists the axes of
    the 3-d map, outermost sum first.
    """
    run = FloatKernels(xp, _INTERP, "ember_interp")

    def apply(src, tables, src_sp, dst_sp, order):
        lead = src.shape[:src.ndim - len(src_sp)]
        dst = xp.empty(tuple(lead) + tuple(dst_sp), dtype=src.dtype)
        src = xp.ascontiguousarray(src)
        pad = 3 - len(src_sp)
        src3, dst3 = (1,) * pad + tuple(src_sp), (1,) * pad + tuple(dst_sp)
        in_strides, out_strides = _strides(src3), _strides(dst3)
        args = [src, dst, xp.int64(dst.size), xp.int64(src3[0] * in_strides[0]),
                xp.int64(dst3[0] * out_strides[0])]
        for a in order:
            args += [*tables[a], xp.int32(dst3[a]), xp.int32(out_strides[a]), xp.int64(in_strides[a])]
        run(src.dtype, dst.size, args)
        return dst

    return apply


def _interp(xp):
    """``vision.interp``: one launch, axes nested first (outermost) to last."""
    tables, apply = _Tables(xp), _separable(xp)

    def interp(x, taps, adjoint_taps, in_spatial, out_spatial):
        pad = 3 - len(in_spatial)
        device = [tables.unit(x.dtype)] * pad + [tables.get(t, x.dtype) for t in taps]
        return apply(x, device, in_spatial, out_spatial, (0, 1, 2))

    return interp


def _interp_adjoint(xp):
    """``vision.interp_adjoint``: one launch through the transposed tables, axes
    nested last (outermost) to first."""
    tables, apply = _Tables(xp), _separable(xp)

    def interp_adjoint(g, forward_taps, taps, in_spatial, out_spatial):
        pad = 3 - len(in_spatial)
        device = [tables.unit(g.dtype)] * pad + [tables.get(t, g.dtype, n) for t, n in zip(taps, in_spatial)]
        return apply(g, device, out_spatial, in_spatial, (2, 1, 0))

    return interp_adjoint


def _floating(x, *args):
    """What the kernels take: a float32 or float64 array (the generic kernel
    computes float16 in float32)."""
    return floating(x)


#: op -> kernel factory of the ``cupy`` namespace (registered under the "cuda" backend).
KERNELS = {
    "vision.interp": kernel(_interp, factory=True, accepts=_floating),
    "vision.interp_adjoint": kernel(_interp_adjoint, factory=True, accepts=_floating),
}
