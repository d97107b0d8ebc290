"""``F.grid_sample``: sample an image at the (normalised) points of a grid.

Written with differentiable Tensor ops: the grid becomes source coordinates
(unnormalised, then clipped or reflected by the padding mode), the neighbours
of each point are gathered from the image, and their interpolation weights come
from the fractional parts of the coordinates. Gradients flow to the image
(through the gathers) and to the grid (through the weights), to any order.
"""

import warnings

import ember
from ember.backend import FLOATING, check_dtype

from .._checks import tensor_arg

__all__ = ["grid_sample"]

_MODES = ("bilinear", "nearest", "bicubic")
_PADDINGS = ("zeros", "border", "reflection")
_CUBIC_A = -0.75


def _fmt(shape):
    return "[" + ", ".join(str(int(s)) for s in shape) + "]"


def _check(input, grid, mode):
    dims = input.dim()
    if grid.dim() != dims or dims not in (4, 5):
        raise RuntimeError(
            f"grid_sampler(): expected {dims}D input and grid with same number of dimensions, but "
            f"got input with sizes {_fmt(input.shape)} and grid with sizes {_fmt(grid.shape)}")
    if grid.shape[-1] != dims - 2:
        raise RuntimeError(
            f"grid_sampler(): expected grid to have size {dims - 2} in last dimension, but got grid "
            f"with sizes {_fmt(grid.shape)}")
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(
            "grid_sampler(): expected grid and input to have same batch size, but got input with "
            f"sizes {_fmt(input.shape)} and grid with sizes {_fmt(grid.shape)}")
    for d in range(2, dims):
        if input.shape[d] == 0:
            raise RuntimeError(
                "grid_sampler(): expected input to have non-empty spatial dimensions, but input has "
                f"sizes {_fmt(input.shape)} with dimension {d} being empty")
    if mode == "bicubic" and dims != 4:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    check_dtype(input, f"grid_sampler_{dims - 2}d_cpu_kernel_impl", FLOATING)
    if grid.dtype != input.dtype:
        raise RuntimeError(f"expected scalar type {input.dtype.scalar_name} but found "
                           f"{grid.dtype.scalar_name}")


def _unnormalize(coord, size, align_corners):
    """[-1, 1] -> pixel coordinates: the corner pixels' centres (aligned) or edges."""
    if align_corners:
        return (coord + 1) * ((size - 1) / 2)
    return ((coord + 1) * size - 1) / 2


def _reflect(coord, twice_low, twice_high):
    """Reflect ``coord`` back and forth into ``[twice_low / 2, twice_high / 2]``."""
    if twice_low == twice_high:
        return coord * 0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    dist = (coord - low).abs()
    flips = (dist / span).floor().detach()
    extra = dist - flips * span
    odd = flips.remainder(2) == 1
    return ember.where(odd, span - extra, extra) + low


def _pad_coordinates(coord, size, padding_mode, align_corners):
    """Apply the padding mode to source coordinates (border and reflection keep
    every point inside the image; zeros leaves them be)."""
    if padding_mode == "border":
        return coord.clamp(0, size - 1)
    if padding_mode == "reflection":
        if align_corners:
            coord = _reflect(coord, 0, 2 * (size - 1))
        else:
            coord = _reflect(coord, -1, 2 * size - 1)
        return coord.clamp(0, size - 1)
    return coord


def _gather(flat, spatial, index_parts):
    """Values of the image at integer points (zero outside the image).

    ``flat``: ``(N, C, prod(spatial))``; ``index_parts``: one ``(N, *out)`` integer
    tensor per spatial axis (slowest first). Returns ``(N, C, *out)``.
    """
    n, c = flat.shape[0], flat.shape[1]
    out_shape = tuple(index_parts[0].shape[1:])
    inside = None
    offset = None
    for idx, size in zip(index_parts, spatial):
        ok = (idx >= 0) & (idx < size)
        inside = ok if inside is None else inside & ok
        part = idx.clamp(0, size - 1)
        offset = part if offset is None else offset * size + part
    index = offset.reshape(n, 1, -1).expand(n, c, offset[0].numel())
    values = flat.gather(2, index).reshape((n, c) + out_shape)
    return values * inside.unsqueeze(1).to(flat.dtype)


class _ZeroGradient(ember.autograd.Function):
    """A scalar 0 whose gradient w.r.t. ``grid`` is zeros: nearest sampling does not
    depend on the grid's values, but the grid still gets a (zero) ``.grad``, as in torch."""

    @staticmethod
    def forward(ctx, grid, dtype):
        ctx.shape = tuple(grid.shape)
        return ember.zeros((), dtype=dtype, device=grid.device)

    @staticmethod
    def backward(ctx, grad):
        return grad.new_zeros(ctx.shape), None


def _cubic_weights(t):
    """The four cubic-convolution weights (A = -0.75) of taps at -1, 0, 1, 2 from
    the fractional offset ``t``."""
    a = _CUBIC_A

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return far(t + 1), near(t), near(1 - t), far(2 - t)


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample ``input`` at the points of ``grid`` (spatial transformer networks).

    ``grid[n, ...]`` holds ``(x, y)`` (or ``(x, y, z)``) in ``[-1, 1]``: ``-1`` is the
    left/top edge of the image, ``1`` the right/bottom one. The output at each
    grid point interpolates the input there.

    Args:
        input: ``(N, C, H, W)`` or ``(N, C, D, H, W)``.
        grid: ``(N, H_out, W_out, 2)`` or ``(N, D_out, H_out, W_out, 3)``.
        mode: ``'bilinear'`` (trilinear for 5-D), ``'nearest'`` or ``'bicubic'`` (4-D only).
        padding_mode: values outside the image: ``'zeros'``, ``'border'`` (the
            nearest edge value) or ``'reflection'`` (mirrored at the border).
        align_corners: ``-1`` and ``1`` are the centres of the corner pixels (True)
            or their outer edges (False, the default, with a warning when not given).

    Returns:
        ``(N, C, H_out, W_out)`` or ``(N, C, D_out, H_out, W_out)``.

    Examples::

        >>> img = ember.arange(16.).reshape(1, 1, 4, 4)
        >>> theta = ember.tensor([[[1., 0., 0.], [0., 1., 0.]]])
        >>> grid = F.affine_grid(theta, (1, 1, 4, 4), align_corners=False)
        >>> bool((F.grid_sample(img, grid, align_corners=False) == img).all())
        True
    """
    tensor_arg(input, "grid_sample", "input")
    tensor_arg(grid, "grid_sample", "grid")
    if mode not in _MODES:
        raise ValueError("nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or "
                         f"'bicubic', but got: '{mode}'")
    if padding_mode not in _PADDINGS:
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', "
                         f"or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn("Default grid_sample and affine_grid behavior has changed to align_corners=False "
                      "since 1.3.0. Please specify align_corners=True if the old behavior is desired. "
                      "See the documentation of grid_sample for details.", stacklevel=2)
        align_corners = False
    _check(input, grid, mode)
    n, c = input.shape[0], input.shape[1]
    spatial = tuple(int(s) for s in input.shape[2:])
    flat = input.reshape(n, c, -1)
    # grid's last axis is (x, y[, z]): x runs along the last (fastest) image axis
    raw = [_unnormalize(grid[..., len(spatial) - 1 - a], size, align_corners)
           for a, size in enumerate(spatial)]
    if mode == "bicubic":
        return _bicubic(flat, spatial, raw, padding_mode, align_corners)
    coords = [_pad_coordinates(x, size, padding_mode, align_corners) for x, size in zip(raw, spatial)]
    if mode == "nearest":
        out = _gather(flat, spatial, [x.detach().round().long() for x in coords])
        return out + _ZeroGradient.apply(grid, out.dtype)
    lows = [x.detach().floor() for x in coords]
    fracs = [x - lo for x, lo in zip(coords, lows)]
    lows = [lo.long() for lo in lows]
    out = None
    for corner in range(1 << len(spatial)):
        parts, weight = [], None
        for a in range(len(spatial)):
            high = (corner >> (len(spatial) - 1 - a)) & 1
            parts.append(lows[a] + high)
            w = fracs[a] if high else 1 - fracs[a]
            weight = w if weight is None else weight * w
        term = _gather(flat, spatial, parts) * weight.unsqueeze(1)
        out = term if out is None else out + term
    return out


def _bicubic(flat, spatial, raw, padding_mode, align_corners):
    """4x4 cubic convolution; the padding mode maps each tap's integer position."""
    y, x = raw
    y0, x0 = y.detach().floor(), x.detach().floor()
    wy, wx = _cubic_weights(y - y0), _cubic_weights(x - x0)
    out = None
    for i in range(4):
        row = _pad_coordinates(y0 + (i - 1), spatial[0], padding_mode, align_corners).detach().long()
        for j in range(4):
            col = _pad_coordinates(x0 + (j - 1), spatial[1], padding_mode, align_corners).detach().long()
            term = _gather(flat, spatial, [row, col]) * (wy[i] * wx[j]).unsqueeze(1)
            out = term if out is None else out + term
    return out
