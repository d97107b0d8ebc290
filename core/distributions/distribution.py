"""``Distribution``: the base of ember's probability distributions."""

from .._size import Size
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad


class Distribution:
    """A batch of probability distributions of one family.

    ``batch_shape`` is the shape of the batch of independent distributions,
    ``event_shape`` the shape of one sample of one of them; a draw with
    ``sample(sample_shape)`` has shape ``sample_shape + batch_shape + event_shape``.

    With ``validate_args`` (on by default; see ``set_default_validate_args``), bad
    parameters raise ``ValueError`` at construction and ``log_prob`` checks its
    value's shape and support.
    """

    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__
    arg_constraints = {}

    @staticmethod
    def set_default_validate_args(value):
        """Turn argument validation on or off for distributions created afterwards
        without an explicit ``validate_args``."""
        if value not in (True, False):
            raise ValueError(f"validate_args must be True or False, but got {value!r}")
        Distribution._validate_args = value

    def __init__(self, batch_shape=Size(), event_shape=Size(), validate_args=None):
        self._batch_shape = Size(batch_shape)
        self._event_shape = Size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            self._check_parameters()

    def _check_parameters(self):
        for name, constraint in self.arg_constraints.items():
            if name not in self.__dict__:
                continue  # the other parametrisation, computed from this one on demand
            value = self.__dict__[name]
            if not bool(constraint.check(value).all()):
                raise ValueError(
                    f"Expected parameter {name} ({type(value).__name__} of shape {tuple(value.shape)}) "
                    f"of distribution {self!r} to satisfy the constraint {constraint!r}, "
                    f"but found invalid values:\n{value}"
                )

    @property
    def batch_shape(self):
        """The shape over which parameters are batched."""
        return self._batch_shape

    @property
    def event_shape(self):
        """The shape of a single sample (without batching)."""
        return self._event_shape

    @property
    def support(self):
        """The constraint that samples satisfy."""
        raise NotImplementedError

    @property
    def mean(self):
        """The mean of each distribution in the batch."""
        raise NotImplementedError

    @property
    def variance(self):
        """The variance of each distribution in the batch."""
        raise NotImplementedError

    @property
    def stddev(self):
        """The standard deviation of each distribution in the batch."""
        return self.variance.sqrt()

    def sample(self, sample_shape=Size()):
        """Draw samples of shape ``sample_shape + batch_shape + event_shape``; no
        gradient flows through them."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=Size()):
        """Draw reparameterised samples, differentiable with respect to the parameters."""
        raise NotImplementedError(f"{type(self).__name__} has no reparameterised sampling (rsample)")

    def sample_n(self, n):
        """``n`` samples: ``sample((n,))``."""
        return self.sample(Size((n,)))

    def log_prob(self, value):
        """The log of the probability density/mass at ``value``."""
        raise NotImplementedError

    def entropy(self):
        """The entropy of each distribution in the batch."""
        raise NotImplementedError

    def perplexity(self):
        """``exp(entropy)``."""
        return self.entropy().exp()

    def _extended_shape(self, sample_shape=Size()):
        return Size(tuple(sample_shape)) + self._batch_shape + self._event_shape

    def _validate_sample(self, value):
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        event_start = value.dim() - len(self._event_shape)
        if tuple(value.shape[event_start:]) != tuple(self._event_shape):
            raise ValueError(f"The right-most size of value must match event_shape: "
                             f"{value.shape} vs {self._event_shape}.")
        expected = self._batch_shape + self._event_shape
        for i, j in zip(reversed(value.shape), reversed(expected)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: "
                                 f"{value.shape} vs {expected}.")
        if not bool(self.support.check(value).all()):
            raise ValueError(
                f"Expected value argument ({type(value).__name__} of shape {tuple(value.shape)}) "
                f"to be within the support ({self.support!r}) of the distribution {self!r}, "
                f"but found invalid values:\n{value}"
            )

    def __repr__(self):
        shown = ", ".join(f"{name}: {value if value.numel() == 1 else value.size()}"
                          for name, value in ((n, self.__dict__[n]) for n in self.arg_constraints
                                              if n in self.__dict__))
        return f"{type(self).__name__}({shown})"
