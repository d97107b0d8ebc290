"""Adaptive pooling: max and average over windows chosen so that the output
has a requested size, whatever the input's size.

Along an axis of input size ``n`` and output size ``o``, output cell ``i``
covers the input range ``[floor(i * n / o), ceil((i + 1) * n / o))``; windows
may overlap and differ in length by one. ``None`` in ``output_size`` keeps the
input's size along that axis.

Max pooling first finds, without autograd, the int64 index of each window's
maximum (kernel ``pooling.window_argmax_nd``, shared with fractional pooling)
and then gathers the values with those indices, a linear map that autograd
differentiates to any order. Average pooling is linear in the input and goes
through ``linear_map`` with kernels ``pooling.adaptive_avg_nd`` and its
adjoint (a 1x1 output, the global mean, is named ``MeanBackward1`` as in torch).
"""

import math

from ember.autograd import linear_map
from ember.backend import FLOATING, check_dtype, data_of, kernel_for, tensor_like, xp_of
from ember.nn import Module

from ._indexed import gather_planes
from .kernels import adaptive_bounds
from .._checks import tensor_arg

__all__ = [
    "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
    "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
    "adaptive_max_pool3d_with_indices",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
    "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d",
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d",
]


def gather_maxima(input, indices, out_spatial, name):
    """The values at ``indices`` (differentiable); ``indices`` as from
    ``pooling.window_argmax_nd``."""
    return gather_planes(input, indices, out_spatial, name)


# ---------------------------------------------------------------------------
# argument checks (torch's exception types)

def _sizes(input, output_size, nd, name):
    """The output's spatial size as a tuple of nd ints (``None`` -> input's size)."""
    if nd == 1:
        if isinstance(output_size, (tuple, list)):
            if len(output_size) != 1:
                raise RuntimeError(f"{name}() argument 'output_size' should contain one int "
                                   f"(got {len(output_size)})")
            output_size = output_size[0]
        if output_size is None or isinstance(output_size, bool) or not isinstance(output_size, int):
            raise TypeError(f"{name}(): argument 'output_size' must be an int or a tuple of one "
                            f"int, not {type(output_size).__name__}")
        return (int(output_size),)
    if isinstance(output_size, bool) or not isinstance(output_size, (int, tuple, list)):
        raise TypeError(f"{name}(): argument 'output_size' must be an int or a tuple of ints, "
                        f"not {type(output_size).__name__}")
    if isinstance(output_size, int):
        return (output_size,) * nd
    if input.dim() <= len(output_size):
        raise ValueError(f"Input dimension should be at least {len(output_size) + 1}")
    defaults = tuple(input.shape[input.dim() - len(output_size):])
    sizes = tuple(d if v is None else v for v, d in zip(output_size, defaults))
    for v in sizes:
        if isinstance(v, bool) or not isinstance(v, int):
            raise TypeError(f"{name}(): elements of 'output_size' must be ints or None, "
                            f"not {type(v).__name__}")
    if len(sizes) != nd:
        raise RuntimeError(f"{name}(): output_size must have {nd} elements, got {len(sizes)}")
    return sizes


def _check_input(input, sizes, nd, name, skip_channels):
    """Dimensions, output sizes, empty dimensions; ``skip_channels``: only the
    spatial dimensions must be non-empty (torch's rule for adaptive_avg_pool1d/2d)."""
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: "
                           f"{list(input.shape)}")
    if any(o < 0 for o in sizes):
        raise RuntimeError(f"{name}(): elements of output_size must be greater than or equal "
                           f"to 0, but got {list(sizes)}")
    first = input.dim() - nd if skip_channels else 1
    for d in range(first, input.dim()):
        if input.shape[d] == 0:
            raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but input has sizes {list(input.shape)} with "
                               f"dimension {d} being empty")
    check_dtype(input, name, FLOATING)


# ---------------------------------------------------------------------------
# functional

def _adaptive_max(input, output_size, nd, name):
    sizes = _sizes(input, output_size, nd, name)
    _check_input(input, sizes, nd, name, skip_channels=False)
    xp = xp_of(input)
    in_spatial = tuple(input.shape[input.dim() - nd:])
    bounds = [adaptive_bounds(xp, n, o) for n, o in zip(in_spatial, sizes)]
    idx = kernel_for("pooling.window_argmax_nd", input)(
        data_of(input), tuple(b[0] for b in bounds), tuple(b[1] for b in bounds))
    indices = tensor_like(idx, input)
    # torch computes the 1-d case as a 2-d pooling of height 1
    values = gather_maxima(input, indices, sizes, f"AdaptiveMaxPool{max(nd, 2)}DBackward0")
    return values, indices


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """:func:`adaptive_max_pool1d` returning ``(output, indices)`` always."""
    tensor_arg(input, "adaptive_max_pool1d_with_indices", "input")
    return _adaptive_max(input, output_size, 1, "adaptive_max_pool1d")


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """:func:`adaptive_max_pool2d` returning ``(output, indices)`` always."""
    tensor_arg(input, "adaptive_max_pool2d_with_indices", "input")
    return _adaptive_max(input, output_size, 2, "adaptive_max_pool2d")


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """:func:`adaptive_max_pool3d` returning ``(output, indices)`` always."""
    tensor_arg(input, "adaptive_max_pool3d_with_indices", "input")
    return _adaptive_max(input, output_size, 3, "adaptive_max_pool3d")


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Maximum over adaptive windows along the last dimension.

    Output cell ``i`` of ``L_out`` takes the maximum of input positions
    ``floor(i * L / L_out)`` to ``ceil((i + 1) * L / L_out) - 1``.

    Args:
        input: ``(N, C, L)`` or ``(C, L)``, floating point.
        output_size: ``L_out``, an int (or a tuple holding one int).
        return_indices: also return the int64 position of each maximum in ``L``
            (the form ``max_unpool1d`` takes).

    Returns:
        ``(N, C, L_out)`` or ``(C, L_out)``; with ``return_indices``,
        ``(output, indices)``.

    Examples::

        >>> x = ember.tensor([[[1., 5., 2., 0., 3.]]])
        >>> F.adaptive_max_pool1d(x, 2).tolist()
        [[[5.0, 3.0]]]
    """
    tensor_arg(input, "adaptive_max_pool1d", "input")
    out = adaptive_max_pool1d_with_indices(input, output_size)
    return out if return_indices else out[0]


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Maximum over adaptive windows of the last two dimensions.

    Args:
        input: ``(N, C, H, W)`` or ``(C, H, W)``, floating point.
        output_size: ``(H_out, W_out)`` or one int for both; ``None`` in the
            tuple keeps the input's size.
        return_indices: also return the int64 flat position ``h * W + w`` of
            each maximum within its ``H x W`` plane.

    Returns:
        ``(N, C, H_out, W_out)`` or ``(C, H_out, W_out)``; with
        ``return_indices``, ``(output, indices)``.

    Examples::

        >>> x = ember.arange(16.).reshape(1, 1, 4, 4)
        >>> F.adaptive_max_pool2d(x, (2, None)).shape
        ember.Size([1, 1, 2, 4])
    """
    tensor_arg(input, "adaptive_max_pool2d", "input")
    out = adaptive_max_pool2d_with_indices(input, output_size)
    return out if return_indices else out[0]


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Maximum over adaptive windows of the last three dimensions.

    Args:
        input: ``(N, C, D, H, W)`` or ``(C, D, H, W)``, floating point.
        output_size: ``(D_out, H_out, W_out)`` or one int for all; ``None``
            keeps the input's size.
        return_indices: also return the int64 flat position ``(d * H + h) * W + w``
            of each maximum within its plane.

    Returns:
        ``(N, C, D_out, H_out, W_out)`` or ``(C, D_out, H_out, W_out)``; with
        ``return_indices``, ``(output, indices)``.

    Examples::

        >>> F.adaptive_max_pool3d(ember.randn(1, 2, 5, 6, 7), (2, None, 3)).shape
        ember.Size([1, 2, 2, 6, 3])
    """
    tensor_arg(input, "adaptive_max_pool3d", "input")
    out = adaptive_max_pool3d_with_indices(input, output_size)
    return out if return_indices else out[0]


def _adaptive_avg(input, output_size, nd, name, skip_channels):
    sizes = _sizes(input, output_size, nd, name)
    _check_input(input, sizes, nd, name, skip_channels)
    in_spatial = tuple(input.shape[input.dim() - nd:])
    # a 1x1 output is the global mean; torch records it as a mean, and the
    # kernels' own 1x1 path (and its broadcasting adjoint) is the fast one
    name = "MeanBackward1" if all(o == 1 for o in sizes) else f"AdaptiveAvgPool{max(nd, 2)}DBackward0"
    return linear_map(input, "pooling.adaptive_avg_nd", "pooling.adaptive_avg_nd_adjoint",
                      (in_spatial, sizes), name)


def adaptive_avg_pool1d(input, output_size):
    """Average over adaptive windows along the last dimension.

    Output cell ``i`` of ``L_out`` averages input positions
    ``floor(i * L / L_out)`` to ``ceil((i + 1) * L / L_out) - 1``.

    Args:
        input: ``(N, C, L)`` or ``(C, L)``, floating point.
        output_size: ``L_out``, an int (or a tuple holding one int).

    Returns:
        ``(N, C, L_out)`` or ``(C, L_out)``.

    Examples::

        >>> F.adaptive_avg_pool1d(ember.tensor([[[1., 2., 3., 4.]]]), 2).tolist()
        [[[1.5, 3.5]]]
    """
    tensor_arg(input, "adaptive_avg_pool1d", "input")
    return _adaptive_avg(input, output_size, 1, "adaptive_avg_pool1d", True)


def adaptive_avg_pool2d(input, output_size):
    """Average over adaptive windows of the last two dimensions.

    Args:
        input: ``(N, C, H, W)`` or ``(C, H, W)``, floating point.
        output_size: ``(H_out, W_out)`` or one int for both; ``None`` keeps
            the input's size. ``1`` gives the global average.

    Returns:
        ``(N, C, H_out, W_out)`` or ``(C, H_out, W_out)``.

    Examples::

        >>> F.adaptive_avg_pool2d(ember.ones(2, 3, 7, 9), 1).shape
        ember.Size([2, 3, 1, 1])
    """
    tensor_arg(input, "adaptive_avg_pool2d", "input")
    return _adaptive_avg(input, output_size, 2, "adaptive_avg_pool2d", True)


def adaptive_avg_pool3d(input, output_size):
    """Average over adaptive windows of the last three dimensions.

    Args:
        input: ``(N, C, D, H, W)`` or ``(C, D, H, W)``, floating point.
        output_size: ``(D_out, H_out, W_out)`` or one int for all; ``None``
            keeps the input's size.

    Returns:
        ``(N, C, D_out, H_out, W_out)`` or ``(C, D_out, H_out, W_out)``.

    Examples::

        >>> F.adaptive_avg_pool3d(ember.ones(1, 2, 4, 5, 6), (2, 2, None)).shape
        ember.Size([1, 2, 2, 2, 6])
    """
    tensor_arg(input, "adaptive_avg_pool3d", "input")
    return _adaptive_avg(input, output_size, 3, "adaptive_avg_pool3d", False)


# ---------------------------------------------------------------------------
# modules

class _AdaptiveMaxPoolNd(Module):
    __constants__ = ["output_size", "return_indices"]

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Adaptive max pooling over the last dimension (see :func:`adaptive_max_pool1d`).

    Args:
        output_size: the output length ``L_out``.
        return_indices: also return the positions of the maxima (for
            ``MaxUnpool1d``). Default: ``False``.

    Shape:
        - Input: ``(N, C, L_in)`` or ``(C, L_in)``.
        - Output: ``(N, C, L_out)`` or ``(C, L_out)``.

    Examples::

        >>> m = nn.AdaptiveMaxPool1d(5)
        >>> m(ember.randn(1, 64, 8)).shape
        ember.Size([1, 64, 5])
    """

    def forward(self, input):
        return adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Adaptive max pooling over the last two dimensions (see :func:`adaptive_max_pool2d`).

    Args:
        output_size: ``(H_out, W_out)``, or one int for a square output;
            ``None`` keeps the input's size along that dimension.
        return_indices: also return the positions of the maxima (for
            ``MaxUnpool2d``). Default: ``False``.

    Shape:
        - Input: ``(N, C, H_in, W_in)`` or ``(C, H_in, W_in)``.
        - Output: ``(N, C, H_out, W_out)`` or ``(C, H_out, W_out)``.

    Examples::

        >>> m = nn.AdaptiveMaxPool2d((None, 7))
        >>> m(ember.randn(1, 64, 10, 9)).shape
        ember.Size([1, 64, 10, 7])
    """

    def forward(self, input):
        return adaptive_max_pool2d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """Adaptive max pooling over the last three dimensions (see :func:`adaptive_max_pool3d`).

    Args:
        output_size: ``(D_out, H_out, W_out)``, or one int for a cube;
            ``None`` keeps the input's size along that dimension.
        return_indices: also return the positions of the maxima (for
            ``MaxUnpool3d``). Default: ``False``.

    Shape:
        - Input: ``(N, C, D_in, H_in, W_in)`` or ``(C, D_in, H_in, W_in)``.
        - Output: ``(N, C, D_out, H_out, W_out)`` or ``(C, D_out, H_out, W_out)``.

    Examples::

        >>> m = nn.AdaptiveMaxPool3d((7, None, None))
        >>> m(ember.randn(1, 4, 10, 9, 8)).shape
        ember.Size([1, 4, 7, 9, 8])
    """

    def forward(self, input):
        return adaptive_max_pool3d(input, self.output_size, self.return_indices)


class _AdaptiveAvgPoolNd(Module):
    __constants__ = ["output_size"]

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Adaptive average pooling over the last dimension (see :func:`adaptive_avg_pool1d`).

    Args:
        output_size: the output length ``L_out``.

    Shape:
        - Input: ``(N, C, L_in)`` or ``(C, L_in)``.
        - Output: ``(N, C, L_out)`` or ``(C, L_out)``.

    Examples::

        >>> m = nn.AdaptiveAvgPool1d(5)
        >>> m(ember.randn(1, 64, 8)).shape
        ember.Size([1, 64, 5])
    """

    def forward(self, input):
        return adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Adaptive average pooling over the last two dimensions (see :func:`adaptive_avg_pool2d`).

    Args:
        output_size: ``(H_out, W_out)``, or one int for a square output;
            ``None`` keeps the input's size along that dimension.

    Shape:
        - Input: ``(N, C, H_in, W_in)`` or ``(C, H_in, W_in)``.
        - Output: ``(N, C, H_out, W_out)`` or ``(C, H_out, W_out)``.

    Examples::

        >>> m = nn.AdaptiveAvgPool2d((5, 7))
        >>> m(ember.randn(1, 64, 8, 9)).shape
        ember.Size([1, 64, 5, 7])
    """

    def forward(self, input):
        return adaptive_avg_pool2d(input, self.output_size)


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """Adaptive average pooling over the last three dimensions (see :func:`adaptive_avg_pool3d`).

    Args:
        output_size: ``(D_out, H_out, W_out)``, or one int for a cube;
            ``None`` keeps the input's size along that dimension.

    Shape:
        - Input: ``(N, C, D_in, H_in, W_in)`` or ``(C, D_in, H_in, W_in)``.
        - Output: ``(N, C, D_out, H_out, W_out)`` or ``(C, D_out, H_out, W_out)``.

    Examples::

        >>> m = nn.AdaptiveAvgPool3d((5, 7, 9))
        >>> m(ember.randn(1, 64, 8, 9, 10)).shape
        ember.Size([1, 64, 5, 7, 9])
    """

    def forward(self, input):
        return adaptive_avg_pool3d(input, self.output_size)
