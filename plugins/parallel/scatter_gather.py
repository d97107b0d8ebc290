"""``scatter`` and ``gather``: split inputs over devices along a dimension, and bring
the outputs back to one device. Both are built from differentiable tensor ops
(``chunk``, ``to``, ``cat``), so gradients flow back through them."""

import warnings

import ember

from ._devices import as_device

__all__ = ["scatter", "scatter_kwargs", "gather"]


def _is_namedtuple(obj):
    return isinstance(obj, tuple) and hasattr(obj, "_fields") and hasattr(obj, "_asdict")


def _split(tensor, devices, dim):
    if tensor.dim() == 0:
        raise RuntimeError("scatter: chunk expects at least a 1-dimensional tensor, got a 0-dimensional one")
    return tuple(chunk.to(device) for chunk, device in zip(tensor.chunk(len(devices), dim), devices))


def _split_items(items, devices, dim):
    """Per part, the tuple of the items' parts (as many parts as the item with the fewest has)."""
    return zip(*(_split_all(item, devices, dim) for item in items))


def _split_all(obj, devices, dim):
    """One value per part: tensors split, containers split item by item, anything
    else repeated per device."""
    if isinstance(obj, ember.Tensor):
        return _split(obj, devices, dim)
    if _is_namedtuple(obj):
        return [type(obj)(*part) for part in _split_items(obj, devices, dim)]
    if isinstance(obj, tuple) and obj:
        return list(_split_items(obj, devices, dim))
    if isinstance(obj, list) and obj:
        return [list(part) for part in _split_items(obj, devices, dim)]
    if isinstance(obj, dict) and obj:
        return [type(obj)(part) for part in _split_items(obj.items(), devices, dim)]
    return [obj for _ in devices]


def scatter(inputs, target_gpus, dim=0):
    """Split ``inputs`` into one part per device of ``target_gpus``.

    Tensors are cut along ``dim`` into ``tensor.chunk(len(target_gpus), dim)``'s
    pieces, each moved to its device (a batch smaller than the number of devices
    gives fewer parts); tuples, lists, dicts and namedtuples are split item by item
    and rebuilt per part; any other object is shared by every part. The split is
    differentiable: gradients of the parts flow back to ``inputs``.

    Unlike torch, whose devices are GPUs, any devices are accepted (``'cpu'``
    repeated gives CPU-only data parallelism).

    Args:
        inputs: a tensor or a (nested) tuple, list, dict or namedtuple of them.
        target_gpus (list of int, str or ember.device): the devices.
        dim (int): the dimension to cut along. Default: 0.

    Returns:
        A tuple of chunks for a tensor, else a list with one rebuilt container per part.

    Examples::

        >>> parts = ember.nn.parallel.scatter((ember.arange(5), "tag"), ["cpu", "cpu"])
        >>> [(x.tolist(), tag) for x, tag in parts]
        [([0, 1, 2], 'tag'), ([3, 4], 'tag')]
    """
    devices = [as_device(d) for d in target_gpus]
    if not devices:
        raise ValueError("scatter needs at least one target device, got an empty list")
    return _split_all(inputs, devices, dim)


def scatter_kwargs(inputs, kwargs, target_gpus, dim=0):
    """``scatter`` of the positional arguments (a tuple) and of the keyword
    arguments (a dict), padded to the same number of parts with ``()`` and ``{}``.
    Returns ``(tuple of argument tuples, tuple of kwargs dicts)``."""
    parts = list(scatter(inputs, target_gpus, dim)) if inputs else []
    kwarg_parts = list(scatter(kwargs, target_gpus, dim)) if kwargs else []
    n = max(len(parts), len(kwarg_parts))
    parts += [()] * (n - len(parts))
    kwarg_parts += [{}] * (n - len(kwarg_parts))
    return tuple(parts), tuple(kwarg_parts)


def _cat(tensors, device, dim):
    if dim == 0 and all(t.dim() == 0 for t in tensors):
        warnings.warn("gather along dimension 0 got only scalars (0-dimensional tensors); "
                      "they are returned as a vector with one entry per part", stacklevel=4)
        tensors = [t.reshape(1) for t in tensors]
    return ember.cat([t.to(device) for t in tensors], dim)


def _join(outputs, device, dim):
    first = outputs[0]
    if isinstance(first, ember.Tensor):
        return _cat(outputs, device, dim)
    if first is None:
        return None
    if isinstance(first, dict):
        if any(len(out) != len(first) for out in outputs):
            raise ValueError("gather: all dicts must have the same number of keys")
        return type(first)((key, _join([out[key] for out in outputs], device, dim)) for key in first)
    if not isinstance(first, (tuple, list)):
        raise TypeError(f"gather: cannot gather outputs of type {type(first).__name__} (tensors, None, and "
                        "tuples, lists, dicts and namedtuples of them can be gathered)")
    items = (_join(list(part), device, dim) for part in zip(*outputs, strict=True))
    return type(first)._make(items) if _is_namedtuple(first) else type(first)(items)


def gather(outputs, target_device, dim=0):
    """Join the per-device ``outputs`` into one result on ``target_device``.

    Tensors are concatenated along ``dim`` (0-dimensional ones along dim 0 become
    a vector, with a warning); tuples, lists, dicts and namedtuples are joined item
    by item; None stays None. Differentiable: the gradient of the result flows
    back to each part, on its own device.

    Args:
        outputs (sequence): one output per device, all of the same structure.
        target_device (int, str or ember.device): where the result goes (``-1``: the CPU).
        dim (int): the dimension to concatenate along. Default: 0.

    Examples::

        >>> parts = [ember.zeros(2), ember.ones(1)]
        >>> ember.nn.parallel.gather(parts, "cpu").tolist()
        [0.0, 0.0, 1.0]
    """
    if len(outputs) == 0:
        raise ValueError("gather needs at least one output, got none")
    return _join(outputs, as_device(target_device), dim)
