"""TensorFloat-32 products on the cuda backend (``ember.backends.cudnn.allow_tf32``).

CuPy chooses the compute type of its float32 matrix products (cuBLAS) from one
setting per process, ``cupy._core._routines_linalg.set_compute_type``. The switch
below sets it to TF32 while some caller, in any thread, is inside its context, and
back to what it was when the last one leaves: CuPy has no setting per thread, so
the products other threads run meanwhile are TF32 too.
"""

import contextlib
import threading

import numpy as np

# GPUs from this compute capability (Ampere) on have TF32 units; CuPy warns below it
_TF32_FROM = 80


class TF32Switch:
    """A context factory: within, CuPy's float32 products run in TF32 (where the
    installed CuPy has the setting and the GPU the units; elsewhere it changes nothing)."""

    def __init__(self, cupy):
        linalg = getattr(getattr(cupy, "_core", None), "_routines_linalg", None)
        usable = linalg is not None and hasattr(linalg, "set_compute_type")
        self._linalg = linalg if usable and int(cupy.cuda.Device().compute_capability) >= _TF32_FROM else None
        self._lock = threading.Lock()
        self._inside = 0
        self._before = None

    @contextlib.contextmanager
    def __call__(self):
        linalg = self._linalg
        if linalg is None:
            yield
            return
        with self._lock:
            if not self._inside:
                self._before = linalg.get_compute_type(np.float32)
                linalg.set_compute_type(np.float32, linalg.COMPUTE_TYPE_TF32)
            self._inside += 1
        try:
            yield
        finally:
            with self._lock:
                self._inside -= 1
                if not self._inside:
                    linalg.set_compute_type(np.float32, self._before)
