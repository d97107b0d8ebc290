"""Distances between batches of vectors: cosine similarity and p-norm distance."""

import numpy as np

import ember

from .._checks import real, tensor_arg

__all__ = ["cosine_similarity", "pairwise_distance", "normalize", "pdist"]


class _ClampMinValue(ember.autograd.Function):
    """``max(x, eps)`` in value but the identity for the gradient: torch clamps the
    norms of ``cosine_similarity`` outside autograd, so the gradient flows as if no
    clamp were there (a zero vector's norm then contributes nothing)."""

    @staticmethod
    def forward(ctx, x, eps):
        return x.clamp(min=eps)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


def _broadcast_shape(a, b):
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    out = []
    for i, (u, v) in enumerate(zip(a, b)):
        if u != v and u != 1 and v != 1:
            raise RuntimeError(
                f"The size of tensor a ({u}) must match the size of tensor b ({v}) at non-singleton dimension {i}")
        out.append(v if u == 1 else u)
    return tuple(out)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """``x1 . x2 / (max(||x1||, eps) * max(||x2||, eps))`` along ``dim``.

    Each input is divided by its (clamped) norm before the dot product, which keeps
    the result in ``[-1, 1]``. The inputs broadcast together.

    Args:
        x1, x2: tensors of broadcastable shapes (floating, or one floating).
        dim: the dimension of the vectors. Default: 1.
        eps: lower bound on each norm, against division by zero. Default: 1e-8.

    Returns:
        the broadcast shape without ``dim``.

    Examples::

        >>> a = ember.tensor([[1.0, 0.0], [1.0, 1.0]])
        >>> F.cosine_similarity(a, ember.tensor([[1.0, 0.0]]), dim=1)
        tensor([1.0000, 0.7071])
    """
    tensor_arg(x1, "cosine_similarity", "x1")
    tensor_arg(x2, "cosine_similarity", "x2")
    real(eps, "cosine_similarity", "eps", low=0.0, error=RuntimeError)
    common = ember.result_type(x1, x2)
    if not common.is_floating_point:
        raise RuntimeError(
            f"expected common dtype to be floating point, yet common dtype is {common.scalar_name}")
    x1, x2 = x1.to(common), x2.to(common)
    shape = _broadcast_shape(tuple(x1.shape), tuple(x2.shape))
    x1, x2 = x1.expand(shape), x2.expand(shape)
    ndim = len(shape)
    if ndim == 0:
        n1, n2 = x1.abs(), x2.abs()
        return (x1 / _ClampMinValue.apply(n1, eps)) * (x2 / _ClampMinValue.apply(n2, eps))
    if not -ndim <= dim < ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {dim})")
    n1 = _ClampMinValue.apply(x1.norm(dim=dim, keepdim=True), eps)
    n2 = _ClampMinValue.apply(x2.norm(dim=dim, keepdim=True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """The p-norm of ``x1 - x2 + eps`` over the last dimension.

    Args:
        x1: ``(N, D)`` or ``(D,)``.
        x2: broadcastable with ``x1``.
        p: the norm degree. Default: 2.
        eps: added to the difference, avoiding a non-differentiable zero. Default: 1e-6.
        keepdim: keep the reduced dimension. Default: ``False``.

    Returns:
        ``(N,)`` (``(N, 1)`` with ``keepdim``).
    """
    tensor_arg(x1, "pairwise_distance", "x1")
    tensor_arg(x2, "pairwise_distance", "x2")
    real(p, "pairwise_distance", "p", finite=False)
    real(eps, "pairwise_distance", "eps")
    diff = x1 - x2 + eps
    if diff.dim() == 0:
        out = diff.norm(p=p)
        return out
    return diff.norm(p=p, dim=diff.dim() - 1, keepdim=keepdim)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """``input / max(||input||_p, eps)``, the p-norm taken along ``dim``.

    Each vector along ``dim`` is scaled to unit p-norm; vectors whose norm is below
    ``eps`` are divided by ``eps`` instead (a zero vector stays zero).

    Args:
        input: a floating tensor of any shape.
        p: the norm degree. Default: 2.
        dim: the dimension (or tuple of dimensions) holding the vectors. Default: 1.
        eps: lower bound on the norm. Default: 1e-12.
        out: if given, the result is written into this tensor (no gradient is
            recorded through it), which is returned.

    Returns:
        a tensor of the shape of ``input``.

    Examples::

        >>> F.normalize(ember.tensor([[3.0, 4.0], [0.0, 0.0]]), dim=1)
        tensor([[0.6000, 0.8000],
                [0.0000, 0.0000]])
    """
    tensor_arg(input, "normalize", "input")
    real(p, "normalize", "p", finite=False)
    real(eps, "normalize", "eps", low=0.0)
    denom = input.norm(p, dim, keepdim=True).clamp(min=eps).expand_as(input)
    if out is None:
        return input / denom
    with ember.no_grad():
        out.copy_(input / denom)
    return out


def pdist(input, p=2.0):
    """The p-norm distance between every pair of rows of ``input``: for ``N`` rows,
    the ``N * (N - 1) / 2`` distances of row ``i`` to rows ``j > i``, in that order
    (the upper triangle of the distance matrix, row by row).

    Args:
        input: ``(N, M)`` floating tensor.
        p: the norm's order, ``p >= 0``. Default: 2.

    Examples::

        >>> F.pdist(ember.tensor([[0., 0.], [3., 4.], [1., 1.]])).tolist()
        [5.0, 1.4142135381698608, 3.605551242828369]
    """
    tensor_arg(input, "pdist", "input")
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    if not input.is_floating_point():
        raise RuntimeError("pdist only supports floating-point dtypes")
    real(p, "pdist", "p", finite=False, error=RuntimeError)
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    rows, cols = np.triu_indices(input.shape[0], 1)
    first = input.index_select(0, ember.tensor(rows, device=input.device))
    second = input.index_select(0, ember.tensor(cols, device=input.device))
    return (first - second).norm(p, dim=1)
