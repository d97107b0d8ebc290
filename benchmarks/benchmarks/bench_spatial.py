"""asv benchmarks of the spatial families: convolution, pooling, padding, upsampling,
and a LeNet-5 training step (forward + backward of each, float32)."""

from . import spatial_workloads as sw
from .bench_core import BACKENDS, _Workloads


class TimeConv(_Workloads):
    """Conv2d 64->64 3x3 padding 1 on (size, 64, 32, 32), forward + backward."""

    builders = {"conv2d_3x3": sw.conv2d_3x3}
    params = (BACKENDS, [32], list(builders))


class TimePooling(_Workloads):
    """MaxPool2d(2) and AvgPool2d(2) on (size, 64, 32, 32), forward + backward."""

    builders = {"max_pool2d": sw.max_pool2d, "avg_pool2d": sw.avg_pool2d}
    params = (BACKENDS, [32], list(builders))


class TimePadding(_Workloads):
    """ReflectionPad2d(1) on (size, 64, 32, 32), forward + backward."""

    builders = {"reflection_pad2d": sw.reflection_pad2d}
    params = (BACKENDS, [32], list(builders))


class TimeUpsampling(_Workloads):
    """Upsample x2 (bilinear, nearest) on (size, 64, 32, 32), forward + backward."""

    builders = {"bilinear": sw.upsample_bilinear, "nearest": sw.upsample_nearest}
    params = (BACKENDS, [32], list(builders))


class TimeLeNet5TrainingStep(_Workloads):
    """One SGD step of LeNet-5 on a batch of ``size`` 28x28 images."""

    builders = {"sgd_step": sw.lenet5_training_step}
    params = (BACKENDS, [64], list(builders))


class TimeNormalization(_Workloads):
    """BatchNorm2d(64) training mode on (size, 64, 32, 32), forward + backward."""

    builders = {"batch_norm2d": sw.batch_norm2d}
    params = (BACKENDS, [32], list(builders))
