"""The cpu padding kernels: the Cython/OpenMP gather and scatter-add of
``_pad.pyx`` (reflect, replicate, circular) for float32 and float64, its
byte-copying constant pad for bool, integer and float dtypes, each over 1 to 3
padded dimensions. Their ``accepts`` say so; the kernel table sends every other
call (and every call when the extension is not built) to the generic kernels."""

import numpy as np

from ember.kernels import kernel

from .kernels import MODES, index_map, negated

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_ONE = (np.zeros(1, dtype=np.int64), (0, 1, 0))


def _maps3(mode, spec):
    """The three maps (depth, height, width) and the width run, singleton where not padded."""
    maps = [index_map(mode, n, lo, hi) for n, lo, hi in spec]
    maps = [_ONE] * (3 - len(maps)) + maps
    return maps[0][0], maps[1][0], maps[2][0], maps[2][1]


def _split(shape, spec):
    k = len(spec)
    planes = 1
    for s in shape[:len(shape) - k]:
        planes *= s
    inner = [1] * (3 - k) + [n for n, _, _ in spec]
    return planes, inner


def _floats_in_3d(x, spec):
    return x.dtype in _FLOATS and 1 <= len(spec) <= 3


def _plain_in_3d(x, spec):
    return x.dtype.kind in "biuf" and 1 <= len(spec) <= 3


def _gather(ext):
    def gather(x, spec, mode):
        planes, inner = _split(x.shape, spec)
        d, h, w, run = _maps3(mode, spec)
        x4 = np.ascontiguousarray(x).reshape(planes, *inner)
        out = ext.gather3d(x4, d, h, w, run)
        lead = x.shape[:x.ndim - len(spec)]
        return out.reshape(tuple(lead) + tuple(n + lo + hi for n, lo, hi in spec))

    return gather


def _scatter(ext):
    def scatter(g, spec, mode):
        k = len(spec)
        planes = 1
        for s in g.shape[:g.ndim - k]:
            planes *= s
        out_inner = [1] * (3 - k) + [n + lo + hi for n, lo, hi in spec]
        _, inner = _split((), spec)
        d, h, w, run = _maps3(mode, spec)
        g4 = np.ascontiguousarray(g).reshape(planes, *out_inner)
        out = ext.scatter_add3d(g4, d, h, w, run, *inner)
        return out.reshape(tuple(g.shape[:g.ndim - k]) + tuple(n for n, _, _ in spec))

    return scatter


def _constant(ext):
    def constant(x, spec):
        k = len(spec)
        lead = x.shape[:x.ndim - k]
        planes = 1
        for s in lead:
            planes *= s
        spec3 = ((1, 0, 0),) * (3 - k) + tuple(spec)
        x4 = np.ascontiguousarray(x).reshape(planes, *(n for n, _, _ in spec3))
        out = ext.constant3d(x4, spec3)
        return out.reshape(tuple(lead) + tuple(n + lo + hi for n, lo, hi in spec))

    return constant


def _per_mode(fn, mode):
    return lambda x, spec: fn(x, spec, mode)


def cpu_kernels():
    """``{op: kernel}`` of the cpu backend ({} when ``_pad.pyx`` is not built)."""
    try:
        from . import _pad as ext
    except ImportError:  # not built: the generic kernels serve
        return {}
    constant = _constant(ext)
    table = {"padding.constant": kernel(constant, accepts=_plain_in_3d),
             "padding.constant_adjoint": kernel(lambda g, spec: constant(g, negated(spec)),
                                                accepts=_plain_in_3d)}
    gather, scatter = _gather(ext), _scatter(ext)
    for mode in MODES:
        table[f"padding.{mode}"] = kernel(_per_mode(gather, mode), accepts=_floats_in_3d)
        table[f"padding.{mode}_adjoint"] = kernel(_per_mode(scatter, mode), accepts=_floats_in_3d)
    return table
