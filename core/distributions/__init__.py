"""``ember.distributions``: probability distributions with sampling, log-densities and
entropies, differentiable with respect to their parameters, as ``torch.distributions``
(``Normal``, ``Uniform``, ``Categorical``, ``Bernoulli``)."""

from . import constraints
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .normal import Normal
from .uniform import Uniform

__all__ = ["Distribution", "Normal", "Uniform", "Categorical", "Bernoulli", "constraints"]
