"""What the tests of the convolution's kernel paths (Winograd, direct) share: inputs,
tolerances and the comparison with torch."""

import numpy as np

import ember
import ember.nn.functional as EF
from tests.oracle import as_numpy, torch
from tests.plugins.library_tensors import lib_tensor

TF = torch.nn.functional

# as test_conv.py's first-order backward (float64) and its float32 case with long sums
TOLERANCE = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-4)}
WEIGHT_ATOL32 = 5e-4


def random_array(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def compare_with_torch(name, x, w, b, kw, device, dtype, g_seed=3):
    """Output and gradients of input, weight and bias: ember (array path) against torch."""
    results = []
    for lib, F in ((ember, EF), (torch, TF)):
        ts = [lib_tensor(lib, a, device, requires_grad=True) for a in (x, w) + ((b,) if b is not None else ())]
        y = getattr(F, name)(*ts, **kw)
        y.backward(lib_tensor(lib, random_array(tuple(y.shape), dtype, g_seed), device))
        results.append([as_numpy(y)] + [as_numpy(t.grad) for t in ts])
    for i, (e, t) in enumerate(zip(*results)):
        tol = dict(TOLERANCE[dtype])
        if i == 2 and dtype == np.float32:
            tol["atol"] = WEIGHT_ATOL32
        np.testing.assert_allclose(e, t, **tol, err_msg=f"{name} result {i}")
