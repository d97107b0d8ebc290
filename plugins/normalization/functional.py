"""Normalization functions: batch, instance, layer, group and local response norm.

Batch, instance, layer and group norm all normalize slices of the input with the
slice's own mean and (biased) variance. Batch and instance norm view their input
as ``(A, C, B)`` so that every slice is one ``c`` (batch norm ``(N, C, H*W)``,
instance norm ``(1, N*C, H*W)``); one autograd Function, :class:`_Normalize`, does
the statistics, the normalizing and a per-``c`` affine in one kernel call
(``normalization.batch_norm_forward``), and its backward in another. Group and
layer norm take :class:`_GroupNormalize` the same way, their input viewed as
``(N, C, S)`` (layer norm: ``(rows, K, 1)`` with one group) and the affine per
channel (per element for layer norm) inside the kernel; each is one graph node.
When a backward itself is being recorded (``create_graph=True``) it is computed
from differentiable tensor ops instead, so double backward works as in torch.
"""

import math
import numbers

import ember
from ember.autograd import Function
from ember.backend import FLOATING, check_dtype, data_of, kernel_for, tensor_like

from .._checks import integer, real, tensor_arg

__all__ = ["batch_norm", "instance_norm", "layer_norm", "group_norm", "local_response_norm", "rms_norm"]


def _data(t):
    """``t``'s array for a kernel (None stays None); float16 goes in as float32."""
    if t is None:
        return None
    a = data_of(t)
    return a.astype("float32") if a.dtype == "float16" else a


def _like(array, t):
    """A kernel's result as a tensor of ``t``'s dtype and backend."""
    return tensor_like(array.astype(data_of(t).dtype, copy=False), t)


class _Normalize(Function):
    """``(x - mean_c) / sqrt(var_c + eps) * weight_c + bias_c`` on ``x`` viewed as
    ``shape3 = (A, C, B)``, statistics over axes 0 and 2; ``stats`` (a list or None)
    receives ``(mean, var)`` arrays for the running-statistics update. The views are
    taken on the arrays, so the result has ``x``'s shape and this one node, as torch's."""

    backward_name = "NativeBatchNormBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, eps, stats, shape3):
        run = kernel_for("normalization.batch_norm_forward", x)
        y, mean, var = run(_data(x).reshape(shape3), _data(weight), _data(bias), eps)
        ctx.save_for_backward(x, weight)
        ctx.moments = (mean, var)
        ctx.eps, ctx.shape3 = eps, shape3
        if stats is not None:
            stats.append((mean, var))
        return _like(y.reshape(x.shape), x)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        shape3 = ctx.shape3
        if ember.is_grad_enabled():
            dx, dw, db = _normalize_grad(grad.reshape(shape3), x.reshape(shape3), weight,
                                         ctx.eps, need_w, need_b)
            dx = dx.reshape(x.shape) if need_x else None
        else:
            mean, var = ctx.moments
            run = kernel_for("normalization.batch_norm_backward", x)
            dx, dw, db = run(_data(grad).reshape(shape3), _data(x).reshape(shape3), mean, var,
                             ctx.eps, _data(weight), need_x)
            dx = _like(dx.reshape(x.shape), x) if need_x else None
            dw = _like(dw, x) if need_w else None
            db = _like(db, x) if need_b else None
        return dx, dw, db, None, None, None


def _normalize_grad(g, x, weight, eps, need_w, need_b):
    """The backward of :class:`_Normalize` as differentiable tensor ops (for
    ``create_graph=True``): its graph reaches ``x``, ``weight`` and ``g``."""
    dims = (0, 2)
    xc = x - x.mean(dims, keepdim=True)
    inv = ((xc * xc).mean(dims, keepdim=True) + eps).rsqrt()
    xhat = xc * inv
    gw = g if weight is None else g * weight.view(1, -1, 1)
    dx = inv * (gw - gw.mean(dims, keepdim=True) - xhat * (gw * xhat).mean(dims, keepdim=True))
    dw = (g * xhat).sum(dims) if need_w else None
    db = g.sum(dims) if need_b else None
    return dx, dw, db


class _GroupNormalize(Function):
    """``x`` viewed as ``(N, C, S)`` (``shape3``) normalized per sample over each group
    of ``C // groups`` channels, then ``* weight[c] + bias[c]``, in one kernel call
    each way (group norm; layer norm is ``(rows, K, 1)`` with one group). The views
    are taken on the arrays, so the graph holds this one node, as torch's."""

    backward_name = "NativeGroupNormBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, groups, eps, shape3):
        run = kernel_for("normalization.group_norm_forward", x)
        y, mean, var = run(_data(x).reshape(shape3), groups, _flat(weight), _flat(bias), eps)
        ctx.save_for_backward(x, weight)
        ctx.moments, ctx.groups, ctx.eps, ctx.shape3 = (mean, var), groups, eps, shape3
        ctx.param_shapes = tuple(None if t is None else t.shape for t in (weight, bias))
        return _like(y.reshape(x.shape), x)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        shape3 = ctx.shape3
        # layer norm's parameters may have several dims
        shapes = (x.shape,) + ctx.param_shapes
        if ember.is_grad_enabled():
            w = None if weight is None else weight.reshape(-1)
            grads = _group_normalize_grad(grad.reshape(shape3), x.reshape(shape3), w,
                                          ctx.groups, ctx.eps)
            wrap = None
        else:
            mean, var = ctx.moments
            run = kernel_for("normalization.group_norm_backward", x)
            grads = run(_data(grad).reshape(shape3), _data(x).reshape(shape3), mean, var,
                        ctx.eps, ctx.groups, _flat(weight), ctx.needs_input_grad[0])
            wrap = x
        grads = [g.reshape(shape) if need else None
                 for g, shape, need in zip(grads, shapes, ctx.needs_input_grad)]
        if wrap is not None:
            grads = [None if g is None else _like(g, wrap) for g in grads]
        return (*grads, None, None, None)


class _LayerNormalize(_GroupNormalize):
    backward_name = "NativeLayerNormBackward0"


class _RMSNormalize(Function):
    """Each row of ``x`` viewed as ``(rows, K)`` (``shape2``) divided by its root mean
    square (with ``eps``), times ``weight`` viewed as ``(K,)``: one kernel call each
    way and one graph node (torch's graph ends in a multiplication, hence the name)."""

    backward_name = "MulBackward0"

    @staticmethod
    def forward(ctx, x, weight, eps, shape2):
        run = kernel_for("normalization.rms_norm_forward", x)
        y, ms = run(_data(x).reshape(shape2), _flat(weight), eps)
        ctx.save_for_backward(x, weight)
        ctx.ms, ctx.eps, ctx.shape2 = ms, eps, shape2
        return _like(y.reshape(x.shape), x)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w = ctx.needs_input_grad[:2]
        if ember.is_grad_enabled():
            w = None if weight is None else weight.reshape(-1)
            dx, dw = _rms_normalize_grad(grad.reshape(ctx.shape2), x.reshape(ctx.shape2), w, ctx.eps)
            dx = dx.reshape(x.shape) if need_x else None
            dw = dw.reshape(weight.shape) if need_w else None
        else:
            run = kernel_for("normalization.rms_norm_backward", x)
            dx, dw = run(_data(grad).reshape(ctx.shape2), _data(x).reshape(ctx.shape2), ctx.ms,
                         ctx.eps, _flat(weight), need_x)
            # the arrays reshaped, not the tensors: a tensor's view would keep the first
            # tensor, and the engine would copy a gradient it sees shared
            dx = _like(dx.reshape(x.shape), x) if need_x else None
            dw = _like(dw.reshape(weight.shape), x) if need_w else None
        return dx, dw, None, None


def _rms_normalize_grad(g, x, weight, eps):
    """The backward of :class:`_RMSNormalize` as differentiable tensor ops (for
    ``create_graph=True``), on the ``(rows, K)`` views."""
    inv = ((x * x).mean(1, keepdim=True) + eps).rsqrt()
    xhat = x * inv
    gw = g if weight is None else g * weight
    dx = inv * (gw - xhat * (gw * xhat).mean(1, keepdim=True))
    return dx, (g * xhat).sum(0)


def _flat(t):
    """``t``'s array for a kernel, one-dimensional (None stays None)."""
    a = _data(t)
    return None if a is None else a.reshape(-1)


def _group_normalize_grad(g, x, weight, groups, eps):
    """The backward of :class:`_GroupNormalize` as differentiable tensor ops (for
    ``create_graph=True``), on the ``(N, C, S)`` views."""
    n, c, s = x.shape
    x4 = x.reshape(n, groups, -1)
    xc = x4 - x4.mean(2, keepdim=True)
    inv = ((xc * xc).mean(2, keepdim=True) + eps).rsqrt()
    xhat = xc * inv
    gw = (g if weight is None else g * weight.view(1, -1, 1)).reshape(n, groups, -1)
    dx = inv * (gw - gw.mean(2, keepdim=True) - xhat * (gw * xhat).mean(2, keepdim=True))
    dw = (g * xhat.reshape(n, c, s)).sum((0, 2))
    return dx.reshape(n, c, s), dw, g.sum((0, 2))


def _normalize(x, shape3, weight, bias, eps, stats=None):
    """:class:`_Normalize` of ``x`` viewed as ``shape3``, in ``x``'s shape."""
    if x.numel() == 0:
        return _affine(x.reshape(shape3) * 1, weight, bias, (1, -1, 1)).view(x.shape)
    return _Normalize.apply(x, weight, bias, eps, stats, shape3)


def _affine(out, weight, bias, shape=None):
    """``out * weight + bias`` (each optional, viewed as ``shape``) with Tensor ops."""
    if weight is not None:
        out = out * (weight if shape is None else weight.view(shape))
    if bias is not None:
        out = out + (bias if shape is None else bias.view(shape))
    return out


def _update_running_stats(running_mean, running_var, mean, var, momentum, unbias):
    """``running = (1 - momentum) * running + momentum * stat`` in place for each
    buffer given (no history; the variance's statistic is ``var * unbias``), in one
    kernel (``normalization.running_stats_update``)."""
    buffers = [b for b in (running_mean, running_var) if b is not None]
    kernel_for("normalization.running_stats_update", buffers[0])(
        _buffer_data(running_mean), _buffer_data(running_var), mean, var, momentum, unbias)
    for b in buffers:
        b._bump_version()


def _buffer_data(t):
    """``t``'s array to update in place (None stays None)."""
    return None if t is None else data_of(t)


def _check_dtypes(fn, input, **tensors):
    """torch's CPU kernels refuse parameters of a dtype other than the input's, except
    float32 parameters with a float16 input (which is computed in float32)."""
    for name, t in tensors.items():
        if t is not None and t.dtype != input.dtype and not (
                input.dtype == ember.float16 and t.dtype == ember.float32):
            raise RuntimeError(f"{fn}: mixed dtypes: the input is {input.dtype} but {name} is {t.dtype}; "
                               "all must share one dtype")


def _check_hyper(fn, eps, momentum=None):
    """A NaN or infinite ``eps`` or ``momentum`` makes every statistic NaN; torch lets
    them through silently. (Negative values are torch's own test samples.)"""
    real(eps, fn, "eps")
    if momentum is not None:
        real(momentum, fn, "momentum")


def _check_vector(t, name, size):
    if t is not None and t.numel() != size:
        raise RuntimeError(f"{name} should contain {size} elements not {t.numel()}")


def _verify_batch_size(size):
    n = size[0]
    for s in size[2:]:
        n *= s
    if n == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")


def _channel_shape(input):
    return (1, input.shape[1]) + (1,) * (input.dim() - 2)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalization: normalize each channel (dim 1) over the batch and all
    other dims, then scale by ``weight`` and shift by ``bias``.

    In training mode the batch's own mean and biased variance are used, and the
    running buffers (when given) are updated in place:
    ``running = (1 - momentum) * running + momentum * batch_stat``, with the
    *unbiased* batch variance for ``running_var``. In evaluation mode the running
    buffers are used instead. See :class:`~ember.nn.BatchNorm1d`.

    Args:
        input: ``(N, C, *)``.
        running_mean, running_var: ``(C,)`` buffers or None (required when
            ``training=False``).
        weight, bias: ``(C,)`` affine parameters, or None.
        training: use batch statistics (and update the buffers). Default: ``False``.
        momentum: weight of the new statistics in the running update. Default: 0.1.
        eps: added to the variance before the square root. Default: 1e-5.

    Examples::

        >>> x = ember.randn(8, 3, 5)
        >>> rm, rv = ember.zeros(3), ember.ones(3)
        >>> F.batch_norm(x, rm, rv, training=True).shape
        ember.Size([8, 3, 5])
    """
    tensor_arg(input, "batch_norm", "input")
    tensor_arg(running_mean, "batch_norm", "running_mean", optional=True)
    tensor_arg(running_var, "batch_norm", "running_var", optional=True)
    tensor_arg(weight, "batch_norm", "weight", optional=True)
    tensor_arg(bias, "batch_norm", "bias", optional=True)
    if training:
        _verify_batch_size(input.size())
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    elif eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    if momentum is None:
        raise TypeError("batch_norm(): argument 'momentum' (position 7) must be float, not NoneType")
    _check_hyper("batch_norm", eps, momentum)
    if input.dim() < 2 and not (training and running_mean is None and input.numel()):
        c = 0  # torch sees no channel axis: only empty statistics fit
    else:
        c = input.size(1)
    for t, name in ((running_mean, "running_mean"), (running_var, "running_var"),
                    (weight, "weight"), (bias, "bias")):
        _check_vector(t, name, c)
    check_dtype(input, "batch_norm", FLOATING)
    _check_dtypes("batch_norm", input, running_mean=running_mean, running_var=running_var,
                  weight=weight, bias=bias)
    if c == 0:
        return input * 1
    if not training:
        if running_mean is None:
            raise RuntimeError("running_mean must be defined in evaluation mode")
        if running_var is None:
            raise RuntimeError("running_var must be defined in evaluation mode")
        shape = _channel_shape(input)
        scale = (running_var.to(input.dtype) + eps).rsqrt()
        if weight is not None:
            scale = scale * weight
        out = (input - running_mean.to(input.dtype).view(shape)) * scale.view(shape)
        return out if bias is None else out + bias.view(shape)
    if input.numel() == 0:  # an empty batch: nothing to normalize, statistics untouched
        return _affine(input * 1, weight, bias, _channel_shape(input))
    track = running_mean is not None or running_var is not None
    stats = [] if track else None
    out = _normalize(input, (input.shape[0], c, -1), weight, bias, eps, stats)
    if stats:
        mean, var = stats[0]
        n = input.numel() // c
        _update_running_stats(running_mean, running_var, mean, var, momentum, n / (n - 1))
    return out


def _verify_spatial_size(size):
    n = 1
    for s in size[2:]:
        n *= s
    if n == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {size}")


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Instance normalization: normalize each channel of each sample over its
    spatial dims, then apply the per-channel ``weight``/``bias``.

    With ``use_input_stats`` (default) the instance statistics are used, and the
    running buffers, when given, move towards their average over the batch
    (unbiased variance). Otherwise the running buffers normalize the input.
    See :class:`~ember.nn.InstanceNorm1d`.

    Args:
        input: ``(N, C, *)``.
        running_mean, running_var: ``(C,)`` buffers or None.
        weight, bias: ``(C,)`` or None.
        use_input_stats: normalize with the instance statistics. Default: ``True``.
        momentum: weight of the new statistics in the running update. Default: 0.1.
        eps: added to the variance. Default: 1e-5.

    Examples::

        >>> F.instance_norm(ember.randn(2, 3, 10)).shape
        ember.Size([2, 3, 10])
    """
    tensor_arg(input, "instance_norm", "input")
    tensor_arg(running_mean, "instance_norm", "running_mean", optional=True)
    tensor_arg(running_var, "instance_norm", "running_var", optional=True)
    tensor_arg(weight, "instance_norm", "weight", optional=True)
    tensor_arg(bias, "instance_norm", "bias", optional=True)
    _check_hyper("instance_norm", eps, momentum)
    if use_input_stats:
        _verify_spatial_size(input.size())
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError(
                "Expected running_mean and running_var to be defined when use_input_stats is false")
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    n, c = input.shape[0], input.size(1)
    for t, name in ((running_mean, "running_mean"), (running_var, "running_var"),
                    (weight, "weight"), (bias, "bias")):
        _check_vector(t, name, c)
    check_dtype(input, "batch_norm", FLOATING)
    _check_dtypes("instance_norm", input, weight=weight, bias=bias)
    if n == 0:   # no instance: nothing to normalize, the running statistics untouched
        return _affine(input * 1, weight, bias, _channel_shape(input))
    x3 = input.reshape(1, n * c, -1)
    w = None if weight is None else weight.repeat(n)
    b = None if bias is None else bias.repeat(n)
    track = running_mean is not None or running_var is not None
    stats = [] if track else None
    # torch's instance norm is a batch norm of this view, its result viewed back
    out = _normalize(x3, x3.shape, w, b, eps, stats).view(input.shape)
    if stats:
        mean, var = stats[0]
        l = x3.shape[2]
        _update_running_stats(running_mean, running_var, mean.reshape(n, c).mean(axis=0),
                              var.reshape(n, c).mean(axis=0), momentum, l / (l - 1) if l > 1 else math.nan)
    return out


def _fmt(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _normalized_shape(fn, input, normalized_shape, **params):
    """``normalized_shape`` (an int or a sequence of ints) as a tuple, after torch's
    checks that it is not empty and that the ``params`` (tensors or None) have that
    shape."""
    tensor_arg(input, fn, "input")
    for name, t in params.items():
        tensor_arg(t, fn, name, optional=True)
    if isinstance(normalized_shape, numbers.Integral):
        normalized_shape = (normalized_shape,)
    shape = tuple(integer(s, fn, "normalized_shape") for s in normalized_shape)
    if not shape:
        raise RuntimeError(
            "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one "
            f"element, but got normalized_shape = {_fmt(shape)}")
    for name, t in params.items():
        if t is not None and tuple(t.shape) != shape:
            raise RuntimeError(
                f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                f"{_fmt(t.shape)} and normalized_shape = {_fmt(shape)}")
    return shape


def _check_trailing(input, shape, star):
    """``input``'s shape ends with ``shape``; ``star`` follows the ``*`` in the
    message (torch's layer and RMS norm spell it differently)."""
    d = len(shape)
    if input.dim() < d or tuple(input.shape[input.dim() - d:]) != shape:
        raise RuntimeError(
            f"Given normalized_shape={_fmt(shape)}, expected input with shape [*{star}"
            f"{', '.join(str(s) for s in shape)}], but got input of size{_fmt(input.shape)}")


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalization: normalize over the last ``len(normalized_shape)`` dims
    of each sample, then apply the elementwise ``weight``/``bias`` of shape
    ``normalized_shape``. See :class:`~ember.nn.LayerNorm`.

    Args:
        input: ``(*, *normalized_shape)``.
        normalized_shape: int or sequence of ints, the trailing shape to normalize.
        weight, bias: tensors of shape ``normalized_shape``, or None.
        eps: added to the variance. Default: 1e-5.

    Examples::

        >>> F.layer_norm(ember.randn(4, 6, 5), (6, 5)).shape
        ember.Size([4, 6, 5])
    """
    shape = _normalized_shape("layer_norm", input, normalized_shape, weight=weight, bias=bias)
    _check_trailing(input, shape, ", ")
    k = math.prod(shape)
    check_dtype(input, "LayerNormKernelImpl", FLOATING)
    _check_hyper("layer_norm", eps)
    _check_dtypes("layer_norm", input, weight=weight, bias=bias)
    if input.numel() == 0:
        return _affine(input * 1, weight, bias)
    return _LayerNormalize.apply(input, weight, bias, 1, eps, (input.numel() // k, k, 1))


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """Root mean square normalization: divide each sample by the root mean square of
    its last ``len(normalized_shape)`` dims (``sqrt(mean(x**2) + eps)``; no mean is
    subtracted), then multiply by the elementwise ``weight`` of shape
    ``normalized_shape``. See :class:`~ember.nn.RMSNorm`.

    Args:
        input: ``(*, *normalized_shape)``, floating point; the result has its dtype.
        normalized_shape: sequence of ints (or an int), the trailing shape to normalize.
        weight: tensor of shape ``normalized_shape``, or None.
        eps: added to the mean square. Default: None, the machine epsilon of the
            computation: ``finfo(input.dtype).eps`` (float32's for float16 input).

    Examples::

        >>> F.rms_norm(ember.randn(4, 6, 5), (6, 5)).shape
        ember.Size([4, 6, 5])
    """
    shape = _normalized_shape("rms_norm", input, normalized_shape, weight=weight)
    if input.dim() < len(shape):
        raise ValueError(f"Input tensor must have at least {len(shape)} dimensions, but got {input.dim()}")
    _check_trailing(input, shape, "")
    check_dtype(input, "rms_norm", FLOATING)
    if eps is None:
        eps = ember.finfo(ember.float32 if input.dtype == ember.float16 else input.dtype).eps
    _check_hyper("rms_norm", eps)
    if weight is not None and weight.dtype != input.dtype:   # torch: the input's dtype wins
        weight = weight.to(input.dtype)
    if input.numel() == 0:
        return _affine(input * 1, weight, None)
    k = math.prod(shape)
    return _RMSNormalize.apply(input, weight, eps, (input.numel() // k, k))


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalization: split the channels into ``num_groups`` groups and
    normalize each group of each sample over its channels and spatial dims, then
    apply the per-channel ``weight``/``bias``. See :class:`~ember.nn.GroupNorm`.

    Args:
        input: ``(N, C, *)`` with ``C`` divisible by ``num_groups``.
        num_groups: number of groups.
        weight, bias: ``(C,)`` or None.
        eps: added to the variance. Default: 1e-5.

    Examples::

        >>> F.group_norm(ember.randn(2, 6, 4), 3).shape
        ember.Size([2, 6, 4])
    """
    tensor_arg(input, "group_norm", "input")
    tensor_arg(weight, "group_norm", "weight", optional=True)
    tensor_arg(bias, "group_norm", "bias", optional=True)
    if input.dim() < 2:
        raise RuntimeError(
            f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    n, c = input.shape[0], input.shape[1]
    # torch's order: the batch-size check (which divides by num_groups) comes first
    _verify_batch_size([n * c // num_groups, num_groups] + list(input.shape[2:]))
    if num_groups < 0:
        raise RuntimeError(f"Expected num groups to be greater than 0, got {num_groups}")
    if c % num_groups:
        raise RuntimeError(
            "Expected number of channels in input to be divisible by num_groups, but got input of "
            f"shape {_fmt(input.shape)} and num_groups={num_groups}")
    for t, name in ((weight, "weight"), (bias, "bias")):
        if t is not None and (t.dim() != 1 or t.numel() != c):
            raise RuntimeError(
                f"Expected {name} to be a vector of size equal to the number of channels in input, "
                f"but got {name} of shape {_fmt(t.shape)} and input of shape {_fmt(input.shape)}")
    check_dtype(input, "GroupNormKernelImpl", FLOATING)
    _check_hyper("group_norm", eps)
    _check_dtypes("group_norm", input, weight=weight, bias=bias)
    if input.numel() == 0:
        return _affine(input * 1, weight, bias, _channel_shape(input))
    return _GroupNormalize.apply(input, weight, bias, num_groups, eps, (n, c, input.numel() // (n * c)))


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Local response normalization across channels: each element is divided by
    ``(k + alpha * mean of x^2 over a window of `size` neighbouring channels) ** beta``
    (the window is zero-padded at the ends, ``size // 2`` channels before and
    ``(size - 1) // 2`` after). See :class:`~ember.nn.LocalResponseNorm`.

    Args:
        input: ``(N, C, *)`` with at least 3 dims.
        size: number of channels in the window.
        alpha: multiplicative factor. Default: 1e-4.
        beta: exponent. Default: 0.75.
        k: additive factor. Default: 1.

    Examples::

        >>> F.local_response_norm(ember.randn(2, 8, 4, 4), 3).shape
        ember.Size([2, 8, 4, 4])
    """
    tensor_arg(input, "local_response_norm", "input")
    dim = input.dim()
    if dim < 3:
        raise ValueError(
            f"Expected 3D or higher dimensionality                          input (got {dim} dimensions)")
    if size <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {size} kW: 1")
    for name, value in (("alpha", alpha), ("beta", beta), ("k", k)):
        real(value, "local_response_norm", name)
    check_dtype(input, "avg_pool3d_out_frame", ("float32", "float64", "int64"))  # torch sums by pooling
    if input.numel() == 0:
        return input
    n, c = input.shape[0], input.shape[1]
    sq = (input * input).reshape(n, c, -1)
    before, after = size // 2, (size - 1) // 2
    parts = [sq]
    if before:
        parts.insert(0, sq.new_zeros((n, before, sq.shape[2])))
    if after:
        parts.append(sq.new_zeros((n, after, sq.shape[2])))
    padded = ember.cat(parts, 1) if len(parts) > 1 else sq
    acc = padded[:, 0:c]
    for j in range(1, size):
        acc = acc + padded[:, j:j + c]
    if input.is_floating_point():
        div = (acc * (alpha / size) + k) ** beta
    else:  # torch averages integer windows with integer division
        div = (acc.div(size, rounding_mode="floor") * alpha + k) ** beta
    return input / div.view(input.shape)
