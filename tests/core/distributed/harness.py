"""What the worker programs share: run named cases, report each rank's outcome.

A worker calls ``report(run_cases(cases))``: every case runs on every rank (a case
is a function of no arguments that raises on failure); rank 0 prints one JSON line
``{case: [outcome of rank 0, outcome of rank 1, ...]}``, an outcome being "ok" or the
error. The pytest side asserts case by case.
"""

import json
import os
import re
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def worker_command(module, *args):
    """``python -m module args...`` for ``run_ranks``/subprocess, with the environment
    that lets it import ``tests``: (argv, env)."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return [sys.executable, "-m", module, *args], {"PYTHONPATH": path}


def run_cases(cases):
    """{name: "ok" or the failure} for each case of the dict ``cases``, run in order."""
    outcomes = {}
    for name, case in cases.items():
        try:
            case()
            outcomes[name] = "ok"
        except Exception:
            outcomes[name] = traceback.format_exc(limit=4)
    return outcomes


def report(outcomes):
    """Print every rank's outcomes as one JSON line on rank 0 (over mpi4py, not the
    library under test)."""
    from mpi4py import MPI

    everyone = MPI.COMM_WORLD.gather(outcomes, root=0)
    if MPI.COMM_WORLD.Get_rank() == 0:
        print(json.dumps({name: [ranks[name] for ranks in everyone] for name in everyone[0]}), flush=True)


def raises(exc_type, match, call, *args, **kwargs):
    """Assert that ``call(*args, **kwargs)`` raises ``exc_type`` with a message matching ``match``."""
    try:
        call(*args, **kwargs)
    except exc_type as exc:
        assert re.search(match, str(exc)), f"{exc_type.__name__} message {str(exc)!r} does not match {match!r}"
        return
    raise AssertionError(f"{getattr(call, '__name__', call)} did not raise {exc_type.__name__}")


def outcomes_of(done):
    """The JSON line a worker's rank 0 printed last, from a CompletedProcess."""
    assert done.returncode == 0, f"exit status {done.returncode}\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])
