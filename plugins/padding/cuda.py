"""The cuda backend's kernels of the padding family: one CuPy RawKernel launch per
op where the generic kernels (``kernels.py``) take along each padded axis in
turn (the gathers), or copy the interior and scatter-add the border per axis with
a zeroed array each time (the adjoints), or fill each border slab and copy the
interior (constant padding).

The arrays are seen as planes of shape ``(D, H, W)``: the leading dimensions are
the planes, a 1-d or 2-d spec gets leading unit axes. One thread computes one
output element:

* constant padding (and its adjoint, the constant padding of the negated spec)
  copies its source element, or writes zero where the source lies outside the
  input;
* reflect, replicate and circular padding share one kernel: the source of an
  output position, per axis, comes from the family's own index map
  (``index_map``), so the modes differ only in their maps;
* their adjoints are gathers over inputs, no atomics: an input element sums the
  gradient at every output position that read it, listed per axis in a table
  made from the same map. The sums nest as the generic kernel's passes (first
  padded axis innermost), each in the generic order (the copied interior, then
  the border positions in increasing order), so float32 sums round alike.

The forward kernels only move elements, so they are built per element width and
take every dtype of 1, 2, 4 or 8 bytes; the adjoints take float32 and float64.
A map and its table are packed in one int64 array per (mode, size, pads), copied
to the device once (per device) and kept, as the generic kernels keep their maps.
"""

from functools import lru_cache

import numpy as np

from ember.backends.cuda.kernels import on_device
from ember.backends.cuda.raw import GRID_STRIDE_LOOP, FloatKernels, WidthKernels, plane_position, upload
from ember.kernels import floating

from .kernels import MODES, device_id, index_map, negated

_SIZES = ("long long n0, long long n1, long long n2, "
          "long long m0, long long m1, long long m2")

# Thread i's output position (j0, j1, j2) of plane ``plane`` (m*: the output's sizes).
_AT_OUTPUT = plane_position(("j0", "j1", "j2"), ("m0", "m1", "m2"))

_CONSTANT = f"""
extern "C" __global__ void ember_pad_constant(const T* x, T* y, long long n, long long lo0, long long lo1,
        long long lo2, {_SIZES}) {{
    {GRID_STRIDE_LOOP} {{
        {_AT_OUTPUT}
        long long a = j0 - lo0, b = j1 - lo1, c = j2 - lo2;
        bool inside = a >= 0 && a < n0 && b >= 0 && b < n1 && c >= 0 && c < n2;
        y[i] = inside ? x[((plane * n0 + a) * n1 + b) * n2 + c] : T(0);
    }}
}}
"""

# A packed table of one axis: the source of each of the m output positions, then
# for each of the n inputs where its readers start (n + 1 offsets), then the readers.
_GATHER = f"""
extern "C" __global__ void ember_pad_gather(const T* x, T* y, long long n, const long long* map0,
        const long long* map1, const long long* map2, {_SIZES}) {{
    {GRID_STRIDE_LOOP} {{
        {_AT_OUTPUT}
        y[i] = x[((plane * n0 + map0[j0]) * n1 + map1[j1]) * n2 + map2[j2]];
    }}
}}
"""

_ADJOINT = f"""
extern "C" __global__ void ember_pad_adjoint(const T* g, T* dx, long long n, const long long* map0,
        const long long* map1, const long long* map2, {_SIZES}) {{
    {GRID_STRIDE_LOOP} {{
        {plane_position(("i0", "i1", "i2"), ("n0", "n1", "n2"))}
        const long long *first0 = map0 + m0, *first1 = map1 + m1, *first2 = map2 + m2;
        const long long *readers0 = first0 + n0 + 1, *readers1 = first1 + n1 + 1, *readers2 = first2 + n2 + 1;
        const T* src = g + plane * m0 * m1 * m2;
        T acc = T(0);
        for (long long c = first2[i2]; c < first2[i2 + 1]; ++c) {{
            T middle = T(0);
            for (long long b = first1[i1]; b < first1[i1 + 1]; ++b) {{
                const T* line = src + readers1[b] * m2 + readers2[c];
                T inner = T(0);
                for (long long a = first0[i0]; a < first0[i0 + 1]; ++a)
                    inner += line[readers0[a] * m1 * m2];
                middle += inner;
            }}
            acc += middle;
        }}
        dx[i] = acc;
    }}
}}
"""

_UNPADDED = (1, 0, 0)


@lru_cache(maxsize=1024)
def packed_table(mode, n, lo, hi):
    """The packed table of one axis (read-only int64 host array): ``index_map``'s
    sources, then the readers of each input as CSR offsets and positions, the
    copied interior position first and the border ones in increasing order."""
    idx, (a, b, _) = index_map(mode, n, lo, hi)
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise ValueError(f"{mode} padding ({lo}, {hi}) of {n} elements reads outside them")
    j = np.arange(idx.size, dtype=np.int64)
    border = (j < a) | (j >= b)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(idx, minlength=n), out=offsets[1:])
    table = np.concatenate([idx, offsets, j[np.lexsort((j, border, idx))]])
    table.flags.writeable = False
    return table


class _Tables:
    """Device copies of the packed tables, made once per (mode, n, lo, hi, device)."""

    def __init__(self, xp):
        self.xp = xp
        self.cache = {}

    def get(self, mode, spec3):
        """The three tables of ``spec3`` (three ``(n, lo, hi)``) on the current device."""
        tables = []
        for n, lo, hi in spec3:
            key = (mode, n, lo, hi, device_id(self.xp))
            found = self.cache.get(key)
            if found is None:
                found = self.cache[key] = upload(self.xp, packed_table(mode, n, lo, hi))
            tables.append(found[0])
        return tables


def _three(spec):
    """``spec`` with unpadded leading axes in front, to three axes."""
    return (_UNPADDED,) * (3 - len(spec)) + tuple(spec)


def _sizes(xp, spec3):
    """Input and output sizes of the three axes as ``long long`` arguments."""
    return tuple(xp.int64(v) for v in [n for n, _, _ in spec3] + [n + lo + hi for n, lo, hi in spec3])


def _padded(spec):
    """The sizes of the padded axes."""
    return tuple(n + lo + hi for n, lo, hi in spec)


def _per_element(xp, run, src, spec, axes, extra):
    """A new array of ``src``'s leading (unpadded) dims followed by ``axes``, each of its
    elements written by one thread of ``run`` from the contiguous ``src``;
    ``extra(spec3)`` gives the kernel's arguments between the element count and the
    axes' sizes."""
    lead = src.shape[:src.ndim - len(spec)]
    src = xp.ascontiguousarray(src)
    out = xp.empty(tuple(lead) + tuple(axes), dtype=src.dtype)
    spec3 = _three(spec)
    run(src.dtype, out.size, (src, out, xp.int64(out.size), *extra(spec3), *_sizes(xp, spec3)))
    return out


def _trimmed(spec):
    """``spec`` without its leading unpadded axes (they join the planes)."""
    k = 0
    while k < len(spec) - 1 and spec[k][1] == 0 and spec[k][2] == 0:
        k += 1
    return tuple(spec[k:])


def _constant(xp):
    """``padding.constant``: every output element copies its source or writes zero."""
    run = WidthKernels(xp, _CONSTANT, "ember_pad_constant")

    def constant(x, spec):
        spec = _trimmed(spec)
        return _per_element(xp, run, x, spec, _padded(spec), lambda spec3: (xp.int64(lo) for _, lo, _ in spec3))

    return constant


def _constant_adjoint(xp):
    """``padding.constant_adjoint``: the constant padding of the negated spec."""
    constant = _constant(xp)
    return lambda g, spec: constant(g, negated(spec))


def _gather(xp, mode):
    """``padding.<mode>``: every output element copies its source through the maps."""
    run = WidthKernels(xp, _GATHER, "ember_pad_gather")
    tables = _Tables(xp)
    return lambda x, spec: _per_element(xp, run, x, spec, _padded(spec), lambda spec3: tables.get(mode, spec3))


def _adjoint(xp, mode):
    """``padding.<mode>_adjoint``: every input element sums the gradient of its readers."""
    run = FloatKernels(xp, _ADJOINT, "ember_pad_adjoint")
    tables = _Tables(xp)
    return lambda g, spec: _per_element(xp, run, g, spec, (n for n, _, _ in spec),
                                        lambda spec3: tables.get(mode, spec3))


# ------------------------------------------------------------------ accepts

def _movable_3d(x, spec):
    """The gathers: a dtype of a width the kernels move, one to three padded axes, none empty."""
    return WidthKernels.takes(x.dtype) and 1 <= len(spec) <= 3 and all(n > 0 for n, _, _ in spec)


def _floats_3d(g, spec):
    """The adjoints: float32/float64, one to three padded axes, none empty."""
    return floating(g) and 1 <= len(spec) <= 3 and all(n > 0 for n, _, _ in spec)


def _constant_call(x, spec):
    """Constant padding: a dtype of a width the kernels move, at most three padded axes
    once the leading unpadded ones join the planes."""
    return WidthKernels.takes(x.dtype) and 1 <= len(_trimmed(spec)) <= 3


def _constant_adjoint_call(g, spec):
    """The constant adjoint: what constant padding takes, for the negated spec."""
    return _constant_call(g, negated(spec))



#: op -> kernel factory of the ``cupy`` namespace (registered under the "cuda" backend).
KERNELS = {
    "padding.constant": on_device(_constant, _constant_call),
    "padding.constant_adjoint": on_device(_constant_adjoint, _constant_adjoint_call),
    **{f"padding.{m}": on_device(lambda xp, m=m: _gather(xp, m), _movable_3d) for m in MODES},
    **{f"padding.{m}_adjoint": on_device(lambda xp, m=m: _adjoint(xp, m), _floats_3d) for m in MODES},
}
