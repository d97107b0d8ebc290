"""``python -m ember.distributed.run``: the mpiexec command it builds from torchrun's
options, its refusals, and two real jobs: the ranks' environment, and a failing
rank's exit status coming back as the launcher's."""

import json
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

from ember.distributed import run
from tests.core.distributed import fault_worker
from tests.core.distributed.harness import worker_command
from tests.mpi import requires_mpi


def options(**given):
    defaults = dict(nproc_per_node=2, nnodes=1, master_addr="127.0.0.1", master_port=29500, hosts=None,
                    hostfile=None, module=False, training_script="train.py", training_script_args=["--lr", "1"])
    return SimpleNamespace(**{**defaults, **given})


def test_mpich_command():
    cmd = run.command(options(nnodes=2, hosts="a,b", master_addr="a"), "/x/mpiexec", open_mpi=False)
    assert cmd[:9] == ["/x/mpiexec", "-n", "4", "-ppn", "2", "-hosts", "a,b", sys.executable, "-m"]
    assert cmd[9:] == ["ember.distributed._rank", "--master-addr", "a", "--master-port", "29500",
                       "train.py", "--lr", "1"]
    cmd = run.command(options(hostfile="hosts.txt", module=True, training_script="pkg.train"), "mpiexec", False)
    assert cmd[5:7] == ["-f", "hosts.txt"] and cmd[-4:] == ["-m", "pkg.train", "--lr", "1"]


def test_open_mpi_command():
    cmd = run.command(options(nnodes=2, hosts="a,b"), "mpiexec", open_mpi=True)
    assert cmd[:3] == ["mpiexec", "-n", "4"]
    assert cmd[cmd.index("--map-by") + 1] == "ppr:2:node" and cmd[cmd.index("--host") + 1] == "a:2,b:2"
    assert "--oversubscribe" in run.command(options(), "mpiexec", open_mpi=True)


@pytest.mark.parametrize("argv, message", [
    (["--node-rank", "1", "x.py"], "--node-rank must be 0"),
    (["--nnodes", "2", "x.py"], "needs --hosts or --hostfile"),
    (["--nnodes", "1:4", "x.py"], "no elastic range"),
    (["--nproc-per-node", "0", "x.py"], "at least 1"),
    (["--hosts", "a", "--hostfile", "f", "x.py"], "not allowed with"),
])
def test_refusals(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run.main(argv)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_no_mpiexec_anywhere(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="needs MPI's mpiexec.*pip install mpi4py mpich"):
        run.find_mpiexec()


def launch(*argv, env=None):
    environment = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    return subprocess.run([sys.executable, "-m", "ember.distributed.run", *argv], capture_output=True, text=True,
                          timeout=120, env={**environment, **(env or {})})


def _json_objects(text):
    """The JSON objects printed one after another in ``text``. mpiexec forwards each
    rank's output as it comes, so two ranks' lines may arrive without the newline
    between them (MPICH's hydra did so once in a CI-like run)."""
    decoder, objects, at = json.JSONDecoder(), [], 0
    text = text.strip()
    while at < len(text):
        obj, at = decoder.raw_decode(text, at)
        objects.append(obj)
        while at < len(text) and text[at].isspace():
            at += 1
    return objects


@requires_mpi
def test_ranks_get_torchruns_environment():
    done = launch("--nproc-per-node", "2", "--master-port", "29777", fault_worker.__file__, "env", "a", "--flag")
    assert done.returncode == 0, done.stdout + done.stderr
    reports = sorted(_json_objects(done.stdout), key=lambda r: r["env"]["RANK"])
    for rank, report in enumerate(reports):
        assert report["env"] == {"RANK": str(rank), "WORLD_SIZE": "2", "LOCAL_RANK": str(rank),
                                 "LOCAL_WORLD_SIZE": "2", "GROUP_RANK": "0", "MASTER_ADDR": "127.0.0.1",
                                 "MASTER_PORT": "29777", "OMP_NUM_THREADS": "1"}
        assert report["argv"] == [fault_worker.__file__, "env", "a", "--flag"] and report["name"] == "__main__"
    assert len(reports) == 2


@requires_mpi
def test_failing_rank_exit_status_is_the_launchers():
    argv, env = worker_command(fault_worker.__name__, "exit")
    done = launch("--nproc-per-node", "2", "-m", *argv[2:], env=env)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "rank 1 stopped with exit status 3" in done.stderr
    assert "Traceback" not in done.stderr
