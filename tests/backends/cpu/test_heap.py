"""The CPU backend keeps freed tensor memory mapped, so a step does not fault its pages in
again (``ember.backends.cpu.heap``)."""

import os
import subprocess
import sys

import pytest

from ember.backends.cpu import heap

pytestmark = pytest.mark.skipif(not heap._is_glibc(), reason="the thresholds are glibc's")

# Each step allocates, touches and frees three 4 MiB arrays, as a forward and backward
# on 10^6 floats does; prints the page faults of the steps after the first.
_STEPS = """
import resource
import numpy as np
import ember

def step():
    arrays = [np.ones(1 << 20, np.float32) for _ in range(3)]
    del arrays

step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults_of_ten_steps(keep_heap):
    env = dict(os.environ, EMBER_KEEP_HEAP=keep_heap)
    done = subprocess.run([sys.executable, "-c", _STEPS], env=env, capture_output=True,
                          text=True, timeout=120, check=True)
    return int(done.stdout.split()[-1])


def test_freed_memory_is_reused_without_page_faults():
    assert _faults_of_ten_steps("1") < 300


def test_opting_out_keeps_the_c_library_defaults(monkeypatch):
    # 10 steps x 3 arrays x 1024 pages, faulted in again each step
    assert _faults_of_ten_steps("0") > 10_000
    monkeypatch.setenv("EMBER_KEEP_HEAP", "0")
    assert heap.keep_freed_memory() is False


def test_thresholds_are_set_on_glibc():
    assert heap.keep_freed_memory() is True
