"""What a reducing collective does for one dtype and one ``ReduceOp``: which type the
reduction runs in, with which elementwise op, and what is left to do afterwards.

MPI (and NCCL) reduce neither float16 nor bool the way tensors need:
- float16 is reduced in a float32 copy and cast back;
- bool is reduced as its bytes (uint8 0/1, no copy), SUM as MAX and PRODUCT as MIN,
  as NCCL does for torch, so that the result stays 0 or 1;
- AVG is a SUM followed by a division by the group size (truncating toward zero for
  integers, as NCCL's average does).
"""

import numpy as np

from ._types import ReduceOp

_BITWISE = (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR)
_BOOL_OPS = {ReduceOp.SUM: ReduceOp.MAX, ReduceOp.PRODUCT: ReduceOp.MIN}
_STAGED = {np.dtype(np.float16): np.dtype(np.float32)}


class Reduction:
    """How to reduce arrays of one dtype with one op.

    ``op`` is the op to apply to the arrays ``to_work`` returns (AVG stays AVG: MPI
    runs it as SUM, NCCL has its own); ``work_dtype`` is their dtype.
    """

    __slots__ = ("op", "dtype", "work_dtype", "average", "staged", "mpi_op")

    def __init__(self, op, dtype):
        self.dtype = dtype
        self.op = _BOOL_OPS.get(op, op) if dtype == np.bool_ else op
        self.average = op == ReduceOp.AVG
        self.staged = dtype in _STAGED
        self.work_dtype = _STAGED.get(dtype, np.dtype(np.uint8) if dtype == np.bool_ else dtype)
        self.mpi_op = None  # filled by the MPI transport on first use

    def to_work(self, arr):
        """The array to reduce for ``arr``: ``arr`` itself, its bytes (bool) or a
        float32 copy (float16)."""
        if self.staged:
            return arr.astype(self.work_dtype)
        return arr.view(self.work_dtype) if arr.dtype != self.work_dtype else arr

    def finisher(self, work, out, group_size):
        """What completes the reduction once MPI has reduced into ``work``: scale for
        AVG and copy a staged result into ``out``; None when there is nothing to do."""
        if not (self.average or self.staged):
            return None

        def finish():
            if self.average:
                divide_toward_zero(work, group_size)
            if self.staged:
                np.copyto(out, work, casting="unsafe")

        return finish


def divide_toward_zero(arr, n):
    """``arr /= n`` in place; integers are divided truncating toward zero (as C does)."""
    if arr.dtype.kind == "f":
        np.true_divide(arr, n, out=arr)
    else:
        arr -= np.fmod(arr, n)
        arr //= n


_PLANS = {}


def plan(op, dtype):
    """The Reduction for ``op`` on arrays of NumPy ``dtype`` (cached); TypeError for an
    op that is not a ``ReduceOp``, RuntimeError for one the dtype cannot take."""
    if not isinstance(op, ReduceOp.RedOpType):
        raise TypeError(f"op must be an ember.distributed.ReduceOp member (ReduceOp.SUM, ...), got {op!r}")
    key = (op, dtype)
    found = _PLANS.get(key)
    if found is None:
        found = _PLANS[key] = Reduction(_check(op, dtype), dtype)
    return found


def _check(op, dtype):
    if op in _BITWISE and dtype.kind not in "iub":
        raise RuntimeError(f"Cannot use ReduceOp.{op.name} with non-integral dtype")
    if op == ReduceOp.AVG and dtype == np.bool_:
        raise RuntimeError("Cannot use ReduceOp.AVG with boolean inputs")
    return op
