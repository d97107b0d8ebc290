"""The cuda backend's kernels of the sparse family (``embedding``, ``embedding_bag``):
bag sums and means, their adjoint, the scatter of looked-up rows and the per-column
argmax of max bags, one CuPy RawKernel launch each where the generic kernels
(``kernels.py``) search bag positions, gather, weight and scatter in ten or more.

The contract is ``kernels.py``'s: bag ``b`` covers positions ``[starts[b], ends[b])``
of ``idx``, a position whose row is ``pad`` is skipped, ``coef`` (per position)
multiplies and ``div`` (per bag, a zero read as one) divides. Threads own one
(bag, column) or (position, column) pair and visit positions in order, weighting
each term as the generic kernels do (``w = coef / div``, then ``value * w``):

* ``sparse.bag_gather`` and ``sparse.bag_argmax`` sum, or compare, a bag's rows
  in one thread per output element (no atomics);
* ``sparse.bag_scatter`` and ``sparse.row_scatter`` add into the weight gradient
  with ``atomicAdd``, since many positions may name one row (the sum's order, so
  its float rounding, varies between runs, as CuPy's ``add.at`` does).

``sparse.row_gather`` (one ``take``), ``col_gather`` and ``col_scatter`` keep
their generic kernels.
"""

from ember.backends.cuda.kernels import on_device, same_floats
from ember.backends.cuda.raw import GRID_STRIDE_LOOP, FloatKernels
from ember.kernels import floating

# embedding and embedding_bag check their indices (and offsets) on the device and
# report a bad one at the next synchronisation (``assert_on_device``): until then a
# position past ``idx`` or a row outside the weight is skipped, never read or written
_GUARDS = """
__device__ __forceinline__ long long clamped(long long p, long long n) {
    return p < 0 ? 0 : (p > n ? n : p);
}

__device__ __forceinline__ bool outside(long long r, long long rows) {
    return r < 0 || r >= rows;
}

__device__ __forceinline__ bool skipped(long long r, long long pad, long long rows) {
    return r == pad || outside(r, rows);
}
"""

# the weight of position p of bag b, as the generic kernels compute it
_WEIGHT = _GUARDS + """
__device__ __forceinline__ T bag_weight(const T* coef, const T* div, long long p, long long b,
                                        int has_coef, int has_div) {
    T w = has_coef ? coef[p] : T(1);
    if (has_div) {
        T d = div[b];
        w = w / (d != T(0) ? d : T(1));
    }
    return w;
}
"""

_BAG_PARAMS = ("const long long* idx, const long long* starts, const long long* ends, const T* coef,"
               " const T* div, long long n, long long D, long long pad, int has_coef, int has_div,"
               " long long n_idx, long long rows")

_BAG_GATHER = _WEIGHT + f"""
extern "C" __global__ void ember_bag_gather(const T* W, T* out, {_BAG_PARAMS}) {{
    {GRID_STRIDE_LOOP} {{
        long long b = i / D, c = i - b * D;
        T acc = T(0);
        for (long long p = clamped(starts[b], n_idx); p < clamped(ends[b], n_idx); ++p) {{
            long long r = idx[p];
            if (skipped(r, pad, rows)) continue;
            acc += W[r * D + c] * bag_weight(coef, div, p, b, has_coef, has_div);
        }}
        out[i] = acc;
    }}
}}
"""

_BAG_SCATTER = _WEIGHT + f"""
extern "C" __global__ void ember_bag_scatter(const T* G, T* out, {_BAG_PARAMS}) {{
    {GRID_STRIDE_LOOP} {{
        long long b = i / D, c = i - b * D;
        T g = G[i];
        for (long long p = clamped(starts[b], n_idx); p < clamped(ends[b], n_idx); ++p) {{
            long long r = idx[p];
            if (skipped(r, pad, rows)) continue;
            atomicAdd(&out[r * D + c], g * bag_weight(coef, div, p, b, has_coef, has_div));
        }}
    }}
}}
"""

_ROW_SCATTER = _GUARDS + f"""
extern "C" __global__ void ember_row_scatter(const T* G, T* out, const long long* idx, const T* coef,
                                             long long n, long long D, long long rows, int has_coef) {{
    {GRID_STRIDE_LOOP} {{
        long long p = i / D, r = idx[p];
        if (outside(r, rows)) continue;  // embedding's check reports it at synchronisation: write nothing
        T v = has_coef ? G[i] * coef[p] : G[i];
        atomicAdd(&out[r * D + (i - p * D)], v);
    }}
}}
"""

# torch's rule: a bag's first row (padding skipped) holds each column until a
# strictly greater value comes, so a NaN wins only as the first; -1: no row
_BAG_ARGMAX = _GUARDS + f"""
extern "C" __global__ void ember_bag_argmax(const T* W, long long* best_rows, const long long* idx,
                                            const long long* starts, const long long* ends,
                                            long long n, long long D, long long pad, long long n_idx,
                                            long long rows) {{
    {GRID_STRIDE_LOOP} {{
        long long b = i / D, c = i - b * D, best = -1;
        for (long long p = clamped(starts[b], n_idx); p < clamped(ends[b], n_idx); ++p) {{
            long long r = idx[p];
            if (skipped(r, pad, rows)) continue;
            if (best < 0 || W[r * D + c] > W[best * D + c]) best = r;
        }}
        best_rows[i] = best;
    }}
}}
"""


def _indices(xp, *arrays):
    """The index arrays as contiguous int64 (no copy when they are already)."""
    return [xp.ascontiguousarray(a, dtype=xp.int64) for a in arrays]


def _optional(xp, a, stand_in):
    """``(array, flag)`` for an optional factor: ``stand_in`` (never read) when absent."""
    return (stand_in, 0) if a is None else (xp.ascontiguousarray(a), 1)


def _bag_args(xp, values, out, idx, starts, ends, coef, div, pad, rows):
    """The arguments of the gather and scatter kernels, one thread per (bag, column),
    of a weight of ``rows`` rows."""
    n = starts.shape[0] * values.shape[1]
    coef, has_coef = _optional(xp, coef, values)
    div, has_div = _optional(xp, div, values)
    return n, (values, out, *_indices(xp, idx, starts, ends), coef, div, xp.int64(n),
               xp.int64(values.shape[1]), xp.int64(pad), xp.int32(has_coef), xp.int32(has_div),
               xp.int64(idx.shape[0]), xp.int64(rows))


def _bag_gather(xp):
    """``sparse.bag_gather``: one thread per (bag, column) sums the bag's rows."""
    run = FloatKernels(xp, _BAG_GATHER, "ember_bag_gather")

    def bag_gather(W, idx, starts, ends, coef, div, pad, num):
        W = xp.ascontiguousarray(W)
        out = xp.empty((starts.shape[0], W.shape[1]), dtype=W.dtype)
        n, args = _bag_args(xp, W, out, idx, starts, ends, coef, div, pad, W.shape[0])
        run(W.dtype, n, args)
        return out

    return bag_gather


def _bag_scatter(xp):
    """``sparse.bag_scatter``: one thread per (bag, column) adds the bag's gradient
    into the rows it names."""
    run = FloatKernels(xp, _BAG_SCATTER, "ember_bag_scatter")

    def bag_scatter(G, idx, starts, ends, coef, div, pad, num):
        G = xp.ascontiguousarray(G)
        out = xp.zeros((num, G.shape[1]), dtype=G.dtype)
        n, args = _bag_args(xp, G, out, idx, starts, ends, coef, div, pad, num)
        run(G.dtype, n, args)
        return out

    return bag_scatter


def _row_scatter(xp):
    """``sparse.row_scatter``: one thread per (position, column) adds a gradient row."""
    run = FloatKernels(xp, _ROW_SCATTER, "ember_row_scatter")

    def row_scatter(G, idx, coef, num):
        G = xp.ascontiguousarray(G.reshape(-1, G.shape[-1]))
        out = xp.zeros((num, G.shape[1]), dtype=G.dtype)
        coef, has_coef = _optional(xp, coef, G)
        idx, = _indices(xp, idx.reshape(-1))
        run(G.dtype, G.size, (G, out, idx, coef, xp.int64(G.size), xp.int64(G.shape[1]), xp.int64(num),
                              xp.int32(has_coef)))
        return out

    return row_scatter


def _bag_argmax(xp):
    """``sparse.bag_argmax``: one thread per (bag, column) keeps the winning row."""
    run = FloatKernels(xp, _BAG_ARGMAX, "ember_bag_argmax")

    def bag_argmax(W, idx, starts, ends, pad):
        W = xp.ascontiguousarray(W)
        rows = xp.empty((starts.shape[0], W.shape[1]), dtype=xp.int64)
        run(W.dtype, rows.size, (W, rows, *_indices(xp, idx, starts, ends), xp.int64(rows.size),
                                 xp.int64(W.shape[1]), xp.int64(pad), xp.int64(idx.shape[0]),
                                 xp.int64(W.shape[0])))
        return rows

    return bag_argmax


def _float_bags(values, idx, starts, ends, coef, div, pad, num):
    """What the bag kernels take: float32 or float64 values, factors of that dtype."""
    return same_floats(values, coef, div)


def _float_rows(G, idx, coef, num):
    """What the row scatter takes: a float32 or float64 gradient, ``coef`` of its dtype."""
    return same_floats(G, coef)


def _float_weight(W, *args):
    """What the argmax takes: a float32 or float64 weight."""
    return floating(W)



#: op -> kernel factory of the ``cupy`` namespace (registered under the "cuda" backend).
KERNELS = {
    "sparse.bag_gather": on_device(_bag_gather, _float_bags),
    "sparse.bag_scatter": on_device(_bag_scatter, _float_bags),
    "sparse.row_scatter": on_device(_row_scatter, _float_rows),
    "sparse.bag_argmax": on_device(_bag_argmax, _float_weight),
}
