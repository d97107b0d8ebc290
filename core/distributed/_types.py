"""The small value types of ``ember.distributed``: ``ReduceOp``, ``Backend`` and the
default timeout."""

import enum
from datetime import timedelta

#: A group's collectives fail past this wait unless ``timeout=`` says otherwise (torch's
#: default for every backend but NCCL; ember uses it for both).
default_pg_timeout = timedelta(minutes=30)


class ReduceOp:
    """How a reducing collective combines the ranks' values, elementwise.

    ``ReduceOp.SUM``, ``PRODUCT``, ``MIN``, ``MAX``, ``AVG`` (the sum divided by the
    group size; truncated toward zero for integers) and the bitwise ``BAND``, ``BOR``,
    ``BXOR`` (integer and bool tensors only). The members are ``ReduceOp.RedOpType``
    values with torch's numbers.
    """

    class RedOpType(enum.IntEnum):
        """The reduction kinds, numbered as torch numbers them."""

        SUM = 0
        AVG = 1
        PRODUCT = 2
        MIN = 3
        MAX = 4
        BAND = 5
        BOR = 6
        BXOR = 7

    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR


class Backend(str):
    """The names of the communication backends: ``Backend.MPI`` (``"mpi"``) and
    ``Backend.NCCL`` (``"nccl"``). ``Backend(name)`` gives the lower-case name."""

    MPI = "mpi"
    NCCL = "nccl"

    def __new__(cls, name):
        if not isinstance(name, str):
            raise ValueError("Backend constructor parameter must be string-ish")
        return name.lower()


#: The backends ``init_process_group`` and ``new_group`` accept.
BACKENDS = (Backend.MPI, Backend.NCCL)


def check_backend(backend):
    """``backend`` as a known lower-case name (None means ``"mpi"``); ValueError otherwise."""
    if backend is None:
        return Backend.MPI
    name = Backend(backend)
    if name not in BACKENDS:
        raise ValueError(f"Unknown backend {backend!r}: ember.distributed has the backends "
                         f"{', '.join(repr(b) for b in BACKENDS)} ('mpi' moves CPU tensors over MPI; "
                         "'nccl' moves CUDA tensors over NCCL and CPU tensors over MPI)")
    return name


def check_timeout(timeout):
    """``timeout`` itself, or the default when None; TypeError unless it is a timedelta."""
    if timeout is None:
        return default_pg_timeout
    if not isinstance(timeout, timedelta):
        raise TypeError(f"Expected timeout argument to be of type datetime.timedelta, got {timeout}")
    return timeout
