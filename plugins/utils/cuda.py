"""The cuda backend's gradient clipping: the total norm of all gradients in two
launches, their scaling in one, whatever the number of gradients.

The gradients are read through a device table of their addresses
(:class:`ember.backends.cuda.raw.TensorTables`). ``total_norm``'s first launch
gives each thread the grid-stride share of the elements: it sums ``|x|**p`` (each
term in the gradients' dtype, as torch computes it, the sum in double) or takes
the largest ``|x|`` (a NaN wins), one partial per thread; the second, a
reduction, folds the partials and takes the root in the gradients' dtype, so a
float32 sum that exceeds float32's range gives ``inf`` as torch's does. Torch
takes the norm of the per-tensor norms instead: the same number up to rounding.

``clip_gradients`` computes torch's coefficient ``min(max_norm / (total + 1e-6), 1)``
from the device's total in every thread (a number divided by a tensor is the
tensor's reciprocal times the number in torch), so nothing is read on the host.

They take float32/float64 C-contiguous gradients of one dtype and device;
``total_norm`` takes norm types ``inf`` and ``p > 0`` (not an ``inf`` norm of an
empty gradient, which torch refuses). Other calls go to the generic kernels.
"""

import math

import numpy as np

from ember.backends.cuda.kernels import on_device
from ember.backends.cuda.raw import (BLOCK, GRID_STRIDE_LOOP, TENSOR_OF, FloatKernels, TensorTables, blocks,
                                     disjoint)
from ember.kernels import floating

#: Most blocks of the partial-norm launch: at most this many times BLOCK partials to fold.
PARTIAL_BLOCKS = 128

# kind: 0 sum |x|**p, 1 sum |x|, 2 sum x*x, 3 max |x|
_PARTIALS = TENSOR_OF + f"""
extern "C" __global__ void ember_norm_partials(const long long* table, long long count, long long n,
                                               double* partial, double p, int kind) {{
    const T power = T(p);
    double acc = 0.0;
    {GRID_STRIDE_LOOP} {{
        const long long j = ember_tensor_of(table, count, i);
        const T x = ((const T*)table[count + j])[ember_offset_in(table, j, i)];
        const T a = fabs(x);
        if (kind == 3) {{
            const double d = double(a);
            if (acc == acc && (d != d || d > acc)) acc = d;  // a NaN, once seen, stays
        }} else {{
            acc += double(kind == 2 ? x * x : kind == 1 ? a : pow(a, power));
        }}
    }}
    partial[blockIdx.x * (long long)blockDim.x + threadIdx.x] = acc;
}}
"""

_CLIP = TENSOR_OF + f"""
extern "C" __global__ void ember_clip_gradients(const long long* table, long long count, long long n,
                                                const T* total, double max_norm) {{
    const T coef = (T(1) / (*total + T(1e-6))) * T(max_norm);
    const T clamped = coef > T(1) ? T(1) : coef;  // a NaN stays
    {GRID_STRIDE_LOOP} {{
        const long long j = ember_tensor_of(table, count, i);
        T* g = (T*)table[count + j];
        const long long k = ember_offset_in(table, j, i);
        g[k] = g[k] * clamped;
    }}
}}
"""

_C_TYPES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}


def _kind(norm_type):
    """The partial kernel's ``kind`` for ``norm_type``, None for one it does not take."""
    if norm_type == math.inf:
        return 3
    if not 0 < norm_type < math.inf:
        return None
    return {1.0: 1, 2.0: 2}.get(norm_type, 0)


def _same_floats(grads):
    """True for a non-empty list of C-contiguous float32/float64 arrays of one dtype and device."""
    if not grads or not floating(grads[0]):
        return False
    first = grads[0]
    device = getattr(first, "device", None)
    return all(g.dtype == first.dtype and g.flags.c_contiguous and getattr(g, "device", None) == device
               for g in grads)


def _total_norm(xp):
    partials = FloatKernels(xp, _PARTIALS, "ember_norm_partials")
    tables = TensorTables(xp)
    folds = {}

    def fold(dtype, kind, norm_type):
        """The reduction of the partials into the norm, in ``dtype``, for ``kind`` (and
        ``norm_type``'s root, a constant of the kernel, for a general ``p``)."""
        key = (dtype, kind, norm_type if kind == 0 else None)
        found = folds.get(key)
        if found is None:
            c = _C_TYPES[dtype]
            root = {0: f"pow({c}(a), {c}({1.0 / norm_type!r}))", 1: f"{c}(a)", 2: f"sqrt({c}(a))",
                    3: f"{c}(a)"}[kind]
            combine = "(b > a || b != b) ? b : a" if kind == 3 else "a + b"
            found = folds[key] = xp.ReductionKernel("float64 x", f"{dtype.name} y", "x", combine,
                                                    f"y = {root}", "0", f"ember_norm_fold_{kind}",
                                                    reduce_type="double")
        return found

    def total_norm(grads, norm_type):
        kind = _kind(norm_type)
        if kind is None or not _same_floats(grads) or (kind == 3 and any(g.size == 0 for g in grads)):
            return None
        n = sum(g.size for g in grads)
        grid = min(blocks(n), PARTIAL_BLOCKS)
        partial = tables.workspace(grid * BLOCK, np.float64)
        partials.kernel(grads[0].dtype)((grid,), (BLOCK,), (
            tables.addresses([grads]), np.int64(len(grads)), np.int64(n), partial, np.float64(norm_type),
            np.int32(kind)))
        return fold(grads[0].dtype, kind, norm_type)(partial)

    return total_norm


def _clip_gradients(xp):
    scale = FloatKernels(xp, _CLIP, "ember_clip_gradients")
    tables = TensorTables(xp)

    def clip_gradients(grads, max_norm, total):
        # a gradient listed twice is scaled twice, as torch does, by the generic path
        if not _same_floats(grads + [total]) or total.shape != () or not disjoint(grads):
            return False
        n = sum(g.size for g in grads)
        if n:
            scale(grads[0].dtype, n, (tables.addresses([grads]), np.int64(len(grads)), np.int64(n), total,
                                      np.float64(max_norm)))
        return True

    return clip_gradients


#: op -> kernel factory of the ``cupy`` namespace (registered under the "cuda" backend).
KERNELS = {
    "utils.total_norm": on_device(_total_norm),
    "utils.clip_gradients": on_device(_clip_gradients),
}
