"""CUDA streams and events, as torch.cuda has them: thin wrappers over the backend's own
(CuPy's ``cupy.cuda.Stream`` and ``cupy.cuda.Event``).

A stream is a queue of GPU work on one device; work on different streams may overlap.
Each device has a current stream per host thread, on which ember's GPU work is
queued: :func:`stream` (or ``with s:``) changes it for a block. An event marks a point
in a stream, to wait for or to time.
"""

from .._device import device as _device
from . import _runtime
from ._runtime import current_device, device_index

__all__ = ["Event", "Stream", "StreamContext", "current_stream", "default_stream", "set_stream", "stream"]


def _require_device():
    """The cuda backend, ready; without a GPU the RuntimeError torch's CPU build raises
    when a Stream or an Event is made."""
    if not _runtime.available():
        raise _runtime.unavailable(RuntimeError)
    return _runtime.lazy_init()


class Stream:
    """A CUDA stream: a queue of GPU work that runs in order, independently of the
    work on other streams.

    Args:
        device: the GPU it belongs to (an int, ``'cuda:i'``, an ``ember.device``);
            None or a negative index means the current GPU.
        priority: lower numbers run first when streams compete (0 is the default;
            the driver clamps values outside its range).

    ``with s:`` queues the work of the block on ``s`` (see :class:`StreamContext`).
    RuntimeError without a GPU.
    """

    def __init__(self, device=None, priority=0):
        be = _require_device()
        index = -1 if device is None else device_index(device, optional=True)
        index = current_device() if index < 0 else index
        self._setup(be, be.new_stream(index, priority), index)

    def _setup(self, be, raw, index):
        self._be, self._raw, self.device_index = be, raw, index
        self._contexts = []

    @classmethod
    def _wrap(cls, be, raw, index):
        """A Stream over the backend stream ``raw`` of GPU ``index``, without making one."""
        self = cls.__new__(cls)
        self._setup(be, raw, index)
        return self

    @property
    def device(self):
        """The GPU this stream queues work on, as an ``ember.device``."""
        return _device("cuda", self.device_index)

    @property
    def cuda_stream(self):
        """The raw ``cudaStream_t`` handle, as an int (0 for the legacy default stream)."""
        return self._be.stream_handle(self._raw)

    def query(self):
        """Return True when all the work queued on this stream is done."""
        return self._be.stream_query(self._raw)

    def synchronize(self):
        """Wait until all the work queued on this stream is done."""
        self._be.stream_synchronize(self._raw)

    def wait_event(self, event):
        """Make the work queued on this stream from now on wait for ``event``; returns
        at once."""
        event.wait(self)

    def wait_stream(self, stream):
        """Make the work queued on this stream from now on wait for the work queued on
        ``stream`` so far; returns at once."""
        self.wait_event(stream.record_event())

    def record_event(self, event=None):
        """Record ``event`` (a new :class:`Event` when None) on this stream and return it."""
        if event is None:
            event = Event()
        event.record(self)
        return event

    def __enter__(self):
        context = StreamContext(self)
        self._contexts.append(context)
        context.__enter__()
        return self

    def __exit__(self, *exc_info):
        self._contexts.pop().__exit__(*exc_info)
        return False

    def __eq__(self, other):
        return isinstance(other, Stream) and (self.cuda_stream, self.device) == (other.cuda_stream, other.device)

    def __hash__(self):
        return hash((self.cuda_stream, self.device))

    def __repr__(self):
        return f"<ember.cuda.Stream device={self.device} cuda_stream={self.cuda_stream:#x}>"


class Event:
    """A CUDA event: a marker recorded in a stream, to wait for, to ask about or to time.

    Args:
        enable_timing: keep the time it is reached, for :meth:`elapsed_time`.
        blocking: :meth:`synchronize` sleeps the thread instead of spinning.
        interprocess: the event can be shared with another process (timing must then
            be off).

    RuntimeError without a GPU.
    """

    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        self._be = _require_device()
        self._raw = self._be.new_event(enable_timing, blocking, interprocess)

    def record(self, stream=None):
        """Record the event on ``stream`` (default: the current stream)."""
        stream = current_stream() if stream is None else stream
        self._be.event_record(self._raw, stream._raw)

    def wait(self, stream=None):
        """Make the work queued on ``stream`` (default: the current stream) from now on
        wait for this event; returns at once."""
        stream = current_stream() if stream is None else stream
        self._be.stream_wait_event(stream._raw, self._raw)

    def query(self):
        """Return True when the work recorded before this event is done."""
        return self._be.event_query(self._raw)

    def synchronize(self):
        """Wait until the work recorded before this event is done."""
        self._be.event_synchronize(self._raw)

    def elapsed_time(self, end_event):
        """Return the milliseconds between this event and the later ``end_event``, both
        recorded with ``enable_timing=True`` and done (see :meth:`synchronize`)."""
        return self._be.elapsed_time(self._raw, end_event._raw)

    def __repr__(self):
        return f"<ember.cuda.Event {self._raw!r}>"


def current_stream(device=None):
    """Return the stream work on GPU ``device`` (default: the current GPU) is queued on.
    AssertionError without a GPU."""
    be = _runtime.lazy_init()
    index = device_index(device, optional=True)
    return Stream._wrap(be, be.current_stream(index), index)


def default_stream(device=None):
    """Return the default stream of GPU ``device`` (default: the current GPU), the one
    work goes to unless another is chosen. AssertionError without a GPU."""
    be = _runtime.lazy_init()
    index = device_index(device, optional=True)
    return Stream._wrap(be, be.default_stream(index), index)


def set_stream(stream):
    """Make ``stream`` the current stream of its GPU; None does nothing. Prefer
    :func:`stream`, which restores the previous stream."""
    if stream is not None:
        stream._be.set_stream(stream._raw, stream.device_index)


class StreamContext:
    """Context manager: inside the block, ``stream`` is the current stream of its GPU
    (and ember's work on that GPU is queued on it); after it, the streams that were
    current are again. None (or a machine without a GPU) changes nothing.

    Examples::

        >>> s = ember.cuda.Stream()                      # doctest: +SKIP
        >>> with ember.cuda.stream(s):                   # doctest: +SKIP
        ...     y = x @ x                                # queued on s
        >>> ember.cuda.current_stream().wait_stream(s)   # doctest: +SKIP
    """

    def __init__(self, stream):
        self.stream = stream
        self.idx = current_device() if stream is not None and _runtime.available() else -1
        self.src_prev_stream = self.dst_prev_stream = None

    def __enter__(self):
        if self.stream is None or self.idx == -1:
            return
        self.src_prev_stream = current_stream()
        self.dst_prev_stream = current_stream(self.stream.device_index)
        set_stream(self.stream)

    def __exit__(self, *exc_info):
        if self.stream is None or self.idx == -1:
            return
        set_stream(self.dst_prev_stream)
        set_stream(self.src_prev_stream)


def stream(stream):
    """Return a :class:`StreamContext` that makes ``stream`` current inside a ``with``
    block; ``stream(None)`` changes nothing."""
    return StreamContext(stream)
