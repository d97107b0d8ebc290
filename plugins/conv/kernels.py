"""The conv family's kernels: ``conv.im2col`` (image -> columns of sliding
blocks) and its adjoint ``conv.col2im``; see ``unfold.py`` for the geometry.
``conv.winograd`` is a whole stride-1 3x3 convolution (or, with
``transposed``, transposed convolution) and ``conv.winograd_weight_grad`` the
convolution's weight gradient, or None where the backend declines them (the
caller then takes the im2col path); ``conv.direct`` and
``conv.direct_weight_grad`` the same for stride-1 1-d and 2-d convolutions of
any kernel size and dilation, tried after Winograd.

The generic pair uses only slicing, so every array namespace runs it; the
generic whole-convolution kernels decline everything. The CPU has a
Cython/OpenMP pair (``_im2col.pyx``), the Winograd F(2x2, 3x3) convolution
(``_winograd.pyx``) and the direct convolution for few channels
(``_direct.pyx``) when they are built; the cuda backend a RawKernel pair
(``cuda.py``).
"""

import itertools
import math

from ember import kernels

#: The CPU takes the Winograd path when both channel counts reach this. With fewer
#: channels, the transforms (a cost per channel) outweigh the multiplies they save
#: (per pair of channels): a 3-channel image's first layer stays on im2col (measured
#: on 2 cores: forward, input and weight gradients of 2 to 64 channels, 2x2 to 32x32
#: images, batches of 1 to 16).
WINOGRAD_MIN_CHANNELS = 8

#: The CPU takes the direct path when the two channel counts multiply to at most
#: this. Up to there the direct kernel ran forward, input and weight gradients 1-8x
#: faster than im2col + GEMM (LeNet's 6 -> 16 5x5 layer: forward 1.9x, weight
#: gradient 1.6x); at 32 x 64 channels BLAS's products won (measured on 2 cores,
#: 1 to 64 channels, 3x3 and 5x5 kernels, batches of 16 and 64).
DIRECT_MAX_CHANNEL_PRODUCT = 512


def _taps(in_sp, out_sp, k, d, p, s):
    """The padding after the image that makes every tap slice in range, and the
    slices of the padded image read by each tap (kernel offsets, C order)."""
    after = [max(0, pi + (o - 1) * si + (ki - 1) * di + 1 - pi - i)
             for i, o, ki, di, pi, si in zip(in_sp, out_sp, k, d, p, s)]
    slices = [tuple(slice(j * di, j * di + (o - 1) * si + 1, si)
                    for j, o, di, si in zip(tap, out_sp, d, s))
              for tap in itertools.product(*(range(ki) for ki in k))]
    return after, slices


def _im2col_generic(xp):
    def im2col(x, in_sp, out_sp, k, d, p, s, out=None):
        n, c = x.shape[:2]
        cols = xp.zeros((n, c, math.prod(k), math.prod(out_sp)), dtype=x.dtype)
        if cols.size:
            after, slices = _taps(in_sp, out_sp, k, d, p, s)
            padded = xp.pad(x, [(0, 0), (0, 0)] + [(pi, a) for pi, a in zip(p, after)])
            for t, sl in enumerate(slices):
                cols[:, :, t] = padded[(slice(None), slice(None)) + sl].reshape(n, c, -1)
        cols = cols.reshape(n, c * math.prod(k), math.prod(out_sp))
        if out is None:
            return cols
        out = out.reshape(cols.shape)
        out[...] = cols
        return out
    return im2col


def _col2im_generic(xp):
    def col2im(cols, in_sp, out_sp, k, d, p, s):
        n, ck, _ = cols.shape
        c = ck // math.prod(k)
        if cols.size == 0:
            return xp.zeros((n, c) + tuple(in_sp), dtype=cols.dtype)
        after, slices = _taps(in_sp, out_sp, k, d, p, s)
        full = tuple(pi + i + a for i, pi, a in zip(in_sp, p, after))
        padded = xp.zeros((n, c) + full, dtype=cols.dtype)
        blocks = cols.reshape((n, c, math.prod(k)) + tuple(out_sp))
        for t, sl in enumerate(slices):
            # one tap never hits an element twice, so a sliced add is exact
            padded[(slice(None), slice(None)) + sl] += blocks[:, :, t]
        crop = tuple(slice(pi, pi + i) for i, pi in zip(in_sp, p))
        return xp.ascontiguousarray(padded[(slice(None), slice(None)) + crop])
    return col2im


def _declines(xp):
    """The generic Winograd kernels: no backend has them unless it registers its own."""
    return lambda *args: None


GENERIC_KERNELS = {"conv.im2col": _im2col_generic, "conv.col2im": _col2im_generic,
                   "conv.winograd": _declines, "conv.winograd_weight_grad": _declines,
                   "conv.direct": _declines, "conv.direct_weight_grad": _declines}


def _pays(x, channels):
    """Whether Winograd beats im2col + GEMM on the CPU for image ``x`` and the
    convolution's channel counts ``(out, in)``."""
    return kernels.floating(x) and min(channels) >= WINOGRAD_MIN_CHANNELS


def _winograd_cpu(winograd):
    def conv(x, weight, padding, bias=None, transposed=False):
        """``winograd.conv2d(x, weight, padding, bias, transposed)`` where it pays, else None."""
        if not _pays(x, weight.shape[:2]):
            return None
        return winograd.conv2d(x, weight, padding, bias, transposed)

    def weight_grad(x, dy, padding):
        """``winograd.conv2d_weight_grad(x, dy, padding)`` where it pays, else None."""
        return winograd.conv2d_weight_grad(x, dy, padding) if _pays(x, (dy.shape[1], x.shape[1])) else None

    return {"conv.winograd": conv, "conv.winograd_weight_grad": weight_grad}


def _as_2d(values, fill):
    """A 1-d convolution's geometry as a 2-d one's: one row, ``fill`` before."""
    return tuple(values) if len(values) == 2 else (fill,) + tuple(values)


def _direct_cpu(direct):
    def conv(x, weight, out_sp, padding, dilation, bias=None, transposed=False):
        """``direct.conv2d`` of a 1-d or 2-d convolution where it pays, else None."""
        if not kernels.floating(x) or weight.shape[0] * weight.shape[1] > DIRECT_MAX_CHANNEL_PRODUCT:
            return None
        if x.ndim == 4:
            return direct.conv2d(x, weight, out_sp, padding, dilation, bias, transposed)
        y = direct.conv2d(x[:, :, None], weight[:, :, None], _as_2d(out_sp, 1), _as_2d(padding, 0),
                          _as_2d(dilation, 1), bias, transposed)
        return y[:, :, 0]

    def weight_grad(x, dy, kernel, padding, dilation):
        """``direct.conv2d_weight_grad`` of a 1-d or 2-d convolution where it pays, else None."""
        if not kernels.floating(x) or x.shape[1] * dy.shape[1] > DIRECT_MAX_CHANNEL_PRODUCT:
            return None
        if x.ndim == 4:
            return direct.conv2d_weight_grad(x, dy, kernel, padding, dilation)
        gw = direct.conv2d_weight_grad(x[:, :, None], dy[:, :, None], _as_2d(kernel, 1),
                                       _as_2d(padding, 0), _as_2d(dilation, 1))
        return None if gw is None else gw[:, :, 0]

    return {"conv.direct": conv, "conv.direct_weight_grad": weight_grad}


def table():
    """``(op, backend) -> kernel`` for ``ember_register_kernels``."""
    cpu = {}
    try:
        from . import _im2col
    except ImportError:  # not built: the generic kernels serve the CPU
        pass
    else:
        cpu.update({"conv.im2col": _im2col.im2col, "conv.col2im": _im2col.col2im})
    try:
        from . import _winograd
    except ImportError:
        pass
    else:
        cpu.update(_winograd_cpu(_winograd))
    try:
        from . import _direct
    except ImportError:
        pass
    else:
        cpu.update(_direct_cpu(_direct))
    from . import cuda  # CuPy kernel factories: nothing is built before a cuda op runs

    return kernels.table(GENERIC_KERNELS, cpu=cpu, cuda=cuda.KERNELS)
