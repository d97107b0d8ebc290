"""CUDA graphs, as torch.cuda has them (torch 2.x): capture the GPU work of a static
step once, then replay it with one launch, over CuPy's stream capture
(``Stream.begin_capture``/``end_capture``, ``cupy.cuda.Graph.launch``). The guide,
with a captured training step, is docs/cuda_graphs.rst; the design in short:

**Warm-up and static tensors.** Run the step eagerly a few times on a side stream
first (optimizer state, compiled kernels), then capture it. A replay runs the same
kernels on the same addresses with the same host numbers: inputs are refilled in
place (``static_x.copy_(batch)``), outputs are overwritten by each replay.

**Memory.** A capture allocates from a ``cupy.cuda.MemoryPool`` of its own, switched in
for the capturing thread only (``cupy.cuda.using_allocator``) and switched back when
the capture ends, also when the captured code raises; the graph holds the pool until
:meth:`CUDAGraph.reset`, and graphs may share one through ``pool=``.

**Capture mode.** The pool calls ``cudaMalloc`` during capture, which CUDA refuses
under the ``"global"`` and ``"thread_local"`` modes (torch's allocator switches the
thread to relaxed mode around it; CuPy has no binding for that), so ember's default
is ``"relaxed"``, CuPy's own.

**Refused during capture** (RuntimeError naming the cause, see
:func:`refuse_during_capture`): host reads, synchronisation, host-to-GPU copies,
reseeding, ``empty_cache``, nested captures, capturing on the legacy default stream.

**Random numbers.** CuPy's ``Generator`` keeps its cuRAND state in device memory and
its drawing kernels advance it, so a captured draw draws new numbers at each replay.
ember makes the generator before the capture and reseeds it in place, so
``manual_seed(s)`` then N replays draws what ``manual_seed(s)`` then N eager steps do.

Without CuPy or a GPU, every name here raises the RuntimeError torch's CPU-only build
raises (with the reason there is no GPU).
"""

import threading
import weakref

from . import _runtime
from .memory import empty_cache
from .streams import Stream, stream as _stream_context

__all__ = ["CUDAGraph", "graph", "graph_pool_handle", "is_current_stream_capturing"]

_MODES = ("global", "thread_local", "relaxed")
_CAPTURE = threading.local()   # .graph: the CUDAGraph this thread is capturing into

#: what each refused action does to a graph, for :func:`refuse_during_capture`
_WHY = {
    "host read": ("reading a GPU value on the host (.item(), .tolist(), .numpy(), float(t), printing)",
                  "the graph would keep the value read now instead of reading it at each replay; keep the "
                  "value on the GPU, or read it after replay()"),
    "synchronize": ("synchronizing with the GPU",
                    "a capture queues work without running it, and the driver refuses to wait for it"),
    "host copy": ("copying host data to the GPU (ember.tensor(..., device='cuda'), .to('cuda'), .cuda())",
                  "the graph would copy from a host buffer that is gone at replay; copy each new batch into "
                  "a static input tensor (static.copy_(batch)) before replay()"),
    "seed": ("reseeding the GPU's random generator",
             "seed before the capture; the captured draws advance the generator at each replay"),
    "empty cache": ("emptying the memory cache", "it would free memory the capture may be using"),
}


def _require_gpu():
    """The cuda backend, ready; without a GPU the RuntimeError torch's CPU build raises
    for every name of torch.cuda.graphs."""
    if not _runtime.available():
        raise _runtime.unavailable(RuntimeError)
    return _runtime.lazy_init()


def refuse_during_capture(action):
    """Raise a RuntimeError naming ``action`` (a key of the refused actions: ``"host
    read"``, ``"synchronize"``, ``"host copy"``, ``"seed"``, ``"empty cache"``) when
    the calling thread is capturing a CUDA graph. The cuda backend calls it where the
    action starts."""
    if getattr(_CAPTURE, "graph", None) is not None:
        what, why = _WHY[action]
        raise RuntimeError(f"{what} is not allowed during CUDA graph capture: {why}")


def keep_alive(*objects):
    """Keep ``objects`` (device tables, their pinned host copies) alive as long as the
    graph this thread is capturing, whose replays read them; nothing when no capture
    is underway. Kernels call it for the buffers they cache themselves, which a cache
    may otherwise drop while a graph still reads them."""
    graph = getattr(_CAPTURE, "graph", None)
    if graph is not None:
        graph._kept.extend(objects)


def is_current_stream_capturing():
    """Return True when the current stream of the current GPU is capturing a CUDA
    graph; False before the GPU is first used. RuntimeError without a GPU."""
    if not _runtime.available():
        raise _runtime.unavailable(RuntimeError)
    be = _runtime.backend()
    if not be.is_initialized():
        return False
    return be.stream_is_capturing(be.current_stream(be.current_device()))


class _GraphPool:
    """The opaque token of a graph memory pool (:func:`graph_pool_handle`,
    :meth:`CUDAGraph.pool`): pass it as ``pool=`` to capture into the same pool."""

    def __init__(self, raw):
        self._raw = raw

    def __repr__(self):
        return f"<ember.cuda graph pool {id(self._raw):#x}>"


def graph_pool_handle():
    """Return a token of a new memory pool that several graphs can capture into
    (``pool=`` of :class:`graph` or :meth:`CUDAGraph.capture_begin`). RuntimeError
    without a GPU."""
    return _GraphPool(_require_gpu().new_graph_pool())


class CUDAGraph:
    """A CUDA graph: the GPU work queued between :meth:`capture_begin` and
    :meth:`capture_end`, replayed by :meth:`replay`. Usually captured with the
    :class:`graph` context manager (see the module's notes on what is static, memory,
    capture modes and random numbers). RuntimeError without a GPU."""

    def __init__(self):
        self._be = _require_gpu()
        self._capture = None    # (backend stream, the backend's token) while capturing
        self._captured = None   # the backend's graph once captured
        self._release = None    # gives it back to the backend, at reset() or when this object goes
        self._pool = None
        self._device = None
        self._kept = []         # what the captured kernels read that no tensor holds (keep_alive)

    def capture_begin(self, pool=None, capture_error_mode="relaxed"):
        """Begin capturing the work queued on the current stream, which must not be the
        legacy default stream, into this graph's memory pool (``pool``: a token from
        :func:`graph_pool_handle` or :meth:`pool`, to share one). ``capture_error_mode``
        is ``"relaxed"`` (ember's default), ``"thread_local"`` or ``"global"``: see the
        module's notes. Prefer the :class:`graph` context manager."""
        be = self._be
        if self._captured is not None or self._capture is not None:
            raise RuntimeError("This CUDAGraph instance already owns a captured graph. To capture a new graph, "
                               "create a new instance.")
        if getattr(_CAPTURE, "graph", None) is not None:
            raise RuntimeError("a CUDA graph capture is already underway in this thread: captures do not nest; "
                               "end it (capture_end) first")
        if capture_error_mode not in _MODES:
            raise RuntimeError(f"Unknown capture error mode. Expected `global`, `thread_local`, or `relaxed`, "
                               f"got {capture_error_mode}")
        index = be.current_device()
        raw = be.current_stream(index)
        if be.stream_handle(raw) == 0:
            raise RuntimeError("CUDA graphs must be captured on a non-default stream. (However, after capture, "
                               "it's ok to replay them on the default stream.)")
        be.generator(index)   # made now, so that its making (and seeding) is not part of the graph
        self._pool = pool if pool is not None else graph_pool_handle()
        self._capture = raw, be.begin_capture(raw, self._pool._raw, capture_error_mode)
        self._device = index
        _CAPTURE.graph = self

    def capture_end(self):
        """End the capture begun by :meth:`capture_begin` (the thread's memory pool is
        the default one again); the graph can then be replayed."""
        if self._capture is None:
            raise RuntimeError("capture_end without a capture_begin on this graph")
        (raw, token), self._capture = self._capture, None
        _CAPTURE.graph = None
        self._captured = self._be.end_capture(raw, token)
        self._release = weakref.finalize(self, self._be.graph_release, self._captured)

    def replay(self):
        """Launch the captured work on the current stream, with one call: it reads the
        static inputs as they are now and overwrites the outputs in place."""
        if self._captured is None:
            raise RuntimeError("Called CUDAGraph::replay without a preceding successful capture.")
        be = self._be
        be.graph_launch(self._captured, be.current_stream(self._device))

    def reset(self):
        """Drop the captured graph and this graph's hold on its memory pool (the pool's
        memory goes once no other graph or tensor uses it); the instance can capture
        again."""
        if self._capture is not None:
            raise RuntimeError("reset() during this graph's capture: end it (capture_end) first")
        if self._captured is not None:
            self._release()
        self._captured = self._release = self._pool = None
        self._kept = []

    def pool(self):
        """Return the token of the memory pool this graph captured into, to share it
        with another capture (``pool=``)."""
        if self._pool is None:
            raise RuntimeError("Called CUDAGraph::pool() without a preceding successful capture.")
        return self._pool

    def __repr__(self):
        state = "capturing" if self._capture else "captured" if self._captured is not None else "empty"
        return f"<ember.cuda.CUDAGraph {state}>"


class graph:
    """Context manager: capture the GPU work of the block into ``cuda_graph``.

    Args:
        cuda_graph: a :class:`CUDAGraph` not captured yet.
        pool: a token (:func:`graph_pool_handle`, another graph's
            :meth:`CUDAGraph.pool`) to capture into that pool instead of a new one.
        stream: the stream to capture on; by default a side stream of the current GPU
            that every ``graph`` shares (captures sharing a pool should share a stream).
        capture_error_mode: ``"relaxed"`` (default), ``"thread_local"`` or ``"global"``
            (see the module's note on capture modes).

    Entering waits for the GPU (pending device checks raise there), empties the
    memory cache, makes the capture stream current and begins the capture; leaving
    ends it and restores the stream. When the block raises, the capture is ended and
    thrown away, and the block's exception goes on. RuntimeError without a GPU.
    """

    _capture_streams = {}   # device index -> the side stream captures share

    def __init__(self, cuda_graph, pool=None, stream=None, capture_error_mode="relaxed"):
        if stream is None:
            index = _require_gpu().current_device()
            stream = self._capture_streams.get(index)
            if stream is None:
                stream = self._capture_streams[index] = Stream()
        self.cuda_graph, self.pool, self.capture_error_mode = cuda_graph, pool, capture_error_mode
        self.capture_stream = stream
        self.stream_ctx = _stream_context(stream)

    def __enter__(self):
        be = _require_gpu()
        be.synchronize(be.current_device())
        empty_cache()
        self.stream_ctx.__enter__()
        try:
            self.cuda_graph.capture_begin(self.pool, capture_error_mode=self.capture_error_mode)
        except BaseException:
            self.stream_ctx.__exit__(None, None, None)
            raise

    def __exit__(self, exc_type, exc, traceback):
        try:
            if exc_type is None:
                self.cuda_graph.capture_end()
            else:
                self._abandon()
        finally:
            self.stream_ctx.__exit__(exc_type, exc, traceback)
        return False

    def _abandon(self):
        """End a capture that the block broke off, keeping nothing of it: the error
        CUDA may give for the broken capture would hide the block's own."""
        try:
            self.cuda_graph.capture_end()
        except Exception:
            pass
        self.cuda_graph.reset()
