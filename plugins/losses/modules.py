"""The loss modules: thin ``nn.Module`` wrappers that keep the hyper-parameters
(and class weights as buffers) and call the functional form in ``forward``."""

import ember

from . import functional as F
from ._base import _Loss, _WeightedLoss
from .adaptive import AdaptiveLogSoftmaxWithLoss
from .ctc import CTCLoss

__all__ = ["L1Loss", "MSELoss", "CrossEntropyLoss", "NLLLoss", "PoissonNLLLoss", "GaussianNLLLoss",
           "KLDivLoss", "BCELoss", "BCEWithLogitsLoss", "MarginRankingLoss", "HingeEmbeddingLoss",
           "MultiLabelMarginLoss", "SmoothL1Loss", "HuberLoss", "SoftMarginLoss",
           "MultiLabelSoftMarginLoss", "CosineEmbeddingLoss", "MultiMarginLoss",
           "TripletMarginLoss", "TripletMarginWithDistanceLoss", "CTCLoss",
           "AdaptiveLogSoftmaxWithLoss"]


_REDUCTION_ARGS = """
        size_average (bool, optional): deprecated (see ``reduction``); False sums instead of averaging.
        reduce (bool, optional): deprecated (see ``reduction``); False returns the unreduced loss.
        reduction (str, optional): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``."""


def _doc(cls):
    cls.__doc__ = cls.__doc__.replace("{reduction_args}", _REDUCTION_ARGS.strip("\n"))
    return cls


@_doc
class L1Loss(_Loss):
    """Mean absolute error between each element of the input and the target.

    Args:
{reduction_args}

    Shape:
        - Input: ``(*)``; Target: ``(*)``, the same shape.
        - Output: scalar, or ``(*)`` with ``reduction='none'``.

    Examples::

        >>> loss = nn.L1Loss()
        >>> input = ember.randn(3, 5, requires_grad=True)
        >>> loss(input, ember.randn(3, 5)).backward()
    """

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


@_doc
class MSELoss(_Loss):
    """Mean squared error (squared L2 norm) between each element of the input and the target.

    Args:
{reduction_args}

    Shape:
        - Input: ``(*)``; Target: ``(*)``, the same shape.
        - Output: scalar, or ``(*)`` with ``reduction='none'``.

    Examples::

        >>> loss = nn.MSELoss()
        >>> input = ember.randn(3, 5, requires_grad=True)
        >>> loss(input, ember.randn(3, 5)).backward()
    """

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


@_doc
class CrossEntropyLoss(_WeightedLoss):
    """Log-softmax and negative log likelihood in one criterion, for ``C``-class
    classification from unnormalised scores.

    The target is either class indices (optionally with an ``ignore_index`` to
    skip) or class probabilities of the input's shape. ``'mean'`` divides by the
    total weight of the non-ignored targets.

    Args:
        weight (Tensor, optional): per-class rescaling weights of size ``C``.
        ignore_index (int, optional): target value that contributes nothing. Default: -100.
        label_smoothing (float, optional): in ``[0, 1]``, amount of smoothing toward the
            uniform distribution. Default: 0.
{reduction_args}

    Shape:
        - Input: ``(N, C)``, ``(C)`` or ``(N, C, d1, ..., dK)``.
        - Target: ``(N)``, ``()`` or ``(N, d1, ..., dK)`` of indices in ``[0, C)``;
          or probabilities of the input's shape.
        - Output: scalar, or the target's (index) shape with ``reduction='none'``.

    Examples::

        >>> loss = nn.CrossEntropyLoss()
        >>> input = ember.randn(3, 5, requires_grad=True)
        >>> target = ember.tensor([1, 0, 4])
        >>> loss(input, target).backward()
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                 label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


@_doc
class NLLLoss(_WeightedLoss):
    """Negative log likelihood of class indices, for ``C``-class classification
    from log-probabilities (e.g. the output of ``LogSoftmax``).

    Args:
        weight (Tensor, optional): per-class rescaling weights of size ``C``.
        ignore_index (int, optional): target value that contributes nothing. Default: -100.
{reduction_args}

    Shape:
        - Input: ``(N, C)``, ``(C)`` or ``(N, C, d1, ..., dK)``.
        - Target: ``(N)``, ``()`` or ``(N, d1, ..., dK)``, indices in ``[0, C)``.
        - Output: scalar, or the target's shape with ``reduction='none'``.

    Examples::

        >>> m = nn.LogSoftmax(dim=1)
        >>> loss = nn.NLLLoss()
        >>> input = ember.randn(3, 5, requires_grad=True)
        >>> loss(m(input), ember.tensor([1, 0, 4])).backward()
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


@_doc
class PoissonNLLLoss(_Loss):
    """Negative log likelihood of a Poisson-distributed target.

    Args:
        log_input (bool, optional): the input is the log of the rate
            (loss ``exp(input) - target*input``), else the rate itself
            (``input - target*log(input + eps)``). Default: True.
        full (bool, optional): add the Stirling term for ``log(target!)``. Default: False.
        eps (float, optional): keeps the log finite when ``log_input=False``. Default: 1e-8.
{reduction_args}

    Shape:
        - Input: ``(*)``; Target: ``(*)``, the same shape.
        - Output: scalar, or ``(*)`` with ``reduction='none'``.

    Examples::

        >>> loss = nn.PoissonNLLLoss()
        >>> log_input = ember.randn(5, 2, requires_grad=True)
        >>> loss(log_input, ember.randn(5, 2)).backward()
    """

    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input = log_input
        self.full = full
        self.eps = eps

    def forward(self, log_input, target):
        return F.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full, eps=self.eps,
                                  reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """Negative log likelihood of the target under Gaussians whose means and
    variances the network predicts.

    Args:
        full (bool, optional): add the constant ``0.5*log(2*pi)``. Default: False.
        eps (float, optional): lower bound of the variance. Default: 1e-6.
        reduction (str, optional): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - Input: ``(N, *)`` or ``(*)``; Target: the same shape.
        - Var: the same shape, one dimension of size 1, or without the last dimension.
        - Output: scalar, or the input's shape with ``reduction='none'``.
    """

    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(None, None, reduction)
        self.full = full
        self.eps = eps

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps, reduction=self.reduction)


class KLDivLoss(_Loss):
    """Kullback-Leibler divergence between the target distribution and the input
    (given as log-probabilities).

    Args:
        size_average (bool, optional): deprecated (see ``reduction``).
        reduce (bool, optional): deprecated (see ``reduction``).
        reduction (str, optional): ``'none'`` | ``'batchmean'`` | ``'sum'`` | ``'mean'``;
            ``'batchmean'`` is the mathematical KL divergence per sample. Default: ``'mean'``.
        log_target (bool, optional): the target is given as log-probabilities. Default: False.

    Shape:
        - Input: ``(*)``; Target: ``(*)``, the same shape.
        - Output: scalar, or ``(*)`` with ``reduction='none'``.

    Examples::

        >>> loss = nn.KLDivLoss(reduction="batchmean")
        >>> input = ember.randn(3, 5, requires_grad=True).log_softmax(1)
        >>> target = ember.randn(3, 5).softmax(1)
        >>> loss(input, target).backward()
    """

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


@_doc
class BCELoss(_WeightedLoss):
    """Binary cross entropy between target and input probabilities; each log is
    clamped to at least -100 so the loss stays finite.

    Args:
        weight (Tensor, optional): rescaling weight broadcast to the target's shape.
{reduction_args}

    Shape:
        - Input: ``(*)`` probabilities in ``[0, 1]``; Target: ``(*)``, the same shape.
        - Output: scalar, or ``(*)`` with ``reduction='none'``.

    Examples::

        >>> m = nn.Sigmoid()
        >>> loss = nn.BCELoss()
        >>> input = ember.randn(3, requires_grad=True)
        >>> loss(m(input), ember.tensor([0.0, 1.0, 1.0])).backward()
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


@_doc
class BCEWithLogitsLoss(_Loss):
    """Sigmoid and binary cross entropy in one numerically stable criterion.

    Args:
        weight (Tensor, optional): rescaling weight broadcast to the input.
{reduction_args}
        pos_weight (Tensor, optional): weight of the positive examples, one per class
            (broadcast along the last dimension); above 1 favours recall.

    Shape:
        - Input: ``(*)`` logits; Target: ``(*)``, the same shape.
        - Output: scalar, or ``(*)`` with ``reduction='none'``.

    Examples::

        >>> loss = nn.BCEWithLogitsLoss()
        >>> input = ember.randn(3, requires_grad=True)
        >>> loss(input, ember.tensor([0.0, 1.0, 1.0])).backward()
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight, pos_weight=self.pos_weight,
                                                  reduction=self.reduction)


@_doc
class HingeEmbeddingLoss(_Loss):
    """Hinge embedding loss for targets of 1 (loss = input) and -1
    (loss = ``max(0, margin - input)``); the input is usually a distance.

    Args:
        margin (float, optional): Default: 1.
{reduction_args}

    Shape:
        - Input: ``(*)``; Target: ``(*)``, the same shape.
        - Output: scalar, or ``(*)`` with ``reduction='none'``.
    """

    def __init__(self, margin=1.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input, target):
        return F.hinge_embedding_loss(input, target, margin=self.margin, reduction=self.reduction)


@_doc
class MultiLabelMarginLoss(_Loss):
    """Multi-class multi-label hinge loss between scores and a row of target class
    indices per sample (the leading non-negative entries; pad with -1).

    Args:
{reduction_args}

    Shape:
        - Input: ``(C)`` or ``(N, C)``; Target: the same shape, int64.
        - Output: scalar, or ``(N)`` with ``reduction='none'``.

    Examples::

        >>> loss = nn.MultiLabelMarginLoss()
        >>> x = ember.tensor([[0.1, 0.2, 0.4, 0.8]])
        >>> loss(x, ember.tensor([[3, 0, -1, 1]]))
        tensor(0.8500)
    """

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)

    def forward(self, input, target):
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)


@_doc
class SmoothL1Loss(_Loss):
    """Squared error below ``beta`` and absolute error above it (less sensitive to
    outliers than ``MSELoss``).

    Args:
{reduction_args}
        beta (float, optional): the switch point. Default: 1.0.

    Shape:
        - Input: ``(*)``; Target: ``(*)``, the same shape.
        - Output: scalar, or ``(*)`` with ``reduction='none'``.
    """

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Huber loss: squared error below ``delta``, ``delta``-scaled absolute error above.

    Args:
        reduction (str, optional): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        delta (float, optional): the positive switch point. Default: 1.0.

    Shape:
        - Input: ``(*)``; Target: ``(*)``, the same shape.
        - Output: scalar, or ``(*)`` with ``reduction='none'``.
    """

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        if isinstance(delta, bool) or not isinstance(delta, (int, float)):
            raise TypeError(f"delta must be a float or int, got: {type(delta)}")
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


@_doc
class SoftMarginLoss(_Loss):
    """Two-class logistic loss ``log(1 + exp(-y*x))`` for targets of 1 or -1.

    Args:
{reduction_args}

    Shape:
        - Input: ``(*)``; Target: ``(*)``, the same shape.
        - Output: scalar, or ``(*)`` with ``reduction='none'``.
    """

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)

    def forward(self, input, target):
        return F.soft_margin_loss(input, target, reduction=self.reduction)


@_doc
class MultiLabelSoftMarginLoss(_WeightedLoss):
    """Multi-label one-versus-all logistic loss, averaged over the classes.

    Args:
        weight (Tensor, optional): per-class rescaling weights of size ``C``.
{reduction_args}

    Shape:
        - Input: ``(N, C)``; Target: ``(N, C)`` of 0/1 labels.
        - Output: scalar, or ``(N)`` with ``reduction='none'``.
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)

    def forward(self, input, target):
        return F.multilabel_soft_margin_loss(input, target, weight=self.weight, reduction=self.reduction)


@_doc
class CosineEmbeddingLoss(_Loss):
    """Cosine embedding loss: ``1 - cos(x1, x2)`` for target 1,
    ``max(0, cos(x1, x2) - margin)`` for target -1.

    Args:
        margin (float, optional): in ``[-1, 1]``. Default: 0.
{reduction_args}

    Shape:
        - Input1, Input2: ``(N, D)`` or ``(D)``; Target: ``(N)`` or ``()``.
        - Output: scalar, or ``(N)`` with ``reduction='none'``.
    """

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.cosine_embedding_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


@_doc
class MarginRankingLoss(_Loss):
    """Ranking loss ``max(0, -y*(x1 - x2) + margin)``: target 1 asks ``x1`` to rank
    above ``x2``, target -1 the reverse.

    Args:
        margin (float, optional): Default: 0.
{reduction_args}

    Shape:
        - Input1, Input2: ``(N)`` or ``()``; Target: the same shape.
        - Output: scalar, or ``(N)`` with ``reduction='none'``.
    """

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, margin=self.margin, reduction=self.reduction)


@_doc
class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge loss between scores and a target class index per sample.

    Args:
        p (int, optional): 1 or 2. Default: 1.
        margin (float, optional): Default: 1.
        weight (Tensor, optional): per-class rescaling weights of size ``C``.
{reduction_args}

    Shape:
        - Input: ``(N, C)`` or ``(C)``; Target: ``(N)`` or ``()``, int64.
        - Output: scalar, or the target's shape with ``reduction='none'``.
    """

    def __init__(self, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        if p != 1 and p != 2:
            raise ValueError("only p == 1 and p == 2 supported")
        if weight is not None and weight.dim() != 1:
            raise ValueError(
                f"MultiMarginLoss: expected weight to be None or 1D tensor, got {weight.dim()}D instead")
        self.p = p
        self.margin = margin

    def forward(self, input, target):
        return F.multi_margin_loss(input, target, p=self.p, margin=self.margin, weight=self.weight,
                                   reduction=self.reduction)


@_doc
class TripletMarginLoss(_Loss):
    """Triplet loss ``max(0, d(a, p) - d(a, n) + margin)`` with the pairwise
    ``p``-norm distance.

    Args:
        margin (float, optional): positive. Default: 1.
        p (float, optional): norm degree. Default: 2.
        eps (float, optional): added to the differences. Default: 1e-6.
        swap (bool, optional): use the distance swap (min of ``d(a, n)`` and ``d(p, n)``). Default: False.
{reduction_args}

    Shape:
        - Anchor, Positive, Negative: ``(N, D)`` or ``(D)``.
        - Output: scalar, or ``(N)`` with ``reduction='none'``.

    Examples::

        >>> triplet_loss = nn.TripletMarginLoss(margin=1.0, p=2)
        >>> anchor = ember.randn(10, 8, requires_grad=True)
        >>> triplet_loss(anchor, ember.randn(10, 8), ember.randn(10, 8)).backward()
    """

    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: expected margin to be greater than 0, got {margin} instead")
        self.margin = margin
        self.p = p
        self.eps = eps
        self.swap = swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p, eps=self.eps,
                                     swap=self.swap, reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """Triplet loss with any distance function (default: ``nn.PairwiseDistance()``).

    Args:
        distance_function (callable, optional): ``d(x1, x2)`` returning distances.
        margin (float, optional): positive. Default: 1.
        swap (bool, optional): use the distance swap. Default: False.
        reduction (str, optional): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - Anchor, Positive, Negative: ``(N, *)`` or ``(*)``, same number of dimensions.
        - Output: scalar, or ``(N)`` with ``reduction='none'``.
    """

    def __init__(self, *, distance_function=None, margin=1.0, swap=False, reduction="mean"):
        super().__init__(size_average=None, reduce=None, reduction=reduction)
        if margin <= 0:
            raise ValueError(
                f"TripletMarginWithDistanceLoss: expected margin to be greater than 0, got {margin} instead")
        if distance_function is None:
            # the distance family's module when it is loaded, so print(model) shows it as torch does
            pairwise = getattr(ember.nn, "PairwiseDistance", None)
            distance_function = pairwise() if pairwise is not None else None
        self.distance_function = distance_function
        self.margin = margin
        self.swap = swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_with_distance_loss(anchor, positive, negative,
                                                   distance_function=self.distance_function, margin=self.margin,
                                                   swap=self.swap, reduction=self.reduction)

