"""One rank of a job that ``python -m ember.distributed.run`` started through mpiexec.

``python -m ember.distributed._rank [--master-addr A] [--master-port P] (script | -m module) args...``
sets torchrun's environment variables from what the MPI launcher tells the process,
runs the script or module as ``__main__`` with ``sys.argv`` set, and, should it end
in an uncaught exception or a non-zero ``sys.exit``, prints it and aborts the whole
job through MPI (otherwise the other ranks would wait for this one forever).
"""

import argparse
import os
import runpy
import sys

from ._excepthook import abort_job

#: Where each launcher says who the process is: MPICH (Hydra), then Open MPI.
_SOURCES = {
    "RANK": ("PMI_RANK", "OMPI_COMM_WORLD_RANK"),
    "WORLD_SIZE": ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE"),
    "LOCAL_RANK": ("MPI_LOCALRANKID", "OMPI_COMM_WORLD_LOCAL_RANK"),
    "LOCAL_WORLD_SIZE": ("MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE"),
}


def rank_environment(environ, master_addr, master_port):
    """torchrun's variables for this process: RANK, WORLD_SIZE, LOCAL_RANK,
    LOCAL_WORLD_SIZE, GROUP_RANK (the node's index), MASTER_ADDR, MASTER_PORT.

    Read from the MPI launcher's variables; asks MPI itself when they are absent."""
    found = {}
    for name, sources in _SOURCES.items():
        value = next((environ[s] for s in sources if s in environ), None)
        if value is None:
            found = _from_mpi()
            break
        found[name] = int(value)
    found["GROUP_RANK"] = found["RANK"] // found["LOCAL_WORLD_SIZE"]
    found["MASTER_ADDR"] = master_addr
    found["MASTER_PORT"] = master_port
    return {name: str(value) for name, value in found.items()}


def _from_mpi():
    from . import _mpi

    MPI = _mpi.load()
    world = MPI.COMM_WORLD
    node = world.Split_type(MPI.COMM_TYPE_SHARED)
    found = {"RANK": world.Get_rank(), "WORLD_SIZE": world.Get_size(),
             "LOCAL_RANK": node.Get_rank(), "LOCAL_WORLD_SIZE": node.Get_size()}
    node.Free()
    return found


def _parse(argv):
    parser = argparse.ArgumentParser(prog="python -m ember.distributed._rank")
    parser.add_argument("--master-addr", default="127.0.0.1")
    parser.add_argument("--master-port", default="29500")
    parser.add_argument("-m", "--module", action="store_true")
    parser.add_argument("target")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    return parser.parse_args(argv)


def main(argv=None):
    """Run the target as this rank; returns the exit status when it does not abort."""
    options = _parse(argv)
    os.environ.update(rank_environment(os.environ, options.master_addr, options.master_port))
    sys.argv = [options.target, *options.args]
    try:
        if options.module:
            runpy.run_module(options.target, run_name="__main__", alter_sys=True)
        else:
            sys.path[0] = os.path.dirname(os.path.abspath(options.target))
            runpy.run_path(options.target, run_name="__main__")
    except SystemExit as exc:
        status = _status(exc.code)
        if status:
            _abort(exc, status)
        return status
    except BaseException as exc:
        _abort(exc, 1)
        return 1
    return 0


def _abort(exc, status):
    exc.__traceback__ = _user_frames(exc.__traceback__)
    abort_job(type(exc), exc, exc.__traceback__, status)


def _user_frames(tb):
    """The traceback without this module's and runpy's frames above the user's code."""
    while tb is not None and tb.tb_next is not None and (
            tb.tb_frame.f_code.co_filename == __file__ or "runpy" in tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    return tb


def _status(code):
    if code is None or isinstance(code, int):
        return code or 0
    return 1  # sys.exit("message"): the hook prints the message


if __name__ == "__main__":
    sys.exit(main())
