"""ember.distributed.all_reduce against a bare mpi4py Allreduce, on 2 ranks of this machine.

Usage: ``python benchmarks/allreduce_ratio.py [--rounds N]``: starts ``mpiexec -n 2``
on the measurements of ``benchmarks/benchmarks/bench_allreduce.py`` and prints, for
1M, 10M and 25M float32, the best time over interleaved rounds on the same buffer
of ``comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)``, of ember's blocking
``all_reduce`` (with the cross-rank check) and of ``async_op=True`` + ``wait()``, with
the bandwidth ratios ember / bare (target >= 0.9); then the per-call cost on tiny
tensors with the check on ("checked") and off, and async.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "benchmarks"))
import bench_allreduce  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds per size (default 15)")
    results = bench_allreduce.run_job(parser.parse_args().rounds)
    print(f"2 ranks, {results['mpi']}")
    print(f"{'float32':>9} {'bare ms':>9} {'ember ms':>9} {'async ms':>9} {'ratio':>6} {'async ratio':>11}")
    for size, best in results["large"].items():
        print(f"{int(size) / 1e6:>8.0f}M {best['bare'] * 1e3:9.2f} {best['ember'] * 1e3:9.2f} "
              f"{best['async'] * 1e3:9.2f} {best['bare'] / best['ember']:6.2f} {best['bare'] / best['async']:11.2f}")
    print(f"\n{'elements':>9} {'bare us':>9} {'checked us':>11} {'unchecked us':>13} {'async us':>9}")
    for size, best in results["small"].items():
        print(f"{size:>9} {best['bare'] * 1e6:9.1f} {best['ember'] * 1e6:11.1f} "
              f"{best['unchecked'] * 1e6:13.1f} {best['async'] * 1e6:9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
