"""The object collectives: picklable Python objects moved as bytes over MPI.

The objects are pickled, their sizes exchanged, then the bytes; every wait honours
the group's timeout. As with torch, unpickling runs whatever the sender's pickle
says: only exchange objects between processes you trust.
"""

import pickle
import time

import numpy as np

from . import _agreement
from ._checks import root_list
from ._work import wait_request
from ._world import member_group, root_rank


def _pickled(obj):
    return np.frombuffer(bytearray(pickle.dumps(obj)), np.uint8)


def _run(pg, name, request):
    wait_request(request, pg, name, time.perf_counter())


def _displacements(sizes):
    return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    """Replace the items of ``object_list`` on every rank by those of the rank ``src``.

    Args:
        object_list (list): the objects to send on ``src``; a list of the same length,
            overwritten, elsewhere.
        src (int, optional): the sending rank (global rank; default 0).
        group (ProcessGroup, optional): the group (default: the default group).
        device: accepted for torch's signature; objects always travel through the host.
        group_src (int, optional): the sending rank as a rank of ``group``.
    """
    pg = member_group(group, "broadcast_object_list")
    if pg is None:
        return
    root = root_rank(pg, 0 if src is None and group_src is None else src, group_src, "src")
    if _agreement.enabled():
        _agreement.check(pg, "broadcast_object_list", len(object_list), root=root)
    is_root = pg.rank() == root
    payload = _pickled(list(object_list)) if is_root else None
    size = np.array([payload.size if is_root else 0], np.int64)
    _run(pg, "broadcast_object_list", pg.comm.Ibcast(size, root))
    if not is_root:
        payload = np.empty(int(size[0]), np.uint8)
    _run(pg, "broadcast_object_list", pg.comm.Ibcast(payload, root))
    if not is_root:
        for i, obj in enumerate(pickle.loads(payload.tobytes())):
            object_list[i] = obj


def all_gather_object(object_list, obj, group=None):
    """Put every rank's ``obj`` into ``object_list`` on every rank
    (``object_list[i]`` receives rank i's object).

    Args:
        object_list (list): the output, as long as the group.
        obj: this rank's picklable object.
        group (ProcessGroup, optional): the group (default: the default group).
    """
    pg = member_group(group, "all_gather_object")
    if pg is None:
        return
    if _agreement.enabled():
        _agreement.check(pg, "all_gather_object")
    payload = _pickled(obj)
    sizes = np.empty(pg.size(), np.int64)
    _run(pg, "all_gather_object", pg.comm.Iallgather(np.array([payload.size], np.int64), sizes))
    gathered = np.empty(int(sizes.sum()), np.uint8)
    starts = _displacements(sizes)
    _run(pg, "all_gather_object", pg.comm.Iallgatherv(payload, [gathered, (sizes, starts)]))
    for i, (start, size) in enumerate(zip(starts.tolist(), sizes.tolist())):
        object_list[i] = pickle.loads(gathered[start:start + size].tobytes())


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None):
    """Put every rank's ``obj`` into ``object_gather_list`` on the rank ``dst``.

    Args:
        obj: this rank's picklable object.
        object_gather_list (list, optional): on ``dst``, the output, as long as the
            group; None elsewhere.
        dst (int, optional): the receiving rank (global rank; default 0).
        group (ProcessGroup, optional): the group (default: the default group).
        group_dst (int, optional): the receiving rank as a rank of ``group``.
    """
    pg = member_group(group, "gather_object")
    if pg is None:
        return
    root = root_rank(pg, 0 if dst is None and group_dst is None else dst, group_dst, "dst")
    is_root = pg.rank() == root
    root_list(is_root, object_gather_list, "gather_list")
    if _agreement.enabled():
        _agreement.check(pg, "gather_object", root=root)
    payload = _pickled(obj)
    sizes = np.empty(pg.size(), np.int64) if is_root else None
    _run(pg, "gather_object", pg.comm.Igather(np.array([payload.size], np.int64), sizes, root))
    if not is_root:
        _run(pg, "gather_object", pg.comm.Igatherv(payload, None, root))
        return
    gathered = np.empty(int(sizes.sum()), np.uint8)
    starts = _displacements(sizes)
    _run(pg, "gather_object", pg.comm.Igatherv(payload, [gathered, (sizes, starts)], root))
    for i, (start, size) in enumerate(zip(starts.tolist(), sizes.tolist())):
        object_gather_list[i] = pickle.loads(gathered[start:start + size].tobytes())
