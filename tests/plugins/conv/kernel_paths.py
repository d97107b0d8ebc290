"""What the tests of the convolution's kernel paths (Winograd, direct) share: inputs,
tolerances, the comparison with torch, and the count of a kernel module's calls."""

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


def counted_calls(monkeypatch, module, device):
    """The body of a fixture: counts the calls of ``module.conv2d`` and
    ``module.conv2d_weight_grad`` by name, yields the counts, and at teardown checks
    that a backend other than the CPU (which has no such kernels) made none."""
    calls = {"conv2d": 0, "conv2d_weight_grad": 0}
    for name in calls:
        def counted(*args, _fn=getattr(module, name), _name=name):
            calls[_name] += 1
            return _fn(*args)
        monkeypatch.setattr(module, name, counted)
    yield calls
    if device != "cpu":
        assert calls == {"conv2d": 0, "conv2d_weight_grad": 0}
