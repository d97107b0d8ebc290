"""``ember.optim.Adamax``: Adam with the infinity norm in place of the second moment."""

from .. import _creation
from ..autograd import no_grad
from .adam import _check_adam_args
from .optimizer import Optimizer, _check_flags, _scalar


def _lerp_(start, end, weight):
    """``start += weight * (end - start)`` in place, rounded as torch's ``lerp_``."""
    if abs(weight) < 0.5:
        return start.add_(end - start, alpha=weight)
    return start.copy_(end - (end - start) * (1 - weight))


class Adamax(Optimizer):
    r"""Adamax (Kingma & Ba): Adam's variant based on the infinity norm.

    Per parameter, with ``g`` the gradient (negated when ``maximize``, plus
    ``weight_decay * p``) and ``t`` the step count: ``m = beta1 * m + (1 - beta1) * g``,
    ``u = max(beta2 * u, |g| + eps)``, then ``p -= lr / (1 - beta1**t) * m / u``.

    Args:
        params (iterable): tensors to optimize or dicts defining parameter groups.
        lr (float): learning rate (default: 2e-3).
        betas (Tuple[float, float]): decay rates of ``m`` and ``u`` (default: (0.9, 0.999)).
        eps (float): added to ``|g|`` for stability (default: 1e-8).
        weight_decay (float): L2 penalty (default: 0).
        foreach (bool, optional): accepted for torch compatibility; ignored.
        maximize (bool): ascend the objective instead (default: False).
        differentiable (bool): must be False (steps are not recorded by autograd).
        capturable (bool): must be False (no CUDA graph capture in ember).

    Example:
        >>> model = ember.nn.Linear(3, 1)
        >>> optimizer = ember.optim.Adamax(model.parameters(), lr=1e-2)
    """

    _sparse_error = "Adamax does not support sparse gradients"

    _GROUP_DEFAULTS = {"foreach": None, "maximize": False, "differentiable": False,
                       "capturable": False}

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        _check_adam_args(lr, betas, eps, weight_decay)
        _check_flags(capturable, differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform one update; ``closure`` (optional) re-evaluates and returns the loss."""
        loss = self._evaluate(closure)
        with no_grad():
            for group in self.param_groups:
                lr, (beta1, beta2), eps = _scalar(group["lr"]), group["betas"], group["eps"]
                weight_decay = group["weight_decay"]
                for p, grad in self._gradients(group):
                    state = self.state[p]
                    if not state:
                        state["step"] = _creation.tensor(0.0)
                        state["exp_avg"] = _creation.zeros_like(p)
                        state["exp_inf"] = _creation.zeros_like(p)
                    step_t = state["step"]
                    step_t += 1
                    if weight_decay != 0:
                        grad = grad.add(p, alpha=weight_decay)
                    exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
                    _lerp_(exp_avg, grad, 1 - beta1)
                    exp_inf.copy_(exp_inf.mul_(beta2).maximum(grad.abs().add_(eps)))
                    clr = lr / (1 - beta1 ** step_t.item())
                    p.add_(exp_avg * -clr / exp_inf)
        return loss
