"""CPU kernels backed by the compiled ``_kernels`` extension.

The build of the Cython loops is picked in dispatch.py (``VARIANT`` says which).
They take contiguous float32/float64 buffers; anything else (other
dtypes, broadcasting, strided views) goes through the NumPy formula instead.
"""

import numpy as np

from .dispatch import choose

#: The kernel build in use: "avx512", "avx2" or "portable" (EMBER_CPU_DISPATCH forces one).
VARIANT, _kernels = choose()

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _fast(*arrays):
    """True when the Cython loop can take these arrays as they are."""
    first = arrays[0]
    if first.dtype not in _FLOATS or not first.flags.c_contiguous:
        return False
    for a in arrays[1:]:
        if a.dtype != first.dtype or a.shape != first.shape or not a.flags.c_contiguous:
            return False
    return True


def sigmoid(x):
    if not _fast(x):
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
    out = np.empty_like(x)
    _kernels.sigmoid(x.reshape(-1), out.reshape(-1))
    return out


def erf(x):
    if not _fast(x):
        work = np.ascontiguousarray(x, dtype=np.float32 if x.dtype == np.float16 else None)
        return erf(work).astype(x.dtype, copy=False)
    out = np.empty_like(x)
    _kernels.erf(x.reshape(-1), out.reshape(-1))
    return out


def sigmoid_backward(g, y):
    if not _fast(g, y):
        return g * y * (1 - y)
    out = np.empty_like(g)
    _kernels.sigmoid_backward(g.reshape(-1), y.reshape(-1), out.reshape(-1))
    return out


def tanh_backward(g, y):
    if not _fast(g, y):
        return g * (1 - y * y)
    out = np.empty_like(g)
    _kernels.tanh_backward(g.reshape(-1), y.reshape(-1), out.reshape(-1))
    return out


def threshold_backward(g, x, threshold):
    if not _fast(g, x):
        return np.where(x <= threshold, 0, g).astype(np.result_type(g, x), copy=False)
    out = np.empty_like(g)
    _kernels.threshold_backward(g.reshape(-1), x.reshape(-1), float(threshold), out.reshape(-1))
    return out


KERNELS = {
    "erf": erf,
    "sigmoid": sigmoid,
    "sigmoid_backward": sigmoid_backward,
    "tanh_backward": tanh_backward,
    "threshold_backward": threshold_backward,
}
