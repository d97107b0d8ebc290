"""Making and destroying process groups: ``init_process_group``, ``new_group``,
``destroy_process_group``.

ember's ranks always come from MPI: start the processes with
``python -m ember.distributed.run --nproc-per-node N script.py`` or
``mpiexec -n N python script.py``; a process started alone is a world of one.
"""

import os

from . import _agreement, _excepthook, _mpi, _nccl
from ._types import check_backend, check_timeout
from ._world import WORLD_STATE, GroupMember, ProcessGroup, default_group, is_non_member

_LAUNCH = ("launch the processes with `python -m ember.distributed.run --nproc-per-node N script.py` "
           "or `mpiexec -n N python script.py`")


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    """Start the default process group: every process of the MPI job, ranked as MPI ranks them.

    Args:
        backend (str, optional): ``"mpi"`` (the default: tensors move over MPI) or
            ``"nccl"`` (CUDA tensors over NCCL, CPU tensors over MPI).
        init_method (str, optional): None or ``"env://"``; ``RANK`` and ``WORLD_SIZE``,
            when set in the environment, must then agree with MPI.
        timeout (datetime.timedelta, optional): how long any collective of the group
            may wait (default 30 minutes); past it, the collective raises RuntimeError.
        world_size (int, optional): when given, must equal MPI's number of processes.
        rank (int, optional): when given, must equal this process's MPI rank.
        store: not supported (ember's ranks come from MPI, not from a store).
        group_name (str, optional): the default group's name.
        pg_options, device_id: accepted for torch's signature; unused (the NCCL
            communicator binds to the device of the first CUDA tensor it moves).

    After it, an uncaught exception in any rank aborts the whole job (see
    ``destroy_process_group``).
    """
    if WORLD_STATE.default is not None:
        raise ValueError("trying to initialize the default process group twice!")
    backend = check_backend(backend)
    timeout = check_timeout(timeout)
    if store is not None or init_method not in (None, "env://"):
        raise ValueError(f"ember.distributed takes its ranks from MPI, not from an init_method or a store "
                         f"(got init_method={init_method!r}, store={store!r}): use init_method=None or "
                         f"'env://' and {_LAUNCH}")
    world = _mpi.load().COMM_WORLD
    _check_agrees(world, rank, world_size)
    pg = ProcessGroup(world.Dup(), range(world.Get_size()), backend, timeout, group_name or "default_pg")
    WORLD_STATE.groups.append(pg)
    WORLD_STATE.default = pg
    _excepthook.install()


def _check_agrees(world, rank, world_size):
    claims = [("rank", rank, world.Get_rank()), ("world_size", world_size, world.Get_size())]
    for variable, name in (("RANK", "rank"), ("WORLD_SIZE", "world_size")):
        value = os.environ.get(variable)
        if value is not None:
            claims.append((f"{variable}={value} in the environment", int(value), world.Get_rank()
                           if name == "rank" else world.Get_size()))
    for what, claimed, actual in claims:
        if claimed != -1 and claimed != actual:
            raise RuntimeError(f"ember.distributed: {what} says {claimed}, but MPI gives this process rank "
                               f"{world.Get_rank()} of {world.Get_size()}; ember takes the ranks from MPI: {_LAUNCH}")


def is_initialized():
    """True between ``init_process_group`` and ``destroy_process_group``."""
    return WORLD_STATE.default is not None


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, use_local_synchronization=False,
              group_desc=None, device_id=None, sort_ranks=True):
    """Make a group of some ranks of the default group. Every rank must call it, with
    the same ``ranks``, even those left out (which get ``GroupMember.NON_GROUP_MEMBER``).

    Args:
        ranks (list[int], optional): the members' global ranks (default: all).
        timeout (datetime.timedelta, optional): the group's collective timeout (default 30 minutes).
        backend (str, optional): ``"mpi"`` or ``"nccl"`` (default: the default group's).
        use_local_synchronization (bool): must be False (as for torch's MPI backend).
        sort_ranks (bool): order the group ranks by global rank (else as ``ranks`` lists them).
        pg_options, group_desc, device_id: accepted for torch's signature; unused.

    Returns:
        The new ProcessGroup on its members, ``GroupMember.NON_GROUP_MEMBER`` elsewhere.
    """
    default = default_group()
    backend = default.backend if backend is None else check_backend(backend)
    timeout = check_timeout(timeout)
    if use_local_synchronization:
        raise ValueError("MPI backend doesn't support use_local_synchronization=True")
    size = default.size()
    ranks = list(range(size)) if ranks is None else (sorted(ranks) if sort_ranks else list(ranks))
    if len(set(ranks)) != len(ranks):
        raise ValueError(f"ranks list must not contain duplicate entries, got {ranks}")
    if len(ranks) > size:
        raise ValueError("the new group's world size should be less or equal to the world size set by "
                         "init_process_group")
    for r in ranks:
        if not 0 <= r < size:
            raise ValueError(f"Rank {r} is out of range. Valid ranks are 0 to {size - 1} (world_size={size})")
    # Always checked: MPI's communicator split below has no timeout of its own.
    _agreement.check(default, "new_group", len(ranks))
    member = default.rank() in ranks
    MPI = _mpi.MPI
    comm = default.comm.Split(0 if member else MPI.UNDEFINED, ranks.index(default.rank()) if member else 0)
    name = f"ember_pg_{WORLD_STATE.created}"
    WORLD_STATE.created += 1
    if not member:
        return GroupMember.NON_GROUP_MEMBER
    pg = ProcessGroup(comm, ranks, backend, timeout, name)
    WORLD_STATE.groups.append(pg)
    return pg


def destroy_process_group(group=None):
    """Free ``group`` (default: the default group, and with it every group).

    Destroying the default group also puts back the ``sys.excepthook`` that
    ``init_process_group`` replaced; ``init_process_group`` may then be called again.
    """
    if is_non_member(group):
        return
    if group is None or group is WORLD_STATE.default:
        if WORLD_STATE.default is None:
            raise AssertionError("Process group cannot be None")
        for pg in reversed(WORLD_STATE.groups):
            _release(pg)
        WORLD_STATE.groups.clear()
        WORLD_STATE.default = None
        WORLD_STATE.created = 0
        _excepthook.restore()
        return
    if not any(group is pg for pg in WORLD_STATE.groups):
        raise ValueError("Invalid process group specified")
    WORLD_STATE.groups.remove(group)
    _release(group)


def _release(pg):
    _nccl.release(pg)
    pg.comm.Free()

