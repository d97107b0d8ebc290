"""Data-parallel scaling: samples/s of the ResNet basic block (batch 16 per rank) trained
with DistributedDataParallel on 2 ranks x 1 thread, against 1 process x 1 thread.

Usage: ``python benchmarks/ddp_scaling.py [--ranks 2] [--rounds 3] [--steps 20] [--batch 16]``.
Each configuration runs in processes of its own (``mpiexec -n RANKS`` for the job, a
plain ``python`` for the single process), in interleaved rounds; the best rate of each
is kept and the speed-up printed (the target is 1.8x on 2 ranks).
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "benchmarks"))
from distributed_workloads import job_rate  # noqa: E402


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
            best[ranks] = max(best[ranks], job_rate(ranks, args.steps, args.batch))
        print(f"round {round_ + 1}: 1 process {best[1]:.1f} samples/s, {args.ranks} ranks "
              f"{best[args.ranks]:.1f} samples/s", flush=True)
    print(f"speed-up {args.ranks} ranks x 1 thread / 1 process x 1 thread: {best[args.ranks] / best[1]:.2f}x")


if __name__ == "__main__":
    main()
