"""The gradient buckets of DistributedDataParallel: parameters grouped into flat buffers
that are averaged across ranks by one all-reduce each, started during backward as soon as
every gradient of the bucket is ready."""

import ember
from ember import distributed as dist

from .coalesced import flat_groups

_MB = 1024 * 1024

#: The first bucket's size with the default cap, as torch: a small first all-reduce
#: starts communication early in backward.
FIRST_BUCKET_BYTES = 1 * _MB

#: ``bucket_cap_mb``'s default.
DEFAULT_BUCKET_CAP_MB = 25


def bucket_layout(params, cap_bytes, first_cap_bytes):
    """Lists of parameters, each list one bucket: ``params`` in reverse order (the order
    their gradients usually become ready in backward), split by dtype and device, a
    bucket closed once it holds ``cap_bytes`` (``first_cap_bytes`` for the first)."""
    buckets = []
    for same_kind in flat_groups(list(reversed(params))):
        current, size = [], 0
        for p in same_kind:
            limit = first_cap_bytes if not buckets else cap_bytes
            current.append(p)
            size += p.numel() * p.element_size()
            if size >= limit:
                buckets.append(current)
                current, size = [], 0
        if current:
            buckets.append(current)
    return buckets


class Bucket:
    """One flat buffer for the gradients of ``params`` and the all-reduce that averages it."""

    def __init__(self, params):
        self.params = params
        self.offsets = []
        start = 0
        for p in params:
            self.offsets.append((start, start + p.numel()))
            start += p.numel()
        first = params[0]
        self.buffer = ember.zeros(start, dtype=first.dtype, device=first.device)
        self.work = None

    def view(self, index):
        """The piece of the buffer that holds parameter ``index``'s gradient."""
        start, end = self.offsets[index]
        return self.buffer[start:end].view_as(self.params[index])

    def start(self, group, world_size, as_view):
        """Copy the gradients in (zeros for a parameter without one), divide by the world
        size and start the all-reduce."""
        with ember.no_grad():
            for i, p in enumerate(self.params):
                piece = self.view(i)
                if p.grad is None:
                    piece.zero_()
                elif not (as_view and p.grad.data_ptr() == piece.data_ptr()):
                    piece.copy_(p.grad)
            self.buffer.div_(world_size)
        self.work = dist.all_reduce(self.buffer, group=group, async_op=True)

    def abandon(self):
        """Complete an all-reduce whose backward pass never came, and drop its result."""
        if self.work is not None:
            self.work.wait()
            self.work = None

    def finish(self, globally_used, as_view):
        """Wait for the all-reduce and give each parameter that some rank used its
        averaged gradient (as a view of the buffer when ``as_view``)."""
        self.work.wait()
        self.work = None
        with ember.no_grad():
            for i, p in enumerate(self.params):
                if not globally_used(p):
                    continue
                piece = self.view(i)
                if as_view:
                    p.grad = piece
                elif p.grad is None:
                    p.grad = piece.clone()
                else:
                    p.grad.copy_(piece)
