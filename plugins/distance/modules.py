"""Distance modules: CosineSimilarity, PairwiseDistance."""

from ember.nn import Module

from . import functional as F

__all__ = ["CosineSimilarity", "PairwiseDistance"]


class CosineSimilarity(Module):
    """Cosine similarity of ``x1`` and ``x2`` along ``dim``.

    Args:
        dim: the dimension of the vectors. Default: 1.
        eps: lower bound on each norm. Default: 1e-8.

    Shape:
        - Input1: ``(*1, D, *2)``; Input2: broadcastable with Input1.
        - Output: ``(*1, *2)``.

    Examples::

        >>> cos = nn.CosineSimilarity(dim=1, eps=1e-6)
        >>> cos(ember.randn(100, 128), ember.randn(100, 128)).shape
        ember.Size([100])
    """

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """p-norm distance between the rows of ``x1`` and ``x2``: ``||x1 - x2 + eps||_p``.

    Args:
        p: the norm degree. Default: 2.
        eps: added to the difference. Default: 1e-6.
        keepdim: keep the reduced dimension. Default: ``False``.

    Shape:
        - Input1: ``(N, D)`` or ``(D,)``; Input2: the same or broadcastable.
        - Output: ``(N)`` or ``()`` (``(N, 1)`` with ``keepdim``).

    Examples::

        >>> pdist = nn.PairwiseDistance(p=2)
        >>> pdist(ember.randn(100, 128), ember.randn(100, 128)).shape
        ember.Size([100])
    """

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
