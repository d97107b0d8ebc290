"""The pooling family's kernels: the generic ones, written against the array
namespace (NumPy, CuPy), and the family's kernel table, which adds the Cython
versions of the cpu backend (``_window.pyx``, ``_adaptive.pyx``) when built and
the CuPy RawKernels of the cuda backend (``cuda.py``).

Windowed pooling (``functional.py``):

* ``pooling.max_nd(planes, in_spatial, out_spatial, kernel, stride, padding,
  dilation) -> (maxima, flat per-plane indices)``;
* ``pooling.avg_nd`` / ``pooling.avg_nd_adjoint``: average pooling and its adjoint;
* ``pooling.unpool_planes``: values written at flat per-plane indices.

Indexed planes (``_indexed.py``): ``pooling.gather_planes`` / ``pooling.scatter_planes``.

Adaptive pooling (``adaptive.py``): ``pooling.window_argmax_nd`` and
``pooling.adaptive_avg_nd`` / ``pooling.adaptive_avg_nd_adjoint``.
"""

import importlib
import itertools
import math

from ember import kernels

def _gather_planes(xp):
    def gather(x, indices, in_spatial, out_spatial):
        lead = x.shape[:x.ndim - len(in_spatial)]
        planes = x.reshape(math.prod(lead), math.prod(in_spatial))
        picked = xp.take_along_axis(planes, indices.reshape(planes.shape[0], math.prod(out_spatial)), axis=1)
        return picked.reshape(tuple(lead) + tuple(out_spatial))
    return gather


def _scatter_planes(xp):
    def scatter(g, indices, in_spatial, out_spatial):
        lead = g.shape[:g.ndim - len(out_spatial)]
        n_planes, plane = math.prod(lead), math.prod(in_spatial)
        starts = xp.arange(n_planes, dtype=xp.int64)[:, None] * plane
        flat = (indices.reshape(n_planes, math.prod(out_spatial)) + starts).reshape(-1)
        # bincount sums in float64 whatever g's dtype: exact for float32 inputs
        summed = xp.bincount(flat, weights=g.reshape(-1), minlength=n_planes * plane)
        return summed.astype(g.dtype, copy=False).reshape(tuple(lead) + tuple(in_spatial))
    return scatter


def _padded_views(xp, planes, in_spatial, out_spatial, kernel, stride, padding, dilation, fill):
    """``planes`` (P, *in_spatial) padded so every window element exists, and a
    function giving, for one kernel offset, the strided view of the elements
    that offset picks for all outputs at once."""
    nd = len(kernel)
    widths = [(0, 0)]
    for a in range(nd):
        reach = (out_spatial[a] - 1) * stride[a] + (kernel[a] - 1) * dilation[a] + 1
        widths.append((padding[a], max(0, reach - padding[a] - in_spatial[a])))
    padded = xp.pad(planes, widths, constant_values=fill)

    def view(offset):
        index = [slice(None)]
        for a in range(nd):
            start = offset[a] * dilation[a]
            index.append(slice(start, start + (out_spatial[a] - 1) * stride[a] + 1, stride[a]))
        return tuple(index)

    return padded, view


def _axis_shape(nd, a, length):
    return (1,) + tuple(length if b == a else 1 for b in range(nd))


def _max_generic(xp):
    def max_nd(x, kernel, stride, padding, dilation, out_spatial):
        nd = len(kernel)
        in_spatial = tuple(x.shape[x.ndim - nd:])
        lead = tuple(x.shape[:x.ndim - nd])
        planes = x.reshape((math.prod(lead),) + in_spatial)
        padded, view = _padded_views(xp, planes, in_spatial, out_spatial, kernel, stride,
                                     padding, dilation, 0)
        shape = (planes.shape[0],) + tuple(out_spatial)
        best = xp.full(shape, -xp.inf, dtype=x.dtype)
        where = xp.full(shape, -1, dtype=xp.int64)
        steps = [math.prod(in_spatial[a + 1:]) for a in range(nd)]
        for offset in itertools.product(*(range(k) for k in kernel)):
            valid, flat = True, 0
            for a in range(nd):
                pos = xp.arange(out_spatial[a], dtype=xp.int64) * stride[a] - padding[a] \
                    + offset[a] * dilation[a]
                pos = pos.reshape(_axis_shape(nd, a, out_spatial[a]))
                valid = valid & (pos >= 0) & (pos < in_spatial[a])
                flat = flat + pos * steps[a]
            v = padded[view(offset)]
            # a NaN always takes over, as in PyTorch's kernels; padding never wins
            take = valid & ((v > best) | xp.isnan(v) | (where < 0))
            best = xp.where(take, v, best)
            where = xp.where(take, flat, where)
        where = xp.maximum(where, 0)
        return best.reshape(lead + tuple(out_spatial)), where.reshape(lead + tuple(out_spatial))
    return max_nd


def _divisor(xp, in_spatial, out_spatial, kernel, stride, padding, include_pad, override, dtype):
    if override:
        return xp.asarray(override, dtype=dtype)
    nd = len(kernel)
    div = 1
    for a in range(nd):
        start = xp.arange(out_spatial[a], dtype=xp.int64) * stride[a] - padding[a]
        end = xp.minimum(start + kernel[a], in_spatial[a] + padding[a])
        if include_pad:
            size = end - start
        else:
            size = xp.maximum(xp.minimum(end, in_spatial[a]) - xp.maximum(start, 0), 0)
        div = div * size.reshape(_axis_shape(nd, a, out_spatial[a]))
    return div.astype(dtype)


def _divided(xp, values, div):
    """``values / div`` (0 where ``div`` is 0), of ``values``' dtype: an integer
    quotient is truncated toward zero, as torch's integer pooling kernels divide."""
    safe = xp.where(div == 0, xp.ones_like(div), div)
    if values.dtype.kind == "f":
        quotient = values / safe
    else:
        magnitude = xp.abs(values) // xp.abs(safe)
        quotient = xp.where((values < 0) != (safe < 0), -magnitude, magnitude)
    return xp.where(div == 0, xp.zeros_like(quotient), quotient)


def _avg_generic(xp, adjoint):
    def avg_nd(array, in_spatial, out_spatial, kernel, stride, padding, count_include_pad,
               divisor_override):
        nd = len(kernel)
        lead = tuple(array.shape[:array.ndim - nd])
        n_planes = math.prod(lead)
        div = _divisor(xp, in_spatial, out_spatial, kernel, stride, padding, count_include_pad,
                       divisor_override, array.dtype)
        offsets = itertools.product(*(range(k) for k in kernel))
        ones = (1,) * nd
        if not adjoint:
            planes = array.reshape((n_planes,) + tuple(in_spatial))
            padded, view = _padded_views(xp, planes, in_spatial, out_spatial, kernel, stride,
                                         padding, ones, 0)
            total = xp.zeros((n_planes,) + tuple(out_spatial), dtype=array.dtype)
            for offset in offsets:
                total += padded[view(offset)]
            return _divided(xp, total, div).reshape(lead + tuple(out_spatial))
        g = array.reshape((n_planes,) + tuple(out_spatial))
        share = _divided(xp, g, div)
        zeros = xp.zeros((n_planes,) + tuple(in_spatial), dtype=array.dtype)
        padded, view = _padded_views(xp, zeros, in_spatial, out_spatial, kernel, stride,
                                     padding, ones, 0)
        for offset in offsets:
            padded[view(offset)] += share   # one offset never hits a position twice
        crop = (slice(None),) + tuple(slice(padding[a], padding[a] + in_spatial[a])
                                      for a in range(nd))
        return xp.ascontiguousarray(padded[crop]).reshape(lead + tuple(in_spatial))
    return avg_nd


def invalid_index(value, in_spatial):
    """torch's RuntimeError for the unpooling index ``value`` outside a plane of
    shape ``in_spatial``."""
    return RuntimeError(f"Found an invalid max index: {value} (output volumes are of "
                        f"size {'x'.join(str(int(v)) for v in in_spatial)})")


def check_unpool_indices(indices, in_spatial):
    """Raise :func:`invalid_index` when an index of ``indices`` falls outside a plane
    of shape ``in_spatial`` (a host sync on a GPU)."""
    if indices.size:
        lo, hi = int(indices.min()), int(indices.max())
        if lo < 0 or hi >= math.prod(in_spatial):
            raise invalid_index(lo if lo < 0 else hi, in_spatial)


def _unpool_generic(xp):
    def unpool(values, indices, in_spatial, out_spatial):
        nd = len(in_spatial)
        lead = tuple(values.shape[:values.ndim - nd])
        n_planes, plane = math.prod(lead), math.prod(in_spatial)
        small = (n_planes, math.prod(values.shape[len(lead):]))  # not -1: a batch may be empty
        idx = indices.reshape(small)
        check_unpool_indices(idx, in_spatial)
        out = xp.zeros((n_planes, plane), dtype=values.dtype)
        rows = xp.arange(n_planes, dtype=xp.int64)[:, None]
        out[rows, idx] = values.reshape(small)
        return out.reshape(lead + tuple(in_spatial))
    return unpool


def adaptive_bounds(xp, n_in, n_out):
    """Start and end (exclusive) of the adaptive windows along one axis, as
    int64 arrays of shape ``(1, n_out)``."""
    i = xp.arange(n_out, dtype=xp.int64)
    return ((i * n_in) // n_out)[None], (((i + 1) * n_in + n_out - 1) // n_out)[None]


def _window_argmax(xp):
    def window_argmax_nd(x, starts, ends):
        # Every window is read as a box of the longest window's size; the
        # positions past a window's end are clamped (to stay in range) and
        # masked with -inf, which never beats a real element under the
        # first-maximum rule. The last NaN of a window wins, as in torch.
        nsp = len(starts)
        lead, spatial = x.shape[:x.ndim - nsp], tuple(x.shape[x.ndim - nsp:])
        n_planes = math.prod(lead)
        out_spatial = tuple(int(s.shape[1]) for s in starts)
        if n_planes == 0 or math.prod(out_spatial) == 0:
            return xp.zeros(tuple(lead) + out_spatial, dtype=xp.int64)
        for n, s, e in zip(spatial, starts, ends):
            # host sync: small arrays, and a bad window must raise, not read out of range
            if int(s.min()) < 0 or int(e.max()) > n or bool((e <= s).any()):
                raise ValueError(f"window bounds fall outside [0, {n}) or are empty")
        flat = valid = None
        k_shape = []
        for a, (s, e) in enumerate(zip(starts, ends)):
            k = int((e - s).max())
            k_shape.append(k)
            pos = s[:, :, None] + xp.arange(k, dtype=xp.int64)
            ok = pos < e[:, :, None]
            pos = xp.minimum(pos, spatial[a] - 1)
            shape = [pos.shape[0]] + [1] * (2 * nsp)
            shape[1 + a], shape[1 + nsp + a] = out_spatial[a], k
            pos, ok = pos.reshape(shape), ok.reshape(shape)
            flat = pos if flat is None else flat * spatial[a] + pos
            valid = ok if valid is None else valid & ok
        full = (n_planes,) + out_spatial + tuple(k_shape)
        box = (n_planes,) + out_spatial + (math.prod(k_shape),)
        flat = xp.broadcast_to(flat, full).reshape(box)
        valid = xp.broadcast_to(valid, full).reshape(box)
        planes = x.reshape(n_planes, math.prod(spatial))
        vals = xp.take_along_axis(planes, flat.reshape(n_planes, -1), axis=1).reshape(box)
        vals = xp.where(valid, vals, xp.asarray(-xp.inf, dtype=vals.dtype))
        isnan = xp.isnan(vals)
        last_nan = box[-1] - 1 - xp.argmax(isnan[..., ::-1], axis=-1)
        pick = xp.where(isnan.any(axis=-1), last_nan, xp.argmax(vals, axis=-1))
        idx = xp.take_along_axis(flat, pick[..., None], axis=-1)[..., 0]
        return idx.reshape(tuple(lead) + out_spatial)
    return window_argmax_nd


def _avg_matrix(xp, n_in, n_out, dtype):
    """(n_out, n_in) matrix averaging each adaptive window."""
    s, e = adaptive_bounds(xp, n_in, n_out)
    i = xp.arange(n_in, dtype=xp.int64)[None, :]
    inside = (i >= s[0][:, None]) & (i < e[0][:, None])
    return inside.astype(dtype) / (e[0] - s[0])[:, None].astype(dtype)


def _along(xp, a, axis, m):
    """``m`` (rows, n) applied along ``axis`` of ``a`` (size n there)."""
    return xp.moveaxis(xp.matmul(m, xp.moveaxis(a, axis, -2)), -2, axis)


def _adaptive_avg_kernels(xp):
    def adaptive_avg_nd(x, in_spatial, out_spatial):
        nsp = len(in_spatial)
        lead = tuple(x.shape[:x.ndim - nsp])
        if all(o > 0 and n % o == 0 for n, o in zip(in_spatial, out_spatial)):
            # equal, non-overlapping windows: a reshape and a mean
            split = sum(((o, n // o) for n, o in zip(in_spatial, out_spatial)), ())
            axes = tuple(len(lead) + 2 * a + 1 for a in range(nsp))
            return x.reshape(lead + split).mean(axis=axes).astype(x.dtype, copy=False)
        y = x
        for a, (n, o) in enumerate(zip(in_spatial, out_spatial)):
            y = _along(xp, y, len(lead) + a, _avg_matrix(xp, n, o, x.dtype))
        return xp.ascontiguousarray(y)

    def adaptive_avg_nd_adjoint(g, in_spatial, out_spatial):
        nsp = len(in_spatial)
        lead = tuple(g.shape[:g.ndim - nsp])
        if all(o > 0 and n % o == 0 for n, o in zip(in_spatial, out_spatial)):
            ks = [n // o for n, o in zip(in_spatial, out_spatial)]
            kept = sum(((o, 1) for o in out_spatial), ())
            wide = sum(((o, k) for o, k in zip(out_spatial, ks)), ())
            y = xp.broadcast_to(g.reshape(lead + kept), lead + wide) / g.dtype.type(math.prod(ks))
            return y.astype(g.dtype, copy=False).reshape(lead + tuple(in_spatial))
        y = g
        for a, (n, o) in enumerate(zip(in_spatial, out_spatial)):
            y = _along(xp, y, len(lead) + a, _avg_matrix(xp, n, o, g.dtype).T)
        return xp.ascontiguousarray(y)

    return adaptive_avg_nd, adaptive_avg_nd_adjoint


GENERIC_KERNELS = {
    "pooling.max_nd": _max_generic,
    "pooling.avg_nd": lambda xp: _avg_generic(xp, False),
    "pooling.avg_nd_adjoint": lambda xp: _avg_generic(xp, True),
    "pooling.unpool_planes": _unpool_generic,
    "pooling.gather_planes": _gather_planes,
    "pooling.scatter_planes": _scatter_planes,
    "pooling.window_argmax_nd": _window_argmax,
    "pooling.adaptive_avg_nd": lambda xp: _adaptive_avg_kernels(xp)[0],
    "pooling.adaptive_avg_nd_adjoint": lambda xp: _adaptive_avg_kernels(xp)[1],
}


#: The Cython kernels of the cpu backend: extension -> {op: its function's name}.
_CYTHON = {
    "_window": {"pooling.max_nd": "max_pool", "pooling.avg_nd": "avg_pool",
                "pooling.avg_nd_adjoint": "avg_pool_adjoint", "pooling.unpool_planes": "unpool_planes",
                "pooling.gather_planes": "gather_planes", "pooling.scatter_planes": "scatter_planes"},
    "_adaptive": {"pooling.window_argmax_nd": "window_argmax_nd", "pooling.adaptive_avg_nd": "adaptive_avg_nd",
                  "pooling.adaptive_avg_nd_adjoint": "adaptive_avg_nd_adjoint"},
}


def _cpu_kernels():
    """The Cython kernels, as far as they are built."""
    cpu = {}
    for extension, names in _CYTHON.items():
        try:
            module = importlib.import_module(f".{extension}", __package__)
        except ImportError:  # not built: the generic kernels serve the cpu backend
            continue
        cpu.update({op: getattr(module, name) for op, name in names.items()})
    return cpu


def table():
    """``(op, backend) -> kernel`` for ``ember_register_kernels``."""
    from . import cuda  # CuPy kernel factories: nothing is built before a cuda op runs

    return kernels.table(GENERIC_KERNELS, cpu=_cpu_kernels(), cuda=cuda.KERNELS)
