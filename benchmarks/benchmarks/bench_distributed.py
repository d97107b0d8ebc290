"""asv benchmarks of data-parallel training: samples/s of the ResNet basic block
(batch 16 per rank) on 1 and 2 ranks of one thread each.

asv runs each benchmark in one process, so each measurement starts its own job
(``mpiexec -n RANKS``) and reports the job's rate; ``benchmarks/ddp_scaling.py``
prints the same figures as a speed-up.
"""

from .distributed_workloads import job_rate


class TrackDataParallelSamplesPerSecond:
    """Samples per second of the basic block trained on ``ranks`` MPI ranks."""

    params = [1, 2]
    param_names = ["ranks"]
    unit = "samples/s"
    timeout = 600

    def setup(self, ranks):
        try:
            import mpi4py  # noqa: F401
        except ImportError:
            raise NotImplementedError("needs mpi4py (pip install 'ember[distributed]')") from None

    def track_basic_block(self, ranks):
        return job_rate(ranks, steps=20, batch=16)
