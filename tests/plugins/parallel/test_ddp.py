"""DistributedDataParallel on 2 MPI ranks (ddp_worker.py): training on halves of each
batch ends where one process on the whole batches does, in float64 to 1e-10, with
SyncBatchNorm, plain BatchNorm (rank 0's statistics), no_sync accumulation, unused
parameters, small buckets and bucket views; and its errors."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.mpi import requires_mpi, run_ranks

pytestmark = requires_mpi

WORKER = Path(__file__).with_name("ddp_worker.py")

#: Case -> the largest difference allowed from single-process training.
CASES = {
    "mlp_float64": 1e-10,
    "cnn_sync_batchnorm_float64": 1e-10,
    "cnn_batchnorm_local_statistics": 1e-10,
    "no_sync_accumulation": 1e-10,
    "find_unused_parameters": 1e-10,
    "gradient_as_bucket_view_and_small_buckets": 1e-10,
    "rank0_state_broadcast_at_construction": 0.0,
    "float32_mlp": 1e-5,
    "unused_parameter_without_search_raises": 0.0,
    "different_shapes_raise": 0.0,
    "distributed_data_parallel_cpu_alias": 0.0,
    "argument_errors": 0.0,
}

#: The cases that also run in a single process (a world of one, no mpiexec).
ALONE = ["mlp_float64", "cnn_sync_batchnorm_float64", "no_sync_accumulation", "argument_errors"]


@pytest.fixture(scope="module")
def outcomes():
    done = run_ranks([sys.executable, str(WORKER)], nprocs=2, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _assert_close(results, case):
    for rank, result in enumerate(results):
        assert isinstance(result, float), f"rank {rank}: {result}"
        assert result <= CASES[case], f"rank {rank}: difference {result}"


@pytest.mark.parametrize("case", sorted(CASES))
def test_case_on_two_ranks(outcomes, case):
    _assert_close(outcomes[case], case)


def test_a_world_of_one_process():
    done = subprocess.run([sys.executable, str(WORKER), *ALONE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    outcomes = json.loads(done.stdout.strip().splitlines()[-1])
    assert sorted(outcomes) == sorted(ALONE)
    for case in ALONE:
        _assert_close(outcomes[case], case)
