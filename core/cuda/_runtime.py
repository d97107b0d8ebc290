"""What ``ember.cuda`` asks of the ``cuda`` backend, and the checks its functions share.

ember.cuda holds no GPU state of its own beyond the memory peaks: the current device,
the current stream of each device and the memory pool belong to the backend (CuPy
keeps them per host thread, as the CUDA runtime does for torch). The backend answers
through the small methods of :class:`Runtime`; a stand-in backend with the same
methods drives every function of ember.cuda without a GPU.
"""

from typing import Protocol

from .._device import device as _device
from ..backend import REGISTRY


class Runtime(Protocol):
    """The methods of the ``cuda`` backend that ember.cuda calls, besides the
    :class:`ember.backend.Backend` protocol. Device indices are explicit ints;
    streams and events are the backend's own objects, passed back to it as they came."""

    def init(self) -> None:
        """Prepare the current device for work (idempotent)."""

    def is_initialized(self) -> bool:
        """Whether any device has been used in this process."""

    def current_device(self) -> int:
        """The calling thread's current device index."""

    def set_device(self, index: int) -> None:
        """Make device ``index`` current for the calling thread."""

    def device_properties(self, index: int) -> dict:
        """``name``, ``total_memory`` (bytes), ``major``, ``minor`` and
        ``multi_processor_count`` of device ``index``."""

    def manual_seed(self, seed: int, index: "int | None" = None) -> None:
        """Reseed the generator of device ``index`` (of every device when None)."""

    def initial_seed(self, index: int) -> int:
        """The seed the generator of device ``index`` started from."""

    def memory_usage(self, index: int) -> "tuple[int, int]":
        """(bytes held by live arrays, bytes the memory pool holds) on device ``index``."""

    def empty_cache(self) -> None:
        """Give the pool's unused blocks back to the driver."""

    def mem_get_info(self, index: int) -> "tuple[int, int]":
        """(free, total) bytes of device ``index``, as the driver sees them."""

    def new_stream(self, index: int, priority: int):
        """A new stream on device ``index`` (lower ``priority`` runs first)."""

    def current_stream(self, index: int):
        """The stream work on device ``index`` is queued on."""

    def default_stream(self, index: int):
        """The default stream of device ``index``."""

    def set_stream(self, stream, index: int) -> None:
        """Make ``stream`` (of device ``index``) the current stream of its device."""

    def stream_handle(self, stream) -> int:
        """The raw ``cudaStream_t`` of ``stream``, as an int."""

    def stream_query(self, stream) -> bool:
        """Whether all work queued on ``stream`` is done."""

    def stream_synchronize(self, stream) -> None:
        """Wait until the work queued on ``stream`` is done."""

    def stream_wait_event(self, stream, event) -> None:
        """Make later work on ``stream`` wait for ``event``."""

    def new_event(self, enable_timing: bool, blocking: bool, interprocess: bool):
        """A new event."""

    def event_record(self, event, stream) -> None:
        """Record ``event`` on ``stream``."""

    def event_query(self, event) -> bool:
        """Whether the work ``event`` captured is done."""

    def event_synchronize(self, event) -> None:
        """Wait until the work ``event`` captured is done."""

    def elapsed_time(self, start, end) -> float:
        """Milliseconds between two recorded timing events."""

    def new_graph_pool(self):
        """A new memory pool for CUDA graphs to capture into (nothing allocated yet)."""

    def begin_capture(self, stream, pool, mode: str):
        """Begin capturing the work queued on ``stream`` into a graph (``mode``:
        ``"global"``, ``"thread_local"`` or ``"relaxed"``), the calling thread
        allocating from ``pool`` until :meth:`end_capture`; returns what
        :meth:`end_capture` needs to undo that."""

    def end_capture(self, stream, token):
        """End the capture on ``stream`` and return the graph; the thread allocates from
        its previous pool again, even when ending fails."""

    def graph_launch(self, graph, stream) -> None:
        """Queue one replay of ``graph`` on ``stream``."""

    def graph_release(self, graph) -> None:
        """Forget ``graph`` (its device checks among them)."""

    def stream_is_capturing(self, stream) -> bool:
        """Whether ``stream`` is capturing a graph."""


def backend():
    """The ``cuda`` backend, or None when its plugin is not loaded."""
    return REGISTRY.backends.get("cuda")


def unavailable(error=AssertionError):
    """The exception a call that needs a GPU raises on a machine without one: the type
    torch's CPU build raises there (AssertionError for most), and why there is none."""
    be = backend()
    why = ("the 'cuda' backend plugin is not loaded (it may be disabled)" if be is None
           else be.unavailable_reason())
    return error(f"ember.cuda has no GPU to use: {why}")


def available():
    be = backend()
    return be is not None and be.is_available()


def lazy_init():
    """The cuda backend after preparing it for work (torch initialises CUDA on first
    use in the same way); without a GPU, the AssertionError torch's CPU build raises."""
    if not available():
        raise unavailable()
    be = backend()
    be.init()
    return be


def current_device():
    """Return the index of the current GPU: where a tensor made with ``device="cuda"``
    goes and which device calls without a ``device`` argument mean.

    Raises AssertionError without a GPU (as torch's CPU build does).
    """
    return lazy_init().current_device()


def device_index(device, optional=False):
    """``device`` (an int, a string such as ``'cuda:1'`` or an ``ember.device``) as a
    GPU index. A device without an index, or None, means the current device when
    ``optional``; otherwise it is a ValueError, as in torch."""
    if isinstance(device, int) and not isinstance(device, bool):
        return device
    if isinstance(device, str):
        device = _device(device)
    index = None
    if isinstance(device, _device):
        if device.type != "cuda":
            raise ValueError(f"Expected a cuda device, but got: {device}")
        index = device.index
    elif device is not None:
        raise ValueError(f"Expected an ember.device with a specified index or an integer, but got:{device}")
    if index is not None:
        return index
    if not optional:
        raise ValueError(f"Expected an ember.device with a specified index or an integer, but got:{device}")
    return current_device()
