"""CuPy's manners on NumPy's arrays, for the emulated GPU (tests/emulated_gpu.py).

A kernel that is right on NumPy can still fail on a GPU in ways that have nothing to
do with what it computes: it calls a function or a generator method CuPy lacks, or it
mixes a host array into device arithmetic, which CuPy refuses. :data:`XP` is NumPy
under CuPy's rules:

* its arrays are :class:`DeviceArray`, a NumPy array that refuses, as CuPy does,
  arithmetic and functions with a host (NumPy) array, whose reductions and element
  reads give 0-d arrays, not scalars, and whose views have the owner as base;
* it answers only the names, ufunc methods and generator methods that the installed
  CuPy has (CuPy imports without a GPU), so a name CuPy lacks fails at once;
* its kernel classes are the CPU emulator's (tests/cuda_emulator.py), refusing host
  arrays and giving device arrays;
* under :func:`allow_synchronize` (False), what would make the host wait for the
  device raises, as under ``cupyx.allow_synchronize``: reading a value (``bool``,
  ``float``, ``item``, ``get``...) and the functions whose output size depends on the
  data (``nonzero``, boolean-mask indexing...);
* within :func:`recording` (a CUDA graph capture), every computation on device
  arrays is also recorded, so that replaying the record computes it again into the
  same arrays, as a captured graph's launch does;
* within :func:`counting_launches`, the device calls that would be kernel launches
  on a GPU are counted (what makes a view, or only allocates, is none);
* after :func:`refuse_host_conversion`, ember's code converting a device array to a
  NumPy one (``np.asarray`` and its kin) gets CuPy's TypeError.
"""

import contextlib
import functools
import inspect
import sys
import threading

import numpy as np

from tests import cuda_emulator

try:
    import cupy as _cupy
except ImportError:  # pragma: no cover - the test extra installs CuPy
    _cupy = None

_MISSING = object()


def _cupy_object(path):
    """CuPy's object at ``path`` (``"random.Generator.random"``), or _MISSING."""
    obj = _cupy
    for part in path.split("."):
        obj = getattr(obj, part, _MISSING)
        if obj is _MISSING:
            break
    return obj


def _cupy_has(path):
    """Whether CuPy has ``path`` (always True without an installed CuPy to ask)."""
    return _cupy is None or _cupy_object(path) is not _MISSING


def _cupy_signature(path, method=False):
    """The signature of CuPy's ``path`` (None where CuPy gives none, as for ufuncs),
    less ``self`` for a ``method``."""
    obj = None if _cupy is None else _cupy_object(path)
    if obj is None or obj is _MISSING:
        return None
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    return sig.replace(parameters=list(sig.parameters.values())[1:]) if method else sig


class DeviceSynchronized(RuntimeError):
    """The host waited for the device where synchronising was refused (cupyx's error)."""


_SYNC = threading.local()


@contextlib.contextmanager
def allow_synchronize(allow):
    """``cupyx.allow_synchronize`` for the emulated GPU: with ``allow`` False, in this
    thread, what would make the host wait for the device raises DeviceSynchronized."""
    before, _SYNC.allowed = getattr(_SYNC, "allowed", True), allow
    try:
        yield
    finally:
        _SYNC.allowed = before


def _synchronizes(what):
    if getattr(_TAPE, "entries", None) is not None:
        raise DeviceSynchronized(f"{what} makes the host wait for the device during a CUDA graph capture")
    if not getattr(_SYNC, "allowed", True):
        raise DeviceSynchronized(f"{what} makes the host wait for the device (synchronising is refused)")


_TAPE = threading.local()
_LAUNCHES = threading.local()


@contextlib.contextmanager
def counting_launches():
    """Count, in this thread, the kernel launches a GPU would make in the block: the
    device computations giving new values or writing into arrays, each once (not the
    device work the emulation of one kernel does inside it), but not those making a
    view of memory that exists, or only allocating. Yields a list, one entry a launch."""
    _LAUNCHES.count = count = []
    try:
        yield count
    finally:
        _LAUNCHES.count = None


def _launched(value, writes):
    """Whether a device call that gave ``value`` (before it is made a device array)
    would be a kernel launch: it ``writes`` into arrays, or its result is not a view."""
    return writes or not (isinstance(value, np.ndarray) and not value.flags.owndata)


@contextlib.contextmanager
def recording():
    """Record, in this thread, the device computations of the block (a CUDA graph's
    capture): yields the list of replays, each computing one again into its arrays."""
    _TAPE.entries = entries = []
    try:
        yield entries
    finally:
        _TAPE.entries = None


def _run(compute, record=True, writes=False):
    """``compute()``, its results made device arrays; while recording (and ``record``:
    not for what only allocates, which a graph's launch leaves as it is), also a replay
    that computes it again (reading its inputs as they are then) into those arrays.
    Whatever is made while recording lives as long as the recording: a graph's memory
    pool keeps its memory for the graph, where kernels may still read it by address.
    ``writes``: the call writes into arrays it is given (counted as a launch)."""
    depth = getattr(_LAUNCHES, "depth", 0)
    _LAUNCHES.depth = depth + 1
    try:
        value = compute()
    finally:
        _LAUNCHES.depth = depth
    count = getattr(_LAUNCHES, "count", None)
    if count is not None and not depth and record and _launched(value, writes):
        count.append(None)  # not the call: its arrays would live on
    result = _device(value)
    entries = getattr(_TAPE, "entries", None)
    if entries is not None and record:
        entries.append(lambda: _write_into(result, compute()))
    elif entries is not None:  # no work; but its memory stays the graph's, as a graph pool's does
        entries.append(lambda kept=result: None)
    return result


def _write_into(target, value):
    if isinstance(target, (list, tuple)):
        for t, v in zip(target, value):
            _write_into(t, v)
    elif isinstance(target, np.ndarray) and np.ndarray.flags.__get__(target).writeable:
        same = (isinstance(value, np.ndarray) and value.__array_interface__["data"][0]
                == target.__array_interface__["data"][0] and value.strides == target.strides)
        if not same:  # a view of its input, or the out= array, holds the new values already
            target.view(np.ndarray)[...] = value


#: What sizes its output by the data, so CuPy reads a count back from the device.
_DATA_SIZED = {"nonzero", "flatnonzero", "argwhere", "unique", "extract", "compress", "bincount"}


def _refuse_host(values, what):
    """CuPy takes scalars and its own arrays; a host array in device work is a
    TypeError there (0-d host arrays pass, as scalars)."""
    for v in values:
        if isinstance(v, (list, tuple)):
            _refuse_host(v, what)
        elif isinstance(v, np.ndarray) and not isinstance(v, DeviceArray) and v.ndim:
            raise TypeError(f"{what}: a host (NumPy) array of shape {v.shape} given to device work; "
                            "CuPy refuses it (copy it with xp.asarray first)")


def _host(value):
    """``value`` with the device arrays in it seen as plain NumPy arrays."""
    if isinstance(value, DeviceArray):
        return value.view(np.ndarray)
    if isinstance(value, (list, tuple)):
        return type(value)(_host(v) for v in value)
    if isinstance(value, dict):
        return {k: _host(v) for k, v in value.items()}
    return value


def _device(value):
    """``value`` with its NumPy arrays and scalars made device arrays (0-d for scalars)."""
    if isinstance(value, np.ndarray):
        return value if isinstance(value, DeviceArray) else value.view(DeviceArray)
    if isinstance(value, np.generic):
        return np.asarray(value).view(DeviceArray)
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(_device(v) for v in value)
    if isinstance(value, tuple):  # a named tuple of results (xp.linalg.slogdet, ...)
        return type(value)(*(_device(v) for v in value))
    return value


class _DeviceId:
    """What ``array.device`` answers: the one emulated GPU (a context making it
    current, as CuPy's device is)."""

    id = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _lacking(name):
    """A member of NumPy's arrays that CuPy's lack: reading it raises AttributeError."""
    def refuse(self):
        raise AttributeError(f"CuPy's ndarray has no {name!r} (NumPy's has): the GPU run would fail here")
    return property(refuse)


def _computing(name):
    """NumPy's ``ndarray.<name>``, computing on the device (recorded, see :func:`_run`)."""
    plain = getattr(np.ndarray, name)

    def compute(self, *args, **kwargs):  # on self: a view's base is a device array, as in CuPy
        return _run(lambda: plain(self, *_host(args), **_host(kwargs)))
    return compute


def _read_back(name):
    """NumPy's ``ndarray.<name>``, which reads values back to the host."""
    def read(self, *args, **kwargs):
        _synchronizes(f"ndarray.{name}")
        return getattr(self.view(np.ndarray), name)(*args, **kwargs)
    return read


def _wrapped(shape, index):
    """``index`` (host arrays) into an array of ``shape`` with each integer array taken
    modulo the size of the dim it indexes: CuPy's integer-array indexing, its writes
    and ``ufunc.at`` wrap an index out of range where NumPy raises."""
    parts = index if isinstance(index, tuple) else (index,)
    used = sum(0 if p is None or p is Ellipsis else np.ndim(p) if np.asarray(p).dtype == bool else 1
               for p in parts)
    dim, out = 0, []
    for p in parts:
        if p is Ellipsis:
            dim += len(shape) - used
        elif isinstance(p, np.ndarray) and p.dtype.kind in "iu":
            if dim < len(shape) and shape[dim]:
                p = p % shape[dim]
            dim += 1
        elif p is not None:
            dim += np.ndim(p) if np.asarray(p).dtype == bool else 1
        out.append(p)
    return tuple(out) if isinstance(index, tuple) else out[0]


def _element_view(result, array, index):
    """``result`` of indexing ``array`` by ``index``; where NumPy gives a scalar (an
    integer for every dim), the 0-d view of the element CuPy gives, through which
    a write reaches ``array``."""
    if not isinstance(result, np.generic):
        return result
    return np.ndarray.__getitem__(array, (*(index if isinstance(index, tuple) else (index,)), Ellipsis))


class _Flags:
    """CuPy's ``ndarray.flags``: ``c_contiguous``, ``f_contiguous`` and ``owndata``,
    and none of NumPy's others (``writeable``, ``aligned``...)."""

    def __init__(self, flags):
        self.c_contiguous, self.f_contiguous, self.owndata = flags.c_contiguous, flags.f_contiguous, flags.owndata


class DeviceArray(np.ndarray):
    """An array on the emulated GPU: NumPy's memory, CuPy's manners."""

    @property
    def flags(self):
        """CuPy's flags (:class:`_Flags`) of the array."""
        return _Flags(np.ndarray.flags.__get__(self))

    @property
    def base(self):
        """CuPy's base: the array owning the memory, which every CuPy view points at
        (NumPy keeps a chain of views for a subclass). The walk stops at a link that
        something besides its view also holds, as on CuPy that holder would hold the
        owner: the answer then still shows the memory shared."""
        base = np.ndarray.base.__get__(self)
        # the link's references: its view's base, this name and getrefcount's argument
        while isinstance(base, np.ndarray) and np.ndarray.base.__get__(base) is not None \
                and sys.getrefcount(base) == 3:
            base = np.ndarray.base.__get__(base)
        return base

    device = _DeviceId()
    resize, setflags, getfield, setfield = (_lacking(n) for n in ("resize", "setflags", "getfield", "setfield"))
    __index__ = None  # a CuPy array is no integer: operator.index refuses it

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        _refuse_host(inputs, f"{ufunc.__name__}.{method}")
        if out is not None:
            kwargs["out"] = tuple(_host(o) for o in out)
        result = _run(lambda: getattr(ufunc, method)(*_host(inputs), **kwargs), writes=out is not None)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return result

    def __array_function__(self, func, types, args, kwargs):
        if not _cupy_has(func.__name__):
            raise TypeError(f"numpy.{func.__name__} of a CuPy array: CuPy has no {func.__name__}")
        return _function(func.__name__)(*args, **kwargs)

    def __getitem__(self, index):
        masks = index if isinstance(index, tuple) else (index,)
        if any(isinstance(m, np.ndarray) and m.dtype == bool for m in masks):
            _synchronizes("boolean-mask indexing")
        return _run(lambda: _element_view(np.ndarray.__getitem__(self, _wrapped(self.shape, _host(index))),
                                          self, index))

    __bool__, __int__, __float__, __complex__, item, tolist, nonzero = (
        _read_back(n) for n in ("__bool__", "__int__", "__float__", "__complex__", "item", "tolist", "nonzero"))
    (astype, copy, fill, take, put, repeat, argmax, argmin, argsort, sort, searchsorted, reshape, ravel,
     flatten, dot, diagonal, trace, choose, partition) = (_computing(n) for n in (
        "astype", "copy", "fill", "take", "put", "repeat", "argmax", "argmin", "argsort", "sort", "searchsorted",
        "reshape", "ravel", "flatten", "dot", "diagonal", "trace", "choose", "partition"))

    def __setitem__(self, index, value):
        host = self.view(np.ndarray)
        _run(lambda: host.__setitem__(_wrapped(self.shape, _host(index)), _host(value)), writes=True)

    def get(self, stream=None):
        """A host copy (CuPy's ``ndarray.get``)."""
        _synchronizes("ndarray.get")
        return np.array(self.view(np.ndarray))

    def set(self, host, stream=None):
        """Fill from a host array of the same shape (CuPy's ``ndarray.set``)."""
        self.view(np.ndarray)[...] = host


class _Function:
    """A NumPy function under CuPy's rules: only the arguments CuPy's takes, host
    arrays refused, device arrays out."""

    def __init__(self, fn, path, takes_host=False, method=False):
        self._fn, self._path, self._takes_host = fn, path, takes_host
        self._signature = _cupy_signature(path, method)

    def __call__(self, *args, **kwargs):
        if self._signature is not None:
            try:
                self._signature.bind(*args, **kwargs)
            except TypeError as exc:
                raise TypeError(f"cupy.{self._path}{self._signature} refuses these arguments ({exc}): "
                                "the GPU run would fail here") from None
        if not self._takes_host:
            _refuse_host(args, self._path)
            _refuse_host(kwargs.values(), self._path)
        if self._path in _DATA_SIZED or (self._path == "where" and len(args) + len(kwargs) == 1):
            _synchronizes(self._path)
        if self._path == "take":  # CuPy's take has no mode: it wraps indices out of range
            kwargs = {**kwargs, "mode": "wrap"}
        if self._path == "take_along_axis":  # so does CuPy's integer-array indexing
            bound = inspect.signature(np.take_along_axis).bind(*args, **kwargs)
            bound.apply_defaults()
            array, indices, axis = bound.arguments.values()
            args, kwargs = (array, indices % array.shape[axis], axis), {}
        if self._path.endswith(".at"):  # ufunc.at(array, index, ...); the wrap is device work (recorded)
            args = (args[0], _wrapped(np.shape(args[0]), args[1]), *args[2:])
        return _run(lambda: self._fn(*_host(args), **_host(kwargs)), record=self._path not in _ALLOCATE_ONLY,
                    writes=kwargs.get("out") is not None)

    def __getattr__(self, name):  # a ufunc's methods (at, reduce, outer, ...)
        if not _cupy_has(f"{self._path}.{name}"):
            raise AttributeError(f"cupy.{self._path} has no {name!r}")
        value = getattr(self._fn, name)
        return _Function(value, f"{self._path}.{name}") if callable(value) else value


@functools.cache
def _function(name):
    """NumPy's function ``name`` under CuPy's rules."""
    return _Function(getattr(np, name), name)


#: Functions that allocate and compute nothing: a captured graph has no work of theirs.
_ALLOCATE_ONLY = {"empty", "empty_like"}

#: Functions that copy host data onto the device, as CuPy's do.
_FROM_HOST = {"asarray", "array", "asanyarray"}

_KERNELS = ("ElementwiseKernel", "ReductionKernel", "RawKernel")


class _Namespace:
    """A NumPy namespace (``numpy``, ``numpy.linalg``...) answering only what CuPy has."""

    def __init__(self, module, prefix=""):
        self._module, self._prefix = module, prefix

    def __getattr__(self, name):
        path = self._prefix + name
        if not _cupy_has(path):
            raise AttributeError(f"cupy has no {path!r} (NumPy does): the GPU run would fail here")
        if not self._prefix and name == "ndarray":
            return DeviceArray
        if not self._prefix and name in _KERNELS:
            return _kernel_class(getattr(cuda_emulator, name))
        value = getattr(self._module, name)
        if isinstance(value, type) or not callable(value):
            return _Namespace(value, path + ".") if type(value).__name__ == "module" else value
        function = _Function(value, path, takes_host=not self._prefix and name in _FROM_HOST)
        setattr(self, name, function)  # answered from now on without __getattr__
        return function


def _kernel_class(emulated):
    """The emulator's kernel class, refusing host arrays and giving device arrays."""

    class DeviceKernel(emulated):
        def __call__(self, *args, **kwargs):
            _refuse_host(args, f"kernel {self.name}")
            launch = super().__call__
            return _run(lambda: launch(*args, **kwargs), writes=True)

    DeviceKernel.__name__ = emulated.__name__
    return DeviceKernel


class _Random(_Namespace):
    """``xp.random``, whose ``default_rng`` gives a generator with CuPy's methods."""

    def default_rng(self, seed=None):
        return Generator(seed)


class Generator:
    """A NumPy generator with only the methods CuPy's ``Generator`` has, drawing device
    arrays; :meth:`reseed` restarts it in place, as the cuda backend reseeds CuPy's, so
    that a recorded draw draws from the new seed at its next replay."""

    def __init__(self, seed):
        self._rng = np.random.default_rng(seed)

    def reseed(self, seed):
        self._rng = np.random.default_rng(seed)

    #: a PCG64 state's fields and their sizes in bytes, as the device array of :meth:`state` packs them
    _FIELDS = (("state", 16), ("inc", 16), ("has_uint32", 1), ("uinteger", 4))

    def state(self):
        """The generator's state as a device array of bytes (of one size for every
        state, as a GPU generator's is)."""
        raw = self._rng.bit_generator.state
        values = {**raw["state"], "has_uint32": raw["has_uint32"], "uinteger": raw["uinteger"]}
        packed = b"".join(int(values[name]).to_bytes(size, "little") for name, size in self._FIELDS)
        return XP.asarray(np.frombuffer(packed, np.uint8).copy())

    def set_state(self, state):
        """Restore a state from :meth:`state`, in place."""
        packed, values, at = _host(state).tobytes(), {}, 0
        for name, size in self._FIELDS:
            values[name], at = int.from_bytes(packed[at:at + size], "little"), at + size
        self._rng.bit_generator.state = {
            "bit_generator": "PCG64", "state": {"state": values["state"], "inc": values["inc"]},
            "has_uint32": values["has_uint32"], "uinteger": values["uinteger"]}

    def __getattr__(self, name):
        if not _cupy_has(f"random.Generator.{name}"):
            raise AttributeError(f"CuPy's random Generator has no {name!r} (NumPy's has): "
                                 "the GPU run would fail here")
        draw = _Function(lambda *args, **kwargs: getattr(self._rng, name)(*args, **kwargs),
                         f"random.Generator.{name}", method=True)
        setattr(self, name, draw)  # answered from now on without __getattr__
        return draw


class _XP(_Namespace):
    random = _Random(np.random, "random.")

    @staticmethod
    def asnumpy(array):
        """A host copy of a device array (CuPy's own name, which NumPy lacks)."""
        _synchronizes("asnumpy")
        return np.array(_host(array))


#: The emulated GPU's array namespace.
XP = _XP(np)


#: NumPy's conversions that CuPy's arrays refuse (NumPy takes its subclass, the device
#: array, as it is, so they would pass unseen).
_CONVERSIONS = ("asarray", "array", "asanyarray", "ascontiguousarray", "asfortranarray", "require")


def refuse_host_conversion():
    """Make NumPy's conversions of a device array, called from ember's own modules,
    raise CuPy's TypeError (CuPy wants ``.get()``); the emulation's calls pass."""
    for name in _CONVERSIONS:
        plain = getattr(np, name)
        if getattr(plain, "_refusing", False):
            continue

        def convert(a, *args, _plain=plain, **kwargs):
            if isinstance(a, DeviceArray) and sys._getframe(1).f_globals.get("__name__", "").startswith("ember"):
                raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use `.get()` to "
                                "construct a NumPy array explicitly (CuPy's error: the GPU run would fail here)")
            return _plain(a, *args, **kwargs)

        convert._refusing = True
        functools.update_wrapper(convert, plain)
        setattr(np, name, convert)
