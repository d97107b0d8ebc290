"""Convolution modules: Conv1d/2d/3d, ConvTranspose1d/2d/3d (one ``_ConvNd``
base holding the hyper-parameters and weights) and Unfold/Fold."""

import math

import ember
from ember.nn import Module, Parameter
from ember.nn._tuples import pair, reverse_repeat_tuple, single, triple

from . import functional as F
from .._checks import integer
from .unfold import fold, unfold

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
           "Unfold", "Fold"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _check_arguments(owner, in_channels, out_channels, kernel_size, stride, padding, dilation,
                     output_padding, groups):
    """Refuse at construction what torch only refuses at the first forward (a zero
    kernel, stride or dilation, negative padding) or never (a kernel with more
    entries than the layer has dimensions)."""
    nd = len(stride)
    integer(in_channels, owner, "in_channels")
    integer(out_channels, owner, "out_channels")
    integer(groups, owner, "groups")
    for name, value in (("kernel_size", kernel_size), ("stride", stride), ("dilation", dilation),
                        ("padding", padding), ("output_padding", output_padding)):
        if isinstance(value, str):
            continue
        if len(value) != nd:
            raise ValueError(f"{owner}: {name} must be an int or a tuple of {nd} ints, but got {value}")
        for v in value:
            integer(v, owner, name)
    if min(kernel_size) < 1:   # torch: a negative size fails creating the weight (RuntimeError)
        raise RuntimeError(f"{owner}: kernel_size must be positive, but got {kernel_size}")
    for name, value, low in (("stride", stride, 1), ("dilation", dilation, 1)):
        if min(value) < low:
            raise ValueError(f"{owner}: {name} must be positive, but got {value}")
    if not isinstance(padding, str) and min(padding) < 0:
        raise ValueError(f"{owner}: padding must be non-negative, but got {padding}")


class _ConvNd(Module):
    """Shared state of every convolution: hyper-parameters (as torch names them),
    ``weight`` of shape ``(out, in/groups, *k)`` (``(in, out/groups, *k)`` when
    transposed), optional ``bias`` and torch's default initialisation."""

    __constants__ = ["stride", "padding", "dilation", "groups", "padding_mode", "output_padding",
                     "in_channels", "out_channels", "kernel_size"]

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, transposed,
                 output_padding, groups, bias, padding_mode, device=None, dtype=None):
        super().__init__()
        _check_arguments(type(self).__name__, in_channels, out_channels, kernel_size, stride, padding,
                         dilation, output_padding, groups)
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {{'zeros', 'reflect', 'replicate', 'circular'}}, "
                             f"but got padding_mode='{padding_mode}'")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = transposed
        self.output_padding = output_padding
        self.groups = groups
        self.padding_mode = padding_mode
        # F.pad's argument for the non-zero padding modes: last dim first, both sides
        if isinstance(padding, str):
            pads = [0, 0] * len(kernel_size)
            if padding == "same":
                for i, (d, k) in enumerate(zip(reversed(dilation), reversed(kernel_size))):
                    total = d * (k - 1)
                    pads[2 * i], pads[2 * i + 1] = total // 2, total - total // 2
            self._reversed_padding_repeated_twice = pads
        else:
            self._reversed_padding_repeated_twice = reverse_repeat_tuple(padding, 2)
        shape = ((in_channels, out_channels // groups) if transposed
                 else (out_channels, in_channels // groups)) + tuple(kernel_size)
        self.weight = Parameter(ember.empty(shape, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(ember.empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Kaiming-uniform weight (``a=sqrt(5)``) and bias from ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``."""
        from ember.nn import init

        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        n = len(self.kernel_size)
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    _nd = 0
    _tuple = None
    _fn = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        t = self._tuple
        super().__init__(in_channels, out_channels, t(kernel_size), t(stride),
                         padding if isinstance(padding, str) else t(padding), t(dilation), False,
                         t(0), groups, bias, padding_mode, device, dtype)

    def _conv_forward(self, input, weight, bias):
        fn = type(self)._fn
        if self.padding_mode != "zeros":
            padded = ember.nn.functional.pad(input, self._reversed_padding_repeated_twice,
                                             mode=self.padding_mode)
            return fn(padded, weight, bias, self.stride, (0,) * self._nd, self.dilation, self.groups)
        return fn(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input):
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_Conv):
    """1-d convolution over an input of ``in_channels`` channels (see :func:`conv1d`).

    Args:
        in_channels, out_channels: channels of the input and the output.
        kernel_size: length of the kernel.
        stride: step between blocks. Default: 1.
        padding: int, 1-tuple, ``'valid'`` or ``'same'``. Default: 0.
        dilation: spacing between kernel taps. Default: 1.
        groups: independent channel groups (both channel counts divisible by it). Default: 1.
        bias: learn an additive bias. Default: ``True``.
        padding_mode: ``'zeros'``, ``'reflect'``, ``'replicate'`` or ``'circular'``. Default: ``'zeros'``.

    Attributes:
        weight: ``(out_channels, in_channels / groups, kernel_size)``, from
            ``U(-sqrt(k), sqrt(k))``, ``k = groups / (in_channels * kernel_size)``.
        bias: ``(out_channels,)``, from the same distribution.

    Shape:
        - Input: ``(N, C_in, L)`` or ``(C_in, L)``. Output: ``(N, C_out, L_out)`` or ``(C_out, L_out)``.

    Examples::

        >>> m = nn.Conv1d(16, 33, 3, stride=2)
        >>> m(ember.randn(20, 16, 50)).shape
        ember.Size([20, 33, 24])
    """

    _nd, _tuple, _fn = 1, staticmethod(single), staticmethod(F.conv1d)


class Conv2d(_Conv):
    """2-d convolution over an input of ``in_channels`` channels (see :func:`conv2d`).

    Args:
        in_channels, out_channels: channels of the input and the output.
        kernel_size: int or pair.
        stride, dilation: int or pair. Defaults: 1.
        padding: int, pair, ``'valid'`` or ``'same'``. Default: 0.
        groups: independent channel groups. Default: 1.
        bias: learn an additive bias. Default: ``True``.
        padding_mode: ``'zeros'``, ``'reflect'``, ``'replicate'`` or ``'circular'``. Default: ``'zeros'``.

    Attributes:
        weight: ``(out_channels, in_channels / groups, kH, kW)``, from ``U(-sqrt(k), sqrt(k))``,
            ``k = groups / (in_channels * kH * kW)``.
        bias: ``(out_channels,)``, from the same distribution.

    Shape:
        - Input: ``(N, C_in, H, W)`` or ``(C_in, H, W)``. Output: ``(N, C_out, H_out, W_out)``
          or ``(C_out, H_out, W_out)``.

    Examples::

        >>> m = nn.Conv2d(16, 33, (3, 5), stride=(2, 1), padding=(4, 2), dilation=(3, 1))
        >>> m(ember.randn(2, 16, 20, 30)).shape
        ember.Size([2, 33, 11, 30])
    """

    _nd, _tuple, _fn = 2, staticmethod(pair), staticmethod(F.conv2d)


class Conv3d(_Conv):
    """3-d convolution over an input of ``in_channels`` channels (see :func:`conv3d`).

    Args:
        in_channels, out_channels: channels of the input and the output.
        kernel_size: int or triple.
        stride, dilation: int or triple. Defaults: 1.
        padding: int, triple, ``'valid'`` or ``'same'``. Default: 0.
        groups: independent channel groups. Default: 1.
        bias: learn an additive bias. Default: ``True``.
        padding_mode: ``'zeros'``, ``'reflect'``, ``'replicate'`` or ``'circular'``. Default: ``'zeros'``.

    Attributes:
        weight: ``(out_channels, in_channels / groups, kD, kH, kW)``.
        bias: ``(out_channels,)``.

    Shape:
        - Input: ``(N, C_in, D, H, W)`` or ``(C_in, D, H, W)``. Output: ``(N, C_out, D_out, H_out, W_out)``.

    Examples::

        >>> m = nn.Conv3d(4, 8, 3, stride=2)
        >>> m(ember.randn(2, 4, 9, 9, 9)).shape
        ember.Size([2, 8, 4, 4, 4])
    """

    _nd, _tuple, _fn = 3, staticmethod(triple), staticmethod(F.conv3d)


class _ConvTransposeNd(_ConvNd):
    _nd = 0
    _tuple = None
    _fn = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 groups=1, bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        t = self._tuple
        super().__init__(in_channels, out_channels, t(kernel_size), t(stride), t(padding), t(dilation),
                         True, t(output_padding), groups, bias, padding_mode, device, dtype)

    def _output_padding(self, input, output_size, stride, padding, kernel_size, num_spatial_dims,
                        dilation=None):
        """The output padding that makes the output ``output_size`` (torch's checks)."""
        if output_size is None:
            return tuple(self.output_padding)
        nd = num_spatial_dims
        lead = 2 if input.dim() == nd + 2 else 1
        output_size = list(output_size)
        if len(output_size) == nd + lead:
            output_size = output_size[lead:]
        if len(output_size) != nd:
            raise ValueError(f"ConvTranspose{nd}D: for {input.dim()}D input, output_size must have {nd} "
                             f"or {nd + lead} elements (got {len(output_size)})")
        lo, hi = [], []
        for d in range(nd):
            dil = dilation[d] if dilation is not None else 1
            m = (input.size(d + lead) - 1) * stride[d] - 2 * padding[d] + dil * (kernel_size[d] - 1) + 1
            lo.append(m)
            hi.append(m + stride[d] - 1)
        for d in range(nd):
            if not lo[d] <= output_size[d] <= hi[d]:
                raise ValueError(f"requested an output size of {output_size}, but valid sizes range from "
                                 f"{lo} to {hi} (for an input of {input.size()[2:]})")
        return tuple(int(output_size[d]) - lo[d] for d in range(nd))

    def forward(self, input, output_size=None):
        if self.padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        output_padding = self._output_padding(input, output_size, self.stride, self.padding,
                                              self.kernel_size, self._nd, self.dilation)
        return type(self)._fn(input, self.weight, self.bias, self.stride, self.padding, output_padding,
                              self.groups, self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """1-d transposed convolution (see :func:`conv_transpose1d`), the gradient of
    Conv1d with respect to its input.

    Args:
        in_channels, out_channels: channels of the input and the output.
        kernel_size: length of the kernel.
        stride: stride of the matching convolution. Default: 1.
        padding: ``dilation * (kernel_size - 1) - padding`` zeros pad both sides. Default: 0.
        output_padding: size added to one side of the output. Default: 0.
        groups: independent channel groups. Default: 1.
        bias: learn an additive bias. Default: ``True``.
        dilation: spacing between kernel taps. Default: 1.
        padding_mode: only ``'zeros'``.

    Attributes:
        weight: ``(in_channels, out_channels / groups, kernel_size)``.
        bias: ``(out_channels,)``.

    Shape:
        - Input: ``(N, C_in, L)`` or ``(C_in, L)``. Output: ``(N, C_out, L_out)``,
          ``L_out = (L - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1``.
          ``forward(input, output_size)`` picks ``output_padding`` to reach ``output_size``.

    Examples::

        >>> m = nn.ConvTranspose1d(16, 33, 3, stride=2)
        >>> m(ember.randn(20, 16, 50)).shape
        ember.Size([20, 33, 101])
    """

    _nd, _tuple, _fn = 1, staticmethod(single), staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """2-d transposed convolution (see :func:`conv_transpose2d`), the gradient of
    Conv2d with respect to its input.

    Args:
        in_channels, out_channels: channels of the input and the output.
        kernel_size, stride, padding, output_padding, dilation: int or pair
            (as for :class:`ConvTranspose1d`).
        groups: independent channel groups. Default: 1.
        bias: learn an additive bias. Default: ``True``.
        padding_mode: only ``'zeros'``.

    Attributes:
        weight: ``(in_channels, out_channels / groups, kH, kW)``.
        bias: ``(out_channels,)``.

    Shape:
        - Input: ``(N, C_in, H, W)`` or ``(C_in, H, W)``. Output: ``(N, C_out, H_out, W_out)``.

    Examples::

        >>> up = nn.ConvTranspose2d(16, 16, 3, stride=2, padding=1)
        >>> up(ember.randn(1, 16, 6, 6), output_size=(12, 12)).shape
        ember.Size([1, 16, 12, 12])
    """

    _nd, _tuple, _fn = 2, staticmethod(pair), staticmethod(F.conv_transpose2d)


class ConvTranspose3d(_ConvTransposeNd):
    """3-d transposed convolution (see :func:`conv_transpose3d`).

    Args:
        in_channels, out_channels: channels of the input and the output.
        kernel_size, stride, padding, output_padding, dilation: int or triple.
        groups: independent channel groups. Default: 1.
        bias: learn an additive bias. Default: ``True``.
        padding_mode: only ``'zeros'``.

    Attributes:
        weight: ``(in_channels, out_channels / groups, kD, kH, kW)``.
        bias: ``(out_channels,)``.

    Shape:
        - Input: ``(N, C_in, D, H, W)`` or ``(C_in, D, H, W)``. Output: ``(N, C_out, D_out, H_out, W_out)``.

    Examples::

        >>> m = nn.ConvTranspose3d(4, 2, 3, stride=2)
        >>> m(ember.randn(1, 4, 3, 3, 3)).shape
        ember.Size([1, 2, 7, 7, 7])
    """

    _nd, _tuple, _fn = 3, staticmethod(triple), staticmethod(F.conv_transpose3d)


class Unfold(Module):
    """Extract sliding local blocks of a batched image as columns (see :func:`unfold`).

    Args:
        kernel_size: size of the blocks (int or pair).
        dilation: spacing between taps. Default: 1.
        padding: zeros added to both sides. Default: 0.
        stride: step between blocks. Default: 1.

    Shape:
        - Input: ``(N, C, H, W)`` or ``(C, H, W)``. Output: ``(N, C * prod(kernel_size), L)``.

    Examples::

        >>> nn.Unfold(kernel_size=(2, 3))(ember.randn(2, 5, 3, 4)).shape
        ember.Size([2, 30, 4])
    """

    __constants__ = ["kernel_size", "dilation", "padding", "stride"]

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input):
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Fold(Module):
    """Combine columns of sliding local blocks into an image, summing overlaps
    (see :func:`fold`).

    Args:
        output_size: spatial size ``(H, W)`` of the output.
        kernel_size: size of the blocks (int or pair).
        dilation, padding, stride: as for :class:`Unfold`.

    Shape:
        - Input: ``(N, C * prod(kernel_size), L)`` or ``(C * prod(kernel_size), L)``.
          Output: ``(N, C, H, W)`` or ``(C, H, W)``.

    Examples::

        >>> nn.Fold(output_size=(4, 5), kernel_size=(2, 2))(ember.randn(1, 3 * 2 * 2, 12)).shape
        ember.Size([1, 3, 4, 5])
    """

    __constants__ = ["output_size", "kernel_size", "dilation", "padding", "stride"]

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size = output_size
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input):
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")
