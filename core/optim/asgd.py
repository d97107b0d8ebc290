"""``ember.optim.ASGD``: stochastic gradient descent with a running average of the iterates."""

from .. import _creation
from ..autograd import no_grad
from .optimizer import Optimizer, _check, _check_flags, _check_lr, _scalar


class ASGD(Optimizer):
    r"""Averaged SGD (Polyak & Juditsky): SGD steps plus an average ``ax`` of the iterates.

    Per parameter, with ``g`` the gradient (negated when ``maximize``, plus
    ``weight_decay * p``) and ``t`` the step count: ``p *= 1 - lambd * eta``,
    ``p -= eta * g``; then ``ax`` becomes ``p`` (while ``mu`` is 1) or moves towards it,
    ``ax += mu * (p - ax)``. After the step ``eta = lr / (1 + lambd * lr * t)**alpha``
    and ``mu = 1 / max(1, t - t0)``, so averaging starts after ``t0`` steps. The state
    keeps ``eta``, ``mu`` and ``step`` as tensors of the default dtype, as torch does.

    Args:
        params (iterable): tensors to optimize or dicts defining parameter groups.
        lr (float): learning rate (default: 1e-2).
        lambd (float): decay term (default: 1e-4).
        alpha (float): power of the ``eta`` schedule (default: 0.75).
        t0 (float): the step at which averaging starts (default: 1e6).
        weight_decay (float): L2 penalty (default: 0).
        foreach (bool, optional): accepted for torch compatibility; ignored.
        maximize (bool): ascend the objective instead (default: False).
        differentiable (bool): must be False (steps are not recorded by autograd).
        capturable (bool): must be False (no CUDA graph capture in ember).

    Example:
        >>> model = ember.nn.Linear(3, 1)
        >>> optimizer = ember.optim.ASGD(model.parameters(), lr=0.1, t0=100)
    """

    _sparse_error = "ASGD does not support sparse gradients"

    _GROUP_DEFAULTS = {"foreach": None, "maximize": False, "differentiable": False,
                       "capturable": False}

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        _check(0.0 <= weight_decay, f"Invalid weight_decay value: {weight_decay}")
        _check_flags(capturable, differentiable)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform one update; ``closure`` (optional) re-evaluates and returns the loss."""
        loss = self._evaluate(closure)
        with no_grad():
            for group in self.param_groups:
                lr, lambd, alpha = _scalar(group["lr"]), group["lambd"], group["alpha"]
                t0, weight_decay = group["t0"], group["weight_decay"]
                for p, grad in self._gradients(group):
                    state = self.state[p]
                    if not state:
                        state["step"] = _creation.tensor(0.0)
                        state["eta"] = _creation.tensor(float(lr))
                        state["mu"] = _creation.tensor(1.0)
                        state["ax"] = _creation.zeros_like(p)
                    step_t, eta, mu, ax = state["step"], state["eta"], state["mu"], state["ax"]
                    step_t += 1
                    if weight_decay != 0:
                        grad = grad.add(p, alpha=weight_decay)
                    eta_value = eta.item()
                    p.mul_(1 - lambd * eta_value)
                    p.add_(grad, alpha=-eta_value)
                    mu_value = mu.item()
                    if mu_value != 1:
                        ax.add_(p.sub(ax).mul_(mu_value))
                    else:
                        ax.copy_(p)
                    step = step_t.item()
                    # new values pass through the default dtype, as torch's as_tensor does
                    eta.copy_(_creation.tensor(lr / ((1 + lambd * lr * step) ** alpha)))
                    mu.copy_(_creation.tensor(1 / max(1, step - t0)))
        return loss
