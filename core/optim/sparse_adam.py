"""``ember.optim.SparseAdam``: Adam restricted to the rows a sparse gradient names."""

import math

from .. import _creation
from .._sparse import sparse_mask, with_values
from ..autograd import no_grad
from .optimizer import Optimizer, _check, _check_lr, _scalar


class SparseAdam(Optimizer):
    r"""Adam for sparse gradients (``Embedding(sparse=True)``): only the rows present
    in a step's gradient move, and only their moment estimates decay.

    Per step, with the gradient coalesced (repeated rows summed; negated when
    ``maximize``) and ``t`` the step count, on the rows it names:
    ``m = beta1 * m + (1 - beta1) * g``, ``v = beta2 * v + (1 - beta2) * g * g`` and
    ``p -= lr * sqrt(1 - beta2**t) / (1 - beta1**t) * m / (sqrt(v) + eps)``. Rows absent
    from the gradient keep their parameters and moments. Dense gradients are refused.

    Args:
        params (iterable): dense tensors to optimize or dicts defining parameter groups.
        lr (float): learning rate, > 0 (default: 1e-3).
        betas (Tuple[float, float]): decay rates of the two moment estimates
            (default: (0.9, 0.999)).
        eps (float): added to the denominator, > 0 (default: 1e-8).
        maximize (bool): ascend the objective instead (default: False).

    Example:
        >>> emb = ember.nn.Embedding(10, 3, sparse=True)
        >>> optimizer = ember.optim.SparseAdam(emb.parameters(), lr=0.1)
        >>> emb(ember.tensor([1, 4, 1])).sum().backward()
        >>> optimizer.step()
    """

    _GROUP_DEFAULTS = {"maximize": False}

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        _check_lr(lr, strict=True)
        _check(0.0 < eps, f"Invalid epsilon value: {eps}")
        _check(0.0 <= betas[0] < 1.0, f"Invalid beta parameter at index 0: {betas[0]}")
        _check(0.0 <= betas[1] < 1.0, f"Invalid beta parameter at index 1: {betas[1]}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))
        sparse = [[i, j] for i, group in enumerate(self.param_groups)
                  for j, p in enumerate(group["params"]) if p.is_sparse]
        if sparse:
            raise ValueError(f"Sparse params at indices {sparse}: SparseAdam requires dense "
                             "parameter tensors")

    def _gradients(self, group):
        pairs = super()._gradients(group)
        if any(not grad.is_sparse for _, grad in pairs):
            raise RuntimeError("SparseAdam does not support dense gradients, please consider Adam "
                               "instead")
        return pairs

    def step(self, closure=None):
        """Perform one update; ``closure`` (optional) re-evaluates and returns the loss."""
        loss = self._evaluate(closure)
        with no_grad():
            for group in self.param_groups:
                lr, (beta1, beta2), eps = _scalar(group["lr"]), group["betas"], group["eps"]
                for p, grad in self._gradients(group):
                    state = self.state[p]
                    if not state:
                        state["step"] = 0
                        state["exp_avg"] = _creation.zeros_like(p)
                        state["exp_avg_sq"] = _creation.zeros_like(p)
                    state["step"] += 1
                    grad = grad.coalesce()  # the update is not linear: sum repeated rows first
                    values = grad._values()
                    if values.numel() == 0:
                        continue
                    exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                    # m += (1 - beta1) * (g - m) on the named rows, and so for v
                    old_avg = sparse_mask(exp_avg, grad)._values()
                    avg_update = values.sub(old_avg).mul_(1 - beta1)
                    exp_avg.add_(with_values(grad, avg_update))
                    old_sq = sparse_mask(exp_avg_sq, grad)._values()
                    sq_update = values.pow(2).sub_(old_sq).mul_(1 - beta2)
                    exp_avg_sq.add_(with_values(grad, sq_update))
                    numer = avg_update.add_(old_avg)
                    denom = sq_update.add_(old_sq).sqrt_().add_(eps)
                    step = state["step"]
                    step_size = lr * math.sqrt(1 - beta2**step) / (1 - beta1**step)
                    p.add_(with_values(grad, numer.div_(denom).mul_(-step_size)))
        return loss
