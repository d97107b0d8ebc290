"""The data-parallel workload: a ResNet basic block trained with SGD, on one process or
on every rank of an MPI job with DistributedDataParallel.

Run as a script (``python distributed_workloads.py STEPS BATCH``, under ``mpiexec -n N``
or alone) it prints the samples per second of the whole job: rank 0 reports
``STEPS * BATCH * world_size / seconds`` for the slowest rank's time.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import ember
from ember import nn

CHANNELS, SIZE = 64, 16


class BasicBlock(nn.Module):
    """ResNet's basic block: two 3x3 convolutions with batch norm and a residual sum."""

    def __init__(self, channels=CHANNELS):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        out = nn.functional.relu(self.bn1(self.conv1(x)))
        return nn.functional.relu(self.bn2(self.conv2(out)) + x)


def training_step(batch, distributed):
    """A closure running one SGD step of the basic block on a ``(batch, 64, 16, 16)``
    batch, averaged across ranks by DistributedDataParallel when ``distributed``."""
    ember.manual_seed(0)
    model = BasicBlock()
    if distributed:
        model = nn.parallel.DistributedDataParallel(model)
    optimizer = ember.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = ember.randn(batch, CHANNELS, SIZE, SIZE)

    def run():
        optimizer.zero_grad()
        model(x).square().mean().backward()
        optimizer.step()

    return run


def samples_per_second(steps, batch):
    """Train ``steps`` steps after a warm-up; ``(rank, the job's samples per second)``."""
    from ember import distributed as dist

    dist.init_process_group("mpi")
    world = dist.get_world_size()
    step = training_step(batch, distributed=world > 1)
    step()
    dist.barrier()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    elapsed = ember.tensor([time.perf_counter() - start], dtype=ember.float64)
    dist.all_reduce(elapsed, op=dist.ReduceOp.MAX)
    rate = steps * batch * world / elapsed.item()
    rank = dist.get_rank()
    dist.destroy_process_group()
    return rank, rate


def mpiexec():
    """The mpiexec beside this Python (the mpich wheel's), else the one on PATH."""
    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else "mpiexec"


def job_rate(ranks, steps, batch):
    """Samples per second of a job of ``ranks`` processes of one thread each, run in
    processes of its own (``mpiexec -n ranks``, or a plain ``python`` for one)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", OMP_WAIT_POLICY="passive")
    command = [sys.executable, __file__, str(steps), str(batch)]
    if ranks > 1:
        command = [mpiexec(), "-n", str(ranks)] + command
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=True)
    return float(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    ember.set_num_threads(1)
    rank, rate = samples_per_second(int(sys.argv[1]), int(sys.argv[2]))
    if rank == 0:
        print(f"{rate:.3f}")
