"""The seeds of the GPUs' random generators, as torch.cuda sets them.

Each GPU has its own generator in the backend. Without a GPU the seeding functions do
nothing, silently, as in torch, so that a script seeding "everything" runs anywhere.
The generators' states cannot be read or written (no ``get_rng_state``): CuPy keeps
them on the device, with no API to copy them.
"""

from .._generator import _seed_value, fresh_seed
from . import _runtime
from ._runtime import current_device

__all__ = ["initial_seed", "manual_seed", "manual_seed_all", "seed", "seed_all"]


def manual_seed(seed):
    """Seed the generator of the current GPU with the integer ``seed`` (negatives count
    modulo 2**64). Seed every GPU with :func:`manual_seed_all`."""
    seed = _seed_value(int(seed))
    if _runtime.available():
        _runtime.backend().manual_seed(seed, current_device())


def manual_seed_all(seed):
    """Seed the generator of every GPU with the integer ``seed``."""
    seed = _seed_value(int(seed))
    if _runtime.available():
        _runtime.backend().manual_seed(seed)


def seed():
    """Seed the generator of the current GPU from the operating system's entropy."""
    manual_seed(fresh_seed())


def seed_all():
    """Seed the generators of every GPU with one seed from the operating system's entropy."""
    manual_seed_all(fresh_seed())


def initial_seed():
    """Return the seed the current GPU's generator started from. AssertionError without a GPU."""
    return _runtime.lazy_init().initial_seed(current_device())
