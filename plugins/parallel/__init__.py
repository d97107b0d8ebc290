"""The ``parallel`` layer family: DataParallel, DistributedDataParallel, SyncBatchNorm,
and the ``ember.nn.parallel`` functions (replicate, scatter, gather, parallel_apply,
data_parallel)."""

from ember.plugins import exports, family_hooks

ember_register_modules, ember_register_functions, ember_register_kernels = family_hooks(__name__)

__getattr__, __dir__ = exports(__name__)
