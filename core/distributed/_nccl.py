"""CUDA tensors' collectives over NCCL, through CuPy's ``cupy.cuda.nccl``.

Under the ``nccl`` backend each group gets one ``NcclCommunicator``, made on its
first CUDA collective: the group's rank 0 makes the unique id and broadcasts it over
the group's MPI communicator. Collectives are queued on CuPy's current stream of the
tensor's device; their Work tests a CUDA event recorded after them, so waiting (and
the group's timeout) works as for MPI. Unlike torch's NCCL backend, a blocking
collective therefore waits on the host for the stream to finish it. NCCL has no int16, no bitwise reductions and
no gather/scatter: those (and every CUDA collective when NCCL is missing or the
backend is ``mpi``) take the host-staged path of ``_collectives``: copy to the host,
run the MPI collective, copy back.

Nothing here imports CuPy before a CUDA tensor reaches a collective.
"""

import numpy as np

from ._types import ReduceOp
from ._work import Work

_module = []  # [cupy.cuda.nccl or None], filled on first use


def nccl():
    """``cupy.cuda.nccl`` when CuPy has NCCL, else None."""
    if not _module:
        try:
            from cupy.cuda import nccl as module
        except Exception:  # no CuPy, or a CuPy whose CUDA libraries do not load
            module = None
        _module.append(module if getattr(module, "available", False) else None)
    return _module[0]


_DTYPES = {"float16": "NCCL_FLOAT16", "float32": "NCCL_FLOAT32", "float64": "NCCL_FLOAT64",
           "int8": "NCCL_INT8", "uint8": "NCCL_UINT8", "bool": "NCCL_UINT8",
           "int32": "NCCL_INT32", "int64": "NCCL_INT64"}
_OPS = {ReduceOp.SUM: "NCCL_SUM", ReduceOp.PRODUCT: "NCCL_PROD", ReduceOp.MIN: "NCCL_MIN",
        ReduceOp.MAX: "NCCL_MAX", ReduceOp.AVG: "NCCL_AVG"}


def usable(pg, arrays, reduction=None):
    """True when NCCL can run this collective: backend ``nccl``, CUDA arrays, and a
    dtype and op NCCL has."""
    if pg.backend != "nccl" or not type(arrays[0]).__module__.startswith("cupy"):
        return False
    module = nccl()
    if module is None:
        return False
    if reduction is None:
        return True
    return (hasattr(module, _DTYPES.get(reduction.dtype.name, "-"))
            and hasattr(module, _OPS.get(reduction.op, "-")))


class _StreamDone:
    """A CUDA event recorded on a stream, tested like an MPI request."""

    __slots__ = ("event",)

    def __init__(self, cupy, stream):
        self.event = cupy.cuda.Event(disable_timing=True)
        self.event.record(stream)

    def Test(self):
        return self.event.done


def _communicator(pg, device):
    if pg.nccl is None:
        import cupy

        module = nccl()
        unique_id = module.get_unique_id() if pg.rank() == 0 else None
        unique_id = pg.comm.bcast(unique_id, root=0)
        with cupy.cuda.Device(device):
            pg.nccl = (module.NcclCommunicator(pg.size(), unique_id, pg.rank()), device)
    communicator, bound = pg.nccl
    if bound != device:
        raise RuntimeError(f"the NCCL communicator of {pg} is on cuda:{bound}; a collective got a tensor on "
                           f"cuda:{device} (use one device per process)")
    return communicator


def _start(pg, name, arr, enqueue):
    """Queue ``enqueue(communicator, stream_ptr)`` on the current stream of ``arr``'s device."""
    import cupy

    device = arr.device.id
    communicator = _communicator(pg, device)
    with cupy.cuda.Device(device):
        stream = cupy.cuda.get_current_stream()
        keep = enqueue(communicator, stream.ptr)
        return Work(_StreamDone(cupy, stream), pg, name, None, keep)


def _typed(arr, reduction):
    data = arr.view(np.uint8) if arr.dtype == np.bool_ else arr
    module = nccl()
    return data, getattr(module, _DTYPES[reduction.dtype.name]), getattr(module, _OPS[reduction.op])


def all_reduce(pg, arr, reduction):
    """``_mpi_ops.all_reduce`` on a CUDA array."""
    data, dtype, op = _typed(arr, reduction)

    def enqueue(comm, stream):
        comm.allReduce(data.data.ptr, data.data.ptr, data.size, dtype, op, stream)
        return (arr,)

    return _start(pg, "all_reduce", arr, enqueue)


def reduce(pg, arr, root, reduction):
    """``_mpi_ops.reduce`` on a CUDA array."""
    data, dtype, op = _typed(arr, reduction)

    def enqueue(comm, stream):
        comm.reduce(data.data.ptr, data.data.ptr, data.size, dtype, op, root, stream)
        return (arr,)

    return _start(pg, "reduce", arr, enqueue)


def broadcast(pg, arr, root):
    """``_mpi_ops.broadcast`` on a CUDA array."""
    def enqueue(comm, stream):
        comm.bcast(arr.data.ptr, arr.nbytes, nccl().NCCL_UINT8, root, stream)
        return (arr,)

    return _start(pg, "broadcast", arr, enqueue)


def all_gather(pg, outputs, arr):
    """``_mpi_ops.all_gather`` on CUDA arrays."""
    def enqueue(comm, stream):
        import cupy

        gathered = cupy.empty((pg.size(), arr.size), arr.dtype)
        comm.allGather(arr.data.ptr, gathered.data.ptr, arr.nbytes, nccl().NCCL_UINT8, stream)
        for out, part in zip(outputs, gathered):
            out[...] = part.reshape(out.shape)  # queued on the same (current) stream
        return (arr, gathered, *outputs)

    return _start(pg, "all_gather", arr, enqueue)


def reduce_scatter(pg, out, inputs, reduction):
    """``_mpi_ops.reduce_scatter`` on CUDA arrays."""
    def enqueue(comm, stream):
        import cupy

        send, dtype, op = _typed(cupy.concatenate([part.reshape(-1) for part in inputs]), reduction)
        data = _typed(out, reduction)[0]
        comm.reduceScatter(send.data.ptr, data.data.ptr, data.size, dtype, op, stream)
        return (out, send)

    return _start(pg, "reduce_scatter", out, enqueue)


def release(pg):
    """Destroy ``pg``'s NCCL communicator, if it has one."""
    if pg.nccl is not None:
        pg.nccl[0].destroy()
        pg.nccl = None
