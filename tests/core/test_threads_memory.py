"""ember.set_num_threads/get_num_threads govern the OpenMP kernels and the BLAS;
share_memory_ puts data where worker processes see it; pin_memory page-locks a copy."""

import gc
import multiprocessing
import os
import subprocess
import sys

import numpy as np
import pytest

import ember
from ember import _memory
from tests.core import _shared_memory_worker

threadpoolctl = pytest.importorskip("threadpoolctl")


@pytest.fixture
def restore_threads():
    before = ember.get_num_threads()
    env = {name: os.environ.get(name) for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    yield
    ember.set_num_threads(before)
    for name, value in env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _pool_sizes():
    return {(pool["user_api"], pool["filepath"]): pool["num_threads"] for pool in threadpoolctl.threadpool_info()}


@pytest.mark.parametrize("n", [1, 2, 3])
def test_set_num_threads_sets_every_pool(restore_threads, n):
    from ember.backends.cpu.kernels import _kernels

    ember.set_num_threads(n)
    assert ember.get_num_threads() == n
    sizes = _pool_sizes()
    assert {api for api, _ in sizes} >= {"openmp", "blas"}  # ember's OpenMP runtime and NumPy's OpenBLAS
    assert set(sizes.values()) == {n}
    if _kernels.has_openmp():
        assert _kernels.num_threads() == n


def test_libraries_loaded_later_get_the_setting_too():
    pytest.importorskip("scipy")
    code = ("import ember, threadpoolctl; ember.set_num_threads(1); import scipy.linalg; "
            "print(sorted({p['num_threads'] for p in threadpoolctl.threadpool_info()}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[1]"


def test_default_is_the_runtimes_own():
    code = "import ember; print(ember.get_num_threads())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"


@pytest.mark.parametrize("bad, message", [
    (0, "expects a positive integer"), (-2, "expects a positive integer"),
    (1.5, "expects an int, but got float"), ("2", "expects an int, but got str"),
    (True, "expects an int, but got bool"), (None, "expects an int, but got NoneType"),
])
def test_set_num_threads_validates_as_torch(restore_threads, bad, message):
    torch = pytest.importorskip("torch")
    before = ember.get_num_threads()
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match=message):
            lib.set_num_threads(bad)
    assert ember.get_num_threads() == before


def test_numpy_integers_are_accepted(restore_threads):
    ember.set_num_threads(np.int64(1))
    assert ember.get_num_threads() == 1 and type(ember.get_num_threads()) is int


# --------------------------------------------------------------------------- shared memory


def test_share_memory_moves_the_data_in_place():
    x = ember.arange(6.0).reshape(2, 3).requires_grad_()
    assert not x.is_shared()
    assert x.share_memory_() is x
    assert x.is_shared() and x.requires_grad and x.tolist() == [[0, 1, 2], [3, 4, 5]]
    ptr = x.data_ptr()
    assert x.share_memory_() is x and x.data_ptr() == ptr  # already shared: nothing moves
    assert x[1].is_shared()  # views of shared data are shared
    assert not (x * 2).is_shared()


def test_shared_block_is_removed_with_its_last_tensor():
    x = ember.ones(4).share_memory_()
    path = next(path for _, path in _memory._SHARED.values() if os.path.exists(path))
    view = x[1:]
    del x
    gc.collect()
    assert os.path.exists(path)
    del view
    gc.collect()
    assert not os.path.exists(path)


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_worker_sees_and_makes_writes(method):
    ctx = multiprocessing.get_context(method)
    shared = ember.zeros(2, 3).share_memory_()
    shared[0, 0] = 7  # written before the worker starts
    copied = ember.zeros(2)  # not shared: the worker gets a copy
    done = ctx.Queue()
    worker = ctx.Process(target=_shared_memory_worker.add_one, args=([shared, shared[1], copied], done))
    worker.start()
    seen, flags = done.get(timeout=120)
    worker.join(timeout=120)
    assert worker.exitcode == 0
    assert seen[0] == [[7, 0, 0], [0, 0, 0]] and flags == [True, True, False]
    # the whole tensor once, its second row (a view sent on its own) once more
    assert shared.tolist() == [[8, 1, 1], [2, 2, 2]]
    assert copied.tolist() == [0, 0]


def test_module_share_memory_keeps_the_parameters():
    net = ember.nn.BatchNorm1d(3)
    params = list(net.parameters())
    assert net.share_memory() is net
    assert [p is q for p, q in zip(params, net.parameters())] == [True, True]
    assert all(t.is_shared() for t in [*net.parameters(), *net.buffers()])


# --------------------------------------------------------------------------- pinned memory


def test_pin_memory_gives_a_locked_copy():
    x = ember.arange(5.0, requires_grad=True)
    p = x.pin_memory()
    assert p.is_pinned() and not x.is_pinned()
    assert p.tolist() == x.tolist() and p.dtype == x.dtype and p.data_ptr() != x.data_ptr()
    assert p.pin_memory() is p
    (p * 3).sum().backward()
    assert x.grad.tolist() == [3.0] * 5


def test_pin_memory_without_the_right_to_lock_warns(monkeypatch):
    monkeypatch.setattr(_memory, "_libc", lambda: None)
    with pytest.warns(RuntimeWarning, match="could not lock 24 bytes"):
        p = ember.ones(3, dtype=ember.float64).pin_memory()
    assert not p.is_pinned() and p.tolist() == [1, 1, 1]


@pytest.mark.skipif(not ember.cuda.is_available(), reason="needs a GPU")
def test_gpu_tensors_are_refused():
    x = ember.ones(2, device="cuda")
    for method in ("pin_memory", "share_memory_"):
        with pytest.raises(RuntimeError, match="works on CPU tensors"):
            getattr(x, method)()
