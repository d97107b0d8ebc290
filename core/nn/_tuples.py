"""Hyper-parameters given as one number or one per spatial dimension.

``Conv2d(kernel_size=3)`` means ``(3, 3)``; these helpers turn either form into
a tuple of the dimension count, as every spatial family needs.
"""

import collections.abc
from itertools import repeat

__all__ = ["ntuple", "single", "pair", "triple", "reverse_repeat_tuple"]


def ntuple(n, name="parse"):
    """A function turning a scalar into an ``n``-tuple; iterables pass as tuples."""

    def parse(x):
        if isinstance(x, collections.abc.Iterable) and not isinstance(x, str):
            return tuple(x)
        return tuple(repeat(x, n))

    parse.__name__ = name
    return parse


single = ntuple(1, "single")
pair = ntuple(2, "pair")
triple = ntuple(3, "triple")


def reverse_repeat_tuple(t, n):
    """Each item of ``t``, last first, repeated ``n`` times: ``((1, 2), 2) -> (2, 2, 1, 1)``,
    the order ``F.pad`` takes per-dimension paddings in."""
    return tuple(x for x in reversed(t) for _ in range(n))
