"""The digits demo on 2 ranks (``python -m ember.distributed.run --nproc-per-node 2 -m
ember.examples.digits --distributed``) trains like one process: the ranks' batches
together are the single process's batches (but for the last of each epoch, which
DistributedSampler pads with one repeated row), so it reaches the same accuracy."""

import re
import subprocess
import sys

import pytest

from tests.mpi import requires_mpi

pytest.importorskip("sklearn")
pytestmark = requires_mpi

ARGS = ["-m", "ember.examples.digits", "--no-progress", "--plot", ""]
TEST_ROWS = 450


def _accuracy(command):
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    found = re.findall(r"test accuracy (\d\.\d+) after 20 epochs", done.stdout)
    assert len(found) == 1, done.stdout    # rank 0 alone reports
    return float(found[0]), done.stdout


def test_two_ranks_reach_the_single_process_accuracy():
    alone, _ = _accuracy([sys.executable, *ARGS])
    launched = [sys.executable, "-m", "ember.distributed.run", "--nproc-per-node", "2", *ARGS, "--distributed"]
    together, output = _accuracy(launched)
    assert "on 2 ranks" in output
    assert abs(together - alone) <= 2 / TEST_ROWS and together >= 0.97
