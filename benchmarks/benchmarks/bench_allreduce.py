"""asv benchmarks of ember.distributed.all_reduce against a bare mpi4py Allreduce.

asv runs a benchmark in one process, which is an MPI world of one, where an
all-reduce moves no data: ``TimeAllReduceOneRank`` times that, i.e. ember's per-call
overhead over mpi4py's. The bandwidth figures need two ranks, so
``TrackAllReduceTwoRanks`` starts one ``mpiexec -n 2`` job in ``setup_cache`` (run
as ``python bench_allreduce.py --in-job`` on each rank; it prints its measurements
as JSON) and tracks the best times and the ratios bare / ember (bandwidth ember /
bare; 1.0 is parity). ``benchmarks/allreduce_ratio.py`` prints the same job as a table.
"""

import json
import os
import subprocess
import sys
import time

SIZES = (1_000_000, 10_000_000, 25_000_000)
SMALL = (1, 1000)
MODES = ("bare", "ember", "async")


def _require_mpi():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        raise NotImplementedError("needs mpi4py (pip install 'ember[distributed]')") from None


def _calls(comm, MPI, dist, buf, tensor):
    """The three ways to sum ``buf`` across ranks (``tensor`` shares its memory)."""
    return {"bare": lambda: comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM),
            "ember": lambda: dist.all_reduce(tensor),
            "async": lambda: dist.all_reduce(tensor, async_op=True).wait()}


def _timed(comm, run):
    comm.Barrier()
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def measure_large(comm, MPI, dist, rounds):
    """{size: {mode: best seconds}} over ``rounds`` interleaved rounds (each mode goes first in turn)."""
    import numpy as np

    import ember

    best = {}
    for size in SIZES:
        buf = np.ones(size, np.float32)
        calls = _calls(comm, MPI, dist, buf, ember.from_numpy(buf))
        best[size] = dict.fromkeys(MODES, float("inf"))
        for round_ in range(rounds):
            for mode in MODES[round_ % 3:] + MODES[:round_ % 3]:
                buf.fill(1.0)
                best[size][mode] = min(best[size][mode], _timed(comm, calls[mode]))
    return best


def measure_small(comm, MPI, dist, calls=2000, repeats=5):
    """{size: {mode: best seconds per call}} on tiny tensors; mode "unchecked" is
    ember's blocking call without the cross-rank check."""
    import numpy as np

    import ember

    best = {}
    for size in SMALL:
        buf = np.ones(size, np.float32)
        runs = _calls(comm, MPI, dist, buf, ember.from_numpy(buf))
        runs["unchecked"] = runs["ember"]
        best[size] = {}
        for mode, run in runs.items():
            previous = dist.set_collective_checks(mode != "unchecked")

            def loop():
                for _ in range(calls):
                    run()

            best[size][mode] = min(_timed(comm, loop) for _ in range(repeats)) / calls
            dist.set_collective_checks(previous)
            buf.fill(1.0)
    return best


def run_job(rounds=15):
    """Run the measurements on 2 ranks; rank 0's JSON: {"mpi": version, "large": ..., "small": ...}."""
    from ember.distributed.run import find_mpiexec

    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    done = subprocess.run([find_mpiexec(), "-n", "2", sys.executable, os.path.abspath(__file__), "--in-job",
                           str(rounds)], capture_output=True, text=True, env=env, timeout=600, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _in_job(rounds):
    from mpi4py import MPI

    from ember import distributed as dist

    dist.init_process_group()
    comm = MPI.COMM_WORLD
    results = {"mpi": MPI.Get_library_version().splitlines()[0].strip(),
               "large": measure_large(comm, MPI, dist, rounds), "small": measure_small(comm, MPI, dist)}
    if comm.Get_rank() == 0:
        print(json.dumps(results), flush=True)
    dist.destroy_process_group()


class TimeAllReduceOneRank:
    """One all-reduce of ``size`` float32 in a world of one (no data moves): the cost
    of the call itself, ember's blocking and async against mpi4py's."""

    params = ([1_000_000, 10_000_000], list(MODES))
    param_names = ["size", "mode"]

    def setup(self, size, mode):
        _require_mpi()
        import numpy as np
        from mpi4py import MPI

        import ember
        from ember import distributed as dist

        if not dist.is_initialized():
            dist.init_process_group()
        buf = np.ones(size, np.float32)
        self.run = _calls(MPI.COMM_WORLD, MPI, dist, buf, ember.from_numpy(buf))[mode]

    def time_all_reduce(self, size, mode):
        """One all-reduce (``mode``: bare mpi4py, ember blocking, ember async + wait)."""
        self.run()


class TrackAllReduceTwoRanks:
    """All-reduce of ``size`` float32 on 2 ranks of this machine (one mpiexec job for all)."""

    params = (list(SIZES), ["ember", "async"])
    param_names = ["size", "mode"]
    timeout = 600

    def setup_cache(self):
        _require_mpi()
        return run_job()

    def track_bandwidth_ratio(self, results, size, mode):
        """Bandwidth of ember's all_reduce over the bare Allreduce's (best of the rounds)."""
        best = results["large"][str(size)]
        return best["bare"] / best[mode]

    track_bandwidth_ratio.unit = "ember/bare"

    def track_milliseconds(self, results, size, mode):
        """ember's best time for one all-reduce."""
        return results["large"][str(size)][mode] * 1e3

    track_milliseconds.unit = "ms"


if __name__ == "__main__" and sys.argv[1:2] == ["--in-job"]:
    _in_job(int(sys.argv[2]))
