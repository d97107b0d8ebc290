"""Time the same workloads in ember and torch and print the ratio ember / torch.

Usage: ``python benchmarks/ratio.py [--quick] [--only PATTERN] [--rounds N]
[--same-process] [--device DEVICE] [--busy N]``. The rows are ``ratio_rows.ROWS``.

By default each library runs alone in its own process, as a user runs it: for every
row, ``ratio_worker.py`` is started for ember, then for torch, and this is repeated
in ``--rounds`` interleaved rounds (3, or 1 with ``--quick``); each row keeps its
minimum over the rounds, itself the best of several timed loops after a warm-up.
``--same-process`` times both libraries in this process instead, alternating their
loops; there their thread pools contend and slow each other, torch's more than
ember's. ``--busy N`` keeps N other CPU-bound processes running for the whole
measurement (a loaded machine: compare with a run without it). Without torch
installed, only ember is timed. Rows marked "per op" divide
a call of ``workloads.chain`` by its op count.

OpenMP threads wait passively unless ``OMP_WAIT_POLICY`` is already set, as in the
asv suite; both workers get this process's environment. The ratios depend on it:
passive waiting spares ember's OpenBLAS threads from spinning OpenMP workers, but
costs torch's OpenMP-parallel ops a wake-up per call;
``OMP_WAIT_POLICY=active python benchmarks/ratio.py`` shows the other side.
"""

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

# Before NumPy, ember or torch load an OpenMP runtime, which reads it once.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import numpy as np  # noqa: E402

from ratio_rows import FLOPS, ROWS  # noqa: E402
from ratio_worker import best_times, build, cores, load_library, thread_pools  # noqa: E402

WORKER = Path(__file__).resolve().parent / "ratio_worker.py"
LIBRARIES = ("ember", "torch")


class Results:
    """What a run measured: the best seconds per op of each (library, row), why rows
    or libraries could not be timed, and lines naming each library's version and
    thread pools."""

    def __init__(self):
        self.times = {lib: {} for lib in LIBRARIES}
        self.peaks = {lib: {} for lib in LIBRARIES}
        self.unavailable = {}
        self.missing = {}
        self.descriptions = {}

    def add(self, lib, times):
        """Keep the minimum of the times already held and ``times`` (label -> seconds)."""
        for label, seconds in times.items():
            self.times[lib][label] = min(seconds, self.times[lib].get(label, float("inf")))


def run_worker(lib, index, args):
    """The JSON report of one ``ratio_worker.py`` run timing row ``index`` in ``lib``,
    or ``{"failed": why}`` when it printed none."""
    command = [sys.executable, str(WORKER), "--lib", lib, "--rows", str(index),
               "--device", args.device] + (["--quick"] if args.quick else [])
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    lines = done.stdout.strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        return {"failed": f"{lib} worker exited with status {done.returncode}"}


def separate_processes(indices, args):
    """Time the rows ``indices`` with each library in its own worker processes, in
    interleaved rounds (ember then torch for each row), keeping the minimum."""
    results = Results()
    for round_number in range(args.rounds):
        print(f"round {round_number + 1}/{args.rounds}", file=sys.stderr, flush=True)
        for index in indices:
            for lib in LIBRARIES:
                if lib in results.missing:
                    continue
                report = run_worker(lib, index, args)
                if "missing" in report:
                    results.missing[lib] = report["missing"]
                elif "failed" in report:
                    results.unavailable[ROWS[index][0]] = report["failed"]
                else:
                    results.descriptions[lib] = f"{lib} {report['version']} ({report['threads']})"
                    results.add(lib, report["times"])
                    results.peaks[lib][ROWS[index][0]] = report["peak_mib"]
                    results.unavailable.update(report["unavailable"])
    return results


def same_process(indices, args):
    """Time the rows ``indices`` with both libraries loaded in this process, their
    timed loops alternating."""
    results, libs = Results(), {}
    for name in LIBRARIES:
        try:
            libs[name] = load_library(name)
        except ImportError as exc:
            results.missing[name] = str(exc)
    pools = thread_pools()
    results.descriptions = {name: f"{name} {lib.__version__}" for name, lib in libs.items()}
    results.descriptions["threads"] = f"one process ({pools})"
    repeat, min_time = (3, 0.02) if args.quick else (7, 0.1)
    for index in indices:
        label, _, _, ops = ROWS[index]
        try:
            runs = [build(ROWS[index], lib, args.device) for lib in libs.values()]
        except (AttributeError, NotImplementedError) as exc:  # a family not loaded
            results.unavailable[label] = str(exc)
            continue
        for name, seconds in zip(libs, best_times(runs, repeat, min_time)):
            results.add(name, {label: seconds / ops})
    return results


BUSY_LOOP = "while True: pass"


def start_busy(count):
    """``count`` processes that each keep one core busy until they are killed."""
    return [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(count)]


def cpu_model():
    """The CPU's model name from ``/proc/cpuinfo``, or the platform's processor name."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def load_average():
    """The 1, 5 and 15 minute load averages, e.g. ``0.52 0.80 0.90``."""
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


def sgemm_gflops(repeat, min_time, n=1024):
    """NumPy float32 n x n matmul throughput, a reference for the machine's BLAS."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
    (seconds,) = best_times([lambda: a @ b], repeat, min_time)
    return 2 * n**3 / seconds / 1e9


def milliseconds(seconds):
    """A time in milliseconds with 4 significant digits, or ``-`` when not measured."""
    return "-" if seconds is None else f"{seconds * 1e3:.4g}"


def print_table(indices, results):
    """One line per row: ember ms, torch ms and ember/torch when both were timed, and
    (separate processes) each worker's peak resident memory, import included."""
    ember_times, torch_times = results.times["ember"], results.times["torch"]
    peaks = any(results.peaks.values())
    print(f"{'workload':40}{'ember ms':>11}{'torch ms':>11}{'ember/torch':>13}"
          + (f"{'ember MiB':>11}{'torch MiB':>11}" if peaks else ""))
    for index in indices:
        label = ROWS[index][0]
        ember_time, torch_time = ember_times.get(label), torch_times.get(label)
        ratio = f"{ember_time / torch_time:.2f}" if ember_time and torch_time else "-"
        line = f"{label:40}{milliseconds(ember_time):>11}{milliseconds(torch_time):>11}{ratio:>13}"
        if peaks:
            line += "".join(f"{results.peaks[lib].get(label, 0):>11.0f}" for lib in LIBRARIES)
        if label in FLOPS:
            rates = [3 * FLOPS[label] / t / 1e9 for t in (ember_time, torch_time) if t]
            line += "   GFLOP/s " + " / ".join(f"{r:.0f}" for r in rates)
        print(line)
    for label, reason in results.unavailable.items():
        print(f"{label}: not available: {reason}")
    for lib, reason in results.missing.items():
        print(f"{lib} not timed: {reason}")


def main(argv=None):
    """Parse the arguments, time every selected row and print the machine and the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter repeats, 1 round")
    parser.add_argument("--only", metavar="PATTERN", help="regex selecting rows by label")
    parser.add_argument("--rounds", type=int, help="interleaved rounds of workers (default 3)")
    parser.add_argument("--same-process", action="store_true",
                        help="time both libraries in this process")
    parser.add_argument("--device", default="cpu",
                        help="device the workloads run on (cuda: each call is synchronised)")
    parser.add_argument("--busy", type=int, default=0, metavar="N",
                        help="keep N CPU-bound processes running during the measurement")
    args = parser.parse_args(argv)
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    indices = [i for i, row in enumerate(ROWS)
               if not args.only or re.search(args.only, row[0], re.IGNORECASE)]

    mode = ("one process" if args.same_process
            else f"each library in its own processes, minimum of {args.rounds} interleaved round(s)")
    print(f"{time.strftime('%Y-%m-%d %H:%M %Z')}; {cpu_model()}, {cores()} cores; "
          f"load average {load_average()} before")
    # Other work on the machine shows up here first: compare with an idle run.
    print(f"numpy {np.__version__} sgemm 1024^3: {sgemm_gflops(3, 0.05):.0f} GFLOP/s; "
          f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}; {mode}", flush=True)
    busy = start_busy(args.busy)
    if busy:
        print(f"{len(busy)} CPU-bound process(es) running beside the workers")
    try:
        results = (same_process if args.same_process else separate_processes)(indices, args)
    finally:
        for process in busy:
            process.kill()
            process.wait()
    for description in results.descriptions.values():
        print(description)
    print(f"load average {load_average()} after\n")
    print_table(indices, results)


if __name__ == "__main__":
    main()
