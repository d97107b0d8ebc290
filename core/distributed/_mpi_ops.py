"""The collectives over MPI on host (NumPy, C-contiguous) arrays.

Each function starts one nonblocking MPI collective on the group's communicator and
returns its Work; the arrays are the caller's, written in place where the collective
has a single output, else filled from one staging buffer when the Work completes.
Data that is only moved travels as bytes, so every dtype moves the same way.
"""

import numpy as np

from . import _mpi
from ._types import ReduceOp
from ._work import Work


def _bytes(arr):
    return arr.reshape(-1).view(np.uint8)


def _mpi_op(reduction):
    op = reduction.mpi_op
    if op is None:
        MPI = _mpi.MPI
        op = reduction.mpi_op = {
            ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
            ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX,
            ReduceOp.BAND: MPI.BAND, ReduceOp.BOR: MPI.BOR, ReduceOp.BXOR: MPI.BXOR,
        }[reduction.op]
    return op


def _copy_parts(outputs, parts):
    def finish():
        for out, part in zip(outputs, parts):
            np.copyto(out, part.reshape(out.shape))

    return finish


def all_reduce(pg, arr, reduction):
    """Reduce ``arr`` across the group into every rank's ``arr``."""
    work = reduction.to_work(arr)
    request = pg.comm.Iallreduce(_mpi.MPI.IN_PLACE, work, _mpi_op(reduction))
    return Work(request, pg, "all_reduce", reduction.finisher(work, arr, pg.size()), (arr, work))


def broadcast(pg, arr, root):
    """Copy the group rank ``root``'s ``arr`` into every rank's ``arr``."""
    return Work(pg.comm.Ibcast(_bytes(arr), root), pg, "broadcast", None, (arr,))


def reduce(pg, arr, root, reduction):
    """Reduce ``arr`` across the group into the group rank ``root``'s ``arr``."""
    work = reduction.to_work(arr)
    if pg.rank() == root:
        request = pg.comm.Ireduce(_mpi.MPI.IN_PLACE, work, _mpi_op(reduction), root)
        finish = reduction.finisher(work, arr, pg.size())
    else:
        request = pg.comm.Ireduce(work, None, _mpi_op(reduction), root)
        finish = None
    return Work(request, pg, "reduce", finish, (arr, work))


def all_gather(pg, outputs, arr):
    """Every rank's ``arr`` into ``outputs[rank]`` on every rank."""
    gathered = np.empty((pg.size(), arr.size), arr.dtype)
    request = pg.comm.Iallgather(_bytes(arr), _bytes(gathered))
    return Work(request, pg, "all_gather", _copy_parts(outputs, gathered), (arr, gathered))


def gather(pg, outputs, arr, root):
    """Every rank's ``arr`` into ``outputs[rank]`` on the group rank ``root``."""
    if pg.rank() != root:
        return Work(pg.comm.Igather(_bytes(arr), None, root), pg, "gather", None, (arr,))
    gathered = np.empty((pg.size(), arr.size), arr.dtype)
    request = pg.comm.Igather(_bytes(arr), _bytes(gathered), root)
    return Work(request, pg, "gather", _copy_parts(outputs, gathered), (arr, gathered))


def scatter(pg, arr, inputs, root):
    """``inputs[rank]`` of the group rank ``root`` into each rank's ``arr``."""
    if pg.rank() != root:
        return Work(pg.comm.Iscatter(None, _bytes(arr), root), pg, "scatter", None, (arr,))
    parts = np.concatenate([part.reshape(-1) for part in inputs])
    request = pg.comm.Iscatter(_bytes(parts), _bytes(arr), root)
    return Work(request, pg, "scatter", None, (arr, parts))


def reduce_scatter(pg, out, inputs, reduction):
    """Reduce ``inputs[rank]`` across the group into each rank's ``out``."""
    send = reduction.to_work(np.concatenate([part.reshape(-1) for part in inputs]))
    work = reduction.to_work(out)
    request = pg.comm.Ireduce_scatter_block(send, work, _mpi_op(reduction))
    return Work(request, pg, "reduce_scatter", reduction.finisher(work, out, pg.size()), (out, work, send))


def barrier(pg):
    """Wait until every rank of the group has reached the barrier."""
    return Work(pg.comm.Ibarrier(), pg, "barrier")
