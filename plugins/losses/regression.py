"""Losses between real-valued predictions and targets: L1, MSE, smooth L1 / Huber,
Poisson and Gaussian negative log likelihood, KL divergence, and the embedding /
ranking losses (margin ranking, hinge embedding, cosine embedding, triplet).

Everything is written with Tensor ops, so gradients and double gradients come from
autograd and the same code runs on every backend; MSE, smooth L1 and Huber of one
shape and dtype are one node each (``pointwise.py``), as in torch.
"""

import math
import warnings

import ember
from ember.backend import data_of, refuse_on_device

from . import _reduction, pointwise
from .._checks import real, tensor_arg

__all__ = [
    "l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss", "poisson_nll_loss",
    "gaussian_nll_loss", "kl_div", "margin_ranking_loss", "hinge_embedding_loss",
    "cosine_embedding_loss", "triplet_margin_loss", "triplet_margin_with_distance_loss",
]


def _warn_size(input, target):
    if target.shape != input.shape:
        warnings.warn(
            f"Using a target size ({target.size()}) that is different to the input size ({input.size()}). "
            "Broadcasting will probably give wrong results; make the two sizes equal.",
            stacklevel=3,
        )


def _floating_pair(input, target, kernel):
    """torch has no integer kernel for these losses: both integral is an error."""
    if not (input.dtype.is_floating_point or target.dtype.is_floating_point):
        dt = ember.promote_types(input.dtype, target.dtype)
        raise NotImplementedError(f"\"{kernel}_cpu\" not implemented for '{dt.scalar_name}'")


def _weighted(loss, weight, input, reduction, mean_by_weight):
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / weight.sum() if mean_by_weight else loss.mean()


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error ``|input - target|``, reduced by ``reduction``.

    Args:
        input (Tensor): predictions of any shape.
        target (Tensor): same shape as ``input`` (broadcast otherwise, with a warning).
        size_average, reduce (bool, optional): deprecated; see ``reduction``.
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default ``'mean'``.
        weight (Tensor, optional): per-element weights of ``input``'s shape; with
            ``'mean'`` the weighted sum is divided by the sum of the weights.

    Examples::

        >>> F.l1_loss(ember.tensor([1.0, 2.0]), ember.tensor([0.0, 4.0]))
        tensor(1.5000)
    """
    tensor_arg(input, "l1_loss", "input")
    tensor_arg(target, "l1_loss", "target")
    _warn_size(input, target)
    reduction = _reduction.resolve(size_average, reduce, reduction)
    loss = (input - target).abs()
    if weight is not None:
        return _weighted(loss, weight, input, reduction, True)
    return _reduction.apply(loss, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error ``(input - target)**2``, reduced by ``reduction``.

    Args are those of :func:`l1_loss`.

    Examples::

        >>> F.mse_loss(ember.tensor([1.0, 2.0]), ember.tensor([0.0, 4.0]))
        tensor(2.5000)
    """
    tensor_arg(input, "mse_loss", "input")
    tensor_arg(target, "mse_loss", "target")
    _warn_size(input, target)
    reduction = _reduction.resolve(size_average, reduce, reduction)
    _floating_pair(input, target, "mse")
    if weight is None and pointwise.fits(input, target):
        return pointwise.MseLoss.apply(input, target, reduction, None)
    loss = (input - target).square()
    if weight is not None:
        return _weighted(loss, weight, input, reduction, True)
    return _reduction.apply(loss, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Squared error below ``beta`` (scaled by ``1/(2*beta)``), absolute error minus
    ``beta/2`` above it; ``beta=0`` is the plain L1 loss.

    Args:
        input, target (Tensor): same shapes.
        size_average, reduce (bool, optional): deprecated; see ``reduction``.
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default ``'mean'``.
        beta (float): where the loss switches from quadratic to linear. Default 1.

    Examples::

        >>> F.smooth_l1_loss(ember.tensor([0.5, 3.0]), ember.tensor([0.0, 0.0]))
        tensor(1.3125)
    """
    tensor_arg(input, "smooth_l1_loss", "input")
    tensor_arg(target, "smooth_l1_loss", "target")
    _warn_size(input, target)
    reduction = _reduction.resolve(size_average, reduce, reduction)
    real(beta, "smooth_l1_loss", "beta", error=RuntimeError)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    _floating_pair(input, target, "smooth_l1")
    if beta > 0 and pointwise.fits(input, target):
        return pointwise.SmoothL1Loss.apply(input, target, reduction, float(beta))
    diff = input - target
    dist = diff.abs()
    if beta == 0:
        return _reduction.apply(dist, reduction)
    loss = ember.where(dist < beta, diff * diff * (0.5 / beta), dist - 0.5 * beta)
    return _reduction.apply(loss, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Huber loss: ``0.5 * d**2`` where ``d = |input - target| < delta``,
    ``delta * (d - delta/2)`` elsewhere (``delta`` times smooth L1 with ``beta=delta``).

    Args:
        input, target (Tensor): same shapes.
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default ``'mean'``.
        delta (float): positive switch point. Default 1.
        weight (Tensor, optional): per-element weights (``'mean'`` stays a plain mean).

    Examples::

        >>> F.huber_loss(ember.tensor([0.5, 3.0]), ember.tensor([0.0, 0.0]))
        tensor(1.3125)
    """
    tensor_arg(input, "huber_loss", "input")
    tensor_arg(target, "huber_loss", "target")
    _warn_size(input, target)
    reduction = _reduction.check(reduction)
    real(delta, "huber_loss", "delta", error=RuntimeError)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    _floating_pair(input, target, "huber")
    if not input.dtype.is_floating_point:   # torch writes the result in the input's dtype
        raise RuntimeError(f"result type {ember.promote_types(input.dtype, target.dtype).scalar_name} can't be "
                           f"cast to the desired output type {input.dtype.scalar_name}")
    if weight is None and pointwise.fits(input, target):
        return pointwise.HuberLoss.apply(input, target, reduction, float(delta))
    diff = input - target
    dist = diff.abs()
    loss = ember.where(dist < delta, diff * diff * 0.5, (dist - 0.5 * delta) * delta).to(input.dtype)
    if weight is not None:
        return _weighted(loss, weight, input, reduction, False)
    return _reduction.apply(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """Negative log likelihood of ``target`` under a Poisson distribution of rate
    ``exp(input)`` (``log_input=True``) or ``input``.

    Args:
        input (Tensor): log-rates, or rates when ``log_input=False``.
        target (Tensor): observed counts, same shape.
        log_input (bool): loss ``exp(input) - target*input`` when True, else
            ``input - target*log(input + eps)``. Default True.
        full (bool): add the Stirling approximation of ``log(target!)`` (for targets > 1).
        eps (float): keeps the log finite when ``log_input=False``. Default 1e-8.
        size_average, reduce (bool, optional): deprecated; see ``reduction``.
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default ``'mean'``.

    Examples::

        >>> F.poisson_nll_loss(ember.tensor([0.0]), ember.tensor([2.0]))
        tensor(1.)
    """
    tensor_arg(input, "poisson_nll_loss", "input")
    tensor_arg(target, "poisson_nll_loss", "target")
    reduction = _reduction.resolve(size_average, reduce, reduction)
    real(eps, "poisson_nll_loss", "eps", low=0.0)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        stirling = target * target.log() - target + 0.5 * (2 * math.pi * target).log()
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return _reduction.apply(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Negative log likelihood of ``target`` under Gaussians of mean ``input`` and
    variance ``var``: ``0.5 * (log(var) + (input - target)**2 / var)``.

    Args:
        input (Tensor): means, shape ``(N, *)`` or ``(*)``.
        target (Tensor): samples, same shape (or broadcastable).
        var (Tensor or float): positive variances: same shape as ``input``, one
            dimension of size 1, or the shape without the last dimension
            (homoscedastic over it).
        full (bool): add the constant ``0.5*log(2*pi)``. Default False.
        eps (float): ``var`` is clamped to at least ``eps`` (without gradient). Default 1e-6.
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default ``'mean'``.
    """
    tensor_arg(input, "gaussian_nll_loss", "input")
    tensor_arg(target, "gaussian_nll_loss", "target")
    real(eps, "gaussian_nll_loss", "eps", low=0.0)
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = ember.full_like(input, float(var))
    elif var.numel():  # at once on the CPU; on a GPU at its next synchronisation, never a wait
        refuse_on_device(var, "gaussian_nll_loss var", data_of(var).min() < 0,
                         ValueError("var has negative entry/entries"))
    if var.shape != input.shape:
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif input.dim() == var.dim() and sum(b for a, b in zip(input.shape, var.shape) if a != b) == 1:
            pass
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    # the clamp must not cut the gradient of var where var < eps: torch clamps a copy
    # in no_grad mode, so the gradient flows as if var were unchanged
    floor = (eps - var).clamp(min=0).detach()
    var = var + floor
    loss = 0.5 * (var.log() + (input - target).square() / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduction.apply(loss, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Kullback-Leibler divergence ``target * (log(target) - input)`` pointwise, with
    ``input`` given as log-probabilities.

    Args:
        input (Tensor): log-probabilities of any shape.
        target (Tensor): probabilities (log-probabilities if ``log_target``), same shape.
        size_average, reduce (bool, optional): deprecated; see ``reduction``.
        reduction (str): ``'none'`` | ``'batchmean'`` | ``'sum'`` | ``'mean'``.
            ``'batchmean'`` divides the sum by the batch size (the mathematical KL
            divergence); ``'mean'`` divides by the number of elements (and warns).
        log_target (bool): ``target`` holds log-probabilities. Default False.

    Examples::

        >>> p = ember.tensor([[0.5, 0.5]])
        >>> F.kl_div(ember.tensor([[0.25, 0.75]]).log(), p, reduction='batchmean')
        tensor(0.1438)
    """
    tensor_arg(input, "kl_div", "input")
    tensor_arg(target, "kl_div", "target")
    if size_average is not None or reduce is not None:
        reduction = _reduction.legacy_get_string(size_average, reduce)
    else:
        if reduction == "mean":
            warnings.warn(
                "reduction='mean' divides the total loss by the batch size and by the support size; "
                "'batchmean' divides by the batch size only, which is the KL divergence of the math "
                "definition. 'mean' is meant to change to 'batchmean' in a future release.",
                stacklevel=2,
            )
        if reduction != "batchmean":
            _reduction.check(reduction)
    if not (input.dtype.is_floating_point and target.dtype.is_floating_point):
        raise RuntimeError("kl_div: Integral inputs not supported.")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        # xlogy: 0 * log 0 is 0 (log of a safe copy keeps the gradient finite
        # there); a negative target gives NaN, as in torch
        safe = ember.where(target == 0, ember.ones_like(target), target)
        loss = target * (safe.log() - input)
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.dim() != 0 else total
    return _reduction.apply(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """Ranking hinge ``max(0, -target * (input1 - input2) + margin)``: ``target = 1``
    asks for ``input1`` to rank above ``input2``, ``-1`` the reverse.

    Args:
        input1, input2 (Tensor): scores of shape ``(N)`` or ``()``.
        target (Tensor): ``1`` or ``-1``, same shape.
        margin (float): Default 0.
        size_average, reduce (bool, optional): deprecated; see ``reduction``.
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default ``'mean'``.
    """
    tensor_arg(input1, "margin_ranking_loss", "input1")
    tensor_arg(input2, "margin_ranking_loss", "input2")
    tensor_arg(target, "margin_ranking_loss", "target")
    reduction = _reduction.resolve(size_average, reduce, reduction)
    real(margin, "margin_ranking_loss", "margin")
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.size()}, input2: {input2.size()}, target: {target.size()} ")
    loss = (-target * (input1 - input2) + margin).clamp(min=0)
    return _reduction.apply(loss, reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """Hinge embedding loss: ``input`` where ``target == 1``, ``max(0, margin - input)``
    where ``target == -1`` (typically ``input`` is a distance between two embeddings).

    Args:
        input (Tensor): any shape.
        target (Tensor): ``1`` or ``-1``, same shape.
        margin (float): Default 1.
        size_average, reduce (bool, optional): deprecated; see ``reduction``.
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default ``'mean'``.
    """
    tensor_arg(input, "hinge_embedding_loss", "input")
    tensor_arg(target, "hinge_embedding_loss", "target")
    reduction = _reduction.resolve(size_average, reduce, reduction)
    real(margin, "hinge_embedding_loss", "margin")
    zero = ember.zeros((), dtype=input.dtype, device=input.device)
    # values other than +-1 get both terms, as in torch
    pulled = ember.where(target != 1, (margin - input).clamp(min=0), zero)
    pushed = ember.where(target != -1, input, zero)
    return _reduction.apply(pulled + pushed, reduction)


_COS_EPS = 1e-12


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """Cosine embedding loss: ``1 - cos(x1, x2)`` for ``target == 1``,
    ``max(0, cos(x1, x2) - margin)`` for ``target == -1``.

    Args:
        input1, input2 (Tensor): ``(N, D)`` with a target of shape ``(N)``, or
            ``(D)`` with a 0-dim target.
        target (Tensor): ``1`` or ``-1``.
        margin (float): in ``[-1, 1]``, ``0`` to ``0.5`` suggested. Default 0.
        size_average, reduce (bool, optional): deprecated; see ``reduction``.
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default ``'mean'``.
    """
    tensor_arg(input1, "cosine_embedding_loss", "input1")
    tensor_arg(input2, "cosine_embedding_loss", "input2")
    tensor_arg(target, "cosine_embedding_loss", "target")
    reduction = _reduction.resolve(size_average, reduce, reduction)
    real(margin, "cosine_embedding_loss", "margin")
    tdim = target.dim()
    if tdim not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if tdim == 1 and (input1.dim() != 2 or input2.dim() != 2):
        raise RuntimeError("1D target tensor expects 2D input tensors, but found inputs with sizes "
                           f"{_reduction.sizes(input1)} and {_reduction.sizes(input2)}.")
    if tdim == 0 and (input1.dim() != 1 or input2.dim() != 1):
        raise RuntimeError("0D target tensor expects 1D input tensors, but found inputs with sizes "
                           f"{_reduction.sizes(input1)} and {_reduction.sizes(input2)}.")
    dot = (input1 * input2).sum(tdim)
    sq1 = (input1 * input1).sum(tdim) + _COS_EPS
    sq2 = (input2 * input2).sum(tdim) + _COS_EPS
    cos = dot / (sq1 * sq2).sqrt()
    zero = ember.zeros((), dtype=cos.dtype, device=cos.device)
    loss = ember.where(target == 1, 1 - cos, zero) + ember.where(target == -1, (cos - margin).clamp(min=0), zero)
    return _reduction.apply(loss, reduction)


def _pairwise_distance(x1, x2, p, eps):
    # torch's pairwise_distance: the p-norm of x1 - x2 + eps over the last dimension
    return (x1 - x2 + eps).norm(p, dim=-1)


def _check_triplet_dims(anchor, positive, negative):
    a, p, n = anchor.dim(), positive.dim(), negative.dim()
    if not (a == p == n):
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number of dimensions, "
            f"but got: anchor {a}D, positive {p}D, and negative {n}D inputs")


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """Triplet loss ``max(0, d(a, p) - d(a, n) + margin)`` with ``d`` the pairwise
    ``p``-norm distance (``||x1 - x2 + eps||_p`` over the last dimension).

    Args:
        anchor, positive, negative (Tensor): ``(N, D)`` or ``(D)``.
        margin (float): positive. Default 1.
        p (float): norm degree. Default 2.
        eps (float): added to the differences for stability. Default 1e-6.
        swap (bool): use ``min(d(a, n), d(p, n))`` as negative distance. Default False.
        size_average, reduce (bool, optional): deprecated; see ``reduction``.
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default ``'mean'``.
    """
    tensor_arg(anchor, "triplet_margin_loss", "anchor")
    tensor_arg(positive, "triplet_margin_loss", "positive")
    tensor_arg(negative, "triplet_margin_loss", "negative")
    reduction = _reduction.resolve(size_average, reduce, reduction)
    real(margin, "triplet_margin_loss", "margin")
    real(p, "triplet_margin_loss", "p", finite=False)
    real(eps, "triplet_margin_loss", "eps")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    d_pos = _pairwise_distance(anchor, positive, p, eps)
    d_neg = _pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = ember.minimum(d_neg, _pairwise_distance(positive, negative, p, eps))
    loss = (margin + d_pos - d_neg).clamp(min=0)
    return _reduction.apply(loss, reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0,
                                      swap=False, reduction="mean"):
    """Triplet loss with any distance: ``max(0, d(a, p) - d(a, n) + margin)``.

    Args:
        anchor, positive, negative (Tensor): same number of dimensions.
        distance_function (callable, optional): ``d(x1, x2)`` returning a tensor of
            distances; default the Euclidean pairwise distance.
        margin (float): positive. Default 1.
        swap (bool): use ``min(d(a, n), d(p, n))`` as negative distance. Default False.
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default ``'mean'``.
    """
    tensor_arg(anchor, "triplet_margin_with_distance_loss", "anchor")
    tensor_arg(positive, "triplet_margin_with_distance_loss", "positive")
    tensor_arg(negative, "triplet_margin_with_distance_loss", "negative")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    if distance_function is None:
        def distance_function(x1, x2):
            return _pairwise_distance(x1, x2, 2.0, 1e-6)
    d_pos = distance_function(anchor, positive)
    d_neg = distance_function(anchor, negative)
    if swap:
        d_neg = ember.minimum(d_neg, distance_function(positive, negative))
    loss = (margin + d_pos - d_neg).clamp(min=0)
    return _reduction.apply(loss, reduction)
