"""Where a CPU tensor's memory lives: shared between processes, or pinned (page-locked).

``share_memory_()`` moves a tensor's data into a file in ``/dev/shm`` mapped
into the process; a tensor sent to a worker through ``multiprocessing``
(``spawn`` or ``forkserver``: see FACTS on OpenMP and fork) travels as the
file's name, offset and layout, so the worker maps the same pages and each
side sees the other's writes. The creating process deletes the file when its
last array over the mapping is gone (workers that mapped it keep their
mapping). Tensors rebuilt in a worker from one file share one mapping, so views
stay views.

``pin_memory()`` copies the data into an anonymous mapping locked in RAM
(``mlock``): the OS never pages it out, which is what lets a copy to a GPU run
asynchronously. Without the right to lock that much memory (``ulimit -l``) the
copy is left unlocked and a warning says so; ``is_pinned()`` tells which.
"""

import functools
import mmap
import os
import warnings
import weakref

import numpy as np

# id(mmap) -> (weak reference to it, path of its file); the mappings of shared blocks
_SHARED = {}
# path -> weak reference to this process's mapping of it
_MAPPED = {}
# ids of the mappings locked in RAM
_PINNED = set()


def _root(array):
    """The NumPy array at the bottom of ``array``'s chain of views, and the object it wraps."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    base = array.base
    if isinstance(base, memoryview):  # np.frombuffer over an mmap keeps a memoryview of it
        base = base.obj
    return array, base


def _mapping_of(array, table):
    _, base = _root(array)
    return base if isinstance(base, mmap.mmap) and id(base) in table else None


def _forget(key, path, created):
    _SHARED.pop(key, None)
    if _MAPPED.get(path) is not None and _MAPPED[path]() is None:
        del _MAPPED[path]
    if created:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def _attach(path, created):
    """This process's mapping of the block at ``path`` (one per path)."""
    ref = _MAPPED.get(path)
    block = ref() if ref is not None else None
    if block is None:
        fd = os.open(path, os.O_RDWR)
        try:
            block = mmap.mmap(fd, os.fstat(fd).st_size)
        finally:
            os.close(fd)
        _MAPPED[path] = weakref.ref(block)
        _SHARED[id(block)] = (weakref.ref(block), path)
        weakref.finalize(block, _forget, id(block), path, created)
    return block


def _new_block(nbytes):
    import tempfile  # here, like ctypes below: neither is needed at ``import ember``

    folder = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
    fd, path = tempfile.mkstemp(prefix="ember-shm-", dir=folder)
    try:
        os.ftruncate(fd, max(nbytes, 1))  # a mapping cannot be empty
    finally:
        os.close(fd)
    return _attach(path, created=True)


def _over(block, shape, dtype, offset=0, strides=None):
    """An array of ``shape`` and ``dtype`` over ``block`` (at ``offset``)."""
    buffer = np.frombuffer(block, dtype=np.uint8)
    return np.ndarray(shape, dtype, buffer=buffer, offset=offset, strides=strides)


def _cpu_only(t, what):
    if t._be.name != "cpu":
        raise RuntimeError(f"{what} works on CPU tensors; this one is on {t.device}")


# --------------------------------------------------------------------------- shared


def is_shared(t):
    """True when the tensor's data is in memory shared between processes (see ``share_memory_``)."""
    return t._be.name == "cpu" and _mapping_of(t._data, _SHARED) is not None


def share_memory_(t):
    """Move the tensor's data into shared memory, in place, and return the tensor.

    A process that receives the tensor through ``multiprocessing`` (started
    with ``spawn`` or ``forkserver``) then sees the same memory: writes on
    either side are visible to the other. Does nothing when the data is shared
    already. Other tensors that were views of the old data keep the old copy.

    Examples::

        >>> w = ember.zeros(3).share_memory_()
        >>> w.is_shared()
        True
    """
    _cpu_only(t, "share_memory_()")
    if is_shared(t):
        return t
    array = np.ascontiguousarray(t._data)
    shared = _over(_new_block(array.nbytes), array.shape, array.dtype)
    shared[...] = array
    t._data = shared
    _register_reduction()
    return t


def _rebuild_shared(path, offset, shape, strides, dtype, requires_grad):
    """The receiving side: the tensor over this process's mapping of ``path``."""
    from ._creation import from_numpy

    _register_reduction()
    t = from_numpy(_over(_attach(path, created=False), shape, np.dtype(dtype), offset, strides))
    return t.requires_grad_() if requires_grad else t


def _reduce_tensor(t):
    """How ``multiprocessing`` sends a tensor: shared ones by reference, others by value."""
    block = _mapping_of(t._data, _SHARED) if t._be.name == "cpu" else None
    if block is None:
        return t.__reduce_ex__(2)
    root, _ = _root(t._data)
    offset = t._data.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    return _rebuild_shared, (_SHARED[id(block)][1], offset, t._data.shape, t._data.strides, t._data.dtype.str,
                             t.requires_grad)


def _register_reduction():
    # Imported on first use: multiprocessing.reduction is not needed at ``import ember``.
    from multiprocessing.reduction import ForkingPickler

    from ._tensor import Tensor

    ForkingPickler.register(Tensor, _reduce_tensor)


# --------------------------------------------------------------------------- pinned


def is_pinned(t):
    """True when the tensor's data is page-locked in RAM (see ``pin_memory``)."""
    return t._be.name == "cpu" and _mapping_of(t._data, _PINNED) is not None


def pin_memory(t):
    """A copy of the tensor in page-locked memory (the tensor itself when it is pinned already).

    The copy keeps the dtype, shape and autograd history (gradients flow back
    to the original, as from ``clone``).

    Examples::

        >>> x = ember.ones(4).pin_memory()
        >>> x.is_pinned() or "ulimit -l too small"
        True
    """
    _cpu_only(t, "pin_memory()")
    if is_pinned(t):
        return t
    from ._ops.shape import clone

    out = clone(t)
    array = np.ascontiguousarray(out._data)
    block = mmap.mmap(-1, max(array.nbytes, 1))
    pinned = _over(block, array.shape, array.dtype)
    pinned[...] = array
    if _lock(block, pinned):
        _PINNED.add(id(block))
        weakref.finalize(block, _PINNED.discard, id(block))
    out._data = pinned
    return out


def _lock(block, array):
    import ctypes

    libc = _libc()
    address = np.frombuffer(block, dtype=np.uint8).ctypes.data
    if libc is not None and libc.mlock(ctypes.c_void_p(address), ctypes.c_size_t(len(block))) == 0:
        return True
    warnings.warn(f"pin_memory(): could not lock {array.nbytes} bytes in RAM "
                  f"({os.strerror(ctypes.get_errno()) if libc is not None else 'no C library'}; see ulimit -l); "
                  "the copy is not pinned", RuntimeWarning, stacklevel=3)
    return False


@functools.cache
def _libc():
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name, use_errno=True) if name else None
    except OSError:
        return None
