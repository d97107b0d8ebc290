"""A pytest plugin that runs the ``cuda`` variants of the test suite on the CPU, with
the cuda backend's own kernels built by the CuPy emulator (tests/cuda_emulator.py).

``pytest -p tests.emulated_gpu -m cuda`` swaps the cuda backend for
:class:`EmulatedGPU`: one fake device (tests/core/fake_gpus.py) whose array
namespace is the emulator's stand-in for ``cupy``. Every op a test runs on
``"cuda"`` then goes through the kernels registered for ``(op, "cuda")``, compiled
from their CUDA C by the host's compiler, or the generic kernels where those refuse
the call, with the arguments the layers really pass: what a GPU run would compute,
checked against the same torch oracle, before any GPU is lent. It checks what the
kernels compute and that the layers call them correctly; races, speed and the CUDA
runtime (streams, graphs, memory) remain a GPU run's to check.
"""

import numpy as np
import pytest

from ember.backend import KernelTable, REGISTRY
from tests.core.fake_gpus import FakeGPUs
from tests.cuda_emulator import CUPY


class EmulatedGPU(FakeGPUs):
    """One fake GPU computing with the cuda backend's kernels, on the emulator's ``cupy``."""

    xp = CUPY
    version = "emulated"
    kernels = None

    def __init__(self):
        super().__init__(count=1)
        self.kernels = KernelTable(REGISTRY, self)
        self._generator = None

    def device_index(self, array):
        return 0

    def to_host(self, array):
        return np.array(array).view(np.ndarray)

    def generator(self, index):
        """One generator kept for the device, as CuPy keeps one (the fake's is remade
        at each call, drawing the same numbers every time)."""
        if self._generator is None:
            self._generator = np.random.default_rng(self.initial_seed(0))
        return self._generator

    def manual_seed(self, seed, index=None):
        super().manual_seed(seed, index)
        self._generator = None


def pytest_configure(config):
    import os

    os.environ["EMBER_TEST_DEVICES"] = "cpu,cuda"
    REGISTRY.backends["cuda"] = EmulatedGPU()


@pytest.fixture(autouse=True)
def _emulated_gpu_in_the_registry(monkeypatch):
    """The emulated GPU stays the cuda backend whatever a test reloaded before."""
    if not isinstance(REGISTRY.backends.get("cuda"), EmulatedGPU):
        monkeypatch.setitem(REGISTRY.backends, "cuda", EmulatedGPU())
