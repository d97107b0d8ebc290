"""Collectives over many tensors at once: one flat buffer per dtype and device, so that
a model's state crosses the network in a few large messages rather than one per tensor."""

import itertools

import ember
from ember import distributed as dist


def flat_groups(tensors):
    """``tensors`` split into lists sharing one dtype and device, in their first order."""
    key = lambda t: (t.dtype, t.device)  # noqa: E731
    groups = {}
    for t in tensors:
        groups.setdefault(key(t), []).append(t)
    return list(groups.values())


def flatten(tensors):
    """One contiguous 1-D tensor holding ``tensors`` end to end."""
    return ember.cat([t.detach().reshape(-1) for t in tensors])


def unflatten_into(flat, tensors):
    """Copy the consecutive pieces of ``flat`` back into ``tensors`` (in place)."""
    ends = itertools.accumulate(t.numel() for t in tensors)
    start = 0
    with ember.no_grad():
        for t, end in zip(tensors, ends):
            t.copy_(flat[start:end].view_as(t))
            start = end


def broadcast_coalesced(tensors, src, group=None):
    """Overwrite ``tensors`` on every rank of ``group`` with rank ``src``'s values."""
    for same_kind in flat_groups([t for t in tensors if t.numel()]):
        flat = flatten(same_kind)
        dist.broadcast(flat, src, group=group)
        unflatten_into(flat, same_kind)
