"""Time the same workloads in ember and torch in one process and print ember/torch.

Usage: ``python benchmarks/ratio.py [--quick] [--only PATTERN]``. Each time is the
best of several repeats after a warm-up; rows marked "per op" divide a call of
``workloads.chain`` by its op count. Without torch installed, only ember is timed.

OpenMP threads wait passively unless ``OMP_WAIT_POLICY`` is already set, as in the
asv suite. The ratios depend on it: passive waiting spares ember's OpenBLAS threads
from spinning OpenMP workers, but costs torch's OpenMP-parallel ops a wake-up per
call; ``OMP_WAIT_POLICY=active python benchmarks/ratio.py`` shows the other side.
"""

import argparse
import os
import re
import sys
import timeit
from pathlib import Path

# Before NumPy, ember or torch load an OpenMP runtime, which reads it once.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent / "benchmarks"))
import workloads  # noqa: E402
import bench_training  # noqa: E402
import sequence_workloads as qw  # noqa: E402
import spatial_workloads as sw  # noqa: E402

import ember  # noqa: E402

try:
    import torch
except ImportError:
    torch = None

#: (label, builder, size, ops per call); times are shown per op when ops > 1.
ROWS = [
    ("chain 4x4 fwd+bwd, per op", workloads.chain_backward, 4, workloads.CHAIN_OPS),
    ("chain 4x4 fwd no_grad, per op", workloads.chain_forward, 4, workloads.CHAIN_OPS),
    ("sigmoid fwd 1e6", workloads.sigmoid_forward, 10**6, 1),
    ("sigmoid fwd+bwd 1e6", workloads.sigmoid_backward, 10**6, 1),
    ("tanh bwd 1e6", workloads.tanh_backward, 10**6, 1),
    ("matmul 256", workloads.matmul_forward, 256, 1),
    ("matmul 256 fwd+bwd", workloads.matmul_backward, 256, 1),
    ("matmul 1024", workloads.matmul_forward, 1024, 1),
    ("matmul 1024 fwd+bwd", workloads.matmul_backward, 1024, 1),
    ("MLP 64-128-10 SGD step, b=64", bench_training.mlp_training_step, 64, 1),
    ("Conv2d 64-64 3x3 32x64x32x32 f+b", sw.conv2d_3x3, 32, 1),
    ("LeNet-5 SGD step, b=64, 28x28", sw.lenet5_training_step, 64, 1),
    ("MaxPool2d 2 32x64x32x32 f+b", sw.max_pool2d, 32, 1),
    ("AvgPool2d 2 32x64x32x32 f+b", sw.avg_pool2d, 32, 1),
    ("ReflectionPad2d 1 32x64x32x32 f+b", sw.reflection_pad2d, 32, 1),
    ("Upsample x2 bilinear 32x64x32x32 f+b", sw.upsample_bilinear, 32, 1),
    ("Upsample x2 nearest 32x64x32x32 f+b", sw.upsample_nearest, 32, 1),
    ("BatchNorm2d 32x64x32x32 f+b", sw.batch_norm2d, 32, 1),
    ("LSTM 2x200, seq 35, b=20 f+b", qw.lstm, 20, 1),
    ("GRU 2x200, seq 35, b=20 f+b", qw.gru, 20, 1),
    ("EmbeddingBag mean 10k x 64, b=512 f+b", qw.embedding_bag_mean, 512, 1),
]

#: Rows whose throughput is also printed: label -> floating-point operations per
#: forward (a forward + backward does about three times as many).
FLOPS = {"Conv2d 64-64 3x3 32x64x32x32 f+b": sw.conv2d_3x3_flops(32)}


def best_times(runs, repeat, min_time):
    """Seconds per call of each function in ``runs``, best of ``repeat`` timed loops.

    Each function is warmed up and given a loop of at least ``min_time``; the loops
    of all functions alternate so that a machine whose speed drifts (shared cores)
    slows them alike.
    """
    timers, numbers = [], []
    for run in runs:
        run()
        timer = timeit.Timer(run)
        number = 1
        while timer.timeit(number) < min_time:
            number *= 2
        timers.append(timer)
        numbers.append(number)
    best = [float("inf")] * len(runs)
    for _ in range(repeat):
        for i, (timer, number) in enumerate(zip(timers, numbers)):
            best[i] = min(best[i], timer.timeit(number) / number)
    return best


def synchronised(run, lib, device):
    """``run`` followed by a wait for ``lib``'s queued work on ``device`` (GPU timings)."""
    if device == "cpu":
        return run

    def run_and_wait():
        run()
        lib.cuda.synchronize()

    return run_and_wait


def format_time(seconds):
    """A time with a readable unit, e.g. ``12.3 µs`` or ``4.56 ms``."""
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def sgemm_gflops(repeat, min_time, n=1024):
    """NumPy float32 n x n matmul throughput, a reference for the machine's BLAS."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
    (seconds,) = best_times([lambda: a @ b], repeat, min_time)
    return 2 * n**3 / seconds / 1e9


def thread_pools():
    """The BLAS and OpenMP thread pools loaded in this process, e.g. ``openblas 2, openmp 2``."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl is not installed)"
    return ", ".join(f"{pool['internal_api']} {pool['num_threads']}" for pool in threadpool_info())


def main(argv=None):
    """Parse the arguments, time every selected row and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter repeats")
    parser.add_argument("--only", metavar="PATTERN", help="regex selecting rows by label")
    parser.add_argument("--device", default="cpu",
                        help="device the workloads run on (cuda: each call is synchronised)")
    args = parser.parse_args(argv)
    repeat, min_time = (3, 0.02) if args.quick else (7, 0.1)

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    libs = {"ember": ember}
    header = f"ember {ember.__version__}"
    if torch is not None:
        torch.set_num_threads(cores)
        libs["torch"] = torch
        header += f", torch {torch.__version__} ({torch.get_num_threads()} threads)"
    print(f"{header}, numpy {np.__version__}, {cores} cores, "
          f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}")
    print(f"thread pools: {thread_pools()}")
    # Other work on the machine shows up here first: compare with an idle run.
    print(f"numpy sgemm 1024^3: {sgemm_gflops(repeat, min_time):.0f} GFLOP/s, "
          f"load average {os.getloadavg()[0]:.1f}\n")

    names = list(libs) + (["ember/torch"] if torch is not None else [])
    print(f"{'workload':38}" + "".join(f"{name:>13}" for name in names))
    for label, builder, size, ops in ROWS:
        if args.only and not re.search(args.only, label, re.IGNORECASE):
            continue
        try:
            runs = [synchronised(builder(lib, args.device, size), lib, args.device)
                    for lib in libs.values()]
        except (AttributeError, NotImplementedError) as exc:  # a family not loaded
            print(f"{label:38}   not available: {exc}", flush=True)
            continue
        times = [t / ops for t in best_times(runs, repeat, min_time)]
        cells = [format_time(t) for t in times]
        if torch is not None:
            cells.append(f"{times[0] / times[1]:.2f}")
        line = f"{label:38}" + "".join(f"{cell:>13}" for cell in cells)
        if label in FLOPS:
            rates = [3 * FLOPS[label] / t / 1e9 for t in times]
            line += "   GFLOP/s " + " / ".join(f"{r:.0f}" for r in rates)
        print(line, flush=True)


if __name__ == "__main__":
    main()
