"""``ember.cuda``: torch.cuda's API (torch 2.13) over the ``cuda`` backend, CuPy on NVIDIA GPUs.

Devices are here; streams and events in :mod:`ember.cuda.streams`, the memory pool's
statistics in :mod:`ember.cuda.memory`, the generators' seeds in
:mod:`ember.cuda.random`, CUDA graphs (capture a static step, replay it with one
launch) in :mod:`ember.cuda.graphs`. The backend keeps the state (see :class:`_runtime.Runtime`):
each host thread has a current device, on which a tensor made with ``device="cuda"``
(no index) is placed, and a current stream per device.

Without CuPy or a GPU (the plugin disabled, no driver), ember.cuda answers as torch's
CPU-only build does: :func:`is_available` is False, :func:`device_count` 0, the memory
counters 0, seeding is silently skipped, and what needs a device raises the exception
type torch raises there (AssertionError for most; RuntimeError for ``Stream``,
``Event``, entering ``device(i)`` and the graphs' names), with the reason the backend
gives.
"""

from dataclasses import dataclass

from . import _runtime, graphs, memory, random, streams
from ._runtime import current_device, device_index as _index
from .graphs import CUDAGraph, graph, graph_pool_handle, is_current_stream_capturing
from .memory import (OutOfMemoryError, empty_cache, max_memory_allocated, max_memory_reserved, mem_get_info,
                     memory_allocated, memory_reserved, memory_stats, reset_max_memory_allocated,
                     reset_peak_memory_stats)
from .random import (get_rng_state, get_rng_state_all, initial_seed, manual_seed, manual_seed_all, seed,
                     seed_all, set_rng_state, set_rng_state_all)
from .streams import Event, Stream, StreamContext, current_stream, default_stream, set_stream, stream

__all__ = ["current_device", "device", "device_count", "device_of", "get_device_capability", "get_device_name",
           "get_device_properties", "init", "is_available", "is_initialized", "set_device", "synchronize",
           *graphs.__all__, *memory.__all__, *random.__all__, *streams.__all__]


def is_available():
    """Return True when ember can compute on a GPU: the cuda backend plugin is loaded
    and CuPy finds a device with a working driver."""
    return _runtime.available()


def device_count():
    """Return how many GPUs ember can use (0 without CuPy or a GPU)."""
    be = _runtime.backend()
    return be.device_count() if be is not None else 0


def is_initialized():
    """Return True once ember has used a GPU in this process (placed a tensor on it,
    asked for the current device, ...). Always False without a GPU."""
    return _runtime.available() and _runtime.backend().is_initialized()


def init():
    """Prepare the GPU for work now instead of at first use; does nothing when that
    is done already. AssertionError without a GPU."""
    _runtime.lazy_init()


def _valid(index, error, message):
    count = device_count()
    if not 0 <= index < count:
        raise error(f"{message} {index}: ember.cuda sees {count} device(s)")
    return index


def set_device(device):
    """Make ``device`` (an int, ``'cuda:i'`` or an ``ember.device`` with an index) the
    current GPU of this thread. A negative index does nothing. Prefer the
    :class:`device` context manager, which restores the previous device."""
    index = _index(device)
    if index < 0:
        return
    _runtime.lazy_init().set_device(_valid(index, RuntimeError, "invalid device index"))


def _exchange_device(index):
    """Make GPU ``index`` current and return the index that was; a negative index
    (no device asked) changes nothing and returns -1."""
    if index < 0:
        return -1
    if not _runtime.available():
        raise _runtime.unavailable(RuntimeError)
    previous = current_device()
    if previous != index:
        set_device(index)
    return previous


class device:
    """Context manager: the current GPU is ``device`` (an int, ``'cuda:i'``, an
    ``ember.device``) inside the block and the previous one again after it. A negative
    index or None changes nothing.

    Examples::

        >>> with ember.cuda.device(1):              # doctest: +SKIP
        ...     x = ember.zeros(3, device="cuda")   # on cuda:1
    """

    def __init__(self, device):
        self.idx = -1 if device is None else _index(device, optional=True)
        self.prev_idx = -1

    def __enter__(self):
        self.prev_idx = _exchange_device(self.idx)

    def __exit__(self, *exc_info):
        self.idx = _exchange_device(self.prev_idx)
        return False


class device_of(device):
    """Context manager: the current GPU is the one holding tensor ``obj`` inside the
    block; changes nothing for a tensor that is not on a GPU."""

    def __init__(self, obj):
        super().__init__(obj.get_device() if obj.is_cuda else -1)


@dataclass(frozen=True)
class _CudaDeviceProperties:
    """What :func:`get_device_properties` tells about a GPU: its ``name``, its memory
    in bytes (``total_memory``), its compute capability (``major``.``minor``) and its
    number of streaming multiprocessors (``multi_processor_count``)."""

    name: str
    total_memory: int
    major: int
    minor: int
    multi_processor_count: int


def get_device_properties(device=None):
    """Return the properties of GPU ``device`` (default: the current one) as an object
    with ``name``, ``total_memory``, ``major``, ``minor`` and ``multi_processor_count``.
    AssertionError without a GPU or for an index it does not have."""
    be = _runtime.lazy_init()
    index = _valid(_index(device, optional=True), AssertionError, "Invalid device id")
    return _CudaDeviceProperties(**be.device_properties(index))


def get_device_name(device=None):
    """Return the name of GPU ``device`` (default: the current one), e.g. ``'NVIDIA H100 80GB HBM3'``."""
    return get_device_properties(device).name


def get_device_capability(device=None):
    """Return the compute capability of GPU ``device`` (default: the current one) as
    ``(major, minor)``, e.g. ``(9, 0)`` for an H100."""
    props = get_device_properties(device)
    return props.major, props.minor


def synchronize(device=None):
    """Wait until all work queued on every stream of GPU ``device`` (default: the
    current one) is done. AssertionError without a GPU."""
    be = _runtime.lazy_init()
    be.synchronize(_index(device, optional=True))
