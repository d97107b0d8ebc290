"""``ember.optim.Rprop``: resilient backpropagation, steps driven by gradient signs."""

from .. import _creation
from ..autograd import no_grad
from .optimizer import Optimizer, _check, _check_flags, _check_lr, _scalar


class Rprop(Optimizer):
    r"""Rprop (Riedmiller & Braun): each coordinate has its own step size, grown while
    its gradient keeps its sign and shrunk when the sign flips.

    Per parameter, with ``g`` the gradient (negated when ``maximize``) and ``g_prev``
    the one kept from the last step: where ``g * g_prev > 0`` the step size is
    multiplied by ``etaplus``, where it is ``< 0`` by ``etaminus`` (and ``g`` is taken
    as 0 for this step), and it is clamped to ``step_sizes``. Then
    ``p -= sign(g) * step_size`` and ``g`` is kept for the next step. Step sizes start
    at ``lr``.

    Args:
        params (iterable): tensors to optimize or dicts defining parameter groups.
        lr (float): initial step size (default: 1e-2).
        etas (Tuple[float, float]): ``(etaminus, etaplus)``, with
            ``0 < etaminus < 1 < etaplus`` (default: (0.5, 1.2)).
        step_sizes (Tuple[float, float]): smallest and largest step size
            (default: (1e-6, 50)).
        capturable (bool): must be False (no CUDA graph capture in ember).
        foreach (bool, optional): accepted for torch compatibility; ignored.
        maximize (bool): ascend the objective instead (default: False).
        differentiable (bool): must be False (steps are not recorded by autograd).

    Example:
        >>> model = ember.nn.Linear(3, 1)
        >>> optimizer = ember.optim.Rprop(model.parameters())
    """

    _sparse_error = "Rprop does not support sparse gradients"

    _GROUP_DEFAULTS = {"foreach": None, "maximize": False, "differentiable": False,
                       "capturable": False}

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check_lr(lr)
        _check(0.0 < etas[0] < 1.0 < etas[1], f"Invalid eta values: {etas[0]}, {etas[1]}")
        _check_flags(capturable, differentiable)
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform one update; ``closure`` (optional) re-evaluates and returns the loss."""
        loss = self._evaluate(closure)
        with no_grad():
            for group in self.param_groups:
                etaminus, etaplus = group["etas"]
                step_size_min, step_size_max = group["step_sizes"]
                for p, grad in self._gradients(group):
                    state = self.state[p]
                    if not state:
                        state["step"] = _creation.tensor(0.0)
                        state["prev"] = _creation.zeros_like(p)
                        state["step_size"] = _creation.full_like(grad, _scalar(group["lr"]))
                    state["step"] += 1
                    prev, step_size = state["prev"], state["step_size"]
                    sign = grad.mul(prev).sign()
                    # torch's three masked writes, in its order (a NaN sign stays NaN)
                    factor = sign.masked_fill(sign > 0, etaplus)
                    factor = factor.masked_fill(sign < 0, etaminus).masked_fill(sign == 0, 1)
                    step_size.mul_(factor).clamp_(step_size_min, step_size_max)
                    grad = grad.masked_fill(factor == etaminus, 0)
                    p.sub_(grad.sign() * step_size)
                    prev.copy_(grad)
        return loss
