"""The ``parallel`` layer family: DataParallel, DistributedDataParallel, SyncBatchNorm,
and the ``ember.nn.parallel`` functions (replicate, scatter, gather, parallel_apply,
data_parallel)."""

from ember.hookspecs import hookimpl
from ember.plugins import exports, family_hooks

#: The families this one builds on (SyncBatchNorm is a BatchNorm).
REQUIRES = ("normalization",)

ember_register_modules, ember_register_functions, ember_register_kernels = family_hooks(__name__)


@hookimpl
def ember_register_utils():
    from .data_parallelism import DataParallel, data_parallel
    from .distributed import DistributedDataParallel, DistributedDataParallelCPU
    from .replicas import replicate
    from .scatter_gather import gather, scatter
    from .threaded_apply import parallel_apply

    return {
        "parallel.DataParallel": DataParallel,
        "parallel.DistributedDataParallel": DistributedDataParallel,
        "parallel.DistributedDataParallelCPU": DistributedDataParallelCPU,
        "parallel.replicate": replicate,
        "parallel.scatter": scatter,
        "parallel.gather": gather,
        "parallel.parallel_apply": parallel_apply,
        "parallel.data_parallel": data_parallel,
    }


__getattr__, __dir__ = exports(__name__)
