"""Fused optimizer steps: one kernel call per parameter where the backend has one.

A backend may register ``optim.sgd_step`` and ``optim.adam_step`` (the CPU backend
does, see ``ember/backends/cpu/optim.py`` for their arguments): kernels that update
the parameter and its state arrays in place in one pass and return True, or return
False for arrays they do not take. The generic kernels (registered by the ``core``
plugin) take nothing. Where the kernel declines, or the gradient is sparse, the
optimizer runs its tensor ops; both compute the same numbers.
"""

from ..backend import data_of, kernel_for

SGD_STEP = "optim.sgd_step"
ADAM_STEP = "optim.adam_step"


def _declines(xp):
    """The generic fused step: a backend without its own takes no arrays."""
    return lambda *arrays_and_hyperparameters: False


GENERIC_KERNELS = {SGD_STEP: _declines, ADAM_STEP: _declines}


def run(op, param, grad, state, *hyper):
    """Run ``op``'s kernel on the arrays of ``param``, ``grad`` and the ``state``
    tensors (None allowed); True when it updated them, False when the caller must
    take the generic path (nothing was changed then)."""
    if grad.is_sparse:
        return False
    arrays = [None if t is None else data_of(t) for t in state]
    if not kernel_for(op, param)(data_of(param), data_of(grad), *arrays, *hyper):
        return False
    param._bump_version()
    for t in state:
        if t is not None:
            t._bump_version()
    return True
