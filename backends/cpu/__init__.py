"""The ``cpu`` backend plugin: NumPy arrays, with Cython kernels where they pay off."""

import numpy as np

from ember.hookspecs import hookimpl

from . import heap, kernels, optim, softmax


class CPUBackend:
    """Host memory through NumPy; one device, one random generator."""

    name = "cpu"
    xp = np
    version = "numpy " + np.__version__

    def __init__(self):
        self._generator = np.random.default_rng(67280421310721)
        # torch semantics: overflow, 0/0 and x/0 give inf/nan silently, never a warning
        np.seterr(divide="ignore", invalid="ignore", over="ignore", under="ignore")
        heap.keep_freed_memory()

    def is_available(self):
        return True

    def unavailable_reason(self):
        return ""

    def device_count(self):
        return 1

    def device_index(self, array):
        return None

    def from_host(self, array, index):
        return np.asarray(array)

    def to_host(self, array):
        return array

    def full(self, shape, fill, dtype, index):
        return np.full(shape, fill, dtype=dtype)

    def data_ptr(self, array):
        return array.__array_interface__["data"][0]

    def generator(self, index):
        return self._generator

    def manual_seed(self, seed):
        self._generator = np.random.default_rng(seed)

    def generator_state(self, index):
        """The generator's state (NumPy's ``bit_generator.state``, a dict)."""
        return self._generator.bit_generator.state

    def set_generator_state(self, index, state):
        """Restore a state from :meth:`generator_state`."""
        self._generator.bit_generator.state = state

    def synchronize(self, index=None):
        pass


BACKEND = CPUBackend()


@hookimpl
def ember_register_backends():
    return [BACKEND]


@hookimpl
def ember_register_kernels():
    return {(op, "cpu"): fn for table in (kernels.KERNELS, optim.KERNELS, softmax.KERNELS) for op, fn in table.items()}
