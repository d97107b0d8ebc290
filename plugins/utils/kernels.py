"""The utils family's kernels: gradient clipping over all gradients at once.

* ``utils.total_norm(grads, norm_type) -> 0-d array or None``: the ``norm_type``-norm
  of the arrays ``grads`` taken together, in their dtype;
* ``utils.clip_gradients(grads, max_norm, total) -> bool``: multiply every array of
  ``grads`` in place by ``min(max_norm / (total + 1e-6), 1)``, ``total`` a 0-d array.

The generic kernels decline (None, False): ``clip_grad.py`` then runs its tensor
ops, tensor by tensor. The cuda backend's (``cuda.py``) do each in one or two
launches for all gradients, reading nothing back to the host.
"""

from ember import kernels

TOTAL_NORM = "utils.total_norm"
CLIP_GRADIENTS = "utils.clip_gradients"


def _no_norm(xp):
    return lambda grads, norm_type: None


def _no_clip(xp):
    return lambda grads, max_norm, total: False


def table():
    """``(op, backend) -> kernel`` for ``ember_register_kernels``."""
    from . import cuda  # CuPy kernel factories: nothing is built before a cuda op runs

    return kernels.table({TOTAL_NORM: _no_norm, CLIP_GRADIENTS: _no_clip}, cuda=cuda.KERNELS)
