"""The argument checks of the collectives, with torch's exception types: TypeError for
something that is not a tensor (or list of tensors), ValueError for mixed dtypes and
misplaced lists, RuntimeError for what the backend itself refuses (layout, sizes,
list lengths)."""

from .._tensor import Tensor


def single_tensor(param, name):
    """TypeError unless ``param`` is a tensor."""
    if not isinstance(param, Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type ember.Tensor "
                        f"but got {type(param)} instead.")


def tensor_list(param, name):
    """TypeError unless ``param`` is a list of tensors."""
    if not isinstance(param, list):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type list[ember.Tensor] "
                        f"but got {type(param)} instead.")
    if not all(isinstance(p, Tensor) for p in param):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type list[ember.Tensor] "
                        f"but got a list with elements of type {[type(p) for p in param]}.")


def same_dtype(tensor, tensors):
    """ValueError unless ``tensors`` all have ``tensor``'s dtype."""
    for other in tensors:
        if other.dtype is not tensor.dtype:
            raise ValueError(f"Invalid usage of tensors with different dtypes: found {tensor.dtype} and {other.dtype}")


def dense_contiguous(tensor, tensors=()):
    """RuntimeError unless ``tensor`` and ``tensors`` are dense, C-contiguous and on one device."""
    for t in (tensor, *tensors):
        if t.is_sparse:
            raise RuntimeError("input tensor has to be dense")
        if not t._data.flags.c_contiguous:
            raise RuntimeError("input tensor has to be contiguous")
        if t._be is not tensor._be or t._be.device_index(t._data) != tensor._be.device_index(tensor._data):
            raise RuntimeError(f"all tensors of a collective must be on one device, got {tensor.device} "
                               f"and {t.device}")


def list_length(tensors, size, name, what):
    """RuntimeError unless ``tensors`` has one tensor per rank of the group."""
    if len(tensors) != size:
        raise RuntimeError(f"{name}: number of tensors in `{what}` should equal the group size {size}, "
                           f"got {len(tensors)}")


def same_numel(tensor, tensors, name, what):
    """RuntimeError unless every tensor of ``tensors`` has as many elements as ``tensor``."""
    for i, t in enumerate(tensors):
        if t.numel() != tensor.numel():
            raise RuntimeError(f"{name}: invalid tensor size at index {i} of `{what}` "
                               f"(expected {tensor.numel()} elements, got {t.numel()})")


def root_list(is_root, tensors, what):
    """ValueError unless the list ``what`` is given exactly on the collective's root."""
    if is_root and not tensors:
        raise ValueError(f"Argument ``{what}`` must be specified on {_ROOT[what]} rank.")
    if not is_root and tensors:
        raise ValueError(f"Argument ``{what}`` must NOT be specified on non-{_ROOT[what]} ranks.")


_ROOT = {"gather_list": "destination", "scatter_list": "source"}
