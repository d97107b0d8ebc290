"""Running test programs on several MPI ranks: ``run_ranks`` and the ``requires_mpi`` mark.

``run_ranks([sys.executable, "worker.py", ...], nprocs=2)`` runs ``mpiexec -n 2`` on
the command line (the mpiexec beside the running Python first, as
``python -m ember.distributed.run`` picks it) and returns the CompletedProcess with
text stdout and stderr. A run that fails or times out has the files an aborted MPICH
job leaves in /dev/shm and /tmp removed (those no other process still uses).
"""

import os
import signal
import subprocess

import pytest

from ember import distributed
from ember.distributed import _leftovers
from ember.distributed.run import find_mpiexec


def _mpiexec():
    try:
        return find_mpiexec()
    except RuntimeError:
        return None


#: Skips a test (or module: ``pytestmark = requires_mpi``) where mpi4py or mpiexec is missing.
requires_mpi = pytest.mark.skipif(not (distributed.is_mpi_available() and _mpiexec()),
                                  reason="needs mpi4py and mpiexec (pip install 'ember[distributed]')")


def run_ranks(argv, nprocs=2, timeout=120, env=None):
    """Run ``mpiexec -n nprocs *argv`` and return the CompletedProcess (text output).

    ``env`` adds to (or overrides) the environment; OMP_NUM_THREADS is 1 unless set,
    so that the ranks do not oversubscribe the cores. Past ``timeout`` seconds the
    whole job is killed and the result has return code -9 and a note on stderr.
    """
    command = [find_mpiexec(), "-n", str(nprocs), *map(str, argv)]
    environment = {"OMP_NUM_THREADS": "1", **os.environ, **(env or {})}
    before = _leftovers.snapshot()
    # A session of its own, so that a timeout can kill mpiexec's ranks with it.
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment,
                          start_new_session=True) as job:
        try:
            stdout, stderr = job.communicate(timeout=timeout)
            status = job.returncode
        except subprocess.TimeoutExpired:
            os.killpg(job.pid, signal.SIGKILL)
            stdout, stderr = job.communicate()
            status = -signal.SIGKILL
            stderr += f"\nrun_ranks: killed after {timeout} s: {' '.join(command)}\n"
    if status != 0:
        _leftovers.remove_new(before)
    return subprocess.CompletedProcess(command, status, stdout, stderr)
