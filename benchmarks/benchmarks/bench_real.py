"""asv benchmarks of one step of small real programs: a word-level LSTM language
model, a digits CNN trained with Adam, a polynomial regression."""

from . import real_workloads as rw
from .bench_core import BACKENDS, _Workloads


class TimeWordLanguageModel(_Workloads):
    """One SGD step (with gradient clipping) of the 10k-word LSTM language model, batch ``size``."""

    builders = {"sgd_step": rw.word_lm_training_step}
    params = (BACKENDS, [20], list(builders))


class TimeDigitsCNN(_Workloads):
    """One Adam step of the digits CNN (BatchNorm, Dropout) on ``size`` 8x8 images."""

    builders = {"adam_step": rw.digits_cnn_training_step}
    params = (BACKENDS, [64], list(builders))


class TimePolynomialRegression(_Workloads):
    """One SGD step of a degree-4 polynomial fit on a batch of ``size`` points."""

    builders = {"sgd_step": rw.polynomial_regression_step}
    params = (BACKENDS, [32], list(builders))
