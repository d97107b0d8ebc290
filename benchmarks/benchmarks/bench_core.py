"""asv benchmarks of the core family: per-op overhead, fused elementwise kernels, matmul."""

import ember

from . import workloads

BACKENDS = ["cpu", "cuda"]


def _build(builder, backend, size):
    """Make a workload on ``backend`` and run it once, untimed.

    asv re-runs ``setup`` before every timed call; the untimed call keeps one-off
    costs (waking idle BLAS and OpenMP threads, first use of fresh buffers) out of
    the samples. A backend that is not available raises NotImplementedError,
    which asv reports as a skip.
    """
    if backend == "cuda" and not ember.cuda.is_available():
        raise NotImplementedError("the cuda backend is not available here")
    run = builder(ember, backend, size)
    if backend != "cpu":
        unsynced = run

        def run():
            unsynced()
            ember.cuda.synchronize()

    run()
    return run


class _Workloads:
    """Times one call of ``builders[workload]``, built on ``backend`` at ``size`` in setup."""

    param_names = ["backend", "size", "workload"]
    builders = {}

    def setup(self, backend, size, workload):
        self.run = _build(self.builders[workload], backend, size)

    def time_run(self, backend, size, workload):
        """One call of the workload."""
        self.run()


class TimeSmallOpChain(_Workloads):
    """A chain of 11 ops (``workloads.chain``) on (size, size) tensors: per-op overhead."""

    builders = {
        "forward_no_grad": workloads.chain_forward,
        "forward_backward": workloads.chain_backward,
    }
    params = (BACKENDS, [4, 64], list(builders))


class TimeElementwise(_Workloads):
    """Fused elementwise kernels on ``size`` float32 elements."""

    builders = {
        "sigmoid": workloads.sigmoid_forward,
        "sigmoid_forward_backward": workloads.sigmoid_backward,
        "tanh_backward": workloads.tanh_backward,
    }
    params = (BACKENDS, [10**4, 10**6], list(builders))


class TimeMatmul(_Workloads):
    """Square float32 matmul of side ``size``."""

    builders = {
        "forward": workloads.matmul_forward,
        "forward_backward": workloads.matmul_backward,
    }
    params = (BACKENDS, [256, 1024], list(builders))
