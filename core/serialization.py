"""``ember.save`` / ``ember.load``: checkpoints in torch's format, read without running code.

By default ``save`` writes torch's zip format (what ``torch.save`` writes), so
``torch.load(f, weights_only=True)`` reads ember's files, and ``load`` reads
``torch.save`` files, through a pickle reader that resolves only a fixed table of
names (tensors, storages, dtypes, devices, ``OrderedDict``, NumPy arrays) and
calls no other code. Whole modules and arbitrary objects need ``pickle_ok=True``
on both sides. The safetensors format is kept for tensors and dicts of tensors
(``format="safetensors"`` or a ``.safetensors`` file name), and ``load`` detects it.
"""

import io
import os
from collections import Counter, OrderedDict
from contextlib import nullcontext

import numpy as np

from . import _dtype
from ._device import device
from ._size import Size
from ._checkpoint.safe_globals import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals
from ._tensor import Tensor

__all__ = ["save", "load", "add_safe_globals", "get_safe_globals", "clear_safe_globals", "safe_globals"]

_FORMATS = ("torch", "safetensors")
_SCALARS = (type(None), bool, int, float, complex, str, bytes)
_LEAVES = (_dtype.dtype, device, Size)
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_OLD_EMBER_PICKLE = b"EMBERPKL"
_TORCH_LEGACY = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"  # pre-1.6 torch.save magic


class _NeedsPickle(Exception):
    pass


def _check_storable(obj, path, seen):
    """Raise _NeedsPickle unless ``obj`` holds only what a weights-only reader reads back."""
    kind = type(obj)
    if isinstance(obj, Tensor) and obj.is_sparse:
        raise _NeedsPickle(f"a sparse tensor at {path or 'the top'} (save its indices and values)")
    if kind in _SCALARS or isinstance(obj, (Tensor, *_LEAVES)):
        return
    if kind is np.ndarray or isinstance(obj, np.generic):
        if obj.dtype.kind not in "biufc" or obj.dtype.fields is not None:
            raise _NeedsPickle(f"a NumPy array of dtype {obj.dtype} at {path or 'the top'}")
        return
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if kind in (dict, OrderedDict, Counter):
        for key, value in obj.items():
            where = f"{path}[{key!r}]"
            _check_storable(key, where, seen)
            _check_storable(value, where, seen)
        for name, value in vars(obj).items() if kind is OrderedDict else ():
            _check_storable(value, f"{path}.{name}", seen)
    elif kind in (list, tuple, set):   # not frozenset: torch's weights-only reader refuses it
        for i, value in enumerate(obj):
            _check_storable(value, f"{path}[{i}]", seen)
    else:
        from .nn.module import Module

        if isinstance(obj, Module):
            raise _NeedsPickle(
                f"a whole module ({kind.__name__}) at {path or 'the top'}; save model.state_dict() instead and "
                "restore it with load_state_dict()"
            )
        raise _NeedsPickle(f"an object of type {kind.__qualname__} at {path or 'the top'}")


def save(obj, f, pickle_ok=False, format=None):
    """Write ``obj`` to ``f`` (a path or a binary file object), as ``torch.save`` would.

    Tensors (of any device, saved detached, views of one tensor kept as views),
    Parameters, numbers, strings, bytes, None, dtypes, devices, sizes, NumPy
    arrays, and dicts (``OrderedDict``, ``Counter``), lists, tuples and sets of these are
    written in torch's zip format: the file loads with ``ember.load`` and with
    ``torch.load(f, weights_only=True)``. (NumPy arrays are pickled as
    ``torch.save`` pickles them, which ``torch.load`` reads only with NumPy's
    names allowed, ``torch.serialization.safe_globals``.) Other objects, such
    as a whole ``Module``, raise a TypeError unless ``pickle_ok=True``.

    Args:
        obj: what to save, typically ``{'epoch': e, 'model': model.state_dict(),
            'optimizer': opt.state_dict()}``.
        f: a file name (str or ``os.PathLike``) or an object with ``write``.
        pickle_ok: also pickle objects of other types. Loading such a file runs
            code from it: it needs ``pickle_ok=True`` in ``ember.load`` too.
        format: ``'torch'`` (the default) or ``'safetensors'`` (the default for a
            file name ending in ``.safetensors``), which holds only a tensor or
            (nested) dicts of tensors with str keys.

    Examples::

        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), 'checkpoint.pt')
        >>> model = ember.nn.Module()
        >>> model.w = ember.nn.Parameter(ember.ones(2))
        >>> ember.save({'epoch': 3, 'model': model.state_dict()}, path)
        >>> ember.load(path)
        {'epoch': 3, 'model': OrderedDict([('w', tensor([1., 1.]))])}
    """
    if format is None:
        name = os.fspath(f) if isinstance(f, (str, os.PathLike)) else ""
        format = "safetensors" if str(name).endswith(".safetensors") else "torch"
    if format not in _FORMATS:
        raise ValueError(f"format must be one of {_FORMATS}, got {format!r}")
    if format == "safetensors":
        from ._checkpoint import safetensors_io   # the formats load on first use, not at ``import ember``

        try:
            data = safetensors_io.encode(obj)
        except safetensors_io.NotTensors as why:
            raise TypeError(
                f"the safetensors format holds a tensor or (nested) dicts of tensors with str keys; this object "
                f"holds {why}. Save it in torch's format (format='torch')"
            ) from None
        if isinstance(f, (str, os.PathLike)):
            with open(f, "wb") as out:
                out.write(data)
        else:
            f.write(data)
        return
    if not pickle_ok:
        try:
            _check_storable(obj, "", set())
        except _NeedsPickle as why:
            raise TypeError(
                f"ember.save stores tensors, numbers, strings, NumPy arrays and containers of them; this object "
                f"holds {why}. Pass pickle_ok=True to pickle it (loading it then runs code from the file, "
                "and needs pickle_ok=True too)"
            ) from None
    from ._checkpoint.writer import write_zip

    write_zip(obj, f)


def _source(f):
    """A context giving a seekable binary file for ``f``."""
    if isinstance(f, (str, os.PathLike)):
        return open(f, "rb")
    if not hasattr(f, "read"):
        raise TypeError(f"ember.load expects a file name or a binary file object, got {type(f).__name__}")
    if getattr(f, "seekable", lambda: False)():
        return nullcontext(f)
    return io.BytesIO(f.read())


def load(f, map_location=None, pickle_ok=False, weights_only=None):
    """Read what :func:`save` or ``torch.save`` wrote to ``f``, running no code from it.

    Reads torch's zip format (``torch.save`` since PyTorch 1.6, and ``ember.save``)
    and safetensors files. Tensors come back as ember tensors, Parameters as
    ``ember.nn.Parameter``, torch dtypes/devices/sizes as ember's; tensors that
    shared storage in the file share memory again. Any name in the file's pickle
    other than those raises an ``UnpicklingError`` naming it, unless ``pickle_ok``.

    Args:
        f: a file name or a binary file object.
        map_location: where to put tensors, as in ``torch.load``: None (the device
            they were saved from), a device (``'cpu'``, ``'cuda:0'``,
            ``ember.device``), a dict from saved location to device, or a callable
            ``(storage, location) -> tensor or None``.
        pickle_ok: also import and call other names the pickle asks for (whole
            modules, arbitrary objects). Unsafe: only for files you trust.
            Without it, the classes and functions marked safe with
            :func:`add_safe_globals` (or :class:`safe_globals`) are read too.
        weights_only: torch's name for the opposite of ``pickle_ok``: True (the
            default here) reads data only, False equals ``pickle_ok=True``.
    """
    from ._checkpoint import safetensors_io
    from ._checkpoint.reader import read_zip

    if weights_only is not None:
        if weights_only and pickle_ok:
            raise ValueError("weights_only=True and pickle_ok=True contradict each other")
        pickle_ok = not weights_only
    with _source(f) as fp:
        start = fp.tell()
        head = fp.read(len(_TORCH_LEGACY))
        fp.seek(start)
        if head[:4] in _ZIP_MAGICS:
            return read_zip(fp, map_location, trusted=pickle_ok)
        if head.startswith(_OLD_EMBER_PICKLE):
            raise RuntimeError(
                "this file is a plain pickle written by an earlier ember with pickle_ok=True; if you trust it, "
                "read it with pickle.loads(data[8:]) and save it again"
            )
        if head == _TORCH_LEGACY:
            raise RuntimeError(
                "this file is in torch's legacy format (torch.save before PyTorch 1.6, or "
                "_use_new_zipfile_serialization=False), which ember does not read; re-save it with a current "
                "torch.save"
            )
        data = fp.read()
    header = safetensors_io.header_of(data)
    if header is not None:
        return safetensors_io.decode(data, header, map_location)
    if not data:
        raise RuntimeError("ember.load: the file is empty")
    raise RuntimeError(
        "ember.load: not a checkpoint (neither torch's zip format, as torch.save and ember.save write, nor safetensors)"
    )
