"""ember.cuda.graphs, torch.cuda.graphs' API: without a GPU it answers as torch's CPU-only
build does; on the stand-in backend of tests/core/fake_gpus.py the control flow of a
capture is checked (side stream, memory pool switched in and back, refusals); the real
backend's calls into CuPy run against a stand-in of CuPy; the tests marked ``cuda``
capture and replay training steps on a real GPU."""

import contextlib
import gc
import weakref

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember import cuda
from ember.backends.cuda.checks import DeferredChecks
from tests.core.fake_gpus import FakeGraph
from tests.core.test_cuda_api import _CuPy, backend_over

gpu = pytest.mark.skipif(not cuda.is_available(), reason="needs CuPy and a GPU")

NO_GPU = "ember.cuda has no GPU to use: no GPU in this test"


# --------------------------------------------------------------------------- without a GPU

def test_the_names_are_torchs():
    torch = pytest.importorskip("torch")
    assert set(cuda.graphs.__all__) == set(torch.cuda.graphs.__all__) - {"make_graphed_callables"}
    assert all(hasattr(cuda, name) for name in cuda.graphs.__all__)


@pytest.mark.parametrize("call", [
    lambda L: L.cuda.is_current_stream_capturing(),
    lambda L: L.cuda.graph_pool_handle(),
    lambda L: L.cuda.CUDAGraph(),
    lambda L: L.cuda.graph(None),
], ids=["is_current_stream_capturing", "graph_pool_handle", "CUDAGraph", "graph"])
def test_without_a_gpu_every_name_raises_runtime_error(call, no_gpu):
    pytest.importorskip("torch")
    from tests.oracle import same_outcome

    same_outcome(call, raises=RuntimeError, match=NO_GPU)


# --------------------------------------------------------------------------- capture (stand-in)

def _allocator(gpus):
    return gpus.allocators[-1]


def test_graph_captures_on_a_side_stream_into_its_own_pool(gpus):
    g = cuda.CUDAGraph()
    assert not cuda.is_current_stream_capturing(), "False before the GPU is first used"
    x = ember.ones(3, device="cuda")
    gpus.placed.clear()
    with cuda.graph(g):
        capture_stream = gpus.currents[0]
        assert capture_stream.handle != 0 and capture_stream.capturing == "relaxed"
        assert cuda.is_current_stream_capturing() and _allocator(gpus) is not None
        y = x * 2
    assert gpus.placed[0] == ("generator", 0), "the generator is made before the capture"
    assert gpus.synced == [0] and gpus.cache_emptied == 1
    assert gpus.currents[0] is gpus.defaults[0] and _allocator(gpus) is None
    assert not cuda.is_current_stream_capturing()
    captured = g._captured
    assert isinstance(captured, FakeGraph) and captured.stream is capture_stream
    assert g.pool()._raw is captured.pool
    np.testing.assert_array_equal(y.cpu().numpy(), [2.0, 2.0, 2.0])
    g2 = cuda.CUDAGraph()
    with cuda.graph(g2, pool=g.pool(), capture_error_mode="global"):
        pass
    assert g2._captured.pool is captured.pool and g2._captured.stream is capture_stream, \
        "captures share the side stream and, when asked, the pool"
    assert g2._captured.mode == "global"


def test_replay_launches_on_the_current_stream_and_reset_frees(gpus):
    g = cuda.CUDAGraph()
    with pytest.raises(RuntimeError, match="without a preceding successful capture"):
        g.replay()
    with pytest.raises(RuntimeError, match="pool.. without a preceding successful capture"):
        g.pool()
    with cuda.graph(g):
        pass
    g.replay()
    s = cuda.Stream()
    with cuda.stream(s):
        g.replay()
    captured = g._captured
    assert captured.launches == [gpus.defaults[0], s._raw]
    g.reset()
    assert gpus.released == [captured] and g._pool is None
    with pytest.raises(RuntimeError, match="without a preceding successful capture"):
        g.replay()
    with cuda.graph(g):   # a reset graph captures again
        pass
    assert g._captured is not captured
    again = g._captured
    del g
    assert gpus.released == [captured, again], "a graph that goes is released too"


def test_a_block_that_raises_ends_the_capture_and_restores_the_pool_and_stream(gpus):
    g = cuda.CUDAGraph()
    with pytest.raises(KeyError, match="the block fails"), cuda.graph(g):
        raise KeyError("the block fails")
    assert _allocator(gpus) is None and gpus.currents[0] is gpus.defaults[0]
    assert not cuda.is_current_stream_capturing() and g._captured is None
    with cuda.graph(g):
        pass
    assert g._captured is not None


def test_a_capture_that_cannot_begin_restores_the_stream(gpus):
    gpus.fail_begin = RuntimeError("cudaErrorStreamCaptureUnsupported")
    with pytest.raises(RuntimeError, match="CaptureUnsupported"), cuda.graph(cuda.CUDAGraph()):
        pass
    assert gpus.currents[0] is gpus.defaults[0] and _allocator(gpus) is None


def test_what_a_capture_refuses(gpus):
    g = cuda.CUDAGraph()
    with pytest.raises(RuntimeError, match="non-default stream"):
        g.capture_begin()
    s = cuda.Stream()
    with cuda.stream(s):
        with pytest.raises(RuntimeError, match="Unknown capture error mode"):
            g.capture_begin(capture_error_mode="strict")
        g.capture_begin()
        with pytest.raises(RuntimeError, match="already owns a captured graph"):
            g.capture_begin()
        with pytest.raises(RuntimeError, match="captures do not nest"):
            cuda.CUDAGraph().capture_begin()
        with pytest.raises(RuntimeError, match="during this graph's capture"):
            g.reset()
        g.capture_end()
    with pytest.raises(RuntimeError, match="already owns a captured graph"):
        g.capture_begin()
    with pytest.raises(RuntimeError, match="capture_end without a capture_begin"):
        g.capture_end()


@pytest.mark.parametrize("action, cause", [
    (lambda x: x.sum().item(), "reading a GPU value on the host"),
    (lambda x: x.tolist(), "reading a GPU value on the host"),
    (lambda x: bool(x[0] > 0), "reading a GPU value on the host"),
    (lambda x: print(x), "reading a GPU value on the host"),
    (lambda x: cuda.synchronize(), "synchronizing with the GPU"),
    (lambda x: cuda.current_stream().synchronize(), "synchronizing with the GPU"),
    (lambda x: cuda.current_stream().record_event().synchronize(), "synchronizing with the GPU"),
    (lambda x: x + ember.tensor([1.0, 2.0, 3.0], device="cuda"), "copying host data to the GPU"),
    (lambda x: x + ember.ones(3).cuda(), "copying host data to the GPU"),
    (lambda x: ember.manual_seed(1), "reseeding"),
    (lambda x: cuda.manual_seed(1), "reseeding"),
    (lambda x: cuda.empty_cache(), "emptying the memory cache"),
], ids=["item", "tolist", "bool", "print", "synchronize", "stream-synchronize", "event-synchronize",
        "tensor", "cuda", "manual_seed", "cuda-manual_seed", "empty_cache"])
def test_a_host_read_or_sync_during_capture_fails_naming_the_cause(action, cause, gpus):
    x = ember.ones(3, device="cuda")
    g = cuda.CUDAGraph()
    with pytest.raises(RuntimeError, match=f"{cause}.* is not allowed during CUDA graph capture"), cuda.graph(g):
        action(x)
    assert g._captured is None and _allocator(gpus) is None
    action(x)   # allowed again after the capture


def test_a_training_step_captures_without_a_refusal(gpus):
    """An MLP step with dropout, cross entropy and SGD with momentum reads nothing back
    and copies nothing from the host, after the warm-up step made the optimizer's state."""
    ember.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 3)).to("cuda")
    opt = ember.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    x, y = ember.randn(5, 4, device="cuda"), ember.tensor([0, 1, 2, 0, 1], device="cuda")

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        return loss

    step()
    g = cuda.CUDAGraph()
    with cuda.graph(g):
        step()
    g.replay()


# --------------------------------------------------------------------------- device checks in a graph

def test_checks_captured_into_a_graph_are_looked_at_each_synchronisation():
    checks = DeferredChecks(np)
    before = (np.array(False), np.array(7), IndexError)
    checks.add("eager site", before[0], lambda: before[1], IndexError)
    checks.begin_capture()
    checks.add("class index", np.array(True), lambda: np.array(11), IndexError)
    checks.add("class index", np.array(False), lambda: np.array(12), IndexError)
    slots = checks.end_capture()
    assert list(checks._sites) == ["eager site"], "a capture leaves the pending checks alone"
    stream = type("Stream", (), {"synchronize": lambda self: None})()
    checks.watch(slots, stream)
    flag, first, _ = slots["class index"]
    assert not flag, "set to 'passed' when the capture ends"
    checks.raise_failed()
    flag[...], first[...] = True, 42   # what a failing replay leaves there
    with pytest.raises(IndexError, match="42"):
        checks.raise_failed()
    assert not flag, "the next replays start afresh"
    checks.raise_failed()
    flag[...] = True
    checks.forget(slots)
    checks.raise_failed()


# --------------------------------------------------------------------------- the CuPy backend

class _CuPyGraphs(_CuPy):
    """The stand-in CuPy, with stream capture, memory pools and per-thread allocators."""

    def __init__(self):
        super().__init__()
        cp = self
        self.allocator = None
        self.launched = []
        runtime = self.cuda.runtime
        runtime.streamCaptureModeGlobal, runtime.streamCaptureModeThreadLocal = 0, 1
        runtime.streamCaptureModeRelaxed = 2

        class MemoryPool:
            def __init__(self):
                self.sizes = []   # of the blocks asked for

            def malloc(self, size):
                self.sizes.append(size)
                return f"block of {size}"

        class Graph:
            def launch(self, stream=None):
                cp.launched.append(stream)

        @contextlib.contextmanager
        def using_allocator(allocator=None):
            previous, cp.allocator = cp.allocator, allocator
            try:
                yield
            finally:
                cp.allocator = previous

        def begin_capture(stream, mode=None):
            stream.capture_mode = mode

        def end_capture(stream):
            if stream.capture_mode is None:
                raise RuntimeError("cudaErrorIllegalState")
            stream.capture_mode = None
            return Graph()

        self.cuda.MemoryPool, self.cuda.using_allocator = MemoryPool, staticmethod(using_allocator)
        self.cuda.Stream.capture_mode = None
        self.cuda.Stream.begin_capture, self.cuda.Stream.end_capture = begin_capture, end_capture
        self.cuda.Stream.is_capturing = lambda stream: stream.capture_mode is not None
        self.random = type("random", (), {"default_rng": staticmethod(lambda seed: ("generator", seed))})


@pytest.fixture
def cupy(monkeypatch):
    monkeypatch.setattr(cuda.graphs.graph, "_capture_streams", {})
    return backend_over(monkeypatch, _CuPyGraphs())


def test_the_cupy_backend_captures_with_a_thread_allocator(cupy):
    g = cuda.CUDAGraph()
    s = cuda.Stream()
    with cuda.stream(s):
        g.capture_begin()
        assert s._raw.capture_mode == 2
        assert cupy.allocator(8) == "block of 8" and g.pool()._raw.sizes == [8], "the graph's pool allocates"
        assert cuda.is_current_stream_capturing()
        g.capture_end()
    assert cupy.allocator is None and not s._raw.is_capturing()
    g.replay()
    assert cupy.launched == [cupy.cuda.Stream.null]
    g2 = cuda.CUDAGraph()
    with cuda.stream(s):
        g2.capture_begin(capture_error_mode="thread_local")
        assert s._raw.capture_mode == 1
        s._raw.capture_mode = None   # CUDA broke the capture off
        with pytest.raises(RuntimeError, match="IllegalState"):
            g2.capture_end()
    assert cupy.allocator is None, "the allocator is restored when ending fails"


def test_a_kernel_table_made_during_capture_lives_as_long_as_the_graph(cupy, monkeypatch):
    from ember.backends.cuda.raw import TensorTables

    monkeypatch.setattr(TensorTables, "KEEP", 2)
    tables = TensorTables(np)
    before = tables.values([1.0], np.float64)   # made outside a capture: the cache alone holds it
    g = cuda.CUDAGraph()
    with cuda.stream(cuda.Stream()):
        g.capture_begin()
        table = tables.values([2.0, 3.0], np.float64)
        g.capture_end()
    for k in range(3):   # the cache drops its oldest tables
        tables.values([float(k)], np.float64)
    assert len(g._kept) == 1 and g._kept[0][0] is table and before is not table
    g.reset()
    assert g._kept == []


# --------------------------------------------------------------------------- on a GPU

def _mlp(seed=0, dropout=0.0):
    ember.manual_seed(seed)
    layers = [nn.Linear(32, 64), nn.ReLU()] + ([nn.Dropout(dropout)] if dropout else []) + [nn.Linear(64, 10)]
    return nn.Sequential(*layers).to("cuda")


def _graphed_matches_eager(make_optimizer, dropout=0.0, steps=5):
    """Parameters after ``steps`` replays of a captured step equal those after as many
    eager steps from the same start and the same seed."""
    ember.manual_seed(1)
    batches = [(ember.randn(16, 32, device="cuda"), ember.randint(0, 10, (16,), device="cuda"))
               for _ in range(steps)]

    eager = _mlp(dropout=dropout)
    opt = make_optimizer(eager.parameters())
    cuda.manual_seed(5)
    for x, y in batches:
        opt.zero_grad()
        F.cross_entropy(eager(x), y).backward()
        opt.step()

    net = _mlp(dropout=dropout)
    start = [p.detach().clone() for p in net.parameters()]
    opt = make_optimizer(net.parameters())
    static_x, static_y = ember.zeros(16, 32, device="cuda"), ember.zeros(16, dtype=ember.int64, device="cuda")

    def step():
        opt.zero_grad()
        F.cross_entropy(net(static_x), static_y).backward()
        opt.step()

    s = cuda.Stream()
    s.wait_stream(cuda.current_stream())
    with cuda.stream(s):
        step()   # warm-up: the optimizer makes its state
    cuda.current_stream().wait_stream(s)
    g = cuda.CUDAGraph()
    with cuda.graph(g):
        step()
    with ember.no_grad():   # back to the start: parameters and optimizer state
        for p, p0 in zip(net.parameters(), start):
            p.copy_(p0)
        for state in opt.state.values():
            for value in state.values():
                if isinstance(value, ember.Tensor):
                    value.zero_()
    cuda.manual_seed(5)
    for x, y in batches:
        static_x.copy_(x)
        static_y.copy_(y)
        g.replay()
    cuda.synchronize()
    for p, q in zip(net.parameters(), eager.parameters()):
        np.testing.assert_allclose(p.detach().cpu().numpy(), q.detach().cpu().numpy(), rtol=1e-5, atol=1e-6)
    return g, static_y


@pytest.mark.cuda
@gpu
def test_gpu_replayed_sgd_steps_match_eager_steps():
    _graphed_matches_eager(lambda p: ember.optim.SGD(p, lr=0.1, momentum=0.9))


@pytest.mark.cuda
@gpu
def test_gpu_replayed_dropout_draws_new_numbers_each_replay():
    _graphed_matches_eager(lambda p: ember.optim.SGD(p, lr=0.1), dropout=0.3)


@pytest.mark.cuda
@gpu
def test_gpu_replayed_capturable_adam_steps_match_eager_steps():
    _graphed_matches_eager(lambda p: ember.optim.Adam(p, lr=1e-2, capturable=True))


@pytest.mark.cuda
@gpu
def test_gpu_a_class_index_check_in_a_graph_raises_at_synchronisation():
    g, static_y = _graphed_matches_eager(lambda p: ember.optim.SGD(p, lr=0.1), steps=1)
    static_y.fill_(10)
    g.replay()
    with pytest.raises(IndexError, match="Target 10 is out of bounds"):
        cuda.synchronize()
    static_y.fill_(1)
    g.replay()
    cuda.synchronize()


@pytest.mark.cuda
@gpu
def test_gpu_a_host_read_breaks_the_capture_off_cleanly():
    x = ember.ones(8, device="cuda")
    with pytest.raises(RuntimeError, match="reading a GPU value on the host"), cuda.graph(cuda.CUDAGraph()):
        (x * 2).sum().item()
    assert not cuda.is_current_stream_capturing()
    g = cuda.CUDAGraph()
    with cuda.graph(g):
        y = x * 3
    x.fill_(2.0)
    g.replay()
    np.testing.assert_array_equal(y.cpu().numpy(), np.full(8, 6.0, np.float32))
    g.reset()


@pytest.mark.cuda
@gpu
def test_gpu_a_graphed_benchmark_workload_lives_as_long_as_its_replays():
    """benchmarks' ``graphed``: a replay reads and writes the workload's tensors where
    they were at capture, so it keeps the workload alive; dropped, its tensors would go
    back to the memory pool while the graph still writes into them."""
    from benchmarks.benchmarks.graph_workloads import graphed

    made = []

    def builder(lib, device, size):
        """Counting up."""
        counts = lib.zeros(size, device=device)

        def run():
            counts.add_(1)

        made.append(weakref.ref(run))
        return run

    replay = graphed(builder)(ember, "cuda", 4)
    gc.collect()
    assert made[0]() is not None, "the workload died while its graph may still be replayed"
    counts = made[0]().__closure__[0].cell_contents
    before = counts.cpu().numpy()
    replay()
    np.testing.assert_array_equal(counts.cpu().numpy(), before + 1)
