"""The cuda backend's kernels of the pooling family: one CuPy RawKernel launch per
op where the generic kernels (``kernels.py``) launch a pad, then a compare, a
select and an index update per window offset (max), an add per offset (average),
matrix products per axis (adaptive average), a box of clamped takes and argmaxes
(window argmax) or a bincount (the scatter).

Every kernel sees its array as planes of shape ``(D, H, W)``: the leading
(batch, channel) dimensions are the planes, and 1-d or 2-d geometry is padded
with leading unit axes. One thread computes one output element:

* ``max_nd`` and ``window_argmax_nd`` scan their window in row-major order and
  keep the first maximum, a NaN taking over (the last NaN wins), as the generic
  kernels do; an empty max window (dilation) gives ``-inf`` at index 0;
* ``avg_nd`` sums its window in the generic kernel's order (offset-major, which
  skips only the padding's zeros), so float32 sums round as the generic ones;
* the adjoints are gathers over inputs, no atomics: an input element sums the
  shares of the windows holding it, in the order the generic scatter adds them
  (last window first for ``avg_nd_adjoint``);
* ``scatter_planes`` (the max pooling's gradient) adds with ``atomicAdd``: its
  indices come without the windows, so collisions cannot be ruled out. The
  generic kernel sums in float64 (bincount), this one in the array's dtype, in
  an order that varies between runs where indices repeat;
* ``unpool_planes`` keeps the last of repeated indices with an ``atomicMax`` of the
  writer's position, then writes; an index outside its plane is skipped (the
  family checks the indices on the device beforehand, ``assert_on_device``, so
  nothing is read back).

Indices outside a plane are never followed: ``gather_planes``/``scatter_planes``
wrap them as CuPy's own indexing does, ``window_argmax_nd`` clamps its bounds (the
family's bounds are valid by construction; the generic kernel's checks would cost
a host sync per call). Other dtypes, more than three spatial axes, and adaptive
averages over equal windows (one reduction launch in the generic kernel already)
go to the generic kernels through ``accepts``.
"""

import math

from ember.backends.cuda.kernels import on_device
from ember.backends.cuda.raw import GRID_STRIDE_LOOP, FloatKernels, launch, plane_position
from ember.kernels import floating

# The shape parameters of a kernel: the input plane (n*) and the output plane (o*).
_PLANES = ("long long n0, long long n1, long long n2, "
           "long long o0, long long o1, long long o2")
_WINDOW = ("long long k0, long long k1, long long k2, long long s0, long long s1, long long s2, "
           "long long p0, long long p1, long long p2")

# Thread i's output element (od, oh, ow) of plane ``plane``, and where its input plane starts.
_AT_OUTPUT = plane_position(("od", "oh", "ow"), ("o0", "o1", "o2"))

# Thread i's input element (d, h, w) of plane ``plane``.
_AT_INPUT = plane_position(("d", "h", "w"), ("n0", "n1", "n2"))

_MAX = f"""
extern "C" __global__ void ember_max_pool(const T* x, T* y, long long* at, long long n, double lowest,
        {_PLANES}, {_WINDOW}, long long l0, long long l1, long long l2) {{
    {GRID_STRIDE_LOOP} {{
        {_AT_OUTPUT}
        const T* src = x + plane * n0 * n1 * n2;
        T best = T(lowest);
        long long where = -1;
        for (long long a = 0; a < k0; ++a) {{
            long long d = od * s0 - p0 + a * l0;
            if (d < 0 || d >= n0) continue;
            for (long long b = 0; b < k1; ++b) {{
                long long h = oh * s1 - p1 + b * l1;
                if (h < 0 || h >= n1) continue;
                for (long long c = 0; c < k2; ++c) {{
                    long long w = ow * s2 - p2 + c * l2;
                    if (w < 0 || w >= n2) continue;
                    long long pos = (d * n1 + h) * n2 + w;
                    T v = src[pos];
                    // the first element, a larger one, or a NaN (NaN propagates, as in torch)
                    if (where < 0 || v > best || isnan(v)) {{
                        best = v;
                        where = pos;
                    }}
                }}
            }}
        }}
        y[i] = best;
        at[i] = where < 0 ? 0 : where;
    }}
}}
"""

# Window of output ``o`` along one axis, clipped to the input (``first``, ``last``
# exclusive), and its length for the divisor (torch's count_include_pad rule).
_AVG_SPAN = """
__device__ inline long long ember_avg_span(long long o, long long k, long long s, long long p,
        long long size, int include_pad, long long* first, long long* last) {
    long long start = o * s - p;
    long long end = min(start + k, size + p);
    *first = max(start, 0LL);
    *last = min(end, size);
    return include_pad ? end - start : max(*last - *first, 0LL);
}
"""

# The sum of a plane's box [d0, d1) x [h0, h1) x [w0, w1), in the generic kernels' order.
_BOX_SUM = """
__device__ inline T ember_box_sum(const T* src, long long d0, long long d1, long long h0,
        long long h1, long long w0, long long w1, long long n1, long long n2) {
    T acc = T(0);
    for (long long d = d0; d < d1; ++d)
        for (long long h = h0; h < h1; ++h)
            for (long long w = w0; w < w1; ++w)
                acc += src[(d * n1 + h) * n2 + w];
    return acc;
}
"""

_AVG = _AVG_SPAN + _BOX_SUM + f"""
extern "C" __global__ void ember_avg_pool(const T* x, T* y, long long n, {_PLANES}, {_WINDOW},
        int include_pad, long long divisor) {{
    {GRID_STRIDE_LOOP} {{
        {_AT_OUTPUT}
        long long d0, d1, h0, h1, w0, w1;
        long long count = ember_avg_span(od, k0, s0, p0, n0, include_pad, &d0, &d1)
            * ember_avg_span(oh, k1, s1, p1, n1, include_pad, &h0, &h1)
            * ember_avg_span(ow, k2, s2, p2, n2, include_pad, &w0, &w1);
        long long div = divisor != 0 ? divisor : count;
        const T* src = x + plane * n0 * n1 * n2;
        T acc = ember_box_sum(src, d0, d1, h0, h1, w0, w1, n1, n2);
        y[i] = div == 0 ? T(0) : acc / T(div);
    }}
}}
"""

# The outputs whose windows hold input position ``d`` of one axis: from
# ember_first_window to ember_last_window, both included.
_WINDOWS_HOLDING = """
__device__ inline long long ember_first_window(long long d, long long k, long long s, long long p) {
    long long t = d + p - k;
    return t < 0 ? 0 : t / s + 1;
}
__device__ inline long long ember_last_window(long long d, long long s, long long p, long long out) {
    return min((d + p) / s, out - 1);
}
"""

_AVG_ADJOINT = _AVG_SPAN + _WINDOWS_HOLDING + f"""
extern "C" __global__ void ember_avg_pool_adjoint(const T* g, T* dx, long long n, {_PLANES}, {_WINDOW},
        int include_pad, long long divisor) {{
    {GRID_STRIDE_LOOP} {{
        {_AT_INPUT}
        const T* src = g + plane * o0 * o1 * o2;
        long long lo, hi;
        T acc = T(0);
        // last window first: the generic kernel adds the window offsets in row-major order
        for (long long od = ember_last_window(d, s0, p0, o0); od >= ember_first_window(d, k0, s0, p0); --od) {{
            long long cd = ember_avg_span(od, k0, s0, p0, n0, include_pad, &lo, &hi);
            for (long long oh = ember_last_window(h, s1, p1, o1); oh >= ember_first_window(h, k1, s1, p1); --oh) {{
                long long ch = ember_avg_span(oh, k1, s1, p1, n1, include_pad, &lo, &hi);
                for (long long ow = ember_last_window(w, s2, p2, o2); ow >= ember_first_window(w, k2, s2, p2); --ow) {{
                    long long cw = ember_avg_span(ow, k2, s2, p2, n2, include_pad, &lo, &hi);
                    long long div = divisor != 0 ? divisor : cd * ch * cw;
                    if (div != 0) acc += src[(od * o1 + oh) * o2 + ow] / T(div);
                }}
            }}
        }}
        dx[i] = acc;
    }}
}}
"""

# Adaptive window ``o`` of ``out`` over ``size`` inputs: [floor(o * size / out), ceil((o + 1) * size / out)).
_ADAPTIVE_SPAN = """
__device__ inline long long ember_adaptive_start(long long o, long long size, long long out) {
    return o * size / out;
}
__device__ inline long long ember_adaptive_end(long long o, long long size, long long out) {
    return ((o + 1) * size + out - 1) / out;
}
"""

_ADAPTIVE_AVG = _ADAPTIVE_SPAN + _BOX_SUM + f"""
extern "C" __global__ void ember_adaptive_avg_pool(const T* x, T* y, long long n, {_PLANES}) {{
    {GRID_STRIDE_LOOP} {{
        {_AT_OUTPUT}
        long long d0 = ember_adaptive_start(od, n0, o0), d1 = ember_adaptive_end(od, n0, o0);
        long long h0 = ember_adaptive_start(oh, n1, o1), h1 = ember_adaptive_end(oh, n1, o1);
        long long w0 = ember_adaptive_start(ow, n2, o2), w1 = ember_adaptive_end(ow, n2, o2);
        const T* src = x + plane * n0 * n1 * n2;
        y[i] = ember_box_sum(src, d0, d1, h0, h1, w0, w1, n1, n2) / T((d1 - d0) * (h1 - h0) * (w1 - w0));
    }}
}}
"""

# An input position ``d`` lies in the windows floor(d * out / size) onwards, as long
# as they start at or before it.
_ADAPTIVE_AVG_ADJOINT = _ADAPTIVE_SPAN + f"""
extern "C" __global__ void ember_adaptive_avg_pool_adjoint(const T* g, T* dx, long long n, {_PLANES}) {{
    {GRID_STRIDE_LOOP} {{
        {_AT_INPUT}
        const T* src = g + plane * o0 * o1 * o2;
        T acc = T(0);
        for (long long od = d * o0 / n0; od < o0 && ember_adaptive_start(od, n0, o0) <= d; ++od) {{
            long long ld = ember_adaptive_end(od, n0, o0) - ember_adaptive_start(od, n0, o0);
            for (long long oh = h * o1 / n1; oh < o1 && ember_adaptive_start(oh, n1, o1) <= h; ++oh) {{
                long long lh = ember_adaptive_end(oh, n1, o1) - ember_adaptive_start(oh, n1, o1);
                for (long long ow = w * o2 / n2; ow < o2 && ember_adaptive_start(ow, n2, o2) <= w; ++ow) {{
                    long long lw = ember_adaptive_end(ow, n2, o2) - ember_adaptive_start(ow, n2, o2);
                    acc += src[(od * o1 + oh) * o2 + ow] / T(ld * lh * lw);
                }}
            }}
        }}
        dx[i] = acc;
    }}
}}
"""

_BOUNDS = "const long long* s{0}, const long long* e{0}, long long r{0}"

# Window ``o`` of one axis: absent axis (rows 0): [0, 1); else row 0 (rows 1, the same
# windows for every plane) or the plane's own row; clamped to the input.
_WINDOW_BOUNDS = """
__device__ inline void ember_window(const long long* s, const long long* e, long long rows, long long plane,
        long long o, long long out, long long size, long long* first, long long* last) {
    if (rows == 0) {
        *first = 0;
        *last = 1;
        return;
    }
    long long k = (rows > 1 ? plane * out : 0) + o;
    *first = max(s[k], 0LL);
    *last = min(e[k], size);
}
"""

_WINDOW_ARGMAX = _WINDOW_BOUNDS + f"""
extern "C" __global__ void ember_window_argmax(const T* x, long long* at, long long n, {_PLANES},
        {_BOUNDS.format(0)}, {_BOUNDS.format(1)}, {_BOUNDS.format(2)}) {{
    {GRID_STRIDE_LOOP} {{
        {_AT_OUTPUT}
        long long d0, d1, h0, h1, w0, w1;
        ember_window(s0, e0, r0, plane, od, o0, n0, &d0, &d1);
        ember_window(s1, e1, r1, plane, oh, o1, n1, &h0, &h1);
        ember_window(s2, e2, r2, plane, ow, o2, n2, &w0, &w1);
        const T* src = x + plane * n0 * n1 * n2;
        T best = T(0);
        long long where = -1;
        for (long long d = d0; d < d1; ++d)
            for (long long h = h0; h < h1; ++h)
                for (long long w = w0; w < w1; ++w) {{
                    long long pos = (d * n1 + h) * n2 + w;
                    T v = src[pos];
                    if (where < 0 || v > best || isnan(v)) {{
                        best = v;
                        where = pos;
                    }}
                }}
        at[i] = where < 0 ? 0 : where;
    }}
}}
"""

# An index wrapped into [0, plane), as CuPy's integer-array indexing wraps.
_WRAPPED = "long long at = idx[i] % n_big; if (at < 0) at += n_big;"

_GATHER = f"""
extern "C" __global__ void ember_gather_planes(const T* x, const long long* idx, T* y, long long n,
        long long n_small, long long n_big) {{
    {GRID_STRIDE_LOOP} {{
        {_WRAPPED}
        y[i] = x[(i / n_small) * n_big + at];
    }}
}}
"""

_SCATTER = f"""
extern "C" __global__ void ember_scatter_planes(const T* g, const long long* idx, T* dx, long long n,
        long long n_small, long long n_big) {{
    {GRID_STRIDE_LOOP} {{
        {_WRAPPED}
        atomicAdd(&dx[(i / n_small) * n_big + at], g[i]);
    }}
}}
"""

# Unpooling, pass 1: each output position keeps the largest (last) writer; an index
# outside its plane is not followed.
_UNPOOL_MARK = f"""
extern "C" __global__ void ember_unpool_mark(const long long* idx, long long* writer, long long n,
        long long n_small, long long n_big) {{
    {GRID_STRIDE_LOOP} {{
        long long at = idx[i];
        if (at >= 0 && at < n_big) atomicMax(&writer[(i / n_small) * n_big + at], i);
    }}
}}
"""

# Unpooling, pass 2: every output position takes its writer's value, or zero.
_UNPOOL_WRITE = f"""
extern "C" __global__ void ember_unpool_write(const T* v, const long long* writer, T* y, long long n) {{
    {GRID_STRIDE_LOOP} {{
        long long w = writer[i];
        y[i] = w < 0 ? T(0) : v[w];
    }}
}}
"""


def _three(values, fill):
    """``values`` (one per spatial axis) padded in front to three axes with ``fill``."""
    return (fill,) * (3 - len(values)) + tuple(int(v) for v in values)


def _longs(xp, *values):
    """The values as ``long long`` kernel arguments."""
    return tuple(xp.int64(v) for v in values)


def _planes_of(array, nd):
    """The leading (plane) dimensions of ``array`` with ``nd`` spatial axes."""
    return tuple(array.shape[:array.ndim - nd])


def _window_args(xp, in_spatial, out_spatial, kernel_size, stride, padding):
    """Plane shapes and window geometry as the kernels' ``long long`` arguments."""
    return _longs(xp, *_three(in_spatial, 1), *_three(out_spatial, 1), *_three(kernel_size, 1),
                  *_three(stride, 1), *_three(padding, 0))


def _max_nd(xp):
    """``pooling.max_nd``: one thread per output scans its window."""
    run = FloatKernels(xp, _MAX, "ember_max_pool")

    def max_nd(x, kernel_size, stride, padding, dilation, out_spatial):
        nd = len(kernel_size)
        lead = _planes_of(x, nd)
        x = xp.ascontiguousarray(x)
        y = xp.empty(lead + tuple(out_spatial), dtype=x.dtype)
        at = xp.empty(y.shape, dtype=xp.int64)
        geometry = _window_args(xp, x.shape[x.ndim - nd:], out_spatial, kernel_size, stride, padding)
        run(x.dtype, y.size, (x, y, at, xp.int64(y.size), xp.float64(-math.inf), *geometry,
                              *_longs(xp, *_three(dilation, 1))))
        return y, at

    return max_nd


def _avg(xp, source, name, adjoint):
    """``pooling.avg_nd`` (one thread per output) or its adjoint (one per input)."""
    run = FloatKernels(xp, source, name)

    def avg(array, in_spatial, out_spatial, kernel_size, stride, padding, count_include_pad,
            divisor_override):
        lead = _planes_of(array, len(kernel_size))
        array = xp.ascontiguousarray(array)
        out = xp.empty(lead + tuple(in_spatial if adjoint else out_spatial), dtype=array.dtype)
        run(array.dtype, out.size, (array, out, xp.int64(out.size),
                                    *_window_args(xp, in_spatial, out_spatial, kernel_size, stride, padding),
                                    xp.int32(bool(count_include_pad)), xp.int64(divisor_override or 0)))
        return out

    return avg


def _adaptive(xp, source, name, adjoint):
    """``pooling.adaptive_avg_nd`` (one thread per output) or its adjoint (one per input)."""
    run = FloatKernels(xp, source, name)

    def adaptive(array, in_spatial, out_spatial):
        lead = _planes_of(array, len(in_spatial))
        array = xp.ascontiguousarray(array)
        out = xp.empty(lead + tuple(in_spatial if adjoint else out_spatial), dtype=array.dtype)
        run(array.dtype, out.size, (array, out, xp.int64(out.size),
                                    *_longs(xp, *_three(in_spatial, 1), *_three(out_spatial, 1))))
        return out

    return adaptive


def _window_argmax(xp):
    """``pooling.window_argmax_nd``: one thread per output scans its window."""
    run = FloatKernels(xp, _WINDOW_ARGMAX, "ember_window_argmax")

    def window_argmax_nd(x, starts, ends):
        nsp = len(starts)
        lead = _planes_of(x, nsp)
        out_spatial = tuple(int(s.shape[1]) for s in starts)
        x = xp.ascontiguousarray(x)
        at = xp.empty(lead + out_spatial, dtype=xp.int64)
        bounds = []
        for s, e in zip(starts, ends):
            bounds += [xp.ascontiguousarray(s, dtype=xp.int64), xp.ascontiguousarray(e, dtype=xp.int64),
                       xp.int64(s.shape[0])]
        absent = [bounds[0], bounds[1], xp.int64(0)]  # never read
        run(x.dtype, at.size, (x, at, xp.int64(at.size),
                               *_longs(xp, *_three(x.shape[x.ndim - nsp:], 1), *_three(out_spatial, 1)),
                               *absent * (3 - nsp), *bounds))
        return at

    return window_argmax_nd


def _indexed(xp, source, name, scatter):
    """``pooling.gather_planes`` (one thread per picked element) or
    ``pooling.scatter_planes`` (one per gradient element, adding atomically)."""
    run = FloatKernels(xp, source, name)

    def indexed(array, indices, in_spatial, out_spatial):
        lead = _planes_of(array, len(out_spatial if scatter else in_spatial))
        n_small, n_big = math.prod(out_spatial), math.prod(in_spatial)
        array = xp.ascontiguousarray(array)
        indices = xp.ascontiguousarray(indices)
        if scatter:
            out = xp.zeros(lead + tuple(in_spatial), dtype=array.dtype)
        else:
            out = xp.empty(lead + tuple(out_spatial), dtype=array.dtype)
        run(array.dtype, indices.size, (array, indices, out, *_longs(xp, indices.size, n_small, n_big)))
        return out

    return indexed


def _unpool(xp):
    """``pooling.unpool_planes``: mark the last writer of each position, then write."""
    mark = xp.RawKernel(_UNPOOL_MARK, "ember_unpool_mark")
    write = FloatKernels(xp, _UNPOOL_WRITE, "ember_unpool_write")

    def unpool(values, indices, in_spatial, out_spatial):
        lead = _planes_of(values, len(in_spatial))
        n_big = math.prod(in_spatial)
        values = xp.ascontiguousarray(values)
        indices = xp.ascontiguousarray(indices)
        total = math.prod(lead) * n_big
        writer = xp.full(total, -1, dtype=xp.int64)
        n_small = values.size // max(math.prod(lead), 1)
        launch(mark, values.size, (indices, writer, *_longs(xp, values.size, max(n_small, 1), n_big)))
        out = xp.empty(lead + tuple(in_spatial), dtype=values.dtype)
        write(values.dtype, total, (values, writer, out, xp.int64(total)))
        return out

    return unpool


# ------------------------------------------------------------------ accepts

def _max_call(x, kernel_size, stride, padding, dilation, out_spatial):
    """Max pooling: float32/float64, at most three spatial axes."""
    return floating(x) and len(kernel_size) <= 3


def _avg_call(array, in_spatial, out_spatial, kernel_size, *rest):
    """Average pooling and its adjoint: float32/float64, at most three spatial axes."""
    return floating(array) and len(kernel_size) <= 3


def _unequal_windows(array, in_spatial, out_spatial):
    """Adaptive averages the generic kernel computes with matrix products: windows of
    unequal sizes (equal ones are one reduction launch there), float32/float64, at
    most three spatial axes."""
    if not floating(array) or len(in_spatial) > 3:
        return False
    return not all(o > 0 and n % o == 0 for n, o in zip(in_spatial, out_spatial))


def _argmax_call(x, starts, ends):
    """Window argmax: float32/float64, one to three axes of int64 bounds, one row of
    windows for all planes or one per plane."""
    nsp = len(starts)
    if not floating(x) or not 1 <= nsp <= 3 or len(ends) != nsp or x.ndim < nsp:
        return False
    n_planes = math.prod(x.shape[:x.ndim - nsp])
    return all(s.dtype == e.dtype == "int64" and s.ndim == 2 and s.shape == e.shape
               and s.shape[0] in (1, n_planes) for s, e in zip(starts, ends))


def _gather_call(x, indices, in_spatial, out_spatial):
    """Gather: float32/float64 planes that are not empty, int64 indices of the output's shape."""
    lead = _planes_of(x, len(in_spatial))
    return (floating(x) and indices.dtype == "int64" and math.prod(in_spatial) > 0
            and tuple(indices.shape) == lead + tuple(out_spatial))


def _scatter_call(g, indices, in_spatial, out_spatial):
    """Scatter: float32/float64 into planes that are not empty, int64 indices of ``g``'s shape."""
    return floating(g) and indices.dtype == "int64" and math.prod(in_spatial) > 0 and indices.shape == g.shape


def _unpool_call(values, indices, in_spatial, out_spatial):
    """Unpooling: float32/float64 values, int64 indices of their shape."""
    return floating(values) and indices.dtype == "int64" and indices.shape == values.shape



#: op -> kernel factory of the ``cupy`` namespace (registered under the "cuda" backend).
KERNELS = {
    "pooling.max_nd": on_device(_max_nd, _max_call),
    "pooling.avg_nd": on_device(lambda xp: _avg(xp, _AVG, "ember_avg_pool", False), _avg_call),
    "pooling.avg_nd_adjoint": on_device(
        lambda xp: _avg(xp, _AVG_ADJOINT, "ember_avg_pool_adjoint", True), _avg_call),
    "pooling.adaptive_avg_nd": on_device(
        lambda xp: _adaptive(xp, _ADAPTIVE_AVG, "ember_adaptive_avg_pool", False), _unequal_windows),
    "pooling.adaptive_avg_nd_adjoint": on_device(
        lambda xp: _adaptive(xp, _ADAPTIVE_AVG_ADJOINT, "ember_adaptive_avg_pool_adjoint", True),
        _unequal_windows),
    "pooling.window_argmax_nd": on_device(_window_argmax, _argmax_call),
    "pooling.gather_planes": on_device(
        lambda xp: _indexed(xp, _GATHER, "ember_gather_planes", False), _gather_call),
    "pooling.scatter_planes": on_device(
        lambda xp: _indexed(xp, _SCATTER, "ember_scatter_planes", True), _scatter_call),
    "pooling.unpool_planes": on_device(_unpool, _unpool_call),
}
