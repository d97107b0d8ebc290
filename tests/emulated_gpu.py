"""A pytest plugin that runs the ``cuda`` variants of the test suite on the CPU, with
the cuda backend's own kernels built by the CuPy emulator (tests/cuda_emulator.py).

``pytest -p tests.emulated_gpu -m cuda`` swaps the cuda backend for
:class:`EmulatedGPU`: one fake device (tests/core/fake_gpus.py) whose array
namespace is NumPy under CuPy's rules (tests/emulated_cupy.py). Every op a test runs
on ``"cuda"`` then goes through the kernels registered for ``(op, "cuda")``,
compiled from their CUDA C by the host's compiler, or the generic kernels where those
refuse the call, with the arguments the layers really pass: what a GPU run would
compute, checked against the same torch oracle, and refused where CuPy would refuse
it, before any GPU is lent. A CUDA graph's capture records the device work and its
replay computes it again into the same arrays. Races, speed and the rest of the CUDA
runtime (streams, events, memory counters) remain a GPU run's to check.
"""

import types

import numpy as np
import pytest

from ember.backend import KernelTable, REGISTRY
from ember.backends.cuda.checks import DeferredChecks
from tests.core.fake_gpus import FakeGPUs
from ember.cuda.graphs import refuse_during_capture
from tests.emulated_cupy import XP, DeviceArray, allow_synchronize, recording, refuse_host_conversion


class EmulatedGPU(FakeGPUs):
    """One fake GPU computing with the cuda backend's kernels on device arrays."""

    xp = XP
    version = "emulated"
    kernels = None

    def __init__(self):
        super().__init__(count=1)
        self.kernels = KernelTable(REGISTRY, self)
        self._generator = None
        self.deferred_checks = DeferredChecks(XP)  # raised at synchronisation, as on a GPU

    def device_index(self, array):
        if not isinstance(array, DeviceArray):
            raise TypeError(f"a cuda tensor holds a {type(array).__name__}, not a device array: "
                            "on a GPU it would have no device")
        return 0

    def from_host(self, array, index):
        refuse_during_capture("host copy")
        return XP.asarray(np.array(array))

    from_pinned = from_host

    def to_host(self, array):
        refuse_during_capture("host read")
        self.device_index(array)
        host = array.get()
        self.deferred_checks.raise_failed()
        return host

    def synchronize(self, index=None):
        super().synchronize(index)
        self.deferred_checks.raise_failed()

    def full(self, shape, fill, dtype, index):
        return XP.full(shape, fill, dtype=dtype)

    def generator(self, index):
        """One generator kept for the device, as CuPy keeps one."""
        if self._generator is None:
            self._generator = XP.random.default_rng(self.initial_seed(0))
        return self._generator

    def generator_state(self, index):
        return self.generator(index).state()

    def set_generator_state(self, index, state):
        self.generator(index).set_state(state)

    def manual_seed(self, seed, index=None):
        super().manual_seed(seed, index)
        if self._generator is not None:  # in place: a captured draw draws from the new seed
            self._generator.reseed(self.initial_seed(0))

    # --- CUDA graphs: the capture records the device work, a launch computes it again

    def begin_capture(self, stream, pool, mode):
        token = super().begin_capture(stream, pool, mode)
        stream.record = recording()
        stream.replays = stream.record.__enter__()
        self.deferred_checks.begin_capture()
        return token

    def end_capture(self, stream, token):
        record = getattr(stream, "record", None)
        if record is not None:
            record.__exit__(None, None, None)
            stream.record = None
        checks = self.deferred_checks.end_capture()
        graph = super().end_capture(stream, token)
        graph.replays, graph.checks = stream.replays, checks
        self.deferred_checks.watch(checks, types.SimpleNamespace(synchronize=lambda: None))
        return graph

    def graph_launch(self, graph, stream):
        super().graph_launch(graph, stream)
        for replay in graph.replays:
            replay()

    def graph_release(self, graph):
        super().graph_release(graph)
        self.deferred_checks.forget(graph.checks)


def pytest_configure(config):
    import os

    os.environ["EMBER_TEST_DEVICES"] = "cpu,cuda"
    REGISTRY.backends["cuda"] = EmulatedGPU()
    refuse_host_conversion()
    try:  # the synchronisation detector tests put a step under is the emulated GPU's
        import cupyx
    except ImportError:
        return
    cupyx.allow_synchronize = allow_synchronize


def pytest_collection_modifyitems(config, items):
    """Leave out the tests of the CUDA runtime itself, which the emulation has not."""
    runtime = [item for item in items if item.get_closest_marker("gpu_runtime")]
    if runtime:
        config.hook.pytest_deselected(items=runtime)
        items[:] = [item for item in items if not item.get_closest_marker("gpu_runtime")]


@pytest.fixture(autouse=True)
def _emulated_gpu_in_the_registry(monkeypatch):
    """The emulated GPU stays the cuda backend whatever a test reloaded before."""
    if not isinstance(REGISTRY.backends.get("cuda"), EmulatedGPU):
        monkeypatch.setitem(REGISTRY.backends, "cuda", EmulatedGPU())
