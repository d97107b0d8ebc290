"""The ``cuda`` backend plugin: CuPy arrays on NVIDIA GPUs.

CuPy is imported lazily, on the first question that needs it, so ``import ember``
stays fast and works on machines without CuPy or a GPU; there the backend reports
itself unavailable with the reason.
"""

from ember.cuda.graphs import refuse_during_capture
from ember.hookspecs import hookimpl
from ember.kernels import table

from .checks import DeferredChecks
from .kernels import KERNELS
from .precision import matmul, switch_for  # noqa: F401  (matmul: ember.backends.cuda.matmul.allow_tf32)
from .runtime import Runtime, raising_torchs_error


def _curand_states(generator):
    """The device array of a CuPy ``Generator``'s cuRAND states (one per thread of its
    drawing kernels), which is all its state: a private attribute of CuPy's."""
    return generator.bit_generator._state


class CUDABackend(Runtime):
    """GPU memory through CuPy; one random generator per device. A device index of
    None means the calling thread's current device (see ``ember.cuda.set_device``)."""

    name = "cuda"

    def __init__(self):
        self._cupy = None
        self._reason = None
        self._seed = 67280421310721
        self._seeds = {}       # device index -> seed given to that device alone
        self._generators = {}
        self._used = set()     # indices of the devices used so far
        self._initialized = False
        self._checks = None

    def _load(self):
        if self._cupy is not None or self._reason is not None:
            return self._cupy
        try:
            import cupy
        except ImportError as exc:
            self._reason = (f"CuPy is not installed ({exc}); install it with "
                            "`pip install ember[cuda]` (cupy-cuda12x) on a machine with an NVIDIA GPU")
            return None
        try:
            if not cupy.cuda.is_available():
                self._reason = ("CuPy found no usable NVIDIA GPU (no device or no driver); run on a "
                                "machine with a GPU and a working CUDA driver")
                return None
        except Exception as exc:
            self._reason = f"CuPy could not query the GPU: {exc}"
            return None
        try:  # CuPy's allocator (its default pool, unless the user chose another) for every thread
            cupy.cuda.set_allocator(raising_torchs_error(cupy, cupy.cuda.get_allocator()))
        except ValueError:  # CuPy refuses within cupy.cuda.using_allocator: left as the caller set it
            pass
        self._cupy = cupy
        return cupy

    @property
    def xp(self):
        cupy = self._load()
        if cupy is None:
            raise RuntimeError(f"the 'cuda' backend is not available: {self._reason}")
        return cupy

    @property
    def version(self):
        cupy = self._load()
        return "cupy " + cupy.__version__ if cupy is not None else "unavailable"

    def is_available(self):
        return self._load() is not None

    def unavailable_reason(self):
        self._load()
        return self._reason or ""

    def device_count(self):
        cupy = self._load()
        return cupy.cuda.runtime.getDeviceCount() if cupy is not None else 0

    def device_index(self, array):
        return array.device.id

    def _device(self, index):
        dev = self.xp.cuda.Device(index)  # None: the current device
        self._used.add(dev.id)
        return dev

    def from_host(self, array, index):
        refuse_during_capture("host copy")
        with self._device(index):
            return self.xp.asarray(array)

    def to_host(self, array):
        refuse_during_capture("host read")
        host = array.get()  # synchronises with the device
        self.deferred_checks.raise_failed()
        return host

    def tf32_products(self):
        """A context within which float32 matrix products may run in TF32 (see :mod:`.precision`)."""
        return switch_for(self.xp)()

    @property
    def deferred_checks(self):
        """The checks of device values waiting for the next synchronisation
        (see :mod:`.checks`); ``ember.backend.assert_on_device`` fills them."""
        if self._checks is None:
            self._checks = DeferredChecks(self.xp)
        return self._checks

    def full(self, shape, fill, dtype, index):
        with self._device(index):
            return self.xp.full(shape, fill, dtype=dtype)

    def data_ptr(self, array):
        return array.data.ptr

    def generator(self, index):
        index = self.current_device() if index is None else index
        gen = self._generators.get(index)
        if gen is None:
            with self._device(index):
                gen = self._generators[index] = self.xp.random.default_rng(self.initial_seed(index))
        return gen

    def manual_seed(self, seed, index=None):
        """Reseed device ``index`` (every device when None). A generator that exists is
        reseeded in place: a CUDA graph that captured draws from it keeps its state's
        address, and draws from the new seed at its next replays."""
        refuse_during_capture("seed")
        if index is None:
            self._seed = seed
            self._seeds.clear()
        else:
            self._seeds[index] = seed
        for i, gen in self._generators.items():
            if index in (None, i):
                with self._device(i):
                    fresh = self.xp.random.default_rng(self.initial_seed(i))
                    _curand_states(gen)[...] = _curand_states(fresh)

    def generator_state(self, index):
        """A copy, on the GPU, of device ``index``'s generator state: no host round
        trip, so that checkpointing a step saves and replays its random draws."""
        with self._device(index):
            return _curand_states(self.generator(index)).copy()

    def set_generator_state(self, index, state):
        """Restore a state from :meth:`generator_state` (a device array of its size),
        in place: a CUDA graph that captured draws keeps reading the same memory."""
        with self._device(index):
            _curand_states(self.generator(index))[...] = state

    def initial_seed(self, index):
        return self._seeds.get(index, self._seed)

    def synchronize(self, index=None):
        refuse_during_capture("synchronize")
        self._device(index).synchronize()
        self.deferred_checks.raise_failed()


BACKEND = CUDABackend()


@hookimpl
def ember_register_backends():
    return [BACKEND]


@hookimpl
def ember_register_kernels():
    return table(cuda=KERNELS)
