"""Time rows of ``ratio_rows.ROWS`` in one library, alone in this process; print JSON.

Usage: ``python benchmarks/ratio_worker.py --lib ember|torch --rows I [I ...] [--quick]
[--device DEVICE]``, rows given by their index in ``ROWS``. ``ratio.py`` starts one
per row and library. Only the library named is imported, so its thread pools have
the process to themselves. The last line printed is one JSON object::

    {"lib": ..., "version": ..., "threads": ..., "times": {label: seconds per op},
     "unavailable": {label: reason}, "peak_mib": peak resident memory}

or ``{"lib": ..., "missing": reason}`` when the library does not import.
"""

import argparse
import importlib
import json
import os
import resource
import sys
import timeit

# Before NumPy or the library loads an OpenMP runtime, which reads it once.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

from ratio_rows import ROWS  # noqa: E402

#: (repeats, seconds per timed loop) of a normal and a ``--quick`` run.
REPEATS = {False: (7, 0.1), True: (3, 0.02)}


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


def build(row, lib, device):
    """The function running ``row``'s workload once in ``lib`` on ``device``; on a GPU
    it also waits for the queued work, so that timings cover it."""
    _, builder, size, _ = row
    run = builder(lib, device, size)
    if device == "cpu":
        return run

    def run_and_wait():
        run()
        lib.cuda.synchronize()

    return run_and_wait


def thread_pools():
    """The BLAS and OpenMP thread pools loaded in this process, e.g. ``openblas 2, openmp 2``."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl is not installed)"
    return ", ".join(f"{pool['internal_api']} {pool['num_threads']}" for pool in threadpool_info())


def cores():
    """The CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def peak_mib():
    """This process's peak resident memory so far, in MiB (the library's import included)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_library(name):
    """Import ``name``; torch is given one thread per core, as ember's pools have."""
    lib = importlib.import_module(name)
    if name == "torch":
        lib.set_num_threads(cores())
    return lib


def time_rows(lib, rows, device, quick):
    """Seconds per op of each row of ``rows`` in ``lib``, and the reasons of rows that
    could not be built (a family or backend not available)."""
    runs, labels, unavailable = [], [], {}
    for row in rows:
        try:
            runs.append(build(row, lib, device))
        except (AttributeError, NotImplementedError) as exc:
            unavailable[row[0]] = str(exc)
            continue
        labels.append(row[0])
    ops = {row[0]: row[3] for row in rows}
    seconds = best_times(runs, *REPEATS[quick]) if runs else []
    return {label: t / ops[label] for label, t in zip(labels, seconds)}, unavailable


def main(argv=None):
    """Parse the arguments, time the rows and print the JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lib", required=True, choices=["ember", "torch"])
    parser.add_argument("--rows", required=True, type=int, nargs="+", metavar="I",
                        help="indices into ratio_rows.ROWS")
    parser.add_argument("--quick", action="store_true", help="fewer, shorter repeats")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    try:
        lib = load_library(args.lib)
    except ImportError as exc:
        print(json.dumps({"lib": args.lib, "missing": str(exc)}))
        return 0
    times, unavailable = time_rows(lib, [ROWS[i] for i in args.rows], args.device, args.quick)
    print(json.dumps({"lib": args.lib, "version": lib.__version__, "threads": thread_pools(),
                      "times": times, "unavailable": unavailable, "peak_mib": peak_mib()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
