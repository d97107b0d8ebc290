"""TensorFloat-32 products on the cuda backend: convolutions while
``ember.backends.cudnn.allow_tf32`` (default True), matrix products while
``ember.backends.cuda.matmul.allow_tf32`` (default False), torch's two switches.

CuPy chooses the compute type of its float32 matrix products (cuBLAS) from one
setting per process, ``cupy._core._routines_linalg.set_compute_type``. The switch
below sets it to TF32 while some caller, in any thread, is inside its context, and
back to what it was when the last one leaves: CuPy has no setting per thread, so
the products other threads run meanwhile are TF32 too. One switch serves each CuPy
(:func:`switch_for`), so that the callers of both kinds are counted together.
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


# id(cupy) -> (cupy, its switch)
_SWITCHES = {}


def switch_for(cupy):
    """The one :class:`TF32Switch` of ``cupy`` (a module, or a stand-in for one)."""
    found = _SWITCHES.get(id(cupy))
    if found is None:
        found = _SWITCHES.setdefault(id(cupy), (cupy, TF32Switch(cupy)))
    return found[1]


class MatmulSwitches:
    """``ember.backends.cuda.matmul``, torch's ``torch.backends.cuda.matmul``.

    Attributes:
        allow_tf32: let float32 matrix products on a GPU run on TF32 units (default
            False, as in torch).
    """

    allow_tf32 = False


#: ``ember.backends.cuda.matmul``
matmul = MatmulSwitches()


def tf32_matmul(xp):
    """The cuda backend's ``matmul`` kernel: ``xp.matmul``, on TF32 units for float32
    operands while ``matmul.allow_tf32``."""
    def product(a, b):
        if matmul.allow_tf32 and a.dtype == np.float32 and b.dtype == np.float32:
            with switch_for(xp)():
                return xp.matmul(a, b)
        return xp.matmul(a, b)
    return product
