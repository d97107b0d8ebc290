"""Tolerances for comparing ember with torch on torch's OpInfo samples.

float32 results of different summation orders agree to a few units of 1e-6
relative. Where terms cancel (a gradient entry near 0 made of terms near 5),
what is left is rounding noise on the scale of the largest entry, and it
changes with torch's CPU path (AVX-512, AVX2 or scalar loops): the absolute
tolerance grows with the largest finite magnitude of the expected result.
"""

import numpy as np

_BASE = {"float64": dict(rtol=1e-6, atol=1e-8), "float32": dict(rtol=2e-4, atol=2e-5)}


def tolerance(dtype_name, expected):
    """assert_allclose keywords for results of ``dtype_name`` near the array ``expected``
    (exact for integers and bools)."""
    base = _BASE.get(dtype_name)
    if base is None:
        return dict(rtol=0, atol=0)
    finite = np.abs(expected[np.isfinite(expected)]) if expected.size else expected
    scale = float(finite.max(initial=1.0)) if dtype_name == "float32" else 1.0
    return dict(rtol=base["rtol"], atol=base["atol"] * max(scale, 1.0))
