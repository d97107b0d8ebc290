"""The backend protocol, held to by a third-party backend written from
docs/backends.rst (tests/testbackend/ember_checked), installed as a distribution."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ember.backend import BACKEND_MEMBERS, missing_members

TESTBACKEND = Path(__file__).resolve().parents[1] / "testbackend"
ROOT = TESTBACKEND.parents[1]


def _checked_module():
    spec = importlib.util.spec_from_file_location("ember_checked_copy", TESTBACKEND / "ember_checked" / "__init__.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_module_autograd_and_optim_subset_passes_on_the_checked_backend():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTBACKEND), str(ROOT)]))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(TESTBACKEND / "scenarios_on_device.py")],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    summary = proc.stdout.strip().splitlines()[-1]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    passed = int(re.search(r"(\d+) passed", summary).group(1))
    assert passed >= 70 and "failed" not in summary and "skipped" not in summary, summary


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # np.asmatrix, on purpose
def test_the_checked_namespace_refuses_what_a_tensor_cannot_hold():
    xp = _checked_module().GuardedNumPy()
    assert xp.add(np.ones(2), 1).tolist() == [2.0, 2.0]
    with pytest.raises(AssertionError, match=r"xp\.array returned an array of dtype object"):
        xp.array([None, 1])
    with pytest.raises(AssertionError, match=r"xp\.asmatrix returned a matrix"):
        xp.asmatrix(np.eye(2))
    with pytest.raises(AssertionError, match=r"xp\.add\.outer returned an array of dtype <U2"):
        xp.add.outer(np.array(["a"]), np.array(["b"]))


def test_protocol_members_are_found_without_reading_them():
    backend = _checked_module().CheckedBackend()
    assert missing_members(backend) == []

    class Partial:
        name = "partial"

        def to_host(self, array):
            return array

    assert missing_members(Partial()) == [m for m in BACKEND_MEMBERS if m not in ("name", "to_host")]


def test_no_family_touches_a_tensors_private_fields():
    """Families reach arrays and backends only through ember.backend's helpers."""
    offenders = []
    for path in sorted((ROOT / "plugins").rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\.(_data|_be)\b", line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_every_family_test_passes_on_the_checked_backend():
    """tests/plugins, every test on the 'checked' device alone: the families' generic
    kernels, and the tests themselves keeping every tensor on the device under test."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTBACKEND), str(ROOT)]), EMBER_TEST_DEVICES="checked")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:warnings",
                           str(ROOT / "tests" / "plugins")],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)
    summary = proc.stdout.strip().splitlines()[-1]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    passed = int(re.search(r"(\d+) passed", summary).group(1))
    assert passed >= 3000 and not re.search(r"\b\d+ (failed|xfailed|xpassed)", summary), summary
