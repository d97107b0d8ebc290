"""asv benchmarks of whole training steps (MLPs, a ResNet basic block) and of
optimizer updates alone."""

import ember

from . import training_workloads as tw
from .bench_core import _Workloads

BACKENDS = ["cpu", "cuda"]


class TimeMLPTrainingStep:
    """One training step of the digits MLP (64-128-10) on a batch of ``batch`` rows."""

    params = (BACKENDS, [64])
    param_names = ["backend", "batch"]

    def setup(self, backend, batch):
        if backend == "cuda" and not ember.cuda.is_available():
            raise NotImplementedError("the cuda backend is not available here")
        step = tw.mlp_training_step(ember, backend, batch)
        if backend == "cpu":
            self.run = step
        else:
            def run():
                step()
                ember.cuda.synchronize()

            self.run = run
        self.run()

    def time_step(self, backend, batch):
        """Forward, cross-entropy, backward and SGD update."""
        self.run()


class TimeMLP784TrainingStep(_Workloads):
    """One SGD-with-momentum step of a 784-512-512-10 MLP on a batch of ``size`` rows."""

    builders = {"sgd_step": tw.mlp_784_training_step}
    params = (BACKENDS, [128], list(builders))


class TimeResNetBlockTrainingStep(_Workloads):
    """One SGD-with-momentum step of a ResNet basic block on (size, 64, 32, 32)."""

    builders = {"sgd_step": tw.resnet_block_training_step}
    params = (BACKENDS, [16], list(builders))


class TimeOptimizerStep(_Workloads):
    """``optimizer.step()`` alone over ``size`` parameters in 4 tensors, gradients set once."""

    builders = {"sgd_momentum": tw.sgd_momentum_step, "adam": tw.adam_step}
    params = (BACKENDS, [10**6], list(builders))
