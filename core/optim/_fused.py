"""Fused optimizer steps: one kernel call per parameter, or per group of parameters,
where the backend has one.

Per parameter, a backend may register ``optim.sgd_step`` and ``optim.adam_step``
(the CPU backend does, see ``ember/backends/cpu/optim.py`` for their arguments):
kernels that update the parameter and its state arrays in place in one pass and
return True, or return False for arrays they do not take.

Per group, ``optim.sgd_steps``, ``optim.adam_steps``, ``optim.rmsprop_steps`` and
``optim.adagrad_steps`` take lists instead, one entry per parameter, and update
them all in one launch (the cuda backend's, see ``ember/backends/cuda/optim.py``
for their arguments); the optimizer calls them once per :func:`batches` entry, with
the gradients as given and a ``maximize`` flag.

The generic kernels (registered by the ``core`` plugin) take nothing. Where a group
kernel declines, the optimizer goes on parameter by parameter; where the
per-parameter kernel declines, or the gradient is sparse, it runs its tensor ops.
All compute the same numbers.
"""

from itertools import chain

from ..backend import data_of, has_own_kernel, kernel_for

SGD_STEP = "optim.sgd_step"
ADAM_STEP = "optim.adam_step"
SGD_STEPS = "optim.sgd_steps"
ADAM_STEPS = "optim.adam_steps"
RMSPROP_STEPS = "optim.rmsprop_steps"
ADAGRAD_STEPS = "optim.adagrad_steps"


def _declines(xp):
    """The generic fused step: a backend without its own takes no arrays."""
    return lambda *arrays_and_hyperparameters: False


GENERIC_KERNELS = {op: _declines for op in (SGD_STEP, ADAM_STEP, SGD_STEPS, ADAM_STEPS, RMSPROP_STEPS,
                                            ADAGRAD_STEPS)}


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


def batches(pairs):
    """The ``(parameter, gradient)`` pairs of a group as ``(parameters, gradients)``
    lists, one per device and dtype (in the order first seen): what one group
    kernel call may take."""
    found = {}
    for p, grad in pairs:
        params, grads = found.setdefault((p.device, p.dtype), ([], []))
        params.append(p)
        grads.append(grad)
    return list(found.values())


def takes_groups(op, params, grads):
    """True when the backend of ``params`` has a group kernel ``op`` of its own (the
    generic one declines every call) and no gradient is sparse: worth preparing a
    group call for."""
    return bool(params) and has_own_kernel(op, params[0]) and dense(grads)


def dense(grads):
    """True when no gradient is sparse (a group kernel takes dense arrays only)."""
    return not any(g.is_sparse for g in grads)


def run_many(op, params, grads, states, *hyper):
    """Run group kernel ``op`` on the arrays of ``params``, ``grads`` and ``states``
    (lists of tensors, one entry per parameter, or None); True when it updated them
    all, False when the caller must go parameter by parameter (nothing was changed)."""
    if not takes_groups(op, params, grads):
        return False
    columns = [None if c is None else [data_of(t) for t in c] for c in states]
    if not kernel_for(op, params[0])([data_of(p) for p in params], [data_of(g) for g in grads],
                                     *columns, *hyper):
        return False
    for t in chain(params, *(c for c in states if c is not None)):
        t._bump_version()
    return True
