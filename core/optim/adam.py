"""``ember.optim.Adam``: adaptive moment estimation (Kingma & Ba), with AMSGrad."""

import math

from .. import _creation
from ..autograd import no_grad
from . import _fused
from .optimizer import Optimizer, _check, _check_lr


def _check_adam_args(lr, betas, eps, weight_decay):
    """torch's checks of the Adam family's hyper-parameters."""
    _check_lr(lr)
    _check(eps >= 0.0, f"Invalid epsilon value: {eps}")
    _check(0.0 <= betas[0] < 1.0, f"Invalid beta parameter at index 0: {betas[0]}")
    _check(0.0 <= betas[1] < 1.0, f"Invalid beta parameter at index 1: {betas[1]}")
    _check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")


class Adam(Optimizer):
    r"""Adam: steps scaled by running estimates of the gradient's first two moments.

    Per parameter, with ``g`` the gradient (negated when ``maximize``, plus
    ``weight_decay * p`` as an L2 penalty) and ``t`` the step count:
    ``m = beta1 * m + (1 - beta1) * g``, ``v = beta2 * v + (1 - beta2) * g * g``
    (with ``amsgrad``, the running maximum of ``v`` is used below instead of ``v``),
    then ``p -= lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)``.

    Args:
        params (iterable): tensors to optimize or dicts defining parameter groups.
        lr (float): learning rate (default: 1e-3).
        betas (Tuple[float, float]): decay rates of the two moment estimates
            (default: (0.9, 0.999)).
        eps (float): added to the denominator for stability (default: 1e-8).
        weight_decay (float): L2 penalty added to the gradient (default: 0).
        amsgrad (bool): use the AMSGrad variant (default: False).
        maximize (bool): ascend the objective instead (default: False).
        foreach (bool, optional): accepted for torch compatibility; ember updates
            each parameter in one pass of its backend's fused kernel where there is
            one (contiguous float32/float64 tensors on the CPU), else in tensor ops.

    Example:
        >>> model = ember.nn.Linear(3, 1)
        >>> optimizer = ember.optim.Adam(model.parameters(), lr=1e-2)
        >>> model(ember.randn(4, 3)).sum().backward()
        >>> optimizer.step()
    """

    _decoupled = False

    _sparse_error = "Adam does not support sparse gradients, please consider SparseAdam instead"

    _GROUP_DEFAULTS = {"amsgrad": False, "maximize": False, "foreach": None}

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, maximize=False, foreach=None):
        _check_adam_args(lr, betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform one update; ``closure`` (optional) re-evaluates and returns the loss."""
        loss = self._evaluate(closure)
        decoupled = self._decoupled
        with no_grad():
            for group in self.param_groups:
                lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
                weight_decay, amsgrad = group["weight_decay"], group["amsgrad"]
                for p, grad in self._gradients(group):
                    state = self.state[p]
                    if not state:
                        state["step"] = _creation.tensor(0.0)
                        state["exp_avg"] = _creation.zeros_like(p)
                        state["exp_avg_sq"] = _creation.zeros_like(p)
                        if amsgrad:
                            state["max_exp_avg_sq"] = _creation.zeros_like(p)
                    step_t = state["step"]
                    step_t += 1
                    moments = (state["exp_avg"], state["exp_avg_sq"],
                               state["max_exp_avg_sq"] if amsgrad else None)
                    hyper = (lr, beta1, beta2, eps, weight_decay, decoupled, step_t.item())
                    if not _fused.run(_fused.ADAM_STEP, p, grad, moments, *hyper):
                        _update(p, grad, *moments, *hyper)
        return loss


def _update(p, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps, weight_decay,
            decoupled, step):
    """The step of one parameter in tensor ops (any backend, layout or dtype)."""
    if weight_decay != 0:
        if decoupled:
            p.mul_(1 - lr * weight_decay)
        else:
            grad = grad.add(p, alpha=weight_decay)
    exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
    exp_avg_sq.mul_(beta2).add_(grad * grad, alpha=1 - beta2)
    if max_exp_avg_sq is not None:
        max_exp_avg_sq.copy_(max_exp_avg_sq.maximum(exp_avg_sq))
        second = max_exp_avg_sq
    else:
        second = exp_avg_sq
    bias_correction2_sqrt = math.sqrt(1 - beta2**step)
    denom = (second.sqrt() / bias_correction2_sqrt).add_(eps)
    p.add_(exp_avg / denom, alpha=-lr / (1 - beta1**step))
