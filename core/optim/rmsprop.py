"""``ember.optim.RMSprop``: steps divided by a running root mean square of the gradient."""

from .. import _creation
from ..autograd import no_grad
from . import _fused
from .optimizer import Optimizer, _check


class RMSprop(Optimizer):
    r"""RMSprop (Hinton's lecture notes), optionally centered and with momentum.

    Per parameter, with ``g`` the gradient (negated when ``maximize``, plus
    ``weight_decay * p``): ``v = alpha * v + (1 - alpha) * g * g``; the denominator
    is ``sqrt(v) + eps``, or with ``centered`` ``sqrt(v - m * m) + eps`` where
    ``m = alpha * m + (1 - alpha) * g`` estimates the mean gradient. Without momentum
    ``p -= lr * g / denominator``; with it, ``b = momentum * b + g / denominator`` and
    ``p -= lr * b``.

    Args:
        params (iterable): tensors to optimize or dicts defining parameter groups.
        lr (float): learning rate (default: 1e-2).
        alpha (float): smoothing constant of the running averages (default: 0.99).
        eps (float): added to the denominator for stability (default: 1e-8).
        weight_decay (float): L2 penalty (default: 0).
        momentum (float): momentum factor (default: 0).
        centered (bool): normalise by the estimated variance instead of the raw
            second moment (default: False).
        maximize (bool): ascend the objective instead (default: False).
        foreach (bool, optional): accepted for torch compatibility; ember updates
            all parameters of a group (of one device and dtype) in one launch where
            the backend has a group kernel (cuda), else in tensor ops.

    Example:
        >>> model = ember.nn.Linear(3, 1)
        >>> optimizer = ember.optim.RMSprop(model.parameters(), lr=1e-3, momentum=0.9)
    """

    _sparse_error = "RMSprop does not support sparse gradients"

    _GROUP_DEFAULTS = {"momentum": 0, "centered": False, "maximize": False, "foreach": None}

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, *, maximize=False, foreach=None):
        _check(lr >= 0.0, f"Invalid learning rate: {lr}")
        _check(eps >= 0.0, f"Invalid epsilon value: {eps}")
        _check(momentum >= 0.0, f"Invalid momentum value: {momentum}")
        _check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        _check(alpha >= 0.0, f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, maximize=maximize, foreach=foreach)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform one update; ``closure`` (optional) re-evaluates and returns the loss."""
        loss = self._evaluate(closure)
        with no_grad():
            for group in self.param_groups:
                lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
                weight_decay, momentum = group["weight_decay"], group["momentum"]
                centered, maximize = group["centered"], group["maximize"]
                hyper = (lr, alpha, eps, weight_decay, momentum)
                for params, grads in _fused.batches(self._gradients(group, negate=False)):
                    states = [self._state_of(p, momentum, centered) for p in params]
                    columns = [[s[key] for s in states] if used else None for key, used in (
                        ("square_avg", True), ("grad_avg", centered), ("momentum_buffer", momentum > 0))]
                    if _fused.run_many(_fused.RMSPROP_STEPS, params, grads, columns, *hyper, maximize):
                        continue
                    for k, (p, grad) in enumerate(zip(params, grads)):
                        state = (None if c is None else c[k] for c in columns)
                        _update(p, -grad if maximize else grad, *state, *hyper)
        return loss

    def _state_of(self, p, momentum, centered):
        """``p``'s state, made on its first step, with its step counted."""
        state = self.state[p]
        if not state:
            state["step"] = _creation.tensor(0.0)
            state["square_avg"] = _creation.zeros_like(p)
            if momentum > 0:
                state["momentum_buffer"] = _creation.zeros_like(p)
            if centered:
                state["grad_avg"] = _creation.zeros_like(p)
        state["step"] += 1
        return state


def _update(p, grad, square_avg, grad_avg, buf, lr, alpha, eps, weight_decay, momentum):
    """The step of one parameter in tensor ops (``grad_avg`` None unless centered,
    ``buf`` None without momentum)."""
    if weight_decay != 0:
        grad = grad.add(p, alpha=weight_decay)
    square_avg.mul_(alpha).add_(grad * grad, alpha=1 - alpha)
    if grad_avg is not None:
        grad_avg.mul_(alpha).add_(grad, alpha=1 - alpha)
        avg = (square_avg - grad_avg * grad_avg).sqrt_()
    else:
        avg = square_avg.sqrt()
    avg.add_(eps)
    if buf is not None:
        buf.mul_(momentum).add_(grad / avg)
        p.add_(buf, alpha=-lr)
    else:
        p.add_(grad / avg, alpha=-lr)
