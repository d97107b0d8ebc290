"""The attention family's kernels: fused (flash-style) attention of batches of
problems, or None where the backend declines them (the caller then takes the math
path of ``scaled_dot_product_attention``).

* ``attention.flash_forward(q, k, v, scale, causal, keep) -> (out, lse, probs)``:
  ``q (*, L, E)``, ``k (*, S, E)``, ``v (*, S, Ev)`` (one or two leading dims, ``B``
  problems); ``out (*, L, Ev)``, the log-sum-exp of each row's scaled scores
  ``lse (B, L)``, and ``probs``, what else a backward needs when ``keep`` says one
  will follow (the attention weights of short key sequences, or None).
* ``attention.flash_backward(dout, q, k, v, out, lse, probs, scale, causal) -> (dq, dk, dv)``.

Rows of ``q``, ``k``, ``v`` and ``dout`` must be contiguous but may lie any distance
apart (heads split off a wider row by ``transpose``).

The generic kernels decline everything; the CPU has ``_flash.pyx`` when it is built,
for float32 and float64. It is imported on the first call, not when the table is
made: it cimports SciPy's BLAS (``scipy.linalg.cython_blas``, so building and running
it needs SciPy), whose import costs more than ``import ember`` may.
"""

import importlib
import importlib.util

from ember import kernels

_OPS = {"attention.flash_forward": "forward", "attention.flash_backward": "backward"}


def _declines(xp):
    return lambda *args: None


GENERIC_KERNELS = dict.fromkeys(_OPS, _declines)


def _first_is_floating(*args):
    """The Cython loops take float32/float64 (the first argument has the dtype)."""
    return kernels.floating(args[0])


def _on_first_call(name):
    """``_flash.<name>``, importing ``_flash`` when first called; it declines (None)
    where the module is built but does not load (SciPy, whose BLAS it calls, missing)."""
    def run(*args):
        try:
            module = importlib.import_module(f"{__package__}._flash")
        except ImportError:
            return None
        return getattr(module, name)(*args)

    run.__name__ = f"flash_{name}"
    return run


def table():
    """``(op, backend) -> kernel`` for ``ember_register_kernels``."""
    if importlib.util.find_spec(f"{__package__}._flash") is None:  # not built
        return kernels.table(GENERIC_KERNELS)
    return kernels.table(GENERIC_KERNELS, cpu={
        op: kernels.kernel(_on_first_call(name), accepts=_first_is_floating) for op, name in _OPS.items()})
