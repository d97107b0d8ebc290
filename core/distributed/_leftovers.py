"""Files an aborted MPICH job leaves behind: shared-memory segments in ``/dev/shm``
and hwloc topology files in ``/tmp``. A job that ends normally removes them; one
that MPI_Abort ends does not, and they pile up.

``remove_new(before)`` deletes the ones that appeared since ``before = snapshot()``
and that no live process still maps or holds open (so that a job running beside
ours keeps its files).
"""

import glob
import os
import time

PATTERNS = ("/dev/shm/mpich_shm_*", "/tmp/hydra_hwloc_xmlfile_*")


def snapshot():
    """The leftover-like files that exist now."""
    return {path for pattern in PATTERNS for path in glob.glob(pattern)}


def remove_new(before, patience=2.0):
    """Delete the files of ``snapshot()`` that are not in ``before`` and not in use;
    returns the paths deleted. Killed ranks may hold their files for a moment after
    mpiexec returns: busy files are looked at again for up to ``patience`` seconds."""
    candidates = snapshot() - before
    if not candidates:
        return []
    busy = _in_use(candidates)
    give_up = time.monotonic() + patience
    while busy and time.monotonic() < give_up:
        time.sleep(0.05)
        busy = _in_use(busy)
    removed = []
    for path in sorted(candidates - busy):
        try:
            os.remove(path)
            removed.append(path)
        except OSError:
            pass
    return removed


def _in_use(paths):
    busy = set()
    for proc in glob.glob("/proc/[0-9]*"):
        try:
            with open(f"{proc}/maps") as maps:
                busy.update(path for path in paths if path in maps.read())
            for fd in os.listdir(f"{proc}/fd"):
                target = os.readlink(f"{proc}/fd/{fd}")
                if target in paths:
                    busy.add(target)
        except OSError:  # the process ended, or is not ours to look at
            continue
    return busy
