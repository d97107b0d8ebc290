"""Data-parallel scaling: samples/s of the ResNet basic block (batch 16 per rank) trained
with DistributedDataParallel on 2 ranks x 1 thread, against 1 process x 1 thread.

Usage: ``python benchmarks/ddp_scaling.py [--ranks 2] [--rounds 3] [--steps 20] [--batch 16]``.
Each configuration runs in processes of its own (``mpiexec -n RANKS`` for the job, a
plain ``python`` for the single process), in interleaved rounds; the best rate of each
is kept and the speed-up printed (the target is 1.8x on 2 ranks).
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

WORKER = Path(__file__).resolve().parent / "benchmarks" / "distributed_workloads.py"


def mpiexec():
    """The mpiexec beside this Python (the mpich wheel's), else the one on PATH."""
    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else "mpiexec"


def rate(ranks, steps, batch):
    """One run's samples per second."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", OMP_WAIT_POLICY="passive")
    command = [sys.executable, str(WORKER), str(steps), str(batch)]
    if ranks > 1:
        command = [mpiexec(), "-n", str(ranks)] + command
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=16, help="samples per rank and step")
    args = parser.parse_args(argv)
    best = {1: 0.0, args.ranks: 0.0}
    for round_ in range(args.rounds):
        for ranks in best:
            best[ranks] = max(best[ranks], rate(ranks, args.steps, args.batch))
        print(f"round {round_ + 1}: 1 process {best[1]:.1f} samples/s, {args.ranks} ranks "
              f"{best[args.ranks]:.1f} samples/s", flush=True)
    print(f"speed-up {args.ranks} ranks x 1 thread / 1 process x 1 thread: {best[args.ranks] / best[1]:.2f}x")


if __name__ == "__main__":
    main()
