"""The parallel family's modules, registered as ``ember.nn.<name>``."""

from .data_parallel import DataParallel

__all__ = ["DataParallel"]
