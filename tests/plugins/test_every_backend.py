"""The families' tests run on every backend: the list of devices (tests/conftest.py),
one variant of each test per device, and the oracle running ember on the test's device
(tests/plugins/conftest.py). A fake second device stands in for a GPU."""

import types

import numpy as np
import pytest

import ember
from tests import conftest, oracle
from tests.conftest import backends


class _Metafunc:
    """What ``conftest.pytest_generate_tests`` sees of a test, recording the parametrization it asks for."""

    def __init__(self, fixturenames, marks=()):
        self.fixturenames = fixturenames
        self.definition = types.SimpleNamespace(iter_markers=lambda name: [m for m in marks if m.name == name])
        self.calls = []

    def parametrize(self, argnames, argvalues, indirect=False):
        self.calls.append((argnames, argvalues, indirect))


def test_the_devices_are_cpu_and_cuda_where_a_gpu_is(monkeypatch):
    monkeypatch.delenv("EMBER_TEST_DEVICES", raising=False)
    assert backends(gpu=False) == ["cpu"]
    assert backends(gpu=True) == ["cpu", "cuda"]
    assert backends("cuda, fake ") == ["cuda", "fake"]
    monkeypatch.setenv("EMBER_TEST_DEVICES", "cpu,fake")
    assert backends(gpu=False) == ["cpu", "fake"]


def test_cpu_alone_adds_no_variant(monkeypatch):
    monkeypatch.setenv("EMBER_TEST_DEVICES", "cpu")
    metafunc = _Metafunc(["device", "_oracle_on_the_test_device"])
    conftest.pytest_generate_tests(metafunc)
    assert metafunc.calls == []


def test_a_second_device_gives_every_test_that_uses_device_a_variant(monkeypatch):
    monkeypatch.setenv("EMBER_TEST_DEVICES", "cpu,fake,cuda")
    metafunc = _Metafunc(["device", "_oracle_on_the_test_device"])
    conftest.pytest_generate_tests(metafunc)
    [(argnames, params, indirect)] = metafunc.calls
    assert argnames == "device" and indirect
    assert [(p.id, p.values) for p in params] == [("cpu", ("cpu",)), ("fake", ("fake",)), ("cuda", ("cuda",))]
    assert [[m.name for m in p.marks] for p in params] == [[], [], ["cuda"]]
    for untouched in (_Metafunc(["dtype"]),
                      _Metafunc(["device"], [pytest.mark.parametrize("dtype, device", [(1, "xyz")]).mark])):
        conftest.pytest_generate_tests(untouched)
        assert untouched.calls == []


def test_the_oracle_runs_ember_on_the_test_device(device):
    assert oracle.current_device() == device
    seen = []

    def double(x):
        if isinstance(x, ember.Tensor):
            seen.append(x.device.type)
        return x * 2
    oracle.check(double, [np.ones(3)])
    oracle.same_outcome(double, [np.ones(3)])
    assert seen and set(seen) == {ember.device(device).type}


def test_a_fake_device_reaches_ember(device):
    with oracle.on_device("fake"):
        with pytest.raises(RuntimeError, match="no backend named 'fake'"):
            oracle.check(lambda x: x * 2, [np.ones(3)])
        with pytest.raises(RuntimeError, match="no backend named 'fake'"):
            oracle.same_outcome(lambda x: x * 2, [np.ones(3)])
    assert oracle.current_device() == device
