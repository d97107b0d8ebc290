"""``ember.optim.AdamW``: Adam with decoupled weight decay (Loshchilov & Hutter)."""

from .adam import Adam


class AdamW(Adam):
    r"""Adam whose weight decay shrinks the parameters directly.

    Before the Adam update, each parameter is multiplied by ``1 - lr * weight_decay``
    instead of adding ``weight_decay * p`` to the gradient, so the decay is not
    rescaled by the adaptive denominator. Otherwise identical to :class:`Adam`.

    Args:
        params (iterable): tensors to optimize or dicts defining parameter groups.
        lr (float): learning rate (default: 1e-3).
        betas (Tuple[float, float]): decay rates of the moment estimates
            (default: (0.9, 0.999)).
        eps (float): added to the denominator for stability (default: 1e-8).
        weight_decay (float): decoupled weight-decay coefficient (default: 1e-2).
        amsgrad (bool): use the AMSGrad variant (default: False).
        maximize (bool): ascend the objective instead (default: False).
        foreach (bool, optional): accepted for torch compatibility; as in
            :class:`Adam`, a backend's fused kernel runs where it has one.
        capturable (bool): step counts and bias corrections on the device, for
            CUDA graphs, as in :class:`Adam` (default: False).

    Example:
        >>> model = ember.nn.Linear(3, 1)
        >>> optimizer = ember.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
    """

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, foreach=foreach, capturable=capturable)
