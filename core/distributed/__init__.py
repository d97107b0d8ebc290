"""``ember.distributed``: torch.distributed's process groups and collectives, over MPI
(CPU tensors, through mpi4py) and NCCL (CUDA tensors, through CuPy).

Start one process per rank with ``python -m ember.distributed.run --nproc-per-node N
script.py`` (torchrun's interface, on mpiexec) or ``mpiexec -n N python script.py``;
each calls ``init_process_group()``::

    import ember
    import ember.distributed as dist

    dist.init_process_group()                 # backend "mpi"; "nccl" for CUDA tensors
    t = ember.ones(4) * dist.get_rank()
    dist.all_reduce(t)                        # every rank now holds the sum
    work = dist.all_reduce(t, async_op=True)  # overlap with computation...
    work.wait()
    dist.destroy_process_group()

Faults end the job rather than hang it: after ``init_process_group`` an uncaught
exception in any rank aborts every rank (MPI_Abort), and a collective that waits
longer than the group's ``timeout`` raises RuntimeError. Blocking collectives first
check that the ranks agree on sizes and dtypes (``set_collective_checks``).

Importing this module neither imports mpi4py nor starts MPI; ``init_process_group``
does.
"""

from ._agreement import set_collective_checks
from ._collectives import all_gather, all_reduce, barrier, broadcast, gather, reduce, reduce_scatter, scatter
from ._objects import all_gather_object, broadcast_object_list, gather_object
from ._setup import destroy_process_group, init_process_group, is_initialized, new_group
from ._types import Backend, ReduceOp, default_pg_timeout
from ._work import Work
from ._world import (GroupMember, ProcessGroup, get_backend, get_global_rank, get_group_rank,
                     get_process_group_ranks, get_rank, get_world_size, group)


def is_available():
    """True: ember.distributed is always part of ember (the backends may still be missing)."""
    return True


def is_mpi_available():
    """True when mpi4py is installed, which the ``mpi`` backend (and every group) needs."""
    from . import _mpi

    return _mpi.available()


def is_nccl_available():
    """True when CuPy with NCCL (``cupy.cuda.nccl``) imports."""
    from . import _nccl

    return _nccl.nccl() is not None


__all__ = [
    "Backend", "GroupMember", "ProcessGroup", "ReduceOp", "Work", "all_gather", "all_gather_object",
    "all_reduce", "barrier", "broadcast", "broadcast_object_list", "default_pg_timeout",
    "destroy_process_group", "gather", "gather_object", "get_backend", "get_global_rank", "get_group_rank",
    "get_process_group_ranks", "get_rank", "get_world_size", "group", "init_process_group", "is_available",
    "is_initialized", "is_mpi_available", "is_nccl_available", "new_group", "reduce", "reduce_scatter",
    "scatter", "set_collective_checks",
]
