"""``F.grid_sample``: sample an image at the (normalised) points of a grid.

The grid becomes source coordinates (unnormalised, then clipped or reflected by
the padding mode), the neighbours of each point are read from the image, and
their interpolation weights come from the fractional parts of the coordinates.
Forward and backward are the kernels ``vision.grid_sample`` and
``vision.grid_sample_backward`` (generic ones in ``_sampling.py``, one RawKernel
launch each on cuda). When a backward is itself recorded (``create_graph=True``)
the gradients come from the same computation written with Tensor ops, which is
differentiable to any order.

The coordinate helpers below take the namespace ``xp`` of their arguments: the
array namespace in the kernels, ``ember`` for Tensors. They follow torch's CPU
kernel: a NaN coordinate clips to 0 (border, reflection), taps outside the image
read 0 (zeros), nearest rounds half to even, bicubic pads each tap's position.
5-d grids are treated the same way; torch's 5-d CPU kernel differs from its 4-d
one only at NaN, infinite or huge coordinates (it sends a NaN to the far border,
and beyond the int range to -100). Where a NaN coordinate makes torch's backward
NaN, ember's is that of the clipped point.
"""

import warnings

import ember
from ember.autograd import Function
from ember.backend import FLOATING, check_dtype, data_of, kernel_for, tensor_like

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


def scale(size, align_corners):
    """d(pixel coordinate) / d(normalised coordinate) along an axis of ``size``."""
    return (size - 1) / 2 if align_corners else size / 2


def unnormalize(coord, size, align_corners):
    """[-1, 1] -> pixel coordinates: the corner pixels' centres (aligned) or edges."""
    if align_corners:
        return (coord + 1) * scale(size, True)
    return (coord + 1) * scale(size, False) - 0.5


def _clip(xp, coord, size):
    """``coord`` clamped into ``[0, size - 1]``; NaN becomes 0."""
    return xp.where(coord > 0, xp.where(coord < size - 1, coord, size - 1), 0)


def _reflect(xp, coord, size, align_corners):
    """``coord`` folded back and forth into the image's span (its pixel centres when
    aligned, its edges otherwise), and where the fold reversed the direction (None
    for a span of one point, where every coordinate folds to 0)."""
    twice = 2 * (size - 1) if align_corners else 2 * size
    if twice == 0:
        return coord * 0, None
    shifted = coord if align_corners else coord + 0.5
    dist = abs(shifted)
    extra = dist - xp.trunc(dist / twice) * twice
    other = twice - extra
    flip = extra > other
    folded = xp.where(flip, other, extra)
    return (folded if align_corners else folded - 0.5), flip != (shifted < 0)


def pad(xp, coord, size, padding_mode, align_corners):
    """Apply the padding mode to pixel coordinates: border and reflection keep every
    point inside the image, zeros leaves them be."""
    if padding_mode == "zeros":
        return coord
    if padding_mode == "reflection":
        coord = _reflect(xp, coord, size, align_corners)[0]
    return _clip(xp, coord, size)


def source(xp, coord, size, padding_mode, align_corners):
    """Pixel coordinates of the normalised ``coord`` with the padding mode applied,
    and their slope ``d pixel / d coord`` (0 where a clip holds the point)."""
    pixel = unnormalize(coord, size, align_corners)
    slope = xp.full(pixel.shape, scale(size, align_corners), dtype=pixel.dtype)
    if padding_mode == "zeros":
        return pixel, slope
    if padding_mode == "reflection":
        pixel, flipped = _reflect(xp, pixel, size, align_corners)
        if flipped is not None:
            slope = xp.where(flipped, -slope, slope)
    slope = xp.where((pixel > 0) & (pixel < size - 1), slope, 0)
    return _clip(xp, pixel, size), slope


def cubic_weights(t):
    """The four cubic-convolution weights (A = -0.75) of taps at -1, 0, 1, 2 from
    the fractional offset ``t``."""
    a = _CUBIC_A

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return far(t + 1), near(t), near(1 - t), far(2 - t)


def cubic_slopes(t):
    """The derivatives of :func:`cubic_weights` with respect to ``t``."""
    a = _CUBIC_A

    def near(x):
        return (3 * (a + 2) * x - 2 * (a + 3)) * x

    def far(x):
        return (3 * a * x - 10 * a) * x + 8 * a

    return far(t + 1), near(t), -near(1 - t), -far(2 - t)


def _gather(flat, spatial, index_parts):
    """Values of the image (a Tensor) at integer points, zero outside the image.

    ``flat``: ``(N, C, prod(spatial))``; ``index_parts``: one ``(N, *out)`` float
    tensor of integer values per spatial axis (slowest first). Returns ``(N, C, *out)``.
    """
    n, c = flat.shape[0], flat.shape[1]
    out_shape = tuple(index_parts[0].shape[1:])
    inside = None
    offset = None
    for idx, size in zip(index_parts, spatial):
        ok = (idx > -1) & (idx < size)
        inside = ok if inside is None else inside & ok
    for idx, size in zip(index_parts, spatial):
        part = ember.where(inside, idx, 0).long()
        offset = part if offset is None else offset * size + part
    index = offset.reshape(n, 1, -1).expand(n, c, offset[0].numel())
    values = flat.gather(2, index).reshape((n, c) + out_shape)
    return values * inside.unsqueeze(1).to(flat.dtype)


def _composite(input, grid, mode, padding_mode, align_corners):
    """``grid_sample`` written with Tensor ops (the create_graph path)."""
    n, c = input.shape[0], input.shape[1]
    spatial = tuple(int(s) for s in input.shape[2:])
    flat = input.reshape(n, c, -1)
    # grid's last axis is (x, y[, z]): x runs along the last (fastest) image axis
    raw = [grid[..., len(spatial) - 1 - a] for a in range(len(spatial))]
    if mode == "bicubic":
        y, x = (unnormalize(r, size, align_corners) for r, size in zip(raw, spatial))
        y0, x0 = y.detach().floor(), x.detach().floor()
        wy, wx = cubic_weights(y - y0), cubic_weights(x - x0)
        out = None
        for i in range(4):
            row = pad(ember, y0 + (i - 1), spatial[0], padding_mode, align_corners)
            for j in range(4):
                col = pad(ember, x0 + (j - 1), spatial[1], padding_mode, align_corners)
                term = _gather(flat, spatial, [row, col]) * (wy[i] * wx[j]).unsqueeze(1)
                out = term if out is None else out + term
        return out
    coords = [pad(ember, unnormalize(r, size, align_corners), size, padding_mode, align_corners)
              for r, size in zip(raw, spatial)]
    if mode == "nearest":
        return _gather(flat, spatial, [x.detach().round() for x in coords])
    lows = [x.detach().floor() for x in coords]
    fracs = [x - lo for x, lo in zip(coords, lows)]
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


class _GridSample(Function):
    """One node for ``grid_sample``: the kernels compute the output and, unless the
    backward is recorded, the gradients of the image and of the grid."""

    @staticmethod
    def forward(ctx, input, grid, mode, padding_mode, align_corners):
        ctx.save_for_backward(input, grid)
        ctx.options = (mode, padding_mode, align_corners)
        run = kernel_for("vision.grid_sample", input)
        return tensor_like(run(data_of(input), data_of(grid), *ctx.options), input)

    @staticmethod
    def backward(ctx, grad):
        input, grid = ctx.saved_tensors
        need = ctx.needs_input_grad[:2]
        if ember.is_grad_enabled():
            wanted = [t for t, n in zip((input, grid), need) if n]
            found = iter(ember.autograd.grad(_composite(input, grid, *ctx.options), wanted, grad,
                                             create_graph=True, allow_unused=True))
            grads = [next(found) if n else None for n in need]
            if need[1] and grads[1] is None:  # nearest: the output does not depend on the grid
                grads[1] = ember.zeros_like(grid)
        else:
            run = kernel_for("vision.grid_sample_backward", grad)
            arrays = run(data_of(grad), data_of(input), data_of(grid), *ctx.options, need[0])
            grads = [tensor_like(a, input) if n else None for a, n in zip(arrays, need)]
        return grads[0], grads[1], None, None, None


class _GridSample2d(_GridSample):
    """``grid_sample`` of a 4-d input."""

    backward_name = "GridSampler2DBackward0"


class _GridSample3d(_GridSample):
    """``grid_sample`` of a 5-d input."""

    backward_name = "GridSampler3DBackward0"


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
    node = _GridSample2d if input.dim() == 4 else _GridSample3d
    return node.apply(input, grid, mode, padding_mode, bool(align_corners))
