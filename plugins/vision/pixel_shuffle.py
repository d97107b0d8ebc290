"""``F.pixel_shuffle`` and ``F.pixel_unshuffle``: channel groups to spatial
blocks and back.

Both are permutations of the elements, so each is a ``linear_map`` whose
adjoint is the other (generic kernels in ``kernels.py``, a reshape and a
transpose on any backend).
"""

from ember.autograd import linear_map

from .._checks import tensor_arg

__all__ = ["pixel_shuffle", "pixel_unshuffle"]


def _factor(value, fn, what):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{fn}(): argument '{what}' (position 2) must be int, not "
                        f"{type(value).__name__}")
    if value <= 0:
        raise RuntimeError(f"{fn} expects a positive {what}, but got {value}")
    return value


def _at_least_3d(input, fn):
    if input.dim() < 3:
        raise RuntimeError(f"{fn} expects input to have at least 3 dimensions, but got input with "
                           f"{input.dim()} dimension(s)")


def pixel_shuffle(input, upscale_factor):
    """Rearrange ``(*, C * r^2, H, W)`` into ``(*, C, H * r, W * r)``, ``r = upscale_factor``:
    each group of ``r^2`` channels fills the ``r x r`` block of one output pixel
    (sub-pixel convolution, Shi et al. 2016).

    Args:
        input: tensor with at least 3 dimensions.
        upscale_factor: the spatial factor ``r`` (positive int).

    Examples::

        >>> F.pixel_shuffle(ember.randn(1, 9, 4, 4), 3).shape
        ember.Size([1, 1, 12, 12])
    """
    tensor_arg(input, "pixel_shuffle", "input")
    _at_least_3d(input, "pixel_shuffle")
    r = _factor(upscale_factor, "pixel_shuffle", "upscale_factor")
    c = input.shape[-3]
    if c % (r * r):
        raise RuntimeError("pixel_shuffle expects its input's 'channel' dimension to be divisible "
                           f"by the square of upscale_factor, but input.size(-3)={c} is not "
                           f"divisible by {r * r}")
    return linear_map(input, "vision.pixel_shuffle", "vision.pixel_unshuffle", (r,),
                      "PixelShuffleBackward0", "PixelUnshuffleBackward0")


def pixel_unshuffle(input, downscale_factor):
    """Inverse of :func:`pixel_shuffle`: ``(*, C, H * r, W * r)`` into
    ``(*, C * r^2, H, W)``, ``r = downscale_factor``.

    Args:
        input: tensor with at least 3 dimensions, height and width divisible by ``r``.
        downscale_factor: the spatial factor ``r`` (positive int).

    Examples::

        >>> F.pixel_unshuffle(ember.randn(1, 1, 12, 12), 3).shape
        ember.Size([1, 9, 4, 4])
    """
    tensor_arg(input, "pixel_unshuffle", "input")
    _at_least_3d(input, "pixel_unshuffle")
    r = _factor(downscale_factor, "pixel_unshuffle", "downscale_factor")
    h, w = input.shape[-2], input.shape[-1]
    if h % r:
        raise RuntimeError("pixel_unshuffle expects height to be divisible by downscale_factor, "
                           f"but input.size(-2)={h} is not divisible by {r}")
    if w % r:
        raise RuntimeError("pixel_unshuffle expects width to be divisible by downscale_factor, "
                           f"but input.size(-1)={w} is not divisible by {r}")
    return linear_map(input, "vision.pixel_unshuffle", "vision.pixel_shuffle", (r,),
                      "PixelUnshuffleBackward0", "PixelShuffleBackward0")
