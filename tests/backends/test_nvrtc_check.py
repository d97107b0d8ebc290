"""The NVRTC check of tests/cuda_nvrtc.py: it must reject what CUDA lacks and g++ has,
or the emulated kernel tests would pass kernels that do not build on a GPU."""

import numpy as np
import pytest

from ..cuda_emulator import CUPY
from ..cuda_nvrtc import compiler

NVRTC = compiler()
pytestmark = pytest.mark.skipif(NVRTC is None, reason="needs NVRTC and CuPy's headers (the test extra)")


def test_a_kernel_in_cuda_compiles():
    NVRTC.check('extern "C" __global__ void ember_ok(double* x) { x[threadIdx.x] = fmax(x[0], 1.0); }',
                "ember_ok")


@pytest.mark.parametrize("host_only", ["std::max(1.0f, x[0])", "INFINITY", "DBL_MAX"])
def test_host_only_cpp_is_rejected_in_a_raw_kernel(host_only):
    source = f'extern "C" __global__ void ember_bad(float* x) {{ x[0] = {host_only}; }}'
    with pytest.raises(RuntimeError, match="NVRTC rejects kernel ember_bad"):
        CUPY.RawKernel(source, "ember_bad")


def test_host_only_cpp_is_rejected_in_an_elementwise_kernel():
    kernel = CUPY.ElementwiseKernel("T x", "T y", "y = x < T(0) ? -INFINITY : x", "ember_bad_elementwise")
    with pytest.raises(RuntimeError, match="NVRTC rejects kernel ember_bad_elementwise"):
        kernel(np.ones(3, np.float32))


def test_host_only_cpp_is_rejected_in_a_reduction_kernel():
    kernel = CUPY.ReductionKernel("T x", "T y", "x", "std::max(a, b)", "y = a", "0", "ember_bad_reduction")
    with pytest.raises(RuntimeError, match="NVRTC rejects kernel ember_bad_reduction"):
        kernel(np.ones((2, 3), np.float32), axis=1)


def test_the_cupy_form_of_a_reduction_compiles():
    kernel = CUPY.ReductionKernel("T x, T w", "T y", "x * w", "a + b", "y = a", "0", "ember_weighted_sum")
    x, w = np.arange(6, dtype=np.float64).reshape(2, 3), np.full((2, 3), 0.5)
    np.testing.assert_allclose(kernel(x, w, axis=1), (x * w).sum(axis=1))
