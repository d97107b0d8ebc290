"""``ember.cuda``: questions about the cuda backend (availability, devices, sync)."""

from .backend import REGISTRY


def _backend():
    return REGISTRY.backends.get("cuda")


def is_available():
    """True when the cuda backend plugin is loaded and CuPy sees a GPU."""
    be = _backend()
    return be is not None and be.is_available()


def device_count():
    """How many GPUs the cuda backend sees (0 without CuPy or GPU)."""
    be = _backend()
    return be.device_count() if be is not None else 0


def synchronize(device=None):
    """Wait for queued GPU work to finish."""
    REGISTRY.usable("cuda").synchronize(device)


def manual_seed(seed):
    """Seed the generators of every GPU."""
    be = _backend()
    if be is not None:
        be.manual_seed(int(seed))


manual_seed_all = manual_seed
