"""The safetensors format: named arrays and string metadata, nothing else.

``encode`` turns a tensor or a (nested) dict of tensors into the file's bytes,
keeping key order, nesting and a state dict's ``_metadata`` in ember's metadata
entries; ``decode`` reads such a file, or any safetensors file (such as those
``safetensors.torch.save_file`` writes).
"""

import json
import struct
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from .._tensor import Tensor
from .placement import place

_KIND = "ember.kind"          # "tensor" (one tensor) or "dict"
_ORDER = "ember.order"        # the keys in their original order (safetensors sorts them)
_NESTED = "ember.nested"      # stored key -> path of keys, for dicts of dicts
_VERSIONS = "ember.metadata"  # a state dict's ``_metadata`` (module versions)


class NotTensors(Exception):
    """The object holds something other than tensors in (nested) dicts with str keys."""


def _flatten(obj, path, out):
    for key, value in obj.items():
        if not isinstance(key, str):
            raise NotTensors(f"a key of type {type(key).__name__}")
        if isinstance(value, Tensor):
            out.append((path + (key,), value))
        elif isinstance(value, Mapping):
            _flatten(value, path + (key,), out)
        else:
            raise NotTensors(f"a value of type {type(value).__name__} under key {'.'.join(path + (key,))!r}")


def _host_array(t):
    # safetensors writes the buffer as laid out: a transposed view would come back scrambled.
    # (np.ascontiguousarray would also turn a 0-d array into 1-d.)
    return np.require(t._be.to_host(t.detach()._data), requirements="C")


def _arrays_and_metadata(obj):
    metadata = {}
    if isinstance(obj, Tensor):
        metadata[_KIND] = "tensor"
        return {"tensor": _host_array(obj)}, metadata
    if not isinstance(obj, Mapping):
        raise NotTensors(f"an object of type {type(obj).__name__}")
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


def encode(obj):
    """The safetensors bytes of a tensor or (nested) dict of tensors; NotTensors otherwise."""
    from safetensors.numpy import save as st_save

    arrays, metadata = _arrays_and_metadata(obj)
    return st_save(arrays, metadata=metadata)


def header_of(data):
    """The JSON header of safetensors bytes ``data``, or None if it is not one."""
    if len(data) < 8:
        return None
    (size,) = struct.unpack("<Q", data[:8])
    if size > len(data) - 8 or data[8:9] != b"{":
        return None
    try:
        return json.loads(data[8:8 + size])
    except ValueError:
        return None


def decode(data, header, map_location=None):
    """What :func:`encode` (or any safetensors writer) stored in ``data``."""
    from safetensors.numpy import load as st_load

    metadata = header.get("__metadata__") or {}
    arrays = st_load(data)
    order = json.loads(metadata[_ORDER]) if _ORDER in metadata else list(arrays)
    tensors = OrderedDict((k, Tensor._make(*place(np.array(arrays[k]), "cpu", map_location))) for k in order)
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
