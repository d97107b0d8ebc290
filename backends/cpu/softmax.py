"""Softmax and log-softmax of the CPU backend (``_softmax.pyx``), as kernels.

The loops run over rows, so they take a contiguous float32/float64 array whose
reduced dim is the last one with more than one element; the generic kernels of the
``core`` plugin serve every other call.
"""

import math

import numpy as np

from ember.kernels import kernel

from .dispatch import load_companion
from .kernels import VARIANT, contiguous_floats

_softmax = load_companion("_softmax", VARIANT)


def _rows(a, dim):
    return a.reshape(math.prod(a.shape[:dim]), a.shape[dim])


def _reduces_rows(*args):
    """``accepts`` of the kernels: contiguous floats of one shape, ``dim`` (the last
    argument) the last dim that has more than one element."""
    *arrays, dim = args
    return contiguous_floats(*arrays) and arrays[0].ndim > 0 and math.prod(arrays[0].shape[dim + 1:]) == 1


def _forward(loop):
    def run(x, dim):
        out = np.empty_like(x)
        loop(_rows(x, dim), _rows(out, dim))
        return out

    return kernel(run, accepts=_reduces_rows)


def _backward(loop):
    def run(grad, y, dim):
        out = np.empty_like(grad)
        loop(_rows(grad, dim), _rows(y, dim), _rows(out, dim))
        return out

    return kernel(run, accepts=_reduces_rows)


#: op -> kernel, registered for the ``cpu`` backend.
KERNELS = {
    "softmax": _forward(_softmax.softmax),
    "log_softmax": _forward(_softmax.log_softmax),
    "softmax_backward": _backward(_softmax.softmax_backward),
    "log_softmax_backward": _backward(_softmax.log_softmax_backward),
}
