"""The backends tests run on: the ``device`` fixture.

A test that takes ``device`` (and every test of a family, see
tests/plugins/conftest.py) runs once per available backend: cpu, and cuda when
CuPy sees a GPU. ``EMBER_TEST_DEVICES=cpu,cuda`` (comma-separated names) sets
the list instead. With cpu alone nothing is parametrized, so a machine without
a GPU collects no cuda variants; cuda variants carry the ``cuda`` mark
(``-m "not cuda"`` leaves them out).
"""

import functools
import os

import pytest

import ember


def backends(requested=None, gpu=None):
    """The device names to run on: ``requested`` (default: ``$EMBER_TEST_DEVICES``) when
    given, else cpu and, when ``gpu`` (default: ``ember.cuda.is_available()``), cuda."""
    requested = os.environ.get("EMBER_TEST_DEVICES", "") if requested is None else requested
    if requested.strip():
        return [name.strip() for name in requested.split(",") if name.strip()]
    return ["cpu", "cuda"] if (_gpu() if gpu is None else gpu) else ["cpu"]


@functools.cache
def _gpu():
    return ember.cuda.is_available()


@pytest.fixture
def device(request):
    """The device this test runs ember on (``"cpu"`` unless parametrized)."""
    return getattr(request, "param", "cpu")


def pytest_generate_tests(metafunc):
    """Tests that use ``device`` run once per backend when there is more than cpu
    (a test that parametrizes an argument named ``device`` itself keeps its values)."""
    names = backends()
    if "device" in metafunc.fixturenames and names != ["cpu"] and not _parametrizes_device(metafunc):
        params = [pytest.param(name, id=name, marks=[pytest.mark.cuda] if name.startswith("cuda") else [])
                  for name in names]
        metafunc.parametrize("device", params, indirect=True)


def _parametrizes_device(metafunc):
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0]
        if "device" in ([n.strip() for n in names.split(",")] if isinstance(names, str) else names):
            return True
    return False


@pytest.fixture(autouse=True)
def _ieee_float32_products_on_a_gpu(request, monkeypatch):
    """The ``cuda`` tests hold float32 results to IEEE float32's tolerance: their
    convolutions run without TF32 products (torch's GPU default, about 1e-3 off),
    as torch's own tests turn them off; a test that wants them sets the flag again."""
    if request.node.get_closest_marker("cuda") is not None:
        monkeypatch.setattr(ember.backends.cudnn, "allow_tf32", False)
