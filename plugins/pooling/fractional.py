"""Fractional max pooling (Graham, 2014, https://arxiv.org/abs/1412.6071).

Windows of a fixed size ``k`` are placed at pseudo-random starts so that ``o``
of them span an axis of size ``n``: with ``alpha = (n - k) / (o - 1)`` and a
sample ``u`` in ``[0, 1)`` per (batch, channel) plane and axis, window ``i``
starts at ``int((i + u) * alpha) - int(u * alpha)`` and the last one at
``n - k``. The arithmetic runs in the input's floating type, as torch's does,
so given the same ``_random_samples`` the windows, values and indices are
torch's exactly. Sample ``j`` of a plane drives axis ``W, H`` (2-d) or
``T, H, W`` (3-d), in that order, as in torch.

The maxima are found by the kernel ``pooling.window_argmax_nd`` (shared with
adaptive pooling, one window row per plane here), then gathered with
``gather_planes`` so the output is differentiable to any order.
"""

import ember
from ember.backend import FLOATING, check_dtype, check_same_device, data_of, kernel_for, tensor_like, xp_of
from ember.nn import Module
from ember.nn._tuples import ntuple, pair, triple

from .adaptive import gather_maxima
from .._checks import tensor_arg

__all__ = ["fractional_max_pool2d", "fractional_max_pool3d",
           "fractional_max_pool2d_with_indices", "fractional_max_pool3d_with_indices",
           "FractionalMaxPool2d", "FractionalMaxPool3d"]


def _starts(xp, u, n_in, n_out, k):
    """(planes, n_out) int64 window starts for samples ``u`` (planes,)."""
    planes = u.shape[0]
    if n_out == 0:
        return xp.zeros((planes, 0), dtype=xp.int64)
    last = xp.full((planes, 1), n_in - k, dtype=xp.int64)
    if n_out == 1:
        return last
    dt = u.dtype
    alpha = xp.asarray(n_in - k, dtype=dt) / xp.asarray(n_out - 1, dtype=dt)
    i = xp.arange(n_out - 1, dtype=dt)
    # int() truncates toward zero, like astype
    seq = ((i[None, :] + u[:, None]) * alpha).astype(xp.int64) - (u[:, None] * alpha).astype(xp.int64)
    return xp.concatenate([seq, last], axis=1)


def _fractional(input, nd, kernel_size, output_size, output_ratio, random_samples):
    name = f"fractional_max_pool{nd}d"
    tup = ntuple(nd)
    if output_size is None and output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output_size or an output_ratio")
    if output_size is None:
        if isinstance(output_ratio, (tuple, list)) and len(output_ratio) > nd:
            raise ValueError(f"{name} requires output_ratio to either be a single number or a "
                             f"tuple of {nd} numbers")
        ratio = tup(output_ratio)
        output_size = [int(input.size(i - nd) * r) for i, r in enumerate(ratio)]
    if random_samples is None:
        check_dtype(input, name, FLOATING)
        n_batch = 1 if input.dim() == nd + 1 else input.size(0)
        random_samples = ember.rand(n_batch, input.size(-nd - 1), nd, dtype=input.dtype,
                                    device=input.device)

    ks, sizes = tup(kernel_size), tup(output_size)
    if len(ks) not in (1, nd):
        raise RuntimeError(f"{name}: kernel_size must either be a single Int or tuple of {nd} Ints")
    if len(sizes) not in (1, nd):
        raise RuntimeError(f"{name}: output_size must either be a single Int or tuple of {nd} Ints")
    ks, sizes = tuple(ks) * (nd // len(ks)), tuple(sizes) * (nd // len(sizes))
    if any(k <= 0 for k in ks):
        # torch lets this through and returns -inf; an empty window has no maximum
        raise ValueError(f"{name}: kernel_size must be greater than 0, but got {list(ks)}")
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: "
                           f"{list(input.shape)}")
    for d in range(1, input.dim()):
        if input.shape[d] == 0:
            raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but got {list(input.shape)} with dimension {d} "
                               f"being empty.")
    if any(o < 0 for o in sizes):
        raise RuntimeError(f"{name}(): output_size must be non-negative, but got {list(sizes)}")
    check_dtype(input, name, FLOATING)
    batched = input.dim() == nd + 2
    n_batch = input.shape[0] if batched else 1
    channels = input.shape[-nd - 1]
    rs = random_samples
    check_same_device(input, rs)
    if rs.dtype != input.dtype:
        raise RuntimeError("Expect _random_samples to have the same dtype as input")
    if rs.dim() != 3:
        raise RuntimeError(f"Expect _random_samples to have 3 dimensions, got {rs.dim()}")
    if rs.shape[0] < n_batch:
        raise RuntimeError("Expect _random_samples.size(0) no less then input batch size.")
    if rs.shape[1] != channels:
        raise RuntimeError("Expect _random_samples.size(1) equals to input channel size.")
    if rs.shape[2] != nd:
        raise RuntimeError(f"Expect _random_samples.size(2) equals to {nd}; got {rs.shape[2]}.")
    in_spatial = tuple(input.shape[input.dim() - nd:])
    axis_names = ("height", "width") if nd == 2 else ("time", "height", "width")
    # torch lets the 2-d windows reach the last element but keeps the 3-d ones
    # one short of it (outputT + poolSizeT - 1 < inputT)
    limit = 0 if nd == 2 else 1
    for a in range(nd):
        if sizes[a] + ks[a] - 1 > in_spatial[a] - limit:
            raise RuntimeError(f"{name}(): pool {axis_names[a]} {ks[a]} too large relative to "
                               f"input {axis_names[a]} {in_spatial[a]}")

    xp = xp_of(input)
    u = xp.asarray(data_of(rs)[:n_batch]).reshape(n_batch * channels, nd)
    # torch pairs sample 0 with the width in 2-d, with the time axis in 3-d
    sample_of_axis = (1, 0) if nd == 2 else (0, 1, 2)
    starts = tuple(xp.ascontiguousarray(_starts(xp, u[:, sample_of_axis[a]], in_spatial[a],
                                                sizes[a], ks[a])) for a in range(nd))
    ends = tuple(s + k for s, k in zip(starts, ks))
    idx = kernel_for("pooling.window_argmax_nd", input)(data_of(input), starts, ends)
    indices = tensor_like(idx, input)
    values = gather_maxima(input, indices, sizes, f"FractionalMaxPool{nd}DBackward0")
    return values, indices


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    """:func:`fractional_max_pool2d` returning ``(output, indices)`` always."""
    tensor_arg(input, "fractional_max_pool2d_with_indices", "input")
    return _fractional(input, 2, kernel_size, output_size, output_ratio, _random_samples)


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    """:func:`fractional_max_pool3d` returning ``(output, indices)`` always."""
    tensor_arg(input, "fractional_max_pool3d_with_indices", "input")
    return _fractional(input, 3, kernel_size, output_size, output_ratio, _random_samples)


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """2-d fractional max pooling: ``kH x kW`` windows at pseudo-random starts.

    Args:
        input: ``(N, C, H, W)`` or ``(C, H, W)``, floating point.
        kernel_size: window size ``k`` or ``(kH, kW)``.
        output_size: ``(H_out, W_out)`` or one int; give this or ``output_ratio``.
        output_ratio: output size as a fraction of the input's, one number or
            a pair, each in ``(0, 1)``; the size is ``int(H * ratio)``.
        return_indices: also return the int64 flat position ``h * W + w`` of
            each maximum (the form ``max_unpool2d`` takes).
        _random_samples: ``(N, C, 2)`` samples in ``[0, 1)`` of the input's
            dtype fixing the windows; drawn with ``ember.rand`` when omitted.

    Returns:
        ``(N, C, H_out, W_out)`` or ``(C, H_out, W_out)``; with
        ``return_indices``, ``(output, indices)``.

    Examples::

        >>> x = ember.randn(2, 3, 10, 12)
        >>> F.fractional_max_pool2d(x, 3, output_ratio=(0.5, 0.5)).shape
        ember.Size([2, 3, 5, 6])
    """
    tensor_arg(input, "fractional_max_pool2d", "input")
    out = _fractional(input, 2, kernel_size, output_size, output_ratio, _random_samples)
    return out if return_indices else out[0]


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """3-d fractional max pooling: ``kT x kH x kW`` windows at pseudo-random starts.

    Args:
        input: ``(N, C, T, H, W)`` or ``(C, T, H, W)``, floating point.
        kernel_size: window size ``k`` or ``(kT, kH, kW)``.
        output_size: ``(T_out, H_out, W_out)`` or one int; give this or
            ``output_ratio``.
        output_ratio: output size as a fraction of the input's, one number or
            a triple, each in ``(0, 1)``.
        return_indices: also return the int64 flat position ``(t * H + h) * W + w``
            of each maximum (the form ``max_unpool3d`` takes).
        _random_samples: ``(N, C, 3)`` samples in ``[0, 1)`` of the input's
            dtype fixing the windows; drawn with ``ember.rand`` when omitted.

    Returns:
        ``(N, C, T_out, H_out, W_out)`` or ``(C, T_out, H_out, W_out)``; with
        ``return_indices``, ``(output, indices)``.

    Examples::

        >>> x = ember.randn(1, 2, 8, 9, 10)
        >>> F.fractional_max_pool3d(x, 2, output_size=(4, 4, 5)).shape
        ember.Size([1, 2, 4, 4, 5])
    """
    tensor_arg(input, "fractional_max_pool3d", "input")
    out = _fractional(input, 3, kernel_size, output_size, output_ratio, _random_samples)
    return out if return_indices else out[0]


class _FractionalMaxPoolNd(Module):
    __constants__ = ["kernel_size", "return_indices", "output_size", "output_ratio"]
    _nd = 2

    def __init__(self, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                 _random_samples=None):
        super().__init__()
        tup = pair if self._nd == 2 else triple
        if (isinstance(kernel_size, int) and kernel_size <= 0) or (
                isinstance(kernel_size, (tuple, list)) and not all(k > 0 for k in kernel_size)):
            raise ValueError(f"kernel_size must be greater than 0, but got {kernel_size}")
        self.kernel_size = tup(kernel_size)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = tup(output_size) if output_size is not None else None
        self.output_ratio = tup(output_ratio) if output_ratio is not None else None
        if output_size is None and output_ratio is None:
            raise ValueError(f"{type(self).__name__} requires specifying either an output size, "
                             f"or a pooling ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """2-d fractional max pooling (see :func:`fractional_max_pool2d`).

    Args:
        kernel_size: window size ``k`` or ``(kH, kW)``.
        output_size: ``(H_out, W_out)`` or one int.
        output_ratio: output size as a fraction of the input's, in ``(0, 1)``;
            give exactly one of ``output_size`` and ``output_ratio``.
        return_indices: also return the positions of the maxima (for
            ``MaxUnpool2d``). Default: ``False``.
        _random_samples: fixed ``(N, C, 2)`` samples (a buffer); drawn anew at
            each call when ``None``.

    Shape:
        - Input: ``(N, C, H_in, W_in)`` or ``(C, H_in, W_in)``.
        - Output: ``(N, C, H_out, W_out)`` or ``(C, H_out, W_out)``.

    Examples::

        >>> m = nn.FractionalMaxPool2d(3, output_size=(13, 12))
        >>> m(ember.randn(2, 4, 50, 32)).shape
        ember.Size([2, 4, 13, 12])
    """

    _nd = 2

    def forward(self, input):
        return fractional_max_pool2d(input, self.kernel_size, self.output_size, self.output_ratio,
                                     self.return_indices, _random_samples=self._random_samples)


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """3-d fractional max pooling (see :func:`fractional_max_pool3d`).

    Args:
        kernel_size: window size ``k`` or ``(kT, kH, kW)``.
        output_size: ``(T_out, H_out, W_out)`` or one int.
        output_ratio: output size as a fraction of the input's, in ``(0, 1)``;
            give exactly one of ``output_size`` and ``output_ratio``.
        return_indices: also return the positions of the maxima (for
            ``MaxUnpool3d``). Default: ``False``.
        _random_samples: fixed ``(N, C, 3)`` samples (a buffer); drawn anew at
            each call when ``None``.

    Shape:
        - Input: ``(N, C, T_in, H_in, W_in)`` or ``(C, T_in, H_in, W_in)``.
        - Output: ``(N, C, T_out, H_out, W_out)`` or ``(C, T_out, H_out, W_out)``.

    Examples::

        >>> m = nn.FractionalMaxPool3d(3, output_ratio=(0.5, 0.5, 0.5))
        >>> m(ember.randn(2, 4, 10, 12, 14)).shape
        ember.Size([2, 4, 5, 6, 7])
    """

    _nd = 3

    def forward(self, input):
        return fractional_max_pool3d(input, self.kernel_size, self.output_size, self.output_ratio,
                                     self.return_indices, _random_samples=self._random_samples)
