"""The activation family's kernels: for every formula of ``formulas.py``, the generic
(array-namespace) forward and backward, the CuPy pair of ``cuda.py``, and the
family's kernel table.

* ``activation.<name>(x, *params) -> y``
* ``activation.<name>_backward(g, x, *params) -> dx``, the gradient of the sum of
  ``g * y`` with respect to ``x``.

The generic kernels evaluate the formula step by step on the arrays. Their
functions (``exp``, ``erf``, ``sigmoid``...) are the core ops' kernels of the
backend that owns the namespace, so the cpu backend computes with its compiled
sigmoid and erf, the same numbers ``ember.sigmoid`` and ``ember.erf`` give.
"""

from types import SimpleNamespace

from ember import kernels
from ember.backend import REGISTRY

from .formulas import FORMULAS

_FUNCTIONS = ("exp", "expm1", "log1p", "tanh", "erf", "sigmoid", "abs")


def array_math(xp):
    """The formulas' math namespace on arrays of ``xp``."""
    core = next(be.kernels for be in REGISTRY.backends.values() if be.xp is xp)
    return SimpleNamespace(where=xp.where, minimum=xp.minimum, **{f: core[f] for f in _FUNCTIONS})


def _generic(fn):
    """The generic kernel factory of formula ``fn``."""

    def factory(xp):
        m = array_math(xp)

        def run(*args):
            if args[0].ndim == 0 and all(getattr(a, "ndim", 0) == 0 for a in args):
                # NumPy's ufuncs make scalars of 0-d arrays, which the core's kernels refuse
                return run(*[a.reshape(1) if hasattr(a, "ndim") else a for a in args]).reshape(())
            return fn(m, *args)

        return run

    return factory


def op_names(name):
    """The forward and backward kernel ops of activation ``name``."""
    return f"activation.{name}", f"activation.{name}_backward"


GENERIC_KERNELS = {op: _generic(fn) for name, formula in FORMULAS.items()
                   for op, fn in zip(op_names(name), (formula.forward, formula.backward))}


def table():
    """``(op, backend) -> kernel`` for ``ember_register_kernels``."""
    from . import cuda  # CuPy kernel factories: nothing is built before a cuda op runs

    return kernels.table(GENERIC_KERNELS, cuda=cuda.KERNELS)
