"""``ember.nn.parallel``: data-parallel training (``DataParallel``,
``DistributedDataParallel``, ``DistributedDataParallelCPU``) and the functions
DataParallel is built from (``replicate``, ``scatter``, ``gather``,
``parallel_apply``, ``data_parallel``).

The ``parallel`` plugin provides them as utils named ``"parallel.<name>"``.
"""

from ._registry_namespace import registry_namespace

__getattr__, __dir__ = registry_namespace("util", globals(), prefix="parallel.")
