"""The cuda backend's TF32 switch (backends/cuda/precision.py) over a stand-in CuPy:
it sets CuPy's float32 compute type to TF32 while any caller is inside, restores
what was there when the last one leaves, and does nothing where the GPU or the
installed CuPy cannot; the matmul kernel enters it while
``ember.backends.cuda.matmul.allow_tf32``."""

import threading
from types import SimpleNamespace

import numpy as np
import pytest

from ember.backends.cuda import precision
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


@pytest.mark.parametrize("allowed,dtype,entered", [(False, np.float32, 0), (True, np.float32, 1),
                                                   (True, np.float64, 0)])
def test_the_matmul_kernel_takes_tf32_while_torchs_matmul_switch_allows_it(allowed, dtype, entered, monkeypatch):
    import contextlib

    contexts = []
    monkeypatch.setattr(precision, "switch_for", lambda cupy: lambda: contexts.append(cupy) or contextlib.nullcontext())
    monkeypatch.setattr(precision.matmul, "allow_tf32", allowed)
    a, b = np.ones((2, 3), dtype), np.ones((3, 4), dtype)
    np.testing.assert_array_equal(precision.tf32_matmul(np)(a, b), np.full((2, 4), 3.0))
    assert contexts == [np] * entered


def test_convolutions_and_matrix_products_share_one_switch_per_cupy():
    """Two switches over one CuPy setting would each restore what the other set."""
    cupy = _cupy()
    assert precision.switch_for(cupy) is precision.switch_for(cupy)
