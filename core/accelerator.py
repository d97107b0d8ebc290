"""``ember.accelerator``: device-agnostic questions about the accelerator, as
``torch.accelerator`` asks them (torch 2.13).

ember's one accelerator is the ``cuda`` backend (CuPy on NVIDIA GPUs). It is the
accelerator when its plugin is loaded and CuPy finds a GPU; on any other machine
there is none: :func:`current_accelerator` is None, :func:`is_available` False,
:func:`device_count` 0, and the functions that need a device raise a RuntimeError.

The current device is ``ember.cuda``'s (:func:`ember.cuda.current_device`): the GPU
that a tensor made with ``device="cuda"`` goes to, which :func:`set_device_index` and
:class:`device_index` change for the calling thread.
"""

import warnings

from . import cuda
from ._device import device

__all__ = ["current_accelerator", "current_device_idx", "current_device_index", "device_count",
           "device_index", "is_available", "set_device_idx", "set_device_index", "synchronize"]

_NONE = "Cannot access accelerator device when none is available."


def current_accelerator(check_available=False):
    """The accelerator's device type as an ``ember.device`` without an index
    (``device(type='cuda')``), or None when there is none.

    Args:
        check_available: torch's switch to also check at run time that a device is
            usable. ember learns whether CuPy and a GPU are there in the same step,
            so the answer is the same either way.
    """
    return device("cuda") if cuda.is_available() else None


def is_available():
    """True when there is an accelerator with at least one usable device."""
    return current_accelerator() is not None


def device_count():
    """How many devices the accelerator has (0 when there is no accelerator)."""
    return cuda.device_count() if is_available() else 0


def _require():
    if not is_available():
        raise RuntimeError(_NONE)


def current_device_index():
    """The index of the accelerator's current device, where a tensor made with
    ``device="cuda"`` goes. RuntimeError without an accelerator."""
    _require()
    return cuda.current_device()


def _index_of(dev, optional):
    """``dev`` (an int, a string such as ``'cuda:1'`` or an ``ember.device``) as a
    device index of the accelerator; None gives the current index when ``optional``."""
    if isinstance(dev, int) and not isinstance(dev, bool):
        return dev
    if isinstance(dev, str):
        dev = device(dev)
    if dev is not None and not isinstance(dev, device):
        raise TypeError(f"expected a device, a device string or an int index, got {type(dev).__name__}")
    index = None
    if dev is not None:
        acc = current_accelerator()
        if acc is None:
            raise RuntimeError("Accelerator expected")
        if dev.type != acc.type:
            raise ValueError(f"{dev.type} doesn't match the current accelerator {acc}.")
        index = dev.index
    if index is not None:
        return index
    if not optional:
        raise ValueError(f"Expected an ember.device with a specified index or an integer, but got:{dev}")
    return current_device_index()


def set_device_index(device, /):
    """Make ``device`` (an int index, ``'cuda:i'`` or an ``ember.device`` with an
    index) the accelerator's current device for the calling thread; a negative index
    does nothing. RuntimeError for an index the accelerator does not have."""
    index = _index_of(device, optional=False)
    if index < 0:
        return
    _require()
    cuda.set_device(index)


def synchronize(device=None, /):
    """Wait until all work queued on ``device`` (default: the current device) is done."""
    index = _index_of(device, optional=True)
    _require()
    cuda.synchronize(index)


class device_index:
    """Context manager: the accelerator's current device is ``device`` (an int, or
    None for no change) inside the block, and the previous one again after it."""

    def __init__(self, device, /):
        self.idx = device
        self.prev_idx = -1

    def __enter__(self):
        if self.idx is not None:
            self.prev_idx = current_device_index()
            set_device_index(self.idx)

    def __exit__(self, *exc_info):
        if self.idx is not None:
            set_device_index(self.prev_idx)


def _deprecated(fn, new):
    def alias(*args):
        warnings.warn(f"Use `{new}` instead.", FutureWarning, stacklevel=2)
        return fn(*args)

    alias.__name__ = alias.__qualname__ = fn.__name__.replace("index", "idx")
    alias.__doc__ = f"Deprecated: :func:`{new}` under its former name."
    return alias


current_device_idx = _deprecated(current_device_index, "current_device_index")
set_device_idx = _deprecated(set_device_index, "set_device_index")
