"""Checks of device values wait for the next synchronisation on a GPU backend (as
torch's device-side asserts do) and are raised at once on the CPU; a loss's bad
class index is reported either way, with torch's message."""

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.backend import assert_on_device
from ember.backends.cuda.checks import DeferredChecks


def out_of_range(value):
    return IndexError(f"bad value {value}")


def test_the_first_failure_of_a_site_is_raised_once_and_forgotten():
    checks = DeferredChecks(np)
    checks.add("site", np.array(False), lambda: np.array(1), out_of_range)
    checks.raise_failed()  # nothing failed
    checks.add("site", np.array(False), lambda: np.array(2), out_of_range)
    checks.add("site", np.array(True), lambda: np.array(3), out_of_range)
    checks.add("site", np.array(True), lambda: np.array(4), out_of_range)
    checks.add("other", np.array(False), lambda: np.array(5), out_of_range)
    with pytest.raises(IndexError, match="bad value 3"):
        checks.raise_failed()
    checks.raise_failed()  # forgotten after being raised


def test_sites_are_kept_apart():
    checks = DeferredChecks(np)
    checks.add("a", np.array(False), lambda: np.array(1), out_of_range)
    checks.add("b", np.array(True), lambda: np.array(7), lambda v: RuntimeError(f"b failed with {v}"))
    with pytest.raises(RuntimeError, match="b failed with 7"):
        checks.raise_failed()


# --- range checks on a GPU: two launches each, a record per site

def _emulated_checks():
    from tests.emulated_cupy import XP

    return DeferredChecks(XP), XP


def test_the_failure_raised_is_the_first_in_the_order_the_checks_ran():
    # range records and sites alike, whatever their order in an earlier window
    checks, xp = _emulated_checks()

    def check(name, value):
        checks.add_range(name, xp.asarray(np.array([value])), 0, 3, None, lambda v: RuntimeError(name), False)

    check("late", 0)  # the records made in the other order first
    check("early", 0)
    checks.raise_failed()
    for _ in range(2):
        check("early", 4)
        checks.add("site", xp.asarray(np.array(True)), lambda: xp.asarray(np.array(1)),
                   lambda v: RuntimeError("site"))
        check("late", 5)
        with pytest.raises(RuntimeError, match="early"):
            checks.raise_failed()


def test_a_range_check_keeps_the_first_entry_outside_of_the_first_failing_call():
    checks, xp = _emulated_checks()
    assert checks.checks_ranges
    calls = [[0, 1, 2], [1, 7, -1, 9], [8, 0]]
    for values in calls:
        checks.add_range("site", xp.asarray(np.array(values)), 0, 3, None, out_of_range, False)
    with pytest.raises(IndexError, match="bad value 7$"):
        checks.raise_failed()
    checks.raise_failed()  # forgotten after being raised
    checks.add_range("site", xp.asarray(np.array([5])), 0, 3, None, out_of_range, False)
    with pytest.raises(IndexError, match="bad value 5$"):  # the record starts afresh
        checks.raise_failed()


def test_a_range_check_passes_the_skipped_value_and_reports_a_position():
    checks, xp = _emulated_checks()
    values = xp.asarray(np.array([[2, -100], [-100, 4]]).reshape(-1))
    checks.add_range("skip", values, 0, 3, -100, lambda found: IndexError(f"at {found}"), True)
    with pytest.raises(IndexError, match=r"at \[3, 4\]"):
        checks.raise_failed()
    checks.add_range("skip", values[:3], 0, 3, -100, out_of_range, False)
    checks.raise_failed()  # in range but for the skipped value


def test_a_range_check_is_two_launches_and_reads_nothing_back():
    from tests.emulated_cupy import allow_synchronize, counting_launches

    checks, xp = _emulated_checks()
    values = xp.asarray(np.arange(10))
    checks.add_range("site", values, 0, 10, None, out_of_range, False)  # makes the record
    with allow_synchronize(False), counting_launches() as launches:
        checks.add_range("site", values, 0, 10, None, out_of_range, False)
    assert len(launches) == 2


def test_a_range_check_in_a_graph_accumulates_over_replays():
    from tests.emulated_cupy import recording

    checks, xp = _emulated_checks()
    values = xp.asarray(np.array([0, 1]))
    checks.begin_capture()
    with recording() as replays:
        checks.add_range("graph site", values, 0, 2, None, out_of_range, False)
    slots = checks.end_capture()
    checks.watch(slots, type("Stream", (), {"synchronize": lambda self: None})())

    def replay():
        for step in replays:
            step()

    replay()
    checks.raise_failed()  # in range
    values[1] = 6
    replay()
    values[1] = 1
    replay()  # a later replay that passes keeps the failure
    with pytest.raises(IndexError, match="bad value 6$"):
        checks.raise_failed()
    replay()
    checks.raise_failed()


class Deferring:
    """A backend that defers checks, as the cuda backend does."""

    xp = np

    def __init__(self):
        self.deferred_checks = DeferredChecks(np)


class OnBackend:
    def __init__(self, be):
        self._be = be


def test_assert_on_device_defers_where_the_backend_can():
    be = Deferring()
    assert_on_device(OnBackend(be), "s", np.array(True), lambda: np.array(9), out_of_range)
    with pytest.raises(IndexError, match="bad value 9"):
        be.deferred_checks.raise_failed()


def test_assert_on_device_raises_at_once_on_the_cpu():
    cpu = ember.zeros(1)
    assert_on_device(cpu, "s", np.array(False), lambda: np.array(9), out_of_range)
    with pytest.raises(IndexError, match="bad value 9"):
        assert_on_device(cpu, "s", np.array(True), lambda: np.array(9), out_of_range)


@pytest.mark.parametrize("targets,bad", [([0, 3, 1], 3), ([-2, 0, 1], -2), ([1, 5, 7], 5)])
def test_nll_names_the_first_bad_target(targets, bad, device):
    logp = ember.zeros(3, 3, device=device)
    with pytest.raises(IndexError, match=f"Target {bad} is out of bounds"):
        F.nll_loss(logp, ember.tensor(targets, device=device)).item()


def test_mean_nll_of_only_ignored_targets_is_nan_with_zero_gradient(device):
    logp = ember.zeros(2, 3, device=device, requires_grad=True)
    loss = F.nll_loss(logp, ember.tensor([-100, -100], device=device))
    loss.backward()
    assert np.isnan(loss.item())
    assert logp.grad.abs().sum().item() == 0


@pytest.mark.parametrize("values", [[0.5, 1.5], [0.5, float("nan")], [-0.1, 0.2]])
def test_binary_cross_entropy_refuses_values_outside_0_1(values, device):
    inside = ember.tensor([0.5, 0.5], device=device)
    outside = ember.tensor(values, device=device)
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(outside, inside).item()
    with pytest.raises(RuntimeError, match="all elements of target should be between 0 and 1"):
        F.binary_cross_entropy(inside, outside).item()


@pytest.mark.parametrize("bad,reported", [([0, -3, 9], -3), ([0, 16, 2], 16)])
def test_unpool_index_check_is_deferred_where_the_backend_can(bad, reported):
    from ember.plugins.pooling.functional import assert_unpool_indices

    be = Deferring()
    indices = np.array(bad, np.int64)
    assert_unpool_indices(OnBackend(be), indices, (4, 4))
    with pytest.raises(RuntimeError, match=rf"Found an invalid max index: {reported} \(output volumes are of size 4x4\)"):
        be.deferred_checks.raise_failed()
    assert_unpool_indices(OnBackend(be), np.array([0, 15], np.int64), (4, 4))
    be.deferred_checks.raise_failed()  # in range: nothing to raise


def test_max_unpool_names_a_bad_index(device):
    x = ember.randn(1, 1, 2, 2, device=device)
    indices = ember.tensor([[[[0, 1], [30, 3]]]], device=device)
    with pytest.raises(RuntimeError, match=r"Found an invalid max index: 30 \(output volumes are of size 4x4\)"):
        F.max_unpool2d(x, indices, 2).sum().item()
