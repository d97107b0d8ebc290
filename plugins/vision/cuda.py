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

``vision.grid_sample`` is one launch of a thread per output element, which sums
its taps in the order of the generic kernel (``_sampling.py``);
``vision.grid_sample_backward`` one of a thread per grid point, which loops over
the channels, adds each tap's share of the output gradient to the input's with
``atomicAdd`` and sums the grid point's own gradient in registers.
"""

from collections import OrderedDict

import numpy as np

from ember.backends.cuda.kernels import same_floats
from ember.backends.cuda.raw import GRID_STRIDE_LOOP, FloatKernels, upload
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
        device, staged = self._upload(host, dtype)
        self._kept[key] = (taps, device, staged)
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
        return found[0]

    def _upload(self, taps, dtype):
        """``((ptr, idx, w) on the device, their staging buffers)`` (see ``upload``)."""
        ptr, idx, w = taps
        copies = [upload(self._xp, np.ascontiguousarray(a, dtype=t))
                  for a, t in ((ptr, np.int64), (idx, np.int64), (w, dtype))]
        return tuple(c[0] for c in copies), tuple(c[1] for c in copies)


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


# Modes and paddings as the kernels number them.
_GS_MODES = {"bilinear": 0, "nearest": 1, "bicubic": 2}
_GS_PADDINGS = {"zeros": 0, "border": 1, "reflection": 2}

# A grid point's source: per image axis (slowest first) its size, element stride,
# padded pixel coordinate and slope d coordinate / d grid (bicubic: the coordinate
# without padding, which applies to each tap's position instead). Helpers follow
# grid_sample.py's ``source``, ``pad`` and ``cubic_weights``.
_GS_COMMON = r"""
struct ember_gs_point {
    int nd;
    int size[3];
    long long stride[3];
    T coord[3];
    T slope[3];
};

__device__ T ember_gs_pad(T c, int size, int padding, int align, T* slope) {
    if (padding == 0) return c;
    if (padding == 2) {
        T twice = T(align ? 2 * (size - 1) : 2 * size);
        if (twice == T(0)) {
            c = T(0);
        } else {
            T shifted = align ? c : c + T(0.5);
            T dist = fabs(shifted);
            T extra = dist - trunc(dist / twice) * twice;
            T other = twice - extra;
            bool flip = extra > other;
            c = flip ? other : extra;
            if (!align) c -= T(0.5);
            if (flip != (shifted < T(0))) *slope = -*slope;
        }
    }
    T high = T(size - 1);
    if (!(c > T(0) && c < high)) *slope = T(0);
    return c > T(0) ? (c < high ? c : high) : T(0);  // NaN goes to 0
}

__device__ void ember_gs_locate(ember_gs_point& p, const T* g, const int* size, int nd, int mode,
                                int padding, int align) {
    p.nd = nd;
    long long stride = 1;
    for (int a = nd - 1; a >= 0; --a) {
        p.size[a] = size[a];
        p.stride[a] = stride;
        stride *= size[a];
        T scale = align ? T(size[a] - 1) / T(2) : T(size[a]) / T(2);
        T c = align ? (g[nd - 1 - a] + T(1)) * scale : (g[nd - 1 - a] + T(1)) * scale - T(0.5);
        p.slope[a] = scale;
        p.coord[a] = mode == 2 ? c : ember_gs_pad(c, size[a], padding, align, &p.slope[a]);
    }
}

// The flat offset of the tap at pos[] (integer values); false outside the image.
__device__ bool ember_gs_tap(const ember_gs_point& p, const T* pos, long long* offset) {
    long long off = 0;
    for (int a = 0; a < p.nd; ++a) {
        if (!(pos[a] > T(-1) && pos[a] < T(p.size[a]))) return false;
        off += (long long)pos[a] * p.stride[a];
    }
    *offset = off;
    return true;
}

// Corner k of the cell around the point (bit nd-1-a: high on axis a): its position,
// weight and the weight's derivative along every axis.
__device__ void ember_gs_corner(const ember_gs_point& p, int k, T* pos, T* weight, T* dweight) {
    T factor[3], frac[3];
    for (int a = 0; a < p.nd; ++a) {
        T low = floor(p.coord[a]);
        bool high = (k >> (p.nd - 1 - a)) & 1;
        frac[a] = p.coord[a] - low;
        factor[a] = high ? frac[a] : T(1) - frac[a];
        pos[a] = low + T(high);
    }
    T w = factor[0];
    for (int a = 1; a < p.nd; ++a) w *= factor[a];
    *weight = w;
    for (int a = 0; a < p.nd; ++a) {
        T d = ((k >> (p.nd - 1 - a)) & 1) ? T(1) : T(-1);
        for (int b = 0; b < p.nd; ++b) {
            if (b != a) d *= factor[b];
        }
        dweight[a] = d;
    }
}

// The cubic-convolution weights (A = -0.75) of taps at -1, 0, 1, 2 from the
// fractional offset t, and their derivatives in t.
__device__ void ember_gs_cubic(T t, T* w, T* dw) {
    const T a = T(-0.75);
    T x0 = t + T(1), x1 = t, x2 = T(1) - t, x3 = T(2) - t;
    w[0] = ((a * x0 - T(5) * a) * x0 + T(8) * a) * x0 - T(4) * a;
    w[1] = ((a + T(2)) * x1 - (a + T(3))) * x1 * x1 + T(1);
    w[2] = ((a + T(2)) * x2 - (a + T(3))) * x2 * x2 + T(1);
    w[3] = ((a * x3 - T(5) * a) * x3 + T(8) * a) * x3 - T(4) * a;
    dw[0] = (T(3) * a * x0 - T(10) * a) * x0 + T(8) * a;
    dw[1] = (T(3) * (a + T(2)) * x1 - T(2) * (a + T(3))) * x1;
    dw[2] = -((T(3) * (a + T(2)) * x2 - T(2) * (a + T(3))) * x2);
    dw[3] = -((T(3) * a * x3 - T(10) * a) * x3 + T(8) * a);
}

// Tap (i, j) of the bicubic 4x4 block: its padded position.
__device__ void ember_gs_cubic_tap(const ember_gs_point& p, int i, int j, int padding, int align, T* pos) {
    T ignored;
    pos[0] = ember_gs_pad(floor(p.coord[0]) + T(i - 1), p.size[0], padding, align, &ignored);
    pos[1] = ember_gs_pad(floor(p.coord[1]) + T(j - 1), p.size[1], padding, align, &ignored);
}
"""

_GS_ARGS = "int nd, int size0, int size1, int size2, int mode, int padding, int align"

_GRID_SAMPLE = _GS_COMMON + f"""
extern "C" __global__ void ember_grid_sample(const T* x, const T* grid, T* y, long long n, int channels,
        long long points, {_GS_ARGS}) {{
    const int size[3] = {{size0, size1, size2}};
    const long long plane = (long long)size0 * size1 * size2;
    {GRID_STRIDE_LOOP} {{
        long long point = i % points, image = i / points, batch = image / channels;
        ember_gs_point p;
        ember_gs_locate(p, grid + (batch * points + point) * nd, size, nd, mode, padding, align);
        const T* src = x + image * plane;
        T pos[3], acc = T(0);
        long long off;
        if (mode == 2) {{
            T wy[4], wx[4], dy[4], dx[4];
            ember_gs_cubic(p.coord[0] - floor(p.coord[0]), wy, dy);
            ember_gs_cubic(p.coord[1] - floor(p.coord[1]), wx, dx);
            for (int r = 0; r < 4; ++r) {{
                T across = T(0);
                for (int c = 0; c < 4; ++c) {{
                    ember_gs_cubic_tap(p, r, c, padding, align, pos);
                    across += wx[c] * (ember_gs_tap(p, pos, &off) ? src[off] : T(0));
                }}
                acc += wy[r] * across;
            }}
        }} else if (mode == 1) {{
            for (int a = 0; a < nd; ++a) pos[a] = nearbyint(p.coord[a]);
            acc = ember_gs_tap(p, pos, &off) ? src[off] : T(0);
        }} else {{
            T w, dw[3];
            for (int k = 0; k < (1 << nd); ++k) {{
                ember_gs_corner(p, k, pos, &w, dw);
                acc += (ember_gs_tap(p, pos, &off) ? src[off] : T(0)) * w;
            }}
        }}
        y[i] = acc;
    }}
}}
"""

# n counts grid points; gx is null when the input's gradient is not wanted.
_GRID_SAMPLE_BACKWARD = _GS_COMMON + f"""
extern "C" __global__ void ember_grid_sample_backward(const T* gy, const T* x, const T* grid, T* gx,
        T* ggrid, long long n, int channels, long long points, int need_input, {_GS_ARGS}) {{
    const int size[3] = {{size0, size1, size2}};
    const long long plane = (long long)size0 * size1 * size2;
    {GRID_STRIDE_LOOP} {{
        long long point = i % points, batch = i / points;
        ember_gs_point p;
        ember_gs_locate(p, grid + i * nd, size, nd, mode, padding, align);
        T sums[3] = {{T(0), T(0), T(0)}}, pos[3];
        long long off;
        T wy[4], wx[4], dy[4], dx[4];
        if (mode == 2) {{
            ember_gs_cubic(p.coord[0] - floor(p.coord[0]), wy, dy);
            ember_gs_cubic(p.coord[1] - floor(p.coord[1]), wx, dx);
        }}
        for (int c = 0; c < channels; ++c) {{
            long long image = batch * channels + c;
            const T g = gy[image * points + point];
            const T* src = x + image * plane;
            T* dst = need_input ? gx + image * plane : gx;  // gx: one element when not wanted
            T share[3] = {{T(0), T(0), T(0)}};
            if (mode == 2) {{
                for (int r = 0; r < 4; ++r) {{
                    for (int q = 0; q < 4; ++q) {{
                        ember_gs_cubic_tap(p, r, q, padding, align, pos);
                        bool inside = ember_gs_tap(p, pos, &off);
                        if (inside && need_input) atomicAdd(dst + off, g * (wx[q] * wy[r]));
                        T v = inside ? src[off] : T(0);
                        share[0] += v * (dy[r] * wx[q]);
                        share[1] += v * (wy[r] * dx[q]);
                    }}
                }}
            }} else if (mode == 1) {{
                for (int a = 0; a < nd; ++a) pos[a] = nearbyint(p.coord[a]);
                if (need_input && ember_gs_tap(p, pos, &off)) atomicAdd(dst + off, g);
            }} else {{
                T w, dw[3];
                for (int k = 0; k < (1 << nd); ++k) {{
                    ember_gs_corner(p, k, pos, &w, dw);
                    bool inside = ember_gs_tap(p, pos, &off);
                    if (inside && need_input) atomicAdd(dst + off, g * w);
                    T v = inside ? src[off] : T(0);
                    for (int a = 0; a < nd; ++a) share[a] += v * dw[a];
                }}
            }}
            for (int a = 0; a < nd; ++a) sums[a] += share[a] * g;
        }}
        for (int a = 0; a < nd; ++a) ggrid[i * nd + nd - 1 - a] = mode == 1 ? T(0) : sums[a] * p.slope[a];
    }}
}}
"""


def _grid_args(xp, x, mode, padding_mode, align_corners):
    """The trailing arguments of both grid-sample kernels."""
    size = tuple(x.shape[2:]) + (1,) * (5 - x.ndim)
    return [xp.int32(x.ndim - 2), *(xp.int32(s) for s in size), xp.int32(_GS_MODES[mode]),
            xp.int32(_GS_PADDINGS[padding_mode]), xp.int32(bool(align_corners))]


def _grid_sample(xp):
    """``vision.grid_sample``: a thread per output element."""
    run = FloatKernels(xp, _GRID_SAMPLE, "ember_grid_sample")

    def grid_sample(x, grid, mode, padding_mode, align_corners):
        x, grid = xp.ascontiguousarray(x), xp.ascontiguousarray(grid)
        out_spatial = tuple(grid.shape[1:-1])
        y = xp.empty(tuple(x.shape[:2]) + out_spatial, dtype=x.dtype)
        points = y.size // max(1, x.shape[0] * x.shape[1])
        run(x.dtype, y.size, [x, grid, y, xp.int64(y.size), xp.int32(x.shape[1]), xp.int64(points),
                              *_grid_args(xp, x, mode, padding_mode, align_corners)])
        return y

    return grid_sample


def _grid_sample_backward(xp):
    """``vision.grid_sample_backward``: a thread per grid point, looping over channels."""
    run = FloatKernels(xp, _GRID_SAMPLE_BACKWARD, "ember_grid_sample_backward")

    def grid_sample_backward(grad, x, grid, mode, padding_mode, align_corners, need_input):
        grad, x, grid = (xp.ascontiguousarray(a) for a in (grad, x, grid))
        gx = xp.zeros(x.shape if need_input else (1,), dtype=x.dtype)
        ggrid = xp.empty(grid.shape, dtype=grid.dtype)
        n = ggrid.size // grid.shape[-1]
        points = n // max(1, x.shape[0])
        run(x.dtype, n, [grad, x, grid, gx, ggrid, xp.int64(n), xp.int32(x.shape[1]), xp.int64(points),
                         xp.int32(bool(need_input)), *_grid_args(xp, x, mode, padding_mode, align_corners)])
        return (gx if need_input else None), ggrid

    return grid_sample_backward


def _floating(x, *args):
    """What the kernels take: a float32 or float64 array (the generic kernel
    computes float16 in float32)."""
    return floating(x)


#: op -> kernel factory of the ``cupy`` namespace (registered under the "cuda" backend).
KERNELS = {
    "vision.grid_sample": kernel(_grid_sample, factory=True, accepts=same_floats),
    "vision.grid_sample_backward": kernel(_grid_sample_backward, factory=True, accepts=same_floats),
    "vision.interp": kernel(_interp, factory=True, accepts=_floating),
    "vision.interp_adjoint": kernel(_interp_adjoint, factory=True, accepts=_floating),
}
