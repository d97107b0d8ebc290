"""``ember.save`` / ``ember.load``: tensors and state dicts in the safetensors format.

safetensors files hold only named arrays and string metadata, so loading one can
never run code; files written by ``safetensors.torch.save_file`` load here and the
other way round. Objects that need pickle (optimizer states with numbers and lists,
arbitrary Python objects) are refused unless the caller passes ``pickle_ok=True``.
"""

import io
import json
import os
import pickle
import struct
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from ._tensor import Tensor

__all__ = ["save", "load"]

_KIND = "ember.kind"          # "tensor" (one tensor) or "dict"
_ORDER = "ember.order"        # the keys in their original order (safetensors sorts them)
_NESTED = "ember.nested"      # stored key -> path of keys, for dicts of dicts
_VERSIONS = "ember.metadata"  # a state dict's ``_metadata`` (module versions)
_PICKLE_MAGIC = b"EMBERPKL"


class _NeedsPickle(Exception):
    pass


def _flatten(obj, path, out):
    for key, value in obj.items():
        if not isinstance(key, str):
            raise _NeedsPickle(f"a key of type {type(key).__name__}")
        if isinstance(value, Tensor):
            out.append((path + (key,), value))
        elif isinstance(value, Mapping):
            _flatten(value, path + (key,), out)
        else:
            raise _NeedsPickle(f"a value of type {type(value).__name__} under key {'.'.join(path + (key,))!r}")


def _host_array(t):
    # safetensors writes the buffer as laid out: a transposed view would come back scrambled.
    # (np.ascontiguousarray would also turn a 0-d array into 1-d.)
    return np.require(t._be.to_host(t.detach()._data), requirements="C")


def _encode(obj):
    """``(arrays, metadata)`` for safetensors, or raise _NeedsPickle."""
    metadata = {}
    if isinstance(obj, Tensor):
        metadata[_KIND] = "tensor"
        return {"tensor": _host_array(obj)}, metadata
    if not isinstance(obj, Mapping):
        raise _NeedsPickle(f"an object of type {type(obj).__name__}")
    entries = []
    _flatten(obj, (), entries)
    metadata[_KIND] = "dict"
    arrays, nested, order = {}, {}, []
    for path, tensor in entries:
        key = ".".join(path)
        while key in arrays:   # two paths that join to the same name
            key += "_"
        arrays[key] = _host_array(tensor)
        order.append(key)
        if len(path) > 1 or key != path[0]:
            nested[key] = list(path)
    metadata[_ORDER] = json.dumps(order)
    if nested:
        metadata[_NESTED] = json.dumps(nested)
    versions = getattr(obj, "_metadata", None)
    if versions is not None:
        try:
            metadata[_VERSIONS] = json.dumps(list(versions.items()))
        except TypeError:   # entries json cannot hold: the versions are dropped, not the weights
            pass
    return arrays, metadata


def save(obj, f, pickle_ok=False):
    """Write ``obj`` to ``f`` (a path or a binary file object).

    A tensor, or a dict of tensors such as ``model.state_dict()`` (dicts of dicts
    of tensors too), is written in the safetensors format, keeping the key order
    and the state dict's ``_metadata``. Tensors are saved detached, from any
    device. Anything else needs pickle and raises a TypeError unless
    ``pickle_ok=True``.

    Args:
        obj: what to save.
        f: a file name (str or ``os.PathLike``) or an object with ``write``.
        pickle_ok: allow pickle for objects safetensors cannot hold. Loading a
            pickle can run arbitrary code: only load such files from sources you trust.

    Examples::

        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), 'weights.safetensors')
        >>> ember.save({'w': ember.ones(2)}, path)
        >>> ember.load(path)['w']
        tensor([1., 1.])
    """
    try:
        arrays, metadata = _encode(obj)
    except _NeedsPickle as why:
        if not pickle_ok:
            raise TypeError(
                f"ember.save writes tensors and (nested) dicts of tensors in the safetensors format; "
                f"this object holds {why}, which needs pickle. Pass pickle_ok=True to use pickle "
                "(unsafe: loading a pickle can run arbitrary code)."
            ) from None
        data = _PICKLE_MAGIC + pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    else:
        from safetensors.numpy import save as st_save

        data = st_save(arrays, metadata=metadata)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as out:
            out.write(data)
    else:
        f.write(data)


def _read_header(data):
    if len(data) < 8:
        return None
    (size,) = struct.unpack("<Q", data[:8])
    if size > len(data) - 8 or data[8:9] != b"{":
        return None
    try:
        return json.loads(data[8:8 + size])
    except ValueError:
        return None


def load(f, map_location=None, pickle_ok=False, weights_only=None):
    """Read what :func:`save` wrote (or any safetensors file) from ``f``.

    A dict comes back as an ``OrderedDict`` of tensors in the saved order, with its
    ``_metadata`` restored, ready for ``load_state_dict``. Files written with
    ``safetensors.torch.save_file`` load the same way.

    Args:
        f: a file name or an object with ``read``.
        map_location: a device (``'cpu'``, ``'cuda:0'``, ``ember.device``) to put the
            tensors on; the CPU by default.
        pickle_ok: allow reading a pickle written with ``save(..., pickle_ok=True)``.
            Unsafe: a pickle can run arbitrary code; only for files you trust.
        weights_only: accepted for torch compatibility; safetensors files hold
            weights only anyway.
    """
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as src:
            data = src.read()
    else:
        data = f.read()
    if data.startswith(_PICKLE_MAGIC):
        if not pickle_ok:
            raise RuntimeError(
                "this file was written with pickle (ember.save(..., pickle_ok=True)); loading it can run "
                "arbitrary code. Pass pickle_ok=True only if you trust its source."
            )
        obj = pickle.load(io.BytesIO(data[len(_PICKLE_MAGIC):]))
        return _relocate(obj, map_location)
    header = _read_header(data)
    if header is None:
        if data[:2] == b"PK" or data[:1] == b"\x80":
            raise RuntimeError(
                "this file is not in the safetensors format (it looks like a torch.save/pickle file). "
                "Re-save the state dict with safetensors.torch.save_file, or use ember.save(..., pickle_ok=True) "
                "files with ember.load(..., pickle_ok=True)."
            )
        raise RuntimeError("ember.load: not a safetensors file (unreadable header)")
    from safetensors.numpy import load as st_load

    from ._creation import from_numpy

    metadata = header.get("__metadata__") or {}
    arrays = st_load(data)
    order = json.loads(metadata[_ORDER]) if _ORDER in metadata else list(arrays)
    tensors = OrderedDict((k, _relocate(from_numpy(np.array(arrays[k])), map_location)) for k in order)
    if metadata.get(_KIND) == "tensor":
        return tensors["tensor"]
    if _NESTED in metadata:
        nested = json.loads(metadata[_NESTED])
        out = OrderedDict()
        for key, t in tensors.items():
            node = out
            path = nested.get(key, [key])
            for part in path[:-1]:
                node = node.setdefault(part, OrderedDict())
            node[path[-1]] = t
        tensors = out
    if _VERSIONS in metadata:
        tensors._metadata = OrderedDict((k, v) for k, v in json.loads(metadata[_VERSIONS]))
    return tensors


def _relocate(obj, map_location):
    if map_location is None:
        return obj
    if isinstance(obj, Tensor):
        return obj.to(map_location)
    if isinstance(obj, Mapping):
        out = type(obj)() if isinstance(obj, (dict, OrderedDict)) else {}
        for k, v in obj.items():
            out[k] = _relocate(v, map_location)
        if hasattr(obj, "_metadata"):
            out._metadata = obj._metadata
        return out
    if isinstance(obj, (list, tuple)):
        return type(obj)(_relocate(v, map_location) for v in obj)
    return obj
