"""The part of the cuda backend that ``ember.cuda`` drives (``ember.cuda._runtime.Runtime``):
devices, the memory pool, streams and events, CUDA graphs, each a call or two into CuPy.

CuPy keeps the current device and, per device, the current stream for each host
thread, as the CUDA runtime does for torch; these methods read and set CuPy's.
"""

from collections import namedtuple

from ember.cuda.graphs import refuse_during_capture
from ember.cuda.memory import OutOfMemoryError

#: a captured graph: CuPy's ``Graph`` and the slots of the device checks captured in it
CapturedGraph = namedtuple("CapturedGraph", "graph checks")


def _in_words(n_bytes):
    """A byte count as torch writes one in its out-of-memory message ("3.64 TiB")."""
    if n_bytes < 1024:
        return f"{n_bytes} bytes"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        n_bytes /= 1024
        if n_bytes < 1024 or unit == "TiB":
            return f"{n_bytes:.2f} {unit}"


def raising_torchs_error(cupy, malloc):
    """The CuPy allocator ``malloc`` (a memory pool's), raising
    :class:`ember.cuda.OutOfMemoryError` (a RuntimeError, with torch's message) where
    CuPy's raises its own OutOfMemoryError (a MemoryError)."""

    def allocate(size):
        try:
            return malloc(size)
        except cupy.cuda.memory.OutOfMemoryError as exc:
            free, total = cupy.cuda.runtime.memGetInfo()
            raise OutOfMemoryError(
                f"CUDA out of memory. Tried to allocate {_in_words(size)}. GPU {cupy.cuda.runtime.getDevice()} "
                f"has a total capacity of {_in_words(total)} of which {_in_words(free)} is free.") from exc

    return allocate


class Runtime:
    """Mixed into :class:`ember.backends.cuda.CUDABackend`, whose ``xp`` (CuPy),
    ``_device(index)`` (CuPy's ``Device``, recording that it was used) and ``_used``
    (the indices of the devices used) it reads. The memory counters and the cache
    leave alone a device ember has not used: entering it would give it a CUDA context
    (memory on GPU 0 from every process of a job that sets its own device first)."""

    # --- devices

    def init(self):
        self._initialized = True

    def is_initialized(self):
        return self._initialized or bool(self._used)

    def current_device(self):
        return self.xp.cuda.runtime.getDevice()

    def set_device(self, index):
        self._device(index).use()

    def device_properties(self, index):
        props = self.xp.cuda.runtime.getDeviceProperties(index)
        name = props["name"]
        return {"name": name.decode() if isinstance(name, bytes) else name,
                "total_memory": props["totalGlobalMem"], "major": props["major"], "minor": props["minor"],
                "multi_processor_count": props["multiProcessorCount"]}

    # --- memory: CuPy's default pool keeps one sub-pool per device, the current one's answers

    def memory_usage(self, index):
        if index not in self._used:
            return 0, 0
        pool = self.xp.get_default_memory_pool()
        with self._device(index):
            return pool.used_bytes(), pool.total_bytes()

    def empty_cache(self):
        refuse_during_capture("empty cache")
        pool = self.xp.get_default_memory_pool()
        for index in sorted(self._used):
            with self._device(index):
                pool.free_all_blocks()

    def mem_get_info(self, index):
        with self._device(index):
            return self.xp.cuda.runtime.memGetInfo()

    def from_pinned(self, array, index):
        """``array`` (page-locked host memory) copied onto device ``index`` by a copy
        queued on that device's current stream: the host does not wait for it."""
        refuse_during_capture("host copy")
        with self._device(index):
            out = self.xp.empty(array.shape, dtype=array.dtype)
            out.set(array, stream=self.xp.cuda.get_current_stream())
        return out

    # --- streams and events (CuPy's objects, handed to ember.cuda and back)

    def new_stream(self, index, priority):
        with self._device(index):
            return self.xp.cuda.Stream(priority=priority)

    def current_stream(self, index):
        with self._device(index):
            return self.xp.cuda.get_current_stream()

    def default_stream(self, index):
        # the legacy default stream, CuPy's default unless CUPY_CUDA_PER_THREAD_DEFAULT_STREAM is set
        return self.xp.cuda.Stream.null

    def set_stream(self, stream, index):
        with self._device(index):  # CuPy makes a stream current on its own device only
            stream.use()

    def stream_handle(self, stream):
        return stream.ptr

    def stream_query(self, stream):
        return stream.done

    def stream_synchronize(self, stream):
        refuse_during_capture("synchronize")
        stream.synchronize()

    def stream_wait_event(self, stream, event):
        stream.wait_event(event)

    def new_event(self, enable_timing, blocking, interprocess):
        return self.xp.cuda.Event(block=blocking, disable_timing=not enable_timing, interprocess=interprocess)

    def event_record(self, event, stream):
        event.record(stream)

    def event_query(self, event):
        return event.done

    def event_synchronize(self, event):
        refuse_during_capture("synchronize")
        event.synchronize()

    def elapsed_time(self, start, end):
        return self.xp.cuda.get_elapsed_time(start, end)

    # --- CUDA graphs (ember.cuda.graphs): CuPy's stream capture

    def new_graph_pool(self):
        return self.xp.cuda.MemoryPool()

    def begin_capture(self, stream, pool, mode):
        runtime = self.xp.cuda.runtime
        modes = {"global": runtime.streamCaptureModeGlobal, "thread_local": runtime.streamCaptureModeThreadLocal,
                 "relaxed": runtime.streamCaptureModeRelaxed}
        # CuPy's allocator of this thread alone (using_allocator); set_allocator would change every thread's
        allocator = self.xp.cuda.using_allocator(raising_torchs_error(self.xp, pool.malloc))
        allocator.__enter__()
        try:
            stream.begin_capture(mode=modes[mode])
        except BaseException:
            allocator.__exit__(None, None, None)
            raise
        self.deferred_checks.begin_capture()
        return allocator

    def end_capture(self, stream, token):
        try:
            checks = self.deferred_checks.end_capture()
            graph = stream.end_capture()
        finally:
            token.__exit__(None, None, None)
        self.deferred_checks.watch(checks, stream)
        return CapturedGraph(graph, checks)

    def graph_launch(self, graph, stream):
        graph.graph.launch(stream)

    def graph_release(self, graph):
        self.deferred_checks.forget(graph.checks)

    def stream_is_capturing(self, stream):
        return stream.is_capturing()
