"""Windowed pooling: max (with indices), max unpooling, average and power-average.

Shapes follow PyTorch: ``(N, C, *spatial)`` or, unbatched, ``(C, *spatial)``
with 1, 2 or 3 spatial dimensions. Each output element summarises one window
of the input plane; output length per axis is::

    floor_or_ceil((n + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1

where, with ``ceil_mode``, a last window that would start in the right padding
is dropped.

How the maths is split:

* max pooling: a kernel ``pooling.max_nd`` returns the maxima and their flat
  per-plane indices (no gradient); the differentiable output is the linear
  gather of the input at those indices (``_indexed.gather_planes``), whose
  gradient is a scatter-add and so on to any order.
* average pooling is linear: ``linear_map`` with the pair ``pooling.avg_nd`` /
  ``pooling.avg_nd_adjoint``.
* max unpooling writes values at given indices (``pooling.unpool_planes``, the
  last of repeated indices wins, as PyTorch); its gradient is the gather.
* power-average pooling is PyTorch's composition of ``avg_pool`` with
  elementwise ops.

Each kernel has a Cython version for the cpu backend (``_window.pyx``) and a
generic one written against the array namespace (NumPy, CuPy), in ``kernels.py``.
"""

import math
import numbers

import ember
from ember.autograd import Function, linear_map
from ember.backend import (FLOATING, assert_in_range, check_dtype, check_same_device, data_of, kernel_for, on_host,
                           tensor_like, xp_of)

from ._indexed import gather_planes
from .kernels import invalid_index
from .._checks import real, tensor_arg
from .adaptive import (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d, adaptive_max_pool1d,
                       adaptive_max_pool1d_with_indices, adaptive_max_pool2d,
                       adaptive_max_pool2d_with_indices, adaptive_max_pool3d,
                       adaptive_max_pool3d_with_indices)
from .fractional import (fractional_max_pool2d, fractional_max_pool2d_with_indices, fractional_max_pool3d,
                         fractional_max_pool3d_with_indices)

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices",
           "max_pool2d_with_indices", "max_pool3d_with_indices", "max_unpool1d", "max_unpool2d",
           "max_unpool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d", "lp_pool1d", "lp_pool2d",
           "lp_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
           "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
           "adaptive_max_pool3d_with_indices", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
           "adaptive_avg_pool3d", "fractional_max_pool2d", "fractional_max_pool3d",
           "fractional_max_pool2d_with_indices", "fractional_max_pool3d_with_indices"]

_WORDS = {1: "one", 2: "two", 3: "three"}


# ---------------------------------------------------------- argument checking

def _ints(value, n, fn, what, allow_empty=False):
    """``value`` (an int or a sequence of 1 or ``n`` ints) as an ``n``-tuple."""
    if isinstance(value, (list, tuple, ember.Size)):
        items = tuple(_int(v, fn, what) for v in value)
        if len(items) == 1:
            return items * n
        if len(items) == n or (allow_empty and not items):
            return items
        if n == 1:
            raise RuntimeError(f"{fn}() {what} must be an int, list of ints or tuple of ints of "
                               f"size 1 but got size {len(items)}")
        lead = "must either be omitted, a single int," if allow_empty else "must either be a single int,"
        raise RuntimeError(f"{fn}: {what} {lead} or a tuple of {_WORDS[n]} ints")
    return (_int(value, fn, what),) * n


def _int(value, fn, what):
    """One window hyper-parameter: an integer (a float such as 2.5 or a bool is refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{fn}(): argument '{what}' must be an int or a tuple of ints, but got "
                        f"{value!r} ({type(value).__name__})")
    return int(value)


def _out_length(n, k, s, p, d, ceil_mode):
    span = n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    out = span // s + 1
    # a last window starting in the right padding is dropped
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _check_input(input, nd, fn):
    shape = tuple(input.shape)
    if fn == "avg_pool2d" and len(shape) < 3:
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-max(len(shape), 1)}, {max(len(shape), 1) - 1}], but got -3)")
    if len(shape) not in (nd + 1, nd + 2) or 0 in shape[len(shape) - nd - 1:]:
        raise RuntimeError(f"{fn}: Expected {nd + 1}D or {nd + 2}D (batch mode) tensor with "
                           f"optional 0 dim batch size for input, but got:{list(shape)}")


def _window_geometry(input, nd, fn, kernel_size, stride, padding, dilation, ceil_mode,
                     max_pool):
    """Checked ``(kernel, stride, padding, dilation, in_spatial, out_spatial)``."""
    _check_input(input, nd, fn)
    kernel = _ints(kernel_size, nd, fn, "kernel_size")
    stride = kernel if stride is None else _ints(stride, nd, fn, "stride", allow_empty=True)
    stride = stride or kernel
    padding = _ints(padding, nd, fn, "padding")
    dilation = _ints(dilation, nd, fn, "dilation")
    axes = ("kT", "kH", "kW")[3 - nd:] if nd > 1 else ("kH", "kW")
    shown = kernel if nd > 1 else (1,) + kernel
    if min(kernel) <= 0:
        raise RuntimeError("kernel size should be greater than zero, but got "
                           + " ".join(f"{a}: {k}" for a, k in zip(axes, shown)))
    if min(stride) <= 0:
        names = ("dT", "dH", "dW")[3 - nd:] if nd > 1 else ("dH", "dW")
        shown_s = stride if nd > 1 else (1,) + stride
        raise RuntimeError("stride should be greater than zero, but got "
                           + " ".join(f"{a}: {s}" for a, s in zip(names, shown_s)))
    if min(dilation) <= 0:
        names = ("dilationT", "dilationH", "dilationW")[3 - nd:]
        raise RuntimeError("dilation should be greater than zero, but got "
                           + " ".join(f"{a}: {d}" for a, d in zip(names, dilation)))
    for k, p, d in zip(kernel, padding, dilation):
        if p < 0:
            raise RuntimeError(f"pad must be non-negative, but got pad: {p}")
        if p > ((k - 1) * d + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={p}, kernel_size={k} and dilation={d}")
        if max_pool and p > k // 2:
            raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but "
                               f"got pad={p}, kernel_size={k}")
    in_spatial = tuple(int(v) for v in input.shape[input.dim() - nd:])
    out_spatial = tuple(_out_length(n, k, s, p, d, ceil_mode)
                        for n, k, s, p, d in zip(in_spatial, kernel, stride, padding, dilation))
    if min(out_spatial) < 1:
        channels = int(input.shape[input.dim() - nd - 1])
        raise RuntimeError(
            f"Given input size: ({'x'.join(str(v) for v in (channels,) + in_spatial)}). "
            f"Calculated output size: ({'x'.join(str(v) for v in (channels,) + out_spatial)}). "
            f"Output size is too small")
    return kernel, stride, padding, dilation, in_spatial, out_spatial


# ----------------------------------------------------------------- max pooling

# the dtypes torch's CPU pooling kernels take
_NOT_BOOL = FLOATING + ("uint8", "int8", "int16", "int32", "int64")

def _max_pool(input, nd, fn, kernel_size, stride, padding, dilation, ceil_mode):
    kernel, stride, padding, dilation, _, out_spatial = _window_geometry(
        input, nd, fn, kernel_size, stride, padding, dilation, ceil_mode, True)
    check_dtype(input, f"max_pool{nd}d", _NOT_BOOL)
    values, where = kernel_for("pooling.max_nd", input)(
        data_of(input), kernel, stride, padding, dilation, out_spatial)
    indices = tensor_like(where, input)
    if input.requires_grad and ember.is_grad_enabled():
        # the maxima again, as a gather recorded in the graph (differentiable to any order)
        out = gather_planes(input, indices, out_spatial, f"MaxPool{nd}DWithIndicesBackward0", values)
        if max(dilation) > 1 and (not on_host(input) or xp_of(input).isneginf(values).any()):
            # a window lying wholly in the padding (dilation) has no element: its
            # maximum is -inf and nothing receives its gradient (on a GPU, where the
            # look would wait for the device, any window may be one)
            found = tensor_like(values, input)
            out = ember.where(found == float("-inf"), found, out)
    else:
        out = tensor_like(values, input)
    return out, indices


def _one_d(input, fn):
    """1-d pooling runs as 2-d pooling over ``(..., 1, L)``, as PyTorch does."""
    if input.dim() not in (2, 3) or 0 in tuple(input.shape)[-2:]:
        raise RuntimeError(f"{fn}: Expected 2D or 3D (batch mode) tensor with optional 0 dim "
                           f"batch size for input, but got:{list(input.shape)}")
    return input.unsqueeze(-2)


def _one_d_args(fn, kernel_size, stride, padding, dilation):
    kernel = _ints(kernel_size, 1, fn, "kernel_size")
    stride = _ints(stride, 1, fn, "stride", allow_empty=True) if stride is not None else ()
    return ((1,) + kernel, (1,) + (stride or kernel), (0,) + _ints(padding, 1, fn, "padding"),
            (1,) + _ints(dilation, 1, fn, "dilation"))


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """1-d max pooling returning ``(output, indices)``; see :func:`max_pool1d`."""
    tensor_arg(input, "max_pool1d_with_indices", "input")
    k, s, p, d = _one_d_args("max_pool1d", kernel_size, stride, padding, dilation)
    out, indices = _max_pool(_one_d(input, "max_pool1d"), 2, "max_pool1d", k, s, p, d, ceil_mode)
    return out.squeeze(-2), indices.squeeze(-2)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Largest value of each window sliding along the last axis.

    Args:
        input: ``(N, C, L)`` or ``(C, L)``.
        kernel_size: window length.
        stride: window step. Default: ``kernel_size``.
        padding: implicit ``-inf`` added on both ends, at most half the window.
        dilation: spacing between the elements of a window.
        ceil_mode: round the output length up instead of down (a window may then
            run past the end, but never starts in the right padding).
        return_indices: also return each maximum's position in its input row
            (for :func:`max_unpool1d`).

    Returns:
        ``(N, C, L_out)`` (and int64 indices of that shape when ``return_indices``).

    Examples::

        >>> F.max_pool1d(ember.tensor([[1., 3., 2., 5.]]), 2).tolist()
        [[3.0, 5.0]]
    """
    tensor_arg(input, "max_pool1d", "input")
    if not return_indices and isinstance(input, ember.Tensor):
        check_dtype(input, "max_pool1d_impl", FLOATING)
    out = max_pool1d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return out if return_indices else out[0]


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """2-d max pooling returning ``(output, indices)``; see :func:`max_pool2d`."""
    tensor_arg(input, "max_pool2d_with_indices", "input")
    return _max_pool(input, 2, "max_pool2d", kernel_size, stride, padding, dilation, ceil_mode)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Largest value of each window of every ``(H, W)`` plane.

    Args:
        input: ``(N, C, H, W)`` or ``(C, H, W)``.
        kernel_size, stride, padding, dilation: an int or a pair ``(h, w)``;
            ``stride`` defaults to ``kernel_size``; ``padding`` (implicit ``-inf``)
            is at most half the window.
        ceil_mode: round output sizes up instead of down.
        return_indices: also return each maximum's flat offset ``h * W + w`` in its
            input plane (for :func:`max_unpool2d`).

    Returns:
        ``(N, C, H_out, W_out)`` (and the int64 indices).

    Examples::

        >>> x = ember.arange(16.).reshape(1, 4, 4)
        >>> F.max_pool2d(x, 2).tolist()
        [[[5.0, 7.0], [13.0, 15.0]]]
    """
    tensor_arg(input, "max_pool2d", "input")
    out = _max_pool(input, 2, "max_pool2d", kernel_size, stride, padding, dilation, ceil_mode)
    return out if return_indices else out[0]


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """3-d max pooling returning ``(output, indices)``; see :func:`max_pool3d`."""
    tensor_arg(input, "max_pool3d_with_indices", "input")
    return _max_pool(input, 3, "max_pool3d", kernel_size, stride, padding, dilation, ceil_mode)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Largest value of each window of every ``(D, H, W)`` volume.

    Args:
        input: ``(N, C, D, H, W)`` or ``(C, D, H, W)``.
        kernel_size, stride, padding, dilation: an int or a triple ``(d, h, w)``.
        ceil_mode: round output sizes up instead of down.
        return_indices: also return the flat offsets ``(d * H + h) * W + w``.

    Returns:
        ``(N, C, D_out, H_out, W_out)`` (and the int64 indices).

    Examples::

        >>> F.max_pool3d(ember.arange(8.).reshape(1, 2, 2, 2), 2).tolist()
        [[[[7.0]]]]
    """
    tensor_arg(input, "max_pool3d", "input")
    out = _max_pool(input, 3, "max_pool3d", kernel_size, stride, padding, dilation, ceil_mode)
    return out if return_indices else out[0]


# --------------------------------------------------------------- max unpooling

def _unpool_output_size(input, kernel, stride, padding, output_size):
    nd = len(kernel)
    default = [(int(input.shape[input.dim() - nd + a]) - 1) * stride[a] + kernel[a] - 2 * padding[a]
               for a in range(nd)]
    if output_size is None:
        return default
    output_size = [int(v) for v in output_size]
    if len(output_size) == nd + 2:
        output_size = output_size[2:]
    if len(output_size) != nd:
        raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} elements, "
                         f"but it has a length of '{len(output_size)}'")
    for a in range(nd):
        low, high = default[a] - stride[a], default[a] + stride[a]
        if not low < output_size[a] < high:
            raise ValueError(f'invalid output_size "{output_size}" (dim {a} must be between '
                             f'{low} and {high})')
    return output_size


def _max_unpool(input, indices, nd, out_spatial):
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"Input to max_unpooling{nd}d should be a {nd + 1}d or {nd + 2}d "
                           f"Tensor, but got a tensor with {input.dim()} dimensions.")
    if indices.dtype != ember.int64:
        raise RuntimeError(f"elements in indices should be type int64 but got: {indices.dtype}")
    check_same_device(input, indices)
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                           f"({list(input.shape)}) but got indices tensor with shape: "
                           f"{list(indices.shape)}")
    if any(s <= 0 for s in out_spatial):
        raise RuntimeError(f"max_unpooling{nd}d: output_size must contain positive sizes, but "
                           f"got {list(out_spatial)}")
    check_dtype(input, f"max_unpool{max(nd, 2)}d", FLOATING)
    in_spatial = tuple(int(v) for v in input.shape[input.dim() - nd:])
    return _unpool_function(nd).apply(input, indices, tuple(out_spatial), in_spatial)


def assert_unpool_indices(like, indices, in_spatial):
    """torch's RuntimeError (:func:`invalid_index`) when an index of the array
    ``indices`` falls outside a plane of shape ``in_spatial``: at once on the CPU,
    at the next synchronisation on a GPU, so that unpooling reads nothing back."""
    assert_in_range(like, f"max_unpool index (plane {in_spatial})", indices, 0, math.prod(in_spatial),
                    lambda v: invalid_index(v, in_spatial))


class _MaxUnpool(Function):
    """Writes ``input`` at ``indices`` (the kernel checks each index first; of repeated
    indices the last wins). Not a plain ``linear_map``: as in PyTorch, the gradient
    is the gather at ``indices``, and the gather's own gradient the scatter-add."""

    @staticmethod
    def forward(ctx, input, indices, out_spatial, in_spatial):
        ctx.unpool = (indices, in_spatial, type(ctx).__name__.replace("Backward0", "BackwardBackward0"))
        assert_unpool_indices(input, data_of(indices), out_spatial)
        return tensor_like(kernel_for("pooling.unpool_planes", input)(
            data_of(input), data_of(indices), out_spatial, in_spatial), input)

    @staticmethod
    def backward(ctx, grad):
        indices, in_spatial, name = ctx.unpool
        return gather_planes(grad, indices, in_spatial, name), None, None, None


_UNPOOL_FUNCTIONS = {}


def _unpool_function(nd):
    """The Function whose node is named ``MaxUnpool{nd}DBackward0`` (made once)."""
    cls = _UNPOOL_FUNCTIONS.get(nd)
    if cls is None:
        cls = type(f"MaxUnpool{nd}D", (_MaxUnpool,),
                   {"__module__": __name__, "backward_name": f"MaxUnpool{nd}DBackward0"})
        _UNPOOL_FUNCTIONS[nd] = cls
    return cls


def _unpool_args(nd, fn, kernel_size, stride, padding):
    kernel = _ints(kernel_size, nd, fn, "kernel_size")
    stride = kernel if stride is None else _ints(stride, nd, fn, "stride")
    return kernel, stride, _ints(padding, nd, fn, "padding")


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of :func:`max_pool1d`: zeros with ``input`` written at ``indices``.

    Args:
        input: pooled values, ``(N, C, L_in)`` or ``(C, L_in)``.
        indices: int64, same shape, from ``max_pool1d(..., return_indices=True)``.
        kernel_size, stride, padding: the pooling's (stride defaults to ``kernel_size``).
        output_size: the length to restore (``L`` or ``(N, C, L)``); default
            ``(L_in - 1) * stride - 2 * padding + kernel_size``; it must lie
            strictly within ``stride`` of that default.

    Returns:
        ``(N, C, L_out)``.

    Examples::

        >>> y, i = F.max_pool1d(ember.tensor([[1., 3., 2., 5.]]), 2, return_indices=True)
        >>> F.max_unpool1d(y, i, 2).tolist()
        [[0.0, 3.0, 0.0, 5.0]]
    """
    tensor_arg(input, "max_unpool1d", "input")
    tensor_arg(indices, "max_unpool1d", "indices")
    kernel, stride, padding = _unpool_args(1, "max_unpool1d", kernel_size, stride, padding)
    size = _unpool_output_size(input, kernel, stride, padding, output_size)
    if input.dim() not in (2, 3):
        raise RuntimeError(f"Input to max_unpooling2d should be a 3d or 4d Tensor, but got a "
                           f"tensor with {input.dim() + 1} dimensions.")
    return _max_unpool(input.unsqueeze(-1), indices.unsqueeze(-1), 2, (size[0], 1)).squeeze(-1)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of :func:`max_pool2d`: zeros with ``input`` written at ``indices``.

    Args:
        input: ``(N, C, H_in, W_in)`` or ``(C, H_in, W_in)``.
        indices: int64 flat offsets ``h * W_out + w``, same shape as ``input``.
        kernel_size, stride, padding: the pooling's, an int or a pair.
        output_size: ``(H, W)`` or ``(N, C, H, W)``; each size must lie strictly
            within ``stride`` of the default ``(in - 1) * stride - 2 * padding + kernel``.

    Returns:
        ``(N, C, H_out, W_out)``. An index outside the output plane raises ``RuntimeError``;
        of repeated indices the last value is kept.

    Examples::

        >>> y, i = F.max_pool2d(ember.arange(16.).reshape(1, 4, 4), 2, return_indices=True)
        >>> F.max_unpool2d(y, i, 2)[0, 1].tolist()
        [0.0, 5.0, 0.0, 7.0]
    """
    tensor_arg(input, "max_unpool2d", "input")
    tensor_arg(indices, "max_unpool2d", "indices")
    kernel, stride, padding = _unpool_args(2, "max_unpool2d", kernel_size, stride, padding)
    size = _unpool_output_size(input, kernel, stride, padding, output_size)
    return _max_unpool(input, indices, 2, size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of :func:`max_pool3d`: zeros with ``input`` written at ``indices``.

    Args:
        input: ``(N, C, D_in, H_in, W_in)`` or ``(C, D_in, H_in, W_in)``.
        indices: int64 flat offsets ``(d * H_out + h) * W_out + w``, same shape.
        kernel_size, stride, padding: the pooling's, an int or a triple.
        output_size: ``(D, H, W)`` or the full shape, as for :func:`max_unpool2d`.

    Returns:
        ``(N, C, D_out, H_out, W_out)``.

    Examples::

        >>> y, i = F.max_pool3d(ember.arange(8.).reshape(1, 2, 2, 2), 2, return_indices=True)
        >>> F.max_unpool3d(y, i, 2).sum().item()
        7.0
    """
    tensor_arg(input, "max_unpool3d", "input")
    tensor_arg(indices, "max_unpool3d", "indices")
    kernel, stride, padding = _unpool_args(3, "max_unpool3d", kernel_size, stride, padding)
    size = _unpool_output_size(input, kernel, stride, padding, output_size)
    return _max_unpool(input, indices, 3, size)


# -------------------------------------------------------------- average pooling

def _avg_pool(input, nd, fn, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override, name):
    if nd == 3 and input.dim() in (4, 5):
        # torch's 3-d average pooling wants each window to fit the unpadded input
        # (checked before the output size)
        kernel, size = _ints(kernel_size, 3, fn, "kernel_size"), tuple(input.shape[-3:])
        if all(k > 0 for k in kernel) and any(i < k for i, k in zip(size, kernel)):
            raise RuntimeError(f"input image (T: {size[0]} H: {size[1]} W: {size[2]}) smaller than "
                               f"kernel size (kT: {kernel[0]} kH: {kernel[1]} kW: {kernel[2]})")
    kernel, stride, padding, _, in_spatial, out_spatial = _window_geometry(
        input, nd, fn, kernel_size, stride, padding, 1, ceil_mode, False)
    if divisor_override is not None and int(divisor_override) == 0:
        raise RuntimeError("divisor must be not zero")
    if nd == 3:
        check_dtype(input, "avg_pool3d_out_frame", ("float32", "float64", "int64"))
    else:
        check_dtype(input, "avg_pool2d", FLOATING + ("int64",))
    args = (in_spatial, out_spatial, kernel, stride, padding, bool(count_include_pad),
            int(divisor_override) if divisor_override is not None else None)
    return linear_map(input, "pooling.avg_nd", "pooling.avg_nd_adjoint", args,
                      f"{name}Backward0", f"{name}BackwardBackward0")


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """Mean of each window sliding along the last axis.

    Args:
        input: ``(N, C, L)`` or ``(C, L)``.
        kernel_size: window length.
        stride: window step. Default: ``kernel_size``.
        padding: zeros added on both ends, at most half the window.
        ceil_mode: round the output length up instead of down.
        count_include_pad: count the padding zeros in each window's divisor.

    Returns:
        ``(N, C, L_out)``.

    Examples::

        >>> F.avg_pool1d(ember.tensor([[1., 2., 3., 4., 5., 6., 7.]]), 3, 2).tolist()
        [[2.0, 4.0, 6.0]]
    """
    tensor_arg(input, "avg_pool1d", "input")
    if not isinstance(input, ember.Tensor):
        raise TypeError(f"avg_pool1d(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.dim() not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional tensor "
                           f"for argument #1 'self' (while checking arguments for avg_pool1d)")
    k, s, p, _ = _one_d_args("avg_pool1d", kernel_size, stride, padding, 1)
    out = _avg_pool(input.unsqueeze(-2), 2, "avg_pool1d", k, s, p, ceil_mode, count_include_pad,
                    None, "AvgPool2D")
    return out.squeeze(-2)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean of each window of every ``(H, W)`` plane.

    Args:
        input: ``(N, C, H, W)`` or ``(C, H, W)``.
        kernel_size, stride, padding: an int or a pair; ``stride`` defaults to
            ``kernel_size``; ``padding`` (zeros) is at most half the window.
        ceil_mode: round output sizes up instead of down.
        count_include_pad: count padding zeros in the divisor (a window running
            past the padded edge in ``ceil_mode`` still counts only up to that edge).
        divisor_override: divide every window sum by this instead.

    Returns:
        ``(N, C, H_out, W_out)``.

    Examples::

        >>> F.avg_pool2d(ember.arange(16.).reshape(1, 4, 4), 2).tolist()
        [[[2.5, 4.5], [10.5, 12.5]]]
    """
    tensor_arg(input, "avg_pool2d", "input")
    return _avg_pool(input, 2, "avg_pool2d", kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override, "AvgPool2D")


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean of each window of every ``(D, H, W)`` volume.

    Args:
        input: ``(N, C, D, H, W)`` or ``(C, D, H, W)``.
        kernel_size, stride, padding: an int or a triple.
        ceil_mode, count_include_pad, divisor_override: as for :func:`avg_pool2d`.

    Returns:
        ``(N, C, D_out, H_out, W_out)``.

    Examples::

        >>> F.avg_pool3d(ember.arange(8.).reshape(1, 2, 2, 2), 2).tolist()
        [[[[3.5]]]]
    """
    tensor_arg(input, "avg_pool3d", "input")
    return _avg_pool(input, 3, "avg_pool3d", kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override, "AvgPool3D")


# -------------------------------------------------------- power-average pooling

def _lp_pool(input, nd, norm_type, kernel_size, stride, ceil_mode, max_pool, avg_pool):
    real(norm_type, f"lp_pool{nd}d", "norm_type", finite=False)
    if norm_type == 0:   # torch divides by it: the same exception, with the argument named
        raise ZeroDivisionError(f"lp_pool{nd}d: norm_type must be nonzero, but got {norm_type}")
    if isinstance(norm_type, (int, float)):
        if norm_type == float("inf"):
            return max_pool(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
        if norm_type == -float("inf"):
            return -max_pool(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    window = math.prod(_ints(kernel_size, nd, f"lp_pool{nd}d", "kernel_size"))
    powered = input.pow(norm_type)
    if stride is not None:
        out = avg_pool(powered, kernel_size, stride, 0, ceil_mode)
    else:
        out = avg_pool(powered, kernel_size, padding=0, ceil_mode=ceil_mode)
    # PyTorch's formula; sign() has a zero gradient, taken detached so an infinite
    # incoming gradient (at a zero window) gives 0 rather than inf * 0 = nan
    clipped = ember.sign(out.detach()) * ember.nn.functional.relu(out.abs())
    return clipped.mul(window).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling along the last axis: ``(sum over window of x^p)^(1/p)``.

    Computed as PyTorch does, from :func:`avg_pool1d` of ``x^p``: windows whose sum
    is not positive give 0 (and a zero gradient). ``p = inf`` is max pooling of
    ``|x|``.

    Args:
        input: ``(N, C, L)`` or ``(C, L)``.
        norm_type: the power ``p``.
        kernel_size: window length.
        stride: window step. Default: ``kernel_size``.
        ceil_mode: round the output length up instead of down.

    Returns:
        ``(N, C, L_out)``.

    Examples::

        >>> F.lp_pool1d(ember.tensor([[3., 4.]]), 2, 2).tolist()
        [[5.0]]
    """
    tensor_arg(input, "lp_pool1d", "input")
    return _lp_pool(input, 1, norm_type, kernel_size, stride, ceil_mode, max_pool1d, avg_pool1d)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling of every ``(H, W)`` plane (see :func:`lp_pool1d`).

    Args:
        input: ``(N, C, H, W)`` or ``(C, H, W)``.
        norm_type: the power ``p``.
        kernel_size, stride: an int or a pair; ``stride`` defaults to ``kernel_size``.
        ceil_mode: round output sizes up instead of down.

    Returns:
        ``(N, C, H_out, W_out)``.

    Examples::

        >>> F.lp_pool2d(ember.ones(1, 2, 2), 1, 2).tolist()
        [[[4.0]]]
    """
    tensor_arg(input, "lp_pool2d", "input")
    return _lp_pool(input, 2, norm_type, kernel_size, stride, ceil_mode, max_pool2d, avg_pool2d)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling of every ``(D, H, W)`` volume (see :func:`lp_pool1d`).

    Args:
        input: ``(N, C, D, H, W)`` or ``(C, D, H, W)``.
        norm_type: the power ``p``.
        kernel_size, stride: an int or a triple; ``stride`` defaults to ``kernel_size``.
        ceil_mode: round output sizes up instead of down.

    Returns:
        ``(N, C, D_out, H_out, W_out)``.

    Examples::

        >>> F.lp_pool3d(ember.ones(1, 2, 2, 2), 1, 2).tolist()
        [[[[8.0]]]]
    """
    tensor_arg(input, "lp_pool3d", "input")
    return _lp_pool(input, 3, norm_type, kernel_size, stride, ceil_mode, max_pool3d, avg_pool3d)
