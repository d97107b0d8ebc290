"""The categorical distribution over ``0 .. K-1``."""

import math

import numpy as np

from .._creation import full
from .._random import multinomial
from .._size import Size
from .._tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import lazy_property, logits_to_probs, probs_to_logits


class Categorical(Distribution):
    """Distributions over the classes ``0 .. K-1``, given by ``probs`` (non-negative,
    normalised along the last dimension) or ``logits`` (unnormalised log-probabilities),
    not both. Leading dimensions of the parameter are the batch.

    Example::

        >>> m = ember.distributions.Categorical(ember.tensor([0.25, 0.25, 0.5]))
        >>> m.sample((4,)).shape
        ember.Size([4])
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        given, name = (probs, "probs") if probs is not None else (logits, "logits")
        if not isinstance(given, Tensor):
            raise TypeError(f"`{name}` must be a Tensor, but got {type(given).__name__}")
        if given.dim() < 1:
            raise ValueError(f"`{name}` parameter must be at least one-dimensional.")
        if probs is not None:
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = self._param.size(-1)
        batch = self._param.size()[:-1] if self._param.dim() > 1 else Size()
        super().__init__(batch, validate_args=validate_args)

    @lazy_property
    def logits(self):
        """Normalised log-probabilities (``log`` of the clamped ``probs``)."""
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self):
        """Probabilities (``softmax`` of the ``logits``)."""
        return logits_to_probs(self.logits)

    @property
    def param_shape(self):
        """The shape of the parameter: ``batch_shape + (K,)``."""
        return self._param.size()

    @property
    def support(self):
        """The integers ``0 .. K-1``."""
        return constraints.integer_interval(0, self._num_events - 1)

    @property
    def mean(self):
        """Undefined for classes: NaN."""
        return full(self._extended_shape(), math.nan, dtype=self.probs.dtype, device=self.probs.device)

    @property
    def variance(self):
        """Undefined for classes: NaN."""
        return self.mean

    def sample(self, sample_shape=Size()):
        """Class indices (int64) of shape ``sample_shape + batch_shape``."""
        sample_shape = Size(tuple(sample_shape))
        probs_2d = self.probs.detach().reshape(-1, self._num_events)
        draws = multinomial(probs_2d, int(np.prod(sample_shape, dtype=np.int64)), True).t()
        return draws.reshape(self._extended_shape(sample_shape))

    def log_prob(self, value):
        """The log-probability of class ``value``."""
        if self._validate_args:
            self._validate_sample(value)
        value = value.long().unsqueeze(-1)
        shape = np.broadcast_shapes(tuple(value.shape), tuple(self.logits.shape))
        index = value.expand(shape)[..., :1]
        return self.logits.expand(shape).gather(-1, index).squeeze(-1)

    def entropy(self):
        """``-sum(p log p)`` over the classes (with ``0 log 0 = 0``)."""
        smallest = float(np.finfo(self.logits.dtype.np).min)
        return -(self.logits.clamp(min=smallest) * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        """All classes ``0 .. K-1`` along a new leading dimension (expanded over the batch)."""
        from .._creation import arange

        values = arange(self._num_events, device=self._param.device)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + tuple(self._batch_shape)) if expand else values
