"""ember.cuda, torch.cuda's API: without a GPU it answers as torch 2.13's CPU-only build
does; with the stand-in backend of tests/core/fake_gpus.py (two "GPUs") its logic is
checked against what reaches the backend; the tests marked ``cuda`` run on a real GPU."""

import warnings

from types import SimpleNamespace

import numpy as np
import pytest

import ember
from ember import cuda

gpu = pytest.mark.skipif(not cuda.is_available(), reason="needs CuPy and a GPU")

NO_GPU = "ember.cuda has no GPU to use: no GPU in this test"


@pytest.fixture
def same_outcome(no_gpu):
    """tests.oracle.same_outcome, with a cuda backend that has no GPU; skips without torch."""
    torch = pytest.importorskip("torch")
    assert not torch.cuda.is_available(), "the oracle must be torch's CPU-only build"
    from tests.oracle import same_outcome

    return same_outcome


# --------------------------------------------------------------------------- without a GPU

@pytest.mark.parametrize("call", [
    lambda L: L.cuda.is_available(),
    lambda L: L.cuda.device_count(),
    lambda L: L.cuda.is_initialized(),
    lambda L: L.cuda.set_device(-1),
    lambda L: L.cuda.device(-1).__enter__(),
    lambda L: L.cuda.device_of(L.ones(1)).__enter__(),
    lambda L: L.cuda.stream(None).__enter__(),
    lambda L: L.cuda.StreamContext(None).__enter__(),
    lambda L: L.cuda.set_stream(None),
    lambda L: L.cuda.memory_allocated(),
    lambda L: L.cuda.max_memory_allocated(),
    lambda L: L.cuda.memory_reserved(),
    lambda L: L.cuda.max_memory_reserved(),
    lambda L: L.cuda.memory_stats(),
    lambda L: L.cuda.empty_cache(),
    lambda L: L.cuda.manual_seed(1),
    lambda L: L.cuda.manual_seed_all(1),
    lambda L: L.cuda.seed(),
    lambda L: L.cuda.seed_all(),
], ids=["is_available", "device_count", "is_initialized", "set_device-negative", "device-negative", "device_of-cpu",
        "stream-none", "StreamContext-none", "set_stream-none", "memory_allocated", "max_memory_allocated",
        "memory_reserved", "max_memory_reserved", "memory_stats", "empty_cache", "manual_seed",
        "manual_seed_all", "seed", "seed_all"])
def test_what_returns_without_a_gpu_returns_the_same(call, same_outcome):
    same_outcome(call, raises=False)


@pytest.mark.parametrize("call", [
    lambda L: L.cuda.init(),
    lambda L: L.cuda.current_device(),
    lambda L: L.cuda.get_device_name(),
    lambda L: L.cuda.get_device_name(0),
    lambda L: L.cuda.get_device_capability(),
    lambda L: L.cuda.get_device_properties(0),
    lambda L: L.cuda.synchronize(),
    lambda L: L.cuda.synchronize(0),
    lambda L: L.cuda.current_stream(),
    lambda L: L.cuda.default_stream(),
    lambda L: L.cuda.mem_get_info(),
    lambda L: L.cuda.initial_seed(),
    lambda L: L.cuda.get_rng_state(),
], ids=["init", "current_device", "get_device_name", "get_device_name-0", "get_device_capability",
        "get_device_properties", "synchronize", "synchronize-0", "current_stream", "default_stream",
        "mem_get_info", "initial_seed", "get_rng_state"])
def test_what_needs_a_gpu_raises_assertion_error_with_the_reason(call, same_outcome):
    same_outcome(call, raises=AssertionError, exact_type=True, match=NO_GPU)


@pytest.mark.parametrize("call", [
    lambda L: L.cuda.Stream(),
    lambda L: L.cuda.Event(),
    lambda L: L.cuda.Event(enable_timing=True),
    lambda L: L.cuda.device(0).__enter__(),
], ids=["Stream", "Event", "Event-timing", "device-enter"])
def test_streams_events_and_device_switches_raise_runtime_error(call, same_outcome):
    same_outcome(call, raises=RuntimeError, match=NO_GPU)


@pytest.mark.parametrize("call", [
    lambda L: L.cuda.set_device("cpu"),
    lambda L: L.cuda.set_device(1.5),
    lambda L: L.cuda.set_device("cuda"),
    lambda L: L.cuda.manual_seed("one"),
], ids=["cpu", "float", "no-index", "seed-text"])
def test_bad_arguments_get_torchs_errors(call, same_outcome):
    same_outcome(call, raises=ValueError, message=lambda text: text.replace("an ember.", "a ember."))


@pytest.mark.parametrize("call", [
    lambda L: L.cuda.set_device(0),
    lambda L: L.cuda.reset_peak_memory_stats(),
], ids=["set_device", "reset_peak_memory_stats"])
def test_where_torch_fails_on_its_missing_binding_ember_says_why(call, no_gpu):
    """torch's CPU build lacks the C functions these call (an AttributeError, an accident
    of its build); ember raises the AssertionError torch raises for a missing GPU elsewhere."""
    torch = pytest.importorskip("torch")
    with pytest.raises(AttributeError, match="_cuda_"):
        call(torch)
    with pytest.raises(AssertionError, match=NO_GPU):
        call(ember)


def test_reset_max_memory_allocated_warns_first(no_gpu):
    with pytest.warns(FutureWarning, match="reset_peak_memory_stats"), pytest.raises(AssertionError):
        cuda.reset_max_memory_allocated()


def test_this_machines_reason_is_the_backends():
    be = ember.backend.REGISTRY.backends["cuda"]
    if be.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(AssertionError) as error:
        cuda.current_device()
    assert be.unavailable_reason() in str(error.value) and be.unavailable_reason()
    assert not cuda.is_initialized() and cuda.memory_stats() == {}


def test_without_the_plugin_the_reason_says_so(monkeypatch):
    monkeypatch.delitem(ember.backend.REGISTRY.backends, "cuda")
    assert not cuda.is_available() and cuda.device_count() == 0
    with pytest.raises(AssertionError, match="plugin is not loaded"):
        cuda.current_device()
    cuda.manual_seed(3)


# --------------------------------------------------------------------------- devices (stand-in)

def test_set_device_changes_the_current_device(gpus):
    assert not cuda.is_initialized()
    assert cuda.current_device() == 0 and cuda.is_initialized()
    for device, index in [(1, 1), ("cuda:0", 0), (ember.device("cuda", 1), 1), (-1, 1)]:
        cuda.set_device(device)
        assert cuda.current_device() == gpus.current == index
    with pytest.raises(RuntimeError, match="invalid device index 2: ember.cuda sees 2 device"):
        cuda.set_device(2)
    with pytest.raises(ValueError, match="Expected a cuda device, but got: cpu"):
        cuda.set_device(ember.device("cpu"))
    assert cuda.current_device() == 1


def test_device_context_restores_the_previous_device(gpus):
    with cuda.device(1):
        assert cuda.current_device() == 1
        with cuda.device("cuda:0"):
            assert cuda.current_device() == 0
        with cuda.device(None), cuda.device(-1), cuda.device("cuda"):
            assert cuda.current_device() == 1
        assert cuda.current_device() == 1
    assert cuda.current_device() == 0
    with pytest.raises(KeyError), cuda.device(1):
        raise KeyError("the block fails")
    assert cuda.current_device() == 0
    on_1 = ember.ones(1, device="cuda:1")
    with cuda.device_of(on_1):
        assert cuda.current_device() == 1
    with cuda.device_of(ember.ones(1)):
        assert cuda.current_device() == 0
    assert cuda.current_device() == 0


def test_cuda_without_an_index_means_the_current_device(gpus):
    cuda.set_device(1)
    made = [ember.ones(2, device="cuda"), ember.zeros(2, device=ember.device("cuda")),
            ember.tensor([1.0, 2.0], device="cuda"), ember.arange(3, device="cuda"),
            ember.ones(2).to("cuda"), ember.ones(2).cuda()]
    assert [t.device for t in made] == [ember.device("cuda", 1)] * len(made)
    ember.rand(2, device="cuda")
    assert [index for _, index in gpus.placed] == [1] * (len(made) + 1), "the index reaches the backend"
    assert gpus.placed[-1] == ("generator", 1)
    assert ember.ones(2, device="cuda:0").device == ember.device("cuda", 0)
    assert ember.ones(2).cuda(0).device == ember.device("cuda", 0)
    with cuda.device(0):
        assert ember.empty(2, device="cuda").device == ember.device("cuda", 0)
    here = made[0]
    assert here.to("cuda") is here and here.cuda() is here
    cuda.set_device(0)
    assert here.to("cuda") is not here


def test_device_properties_name_and_capability(gpus):
    props = cuda.get_device_properties(1)
    assert (props.name, props.total_memory, props.major, props.minor, props.multi_processor_count) == (
        "Fake GPU 1", 2 << 30, 9, 1, 101)
    assert cuda.get_device_name() == "Fake GPU 0" and cuda.get_device_capability("cuda:1") == (9, 1)
    with pytest.raises(AssertionError, match="Invalid device id 2"):
        cuda.get_device_properties(2)


def test_synchronize_the_device_asked_for(gpus):
    cuda.set_device(1)
    cuda.synchronize()
    cuda.synchronize(0)
    cuda.synchronize("cuda:1")
    cuda.synchronize(ember.device("cuda"))
    assert gpus.synced == [1, 0, 1, 1]


# --------------------------------------------------------------------------- memory (fake pool)

def test_memory_counters_come_from_the_pool_and_peaks_from_ember(gpus):
    assert cuda.memory_stats() == {} and cuda.memory_allocated() == 0, "nothing before the GPU is used"
    cuda.init()
    gpus.pool[0] = (100, 1000)
    assert cuda.memory_stats() == {"allocated_bytes.all.current": 100, "allocated_bytes.all.peak": 100,
                                   "reserved_bytes.all.current": 1000, "reserved_bytes.all.peak": 1000}
    gpus.pool[0] = (300, 2000)
    assert cuda.memory_allocated() == 300
    gpus.pool[0] = (50, 2000)
    assert (cuda.memory_allocated(), cuda.max_memory_allocated()) == (50, 300)
    assert (cuda.memory_reserved(), cuda.max_memory_reserved()) == (2000, 2000)
    cuda.reset_peak_memory_stats()
    assert (cuda.max_memory_allocated(), cuda.max_memory_reserved()) == (50, 2000)
    gpus.pool[0] = (70, 5000)   # the pool grew and nothing read it ...
    cuda.empty_cache()          # ... empty_cache reads it before the cache goes
    assert (cuda.memory_reserved(), cuda.max_memory_reserved()) == (70, 5000)
    assert gpus.cache_emptied == 1
    gpus.pool[1] = (8, 16)
    assert cuda.memory_allocated(1) == 8 and cuda.max_memory_allocated(0) == 70, "peaks per device"
    with pytest.warns(FutureWarning):
        cuda.reset_max_memory_allocated()
    assert cuda.max_memory_reserved() == 70
    assert cuda.mem_get_info() == ((1 << 30) - 70, 1 << 30)


# --------------------------------------------------------------------------- streams and events

def test_stream_context_sets_the_current_stream(gpus):
    default = cuda.default_stream()
    assert cuda.current_stream() == default and default.cuda_stream == 0
    s = cuda.Stream(priority=-1)
    assert s.device == ember.device("cuda", 0) and s._raw.priority == -1 and s.cuda_stream != 0
    assert s != default and s != "a stream" and s == cuda.Stream._wrap(gpus, s._raw, 0)
    with cuda.stream(s):
        assert cuda.current_stream() == s
        with cuda.stream(None):
            assert cuda.current_stream() == s
    assert cuda.current_stream() == default
    with s:
        assert cuda.current_stream() == s
    assert cuda.current_stream() == default
    cuda.set_stream(s)
    assert cuda.current_stream() == s


def test_a_stream_of_another_device_is_current_there_only(gpus):
    s1 = cuda.Stream(device=1)
    assert s1.device == ember.device("cuda", 1)
    with cuda.stream(s1):
        assert cuda.current_stream(1) == s1 and cuda.current_stream(0) == cuda.default_stream(0)
        assert cuda.current_device() == 0
    assert cuda.current_stream(1) == cuda.default_stream(1)


def test_events_record_wait_and_time(gpus):
    start, end = cuda.Event(enable_timing=True), cuda.Event(enable_timing=True)
    assert not start.query()
    gpus.clock_ms = 1.0
    start.record()
    s = cuda.Stream()
    gpus.clock_ms = 3.5
    end.record(s)
    assert start._raw.stream is gpus.currents[0] and end._raw.stream is s._raw
    assert start.query() and start.elapsed_time(end) == 2.5
    with pytest.raises(RuntimeError, match="enable_timing"):
        start.elapsed_time(cuda.Event())
    t = cuda.Stream()
    t.wait_stream(s)   # t waits for an event recorded on s
    (event,) = t._raw.waited_for
    assert event.stream is s._raw
    mark = s.record_event()
    assert isinstance(mark, cuda.Event) and mark._raw.stream is s._raw
    mark.wait()
    assert gpus.currents[0].waited_for == [mark._raw]
    s.synchronize()
    assert s.query() and s._raw.synchronized == 1
    flags = cuda.Event(blocking=True, interprocess=True)._raw
    assert (flags.enable_timing, flags.blocking, flags.interprocess) == (False, True, True)


# --------------------------------------------------------------------------- seeds

def test_seeds_go_to_the_current_device_or_to_all(gpus):
    cuda.set_device(1)
    cuda.manual_seed(5)
    assert gpus.seeds == {1: 5} and cuda.initial_seed() == 5
    cuda.set_device(0)
    assert cuda.initial_seed() == gpus.seed_all
    cuda.manual_seed(-1)
    assert cuda.initial_seed() == 2**64 - 1, "negative seeds count modulo 2**64, as torch's"
    cuda.manual_seed_all(7)
    assert gpus.seeds == {} and cuda.initial_seed() == 7
    cuda.seed()
    drawn = cuda.initial_seed()
    assert gpus.seeds == {0: drawn}
    cuda.seed_all()
    assert gpus.seeds == {} and gpus.seed_all not in (7, drawn)
    with pytest.raises(ValueError, match="2\\*\\*64"):
        cuda.manual_seed(2**64)


def test_seeding_without_a_gpu_touches_nothing(no_gpu):
    cuda.manual_seed(5)
    cuda.manual_seed_all(5)
    assert no_gpu.seeds == {} and no_gpu.seed_all != 5


def test_generator_states_without_a_gpu_are_none_or_empty_as_in_torch(no_gpu, same_outcome):
    same_outcome(lambda L: L.cuda.get_rng_state_all())
    same_outcome(lambda L: L.cuda.set_rng_state(L.zeros(3, dtype=L.uint8)))
    same_outcome(lambda L: L.cuda.set_rng_state_all([L.zeros(3, dtype=L.uint8)]))


# --------------------------------------------------------------------------- pinned copies

def test_non_blocking_copies_of_pinned_tensors_use_the_async_copy(gpus):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # a machine that may not lock memory says so
        pinned = ember.arange(4.0).pin_memory()
    if not pinned.is_pinned():
        pytest.skip("this machine cannot lock memory (ulimit -l)")
    y = pinned.to("cuda", non_blocking=True)
    z = pinned.cuda(non_blocking=True)
    w = pinned.to("cuda:1", ember.float32, True)   # non_blocking given positionally
    pinned.to("cuda")
    ember.arange(4.0).to("cuda", non_blocking=True)
    assert [how for how, _ in gpus.placed] == ["from_pinned"] * 3 + ["from_host"] * 2
    assert [t.device.index for t in (y, z, w)] == [0, 0, 1]
    np.testing.assert_array_equal(y.cpu().numpy(), [0.0, 1.0, 2.0, 3.0])


def test_positional_copy_flag_copies_on_the_cpu():
    x = ember.ones(2)
    assert x.to(ember.float32) is x
    assert x.to(ember.float32, False, True) is not x
    with pytest.raises(TypeError, match="two positional bools"):
        x.to(ember.float32, False, True, True)


# --------------------------------------------------------------------------- on a GPU

@pytest.mark.cuda
@pytest.mark.gpu_runtime
@gpu
def test_gpu_an_allocation_past_the_gpus_memory_is_torchs_out_of_memory_error():
    """Through CuPy's own pool: a RuntimeError naming the size, and the GPU still works."""
    with pytest.raises(cuda.OutOfMemoryError, match=r"^CUDA out of memory\. Tried to allocate 9\.09 TiB\. GPU "):
        ember.empty(10 ** 13 // 4, dtype=ember.float32, device="cuda")
    assert ember.ones(3, device="cuda").sum().item() == 3


@pytest.mark.cuda
@pytest.mark.gpu_runtime
@gpu
def test_gpu_memory_allocated_follows_a_tensor():
    cuda.init()
    cuda.empty_cache()
    base = cuda.memory_allocated()
    x = ember.empty(256 * 1024, dtype=ember.float32, device="cuda")   # 1 MiB
    assert cuda.memory_allocated() >= base + 2**20
    assert cuda.max_memory_allocated() >= base + 2**20
    held = cuda.memory_reserved()
    del x
    assert cuda.memory_allocated() == base
    cuda.empty_cache()
    assert cuda.memory_reserved() <= held - 2**20
    cuda.reset_peak_memory_stats()
    assert cuda.max_memory_allocated() == base
    free, total = cuda.mem_get_info()
    assert 0 < free <= total == cuda.get_device_properties(cuda.current_device()).total_memory


@pytest.mark.cuda
@pytest.mark.gpu_runtime
@gpu
def test_gpu_event_times_a_matmul():
    a = ember.randn(1024, 1024, device="cuda")
    start, end = cuda.Event(enable_timing=True), cuda.Event(enable_timing=True)
    start.record()
    for _ in range(4):
        a = a @ a / 32
    end.record()
    end.synchronize()
    assert end.query() and start.elapsed_time(end) > 0


@pytest.mark.cuda
@gpu
def test_gpu_stream_context_and_pinned_copy():
    s = cuda.Stream()
    assert s.cuda_stream != 0 and s.device == ember.device("cuda", cuda.current_device())
    host = ember.arange(1 << 16, dtype=ember.float32).pin_memory()
    with cuda.stream(s):
        assert cuda.current_stream() == s
        y = host.to("cuda", non_blocking=True) * 2
    assert cuda.current_stream() == cuda.default_stream()
    s.synchronize()
    assert s.query()
    np.testing.assert_array_equal(y.cpu().numpy(), np.arange(1 << 16, dtype=np.float32) * 2)


@pytest.mark.cuda
@gpu
def test_gpu_devices_placement_and_seeds():
    props = cuda.get_device_properties()
    assert props.name and props.total_memory > 0 and props.multi_processor_count > 0
    assert cuda.get_device_capability() == (props.major, props.minor) and props.major >= 3
    assert ember.ones(2, device="cuda").device == ember.device("cuda", cuda.current_device())
    if cuda.device_count() > 1:
        with cuda.device(1):
            assert ember.ones(2, device="cuda").device == ember.device("cuda", 1)
    cuda.manual_seed(3)
    a = ember.rand(4, device="cuda").cpu().numpy()
    cuda.manual_seed(3)
    np.testing.assert_array_equal(ember.rand(4, device="cuda").cpu().numpy(), a)
    assert cuda.initial_seed() == 3
    cuda.synchronize()


@pytest.mark.cuda
@gpu
def test_gpu_generator_states_replay_draws_and_checkpointed_dropout():
    state = cuda.get_rng_state()
    a = ember.rand(1000, device="cuda").cpu().numpy()
    cuda.set_rng_state(state)
    np.testing.assert_array_equal(ember.rand(1000, device="cuda").cpu().numpy(), a)
    layer = ember.nn.Sequential(ember.nn.Linear(64, 64), ember.nn.Dropout(0.5), ember.nn.Linear(64, 1)).cuda()
    x = ember.randn(32, 64, device="cuda")
    cuda.manual_seed(11)
    layer(x).sum().backward()
    plain = [p.grad.cpu().numpy() for p in layer.parameters()]
    layer.zero_grad()
    cuda.manual_seed(11)
    ember.utils.checkpoint.checkpoint(layer, x, use_reentrant=False).sum().backward()
    for p, want in zip(layer.parameters(), plain):   # the recomputation drew the same mask
        np.testing.assert_allclose(p.grad.cpu().numpy(), want, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- the CuPy backend's runtime

class _CuPy:
    """The part of CuPy's API (names and signatures as its documentation gives them)
    that the cuda backend's runtime methods call, over two pretend devices, so that
    their translation of ember.cuda's calls runs on any machine."""

    def __init__(self):
        cp = self
        self.current = 0
        self.pools = {0: [0, 0], 1: [0, 0]}   # per device: used bytes, total bytes
        self.freed = []
        self.currents = {}                     # device -> current stream
        self.elapsed = []

        class Device:
            def __init__(self, device=None):
                self.id = cp.current if device is None else device

            def use(self):
                cp.current = self.id

            def __enter__(self):
                self._previous, cp.current = cp.current, self.id
                return self

            def __exit__(self, *exc_info):
                cp.current = self._previous

            def synchronize(self):
                pass

        class Stream:
            null = None

            def __init__(self, null=False, non_blocking=False, ptds=False, priority=None):
                self.ptr, self.device_id = (0, -1) if null else (0x1000 + len(cp.currents) + 1, cp.current)
                self.priority, self.done, self.waits = priority, True, []

            def use(self):
                assert self.device_id in (-1, cp.current), "CuPy: the stream's device must be current"
                cp.currents[cp.current] = self

            def synchronize(self):
                pass

            def wait_event(self, event):
                self.waits.append(event)

        class Event:
            def __init__(self, block=False, disable_timing=False, interprocess=False):
                self.flags = dict(block=block, disable_timing=disable_timing, interprocess=interprocess)
                self.stream, self.done = None, False

            def record(self, stream=None):
                self.stream, self.done = stream, True

            def synchronize(self):
                pass

        class Pool:
            def used_bytes(self):
                return cp.pools[cp.current][0]

            def total_bytes(self):
                return cp.pools[cp.current][1]

            def free_all_blocks(self, stream=None):
                cp.freed.append(cp.current)

        class Array:
            def __init__(self, shape, dtype):
                self.shape, self.dtype, self.device_id = shape, dtype, cp.current

            def set(self, arr, stream=None):
                self.host, self.stream = arr, stream

        class DeviceArray(np.ndarray):
            def get(self):
                return np.asarray(self).copy()

        def default_rng(seed):
            states = np.random.default_rng(seed).integers(-128, 128, 48, dtype=np.int8)
            return SimpleNamespace(bit_generator=SimpleNamespace(_state=states.view(DeviceArray)))

        Stream.null = Stream(null=True)
        self._pool = Pool()
        self.empty = Array
        self.asarray = lambda a: np.array(a).view(DeviceArray)
        self.random = SimpleNamespace(default_rng=default_rng)
        self.cuda = type("cuda", (), dict(
            Device=Device, Stream=Stream, Event=Event,
            get_current_stream=staticmethod(lambda device_id=-1: cp.currents.get(
                cp.current if device_id == -1 else device_id, Stream.null)),
            get_elapsed_time=staticmethod(lambda start, end: cp.elapsed.append((start, end)) or 1.25),
            runtime=type("runtime", (), dict(
                getDevice=staticmethod(lambda: cp.current),
                memGetInfo=staticmethod(lambda: (100 - cp.current, 200)),
                getDeviceProperties=staticmethod(lambda i: {
                    "name": f"GPU {i}".encode(), "totalGlobalMem": 200, "major": 8, "minor": 6,
                    "multiProcessorCount": 84}))),
        ))

    def get_default_memory_pool(self):
        return self._pool


def backend_over(monkeypatch, fake):
    """Register, for the test, a cuda backend with two GPUs whose CuPy is the
    stand-in ``fake``; return ``fake``."""
    from ember.backends.cuda import CUDABackend

    be = CUDABackend()
    be._cupy = fake
    be.device_count = lambda: 2
    monkeypatch.setitem(ember.backend.REGISTRY.backends, "cuda", be)
    monkeypatch.setattr(cuda.memory, "_PEAKS", {})
    return fake


@pytest.fixture
def cupy(monkeypatch):
    return backend_over(monkeypatch, _CuPy())


def test_the_backend_and_the_stand_in_have_every_runtime_method():
    from ember.backends.cuda import CUDABackend
    from ember.cuda._runtime import Runtime
    from tests.core.fake_gpus import FakeGPUs

    wanted = [name for name in vars(Runtime) if not name.startswith("_")]
    assert len(wanted) == 29
    assert [n for n in wanted + ["from_pinned"] if not (hasattr(CUDABackend, n) and hasattr(FakeGPUs, n))] == []


class _CuPyOutOfMemory(MemoryError):
    """CuPy's OutOfMemoryError (a MemoryError)."""


def _cupy_allocating(limit):
    """A stand-in CuPy whose allocator gives blocks of up to ``limit`` bytes and
    raises its OutOfMemoryError past that, on a GPU 1 of 80 GiB with 1.5 GiB free."""
    def malloc(size):
        return f"block of {size}" if size <= limit else _raise(_CuPyOutOfMemory(size))

    runtime = SimpleNamespace(memGetInfo=lambda: (3 << 29, 80 << 30), getDevice=lambda: 1)
    return SimpleNamespace(allocators=[], cuda=SimpleNamespace(
        is_available=lambda: True, runtime=runtime, get_allocator=lambda: malloc,
        memory=SimpleNamespace(OutOfMemoryError=_CuPyOutOfMemory)))


def _raise(error):
    raise error


@pytest.mark.parametrize("inside_using_allocator", [False, True])
def test_an_allocation_past_the_gpus_memory_raises_torchs_runtime_error(monkeypatch, inside_using_allocator):
    """The cuda backend puts CuPy's allocator (its default pool) behind one that raises
    ember.cuda.OutOfMemoryError, a RuntimeError with torch's message, where CuPy's
    raises its MemoryError; within a caller's cupy.cuda.using_allocator (where CuPy
    refuses set_allocator) it leaves CuPy's allocator alone."""
    import sys

    from ember.backends.cuda import CUDABackend

    fake = _cupy_allocating(limit=1024)

    def set_allocator(allocator):
        if inside_using_allocator:
            raise ValueError("Can't change the global allocator inside `using_allocator` context manager")
        fake.allocators.append(allocator)

    fake.cuda.set_allocator = set_allocator
    monkeypatch.setitem(sys.modules, "cupy", fake)
    assert CUDABackend()._load() is fake
    if inside_using_allocator:
        assert fake.allocators == []
        return
    [allocate] = fake.allocators
    assert allocate(512) == "block of 512"
    sizes = {4 * 10 ** 12: "3.64 TiB", 1536: "1.50 KiB", 1025 << 20: "1.00 GiB"}
    for size, words in sizes.items():
        with pytest.raises(cuda.OutOfMemoryError) as info:
            allocate(size)
        assert str(info.value) == (f"CUDA out of memory. Tried to allocate {words}. GPU 1 has a total capacity "
                                   "of 80.00 GiB of which 1.50 GiB is free.")
        assert isinstance(info.value, RuntimeError) and isinstance(info.value.__cause__, _CuPyOutOfMemory)


def test_a_size_past_63_bits_is_torchs_overflow_error_on_every_device(gpus):
    """A factory refuses, before the device allocates, a tensor whose byte count would
    overflow: on a GPU as on the CPU, with torch's message."""
    for device in ("cpu", "cuda"):
        with pytest.raises(RuntimeError, match=r"^Storage size calculation overflowed with sizes=\[1000000000000, "
                                               r"1000000000000\]$"):
            ember.zeros(10 ** 12, 10 ** 12, device=device)
    assert [how for how, _ in gpus.placed] == []


def test_the_cupy_backend_devices_and_memory(cupy):
    assert not cuda.is_initialized()
    cuda.set_device(1)
    assert cupy.current == cuda.current_device() == 1 and cuda.is_initialized()
    assert cuda.get_device_name() == "GPU 1" and cuda.get_device_capability(0) == (8, 6)
    assert cuda.get_device_properties().total_memory == 200
    cupy.pools[0] = [30, 64]
    cupy.pools[1] = [10, 32]
    assert (cuda.memory_allocated(0), cuda.memory_allocated()) == (0, 10), "device 0 is not used yet"
    cuda.empty_cache()
    assert cupy.freed == [1], "a device ember did not use is left alone (no CUDA context made there)"
    with cuda.device(0):
        assert cupy.current == 0
    assert cupy.current == 1
    assert (cuda.memory_allocated(0), cuda.memory_reserved(0)) == (30, 64)
    assert cupy.current == 1, "reading device 0's pool leaves the current device alone"
    cuda.empty_cache()
    assert sorted(cupy.freed) == [0, 1, 1] and cupy.current == 1
    assert cuda.mem_get_info(0) == (100, 200) and cuda.mem_get_info() == (99, 200)


def test_the_cupy_backend_saves_and_restores_generator_states_on_the_device(cupy):
    with cuda.device(1):
        cuda.manual_seed(9)
    states = cuda.get_rng_state_all()
    assert len(states) == 2 and all(s.dtype == ember.uint8 and s.device.type == "cpu" for s in states)
    assert not np.array_equal(states[0].numpy(), states[1].numpy())   # seeded apart
    be = ember.backend.REGISTRY.backends["cuda"]
    drawn = be.generator(0).bit_generator._state
    drawn[...] = drawn + 1   # as a draw advances the states
    cuda.set_rng_state(states[0])
    assert np.array_equal(be.generator(0).bit_generator._state.view(np.uint8), states[0].numpy())
    assert be.generator(0).bit_generator._state is drawn, "restored in place (a graph may read it)"
    cuda.set_rng_state_all(states[::-1])
    assert np.array_equal(cuda.get_rng_state(1).numpy(), states[0].numpy())
    assert np.array_equal(cuda.get_rng_state("cuda:0").numpy(), states[1].numpy())
    with pytest.raises(RuntimeError, match="uint8 tensor of 48 bytes"):
        cuda.set_rng_state(ember.zeros(5, dtype=ember.uint8))


def test_the_cupy_backend_streams_events_and_pinned_copies(cupy):
    s = cuda.Stream(device=1, priority=-1)
    assert (s._raw.device_id, s._raw.priority, cupy.current) == (1, -1, 0)
    assert cuda.current_stream() == cuda.default_stream() and cuda.default_stream().cuda_stream == 0
    with cuda.stream(s):
        assert cupy.currents[1] is s._raw and cuda.current_stream(1) == s and cupy.current == 0
    assert cuda.current_stream(1) == cuda.default_stream(1)
    timed, plain = cuda.Event(enable_timing=True), cuda.Event(blocking=True)
    assert timed._raw.flags == dict(block=False, disable_timing=False, interprocess=False)
    assert plain._raw.flags == dict(block=True, disable_timing=True, interprocess=False)
    timed.record(s)
    plain.record()
    assert timed._raw.stream is s._raw and plain._raw.stream is cupy.cuda.Stream.null
    assert timed.query() and timed.elapsed_time(plain) == 1.25 and cupy.elapsed == [(timed._raw, plain._raw)]
    s.wait_event(timed)
    assert s._raw.waits == [timed._raw] and s.query()
    host = np.arange(3.0)
    cuda.set_device(1)
    with cuda.stream(s):
        copy = ember.backend.REGISTRY.backends["cuda"].from_pinned(host, None)
    assert copy.host is host and copy.stream is s._raw and copy.device_id == 1
