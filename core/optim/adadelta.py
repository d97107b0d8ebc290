"""``ember.optim.Adadelta``: steps sized by the ratio of running RMS of updates and gradients."""

from .. import _creation
from ..autograd import no_grad
from .optimizer import Optimizer, _check, _check_flags, _check_lr, _scalar


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler): a per-coordinate step whose units come from past updates.

    Per parameter, with ``g`` the gradient (negated when ``maximize``, plus
    ``weight_decay * p``): ``v = rho * v + (1 - rho) * g * g``,
    ``delta = sqrt(u + eps) / sqrt(v + eps) * g``, ``u = rho * u + (1 - rho) * delta**2``
    and ``p -= lr * delta``; ``v`` and ``u`` start at zero.

    Args:
        params (iterable): tensors to optimize or dicts defining parameter groups.
        lr (float): scales ``delta`` before it is applied (default: 1.0).
        rho (float): decay of the running averages, in [0, 1] (default: 0.9).
        eps (float): added inside both square roots (default: 1e-6).
        weight_decay (float): L2 penalty (default: 0).
        foreach (bool, optional): accepted for torch compatibility; ignored.
        capturable (bool): must be False (no CUDA graph capture in ember).
        maximize (bool): ascend the objective instead (default: False).
        differentiable (bool): must be False (steps are not recorded by autograd).

    Example:
        >>> model = ember.nn.Linear(3, 1)
        >>> optimizer = ember.optim.Adadelta(model.parameters())
        >>> model(ember.randn(4, 3)).sum().backward()
        >>> optimizer.step()
    """

    _sparse_error = "Adadelta does not support sparse gradients"

    _GROUP_DEFAULTS = {"foreach": None, "maximize": False, "differentiable": False,
                       "capturable": False}

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        _check_lr(lr)
        _check(0.0 <= rho <= 1.0, f"Invalid rho value: {rho}")
        _check(0.0 <= eps, f"Invalid epsilon value: {eps}")
        _check(0.0 <= weight_decay, f"Invalid weight_decay value: {weight_decay}")
        _check_flags(capturable, differentiable)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform one update; ``closure`` (optional) re-evaluates and returns the loss."""
        loss = self._evaluate(closure)
        with no_grad():
            for group in self.param_groups:
                lr, rho, eps = _scalar(group["lr"]), group["rho"], group["eps"]
                weight_decay = group["weight_decay"]
                for p, grad in self._gradients(group):
                    state = self.state[p]
                    if not state:
                        state["step"] = _creation.tensor(0.0)
                        state["square_avg"] = _creation.zeros_like(p)
                        state["acc_delta"] = _creation.zeros_like(p)
                    state["step"] += 1
                    if weight_decay != 0:
                        grad = grad.add(p, alpha=weight_decay)
                    square_avg, acc_delta = state["square_avg"], state["acc_delta"]
                    square_avg.mul_(rho).add_(grad * (1 - rho) * grad)
                    std = square_avg.add(eps).sqrt_()
                    delta = acc_delta.add(eps).sqrt_().div_(std).mul_(grad)
                    acc_delta.mul_(rho).add_(delta * (1 - rho) * delta)
                    p.add_(delta, alpha=-lr)
        return loss
