"""The Bernoulli distribution over ``{0, 1}``."""

import numbers

from .._random import bernoulli
from .._size import Size
from ..autograd.grad_mode import no_grad
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, lazy_property, logits_to_probs, probs_to_logits


def _log1p_exp(x):
    """``log(1 + exp(x))`` without overflow."""
    return x.clamp(min=0) + (-x.abs()).exp().log1p()


class Bernoulli(Distribution):
    """Distributions over ``{0, 1}`` that give 1 with probability ``probs``, or with
    log-odds ``logits`` (numbers or tensors; give one of the two).

    Example::

        >>> m = ember.distributions.Bernoulli(ember.tensor([0.3]))
        >>> m.sample().shape
        ember.Size([1])
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        given = probs if probs is not None else logits
        (param,) = broadcast_all(given)
        if probs is not None:
            self.probs = param
        else:
            self.logits = param
        self._param = param
        batch = Size() if isinstance(given, numbers.Number) else param.size()
        super().__init__(batch, validate_args=validate_args)

    @lazy_property
    def logits(self):
        """Log-odds of 1 (from the clamped ``probs``)."""
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        """Probability of 1 (``sigmoid`` of the ``logits``)."""
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        """The shape of the parameter (the batch shape)."""
        return self._param.size()

    @property
    def mean(self):
        """``probs``."""
        return self.probs

    @property
    def variance(self):
        """``probs * (1 - probs)``."""
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=Size()):
        """0/1 draws (in the parameter's dtype) of shape ``sample_shape + batch_shape``."""
        shape = self._extended_shape(sample_shape)
        with no_grad():
            return bernoulli(self.probs.expand(shape))

    def log_prob(self, value):
        """``value * logits - log(1 + exp(logits))``: the negated binary cross-entropy."""
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return logits * value - _log1p_exp(logits)

    def entropy(self):
        """The binary cross-entropy of ``probs`` with itself."""
        return _log1p_exp(self.logits) - self.logits * self.probs

    def enumerate_support(self, expand=True):
        """The values 0 and 1 along a new leading dimension (expanded over the batch)."""
        from .._creation import arange

        values = arange(2, dtype=self._param.dtype, device=self._param.device)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + tuple(self._batch_shape)) if expand else values
