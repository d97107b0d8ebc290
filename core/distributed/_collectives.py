"""The tensor collectives, with torch's signatures, argument checks and semantics.

Each one checks its arguments, returns None at once on a rank outside the group
(after torch's warning), checks that the ranks agree (blocking calls only, see
``_agreement``), moves the output tensors' version counters, then starts the
collective on the transport that suits the tensors:

- CPU tensors: MPI on the NumPy arrays themselves (``_mpi_ops``);
- CUDA tensors under the ``nccl`` backend: NCCL (``_nccl``), where it has the dtype
  and op;
- any other tensor: host-staged, a copy to the host, MPI, and a copy back.

``src``/``dst`` are global ranks; ``group_src``/``group_dst`` ranks within ``group``.
The collectives are not recorded by autograd.
"""

import numpy as np

from . import _agreement, _checks, _mpi_ops, _nccl
from ._reduction import plan
from ._types import ReduceOp
from ._world import member_group, root_rank


def _start(pg, tensors, outputs, start_mpi, start_nccl=None, reduction=None):
    """Start the collective on ``tensors``' arrays; ``outputs`` indexes the tensors it writes."""
    for i in outputs:
        tensors[i]._bump_version()
    arrays = [t._data for t in tensors]
    if isinstance(arrays[0], np.ndarray):
        return start_mpi(arrays)
    if start_nccl is not None and _nccl.usable(pg, arrays, reduction):
        return start_nccl(arrays)
    return _host_staged(tensors, outputs, start_mpi)


def _host_staged(tensors, outputs, start_mpi):
    hosts = [np.array(t._be.to_host(t._data)) for t in tensors]
    work = start_mpi(hosts)

    def copy_back():
        for i in outputs:
            t = tensors[i]
            t._data[...] = t._be.from_host(hosts[i], t._be.device_index(t._data))

    work.then(copy_back)
    return work


def _result(work, async_op):
    if async_op:
        return work
    work.wait()
    return None


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``tensor`` across the group with ``op``; every rank gets the result in
    ``tensor``, in place.

    Args:
        tensor (Tensor): input and output, the same number of elements and dtype on
            every rank.
        op (ReduceOp): the elementwise reduction.
        group (ProcessGroup, optional): the group (default: the default group).
        async_op (bool): return a Work handle instead of waiting.

    Returns:
        A Work handle when ``async_op``, else None (also on ranks outside the group).
    """
    _checks.single_tensor(tensor, "tensor")
    pg = member_group(group, "all_reduce")
    if pg is None:
        return None
    _checks.dense_contiguous(tensor)
    reduction = plan(op, tensor._data.dtype)
    if not async_op and _agreement.enabled():
        _agreement.check(pg, "all_reduce", tensor.numel(), reduction.dtype, op)
    work = _start(pg, [tensor], (0,),
                  lambda a: _mpi_ops.all_reduce(pg, a[0], reduction),
                  lambda a: _nccl.all_reduce(pg, a[0], reduction), reduction)
    return _result(work, async_op)


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    """Copy ``tensor`` of the rank ``src`` into ``tensor`` on every rank of the group.

    Args:
        tensor (Tensor): the data on ``src``, the output elsewhere.
        src (int): the sending rank (global rank).
        group (ProcessGroup, optional): the group (default: the default group).
        async_op (bool): return a Work handle instead of waiting.
        group_src (int, optional): the sending rank as a rank of ``group`` (instead of ``src``).

    Returns:
        A Work handle when ``async_op``, else None.
    """
    _checks.single_tensor(tensor, "tensor")
    pg = member_group(group, "broadcast")
    if pg is None:
        return None
    root = root_rank(pg, src, group_src, "src")
    _checks.dense_contiguous(tensor)
    if not async_op and _agreement.enabled():
        _agreement.check(pg, "broadcast", tensor.numel(), tensor._data.dtype, root=root)
    work = _start(pg, [tensor], (0,) if pg.rank() != root else (),
                  lambda a: _mpi_ops.broadcast(pg, a[0], root),
                  lambda a: _nccl.broadcast(pg, a[0], root))
    return _result(work, async_op)


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Reduce ``tensor`` across the group with ``op`` into ``tensor`` of the rank ``dst``;
    the other ranks' tensors are left as they were.

    Args:
        tensor (Tensor): input everywhere, output on ``dst``.
        dst (int): the receiving rank (global rank).
        op (ReduceOp): the elementwise reduction.
        group (ProcessGroup, optional): the group (default: the default group).
        async_op (bool): return a Work handle instead of waiting.
        group_dst (int, optional): the receiving rank as a rank of ``group``.

    Returns:
        A Work handle when ``async_op``, else None.
    """
    _checks.single_tensor(tensor, "tensor")
    pg = member_group(group, "reduce")
    if pg is None:
        return None
    root = root_rank(pg, dst, group_dst, "dst")
    _checks.dense_contiguous(tensor)
    reduction = plan(op, tensor._data.dtype)
    if not async_op and _agreement.enabled():
        _agreement.check(pg, "reduce", tensor.numel(), reduction.dtype, op, root)
    work = _start(pg, [tensor], (0,) if pg.rank() == root else (),
                  lambda a: _mpi_ops.reduce(pg, a[0], root, reduction),
                  lambda a: _nccl.reduce(pg, a[0], root, reduction), reduction)
    return _result(work, async_op)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Gather ``tensor`` of every rank into ``tensor_list`` on every rank
    (``tensor_list[i]`` receives rank i's tensor).

    Args:
        tensor_list (list[Tensor]): one output per rank of the group, each with as many
            elements as ``tensor`` and its dtype.
        tensor (Tensor): this rank's contribution.
        group (ProcessGroup, optional): the group (default: the default group).
        async_op (bool): return a Work handle instead of waiting.

    Returns:
        A Work handle when ``async_op``, else None.
    """
    _checks.tensor_list(tensor_list, "tensor_list")
    _checks.single_tensor(tensor, "tensor")
    _checks.same_dtype(tensor, tensor_list)
    pg = member_group(group, "all_gather")
    if pg is None:
        return None
    _checks.list_length(tensor_list, pg.size(), "all_gather", "tensor_list")
    _checks.same_numel(tensor, tensor_list, "all_gather", "tensor_list")
    _checks.dense_contiguous(tensor, tensor_list)
    if not async_op and _agreement.enabled():
        _agreement.check(pg, "all_gather", tensor.numel(), tensor._data.dtype)
    work = _start(pg, [tensor, *tensor_list], range(1, len(tensor_list) + 1),
                  lambda a: _mpi_ops.all_gather(pg, a[1:], a[0]),
                  lambda a: _nccl.all_gather(pg, a[1:], a[0]))
    return _result(work, async_op)


def _rooted(name, tensor, tensors, group, rank, group_rank, role, async_op):
    """The checks of ``gather`` and ``scatter``, whose list of tensors (``gather_list``,
    ``scatter_list``) only the root (``dst``, ``src``: global ``rank`` or ``group_rank``)
    passes. Returns ``(group, root, list)``; the group is None on a rank outside it."""
    list_name = f"{name}_list"
    _checks.single_tensor(tensor, "tensor")
    if tensors:
        _checks.tensor_list(tensors, list_name)
    tensors = tensors or []
    _checks.same_dtype(tensor, tensors)
    pg = member_group(group, name)
    if pg is None:
        return None, None, tensors
    root = root_rank(pg, 0 if rank is None and group_rank is None else rank, group_rank, role)
    _checks.root_list(pg.rank() == root, tensors, list_name)
    if tensors:
        _checks.list_length(tensors, pg.size(), name, list_name)
        _checks.same_numel(tensor, tensors, name, list_name)
    _checks.dense_contiguous(tensor, tensors)
    if not async_op and _agreement.enabled():
        _agreement.check(pg, name, tensor.numel(), tensor._data.dtype, root=root)
    return pg, root, tensors


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    """Gather ``tensor`` of every rank into ``gather_list`` on the rank ``dst``.

    Args:
        tensor (Tensor): this rank's contribution.
        gather_list (list[Tensor], optional): on ``dst`` only, one output per rank of
            the group; None (or empty) elsewhere.
        dst (int, optional): the receiving rank (global rank; default 0).
        group (ProcessGroup, optional): the group (default: the default group).
        async_op (bool): return a Work handle instead of waiting.
        group_dst (int, optional): the receiving rank as a rank of ``group``.

    Returns:
        A Work handle when ``async_op``, else None.
    """
    pg, root, gather_list = _rooted("gather", tensor, gather_list, group, dst, group_dst, "dst", async_op)
    if pg is None:
        return None
    work = _start(pg, [tensor, *gather_list], range(1, len(gather_list) + 1),
                  lambda a: _mpi_ops.gather(pg, a[1:], a[0], root))
    return _result(work, async_op)


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    """Send ``scatter_list[i]`` of the rank ``src`` into ``tensor`` of the group's rank i.

    Args:
        tensor (Tensor): this rank's output.
        scatter_list (list[Tensor], optional): on ``src`` only, one tensor per rank of
            the group; None (or empty) elsewhere.
        src (int, optional): the sending rank (global rank; default 0).
        group (ProcessGroup, optional): the group (default: the default group).
        async_op (bool): return a Work handle instead of waiting.
        group_src (int, optional): the sending rank as a rank of ``group``.

    Returns:
        A Work handle when ``async_op``, else None.
    """
    pg, root, scatter_list = _rooted("scatter", tensor, scatter_list, group, src, group_src, "src", async_op)
    if pg is None:
        return None
    work = _start(pg, [tensor, *scatter_list], (0,),
                  lambda a: _mpi_ops.scatter(pg, a[0], a[1:], root))
    return _result(work, async_op)


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``input_list[i]`` across the group with ``op`` into ``output`` of the
    group's rank i.

    Args:
        output (Tensor): this rank's share of the result.
        input_list (list[Tensor]): one tensor per rank of the group, each with as many
            elements as ``output`` and its dtype.
        op (ReduceOp): the elementwise reduction.
        group (ProcessGroup, optional): the group (default: the default group).
        async_op (bool): return a Work handle instead of waiting.

    Returns:
        A Work handle when ``async_op``, else None.
    """
    _checks.single_tensor(output, "output")
    _checks.tensor_list(input_list, "input_list")
    _checks.same_dtype(output, input_list)
    pg = member_group(group, "reduce_scatter")
    if pg is None:
        return None
    _checks.list_length(input_list, pg.size(), "reduce_scatter", "input_list")
    _checks.same_numel(output, input_list, "reduce_scatter", "input_list")
    _checks.dense_contiguous(output, input_list)
    reduction = plan(op, output._data.dtype)
    if not async_op and _agreement.enabled():
        _agreement.check(pg, "reduce_scatter", output.numel(), reduction.dtype, op)
    work = _start(pg, [output, *input_list], (0,),
                  lambda a: _mpi_ops.reduce_scatter(pg, a[0], a[1:], reduction),
                  lambda a: _nccl.reduce_scatter(pg, a[0], a[1:], reduction), reduction)
    return _result(work, async_op)


def barrier(group=None, async_op=False, device_ids=None, timeout=None):
    """Wait until every rank of the group has called ``barrier``.

    Args:
        group (ProcessGroup, optional): the group (default: the default group).
        async_op (bool): return a Work handle instead of waiting.
        device_ids (list[int], optional): accepted for torch's signature; the barrier
            runs over MPI whatever the devices.
        timeout (datetime.timedelta, optional): the longest wait (default: the group's
            timeout).

    Returns:
        A Work handle when ``async_op``, else None.
    """
    pg = member_group(group, "barrier")
    if pg is None:
        return None
    if not async_op and _agreement.enabled():
        _agreement.check(pg, "barrier")
    work = _mpi_ops.barrier(pg)
    if async_op:
        return work
    work.wait(timeout)
    return None
