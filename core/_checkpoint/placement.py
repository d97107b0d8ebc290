"""``map_location``: the device ``ember.load`` puts each array it reads on."""

from .._device import as_device, device
from .._tensor import Tensor
from ..backend import REGISTRY


def place(host, location, map_location):
    """``(array, backend)``: ``host`` (a NumPy array saved from ``location``, a
    device string such as ``'cpu'`` or ``'cuda:0'``) moved where ``map_location`` says.

    ``map_location`` follows ``torch.load``: None restores the saved location; a
    device (string, ``ember.device`` or CUDA index) takes everything there; a dict
    maps saved location strings to devices (others stay); a callable gets
    ``(storage, location)``, the storage as a 1-D CPU tensor, and returns a tensor
    (used as it is) or None (the saved location).
    """
    if map_location is None:
        target = location
    elif isinstance(map_location, dict):
        target = map_location.get(location, location)
    elif isinstance(map_location, (str, int, device)):
        target = map_location
    elif callable(map_location):
        from .._creation import from_numpy

        moved = map_location(from_numpy(host), location)
        if moved is None:
            return place(host, location, None)
        if not isinstance(moved, Tensor):
            raise TypeError(f"map_location callable must return a tensor or None, got {type(moved).__name__}")
        return moved._data, moved._be
    else:
        raise TypeError(
            "map_location must be None, a device (str, int or ember.device), a dict or a callable, "
            f"got {type(map_location).__name__}"
        )
    dev = as_device(target)
    try:
        be = REGISTRY.get("cpu") if dev.type == "cpu" else REGISTRY.usable(dev.type)
    except RuntimeError as e:
        raise RuntimeError(f"cannot put a storage saved on '{location}' on '{dev}': {e}. Pass "
                           "map_location='cpu' (or a dict of locations) to ember.load to choose a device") from None
    if be.name == "cpu":
        return host, be
    return be.from_host(host, dev.index), be
