"""``ember.Generator``: a random number generator object that ``generator=`` arguments take.

A generator draws through a NumPy ``Generator`` (PCG64). ``ember.default_generator``
does not own one: it is a view of the CPU backend's generator, the one every draw
without ``generator=`` uses and ``ember.manual_seed`` seeds, so the CPU random state
has one home (the backend) whichever way it is read or written.

``get_state()`` gives the state as a uint8 tensor: the bit generator's state (and the
initial seed) serialised as JSON text behind a magic line. It is ember's own format,
not torch's bytes; ``set_state`` takes back what ``get_state`` gave.
"""

import json
import numbers
import operator

import numpy as np

from ._device import device as _device_type
from .backend import REGISTRY

DEFAULT_SEED = 67280421310721  # torch's seed of a fresh generator
_SEED_MASK = 0xFFFF_FFFF_FFFF_FFFF
_MAGIC = b"ember.Generator state v1\n"


def _seed_value(seed):
    """``seed`` as torch stores it: an integer in [-2**63, 2**64), negatives wrapped modulo 2**64."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (numbers.Integral, np.integer)):
        raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
    seed = operator.index(seed)
    if not -(1 << 63) <= seed <= _SEED_MASK:
        raise ValueError(f"manual_seed: the seed must lie in [-2**63, 2**64 - 1], got {seed}")
    return seed & _SEED_MASK


def fresh_seed():
    """A 64-bit seed from the operating system's entropy."""
    return np.random.SeedSequence().entropy & _SEED_MASK


class Generator:
    """A source of random numbers with its own state, for the ``generator=`` argument of
    ``rand``, ``randn``, ``randint``, ``randperm``, ``normal``, ``bernoulli``,
    ``multinomial``, the in-place ``Tensor.*_`` draws and the data samplers.

    Args:
        device: where the tensors it draws for live (``'cpu'`` only).

    Example:
        >>> g = ember.Generator().manual_seed(0)
        >>> a = ember.rand(3, generator=g)
        >>> b = ember.rand(3, generator=ember.Generator().manual_seed(0))
        >>> bool((a == b).all())
        True
    """

    def __init__(self, device="cpu"):
        dev = _device_type(device) if not isinstance(device, int) else _device_type("cuda", device)
        REGISTRY.usable(dev.type)
        if dev.type != "cpu":
            raise NotImplementedError(
                f"ember.Generator(device='{dev}'): only CPU generators can be made; draws on "
                f"{dev.type} use that device's own generator (seeded by ember.manual_seed)")
        self._device = dev
        self._seed = DEFAULT_SEED
        self._own = np.random.default_rng(DEFAULT_SEED)

    @property
    def device(self):
        """The device this generator draws for."""
        return self._device

    @property
    def numpy_generator(self):
        """The NumPy ``Generator`` that the draws come from."""
        return self._own

    def _reseed(self, seed):
        self._own = np.random.default_rng(seed)

    def manual_seed(self, seed):
        """Reset the state from the integer ``seed`` (negatives count modulo 2**64);
        returns the generator itself."""
        seed = _seed_value(seed)
        self._reseed(seed)
        self._seed = seed
        return self

    def seed(self):
        """Reseed from the operating system's entropy; returns the seed used."""
        seed = fresh_seed()
        self.manual_seed(seed)
        return seed

    def initial_seed(self):
        """The seed of the last ``manual_seed``/``seed`` (or of a state set since)."""
        return self._seed

    def get_state(self):
        """The current state as a uint8 tensor, for ``set_state``."""
        from ._tensor import Tensor

        text = json.dumps({"seed": self._seed, "bit_generator": self.numpy_generator.bit_generator.state})
        return Tensor._make(np.frombuffer(_MAGIC + text.encode(), dtype=np.uint8).copy(), REGISTRY.get("cpu"))

    def set_state(self, new_state):
        """Restore a state that ``get_state`` returned; the draws then repeat those made
        after it was taken. Returns the generator itself."""
        seed, state = _parse_state(new_state)
        try:
            self.numpy_generator.bit_generator.state = state
        except (TypeError, ValueError, KeyError) as e:
            raise RuntimeError(f"set_state: the state does not fit this generator's "
                               f"{type(self.numpy_generator.bit_generator).__name__}: {e}") from None
        self._seed = seed
        return self

    def clone_state(self):
        """A new generator on the same device, in the same state."""
        return Generator(self._device).set_state(self.get_state())

    def __reduce__(self):
        return _restored, (str(self._device), bytes(self.get_state()._data))

    def __repr__(self):
        return f"<ember.Generator device='{self._device}' initial_seed={self._seed}>"


def _restored(device, state):
    """A generator in the pickled ``state`` (what ``Generator.__reduce__`` names)."""
    from ._tensor import Tensor

    raw = Tensor._make(np.frombuffer(state, dtype=np.uint8).copy(), REGISTRY.get("cpu"))
    return Generator(device).set_state(raw)


def _parse_state(new_state):
    """(initial seed, NumPy bit generator state) from a tensor ``get_state`` returned."""
    from ._tensor import Tensor

    if not isinstance(new_state, Tensor):
        raise TypeError(f"expected an ember.ByteTensor (a uint8 tensor from get_state()), "
                        f"but got {type(new_state).__name__}")
    if new_state._data.dtype != np.uint8:
        raise TypeError(f"RNG state must be an ember.ByteTensor (uint8), got dtype {new_state.dtype}")
    raw = np.ascontiguousarray(new_state._be.to_host(new_state._data)).reshape(-1).tobytes()
    if not raw.startswith(_MAGIC):
        raise RuntimeError(f"set_state: the {len(raw)} bytes given are not a state from ember's "
                           f"Generator.get_state()/get_rng_state() (torch's RNG states do not transfer)")
    try:
        content = json.loads(raw[len(_MAGIC):].decode())
        return _seed_value(content["seed"]), content["bit_generator"]
    except (ValueError, KeyError, TypeError, RuntimeError) as e:
        raise RuntimeError(f"set_state: the generator state is damaged ({e})") from None


class _BackendGenerator(Generator):
    """The generator a backend keeps for one device, seen as an ``ember.Generator``:
    reads and writes go to the backend's own generator."""

    def __init__(self, backend_name):
        self._device = _device_type(backend_name)
        self._seed = DEFAULT_SEED

    @property
    def numpy_generator(self):
        return REGISTRY.get(self._device.type).generator(self._device.index)

    def _reseed(self, seed):
        REGISTRY.get(self._device.type).manual_seed(seed)


default_generator = _BackendGenerator("cpu")


def numpy_source(generator, be, index):
    """The NumPy-API generator to draw from for device ``index`` of backend ``be``:
    that device's own when ``generator`` is None, an ``ember.Generator``'s (checking its
    device), or ``generator`` itself when it has NumPy's ``Generator`` API."""
    if generator is None:
        return be.generator(index)
    if isinstance(generator, Generator):
        if generator._device.type != be.name:
            raise RuntimeError(f"Expected a '{be.name}' device type for generator but found "
                               f"'{generator._device.type}'")
        return generator.numpy_generator
    if not callable(getattr(generator, "random", None)):
        raise TypeError(f"generator must be an ember.Generator (or a NumPy Generator), "
                        f"not {type(generator).__name__}")
    return generator
