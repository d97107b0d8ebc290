"""Tensors for tests that run the same code on both libraries: ember's on the
device under test, torch's (the oracle, CPU-only here) on the host."""

import ember


def device_kwargs(lib, device):
    """``{"device": device}`` for ember, nothing for torch: spread into either library's factory call."""
    return {"device": device} if lib is ember else {}


def lib_tensor(lib, data, device, **kwargs):
    """``lib.tensor(data, **kwargs)``, on ``device`` when ``lib`` is ember."""
    return lib.tensor(data, **device_kwargs(lib, device), **kwargs)
