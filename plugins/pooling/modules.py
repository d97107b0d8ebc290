"""Windowed pooling modules: MaxPool, MaxUnpool, AvgPool, LPPool in 1, 2 and 3 dimensions.

Each stores its hyper-parameters under PyTorch's attribute names (as given, or
as tuples where PyTorch converts them) and calls one function of
:mod:`.functional`; ``extra_repr`` prints what PyTorch prints.
"""

from ember.nn import Module
from ember.nn._tuples import pair, single, triple

from . import functional as F

from .adaptive import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d, AdaptiveMaxPool1d,
                       AdaptiveMaxPool2d, AdaptiveMaxPool3d)
from .fractional import FractionalMaxPool2d, FractionalMaxPool3d

__all__ = ["MaxPool1d", "MaxPool2d", "MaxPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d",
           "AvgPool1d", "AvgPool2d", "AvgPool3d", "LPPool1d", "LPPool2d", "LPPool3d",
           "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "AdaptiveAvgPool1d",
           "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "FractionalMaxPool2d", "FractionalMaxPool3d"]


class _MaxPoolNd(Module):
    __constants__ = ["kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode"]
    _pool = None

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input):
        return type(self)._pool(input, self.kernel_size, self.stride, self.padding, self.dilation,
                                ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """Max pooling along the last axis (see :func:`ember.nn.functional.max_pool1d`).

    Args:
        kernel_size: window length.
        stride: window step. Default: ``kernel_size``.
        padding: implicit ``-inf`` on both ends, at most half the window.
        dilation: spacing between window elements.
        return_indices: also return the positions of the maxima (for :class:`MaxUnpool1d`).
        ceil_mode: round the output length up instead of down.

    Shape:
        - Input: ``(N, C, L)`` or ``(C, L)``.
        - Output: ``(N, C, L_out)`` with
          ``L_out = floor((L + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1)``.

    Examples::

        >>> m = nn.MaxPool1d(3, stride=2)
        >>> m(ember.randn(20, 16, 50)).shape
        ember.Size([20, 16, 24])
    """

    _pool = staticmethod(F.max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """Max pooling of every ``(H, W)`` plane (see :func:`ember.nn.functional.max_pool2d`).

    Args:
        kernel_size, stride, padding, dilation: an int or a pair ``(h, w)``;
            ``stride`` defaults to ``kernel_size``.
        return_indices: also return the flat positions of the maxima (for :class:`MaxUnpool2d`).
        ceil_mode: round output sizes up instead of down.

    Shape:
        - Input: ``(N, C, H, W)`` or ``(C, H, W)``.
        - Output: ``(N, C, H_out, W_out)``, each size as for :class:`MaxPool1d`.

    Examples::

        >>> m = nn.MaxPool2d((3, 2), stride=(2, 1))
        >>> m(ember.randn(20, 16, 50, 32)).shape
        ember.Size([20, 16, 24, 31])
    """

    _pool = staticmethod(F.max_pool2d)


class MaxPool3d(_MaxPoolNd):
    """Max pooling of every ``(D, H, W)`` volume (see :func:`ember.nn.functional.max_pool3d`).

    Args:
        kernel_size, stride, padding, dilation: an int or a triple ``(d, h, w)``.
        return_indices: also return the flat positions of the maxima (for :class:`MaxUnpool3d`).
        ceil_mode: round output sizes up instead of down.

    Shape:
        - Input: ``(N, C, D, H, W)`` or ``(C, D, H, W)``.
        - Output: ``(N, C, D_out, H_out, W_out)``.

    Examples::

        >>> m = nn.MaxPool3d(3, stride=2)
        >>> m(ember.randn(2, 3, 9, 9, 9)).shape
        ember.Size([2, 3, 4, 4, 4])
    """

    _pool = staticmethod(F.max_pool3d)


class _MaxUnpoolNd(Module):
    _unpool = None
    _tuple = None

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        as_tuple = type(self)._tuple
        self.kernel_size = as_tuple(kernel_size)
        self.stride = as_tuple(stride if stride is not None else kernel_size)
        self.padding = as_tuple(padding)

    def forward(self, input, indices, output_size=None):
        return type(self)._unpool(input, indices, self.kernel_size, self.stride, self.padding,
                                  output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """Partial inverse of :class:`MaxPool1d`: zeros with the pooled values put back
    at their indices (see :func:`ember.nn.functional.max_unpool1d`).

    Args:
        kernel_size, stride, padding: those of the pooling (stride defaults to ``kernel_size``).

    Inputs: ``input``, ``indices`` (from ``MaxPool1d(return_indices=True)``) and an
    optional ``output_size`` choosing among the lengths the pooling maps to the same size.

    Shape:
        - Input: ``(N, C, L_in)`` or ``(C, L_in)``.
        - Output: ``(N, C, L_out)``, ``L_out = (L_in - 1) * stride - 2 * padding + kernel_size``
          or ``output_size``.

    Examples::

        >>> pool, unpool = nn.MaxPool1d(2, return_indices=True), nn.MaxUnpool1d(2)
        >>> unpool(*pool(ember.tensor([[[1., 2, 3, 4]]]))).tolist()
        [[[0.0, 2.0, 0.0, 4.0]]]
    """

    _unpool = staticmethod(F.max_unpool1d)
    _tuple = staticmethod(single)


class MaxUnpool2d(_MaxUnpoolNd):
    """Partial inverse of :class:`MaxPool2d` (see :func:`ember.nn.functional.max_unpool2d`).

    Args:
        kernel_size, stride, padding: those of the pooling, an int or a pair.

    Shape:
        - Input: ``(N, C, H_in, W_in)`` or ``(C, H_in, W_in)``.
        - Output: ``(N, C, H_out, W_out)``, ``H_out = (H_in - 1) * stride[0] - 2 * padding[0]
          + kernel_size[0]`` (likewise ``W_out``) or ``output_size``.

    Examples::

        >>> pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
        >>> unpool(*pool(ember.randn(1, 1, 4, 4))).shape
        ember.Size([1, 1, 4, 4])
    """

    _unpool = staticmethod(F.max_unpool2d)
    _tuple = staticmethod(pair)


class MaxUnpool3d(_MaxUnpoolNd):
    """Partial inverse of :class:`MaxPool3d` (see :func:`ember.nn.functional.max_unpool3d`).

    Args:
        kernel_size, stride, padding: those of the pooling, an int or a triple.

    Shape:
        - Input: ``(N, C, D_in, H_in, W_in)`` or ``(C, D_in, H_in, W_in)``.
        - Output: ``(N, C, D_out, H_out, W_out)``, each size as for :class:`MaxUnpool2d`.

    Examples::

        >>> pool, unpool = nn.MaxPool3d(2, return_indices=True), nn.MaxUnpool3d(2)
        >>> unpool(*pool(ember.randn(1, 1, 4, 4, 4))).shape
        ember.Size([1, 1, 4, 4, 4])
    """

    _unpool = staticmethod(F.max_unpool3d)
    _tuple = staticmethod(triple)


class _AvgPoolNd(Module):
    __constants__ = ["kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"]

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """Average pooling along the last axis (see :func:`ember.nn.functional.avg_pool1d`).

    Args:
        kernel_size: window length.
        stride: window step. Default: ``kernel_size``.
        padding: zeros added on both ends, at most half the window.
        ceil_mode: round the output length up instead of down.
        count_include_pad: count the padding zeros in the divisor.

    Shape:
        - Input: ``(N, C, L)`` or ``(C, L)``.
        - Output: ``(N, C, L_out)``, ``L_out = floor((L + 2 * padding - kernel_size) / stride + 1)``.

    Examples::

        >>> m = nn.AvgPool1d(3, stride=2)
        >>> m(ember.tensor([[[1., 2, 3, 4, 5, 6, 7]]])).tolist()
        [[[2.0, 4.0, 6.0]]]
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        self.kernel_size = single(kernel_size)
        self.stride = single(stride if stride is not None else kernel_size)
        self.padding = single(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)


class _AvgPoolDivNd(_AvgPoolNd):
    __constants__ = _AvgPoolNd.__constants__ + ["divisor_override"]
    _pool = None

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        return type(self)._pool(input, self.kernel_size, self.stride, self.padding,
                                self.ceil_mode, self.count_include_pad, self.divisor_override)


class AvgPool2d(_AvgPoolDivNd):
    """Average pooling of every ``(H, W)`` plane (see :func:`ember.nn.functional.avg_pool2d`).

    Args:
        kernel_size, stride, padding: an int or a pair; ``stride`` defaults to ``kernel_size``.
        ceil_mode: round output sizes up instead of down.
        count_include_pad: count the padding zeros in the divisor.
        divisor_override: divide every window sum by this number instead.

    Shape:
        - Input: ``(N, C, H, W)`` or ``(C, H, W)``.
        - Output: ``(N, C, H_out, W_out)``.

    Examples::

        >>> m = nn.AvgPool2d((3, 2), stride=(2, 1))
        >>> m(ember.randn(20, 16, 50, 32)).shape
        ember.Size([20, 16, 24, 31])
    """

    _pool = staticmethod(F.avg_pool2d)


class AvgPool3d(_AvgPoolDivNd):
    """Average pooling of every ``(D, H, W)`` volume (see :func:`ember.nn.functional.avg_pool3d`).

    Args:
        kernel_size, stride, padding: an int or a triple.
        ceil_mode, count_include_pad, divisor_override: as for :class:`AvgPool2d`.

    Shape:
        - Input: ``(N, C, D, H, W)`` or ``(C, D, H, W)``.
        - Output: ``(N, C, D_out, H_out, W_out)``.

    Examples::

        >>> m = nn.AvgPool3d(3, stride=2)
        >>> m(ember.randn(2, 3, 9, 9, 9)).shape
        ember.Size([2, 3, 4, 4, 4])
    """

    _pool = staticmethod(F.avg_pool3d)


class _LPPoolNd(Module):
    __constants__ = ["norm_type", "kernel_size", "stride", "ceil_mode"]
    _pool = None

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def forward(self, input):
        return type(self)._pool(input, float(self.norm_type), self.kernel_size, self.stride,
                                self.ceil_mode)

    def extra_repr(self):
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    """Power-average pooling along the last axis: ``(sum over window of x^p)^(1/p)``
    (see :func:`ember.nn.functional.lp_pool1d`). ``p = inf`` gives max pooling,
    ``p = 1`` sum pooling.

    Args:
        norm_type: the power ``p``.
        kernel_size: window length.
        stride: window step. Default: ``kernel_size``.
        ceil_mode: round the output length up instead of down.

    Shape:
        - Input: ``(N, C, L)`` or ``(C, L)``.
        - Output: ``(N, C, L_out)``, ``L_out = floor((L - kernel_size) / stride + 1)``.

    Examples::

        >>> m = nn.LPPool1d(2, 3, stride=2)
        >>> m(ember.randn(20, 16, 50)).shape
        ember.Size([20, 16, 24])
    """

    _pool = staticmethod(F.lp_pool1d)


class LPPool2d(_LPPoolNd):
    """Power-average pooling of every ``(H, W)`` plane (see :class:`LPPool1d`).

    Args:
        norm_type: the power ``p``.
        kernel_size, stride: an int or a pair; ``stride`` defaults to ``kernel_size``.
        ceil_mode: round output sizes up instead of down.

    Shape:
        - Input: ``(N, C, H, W)`` or ``(C, H, W)``.
        - Output: ``(N, C, H_out, W_out)``.

    Examples::

        >>> m = nn.LPPool2d(1.2, (3, 2), stride=(2, 1))
        >>> m(ember.randn(20, 16, 50, 32)).shape
        ember.Size([20, 16, 24, 31])
    """

    _pool = staticmethod(F.lp_pool2d)


class LPPool3d(_LPPoolNd):
    """Power-average pooling of every ``(D, H, W)`` volume (see :class:`LPPool1d`).

    Args:
        norm_type: the power ``p``.
        kernel_size, stride: an int or a triple; ``stride`` defaults to ``kernel_size``.
        ceil_mode: round output sizes up instead of down.

    Shape:
        - Input: ``(N, C, D, H, W)`` or ``(C, D, H, W)``.
        - Output: ``(N, C, D_out, H_out, W_out)``.

    Examples::

        >>> m = nn.LPPool3d(2, 3, stride=2)
        >>> m(ember.randn(2, 3, 9, 9, 9)).shape
        ember.Size([2, 3, 4, 4, 4])
    """

    _pool = staticmethod(F.lp_pool3d)
