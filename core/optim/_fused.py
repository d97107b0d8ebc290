"""Fused optimizer steps: one kernel call per parameter where the backend has one.

A backend may register ``optim.sgd_step`` and ``optim.adam_step`` (the CPU backend
does, see ``ember/backends/cpu/optim.py`` for their arguments): kernels that update
the parameter and its state arrays in place in one pass and return True, or return
False for arrays they do not take. Where there is no such kernel, or it declines,
or the gradient is sparse, the optimizer runs its tensor ops, the generic path;
both compute the same numbers.
"""

from ..backend import data_of

SGD_STEP = "optim.sgd_step"
ADAM_STEP = "optim.adam_step"


def fused_kernel(op, tensor):
    """The kernel registered for ``op`` on ``tensor``'s backend, or None."""
    table = tensor._be.kernels
    kernel = table.get(op, table)
    if kernel is table:
        try:
            kernel = table[op]
        except NotImplementedError:
            # remembered in the backend's table, which is rebuilt when plugins change
            kernel = table[op] = None
    return kernel


def run(op, param, grad, state, *hyper):
    """Run ``op``'s kernel on the arrays of ``param``, ``grad`` and the ``state``
    tensors (None allowed); True when it updated them, False when the caller must
    take the generic path (nothing was changed then)."""
    if grad.is_sparse:
        return False
    kernel = fused_kernel(op, param)
    if kernel is None:
        return False
    arrays = [None if t is None else data_of(t) for t in state]
    if not kernel(data_of(param), data_of(grad), *arrays, *hyper):
        return False
    param._bump_version()
    for t in state:
        if t is not None:
            t._bump_version()
    return True
