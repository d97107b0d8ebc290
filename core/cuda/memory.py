"""GPU memory statistics, as torch.cuda has them, from the backend's memory pool
(CuPy's default pool: ``used_bytes()``, ``total_bytes()``, ``free_all_blocks()``), and
:class:`OutOfMemoryError`, what an allocation the GPU cannot hold raises.

"Allocated" is what live arrays hold (the pool's used bytes, blocks rounded up to its
unit); "reserved" is what the pool has taken from the driver, in use or cached for
reuse. Neither counts the CUDA context, cuBLAS workspaces or memory CuPy's pool does
not manage.

**Peaks.** The pool keeps no peak, so ember keeps one per device: the largest value
seen when it reads the pool, which it does in :func:`memory_stats` (and so in
:func:`memory_allocated`, :func:`max_memory_allocated`, :func:`memory_reserved`,
:func:`max_memory_reserved`), in :func:`reset_peak_memory_stats` and in
:func:`empty_cache`. Memory taken and given back between two such calls is not seen:
the peaks are a lower bound of torch's, exact when read at the moment of highest use
(after a forward pass, say). ember does not read the pool at each allocation: most
allocations happen inside CuPy, out of ember's sight, and reading the used bytes costs
time in proportion to the number of live arrays.
"""

import warnings

from . import _runtime
from ._runtime import device_index

__all__ = ["OutOfMemoryError", "empty_cache", "max_memory_allocated", "max_memory_reserved", "mem_get_info",
           "memory_allocated", "memory_reserved", "memory_stats", "reset_max_memory_allocated",
           "reset_peak_memory_stats"]


class OutOfMemoryError(RuntimeError):
    """A GPU allocation failed: the device has no room for it, even with the pool's
    cached blocks given back. A RuntimeError, as torch's is, so code written for
    torch (``except RuntimeError`` and a look for "out of memory") catches it."""

_KINDS = ("allocated_bytes", "reserved_bytes")
# device index -> {kind: the largest value seen since the start or the last reset}
_PEAKS = {}


def _read(be, index):
    """The pool's current counters of device ``index``, raising its peaks to them."""
    current = dict(zip(_KINDS, be.memory_usage(index)))
    peaks = _PEAKS.setdefault(index, dict.fromkeys(_KINDS, 0))
    for kind, value in current.items():
        peaks[kind] = max(peaks[kind], value)
    return current, peaks


def memory_stats(device=None):
    """Return the memory statistics of GPU ``device`` (default: the current one) as a
    dict: ``"allocated_bytes.all.current"``, ``"allocated_bytes.all.peak"``,
    ``"reserved_bytes.all.current"``, ``"reserved_bytes.all.peak"`` (see the module's
    note on peaks). Empty before the GPU is first used, and without a GPU."""
    if not (_runtime.available() and _runtime.backend().is_initialized()):
        return {}
    current, peaks = _read(_runtime.backend(), device_index(device, optional=True))
    stats = {}
    for kind in _KINDS:
        stats[f"{kind}.all.current"] = current[kind]
        stats[f"{kind}.all.peak"] = peaks[kind]
    return stats


def memory_allocated(device=None):
    """Return the bytes that live tensors hold on GPU ``device`` (default: the current
    one); 0 without a GPU."""
    return memory_stats(device).get("allocated_bytes.all.current", 0)


def max_memory_allocated(device=None):
    """Return the most bytes tensors were seen to hold on GPU ``device`` since the
    start or :func:`reset_peak_memory_stats` (see the module's note on peaks)."""
    return memory_stats(device).get("allocated_bytes.all.peak", 0)


def memory_reserved(device=None):
    """Return the bytes the memory pool holds on GPU ``device`` (default: the current
    one), in use or cached for reuse; 0 without a GPU."""
    return memory_stats(device).get("reserved_bytes.all.current", 0)


def max_memory_reserved(device=None):
    """Return the most bytes the memory pool was seen to hold on GPU ``device`` since
    the start or :func:`reset_peak_memory_stats`."""
    return memory_stats(device).get("reserved_bytes.all.peak", 0)


def reset_peak_memory_stats(device=None):
    """Start the peaks of GPU ``device`` (default: the current one) again from the
    current values, to measure, say, one training step. AssertionError without a GPU."""
    be = _runtime.lazy_init()
    index = device_index(device, optional=True)
    current, _ = _read(be, index)
    _PEAKS[index] = current


def reset_max_memory_allocated(device=None):
    """Deprecated: :func:`reset_peak_memory_stats`, which resets every peak (a
    FutureWarning says so)."""
    warnings.warn("ember.cuda.reset_max_memory_allocated now calls ember.cuda.reset_peak_memory_stats, "
                  "which resets /all/ peak memory stats.", FutureWarning, stacklevel=2)
    reset_peak_memory_stats(device)


def empty_cache():
    """Give the memory the pool caches but no tensor uses back to the driver, so that
    other programs (and ``nvidia-smi``) see it free. Tensors keep their memory; does
    nothing before the GPU is first used or without a GPU."""
    if _runtime.available() and _runtime.backend().is_initialized():
        be = _runtime.backend()
        _read(be, be.current_device())  # the reserved peak before the cache goes
        be.empty_cache()


def mem_get_info(device=None):
    """Return ``(free, total)`` bytes of GPU ``device`` (default: the current one) as
    the driver counts them, across all processes. AssertionError without a GPU."""
    be = _runtime.lazy_init()
    return be.mem_get_info(device_index(device, optional=True))
