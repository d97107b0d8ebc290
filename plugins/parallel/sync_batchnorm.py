"""``SyncBatchNorm``: batch normalization whose statistics are those of the whole batch
across the ranks of a distributed job, so that training on N ranks with N shares of a
batch normalizes exactly as one process on the whole batch would."""

import ember
from ember import distributed as dist
from ember.autograd import Function
from ember.plugins.normalization.modules import _BatchNorm

from .coalesced import flatten


def _channel_sums(*tensors):
    """Per-channel sums of ``(N, C, L)`` tensors, over N and L."""
    return [t.sum((0, 2)) for t in tensors]


def _all_reduced(pieces, group):
    """The sums across ranks of same-length 1-D tensors, in one all-reduce."""
    flat = flatten(pieces)
    dist.all_reduce(flat, group=group)
    return flat.split([p.numel() for p in pieces])


class _SyncNormalize(Function):
    """``(x - mean) / sqrt(var + eps) * weight + bias`` on ``x`` of shape ``(N, C, L)``,
    the mean and (biased) variance of each channel taken over every rank's batch;
    ``stats`` receives ``(mean, var, count)`` for the running-statistics update."""

    @staticmethod
    def forward(ctx, x, weight, bias, eps, group, stats):
        count = ember.tensor([float(x.shape[0] * x.shape[2])], dtype=x.dtype, device=x.device)
        total, count = _all_reduced(_channel_sums(x) + [count], group)
        count = count.item()
        if count <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {list(x.shape)}")
        mean = total / count
        centred = x - mean.view(1, -1, 1)
        (squares,) = _all_reduced(_channel_sums(centred * centred), group)
        var = squares / count
        inv_std = (var + eps).rsqrt()
        normalized = centred * inv_std.view(1, -1, 1)
        ctx.save_for_backward(normalized, inv_std, weight)
        ctx.count, ctx.group = count, group
        stats.append((mean, var, count))
        y = normalized if weight is None else normalized * weight.view(1, -1, 1)
        return y if bias is None else y + bias.view(1, -1, 1)

    @staticmethod
    def backward(ctx, grad):
        normalized, inv_std, weight = ctx.saved_tensors
        sum_grad, sum_grad_normalized = _channel_sums(grad, grad * normalized)
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        dx = None
        if need_x:
            total_grad, total_grad_normalized = _all_reduced([sum_grad, sum_grad_normalized], ctx.group)
            scale = inv_std if weight is None else inv_std * weight
            dx = scale.view(1, -1, 1) * (grad - (total_grad / ctx.count).view(1, -1, 1)
                                         - normalized * (total_grad_normalized / ctx.count).view(1, -1, 1))
        return (dx, sum_grad_normalized if need_w else None, sum_grad if need_b else None, None, None, None)


class SyncBatchNorm(_BatchNorm):
    """Batch normalization over an ``(N, C, *)`` input whose training statistics are
    computed over the batches of all ranks of ``process_group`` (default: the whole
    job), as if one process held the whole batch. Outside a distributed job (or in a
    group of one, or in eval mode) it is an ordinary ``BatchNorm``.

    Args: those of :class:`~ember.nn.BatchNorm1d`, and ``process_group``.

    Use :meth:`convert_sync_batchnorm` to turn a model's BatchNorm layers into this one
    before wrapping it in ``DistributedDataParallel``.

    Example:
        >>> m = nn.SyncBatchNorm(4)
        >>> m(ember.randn(8, 4, 3)).shape
        ember.Size([8, 4, 3])
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 process_group=None, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, input):
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def _group(self):
        """The group to synchronize over, or None where there is nothing to synchronize."""
        if not (self.training and dist.is_initialized()):
            return None
        group = dist.group.WORLD if self.process_group is None else self.process_group
        return group if dist.get_world_size(group) > 1 else None

    def forward(self, input):
        self._check_input_dim(input)
        if input.shape[1] == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")
        group = self._group()
        if group is None:
            return super().forward(input)
        factor = self._running_factor()
        stats = []
        flat = input.reshape(input.shape[0], input.shape[1], -1)
        out = _SyncNormalize.apply(flat, self.weight, self.bias, self.eps, group, stats)
        if self.track_running_stats:
            mean, var, count = stats[0]
            with ember.no_grad():
                self.running_mean.mul_(1 - factor).add_(mean.to(self.running_mean.dtype) * factor)
                unbiased = var * (count / (count - 1))
                self.running_var.mul_(1 - factor).add_(unbiased.to(self.running_var.dtype) * factor)
        return out.reshape(input.shape)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every ``BatchNorm*d`` in it replaced by a ``SyncBatchNorm``
        holding the same parameters and buffers (``module`` itself if it is one)."""
        converted = module
        if isinstance(module, _BatchNorm) and not isinstance(module, cls):
            converted = cls(module.num_features, module.eps, module.momentum, module.affine,
                            module.track_running_stats, process_group, bias=module.bias is not None)
            if module.affine:
                with ember.no_grad():
                    converted.weight = module.weight
                    converted.bias = module.bias
            converted.running_mean = module.running_mean
            converted.running_var = module.running_var
            converted.num_batches_tracked = module.num_batches_tracked
            converted.training = module.training
        for name, child in module.named_children():
            converted.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return converted
