"""``F.interpolate`` and the deprecated ``F.upsample*`` functions.

Every mode is linear in the input and separable over the spatial axes, so the
whole resize is one ``linear_map`` through the kernel pair ``vision.interp`` /
``vision.interp_adjoint`` with one table of taps per axis (``_taps.py``):
double backward and higher orders come for free, and the cpu kernel
(``_upsample.pyx``) serves all modes and 1, 2 and 3 spatial axes.
"""

import math
import numbers
import warnings

import numpy as np

import ember
from ember.autograd import linear_map
from ember.backend import check_allocation, check_dtype

from ._taps import axis_taps
from .._checks import tensor_arg

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear"]

_LINEAR_MODES = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_MODES_TEXT = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"
_AXIS_NAMES = {1: ("W",), 2: ("H", "W"), 3: ("D", "H", "W")}
_TAPS_MODE = {"nearest": "nearest", "nearest-exact": "nearest-exact", "linear": "linear",
              "bilinear": "linear", "trilinear": "linear", "bicubic": "cubic", "area": "area"}


def _grad_name(mode, nd):
    if mode == "area":
        return "SqueezeBackward1" if nd == 1 else f"AdaptiveAvgPool{nd}DBackward0"
    stem = {"nearest": "Nearest", "nearest-exact": "NearestExact", "linear": "Linear",
            "bilinear": "Bilinear", "trilinear": "Trilinear", "bicubic": "Bicubic"}[mode]
    return f"Upsample{stem}{nd}DBackward0"


def _is_integer(v):
    return isinstance(v, (numbers.Integral, np.integer)) or (
        isinstance(v, ember.Tensor) and not v.is_floating_point())


def _spatial_request(input, size, scale_factor, dim):
    """torch's checks of ``size``/``scale_factor``: (output sizes or None, scales or None)."""
    spatial = list(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got "
                    f"input with spatial dimensions of {spatial} and output size of {size}. Please "
                    "provide input tensor in (N, C, d1, d2, ...,dK) format and output size in "
                    "(o1, o2, ...,oK) format.")
            if not all(_is_integer(s) for s in size):
                raise TypeError(
                    "expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                    f"Tuple[int, int, int], but got size with types {[type(s) for s in size]}")
            return [int(s) for s in size], None
        if not _is_integer(size):
            raise TypeError(f"expected size to be an int or a tuple of ints, got {type(size).__name__}")
        return [int(size)] * dim, None
    if scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError(
                    "Input and scale_factor must have the same number of spatial dimensions, but "
                    f"got input with spatial dimensions of {spatial} and scale_factor of shape "
                    f"{scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) format "
                    "and scale_factor in (s1, s2, ...,sK) format.")
            return None, [float(s) for s in scale_factor]
        return None, [float(scale_factor)] * dim
    raise ValueError("either size or scale_factor should be defined")


def _scaled_size(n, scale):
    """``floor(n * scale)`` as torch computes it, with its error for nan and inf."""
    product = n * scale
    if not math.isfinite(product) or abs(product) >= 2 ** 63:
        raise RuntimeError("value cannot be converted to type int64_t without overflow")
    return int(product)


def _check_sizes(input, mode, in_spatial, out_spatial):
    """The checks torch's kernels make before computing."""
    nd = len(in_spatial)
    if mode == "area":
        for d, n in enumerate(in_spatial):
            if n <= 0:
                raise RuntimeError(
                    f"adaptive_avg_pool{nd}d(): Expected input to have non-zero size for non-batch "
                    f"dimensions, but input has sizes {list(input.shape)} with dimension {d + 2} "
                    "being empty")
        return
    if min(in_spatial) <= 0 or min(out_spatial) <= 0:
        names = _AXIS_NAMES[nd]
        got_in = ", ".join(f"{a}: {n}" for a, n in zip(names, in_spatial))
        got_out = ", ".join(f"{a}: {n}" for a, n in zip(names, out_spatial))
        joint = " and output" if nd == 1 else " output"
        raise RuntimeError("Input and output sizes should be greater than 0, but got input "
                           f"({got_in}){joint} ({got_out})")
    if input.numel() == 0 and math.prod(input.shape[1:]) == 0:
        raise RuntimeError(f"Non-empty {input.dim()}D data tensor expected but got a tensor with "
                           f"sizes {list(input.shape)}")


def _opmath(dtype):
    return np.float64 if dtype == ember.float64 else np.float32


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dimensions of ``input`` by interpolation.

    ``input`` is ``(N, C, W)``, ``(N, C, H, W)`` or ``(N, C, D, H, W)``; the
    output size is ``size`` or ``floor(input size * scale_factor)``.

    Args:
        input: the tensor to resize (floating point).
        size: output spatial size, an int or one int per spatial dimension.
        scale_factor: multiplier of the spatial size, a float or one per
            spatial dimension. Give exactly one of ``size`` and ``scale_factor``.
        mode: ``'nearest'`` (torch's legacy rule: source index
            ``floor(dst * scale)``), ``'nearest-exact'`` (pixel centres,
            ``floor((dst + 0.5) * scale)``), ``'linear'`` (3-d input),
            ``'bilinear'`` / ``'bicubic'`` (4-d), ``'trilinear'`` (5-d), or
            ``'area'`` (adaptive average pooling). Default: ``'nearest'``.
        align_corners: for the linear and cubic modes only. ``True`` maps the
            centres of the corner pixels of input and output onto each other;
            ``False`` (default) maps their outer edges, so the result does not
            depend on the input size for a given scale.
        recompute_scale_factor: when ``True``, the output size is computed
            from ``scale_factor`` and then the sampling step is recomputed as
            ``input size / output size``; otherwise a given ``scale_factor`` is
            used as the step (``1 / scale_factor``) directly.
        antialias: low-pass filtering when downsampling (not implemented in
            ember: ``True`` raises NotImplementedError for valid modes).

    Returns:
        A tensor of the same dtype with the new spatial size.

    Examples::

        >>> x = ember.arange(1., 5.).view(1, 1, 2, 2)
        >>> F.interpolate(x, scale_factor=2, mode="nearest")[0, 0, 0].tolist()
        [1.0, 1.0, 2.0, 2.0]
        >>> F.interpolate(x, size=3, mode="bilinear", align_corners=True)[0, 0, 0].tolist()
        [1.0, 1.5, 2.0]
    """
    tensor_arg(input, "interpolate", "input")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False

    dim = input.dim() - 2
    out_size, scales = _spatial_request(input, size, scale_factor, dim)
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" and out_size is None:
        recompute_scale_factor = True
    if recompute_scale_factor and scales is not None:
        out_size = [_scaled_size(n, s) for n, s in zip(input.shape[2:], scales)]
        scales = None

    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.dim() == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos "
                         "modes and requires a 4-D tensor as input")

    if mode == "lanczos" and dim == 2:
        if align_corners:
            raise ValueError("Lanczos mode does not support align_corners=True")
        if not antialias:
            raise ValueError("Lanczos mode requires antialias=True")
    elif not ((mode in _TAPS_MODE and mode not in _LINEAR_MODES and 1 <= dim <= 3)
              or _LINEAR_MODES.get(mode) == dim):
        needs = {"linear": 1, "bilinear": 2, "trilinear": 3}.get(mode)
        if needs is not None and 1 <= dim <= 3:
            raise NotImplementedError(f"Got {dim + 2}D input, but {mode} mode needs {needs + 2}D input")
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) for "
            f"the modes: {_MODES_TEXT} (got {mode})")
    if antialias:
        raise NotImplementedError(f"F.interpolate(..., mode={mode!r}, antialias=True) is not "
                                  "implemented in ember")
    if not input.is_floating_point():
        _check_integer_input(input, mode, dim)

    in_spatial = tuple(int(n) for n in input.shape[2:])
    if out_size is None:
        out_size = [_scaled_size(n, s) for n, s in zip(in_spatial, scales)]
    out_spatial = tuple(out_size)
    _check_sizes(input, mode, in_spatial, out_spatial)
    check_allocation(tuple(input.shape[:2]) + out_spatial, input.element_size(), "interpolate")

    t = _opmath(input.dtype)
    kind = "nearest2d" if mode == "nearest" and dim == 2 else _TAPS_MODE[mode]
    taps = _all_taps(kind, in_spatial, out_spatial, align_corners, scales, t)
    # torch's backward kernels index differently from the forward ones in two
    # cases (so their gradient is not the forward's transpose there); ember
    # gives torch's numbers: nearest 1-d/3-d takes the 2-d shortcuts, and
    # bicubic copies the gradient when no size changes, whatever the scale
    adjoint_taps = taps
    if kind == "nearest":
        adjoint_taps = _all_taps("nearest2d", in_spatial, out_spatial, None, scales, t)
    elif kind == "cubic" and in_spatial == out_spatial:
        adjoint_taps = _all_taps("nearest", in_spatial, out_spatial, None, None, t)
    if not input.is_floating_point():
        return _resize_uint8(input, kind, taps, in_spatial, out_spatial, align_corners, scales, t)
    return linear_map(input, "vision.interp", "vision.interp_adjoint",
                      (taps, adjoint_taps, in_spatial, out_spatial), _grad_name(mode, dim))


def _resize_uint8(input, kind, taps, in_spatial, out_spatial, align_corners, scales, t):
    """uint8 images, computed in float32: nearest modes in one pass; bilinear and
    bicubic one axis at a time, last axis first, rounding and clamping to 0..255
    after each (as torch's uint8 kernels do, within one unit)."""
    x = input.float()
    if kind not in ("linear", "cubic"):
        x = linear_map(x, "vision.interp", "vision.interp_adjoint", (taps, taps, in_spatial, out_spatial))
        return x.to(input.dtype)
    sizes = list(in_spatial)
    for axis in reversed(range(len(in_spatial))):
        before = tuple(sizes)
        sizes[axis] = out_spatial[axis]
        stage = tuple(taps[a] if a == axis else axis_taps("nearest", n, n, None, None, t)
                      for a, n in enumerate(before))
        x = linear_map(x, "vision.interp", "vision.interp_adjoint", (stage, stage, before, tuple(sizes)))
        x = (x + 0.5).floor().clamp(0, 255)  # halves round up, as fixed-point kernels do
    return x.to(input.dtype)


def _check_integer_input(input, mode, dim):
    """torch resizes uint8 images (nearest modes; bilinear and bicubic in 2-d) and
    no other integer or bool input: raise its NotImplementedError for the rest."""
    if input.dtype == ember.uint8 and (mode in ("nearest", "nearest-exact")
                                       or (dim == 2 and mode in ("bilinear", "bicubic"))):
        return
    if mode == "area":
        kernel = f"adaptive_avg_pool{max(dim, 2)}d"
    else:
        kernel = "compute_indices_weights_" + {"nearest": "nearest", "nearest-exact": "nearest",
                                               "bicubic": "cubic"}.get(mode, "linear")
    check_dtype(input, kernel, ())


def _all_taps(kind, in_spatial, out_spatial, align_corners, scales, t):
    """One CSR table per spatial axis."""
    align = bool(align_corners) if kind in ("linear", "cubic") else None
    return tuple(axis_taps(kind, n_in, n_out, align, None if scales is None else scales[a], t)
                 for a, (n_in, n_out) in enumerate(zip(in_spatial, out_spatial)))


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of :func:`interpolate` (warns); same arguments, no
    ``recompute_scale_factor`` or ``antialias``.

    Examples::

        >>> F.upsample(ember.ones(1, 1, 2), scale_factor=2).shape  # doctest: +SKIP
        ember.Size([1, 1, 4])
    """
    tensor_arg(input, "upsample", "input")
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: nearest-neighbour resize, ``interpolate(..., mode='nearest')`` (warns).

    Examples::

        >>> F.upsample_nearest(ember.ones(1, 1, 2, 2), scale_factor=2).shape  # doctest: +SKIP
        ember.Size([1, 1, 4, 4])
    """
    tensor_arg(input, "upsample_nearest", "input")
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: bilinear resize with aligned corners,
    ``interpolate(..., mode='bilinear', align_corners=True)`` (warns).

    Examples::

        >>> F.upsample_bilinear(ember.ones(1, 1, 2, 2), size=3).shape  # doctest: +SKIP
        ember.Size([1, 1, 3, 3])
    """
    tensor_arg(input, "upsample_bilinear", "input")
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
