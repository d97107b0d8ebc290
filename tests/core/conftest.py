"""Fixtures that replace the cuda backend with the stand-in of tests/core/fake_gpus.py."""

import pytest

from ember.backend import REGISTRY
from tests.core.fake_gpus import FakeGPUs


@pytest.fixture
def gpus(monkeypatch):
    """Two fake GPUs as the cuda backend (and ember.cuda's memory peaks and graph capture
    streams forgotten)."""
    import ember.cuda.memory

    fake = FakeGPUs()
    monkeypatch.setitem(REGISTRY.backends, "cuda", fake)
    monkeypatch.setattr(ember.cuda.memory, "_PEAKS", {})
    monkeypatch.setattr(ember.cuda.graphs.graph, "_capture_streams", {})
    return fake


@pytest.fixture
def no_gpu(monkeypatch):
    """A cuda backend that reports no GPU, as on a machine without CuPy or a GPU."""
    fake = FakeGPUs(available=False)
    monkeypatch.setitem(REGISTRY.backends, "cuda", fake)
    return fake
