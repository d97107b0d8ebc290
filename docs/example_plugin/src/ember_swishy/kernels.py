"""The family's kernels: the generic kernel of its own op, and its kernel table.

A generic kernel is a factory: it takes a backend's array namespace ``xp``
(``numpy``, ``cupy``) and returns the function that works on that backend's
arrays, so one entry serves every backend.
"""

from ember import kernels

from .instrument import counted_cpu_kernel

__all__ = ["GENERIC_KERNELS", "table"]


def _beta_swish(xp):
    def beta_swish(x, beta):
        """``x * sigmoid(beta * x)``; ``exp`` only ever sees ``-|beta * x|``, so
        nothing overflows."""
        z = beta * x
        e = xp.exp(-xp.abs(z))
        sigmoid = xp.where(z >= 0, 1 / (1 + e), e / (1 + e))
        # a float64 beta must not widen a float32 input: torch keeps the input's dtype
        return (x * sigmoid).astype(x.dtype, copy=False)

    return beta_swish


#: op -> factory of ``xp``; op names carry the family's prefix.
GENERIC_KERNELS = {"swishy.beta_swish": _beta_swish}


def table():
    """``(op, backend) -> kernel`` for ``ember_register_kernels``: the generic
    kernels, and the counting replacement of the cpu backend's ``tanh_backward``."""
    return kernels.table(GENERIC_KERNELS, cpu={"tanh_backward": counted_cpu_kernel("tanh_backward")})
