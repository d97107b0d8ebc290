"""Dropout modules: ``p`` and ``inplace`` around the functions of ``functional.py``;
active in training mode only."""

from ember.nn import Module

from . import functional as F

__all__ = ["Dropout", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]


class _DropoutNd(Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        F._check_p(p)
        self.p = p
        self.inplace = inplace

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """While training, zero each element with probability ``p`` and scale the others by
    ``1/(1-p)``; in evaluation, the identity.

    Args:
        p: probability of an element to be zeroed. Default: 0.5.
        inplace: overwrite the input. Default: ``False``.

    Shape:
        - Input: any shape. Output: the same shape.

    Examples::

        >>> m = nn.Dropout(p=0.2)
        >>> m(ember.randn(20, 16)).shape
        ember.Size([20, 16])
    """

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """While training, zero whole channels of ``(N, C, H, W)`` inputs with probability
    ``p`` and scale the others by ``1/(1-p)``.

    Args:
        p: probability of a channel to be zeroed. Default: 0.5.
        inplace: overwrite the input. Default: ``False``.

    Shape:
        - Input: ``(N, C, H, W)``. Output: the same shape.
    """

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """While training, zero whole channels of ``(N, C, D, H, W)`` inputs with probability
    ``p`` and scale the others by ``1/(1-p)``.

    Args:
        p: probability of a channel to be zeroed. Default: 0.5.
        inplace: overwrite the input. Default: ``False``.

    Shape:
        - Input: ``(N, C, D, H, W)`` or ``(C, D, H, W)``. Output: the same shape.
    """

    def forward(self, input):
        return F.dropout3d(input, self.p, self.training, self.inplace)


class AlphaDropout(_DropoutNd):
    """Alpha dropout for SELU networks: keeps zero mean and unit variance of its input.

    Args:
        p: probability of an element to be dropped. Default: 0.5.
        inplace: overwrite the input. Default: ``False``.

    Shape:
        - Input: any shape. Output: the same shape.
    """

    def forward(self, input):
        return F.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels (``input[n, c]``).

    Args:
        p: probability of a channel to be dropped. Default: 0.5.
        inplace: overwrite the input. Default: ``False``.

    Shape:
        - Input: ``(N, C, *)``. Output: the same shape.
    """

    def forward(self, input):
        return F.feature_alpha_dropout(input, self.p, self.training)
