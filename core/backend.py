"""The backend protocol and the kernel registry.

A backend (``cpu``, ``cuda``, or one from a third-party plugin) owns an array
namespace ``xp`` and everything device-specific. Ops never branch on the backend:
they look their kernel up by op name in ``backend.kernels``, a dict that resolves
(see :class:`Registry`) the kernels plugins registered for ``(op, backend.name)``
and ``(op, GENERIC)``, and caches the answer.
"""

import contextlib
import math
import os
from typing import Any, Protocol, runtime_checkable

from . import _tensor  # bound while it imports this module: used at call time
from ._device import as_device
from .kernels import GENERIC, built


@runtime_checkable
class Backend(Protocol):
    """What the core needs from a backend.

    Attributes:
        name: the device type it serves (``"cpu"``, ``"cuda"``).
        xp: its array namespace (``numpy``, ``cupy``).
        version: version string shown by ``python -m ember``.

    Two methods are optional. A backend with several devices may have
    ``current_device() -> int``: a device named without an index means that one
    (:meth:`Registry.placement`). A backend may have ``from_pinned(array, index)``: a
    copy of page-locked host memory that the host does not wait for, which
    ``tensor.to(device, non_blocking=True)`` of a pinned tensor uses. A backend may
    have ``generator_state(index)`` and ``set_generator_state(index, state)``: a
    snapshot of device ``index``'s generator and its restoration, which checkpointing
    uses to replay random draws (without them only a NumPy generator is saved). A
    backend may have ``tf32_products()``: a context within which its float32 matrix
    products may run on TensorFloat-32 units (see :func:`tf32_products`).
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

    def full(self, shape, fill, dtype, index: "int | None"):
        """A new array of ``shape`` filled with ``fill``, of NumPy dtype ``dtype``, on
        device ``index``."""

    def data_ptr(self, array) -> int:
        """The address of ``array``'s first element (``Tensor.data_ptr``)."""

    def generator(self, index: "int | None"):
        """The random generator (NumPy ``Generator`` API) of device ``index``."""

    def manual_seed(self, seed: int) -> None:
        """Reseed the generators of every device of this backend."""

    def synchronize(self, index: "int | None" = None) -> None:
        """Wait until queued work on the device is done."""


#: What a backend object must have: the attributes and methods of :class:`Backend`.
BACKEND_MEMBERS = ("name", "xp", "version", "is_available", "unavailable_reason", "device_count",
                   "device_index", "from_host", "to_host", "full", "data_ptr", "generator",
                   "manual_seed", "synchronize")


def missing_members(backend):
    """The members of the protocol that ``backend`` lacks, found without reading them
    (reading ``xp`` of an unavailable backend may raise)."""
    return [m for m in BACKEND_MEMBERS
            if not hasattr(type(backend), m) and m not in getattr(backend, "__dict__", {})]


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


def _dispatching(fn, accepts, generic):
    """One callable: ``fn`` for the calls ``accepts`` takes, ``generic`` otherwise."""

    def dispatch(*args):
        return fn(*args) if accepts(*args) else generic(*args)

    dispatch.__name__ = getattr(fn, "__name__", "kernel")
    return dispatch


class Registry:
    """Backends and kernels contributed by plugins, merged by the plugin manager.

    ``kernels`` maps ``(op, backend name)`` to a :class:`ember.kernels.Kernel`;
    ``(op, GENERIC)`` entries are factories of the array namespace. For a backend,
    an op resolves here, in one place: to its specialised kernel (falling back, per
    call, to the generic one where the specialised kernel's ``accepts`` refuses the
    arguments), else to the generic kernel built from the backend's ``xp``.
    """

    def __init__(self):
        self.backends = {}
        self.kernels = {}
        self.kernel_owner = {}

    def set_contents(self, backends, kernels, kernel_owner):
        """Replace backends and kernels (after plugins load or change)."""
        self.backends = dict(backends)
        self.kernels = dict(kernels)
        self.kernel_owner = dict(kernel_owner)
        for be in self.backends.values():
            be.kernels = KernelTable(self, be)

    def resolve(self, op, backend):
        """The callable that runs ``op`` on ``backend``."""
        special = self.kernels.get((op, backend.name))
        if special is not None and special.accepts is None:
            return built(special, backend.xp)
        factory = self.kernels.get((op, GENERIC))
        if factory is None:
            if special is None:
                raise NotImplementedError(
                    f"no kernel for op '{op}' on backend '{backend.name}' and no generic version")
            raise NotImplementedError(
                f"the '{backend.name}' kernel for op '{op}' takes only some arguments "
                f"(accepts=...) and no generic kernel serves the others")
        generic = factory.fn(backend.xp)
        if special is None:
            return generic
        return _dispatching(built(special, backend.xp), special.accepts, generic)

    def generic(self, op, xp):
        """``op``'s generic kernel built for the array namespace ``xp`` (to compare a
        backend's own kernel with it, say)."""
        factory = self.kernels.get((op, GENERIC))
        if factory is None:
            raise NotImplementedError(f"no generic kernel for op '{op}'")
        return factory.fn(xp)

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

    def placement(self, device):
        """``(backend, index)`` where a tensor put on ``device`` (an ``ember.device``,
        its string, or an int for a CUDA index) goes, after checking the backend can
        hold data. A device without an index means the backend's current device when it
        has one (``current_device()``; for cuda, the one ``ember.cuda.set_device``
        chose), as torch places ``device="cuda"`` on the current GPU."""
        d = as_device(device)
        be = self.usable(d.type)
        if d.index is None and hasattr(be, "current_device"):
            return be, be.current_device()
        return be, d.index

REGISTRY = Registry()


# --- what a layer family needs to run its own kernels on a tensor's backend ---

def data_of(tensor):
    """The array (NumPy, CuPy, ...) that ``tensor`` holds, shared, not copied."""
    return tensor._data


def kernel_for(op, tensor):
    """The kernel registered for ``op`` on ``tensor``'s backend (else the generic one)."""
    return tensor._be.kernels[op]


def has_own_kernel(op, tensor):
    """True when ``tensor``'s backend registered a kernel of its own for ``op``, not
    only the generic one (which may take some calls only, see ``accepts``)."""
    return (op, tensor._be.name) in REGISTRY.kernels


def xp_of(tensor):
    """The array namespace (``numpy``, ``cupy``) of ``tensor``'s backend."""
    return tensor._be.xp


def check_same_device(*tensors):
    """Raise torch's RuntimeError naming both devices unless every tensor given (None
    skipped) lives on the first one's backend."""
    from ._ops.common import same_backend

    present = [t for t in tensors if t is not None]
    for t in present[1:]:
        same_backend(present[0], t)


def assert_on_device(like, site, failed, witness, error):
    """Raise ``error(value)`` when the 0-d boolean array ``failed`` is true, ``value``
    being the Python number of the 0-d array ``witness()`` (the bad index, say), or
    the list of numbers of a 1-D one (the bad index and where it is).

    On a backend whose arrays live in host memory this is checked at once. A backend
    with ``deferred_checks`` (the cuda backend) records it instead and raises at its
    next synchronisation, as torch's device-side asserts do, so a training step
    never waits for the GPU to answer. ``site`` names the check (one pending slot
    per site); ``like`` is a tensor of the backend."""
    pending = getattr(like._be, "deferred_checks", None)
    if pending is not None:
        pending.add(site, failed, witness, error)
    elif failed:
        raise error(witness().tolist())


def refuse_on_device(like, site, failed, error):
    """:func:`assert_on_device` for a check whose message names no value: raise the
    exception ``error`` when the 0-d boolean array ``failed`` is true."""
    assert_on_device(like, site, failed, lambda: failed, lambda _: error)


def on_host(like):
    """Whether the arrays of ``like``'s backend live in host memory (NumPy's): reading
    a value back costs nothing, a failed check raises at once, and an index out of
    range raises. False on a GPU, where a read makes the host wait for the device,
    checks are deferred (:func:`assert_on_device`) and CuPy wraps such an index."""
    return getattr(like._be, "deferred_checks", None) is None


def tf32_products(like, allowed):
    """A context within which the float32 matrix products of ``like``'s backend may
    run on TensorFloat-32 units (inputs rounded to 10 mantissa bits, float32 sums), as
    torch's cuDNN convolutions do while ``torch.backends.cudnn.allow_tf32``: where
    ``allowed``, ``like`` is float32 and its backend has them; else it changes nothing."""
    switch = getattr(like._be, "tf32_products", None)
    if not allowed or switch is None or like.dtype.name != "float32":
        return contextlib.nullcontext()
    return switch()


def assert_in_range(like, site, values, low, high, error, *, position=False, skip=None):
    """Raise ``error(v)``, ``v`` being the first entry of the integer array ``values``
    (in row-major order, as torch's kernels meet it) outside ``[low, high)`` and not
    equal to ``skip`` (unless None), when and where :func:`assert_on_device` raises;
    with ``position``, ``error(i, v)``, ``i`` being where ``v`` is in ``values``
    flattened. A GPU backend checks it in two launches (``add_range``)."""
    if not values.size:
        return
    flat = values.reshape(-1)
    report = (lambda found: error(*found)) if position else error
    checks = getattr(like._be, "deferred_checks", None)
    if checks is not None and checks.checks_ranges:
        checks.add_range(site, flat, low, high, skip, report, position)
        return

    def outside_mask():
        outside = (flat < low) | (flat >= high)
        return outside if skip is None else outside & (flat != skip)

    if checks is None and skip is None:  # two passes, and where the bad entry is only when there is one
        outside, failed = None, (flat.min() < low) | (flat.max() >= high)
    else:
        outside = outside_mask()
        failed = outside.any()

    def first_outside():
        at = (outside_mask() if outside is None else outside).argmax()
        return like._be.xp.stack([at, flat[at]]) if position else flat[at]

    assert_on_device(like, site, failed, first_outside, report)


def tensor_like(array, like):
    """A new tensor without history holding ``array``, on the backend of ``like``."""
    return _tensor.wrap(array, like._be)


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


def check_storage_size(shape, itemsize):
    """The bytes of an array of ``shape`` with items of ``itemsize`` bytes; torch's
    RuntimeError where that count does not fit in 63 bits (no device could hold it, and
    a C size would overflow on the way to the allocator)."""
    nbytes = math.prod(int(s) for s in shape) * int(itemsize)
    if nbytes >= 1 << 63:
        raise RuntimeError(f"Storage size calculation overflowed with sizes={[int(s) for s in shape]}")
    return nbytes


def check_allocation(shape, itemsize, what="tensor"):
    """Raise RuntimeError, before allocating, when an array of ``shape`` with items
    of ``itemsize`` bytes cannot fit in the host's memory: asking for more would
    fail late (NumPy's MemoryError) or drive the machine into swap and the OOM killer."""
    nbytes = check_storage_size(shape, itemsize)
    limit = _host_memory()
    if limit is not None and nbytes > limit:
        raise RuntimeError(f"{what}: cannot allocate {nbytes} bytes for shape {list(shape)} "
                           f"({itemsize}-byte items): more than this machine's {limit} bytes of memory")
