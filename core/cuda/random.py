"""The seeds and states of the GPUs' random generators, as torch.cuda gives them.

Each GPU has its own generator in the backend. Without a GPU the seeding functions
and the state setters do nothing, silently, as in torch, so that a script seeding
"everything" runs anywhere. A state is the generator's cuRAND states (one per thread
of its drawing kernels) as a uint8 CPU tensor: a state read on one GPU may be set on
another, but not on a machine whose CuPy draws with another layout.
"""

import numpy as np

from .._generator import _seed_value, fresh_seed
from . import _runtime
from ._runtime import current_device, device_index

__all__ = ["get_rng_state", "get_rng_state_all", "initial_seed", "manual_seed", "manual_seed_all", "seed",
           "seed_all", "set_rng_state", "set_rng_state_all"]


def get_rng_state(device="cuda"):
    """Return the state of GPU ``device``'s generator (the current GPU for
    ``"cuda"``) as a uint8 CPU tensor. AssertionError without a GPU."""
    import ember

    be = _runtime.lazy_init()
    state = be.generator_state(device_index(device, optional=True))
    return ember.tensor(be.to_host(state).view(np.uint8).reshape(-1))


def get_rng_state_all():
    """Return the states of every GPU's generator (an empty list without a GPU)."""
    return [get_rng_state(i) for i in range(_device_count())]


def set_rng_state(new_state, device="cuda"):
    """Set GPU ``device``'s generator to ``new_state``, a uint8 CPU tensor from
    :func:`get_rng_state`; nothing without a GPU. RuntimeError for a state of
    another size."""
    if not _runtime.available():
        return
    be = _runtime.lazy_init()
    index = device_index(device, optional=True)
    now = be.generator_state(index)
    data = new_state.detach().cpu().numpy()
    if data.dtype != np.uint8 or data.nbytes != now.nbytes:
        raise RuntimeError(f"set_rng_state expects the uint8 tensor of {now.nbytes} bytes that get_rng_state "
                           f"gives, got {data.dtype} of {data.nbytes} bytes")
    be.set_generator_state(index, be.from_host(np.ascontiguousarray(data).view(now.dtype).reshape(now.shape), index))


def set_rng_state_all(new_states):
    """Set every GPU's generator, GPU ``i`` to ``new_states[i]``."""
    for i, state in enumerate(new_states):
        set_rng_state(state, i)


def _device_count():
    return _runtime.backend().device_count() if _runtime.available() else 0


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
