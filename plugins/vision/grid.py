"""``F.affine_grid``: the sampling grid of a batch of affine transforms.

The grid is linear in ``theta``: a fixed base grid of homogeneous coordinates
times ``theta`` transposed, so a Tensor matmul gives values and gradients (of
any order); ``grid_sample.py`` samples images at such grids.
"""

import warnings

import numpy as np

from ember.backend import tensor_like, xp_of

from .._checks import tensor_arg

__all__ = ["affine_grid"]


def _axis_coords(n, align_corners, t):
    """``n`` normalised coordinates in [-1, 1]: pixel centres when not aligned
    (torch's ``linspace(-1, 1, n) * (n - 1) / n``), a single 0 for ``n == 1``."""
    if n <= 1:
        return np.zeros(1, dtype=t)
    step = t(2) / t(n - 1)
    i = np.arange(n)
    half = n // 2
    # torch's linspace: from the start for the first half, from the end for the rest
    coords = np.where(i < half, t(-1) + step * i.astype(t), t(1) - step * (n - 1 - i).astype(t)).astype(t)
    if not align_corners:
        coords = (coords * t(n - 1) / t(n)).astype(t)
    return coords


def _base_grid(spatial, align_corners, t):
    """Homogeneous coordinates ``(x, y[, z], 1)`` of every output point, flattened."""
    axes = [_axis_coords(n, align_corners, t) for n in spatial]  # (D,) H, W
    mesh = np.meshgrid(*axes, indexing="ij")
    coords = [m.reshape(-1) for m in reversed(mesh)]  # x varies along W, first
    return np.stack(coords + [np.ones_like(coords[0])], axis=-1)


def affine_grid(theta, size, align_corners=None):
    """Sampling grid of the affine maps ``theta`` for an output of ``size``.

    For each output point with normalised coordinates ``(x, y)`` (``(x, y, z)``
    in 3-d) in ``[-1, 1]``, the grid holds ``theta @ (x, y, 1)``: where to read
    the input (with :func:`grid_sample`).

    Args:
        theta: ``(N, 2, 3)`` for 2-d, ``(N, 3, 4)`` for 3-d, floating point.
        size: the target output size ``(N, C, H, W)`` or ``(N, C, D, H, W)``.
        align_corners: ``True``: -1 and 1 are the centres of the corner
            pixels; ``False``: their outer edges. Default ``None`` means
            ``False`` with a warning, as torch.

    Returns:
        ``(N, H, W, 2)`` or ``(N, D, H, W, 3)``.

    Examples::

        >>> theta = ember.tensor([[[1., 0., 0.], [0., 1., 0.]]])
        >>> F.affine_grid(theta, (1, 1, 2, 2), align_corners=True)[0, 0].tolist()
        [[-1.0, -1.0], [1.0, -1.0]]
    """
    tensor_arg(theta, "affine_grid", "theta")
    if align_corners is None:
        warnings.warn("Default grid_sample and affine_grid behavior has changed to "
                      "align_corners=False since 1.3.0. Please specify align_corners=True if the "
                      "old behavior is desired. See the documentation of grid_sample for details.",
                      stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = list(size)
    if len(size) == 4:
        if theta.dim() != 3 or theta.shape[-2] != 2 or theta.shape[-1] != 3:
            raise ValueError("Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                             f"{size}. Got {theta.shape}.")
    elif len(size) == 5:
        if theta.dim() != 3 or theta.shape[-2] != 3 or theta.shape[-1] != 4:
            raise ValueError("Expected a batch of 3D affine matrices of shape Nx3x4 for size "
                             f"{size}. Got {theta.shape}.")
    else:
        raise NotImplementedError("affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {size}.")
    spatial = [int(s) for s in size[2:]]
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids "
                      "when align_corners=True. This is not an intended use case of affine_grid. "
                      "See the documentation of affine_grid for details.", stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if theta.shape[0] != size[0]:
        raise RuntimeError(f"affine_grid: theta holds {theta.shape[0]} matrices but size asks for "
                           f"a batch of {size[0]}")
    t = np.float64 if str(theta.dtype).endswith("float64") else np.float32
    base = _base_grid(spatial, align_corners, t)
    base = tensor_like(xp_of(theta).asarray(base), theta).to(theta.dtype)
    grid = base.unsqueeze(0) @ theta.transpose(1, 2)
    return grid.reshape(size[0], *spatial, len(spatial))
