"""``checked``: a third-party backend for ember's tests, written from docs/backends.rst.

It holds NumPy arrays on a device of its own, ``"checked"``, so every op runs the
generic kernels (the ones CuPy runs) rather than the cpu backend's Cython ones.
Its array namespace is NumPy behind a guard: every function it serves has its
results checked to be arrays or scalars of a dtype ember knows, never object
arrays, matrices or other array types, so a kernel that returns something a
backend could not hold fails at once, naming the function.
"""

import numpy as np

import ember

#: The dtypes an ember tensor may hold.
DTYPES = frozenset(np.dtype(t) for t in (
    np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64,
    np.float16, np.float32, np.float64, np.complex64, np.complex128))


class KernelOutputError(AssertionError):
    """A function of the namespace returned something a tensor cannot hold."""


def _check(result, name):
    if isinstance(result, (tuple, list)):
        for item in result:
            _check(item, name)
    elif isinstance(result, np.ndarray):
        if type(result) is not np.ndarray:
            raise KernelOutputError(f"xp.{name} returned a {type(result).__name__}, not an ndarray")
        if result.dtype not in DTYPES:
            raise KernelOutputError(f"xp.{name} returned an array of dtype {result.dtype}")
    elif isinstance(result, np.generic) and np.dtype(type(result)) not in DTYPES:
        raise KernelOutputError(f"xp.{name} returned a scalar of dtype {np.dtype(type(result))}")
    return result


class _Guarded:
    """A NumPy function or ufunc whose results are checked; its attributes
    (``ufunc.at``, ``ufunc.reduce``...) are guarded the same way."""

    def __init__(self, fn, name):
        self._fn = fn
        self._name = name

    def __call__(self, *args, **kwargs):
        return _check(self._fn(*args, **kwargs), self._name)

    def __getattr__(self, attr):
        value = getattr(self._fn, attr)
        return _Guarded(value, f"{self._name}.{attr}") if callable(value) and not isinstance(value, type) else value


class GuardedNumPy:
    """NumPy as an array namespace, with every function's results checked."""

    def __getattr__(self, name):
        value = getattr(np, name)
        if callable(value) and not isinstance(value, type):
            return _Guarded(value, name)
        return value


class CheckedBackend:
    """The ``checked`` device: host memory, one device, its own random generator."""

    name = "checked"
    xp = GuardedNumPy()
    version = "checked (numpy " + np.__version__ + ")"

    def __init__(self):
        self._generator = np.random.default_rng(2024)

    def is_available(self):
        return True

    def unavailable_reason(self):
        return ""

    def device_count(self):
        return 1

    def device_index(self, array):
        return None

    def from_host(self, array, index):
        return np.array(array, copy=True)

    def to_host(self, array):
        return np.asarray(array)

    def full(self, shape, fill, dtype, index):
        return np.full(shape, fill, dtype=dtype)

    def data_ptr(self, array):
        return array.__array_interface__["data"][0]

    def generator(self, index):
        return self._generator

    def manual_seed(self, seed):
        self._generator = np.random.default_rng(seed)

    def synchronize(self, index=None):
        pass


BACKEND = CheckedBackend()


@ember.hookimpl
def ember_register_backends():
    return [BACKEND]
