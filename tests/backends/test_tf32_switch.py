"""The cuda backend's TF32 switch (backends/cuda/precision.py) over a stand-in CuPy:
it sets CuPy's float32 compute type to TF32 while any caller is inside, restores
what was there when the last one leaves, and does nothing where the GPU or the
installed CuPy cannot."""

import threading
from types import SimpleNamespace

import numpy as np
import pytest

from ember.backends.cuda.precision import TF32Switch

DEFAULT, TF32 = 1, 7


def _cupy(capability="90", with_setting=True):
    """A stand-in CuPy on a GPU of ``capability``; ``calls`` records the compute types set."""
    calls, state = [], {"type": DEFAULT}

    def set_compute_type(dtype, compute_type):
        assert np.dtype(dtype) == np.float32
        calls.append(compute_type)
        state["type"] = compute_type

    linalg = SimpleNamespace(COMPUTE_TYPE_TF32=TF32, set_compute_type=set_compute_type,
                             get_compute_type=lambda dtype: state["type"])
    core = SimpleNamespace(_routines_linalg=linalg) if with_setting else SimpleNamespace()
    device = SimpleNamespace(compute_capability=capability)
    return SimpleNamespace(_core=core, cuda=SimpleNamespace(Device=lambda: device), calls=calls, state=state)


def test_tf32_while_inside_and_the_old_type_after():
    cupy = _cupy()
    switch = TF32Switch(cupy)
    with switch():
        assert cupy.state["type"] == TF32
        with switch():
            assert cupy.state["type"] == TF32
        assert cupy.state["type"] == TF32, "an inner context leaves TF32 on for the outer one"
    assert cupy.state["type"] == DEFAULT and cupy.calls == [TF32, DEFAULT]
    with pytest.raises(ValueError):
        with switch():
            raise ValueError("a failing convolution")
    assert cupy.state["type"] == DEFAULT


def test_threads_inside_at_once_leave_the_old_type_when_the_last_leaves():
    cupy = _cupy()
    switch = TF32Switch(cupy)
    first_in, second_out = threading.Event(), threading.Event()

    def first():
        with switch():
            first_in.set()
            second_out.wait(5)
            assert cupy.state["type"] == TF32, "the second thread's exit must not end the first's TF32"

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait(5)
    with switch():
        pass
    second_out.set()
    thread.join(5)
    assert cupy.state["type"] == DEFAULT and cupy.calls == [TF32, DEFAULT]


@pytest.mark.parametrize("cupy", [_cupy(capability="75"), _cupy(with_setting=False)],
                         ids=["gpu-without-tf32", "cupy-without-the-setting"])
def test_nothing_changes_where_tf32_cannot_be_had(cupy):
    with TF32Switch(cupy)():
        pass
    assert cupy.calls == []
