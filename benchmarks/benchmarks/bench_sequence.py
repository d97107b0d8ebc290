"""asv benchmarks of the recurrent and sparse families (forward + backward, float32)."""

from . import sequence_workloads as qw
from .bench_core import BACKENDS, _Workloads


class TimeRecurrent(_Workloads):
    """2-layer LSTM and GRU (input 200, hidden 200, 35 steps) on a batch of ``size``."""

    builders = {"lstm": qw.lstm, "gru": qw.gru}
    params = (BACKENDS, [20], list(builders))


class TimeEmbeddingBag(_Workloads):
    """EmbeddingBag mean over a 10000 x 64 table, ``size`` bags of 20 indices."""

    builders = {"mean": qw.embedding_bag_mean}
    params = (BACKENDS, [512], list(builders))
