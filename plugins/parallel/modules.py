"""The parallel family's modules, registered as ``ember.nn.<name>``."""

from .data_parallelism import DataParallel
from .sync_batchnorm import SyncBatchNorm

__all__ = ["DataParallel", "SyncBatchNorm"]
