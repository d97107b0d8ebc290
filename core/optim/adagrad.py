"""``ember.optim.Adagrad``: per-coordinate steps scaled by accumulated squared gradients."""

from .. import _creation
from .._sparse import sparse_mask, with_values
from ..autograd import no_grad
from . import _fused
from .optimizer import Optimizer, _check, _counted


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al.): each coordinate's step shrinks with its gradient history.

    Per parameter, with ``g`` the gradient (negated when ``maximize``, plus
    ``weight_decay * p``) and ``t`` the step count: ``s += g * g``, then
    ``p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)``. The accumulator
    ``s`` starts at ``initial_accumulator_value`` and is created with the optimizer.
    A sparse gradient updates only the rows it names (its repeats summed first);
    ``weight_decay`` is refused with sparse gradients, as in torch.

    Args:
        params (iterable): tensors to optimize or dicts defining parameter groups.
        lr (float): learning rate (default: 1e-2).
        lr_decay (float): learning-rate decay per step (default: 0).
        weight_decay (float): L2 penalty (default: 0).
        initial_accumulator_value (float): starting value of ``s`` (default: 0).
        eps (float): added to the denominator for stability (default: 1e-10).
        foreach (bool, optional): accepted for torch compatibility; ember updates
            all parameters of a group (of one device and dtype) with dense
            gradients in one launch where the backend has a group kernel
            (cuda), else in tensor ops.
        maximize (bool): ascend the objective instead (default: False).

    Example:
        >>> model = ember.nn.Linear(3, 1)
        >>> optimizer = ember.optim.Adagrad(model.parameters(), lr=0.1)
    """

    _GROUP_DEFAULTS = {"foreach": None, "maximize": False}

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False):
        _check(lr >= 0.0, f"Invalid learning rate: {lr}")
        _check(lr_decay >= 0.0, f"Invalid lr_decay value: {lr_decay}")
        _check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        _check(initial_accumulator_value >= 0.0,
               f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        _check(eps >= 0.0, f"Invalid epsilon value: {eps}")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = _creation.tensor(0.0)
                state["sum"] = _creation.full_like(p, group["initial_accumulator_value"])

    def step(self, closure=None):
        """Perform one update; ``closure`` (optional) re-evaluates and returns the loss."""
        loss = self._evaluate(closure)
        with no_grad():
            for group in self.param_groups:
                lr, lr_decay, eps = group["lr"], group["lr_decay"], group["eps"]
                weight_decay, maximize = group["weight_decay"], group["maximize"]
                pairs = self._gradients(group, negate=False)
                if weight_decay != 0 and not _fused.dense(g for _, g in pairs):
                    raise RuntimeError("weight_decay option is not compatible with sparse gradients")
                for params, grads in _fused.batches(pairs):
                    clrs = [lr / (1 + (_counted(self.state[p]["step"]) - 1) * lr_decay) for p in params]
                    sums = [self.state[p]["sum"] for p in params]
                    if _fused.run_many(_fused.ADAGRAD_STEPS, params, grads, (sums,), clrs, eps,
                                       weight_decay, maximize):
                        continue
                    for p, grad, state_sum, clr in zip(params, grads, sums, clrs):
                        _update(p, -grad if maximize else grad, state_sum, clr, eps, weight_decay)
        return loss


def _update(p, grad, state_sum, clr, eps, weight_decay):
    """The step of one parameter in tensor ops, its gradient dense or sparse (then
    without weight decay)."""
    if weight_decay != 0:
        grad = grad.add(p, alpha=weight_decay)
    if grad.is_sparse:
        _sparse_update(p, grad, state_sum, clr, eps)
        return
    state_sum.add_(grad * grad)
    std = state_sum.sqrt().add_(eps)
    p.add_(grad / std, alpha=-clr)


def _sparse_update(p, grad, state_sum, clr, eps):
    """The update of the rows a sparse gradient names (the others keep their sums)."""
    grad = grad.coalesce()  # the update is not linear in the gradient: sum repeats first
    values = grad._values()
    state_sum.add_(with_values(grad, values.pow(2)))
    std_values = sparse_mask(state_sum, grad)._values().sqrt_().add_(eps)
    p.add_(with_values(grad, values / std_values), alpha=-clr)
