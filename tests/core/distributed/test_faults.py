"""Faults end the job instead of hanging it (fault_worker.py on 2 ranks, plain mpiexec):
an uncaught exception in one rank aborts every rank; a collective that a rank never
joins times out on the others, which then abort."""

import time

from tests.core.distributed import fault_worker
from tests.core.distributed.harness import worker_command
from tests.mpi import requires_mpi, run_ranks

pytestmark = requires_mpi

#: The job must be over well before this (a hang would last until run_ranks' timeout).
LIMIT_S = 30


def run_faulty(mode):
    argv, env = worker_command(fault_worker.__name__, mode)
    started = time.perf_counter()
    done = run_ranks(argv, nprocs=2, timeout=60, env=env)
    return done, time.perf_counter() - started


def test_uncaught_exception_in_one_rank_aborts_the_job():
    done, seconds = run_faulty("raise")
    assert done.returncode != 0, done.stdout + done.stderr
    assert seconds < LIMIT_S, f"the job took {seconds:.1f} s to end"
    assert "ValueError: rank 1 fails at step 2" in done.stderr
    assert "rank 1 stopped with an uncaught ValueError; aborting the job" in done.stderr


def test_collective_a_rank_never_joins_times_out():
    done, seconds = run_faulty("timeout")
    assert done.returncode != 0, done.stdout + done.stderr
    assert 2 <= seconds < LIMIT_S, f"the job took {seconds:.1f} s to end (timeout 2 s)"
    assert "all_reduce timed out on rank 0 after 0:00:02" in done.stderr, done.stderr
