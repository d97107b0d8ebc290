"""mpi4py, imported on first use: ``import ember.distributed`` must not start MPI
(importing ``mpi4py.MPI`` initialises it) nor need mpi4py installed."""

MPI = None


def load():
    """The ``mpi4py.MPI`` module (MPI is initialised on the first call)."""
    global MPI
    if MPI is None:
        try:
            from mpi4py import MPI as module
        except ImportError as exc:
            raise RuntimeError("ember.distributed needs mpi4py and an MPI library "
                               f"(pip install mpi4py mpich): {exc}") from exc
        MPI = module
    return MPI


def available():
    """True when mpi4py is installed (checked without initialising MPI)."""
    import importlib.util

    try:
        return importlib.util.find_spec("mpi4py.MPI") is not None
    except ImportError:
        return False
