"""CUDA tensors' collectives (cuda_worker.py, a world of one): skipped without a GPU."""

import os
import subprocess

import pytest

import ember
from tests.core.distributed import cuda_worker
from ember import distributed as dist
from tests.core.distributed.harness import outcomes_of, worker_command

# A world of one needs mpi4py but no mpiexec.
pytestmark = [pytest.mark.cuda, pytest.mark.gpu_runtime,
              pytest.mark.skipif(not dist.is_mpi_available(), reason="needs mpi4py"),
              pytest.mark.skipif(not ember.cuda.is_available(), reason="needs CuPy and a GPU")]


@pytest.fixture(scope="module")
def outcomes():
    argv, env = worker_command(cuda_worker.__name__)
    return outcomes_of(subprocess.run(argv, capture_output=True, text=True, timeout=300, env={**os.environ, **env}))


@pytest.mark.parametrize("case", list(cuda_worker.CASES))
def test_cuda_collectives(outcomes, case):
    assert outcomes[case] == ["ok"], outcomes[case][0]
