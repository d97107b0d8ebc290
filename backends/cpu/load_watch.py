"""Fewer threads while other processes keep this machine's cores busy.

A parallel BLAS product splits its work between threads and ends when the last
part is done; when another process holds a core, the part waiting for
that core waits for the scheduler (milliseconds), so a loaded machine made a small
training step 2-10x slower. Every ``INTERVAL`` seconds, from the matrix-product
kernel, ember counts the runnable threads of other processes (``/proc/stat`` minus
this process's own) and gives the BLAS pools the cores left over (at least one, at
most the count it started with); the count goes back up when the machine is free
again. The OpenMP runtime is left alone: other libraries in the process (torch)
share it, and its parallel kernels lost little under load. After the first look it lowers the count only when two
looks in a row saw the other work, so a short-lived command does not halve a
training run's threads.

Only on Linux, when this process may run on every CPU that ``/proc/stat`` counts
(otherwise the count would include other machines' share of a host);
``ember.set_num_threads`` fixes the count and turns this off, as does
``EMBER_ADAPT_THREADS=0``.
"""

import os
import time

from ember._threads import is_fixed

#: Seconds between two looks at the machine's load.
INTERVAL = 0.25


def _runnable_threads():
    """Threads runnable on the machine now (``procs_running``), or None."""
    with open("/proc/stat", "rb") as stat:
        for line in stat:
            if line.startswith(b"procs_running"):
                return int(line.split()[1])
    return None


def _own_runnable_threads():
    """This process's threads that are running or runnable now."""
    count = 0
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/stat", "rb") as stat:
                # the state follows the command name, which is in parentheses
                state = stat.read().rpartition(b")")[2].split(None, 1)[0]
        except (OSError, IndexError):
            continue
        count += state == b"R"
    return count


def _usable():
    if os.environ.get("EMBER_ADAPT_THREADS", "1") == "0" or not hasattr(os, "sched_getaffinity"):
        return False
    try:
        if _runnable_threads() is None:
            return False
    except OSError:
        return False
    return len(os.sched_getaffinity(0)) == os.cpu_count()


class LoadWatch:
    """Looks at the machine's load at most every ``INTERVAL`` seconds (``poll``) and
    sets the thread pools to the cores other processes leave free."""

    def __init__(self):
        self.enabled = _usable()
        self.cores = len(os.sched_getaffinity(0)) if self.enabled else 1
        self._next = 0.0
        self._controller = None
        self._ceiling = None
        self._current = None
        self._lower_before = True      # the first look acts at once

    def poll(self):
        """Adjust the thread count if ``INTERVAL`` has passed since the last look."""
        now = time.monotonic()
        if now < self._next or not self.enabled:
            return
        self._next = now + INTERVAL
        if is_fixed():     # the user chose a count: keep it
            self.enabled = False
            return
        if self._controller is None:
            from threadpoolctl import ThreadpoolController

            self._controller = ThreadpoolController().select(user_api="blas")
        if self._ceiling is None:
            self._ceiling = self._current = max(
                [pool.num_threads for pool in self._controller.lib_controllers] or [1])
        others = max(0, _runnable_threads() - _own_runnable_threads())
        wanted = max(1, min(self._ceiling, self.cores - others))
        lower = wanted < self._current
        if wanted > self._current or (lower and self._lower_before):
            self._controller.limit(limits=wanted)
            self._current = wanted
            lower = False
        self._lower_before = lower


WATCH = LoadWatch()
