import numpy as np
import pytest

from tests.oracle import check

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_mul_add_broadcast(dtype):
    a = RNG.standard_normal((3, 4)).astype(dtype)
    b = RNG.standard_normal((4,)).astype(dtype)
    check(lambda x, y: (x * y + x).exp().sum(1), [a, b])
