"""The emulated GPU's namespace (tests/emulated_cupy.py) refuses what CuPy refuses,
so that the emulated run of the cuda variants fails where a GPU run would."""

import weakref

import numpy as np
import pytest

from tests import emulated_cupy
from tests.emulated_cupy import XP, DeviceArray, DeviceSynchronized, allow_synchronize, recording

pytest.importorskip("cupy")  # the names and signatures are checked against CuPy's own


def test_device_arrays_refuse_host_arrays_in_device_work():
    x = XP.arange(4.0)
    assert isinstance(x, DeviceArray) and isinstance(x + 1, DeviceArray)
    with pytest.raises(TypeError, match="host \\(NumPy\\) array of shape \\(4,\\)"):
        x + np.ones(4)
    with pytest.raises(TypeError, match="host"):
        XP.concatenate([x, np.ones(2)])
    assert isinstance(x.sum(), DeviceArray) and x.sum().shape == ()   # not a NumPy scalar
    np.testing.assert_array_equal(XP.asarray(np.ones(2)).get(), [1.0, 1.0])   # a copy to the device


def test_only_what_cupy_has_is_answered():
    with pytest.raises(AttributeError, match="cupy has no 'errstate'"):
        XP.errstate
    with pytest.raises(AttributeError, match="Generator has no 'permutation'"):
        XP.random.default_rng(0).permutation(3)
    with pytest.raises(AttributeError, match="has no 'resize'"):
        XP.zeros(2).resize
    with pytest.raises(TypeError, match="refuses these arguments"):
        XP.zeros(2, no_such_argument=1)


def test_refused_synchronisation_raises():
    x = XP.arange(3.0)
    with allow_synchronize(False):
        y = x * 2   # device work alone is fine
        for read in (lambda: float(y[0]), lambda: y.get(), lambda: bool(y.any()), lambda: y[y > 1]):
            with pytest.raises(DeviceSynchronized):
                read()
    assert float(y[1]) == 2.0


def test_integer_array_indices_out_of_range_wrap_as_in_cupy():
    x = XP.arange(12.0).reshape(3, 4)
    i = XP.asarray(np.array([4, -5]))
    np.testing.assert_array_equal(x[:, i].get(), x[:, XP.asarray(np.array([0, 3]))].get())
    np.testing.assert_array_equal(XP.take(x[0], i).get(), [0.0, 3.0])
    y = XP.zeros(3)
    y[XP.asarray(np.array([3, -1]))] = 1.0
    XP.add.at(y, XP.asarray(np.array([4, 4])), 5.0)
    np.testing.assert_array_equal(y.get(), [1.0, 10.0, 1.0])
    with pytest.raises(IndexError):   # an integer, not an array: CuPy raises as NumPy does
        x[3]


def test_a_view_has_the_owner_of_its_memory_as_base_as_in_cupy():
    # a device result views memory the emulator made, and NumPy chains views of it
    view = XP.ones((4, 3)).sum(axis=0).reshape(-1)
    assert np.ndarray.base.__get__(np.ndarray.base.__get__(view)) is not None
    assert view.base is not None and view.base.base is None
    result = XP.ones((4, 3)).sum(axis=0)
    # something else holds the link: on CuPy it would hold the owner, so the owner
    # must not look referenced by this view alone
    assert result.reshape(-1).base is result


def test_a_recording_replays_its_work_into_the_same_arrays():
    x = XP.ones(3)
    with recording() as replays:
        scratch = XP.empty(3)
        y = x * 3
        y[0] = x[1] + 1
    x[...] = 2.0
    scratch[...] = 7.0
    for replay in replays:
        replay()
    np.testing.assert_array_equal(y.get(), [3.0, 6.0, 6.0])
    np.testing.assert_array_equal(scratch.get(), [7.0, 7.0, 7.0])   # an allocation is no work to replay
    assert getattr(emulated_cupy._TAPE, "entries", None) is None


def test_what_a_recording_allocates_lives_as_long_as_its_replays():
    with recording() as replays:
        kept = weakref.ref(XP.empty(3))
    assert kept() is not None   # a graph's memory pool keeps it for the graph, which may use its address
    replays.clear()
    assert kept() is None


def test_a_generator_state_restores_the_draws():
    gen = XP.random.default_rng(3)
    state = gen.state()
    first = gen.random(4).get()
    gen.set_state(state)
    np.testing.assert_array_equal(gen.random(4).get(), first)
    assert gen.state().shape == state.shape
