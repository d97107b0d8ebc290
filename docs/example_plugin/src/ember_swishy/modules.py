"""The family's modules: one with a parameter of its own, one derived from a
built-in layer."""

import math

import ember
from ember.plugins.activation import Softplus

from .functional import beta_swish

__all__ = ["BetaSwish", "ShiftedSoftplus"]


class BetaSwish(ember.nn.Module):
    """Swish with a learnable slope: ``x * sigmoid(beta * x)``. At ``beta=1`` it
    is ``torch.nn.SiLU``; as ``beta`` grows it approaches ReLU.

    Args:
        init: the initial value of ``beta``. Default: 1.

    Attributes:
        beta: the learnable slope, a 0-dimensional parameter.

    Shape:
        - Input: any shape. Output: the same shape.

    Examples::

        >>> m = ember_swishy.BetaSwish(init=2.0)
        >>> m(ember.zeros(3)).shape
        ember.Size([3])
    """

    def __init__(self, init=1.0):
        super().__init__()
        self.init = float(init)
        self.beta = ember.nn.Parameter(ember.tensor(self.init))

    def reset_parameters(self):
        """Set ``beta`` back to ``init``."""
        with ember.no_grad():
            self.beta.fill_(self.init)

    def forward(self, input):
        return beta_swish(input, self.beta)

    def extra_repr(self):
        return f"init={self.init}"


class ShiftedSoftplus(Softplus):
    """``softplus(x) - log(2) / beta``: softplus moved down so that it is 0 at 0
    (SchNet's activation). A subclass of the activation family's ``Softplus``,
    whose ``beta`` and ``threshold`` it takes.

    Shape:
        - Input: any shape. Output: the same shape.
    """

    def forward(self, input):
        return super().forward(input) - math.log(2) / self.beta
