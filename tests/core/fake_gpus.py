"""A stand-in ``cuda`` backend for tests on machines without a GPU.

:class:`FakeGPUs` keeps the state a GPU runtime keeps (current device, current stream
per device, a memory pool's two counters, seeds, graph captures) in plain attributes
and records what ember asks of it, so that tests can drive ``ember.cuda`` and
``ember.accelerator`` and check both what they answer and what reached the backend.
Its arrays are NumPy arrays that remember the index of the fake device holding them,
computed on by the CPU backend's kernels; what a real GPU refuses during a graph
capture it refuses through ``ember.cuda.graphs.refuse_during_capture``, as the cuda
backend does. The fixtures ``gpus`` and
``no_gpu`` (tests/core/conftest.py) put one in ``ember.backend.REGISTRY``.
"""

import itertools

import numpy as np

from ember.backend import REGISTRY
from ember.cuda.graphs import refuse_during_capture

DEFAULT_SEED = 67280421310721


class OnDevice(np.ndarray):
    """A NumPy array that says which fake GPU holds it (``index``)."""

    index = None


def _on(array, index):
    out = np.array(array).view(OnDevice)
    out.index = index
    return out


class FakeStream:
    """A stream of the fake runtime: its device, priority and handle, and what it was told."""

    def __init__(self, index, priority, handle):
        self.index, self.priority, self.handle = index, priority, handle
        self.waited_for = []   # events it was told to wait for
        self.synchronized = 0
        self.capturing = None  # the capture mode while it captures a graph


class FakeGraph:
    """A graph of the fake runtime: where and how it was captured, and where replayed."""

    def __init__(self, stream, pool, mode):
        self.stream, self.pool, self.mode = stream, pool, mode
        self.launches = []     # the streams it was launched on


class FakeEvent:
    """An event of the fake runtime: its flags, and the stream and time it was recorded at."""

    def __init__(self, enable_timing, blocking, interprocess):
        self.enable_timing, self.blocking, self.interprocess = enable_timing, blocking, interprocess
        self.stream = None
        self.at_ms = None


class FakeGPUs:
    """A cuda backend with ``count`` devices (none when not ``available``)."""

    name = "cuda"
    xp = np
    version = "fake"

    def __init__(self, available=True, count=2):
        self.available = available
        self.count = count if available else 0
        self.current = 0
        self.used = set()
        self.synced = []           # indices given to synchronize
        self.placed = []           # (how, index as given) of each array made or copied here
        self.pool = {}             # index -> (allocated, reserved): tests set what the pool holds
        self.cache_emptied = 0
        self.seeds = {}            # index -> seed of that device alone
        self.seed_all = DEFAULT_SEED
        self.clock_ms = 0.0        # what a timing event records; tests advance it
        self._handles = itertools.count(0x1000)
        self.defaults = {i: FakeStream(i, 0, 0) for i in range(self.count)}
        self.currents = dict(self.defaults)
        self.allocators = [None]   # the pools the thread allocated from, the current last (None: default)
        self.released = []         # graphs given to graph_release
        self.fail_begin = None     # an exception begin_capture raises, when set

    @property
    def kernels(self):
        """The CPU backend's kernels: the fake devices compute with NumPy."""
        return REGISTRY.get("cpu").kernels

    # --- the Backend protocol

    def is_available(self):
        return self.available

    def unavailable_reason(self):
        return "" if self.available else "no GPU in this test"

    def device_count(self):
        return self.count

    def device_index(self, array):
        return getattr(array, "index", None)

    def _index(self, index):
        return self.current if index is None else index

    def from_host(self, array, index):
        refuse_during_capture("host copy")
        self.placed.append(("from_host", index))
        return _on(array, self._index(index))

    def from_pinned(self, array, index):
        refuse_during_capture("host copy")
        self.placed.append(("from_pinned", index))
        return _on(array, self._index(index))

    def to_host(self, array):
        refuse_during_capture("host read")
        return np.asarray(array).view(np.ndarray)

    def full(self, shape, fill, dtype, index):
        self.placed.append(("full", index))
        return _on(np.full(shape, fill, dtype=dtype), self._index(index))

    def data_ptr(self, array):
        return array.__array_interface__["data"][0]

    def generator(self, index):
        self.placed.append(("generator", index))
        return np.random.default_rng(self.initial_seed(self._index(index)))

    def manual_seed(self, seed, index=None):
        refuse_during_capture("seed")
        if index is None:
            self.seed_all = seed
            self.seeds.clear()
        else:
            self.seeds[index] = seed

    def initial_seed(self, index):
        return self.seeds.get(index, self.seed_all)

    def synchronize(self, index=None):
        refuse_during_capture("synchronize")
        self.synced.append(index)

    # --- the runtime ember.cuda drives

    def init(self):
        self.used.add(self.current)

    def is_initialized(self):
        return bool(self.used)

    def current_device(self):
        return self.current

    def set_device(self, index):
        self.used.add(index)
        self.current = index

    def device_properties(self, index):
        return {"name": f"Fake GPU {index}", "total_memory": (index + 1) << 30, "major": 9, "minor": index,
                "multi_processor_count": 100 + index}

    def memory_usage(self, index):
        return self.pool.get(index, (0, 0))

    def empty_cache(self):
        refuse_during_capture("empty cache")
        self.cache_emptied += 1
        self.pool = {i: (allocated, allocated) for i, (allocated, _) in self.pool.items()}

    def mem_get_info(self, index):
        total = self.device_properties(index)["total_memory"]
        return total - self.memory_usage(index)[1], total

    def new_stream(self, index, priority):
        return FakeStream(index, priority, next(self._handles))

    def current_stream(self, index):
        return self.currents[index]

    def default_stream(self, index):
        return self.defaults[index]

    def set_stream(self, stream, index):
        assert stream.index == index, "a stream is made current on its own device"
        self.currents[index] = stream

    def stream_handle(self, stream):
        return stream.handle

    def stream_query(self, stream):
        return True

    def stream_synchronize(self, stream):
        refuse_during_capture("synchronize")
        stream.synchronized += 1

    def stream_wait_event(self, stream, event):
        stream.waited_for.append(event)

    def new_event(self, enable_timing, blocking, interprocess):
        return FakeEvent(enable_timing, blocking, interprocess)

    def event_record(self, event, stream):
        event.stream, event.at_ms = stream, self.clock_ms

    def event_query(self, event):
        return event.at_ms is not None

    def event_synchronize(self, event):
        refuse_during_capture("synchronize")

    def elapsed_time(self, start, end):
        if not (start.enable_timing and end.enable_timing):
            raise RuntimeError("both events must be created with enable_timing=True")
        return end.at_ms - start.at_ms

    def new_graph_pool(self):
        return object()

    def begin_capture(self, stream, pool, mode):
        if self.fail_begin is not None:
            raise self.fail_begin
        self.allocators.append(pool)
        stream.capturing = mode
        return len(self.allocators) - 1

    def end_capture(self, stream, token):
        try:
            if stream.capturing is None:
                raise RuntimeError("the stream is not capturing")
            return FakeGraph(stream, self.allocators[token], stream.capturing)
        finally:
            stream.capturing = None
            del self.allocators[token:]

    def graph_launch(self, graph, stream):
        graph.launches.append(stream)

    def graph_release(self, graph):
        self.released.append(graph)

    def stream_is_capturing(self, stream):
        return stream.capturing is not None
