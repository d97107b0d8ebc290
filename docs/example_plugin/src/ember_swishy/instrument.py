"""A profiling kernel: the cpu backend's own kernel for an op, counting its calls.

This is how a plugin replaces a kernel that another plugin registered: it
returns ``ember.kernels.kernel(fn, override=True)`` for the same ``(op,
backend)`` key (without ``override=True`` the clash would refuse this plugin).
The replacement calls the very function it replaces and keeps its ``accepts``,
so every result is bit-for-bit what it was; only ``CALLS`` learns more.
"""

import functools
from collections import Counter

from ember import kernels

__all__ = ["CALLS", "counted_cpu_kernel"]

#: op name -> how many times the counted kernel ran (``CALLS["tanh_backward"]``).
CALLS = Counter()


def _cpu_kernel(op):
    """The kernel that the cpu backend's plugin registers for ``op``, as a ``Kernel``."""
    from ember.backends import cpu

    entry = cpu.ember_register_kernels()[(op, "cpu")]
    return entry if isinstance(entry, kernels.Kernel) else kernels.Kernel(entry)


def counted_cpu_kernel(op):
    """An explicit override of ``(op, "cpu")`` that counts its calls in ``CALLS``
    and otherwise is the cpu backend's own kernel (same function, same ``accepts``)."""
    original = _cpu_kernel(op)

    @functools.wraps(original.fn)
    def counted(*args, **kwargs):
        CALLS[op] += 1
        return original.fn(*args, **kwargs)

    return kernels.kernel(counted, accepts=original.accepts, override=True)
