"""Run alone on a machine with a GPU (``python -m tests.core.distributed.cuda_worker``):
CUDA tensors' collectives in a world of one, under the ``nccl`` backend (NCCL where
it has the dtype and op, host-staged where not) and the ``mpi`` backend (host-staged).
NCCL refuses two ranks on one GPU, so a world of one is what one GPU can check: the
calls, their dtypes, ops and pointers, and that results stay on the device.
"""

import numpy as np

import ember
from ember import distributed as dist
from tests.core.distributed.harness import report, run_cases


def cuda(values, dtype):
    return ember.tensor(np.array(values), dtype=getattr(ember, dtype), device="cuda")


def on_device(t, expected):
    assert t.device.type == "cuda", t.device
    np.testing.assert_array_equal(t.cpu().numpy(), np.array(expected, dtype=t.cpu().numpy().dtype))


def collectives(backend):
    def case():
        dist.init_process_group(backend)
        try:
            for dtype, op, values in (("float32", "SUM", [1.5, -2.0]), ("float16", "AVG", [1.0, 3.0]),
                                      ("bool", "SUM", [True, False]), ("int16", "MAX", [3, -4]),
                                      ("int32", "BAND", [6, 5]), ("int64", "PRODUCT", [2, 3])):
                t = cuda(values, dtype)
                dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
                on_device(t, values)
                dist.reduce(t, 0, op=getattr(dist.ReduceOp, op))
                on_device(t, values)
            t = cuda([1.0, 2.0], "float32")
            work = dist.all_reduce(t, async_op=True)
            assert work.wait() and work.is_completed()
            dist.broadcast(t, 0)
            outputs = [cuda([0.0, 0.0], "float32")]
            dist.all_gather(outputs, t)
            on_device(outputs[0], [1.0, 2.0])
            gathered = [cuda([0.0, 0.0], "float32")]
            dist.gather(t, gathered, 0)
            on_device(gathered[0], [1.0, 2.0])
            received = cuda([0.0, 0.0], "float32")
            dist.scatter(received, [t], 0)
            on_device(received, [1.0, 2.0])
            share = cuda([0, 0], "int64")
            dist.reduce_scatter(share, [cuda([4, 5], "int64")])
            on_device(share, [4, 5])
            uses_nccl = backend == "nccl" and dist.is_nccl_available()
            assert (dist.group.WORLD.nccl is not None) == uses_nccl
        finally:
            dist.destroy_process_group()

    return case


CASES = {"nccl_backend": collectives("nccl"), "mpi_backend_stages_through_the_host": collectives("mpi")}

if __name__ == "__main__":
    report(run_cases(CASES))
