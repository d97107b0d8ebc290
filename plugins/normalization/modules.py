"""Normalization modules: BatchNorm1d/2d/3d, InstanceNorm1d/2d/3d, LayerNorm,
GroupNorm, LocalResponseNorm, RMSNorm."""

import numbers
import warnings

import ember
from ember.nn import Module, Parameter, init

from . import functional as F
from .._checks import integer, real, tensor_arg

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d",
           "InstanceNorm3d", "LayerNorm", "GroupNorm", "LocalResponseNorm", "RMSNorm"]


def _affine_parameters(module, shape, affine, bias, device, dtype):
    """Give ``module`` a learnable ``weight`` and ``bias`` of ``shape`` when
    ``affine`` (no bias when ``bias`` is False), else None for both."""
    make = lambda: Parameter(ember.empty(shape, device=device, dtype=dtype))  # noqa: E731
    module.register_parameter("weight", make() if affine else None)
    module.register_parameter("bias", make() if affine and bias else None)


def _check_hyper(owner, eps, momentum=None):
    """``eps`` and ``momentum`` (None for a cumulative average) finite numbers: torch
    takes NaN silently and the statistics turn into NaN. Their sign is checked where
    torch checks it, at the forward (torch's own tests build such modules)."""
    real(eps, owner, "eps")
    if momentum is not None:
        real(momentum, owner, "momentum")


def _reset_affine(module):
    """Weight to ones and bias to zeros, those that exist."""
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class _NormBase(Module):
    """Parameters and running buffers shared by batch and instance norm."""

    # version 2 added the num_batches_tracked buffer
    _version = 2

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        super().__init__()
        integer(num_features, type(self).__name__, "num_features")
        _check_hyper(type(self).__name__, eps, momentum)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        _affine_parameters(self, num_features, affine, bias, device, dtype)
        if track_running_stats:
            self.register_buffer("running_mean", ember.zeros(num_features, device=device, dtype=dtype))
            self.register_buffer("running_var", ember.ones(num_features, device=device, dtype=dtype))
            self.register_buffer("num_batches_tracked", ember.tensor(0, dtype=ember.long, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        """Running mean to 0, running variance to 1, batch count to 0 (when tracked)."""
        if self.track_running_stats:
            with ember.no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self):
        """Reset the running statistics; weight to ones and bias to zeros."""
        self.reset_running_stats()
        _reset_affine(self)

    def _check_input_dim(self, input):
        raise NotImplementedError

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        version = local_metadata.get("version", None)
        if (version is None or version < 2) and self.track_running_stats:
            # checkpoints from before num_batches_tracked existed: start the count at 0
            key = prefix + "num_batches_tracked"
            if key not in state_dict:
                state_dict[key] = (self.num_batches_tracked if self.num_batches_tracked is not None
                                   else ember.tensor(0, dtype=ember.long))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)


class _BatchNorm(_NormBase):
    def _running_factor(self):
        """The weight of this batch's statistics in the running ones (counting the
        batch first when training with tracked statistics)."""
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            with ember.no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.item())
        return factor

    def forward(self, input):
        tensor_arg(input, type(self).__name__)
        self._check_input_dim(input)
        factor = self._running_factor()
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        keep = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if keep else None,
                            self.running_var if keep else None, self.weight, self.bias,
                            use_batch, factor, self.eps)


_BN_DOC = """Batch normalization over a {what} input: each channel is normalized
    with the mean and (biased) variance of the mini-batch over {over}, then
    scaled by ``weight`` and shifted by ``bias`` (learnable, ones and zeros at start).

    During training the running mean and running variance (unbiased) are updated
    as ``running = (1 - momentum) * running + momentum * batch_stat``
    (``momentum=None``: a cumulative average over ``num_batches_tracked``
    batches); in eval mode they normalize the input. With
    ``track_running_stats=False`` no buffers are kept and the batch statistics
    are always used.

    Args:
        num_features: ``C``, the number of channels.
        eps: added to the variance for numerical stability. Default: 1e-5.
        momentum: weight of the new statistics, or None for a cumulative
            average. Default: 0.1.
        affine: learn ``weight`` and ``bias``. Default: ``True``.
        track_running_stats: keep running statistics. Default: ``True``.

    Shape:
        - Input: {shape}. Output: same shape.

    Examples::

        >>> m = nn.{name}(4)
        >>> m(ember.randn({example})).shape
        ember.Size([{example}])
    """


class BatchNorm1d(_BatchNorm):
    __doc__ = _BN_DOC.format(what="2D or 3D", over="``N`` (and ``L``)", shape="``(N, C)`` or ``(N, C, L)``",
                             name="BatchNorm1d", example="8, 4, 5")

    def _check_input_dim(self, input):
        if input.dim() != 2 and input.dim() != 3:
            raise ValueError(f"expected 2D or 3D input (got {input.dim()}D input)")


class BatchNorm2d(_BatchNorm):
    __doc__ = _BN_DOC.format(what="4D", over="``N, H, W``", shape="``(N, C, H, W)``",
                             name="BatchNorm2d", example="8, 4, 5, 5")

    def _check_input_dim(self, input):
        if input.dim() != 4:
            raise ValueError(f"expected 4D input (got {input.dim()}D input)")


class BatchNorm3d(_BatchNorm):
    __doc__ = _BN_DOC.format(what="5D", over="``N, D, H, W``", shape="``(N, C, D, H, W)``",
                             name="BatchNorm3d", example="8, 4, 3, 5, 5")

    def _check_input_dim(self, input):
        if input.dim() != 5:
            raise ValueError(f"expected 5D input (got {input.dim()}D input)")


class _InstanceNorm(_NormBase):
    _spatial = 1

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False,
                 device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype,
                         bias=bias)

    def _check_input_dim(self, input):
        d = self._spatial
        if input.dim() not in (d + 1, d + 2):
            raise ValueError(f"expected {d + 1}D or {d + 2}D input (got {input.dim()}D input)")

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        version = local_metadata.get("version", None)
        if version is None and not self.track_running_stats:
            # pre-0.4 checkpoints carried running stats that the module no longer keeps
            keys = [prefix + n for n in ("running_mean", "running_var") if prefix + n in state_dict]
            if keys:
                name = type(self).__name__
                error_msgs.append(
                    "Unexpected running stats buffer(s) {} for {} with track_running_stats=False. "
                    "If state_dict is a checkpoint saved before 0.4.0, this may be expected because "
                    "{} does not track running stats by default since 0.4.0. Please remove these "
                    "keys from state_dict. If the running stats are actually needed, instead set "
                    "track_running_stats=True in {} to enable them. See the documentation of {} "
                    "for details.".format(" and ".join(f'"{k}"' for k in keys), name, name, name, name))
                for k in keys:
                    state_dict.pop(k)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)

    def _apply_instance_norm(self, input):
        return F.instance_norm(input, self.running_mean, self.running_var, self.weight, self.bias,
                               self.training or not self.track_running_stats,
                               self.momentum if self.momentum is not None else 0.0, self.eps)

    def forward(self, input):
        tensor_arg(input, type(self).__name__)
        self._check_input_dim(input)
        no_batch = self._spatial + 1
        feature_dim = input.dim() - no_batch
        if input.size(feature_dim) != self.num_features:
            if self.affine:
                raise ValueError(
                    f"expected input's size at dim={feature_dim} to match num_features "
                    f"({self.num_features}), but got: {input.size(feature_dim)}.")
            warnings.warn(
                f"input's size at dim={feature_dim} does not match num_features. You can silence "
                "this warning by not passing in num_features, which is not used because affine=False",
                stacklevel=2)
        if input.dim() == no_batch:
            return self._apply_instance_norm(input.unsqueeze(0)).squeeze(0)
        return self._apply_instance_norm(input)


_IN_DOC = """Instance normalization over a {what} input: each channel of each
    sample is normalized with its own mean and (biased) variance over {over}.

    ``affine=True`` adds a learnable per-channel ``weight`` and ``bias``.
    ``track_running_stats=True`` keeps running averages (updated in training as
    batch norm does, from the average of the instance statistics) and uses them
    in eval mode. An input without the batch dim is treated as a batch of one.

    Args:
        num_features: ``C``, the number of channels.
        eps: added to the variance. Default: 1e-5.
        momentum: weight of the new statistics in the running update. Default: 0.1.
        affine: learn ``weight`` and ``bias``. Default: ``False``.
        track_running_stats: keep running statistics. Default: ``False``.

    Shape:
        - Input: {shape}. Output: same shape.

    Examples::

        >>> m = nn.{name}(4)
        >>> m(ember.randn({example})).shape
        ember.Size([{example}])
    """


class InstanceNorm1d(_InstanceNorm):
    __doc__ = _IN_DOC.format(what="2D or 3D", over="``L``", shape="``(N, C, L)`` or ``(C, L)``",
                             name="InstanceNorm1d", example="8, 4, 5")
    _spatial = 1


class InstanceNorm2d(_InstanceNorm):
    __doc__ = _IN_DOC.format(what="3D or 4D", over="``H, W``",
                             shape="``(N, C, H, W)`` or ``(C, H, W)``", name="InstanceNorm2d",
                             example="8, 4, 5, 5")
    _spatial = 2


class InstanceNorm3d(_InstanceNorm):
    __doc__ = _IN_DOC.format(what="4D or 5D", over="``D, H, W``",
                             shape="``(N, C, D, H, W)`` or ``(C, D, H, W)``", name="InstanceNorm3d",
                             example="2, 4, 3, 5, 5")
    _spatial = 3


def _normalized_shape(normalized_shape, cls_name):
    """``normalized_shape`` (an int or a sequence of ints) as a tuple of ints."""
    if isinstance(normalized_shape, numbers.Integral):
        normalized_shape = (normalized_shape,)
    if not isinstance(normalized_shape, (tuple, list, ember.Size)):
        raise TypeError(f"{cls_name}: normalized_shape must be an int or a sequence of ints, but got "
                        f"{normalized_shape!r} ({type(normalized_shape).__name__})")
    return tuple(integer(s, cls_name, "normalized_shape") for s in normalized_shape)


class LayerNorm(Module):
    """Layer normalization: normalize each sample over its last dims (the
    ``normalized_shape``) with their mean and (biased) variance, then apply an
    elementwise ``weight`` and ``bias`` of shape ``normalized_shape``.

    Args:
        normalized_shape: int or sequence of ints, the trailing shape of the input.
        eps: added to the variance. Default: 1e-5.
        elementwise_affine: learn ``weight`` (ones at start) and ``bias`` (zeros).
            Default: ``True``.
        bias: with ``elementwise_affine``, also learn ``bias``. Default: ``True``.

    Shape:
        - Input: ``(*, *normalized_shape)``. Output: same shape.

    Examples::

        >>> m = nn.LayerNorm((5, 6))
        >>> m(ember.randn(3, 5, 6)).shape
        ember.Size([3, 5, 6])
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None,
                 dtype=None):
        super().__init__()
        self.normalized_shape = _normalized_shape(normalized_shape, "LayerNorm")
        _check_hyper("LayerNorm", eps)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _affine_parameters(self, self.normalized_shape, elementwise_affine, bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        """Weight to ones, bias to zeros."""
        _reset_affine(self)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class RMSNorm(Module):
    """Root mean square layer normalization: divide each sample by the root mean
    square of its last dims (the ``normalized_shape``), ``sqrt(mean(x**2) + eps)``,
    without subtracting a mean, then multiply by an elementwise ``weight``.

    Args:
        normalized_shape: int or sequence of ints, the trailing shape of the input.
        eps: added to the mean square. Default: None, the machine epsilon of the
            computation (``finfo(input.dtype).eps``; float32's for float16 input).
        elementwise_affine: learn ``weight`` (ones at start). Default: ``True``.

    Shape:
        - Input: ``(*, *normalized_shape)``. Output: same shape.

    Examples::

        >>> m = nn.RMSNorm([5, 6])
        >>> m(ember.randn(3, 5, 6)).shape
        ember.Size([3, 5, 6])
    """

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _normalized_shape(normalized_shape, "RMSNorm")
        if eps is not None:
            _check_hyper("RMSNorm", eps)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _affine_parameters(self, self.normalized_shape, elementwise_affine, False, device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        """Weight to ones."""
        _reset_affine(self)

    def forward(self, input):
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class GroupNorm(Module):
    """Group normalization: the channels are split into ``num_groups`` groups and
    each group of each sample is normalized over its channels and spatial dims,
    then a per-channel ``weight`` and ``bias`` are applied.

    Args:
        num_groups: number of groups; must divide ``num_channels``.
        num_channels: ``C``.
        eps: added to the variance. Default: 1e-5.
        affine: learn ``weight`` (ones) and ``bias`` (zeros). Default: ``True``.

    Shape:
        - Input: ``(N, C, *)``. Output: same shape.

    Examples::

        >>> m = nn.GroupNorm(2, 6)
        >>> m(ember.randn(4, 6, 5)).shape
        ember.Size([4, 6, 5])
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None, *,
                 bias=True):
        super().__init__()
        integer(num_groups, "GroupNorm", "num_groups")
        integer(num_channels, "GroupNorm", "num_channels")
        if num_groups == 0:   # torch fails here dividing by zero: the same exception, said plainly
            raise ZeroDivisionError("GroupNorm: num_groups must be positive, but got 0")
        _check_hyper("GroupNorm", eps)
        if num_channels % num_groups != 0:
            raise ValueError(
                f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        _affine_parameters(self, num_channels, affine, bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        """Weight to ones, bias to zeros."""
        _reset_affine(self)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class LocalResponseNorm(Module):
    """Local response normalization across channels:
    ``b_c = a_c / (k + alpha / size * sum over the `size` channels around c of a^2) ** beta``.

    Args:
        size: number of neighbouring channels in the sum.
        alpha: multiplicative factor. Default: 1e-4.
        beta: exponent. Default: 0.75.
        k: additive factor. Default: 1.

    Shape:
        - Input: ``(N, C, *)`` (at least 3 dims). Output: same shape.

    Examples::

        >>> m = nn.LocalResponseNorm(2)
        >>> m(ember.randn(2, 8, 5, 5)).shape
        ember.Size([2, 8, 5, 5])
    """

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
