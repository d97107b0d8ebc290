"""Run alone, without mpiexec (``python -m tests.core.distributed.single_process_worker``):
a world of one process. The cases run in order and share the process: refused
initialisations, then a world-size-1 group, re-initialisation, the nccl backend
with CPU tensors, and a wait that times out.
"""

import os
import sys
from datetime import timedelta

import numpy as np

import ember
import ember.distributed as dist
from tests.core.distributed.harness import raises, report, run_cases

IMPORTED_MPI_EARLY = "mpi4py" in sys.modules


def import_does_not_start_mpi():
    assert not IMPORTED_MPI_EARLY
    assert dist.is_available() and dist.is_mpi_available()


def refused_initialisations_leave_nothing():
    raises(ValueError, "Unknown backend 'gloo'.*'mpi', 'nccl'", dist.init_process_group, "gloo")
    raises(ValueError, "ranks from MPI", dist.init_process_group, init_method="tcp://127.0.0.1:23456")
    raises(ValueError, "ranks from MPI", dist.init_process_group, init_method="file:///tmp/x")
    raises(ValueError, "ranks from MPI", dist.init_process_group, store=object())
    raises(TypeError, "timedelta", dist.init_process_group, timeout=30)
    raises(RuntimeError, "rank says 1.*ember.distributed.run.*mpiexec -n N", dist.init_process_group, rank=1)
    raises(RuntimeError, "world_size says 2", dist.init_process_group, world_size=2)
    for variable, value in (("WORLD_SIZE", "2"), ("RANK", "1")):
        os.environ[variable] = value
        try:
            raises(RuntimeError, f"{variable}={value} in the environment.*ember.distributed.run",
                   dist.init_process_group)
        finally:
            del os.environ[variable]
    assert not dist.is_initialized() and dist.group.WORLD is None
    raises(ValueError, "has not been initialized", dist.get_rank)


def world_of_one():
    hook = sys.excepthook
    os.environ.update(RANK="0", WORLD_SIZE="1")
    try:
        dist.init_process_group(init_method="env://", rank=0, world_size=1)
    finally:
        del os.environ["RANK"], os.environ["WORLD_SIZE"]
    assert sys.excepthook is not hook, "init_process_group installs the aborting hook"
    assert dist.get_rank() == 0 and dist.get_world_size() == 1 and dist.get_backend() == "mpi"
    data = np.arange(6, dtype=np.float32).reshape(2, 3) - 2
    for op in ("SUM", "PRODUCT", "MIN", "MAX", "AVG"):
        t = ember.from_numpy(data.copy())
        dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
        np.testing.assert_array_equal(t.numpy(), data)
    outputs = [ember.zeros(2, 3)]
    dist.all_gather(outputs, ember.from_numpy(data.copy()))
    np.testing.assert_array_equal(outputs[0].numpy(), data)
    t = ember.zeros(2, 3)
    dist.scatter(t, [ember.from_numpy(data.copy())])
    np.testing.assert_array_equal(t.numpy(), data)
    objects = [None]
    dist.all_gather_object(objects, {"one": 1})
    assert objects == [{"one": 1}]
    raises(ValueError, "twice", dist.init_process_group)
    dist.destroy_process_group()
    assert sys.excepthook is hook and not dist.is_initialized()
    raises(AssertionError, "cannot be None", dist.destroy_process_group)


def nccl_backend_moves_cpu_tensors_over_mpi():
    dist.init_process_group("NCCL")
    try:
        assert dist.get_backend() == dist.Backend.NCCL
        t = ember.ones(3)
        dist.all_reduce(t)
        dist.broadcast(t, 0)
        np.testing.assert_array_equal(t.numpy(), np.ones(3, np.float32))
        assert "cupy" not in sys.modules, "a CPU collective must not touch CUDA"
    finally:
        dist.destroy_process_group()


def wait_times_out_naming_the_collective_and_rank():
    from ember.distributed._work import Work

    dist.init_process_group(timeout=timedelta(seconds=60))
    try:
        pg = dist.group.WORLD
        never = pg.comm.Irecv(np.empty(1), source=0, tag=7)  # nobody sends it
        work = Work(never, pg, "all_reduce")
        raises(RuntimeError, r"all_reduce timed out on rank 0 after 0:00:00.300000", work.wait,
               timedelta(seconds=0.3))
        assert not work.is_completed() and not work.is_success()
        never.Cancel()
        never.Wait()
    finally:
        dist.destroy_process_group()


CASES = {f.__name__: f for f in (import_does_not_start_mpi, refused_initialisations_leave_nothing, world_of_one,
                                 nccl_backend_moves_cpu_tensors_over_mpi,
                                 wait_times_out_naming_the_collective_and_rank)}

if __name__ == "__main__":
    report(run_cases(CASES))
