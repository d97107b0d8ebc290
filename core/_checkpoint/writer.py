"""Writing torch's zip checkpoint format without torch.

The archive holds ``archive/data.pkl`` (a protocol-2 pickle of the object),
one ``archive/data/<key>`` record per storage (its raw bytes) and the small
records torch 2.x writes (``.format_version``, ``.storage_alignment``,
``byteorder``, ``version``, ``.data/serialization_id``). In the pickle a tensor
is ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
requires_grad, hooks)`` with the storage as the persistent id ``('storage',
torch.<Kind>Storage, key, location, numel)``, so ``torch.load(weights_only=True)``
reads what ember writes. Those torch globals are written by name: the pure-Python
pickler of the ``pickle`` module is extended with two stand-ins (a named global
and a reduce call) so that nothing needs torch to be importable.
"""

import os
import pickle
import sys
import zipfile
from collections import OrderedDict

import numpy as np

from .. import _dtype
from .._device import device
from .._size import Size
from .._tensor import Tensor
from ..nn.parameter import Parameter
from .torch_names import REBUILD_MODULE, REBUILD_PARAMETER, REBUILD_TENSOR, STORAGE_NAMES

_ARCHIVE = "archive"  # the records' folder in a stream; torch names it after the file for a path
_ALIGNMENT = 64  # torch aligns each record's data so that it can be memory-mapped


class _Global:
    """A module-level name written as a GLOBAL opcode (never imported)."""

    __slots__ = ("module", "name")

    def __init__(self, module, name):
        self.module = module
        self.name = name


class _Call:
    """``func(*args)`` in the pickle, for values that are not Python objects here."""

    __slots__ = ("func", "args")

    def __init__(self, func, args):
        self.func = func
        self.args = args


_REBUILD_TENSOR = _Global(REBUILD_MODULE, REBUILD_TENSOR)
_REBUILD_PARAMETER = _Global(REBUILD_MODULE, REBUILD_PARAMETER)
_SIZE = _Global("torch", "Size")
_DEVICE = _Global("torch", "device")
_ENCODE = _Global("_codecs", "encode")
_DTYPES = {d: _Global("torch", d.name) for d in _dtype.ALL}
_STORAGE_TYPES = {name: _Global("torch", storage) for name, storage in STORAGE_NAMES.items()}


class _Storage:
    """One storage record: a C-contiguous device array and its key."""

    __slots__ = ("array", "be", "key", "pid")

    def __init__(self, array, be, key):
        self.array = array
        self.be = be
        self.key = key
        dev = be.device_index(array)
        location = "cpu" if be.name == "cpu" else f"{be.name}:{dev or 0}"
        self.pid = ("storage", _STORAGE_TYPES[_dtype._FROM_NP[array.dtype].name], key, location, array.size)


class _Storages:
    """Assigns storages to tensors: views of one memory block share one storage."""

    def __init__(self):
        self.records = {}   # key -> _Storage, in order of first use
        self._by_root = {}  # id of a root array -> (root, _Storage); holding root keeps the id unique

    def locate(self, t):
        """``(storage, offset, size, stride)`` for tensor ``t``, in elements."""
        arr = t._data
        root = arr
        while isinstance(root.base, type(arr)):
            root = root.base
        view = _view_of(arr, root, t._be)
        if view is None:
            root = t._be.xp.ascontiguousarray(arr).reshape(-1)  # its own storage, copied
            offset, stride = 0, _contiguous_strides(arr.shape)
        else:
            offset, stride = view
        entry = self._by_root.get(id(root))
        if entry is None:
            storage = _Storage(root.reshape(-1), t._be, str(len(self.records)))
            self.records[storage.key] = storage
            entry = self._by_root[id(root)] = (root, storage)
        return entry[1], offset, tuple(arr.shape), stride


def _view_of(arr, root, be):
    """``(offset, stride)`` of ``arr`` inside ``root`` in elements, or None when it
    cannot be described so (another dtype, negative or odd strides, a strided root)."""
    if root.dtype != arr.dtype or not root.flags.c_contiguous or arr.size == 0:
        return None
    size = arr.itemsize
    delta = be.data_ptr(arr) - be.data_ptr(root)
    if delta < 0 or delta % size or any(s < 0 or s % size for s in arr.strides):
        return None
    return delta // size, tuple(s // size for s in arr.strides)


def _contiguous_strides(shape):
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


class _TorchPickler(pickle._Pickler):
    """The ``pickle`` module's Python pickler, writing ember's types under torch's names."""

    dispatch = pickle._Pickler.dispatch.copy()

    def __init__(self, file, storages):
        super().__init__(file, protocol=2)
        self.storages = storages

    def persistent_id(self, obj):
        return obj.pid if type(obj) is _Storage else None

    def _call(self, func, args, obj=None):
        self.save(func)
        self.save(args)
        self.write(pickle.REDUCE)
        if obj is not None:
            self.memoize(obj)

    def save_global_name(self, obj):
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode("utf-8"))
        self.memoize(obj)

    def save_call(self, obj):
        self._call(obj.func, obj.args)

    def save_tensor(self, t):
        storage, offset, size, stride = self.storages.locate(t)
        is_parameter = isinstance(t, Parameter)
        requires_grad = t.requires_grad
        args = (storage, offset, size, stride, requires_grad and not is_parameter, OrderedDict())
        if is_parameter:
            self._call(_REBUILD_PARAMETER, (_Call(_REBUILD_TENSOR, args), requires_grad, OrderedDict()), t)
        else:
            self._call(_REBUILD_TENSOR, args, t)

    def save_dtype(self, d):
        self.save(_DTYPES[d])

    def save_device(self, d):
        args = (d.type,) if d.index is None else (d.type, d.index)
        self._call(_DEVICE, args, d)

    def save_size(self, s):
        self._call(_SIZE, (tuple(s),), s)

    def save_bytes(self, b):
        # protocol 2 spells bytes as _codecs.encode(text, 'latin1'); the pickle module
        # writes b'' as builtins.bytes(), which torch's weights-only reader refuses
        self._call(_ENCODE, (b.decode("latin-1"), "latin1"), b)

    dispatch[_Global] = save_global_name
    dispatch[_Call] = save_call
    dispatch[Tensor] = save_tensor
    dispatch[Parameter] = save_tensor
    dispatch[_dtype.dtype] = save_dtype
    dispatch[device] = save_device
    dispatch[Size] = save_size
    dispatch[bytes] = save_bytes


def write_zip(obj, f):
    """Write ``obj`` in torch's zip format to ``f`` (a path or a seekable binary file)."""
    import io

    storages = _Storages()
    pickled = io.BytesIO()
    _TorchPickler(pickled, storages).dump(obj)
    folder = _ARCHIVE
    if isinstance(f, (str, os.PathLike)):   # "ck.pth.tar" -> "ck.pth", as torch
        base = os.path.basename(os.fsdecode(f))
        folder = base[: base.rindex(".")] if "." in base else base
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as zf:
        def record(name, data):
            _write_record(zf, f"{folder or _ARCHIVE}/{name}", data)

        record("data.pkl", pickled.getvalue())
        record(".format_version", b"1")
        record(".storage_alignment", str(_ALIGNMENT).encode())
        record("byteorder", sys.byteorder.encode())
        for key, storage in storages.records.items():
            host = np.ascontiguousarray(storage.be.to_host(storage.array)).reshape(-1)
            record(f"data/{key}", host.view(np.uint8))
        record("version", b"3\n")
        record(".data/serialization_id", str(int.from_bytes(os.urandom(16), "little")).zfill(40).encode())


def _write_record(zf, name, data):
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    nbytes = len(data)
    info.file_size = nbytes
    zip64 = nbytes > zipfile.ZIP64_LIMIT
    # pad the local header's extra field so that the data starts on an aligned offset
    header = 30 + len(info.filename.encode("utf-8")) + (20 if zip64 else 0)
    pad = -(zf.fp.tell() + header + 4) % _ALIGNMENT
    info.extra = b"FB" + pad.to_bytes(2, "little") + b"Z" * pad
    with zf.open(info, "w", force_zip64=zip64) as out:
        out.write(memoryview(data))
