"""The collectives on 2 MPI ranks, case by case (collectives_worker.py runs them all in
one job): every collective x op x dtype against NumPy, blocking and async, groups,
object collectives, argument errors and mismatches across ranks."""

import pytest

from tests.core.distributed import collectives_worker
from tests.core.distributed.harness import outcomes_of, worker_command
from tests.mpi import requires_mpi, run_ranks

pytestmark = requires_mpi


@pytest.fixture(scope="module")
def outcomes():
    argv, env = worker_command(collectives_worker.__name__)
    return outcomes_of(run_ranks(argv, nprocs=2, env=env))


@pytest.mark.parametrize("case", list(collectives_worker.CASES))
def test_case_on_two_ranks(outcomes, case):
    for rank, outcome in enumerate(outcomes[case]):
        assert outcome == "ok", f"rank {rank}:\n{outcome}"
