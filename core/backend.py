"""The backend protocol and the kernel registry.

A backend (``cpu``, ``cuda``, or one from a third-party plugin) owns an array
namespace ``xp`` and everything device-specific. Ops never branch on the backend:
they look their kernel up by op name in ``backend.kernels``, a dict that resolves a
specialised kernel registered for ``(op, backend.name)`` or else the generic
implementation built from ``xp``, and caches the answer.
"""

import math
import os
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Backend(Protocol):
    """What the core needs from a backend.

    Attributes:
        name: the device type it serves (``"cpu"``, ``"cuda"``).
        xp: its array namespace (``numpy``, ``cupy``).
        version: version string shown by ``python -m ember``.
    """

    name: str
    xp: Any
    version: str

    def is_available(self) -> bool:
        """Whether arrays can be created on this backend now."""

    def unavailable_reason(self) -> str:
        """Why ``is_available()`` is False, and how to fix it ('' when available)."""

    def device_count(self) -> int:
        """How many devices of this type exist."""

    def device_index(self, array) -> "int | None":
        """The index of the device holding ``array`` (None for a single-device backend)."""

    def from_host(self, array, index: "int | None"):
        """Copy a NumPy array onto device ``index`` of this backend."""

    def to_host(self, array):
        """Copy an array of this backend into a NumPy array."""

    def generator(self, index: "int | None"):
        """The random generator (NumPy ``Generator`` API) of device ``index``."""

    def manual_seed(self, seed: int) -> None:
        """Reseed the generators of every device of this backend."""

    def synchronize(self, index: "int | None" = None) -> None:
        """Wait until queued work on the device is done."""


class KernelTable(dict):
    """Per-backend cache: op name -> callable, filled on first use of each op."""

    def __init__(self, registry, backend):
        super().__init__()
        self._registry = registry
        self._backend = backend

    def __missing__(self, op):
        kernel = self._registry.resolve(op, self._backend)
        self[op] = kernel
        return kernel


class Registry:
    """Backends and kernels contributed by plugins, merged by the plugin manager."""

    def __init__(self):
        self.backends = {}
        self.kernels = {}
        self.generic = {}
        self.kernel_owner = {}

    def set_contents(self, backends, kernels, kernel_owner):
        """Replace backends and specialised kernels (after plugins load or change)."""
        self.backends = dict(backends)
        self.kernels = dict(kernels)
        self.kernel_owner = dict(kernel_owner)
        for be in self.backends.values():
            be.kernels = KernelTable(self, be)

    def add_generic(self, table):
        """Register generic kernels: op name -> factory taking ``xp``, returning a callable."""
        self.generic.update(table)

    def resolve(self, op, backend):
        kernel = self.kernels.get((op, backend.name))
        if kernel is not None:
            return kernel
        factory = self.generic.get(op)
        if factory is None:
            raise NotImplementedError(
                f"no kernel for op '{op}' on backend '{backend.name}' and no generic version"
            )
        return factory(backend.xp)

    def get(self, name):
        """The backend called ``name``, or a RuntimeError saying what is missing."""
        try:
            return self.backends[name]
        except KeyError:
            known = ", ".join(sorted(self.backends)) or "none"
            raise RuntimeError(
                f"no backend named '{name}' is loaded (loaded: {known}); a backend comes from a "
                f"plugin that may be disabled"
            ) from None

    def usable(self, name):
        """The backend ``name`` after checking it can hold data now."""
        be = self.get(name)
        if not be.is_available():
            raise RuntimeError(f"the '{name}' backend is not available: {be.unavailable_reason()}")
        return be


REGISTRY = Registry()


# --- what a layer family needs to run its own kernels on a tensor's backend ---

def data_of(tensor):
    """The array (NumPy, CuPy, ...) that ``tensor`` holds, shared, not copied."""
    return tensor._data


def kernel_for(op, tensor):
    """The kernel registered for ``op`` on ``tensor``'s backend (else the generic one)."""
    return tensor._be.kernels[op]


def xp_of(tensor):
    """The array namespace (``numpy``, ``cupy``) of ``tensor``'s backend."""
    return tensor._be.xp


def tensor_like(array, like):
    """A new tensor without history holding ``array``, on the backend of ``like``."""
    from ._ops.common import wrap

    return wrap(array, like._be)


def run_kernel(op, tensor, *args):
    """``op``'s kernel applied to ``tensor``'s array and ``args``, as a new tensor."""
    return tensor_like(tensor._be.kernels[op](tensor._data, *args), tensor)


#: dtype names of the floating-point types, for :func:`check_dtype`.
FLOATING = ("float16", "float32", "float64")


def check_dtype(tensor, kernel, allowed):
    """Raise PyTorch's ``NotImplementedError`` (``"kernel" not implemented for 'Long'``)
    unless ``tensor``'s dtype name is in ``allowed``: a layer family states which
    dtypes each of its ops takes, as torch's kernels do."""
    if tensor.dtype.name not in allowed:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{tensor.dtype.scalar_name}'")


def _host_memory():
    """Bytes of physical memory on this machine (None where the OS does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def check_allocation(shape, itemsize, what="tensor"):
    """Raise RuntimeError, before allocating, when an array of ``shape`` with items
    of ``itemsize`` bytes cannot fit in the host's memory: asking for more would
    fail late (NumPy's MemoryError) or drive the machine into swap and the OOM killer."""
    nbytes = math.prod(int(s) for s in shape) * int(itemsize)
    limit = _host_memory()
    if limit is not None and nbytes > limit:
        raise RuntimeError(f"{what}: cannot allocate {nbytes} bytes for shape {list(shape)} "
                           f"({itemsize}-byte items): more than this machine's {limit} bytes of memory")
