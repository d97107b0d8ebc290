"""The parallel family's modules, registered as ``ember.nn.<name>``."""

from .data_parallelism import DataParallel

__all__ = ["DataParallel"]
