"""A family's real kernel calls, replayed through its cuda kernel (emulated, see
tests/cuda_emulator.py) and its generic kernel, so that a family's cuda tests check
the arguments its layers actually pass (shapes, strides, options) as well as the
ones the tests choose.
"""

import numpy as np

from ember.backend import REGISTRY

from ..cuda_emulator import generic, on_device


def replayed_on_device(monkeypatch, op):
    """A list that receives, for every call of ``op`` on the cpu backend while the
    test runs, the pair ``(cuda result, generic result)`` computed from the call's
    arguments at once (the family may reuse them as workspace afterwards); the
    family itself goes on with the cpu kernel's result. Each call must be one the
    cuda kernel takes (its ``accepts``), so the pairs check what runs on a GPU."""
    table = REGISTRY.get("cpu").kernels
    cpu, device, reference = table[op], on_device(op), generic(op)
    accepts = REGISTRY.kernels[(op, "cuda")].accepts
    calls = []

    def replaying(*args):
        assert accepts is None or accepts(*args), f"{op}: the cuda kernel refuses the family's call"
        calls.append((device(*args), reference(*args)))
        return cpu(*args)

    monkeypatch.setitem(table, op, replaying)
    return calls


def assert_same_results(got, want, **tol):
    """``got`` and ``want`` (arrays, None, or tuples of them) agree: the same
    structure, dtypes and shapes, and values within ``tol``."""
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            assert_same_results(g, w, **tol)
    elif want is None:
        assert got is None
    else:
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, **tol)
