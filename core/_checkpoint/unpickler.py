"""A pickle reader that runs no code from the file.

It is the ``pickle`` module's Python unpickler with three restrictions:

* globals resolve only through ``ALLOWED``, a table of names torch's checkpoints
  use (tensor and storage rebuilders, dtypes, ``OrderedDict``, ``set``...) mapped
  to ember functions that check their arguments; any other name raises an
  ``UnpicklingError`` naming it, before anything is imported;
* only the opcodes of plain data, memo, ``GLOBAL``/``REDUCE``/``BUILD`` and
  persistent ids are read (``NEWOBJ`` only as below; no ``INST``, ``OBJ``,
  extension codes);
* ``BUILD`` and the container opcodes act only on the types expected there.

A callable reaches the stack only from the table, and ``REDUCE`` calls only a
callable that a global of the file resolved to. The globals a user marks safe
(``ember.serialization.add_safe_globals``) extend the table as in torch: a marked
class may be created (``NEWOBJ``, the one opcode allowed for them alone) and have
its state restored (``BUILD``). With ``trusted=True`` (``pickle_ok``) names
outside the table are imported as plain pickle does.
"""

import pickle
import re
import struct
from collections import Counter, OrderedDict
from math import prod

import numpy as np

from .. import _dtype
from .._device import device
from .._size import Size
from .._tensor import Tensor
from ..nn.parameter import Parameter
from .safe_globals import by_name as _user_globals
from .torch_names import DTYPE_OF_STORAGE, FOREIGN_STORAGES, REBUILD_MODULE

UnpicklingError = pickle.UnpicklingError


class _Marker:
    """A class named in a file that ember does not call (only compares)."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"<{self.name}>"


class StorageType(_Marker):
    """``torch.<Kind>Storage`` (``dtype`` set) or ``torch.storage.UntypedStorage`` (bytes)."""

    __slots__ = ("dtype",)

    def __init__(self, name, dtype):
        super().__init__(name)
        self.dtype = dtype


class LoadedStorage:
    """A storage read from a checkpoint: a 1-D array on its backend, in elements of
    ``dtype`` (or in bytes, ``dtype`` None, for an untyped storage)."""

    __slots__ = ("array", "be", "dtype")

    def __init__(self, array, be, dtype):
        self.array = array
        self.be = be
        self.dtype = dtype


_TENSOR_TYPE = _Marker("torch.Tensor")
_PARAMETER_TYPE = _Marker("torch.nn.parameter.Parameter")
_NDARRAY_TYPE = _Marker("numpy.ndarray")


# ---------------------------------------------------------------- tensors

def _ints(value, what):
    if not isinstance(value, (tuple, list)) or any(type(v) is not int or v < 0 for v in value):
        raise UnpicklingError(f"a tensor's {what} must be a tuple of non-negative ints, got {value!r}")
    return tuple(value)


def _strided(storage, dtype, offset, size, stride):
    """The tensor of ``size``/``stride`` (in elements) at ``offset`` in ``storage``,
    sharing its memory; refuses any element outside the storage."""
    if type(storage) is not LoadedStorage:
        raise UnpicklingError(f"a tensor must be rebuilt from a storage, got {type(storage).__name__}")
    size, stride = _ints(size, "size"), _ints(stride, "stride")
    if type(offset) is not int or offset < 0 or len(size) != len(stride):
        raise UnpicklingError(f"bad tensor layout: offset {offset!r}, size {size}, stride {stride}")
    arr = storage.array
    if storage.dtype is None:   # bytes, viewed as ``dtype``
        if arr.size % dtype.itemsize:
            raise UnpicklingError(f"a storage of {arr.size} bytes does not hold whole {dtype.name} elements")
        arr = arr.view(dtype.np)
    elif storage.dtype is not dtype:
        raise UnpicklingError(f"a {dtype.name} tensor cannot view a {storage.dtype.name} storage")
    end = offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1 if prod(size) else offset
    if end > arr.size:
        raise UnpicklingError(
            f"a tensor of size {size} (stride {stride}, offset {offset}) reaches element {end - 1} of a "
            f"storage of {arr.size}: the file is corrupt"
        )
    item = arr.itemsize
    strides = tuple(s * item for s in stride)
    if storage.be.name == "cpu":
        data = np.ndarray(size, arr.dtype, buffer=arr, offset=offset * item, strides=strides)
    else:
        data = storage.be.xp.lib.stride_tricks.as_strided(arr[offset:], shape=size, strides=strides)
    return Tensor._make(data, storage.be)


def _with_grad(t, requires_grad):
    if type(requires_grad) is not bool:
        raise UnpicklingError(f"requires_grad must be a bool, got {requires_grad!r}")
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_tensor(storage, storage_offset, size, stride):
    if type(storage) is not LoadedStorage or storage.dtype is None:
        raise UnpicklingError("a tensor rebuilt without a dtype needs a typed storage (torch.<Kind>Storage)")
    return _strided(storage, storage.dtype, storage_offset, size, stride)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                       metadata=None):
    return _with_grad(_rebuild_tensor(storage, storage_offset, size, stride), requires_grad)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype,
                       metadata=None):
    if not isinstance(dtype, _dtype.dtype):
        raise UnpicklingError(f"expected a dtype, got {dtype!r}")
    return _with_grad(_strided(storage, dtype, storage_offset, size, stride), requires_grad)


def _check_no_state(state, what):
    parts = state if isinstance(state, tuple) else (state,)
    names = [k for part in parts if part for k in (part if isinstance(part, dict) else [part])]
    if names:
        raise UnpicklingError(
            f"the {what} carries Python attributes ({', '.join(map(str, names))}), which ember tensors cannot hold"
        )


def _parameter(data, requires_grad):
    if not isinstance(data, Tensor):
        raise UnpicklingError(f"a Parameter must be rebuilt from a tensor, got {type(data).__name__}")
    if type(requires_grad) is not bool:
        raise UnpicklingError(f"requires_grad must be a bool, got {requires_grad!r}")
    return Parameter(data, requires_grad)


def _rebuild_parameter(data, requires_grad, backward_hooks):
    return _parameter(data, requires_grad)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    _check_no_state(state, "parameter")
    return _parameter(data, requires_grad)


def _rebuild_from_type_v2(func, new_type, args, state):
    if new_type not in (_TENSOR_TYPE, _PARAMETER_TYPE):
        raise UnpicklingError(f"cannot rebuild a tensor as {new_type!r}")
    if not isinstance(args, tuple):
        raise UnpicklingError("the rebuild arguments must be a tuple")
    t = func(*args)
    if not isinstance(t, Tensor):
        raise UnpicklingError(f"expected a tensor, got {type(t).__name__}")
    _check_no_state(state, "tensor")
    return _parameter(t, t.requires_grad) if new_type is _PARAMETER_TYPE else t


# ---------------------------------------------------------------- NumPy values

class _PendingArray:
    """``numpy._reconstruct``'s empty array, replaced by the real one at ``BUILD``."""

    __slots__ = ()


_NUMPY_CODE = re.compile(r"[biufc][0-9]{1,2}")


def _numpy_dtype(code, align=False, copy=False):
    if not isinstance(code, str) or not _NUMPY_CODE.fullmatch(code):
        raise UnpicklingError(f"only NumPy number and bool dtypes can be read, got {code!r}")
    try:
        return np.dtype(code)
    except TypeError:
        raise UnpicklingError(f"unknown NumPy dtype {code!r}") from None


def _numpy_reconstruct(cls, shape, typecode):
    if cls is not _NDARRAY_TYPE:
        raise UnpicklingError(f"only numpy.ndarray can be reconstructed, got {cls!r}")
    return _PendingArray()


def _numpy_array(state):
    """The array a NumPy pickle's ``(version, shape, dtype, fortran, bytes)`` state describes."""
    if not (isinstance(state, tuple) and len(state) == 5):
        raise UnpicklingError("a NumPy array's state must be (version, shape, dtype, fortran, data)")
    _, shape, dt, fortran, raw = state
    shape = _ints(shape, "NumPy shape")
    if not isinstance(dt, np.dtype) or not isinstance(raw, (bytes, bytearray)):
        raise UnpicklingError("a NumPy array's state needs a dtype read from the file and bytes")
    if len(raw) != prod(shape) * dt.itemsize:
        raise UnpicklingError(f"a NumPy array of shape {shape} and dtype {dt} needs "
                              f"{prod(shape) * dt.itemsize} bytes, the file has {len(raw)}")
    return np.frombuffer(bytearray(raw), dt).reshape(shape, order="F" if fortran else "C")


def _numpy_scalar(dt, raw):
    if not isinstance(dt, np.dtype) or not isinstance(raw, bytes) or len(raw) != dt.itemsize:
        raise UnpicklingError("a NumPy scalar needs a dtype read from the file and its bytes")
    return np.frombuffer(raw, dt)[0]


def _numpy_dtype_state(dt, state):
    """A dtype's ``BUILD`` state: only the byte order of a plain dtype may change."""
    if not (isinstance(state, tuple) and len(state) >= 5 and state[1] in ("<", ">", "|", "=")
            and state[2:5] == (None, None, None)):
        raise UnpicklingError(f"unsupported NumPy dtype state {state!r}")
    return dt if state[1] in ("|", "=") else dt.newbyteorder(state[1])


# ---------------------------------------------------------------- small builtins

def _encode(text, encoding):
    """``_codecs.encode``, as protocol-2 pickles spell bytes: latin-1 text only."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise UnpicklingError("_codecs.encode is read only as the bytes of latin-1 text")
    return text.encode("latin-1")


def _bytes(*args):
    """``bytes()``, as protocol-2 pickles spell ``b''``."""
    if args:
        raise UnpicklingError("builtins.bytes is read only without arguments (empty bytes)")
    return b""


def _table():
    t = {
        "collections.OrderedDict": OrderedDict,
        "collections.Counter": Counter,
        "builtins.set": set,
        "builtins.frozenset": frozenset,
        "builtins.complex": complex,
        "builtins.bytes": _bytes,
        "_codecs.encode": _encode,
        "torch.Size": Size,
        "torch.device": device,
        "torch.Tensor": _TENSOR_TYPE,
        "torch.nn.parameter.Parameter": _PARAMETER_TYPE,
        "torch.storage.UntypedStorage": StorageType("torch.storage.UntypedStorage", None),
        "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
        "numpy.ndarray": _NDARRAY_TYPE,
        "numpy.dtype": _numpy_dtype,
    }
    for f in (_rebuild_tensor, _rebuild_tensor_v2, _rebuild_tensor_v3, _rebuild_parameter,
              _rebuild_parameter_with_state):
        t[f"{REBUILD_MODULE}.{f.__name__}"] = f
    for core in ("numpy.core", "numpy._core"):
        t[f"{core}.multiarray._reconstruct"] = _numpy_reconstruct
        t[f"{core}.multiarray.scalar"] = _numpy_scalar
    for d in _dtype.ALL:
        t[f"torch.{d.name}"] = d
    for name, d in DTYPE_OF_STORAGE.items():
        for module in ("torch", "torch.cuda"):
            t[f"{module}.{name}"] = StorageType(f"{module}.{name}", d)
    return t


ALLOWED = _table()
_FOREIGN_DTYPES = {f"torch.{module}{name}": dt for name, dt in FOREIGN_STORAGES.items()
                   for module in ("", "cuda.")}
_FOREIGN_DTYPES.update({f"torch.{dt}": dt for dt in ("bfloat16", "complex32", "complex64", "complex128",
                                                      "uint16", "uint32", "uint64", "float8_e4m3fn",
                                                      "float8_e5m2", "qint8", "quint8", "qint32")})


# ---------------------------------------------------------------- the unpickler

_SAFE_OPCODES = {
    op[0] for op in (
        pickle.PROTO, pickle.FRAME, pickle.STOP, pickle.MARK, pickle.POP, pickle.POP_MARK, pickle.DUP,
        pickle.NONE, pickle.NEWTRUE, pickle.NEWFALSE, pickle.INT, pickle.BININT, pickle.BININT1,
        pickle.BININT2, pickle.LONG, pickle.LONG1, pickle.LONG4, pickle.FLOAT, pickle.BINFLOAT,
        pickle.STRING, pickle.BINSTRING, pickle.SHORT_BINSTRING, pickle.UNICODE, pickle.BINUNICODE,
        pickle.SHORT_BINUNICODE, pickle.BINUNICODE8, pickle.BINBYTES, pickle.SHORT_BINBYTES,
        pickle.BINBYTES8, pickle.EMPTY_TUPLE, pickle.TUPLE, pickle.TUPLE1, pickle.TUPLE2, pickle.TUPLE3,
        pickle.EMPTY_LIST, pickle.LIST, pickle.EMPTY_DICT, pickle.DICT, pickle.EMPTY_SET,
        pickle.FROZENSET, pickle.GET, pickle.BINGET, pickle.LONG_BINGET, pickle.PUT, pickle.BINPUT,
        pickle.LONG_BINPUT, pickle.MEMOIZE, pickle.GLOBAL, pickle.STACK_GLOBAL, pickle.REDUCE,
        pickle.PERSID, pickle.BINPERSID,
    )
}


class _CallerError(Exception):
    """Carries an error of ``persistent_load`` through ``read_pickle`` unchanged."""


class _RefusingDispatch(dict):
    def __missing__(self, code):
        import pickletools

        name = next((op.name for op in pickletools.opcodes if ord(op.code) == code), None)
        what = f"the pickle opcode {name}" if name else f"the unknown pickle opcode {code:#04x}"
        raise UnpicklingError(f"{what} is not allowed in a checkpoint (it could run code); the file is "
                              "corrupt or was not written by torch.save/ember.save")


class Unpickler(pickle._Unpickler):
    """Reads a checkpoint's pickle; ``persistent_load`` resolves storages.

    Args:
        file: the pickle bytes, as a binary file.
        persistent_load: called with each ``('storage', ...)`` persistent id.
        trusted: also import globals outside the table (``pickle_ok``); runs code
            from the file, so only for files from trusted sources.
    """

    dispatch = _RefusingDispatch({k: v for k, v in pickle._Unpickler.dispatch.items() if k in _SAFE_OPCODES})

    def __init__(self, file, persistent_load, trusted=False):
        super().__init__(file, encoding="utf-8")
        self._load_storage = persistent_load
        self.trusted = trusted
        self._user = _user_globals()
        self._user_ids = {id(g) for g in self._user.values()}
        self._resolved = {}   # id -> each global find_class gave: what REDUCE may call
        if trusted:
            self.dispatch = pickle._Unpickler.dispatch | Unpickler.dispatch

    def find_class(self, module, name):
        if module == "__builtin__":   # protocol-2 pickles use Python 2's module name
            module = "builtins"
        full = f"{module}.{name}"
        found = ALLOWED.get(full, self._user.get(full, self))
        if found is not self:
            self._resolved[id(found)] = found
            return found
        if full in _FOREIGN_DTYPES:
            raise UnpicklingError(
                f"the file holds {_FOREIGN_DTYPES[full]} data ('{full}'), a dtype ember does not have")
        if module == "torch" or module.startswith("torch."):
            raise UnpicklingError(f"the file needs torch's '{full}', which ember does not provide")
        if self.trusted:
            return super().find_class(module, name)
        raise UnpicklingError(
            f"refused the global '{full}': a checkpoint read without pickle_ok holds only tensors, "
            "numbers, strings, containers, NumPy arrays and the globals marked safe, and no other code "
            f"runs while loading. If you trust '{full}', mark it safe with "
            "ember.serialization.add_safe_globals([...]) or the ember.serialization.safe_globals([...]) "
            "context manager; pass pickle_ok=True (or weights_only=False) only if you trust the file's source"
        )

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] in ("storage", b"storage")):
            raise UnpicklingError(f"only storages may be persistent ids, got {pid!r}")
        _, storage_type, key, location, numel = pid
        if not isinstance(storage_type, StorageType):
            raise UnpicklingError(f"expected a storage type, got {storage_type!r}")
        if not isinstance(key, str) or not isinstance(location, str) or type(numel) is not int or numel < 0:
            raise UnpicklingError(f"malformed storage id {pid!r}")
        try:
            return self._load_storage(storage_type.dtype, key, location, numel)
        except Exception as e:   # the caller's code (and map_location's): its errors pass unchanged
            raise _CallerError from e

    def load_inst(self):
        if self.trusted:
            return super().load_inst()
        module = self.readline()[:-1].decode("ascii")
        name = self.readline()[:-1].decode("ascii")
        self.find_class(module, name)   # a name outside the table is refused by name
        raise UnpicklingError("the pickle opcode INST is not allowed in a checkpoint")

    def load_reduce(self):
        func = self.stack[-2]
        if not self.trusted and self._resolved.get(id(func)) is not func:
            raise UnpicklingError(f"the pickle opcode REDUCE may call only a global of the file, not a "
                                  f"{type(func).__name__} built from it")
        super().load_reduce()

    def load_newobj(self):
        cls = self.stack[-2]
        if not self.trusted and not (isinstance(cls, type) and id(cls) in self._user_ids):
            raise UnpicklingError(
                "the pickle opcode NEWOBJ is not allowed in a checkpoint except on a class marked safe with "
                f"ember.serialization.add_safe_globals; got {cls!r}")
        super().load_newobj()

    def _replace_top(self, value):
        """Put ``value`` where the object being built was, in the stack and the memo."""
        old = self.stack[-1]
        self.stack[-1] = value
        for k, v in self.memo.items():
            if v is old:
                self.memo[k] = value

    def load_build(self):
        inst = self.stack[-2]
        if isinstance(inst, _PendingArray):
            state = self.stack.pop()
            self._replace_top(_numpy_array(state))
        elif isinstance(inst, np.dtype):
            state = self.stack.pop()
            self._replace_top(_numpy_dtype_state(inst, state))
        elif type(inst) is OrderedDict and isinstance(self.stack[-1], dict) \
                and all(isinstance(k, str) for k in self.stack[-1]):
            inst.__dict__.update(self.stack.pop())   # a state dict's ``_metadata``
        elif self.trusted or id(type(inst)) in self._user_ids:
            super().load_build()
        else:
            raise UnpicklingError(f"cannot restore the state of a {type(inst).__name__} object from a checkpoint")

    def _container(self, kinds, opcode):
        target = self.stack[-1]
        if not isinstance(target, kinds) and not self.trusted:
            raise UnpicklingError(f"the pickle opcode {opcode} cannot apply to a {type(target).__name__}")

    def load_append(self):
        value = self.stack.pop()
        self._container(list, "APPEND")
        self.stack[-1].append(value)

    def load_appends(self):
        items = self.pop_mark()
        self._container(list, "APPENDS")
        self.stack[-1].extend(items)

    def load_setitem(self):
        value, key = self.stack.pop(), self.stack.pop()
        self._container(dict, "SETITEM")
        self.stack[-1][key] = value

    def load_setitems(self):
        items = self.pop_mark()
        self._container(dict, "SETITEMS")
        target = self.stack[-1]
        for i in range(0, len(items), 2):
            target[items[i]] = items[i + 1]

    def load_additems(self):
        items = self.pop_mark()
        self._container(set, "ADDITEMS")
        self.stack[-1].update(items)

    dispatch[pickle.REDUCE[0]] = load_reduce
    dispatch[pickle.NEWOBJ[0]] = load_newobj
    dispatch[pickle.INST[0]] = load_inst
    dispatch[pickle.BUILD[0]] = load_build
    dispatch[pickle.APPEND[0]] = load_append
    dispatch[pickle.APPENDS[0]] = load_appends
    dispatch[pickle.SETITEM[0]] = load_setitem
    dispatch[pickle.SETITEMS[0]] = load_setitems
    dispatch[pickle.ADDITEMS[0]] = load_additems


def read_pickle(file, persistent_load, trusted=False):
    """The object pickled in ``file``, read with :class:`Unpickler`."""
    try:
        return Unpickler(file, persistent_load, trusted).load()
    except _CallerError as e:
        raise e.__cause__ from None
    except (UnpicklingError, RuntimeError):
        raise
    except (EOFError, KeyError, IndexError, AttributeError, TypeError, ValueError, OverflowError,
            struct.error) as e:
        raise UnpicklingError(f"the checkpoint's pickle is corrupt ({type(e).__name__}: {e})") from None
