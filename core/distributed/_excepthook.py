"""Ending the whole job when one rank dies of an uncaught exception.

A rank that dies while the others wait in a collective leaves them waiting forever
(and, in a plain script, its own MPI_Finalize at exit waits for them too). The hook
that ``init_process_group`` installs prints the traceback as before, then calls
``MPI_Abort`` on the world, which makes mpiexec end every rank with a non-zero status.
"""

import sys

from . import _mpi

_previous = []


def install():
    """Chain the aborting hook in front of the current ``sys.excepthook``."""
    if sys.excepthook is not abort_job:
        _previous[:] = [sys.excepthook]
        sys.excepthook = abort_job


def restore():
    """Put back the hook that was there before ``install``."""
    if sys.excepthook is abort_job:
        sys.excepthook = _previous.pop() if _previous else sys.__excepthook__


def abort_job(exc_type, exc, tb, status=1):
    """Print the exception (through the previous hook), then abort every rank."""
    (_previous[0] if _previous else sys.__excepthook__)(exc_type, exc, tb)
    world = _mpi.load().COMM_WORLD
    if world.Get_size() > 1:
        print(f"ember.distributed: rank {world.Get_rank()} stopped on an uncaught {exc_type.__name__}; "
              "aborting the job (MPI_Abort)", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        world.Abort(status)
