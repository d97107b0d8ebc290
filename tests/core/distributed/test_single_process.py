"""ember.distributed in one process: what needs no MPI runs here (the API before
initialisation, the value types); what starts MPI runs in subprocesses, since MPI
starts once per process (single_process_worker.py: a world of one)."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest

import ember
from ember import distributed as dist
from tests.core.distributed import single_process_worker
from tests.core.distributed.harness import outcomes_of, worker_command
from tests.mpi import requires_mpi

NOT_INITIALIZED = "Default process group has not been initialized, please make sure to call init_process_group."


@pytest.mark.parametrize("call", [
    dist.get_rank, dist.get_world_size, dist.get_backend, dist.barrier, dist.new_group,
    lambda: dist.all_reduce(ember.ones(2)), lambda: dist.broadcast(ember.ones(2), 0),
    lambda: dist.all_gather_object([None], 1), lambda: dist.get_process_group_ranks(None),
], ids=["get_rank", "get_world_size", "get_backend", "barrier", "new_group", "all_reduce", "broadcast",
        "all_gather_object", "get_process_group_ranks"])
def test_before_init_torchs_error(call):
    with pytest.raises(ValueError, match=NOT_INITIALIZED):
        call()


def test_before_init_state():
    assert dist.is_available() and not dist.is_initialized()
    assert dist.group.WORLD is None and dist.GroupMember.WORLD is None
    assert dist.GroupMember.NON_GROUP_MEMBER == -100
    assert dist.get_rank(dist.GroupMember.NON_GROUP_MEMBER) == -1
    with pytest.raises(AssertionError, match="Process group cannot be None"):
        dist.destroy_process_group()
    assert dist.destroy_process_group(dist.GroupMember.NON_GROUP_MEMBER) is None


def test_value_types_match_torchs():
    assert [(op.name, int(op)) for op in dist.ReduceOp.RedOpType] == [
        ("SUM", 0), ("AVG", 1), ("PRODUCT", 2), ("MIN", 3), ("MAX", 4), ("BAND", 5), ("BOR", 6), ("BXOR", 7)]
    assert dist.ReduceOp.SUM is dist.ReduceOp.RedOpType.SUM and repr(dist.ReduceOp.AVG) == "<RedOpType.AVG: 1>"
    assert dist.Backend("MPI") == dist.Backend.MPI == "mpi" and dist.Backend("Nccl") == "nccl"
    with pytest.raises(ValueError, match="string"):
        dist.Backend(3)
    assert dist.default_pg_timeout == timedelta(minutes=30)


def test_nccl_is_reported_missing_without_cupy(monkeypatch):
    from ember.distributed import _nccl

    monkeypatch.setitem(sys.modules, "cupy", None)   # import cupy raises ImportError
    monkeypatch.setitem(sys.modules, "cupy.cuda", None)
    monkeypatch.setattr(_nccl, "_module", [])
    assert dist.is_nccl_available() is False


@pytest.fixture(scope="module")
def world_of_one():
    argv, env = worker_command(single_process_worker.__name__)
    return outcomes_of(subprocess.run(argv, capture_output=True, text=True, timeout=120, env={**os.environ, **env}))


@requires_mpi
@pytest.mark.parametrize("case", list(single_process_worker.CASES))
def test_world_of_one_without_mpiexec(world_of_one, case):
    assert world_of_one[case] == ["ok"], world_of_one[case][0]


def test_without_mpi4py_init_says_what_to_install():
    script = ("import sys; sys.modules['mpi4py'] = None\n"
              "import ember.distributed as dist\n"
              "assert dist.is_available() and not dist.is_mpi_available()\n"
              "try:\n    dist.init_process_group()\n"
              "except RuntimeError as exc:\n    print(exc)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "needs mpi4py" in done.stdout and "pip install mpi4py mpich" in done.stdout
