import numpy as np
import pytest

from tests.oracle import check

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_mul_add_broadcast(dtype):
    a = RNG.standard_normal((3, 4)).astype(dtype)
    b = RNG.standard_normal((4,)).astype(dtype)
    check(lambda x, y: (x * y + x).exp().sum(1), [a, b])


@pytest.mark.parametrize("name, default, preset", [
    ("OMP_WAIT_POLICY", "PASSIVE", "ACTIVE"),         # OpenMP workers wait passively
    ("OPENBLAS_THREAD_TIMEOUT", "20", "28"),           # OpenBLAS threads sleep sooner
])
@pytest.mark.parametrize("user_chose", [False, True])
def test_thread_waiting_is_set_at_import_unless_the_user_chose(name, default, preset, user_chose):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != name}
    if user_chose:
        env[name] = preset
    out = subprocess.run([sys.executable, "-c", f"import ember, os; print(os.environ['{name}'])"],
                         env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert out == (preset if user_chose else default)
