"""The ``core`` plugin: the generic kernels of the tensor ops in ``ember._ops`` and of
the optimizers' fused steps (``ember.optim._fused``).

It is registered by the plugin manager before any entry point, as an essential
plugin, so the core's kernels enter through the same hook, and are owned and
listed the same way, as every family's and backend's kernels.
"""

from ..hookspecs import hookimpl
from ..kernels import GENERIC
from ..optim import _fused
from . import binary, index, linalg, reduce, select, shape, softmax, special, unary

_MODULES = (binary, index, linalg, reduce, select, shape, softmax, special, unary, _fused)


@hookimpl
def ember_register_kernels():
    return {(op, GENERIC): factory for module in _MODULES for op, factory in module.GENERIC_KERNELS.items()}
