"""The bases of the loss modules: ``_Loss`` keeps ``reduction`` and
``_WeightedLoss`` a per-class ``weight`` buffer (torch's ``nn.modules.loss`` bases)."""

from ember.nn import Module

from . import _reduction


class _Loss(Module):
    """Base of the losses: stores ``reduction`` (the legacy ``size_average`` /
    ``reduce`` flags, when given, override it)."""

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        if size_average is not None or reduce is not None:
            self.reduction = _reduction.legacy_get_string(size_average, reduce)
        else:
            self.reduction = reduction


class _WeightedLoss(_Loss):
    """Base of the losses with a per-class ``weight``, kept as a buffer (or None)."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
