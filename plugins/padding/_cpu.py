"""The cpu padding kernels: the Cython/OpenMP gather and scatter-add of
``_pad.pyx`` (reflect, replicate, circular) for float32 and float64, its
byte-copying constant pad for every dtype; the generic NumPy version serves
every other case (and the whole family when the extension is not built)."""

import numpy as np

from ._kernels import MODES, _constant, _gather_for, _scatter_for, index_map, negated

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_ONE = (np.zeros(1, dtype=np.int64), (0, 1, 0))


def _ext():
    try:
        from . import _pad
    except ImportError:  # not built: the generic version serves
        return None
    return _pad


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


def _gather_cpu(mode):
    generic = _gather_for(mode)(np)
    ext = _ext()

    def gather(x, spec):
        if ext is None or x.dtype not in _FLOATS or not 1 <= len(spec) <= 3:
            return generic(x, spec)
        planes, inner = _split(x.shape, spec)
        d, h, w, run = _maps3(mode, spec)
        x4 = np.ascontiguousarray(x).reshape(planes, *inner)
        out = ext.gather3d(x4, d, h, w, run)
        lead = x.shape[:x.ndim - len(spec)]
        return out.reshape(tuple(lead) + tuple(n + lo + hi for n, lo, hi in spec))

    return gather


def _scatter_cpu(mode):
    generic = _scatter_for(mode)(np)
    ext = _ext()

    def scatter(g, spec):
        if ext is None or g.dtype not in _FLOATS or not 1 <= len(spec) <= 3:
            return generic(g, spec)
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


def _constant_cpu():
    generic = _constant(np)
    ext = _ext()

    def constant(x, spec):
        if ext is None or not 1 <= len(spec) <= 3 or x.dtype.kind not in "biuf":
            return generic(x, spec)
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


def _constant_adjoint_cpu():
    constant = _constant_cpu()

    def constant_adjoint(g, spec):
        return constant(g, negated(spec))

    return constant_adjoint


def cpu_kernels():
    """``{(op, "cpu"): kernel}`` for the gather/scatter padding modes."""
    table = {("padding.constant", "cpu"): _constant_cpu(),
             ("padding.constant_adjoint", "cpu"): _constant_adjoint_cpu()}
    for mode in MODES:
        table[(f"padding.{mode}", "cpu")] = _gather_cpu(mode)
        table[(f"padding.{mode}_adjoint", "cpu")] = _scatter_cpu(mode)
    return table
