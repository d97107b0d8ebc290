"""The CPU backend gives its thread pools the cores that other processes leave free
(``ember.backends.cpu.load_watch``)."""

import os
import subprocess
import sys

import pytest

from ember.backends.cpu import load_watch

pytestmark = pytest.mark.skipif(not load_watch._usable(), reason="needs Linux's /proc and every CPU")


class _Pools:
    """A stand-in for threadpoolctl's controller: records the limits set."""

    def __init__(self, threads):
        self.lib_controllers = [type("Pool", (), {"num_threads": threads})()]
        self.limits = []

    def limit(self, limits):
        self.limits.append(limits)


@pytest.fixture(autouse=True)
def no_count_chosen(monkeypatch):
    """As in a fresh process: an earlier test's ``ember.set_num_threads`` (which turns
    the watch off) does not apply here."""
    monkeypatch.setattr("ember._threads._requested", None)


@pytest.fixture
def watch(monkeypatch):
    """A watch on a 4-core machine whose pools start with 4 threads; ``others`` sets
    how many threads of other processes are runnable."""
    w = load_watch.LoadWatch()
    w.cores, w._controller = 4, _Pools(4)
    w._ceiling = w._current = 4
    w._lower_before = False     # as after a first look at an idle machine
    state = {"others": 0}
    monkeypatch.setattr(load_watch, "_own_runnable_threads", lambda: 1)
    monkeypatch.setattr(load_watch, "_runnable_threads", lambda: 1 + state["others"])

    def look(others):
        state["others"] = others
        w._next = 0.0
        w.poll()
        return w._current

    w.look = look
    return w


def test_the_count_falls_to_the_free_cores_after_two_looks_and_comes_back_at_once(watch):
    assert watch.look(3) == 4           # one look is not enough
    assert watch.look(3) == 1
    assert watch.look(9) == 1           # never below one
    assert watch.look(1) == 3           # up again without waiting
    assert watch.look(0) == 4
    assert watch._controller.limits == [1, 3, 4]


def test_a_short_burst_of_other_work_changes_nothing(watch):
    assert [watch.look(n) for n in (2, 0, 2, 0)] == [4, 4, 4, 4]
    assert watch._controller.limits == []


def test_looks_are_spaced_by_the_interval(watch, monkeypatch):
    watch.look(3)
    monkeypatch.setattr(load_watch, "_runnable_threads", None)     # would raise if read again
    watch.poll()
    assert watch._current == 4


def test_a_count_chosen_by_the_user_is_kept(watch, monkeypatch):
    monkeypatch.setattr("ember._threads._requested", 2)
    watch.look(3)
    watch.look(3)
    assert watch._current == 4 and not watch.enabled


def test_the_first_look_acts_at_once(monkeypatch):
    w = load_watch.LoadWatch()
    w.cores, w._controller = 4, _Pools(4)
    monkeypatch.setattr(load_watch, "_own_runnable_threads", lambda: 1)
    monkeypatch.setattr(load_watch, "_runnable_threads", lambda: 4)
    w.poll()
    assert w._current == 1 and w._controller.limits == [1]


def test_the_environment_turns_it_off(monkeypatch):
    monkeypatch.setenv("EMBER_ADAPT_THREADS", "0")
    assert not load_watch.LoadWatch().enabled


def test_this_thread_counts_as_running():
    assert load_watch._own_runnable_threads() >= 1
    assert load_watch._runnable_threads() >= 1


# Keeps every core busy with other processes, then runs products until the watch
# has looked twice; prints the BLAS thread count it chose.
_LOADED = """
import subprocess, sys, time
import ember
from ember.backends.cpu.load_watch import INTERVAL, WATCH
busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(WATCH.cores)]
try:
    time.sleep(0.3)
    a = ember.randn(8, 8)
    end = time.monotonic() + 3 * INTERVAL
    while time.monotonic() < end:
        a @ a
    print(WATCH._current)
finally:
    for p in busy:
        p.kill()
"""


def test_a_fully_loaded_machine_gets_one_thread():
    done = subprocess.run([sys.executable, "-c", _LOADED], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, EMBER_ADAPT_THREADS="1"), check=True)
    assert done.stdout.split()[-1] == "1"
