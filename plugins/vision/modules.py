"""Vision modules: PixelShuffle, PixelUnshuffle, Upsample, UpsamplingNearest2d,
UpsamplingBilinear2d (thin wrappers over the functional forms)."""

from ember.nn import Module

from .interpolate import interpolate
from .pixel_shuffle import pixel_shuffle, pixel_unshuffle

__all__ = ["PixelShuffle", "PixelUnshuffle", "Upsample", "UpsamplingNearest2d",
           "UpsamplingBilinear2d"]


class PixelShuffle(Module):
    """Move channel groups into spatial blocks: ``(*, C * r^2, H, W)`` ->
    ``(*, C, H * r, W * r)`` with ``r = upscale_factor`` (see
    :func:`~ember.nn.functional.pixel_shuffle`).

    Args:
        upscale_factor: factor ``r`` by which height and width grow.

    Shape:
        - Input: ``(*, C_in, H_in, W_in)``, ``C_in`` divisible by ``r^2``.
        - Output: ``(*, C_in / r^2, H_in * r, W_in * r)``.

    Examples::

        >>> m = nn.PixelShuffle(3)
        >>> m(ember.randn(1, 9, 4, 4)).size()
        ember.Size([1, 1, 12, 12])
    """

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """Inverse of :class:`PixelShuffle`: ``(*, C, H * r, W * r)`` ->
    ``(*, C * r^2, H, W)`` with ``r = downscale_factor``.

    Args:
        downscale_factor: factor ``r`` by which height and width shrink.

    Shape:
        - Input: ``(*, C_in, H_in, W_in)``, ``H_in`` and ``W_in`` divisible by ``r``.
        - Output: ``(*, C_in * r^2, H_in / r, W_in / r)``.

    Examples::

        >>> m = nn.PixelUnshuffle(3)
        >>> m(ember.randn(1, 1, 12, 12)).size()
        ember.Size([1, 9, 4, 4])
    """

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"


class Upsample(Module):
    """Resize 1-d, 2-d or 3-d multi-channel data (``(N, C, W)``, ``(N, C, H, W)``,
    ``(N, C, D, H, W)``) to a given ``size`` or by a ``scale_factor``; see
    :func:`~ember.nn.functional.interpolate` for the modes.

    Args:
        size: output spatial size (int or tuple of ints).
        scale_factor: multiplier of the spatial size (float or tuple of floats);
            stored as float(s).
        mode: ``'nearest'``, ``'nearest-exact'``, ``'linear'``, ``'bilinear'``,
            ``'bicubic'``, ``'trilinear'`` or ``'area'``. Default: ``'nearest'``.
        align_corners: for the linear and cubic modes: align the centres of the
            corner pixels (``True``) or the outer edges (``False``, the default).
        recompute_scale_factor: recompute the sampling step from the output size.

    Shape:
        - Input: ``(N, C, W_in)``, ``(N, C, H_in, W_in)`` or ``(N, C, D_in, H_in, W_in)``.
        - Output: the same with each spatial size ``floor(in * scale_factor)`` or ``size``.

    Examples::

        >>> x = ember.arange(1., 5.).view(1, 1, 2, 2)
        >>> nn.Upsample(scale_factor=2, mode="nearest")(x)[0, 0, 0].tolist()
        [1.0, 1.0, 2.0, 2.0]
        >>> nn.Upsample(scale_factor=2, mode="bilinear")(x)[0, 0, 0].tolist()
        [1.0, 1.25, 1.75, 2.0]
    """

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                           recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        if self.scale_factor is not None:
            text = f"scale_factor={self.scale_factor!r}"
        else:
            text = f"size={self.size!r}"
        return text + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """2-d nearest-neighbour upsampling: ``Upsample(size, scale_factor, mode='nearest')``
    (deprecated in favour of :func:`~ember.nn.functional.interpolate`).

    Args:
        size: output ``(H_out, W_out)`` (int or pair).
        scale_factor: multiplier of height and width.

    Shape:
        - Input: ``(N, C, H_in, W_in)``. Output: ``(N, C, H_out, W_out)``.

    Examples::

        >>> m = nn.UpsamplingNearest2d(scale_factor=2)
        >>> m(ember.arange(1., 5.).view(1, 1, 2, 2))[0, 0, 0].tolist()
        [1.0, 1.0, 2.0, 2.0]
    """

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """2-d bilinear upsampling with aligned corners:
    ``Upsample(size, scale_factor, mode='bilinear', align_corners=True)``
    (deprecated in favour of :func:`~ember.nn.functional.interpolate`).

    Args:
        size: output ``(H_out, W_out)`` (int or pair).
        scale_factor: multiplier of height and width.

    Shape:
        - Input: ``(N, C, H_in, W_in)``. Output: ``(N, C, H_out, W_out)``.

    Examples::

        >>> m = nn.UpsamplingBilinear2d(scale_factor=2)
        >>> [round(v, 4) for v in m(ember.arange(1., 5.).view(1, 1, 2, 2))[0, 0, 0].tolist()]
        [1.0, 1.3333, 1.6667, 2.0]
    """

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
