"""Ending the whole job when one rank dies of an uncaught exception.

A rank that dies while the others wait in a collective leaves them waiting forever
(and, in a plain script, its own MPI_Finalize at exit waits for them too). The hook
that ``init_process_group`` installs prints the traceback as before, then calls
``MPI_Abort`` on the world, which makes mpiexec end every rank with a non-zero status.
"""

import sys
import time

from . import _mpi

_previous = []

#: How long a failing rank waits between printing why and aborting the job.
_OUTPUT_GRACE_S = 0.5


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
    """Print the exception (through the previous hook; a ``sys.exit`` only its message,
    as Python does), then abort every rank."""
    if issubclass(exc_type, SystemExit):
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
    else:
        (_previous[0] if _previous else sys.__excepthook__)(exc_type, exc, tb)
    world = _mpi.load().COMM_WORLD
    if world.Get_size() > 1:
        why = f"exit status {status}" if issubclass(exc_type, SystemExit) else f"an uncaught {exc_type.__name__}"
        print(f"ember.distributed: rank {world.Get_rank()} stopped with {why}; aborting the job (MPI_Abort)",
              file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        # mpiexec forwards a rank's output through a pipe; aborting at once can end the
        # job before what was just printed (the traceback) has crossed it.
        time.sleep(_OUTPUT_GRACE_S)
        world.Abort(status)
