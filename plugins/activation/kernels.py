"""The activation family's kernels: for every formula of ``formulas.py``, the generic
(array-namespace) forward and backward, the CuPy pair of ``cuda.py``, and the
family's kernel table.

* ``activation.<name>(x, *params) -> y``
* ``activation.<name>_backward(g, x, *params) -> dx``, the gradient of the sum of
  ``g * y`` with respect to ``x``.

An activation whose formula keeps an intermediate (``kept``, see ``formulas.py``)
returns ``(y, k)`` and takes ``(g, x, k, *params)``. The generic kernels keep ``k``
(an extra array saved for the backward, in place of a second ``erf`` or
``sigmoid`` on the CPU);
the cuda kernels give ``k = None`` and recompute it in the backward, which costs
less there than writing and reading it.

The generic kernels evaluate the formula step by step on the arrays. Their
functions (``exp``, ``erf``, ``sigmoid``...) are the core ops' kernels of the
backend that owns the namespace, so the cpu backend computes with its compiled
sigmoid and erf, the same numbers ``ember.sigmoid`` and ``ember.erf`` give.
"""

from types import SimpleNamespace

from ember import kernels
from ember.backend import REGISTRY

from .formulas import FORMULAS

_FUNCTIONS = ("exp", "expm1", "log1p", "tanh", "erf", "sigmoid", "sigmoid_backward", "abs")


def array_math(xp):
    """The formulas' math namespace on arrays of ``xp``: the core's kernels of the
    loaded backend whose namespace it is, or the generic ones where none is (a
    stand-in namespace in tests)."""
    owner = next((be for be in REGISTRY.backends.values() if be.is_available() and be.xp is xp), None)
    if owner is None:
        functions = {f: REGISTRY.generic(f, xp) for f in _FUNCTIONS}
    else:
        functions = {f: owner.kernels[f] for f in _FUNCTIONS}
    return SimpleNamespace(where=xp.where, minimum=xp.minimum, **functions)


def _on_arrays(fn):
    """``fn`` of arrays, 0-d ones too (NumPy's ufuncs make scalars of them, which the
    core's kernels refuse)."""

    def run(*args):
        if any(getattr(a, "ndim", 0) for a in args):
            return fn(*args)
        out = fn(*[a.reshape(1) if hasattr(a, "ndim") else a for a in args])
        return tuple(o.reshape(()) for o in out) if isinstance(out, tuple) else out.reshape(())

    return run


def _generic_forward(formula):
    """The generic kernel factory of ``formula``'s forward."""

    def factory(xp):
        m = array_math(xp)
        if formula.kept is None:
            return _on_arrays(lambda x, *params: formula.forward(m, x, *params))

        def forward(x, *params):
            kept = formula.kept(m, x, *params)
            return formula.forward(m, x, kept, *params), kept

        return _on_arrays(forward)

    return factory


def _generic_backward(formula):
    """The generic kernel factory of ``formula``'s backward."""

    def factory(xp):
        m = array_math(xp)
        if formula.kept is None:
            return _on_arrays(lambda g, x, *params: formula.backward(m, g, x, *params))

        def backward(g, x, kept, *params):
            if kept is None:  # the forward ran elsewhere (the cuda kernel keeps nothing)
                kept = formula.kept(m, x, *params)
            return formula.backward(m, g, x, kept, *params)

        return _on_arrays(backward)

    return factory


def op_names(name):
    """The forward and backward kernel ops of activation ``name``."""
    return f"activation.{name}", f"activation.{name}_backward"


GENERIC_KERNELS = {op: make(formula) for name, formula in FORMULAS.items()
                   for op, make in zip(op_names(name), (_generic_forward, _generic_backward))}


def table():
    """``(op, backend) -> kernel`` for ``ember_register_kernels``."""
    from . import cuda  # CuPy kernel factories: nothing is built before a cuda op runs

    return kernels.table(GENERIC_KERNELS, cuda=cuda.KERNELS)
