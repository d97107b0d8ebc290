"""``ember.optim.Adam``: adaptive moment estimation (Kingma & Ba), with AMSGrad."""

import math

from .. import _creation
from ..autograd import no_grad
from . import _fused
from .optimizer import Optimizer, _check, _check_capturable, _check_lr, _counted


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
            all parameters of a group (of one device and dtype) in one launch where
            the backend has a group kernel (cuda), else each parameter in one pass
            of its backend's fused kernel where there is one (contiguous
            float32/float64 tensors on the CPU), else in tensor ops.
        capturable (bool): keep each parameter's step count on its device and
            compute the bias corrections there (in the count's float32, as torch
            does), so that a step reads nothing on the host and can be captured in
            a CUDA graph (``ember.cuda.graphs``) and replayed (default: False).
            Parameters must be on a GPU, as in torch.

    Example:
        >>> model = ember.nn.Linear(3, 1)
        >>> optimizer = ember.optim.Adam(model.parameters(), lr=1e-2)
        >>> model(ember.randn(4, 3)).sum().backward()
        >>> optimizer.step()
    """

    _decoupled = False

    _sparse_error = "Adam does not support sparse gradients, please consider SparseAdam instead"

    _GROUP_DEFAULTS = {"amsgrad": False, "maximize": False, "foreach": None, "capturable": False}

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False):
        _check_adam_args(lr, betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform one update; ``closure`` (optional) re-evaluates and returns the loss."""
        loss = self._evaluate(closure)
        decoupled = self._decoupled
        with no_grad():
            for group in self.param_groups:
                lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
                weight_decay, amsgrad = group["weight_decay"], group["amsgrad"]
                maximize, capturable = group["maximize"], group.get("capturable", False)
                hyper = (lr, beta1, beta2, eps, weight_decay, decoupled)
                for params, grads in _fused.batches(self._gradients(group, negate=False)):
                    states = [self._state_of(p, amsgrad, capturable) for p in params]
                    moments = [[s[key] for s in states] for key in ("exp_avg", "exp_avg_sq")]
                    moments.append([s["max_exp_avg_sq"] for s in states] if amsgrad else None)
                    if capturable:
                        device_steps, steps = [s["step"] for s in states], None
                    else:
                        device_steps, steps = None, [_counted(s["step"]) for s in states]
                    if _fused.run_many(_fused.ADAM_STEPS, params, grads, (*moments, device_steps), *hyper,
                                       maximize, steps):
                        continue
                    for k, (p, grad) in enumerate(zip(params, grads)):
                        grad = -grad if maximize else grad
                        state = [m[k] if m is not None else None for m in moments]
                        if capturable:
                            _captured_update(p, grad, *state, *hyper, device_steps[k])
                        elif not _fused.run(_fused.ADAM_STEP, p, grad, state, *hyper, steps[k]):
                            _update(p, grad, *state, *hyper, steps[k])
        return loss

    def _state_of(self, p, amsgrad, capturable):
        """``p``'s state, made on its first step; with ``capturable``, its step count
        (a float32 tensor) is on ``p``'s device (moved there if loaded on the host)."""
        state = self.state[p]
        if capturable:
            _check_capturable(p)
        if not state:
            state["step"] = _creation.zeros((), device=p.device) if capturable else _creation.tensor(0.0)
            state["exp_avg"] = _creation.zeros_like(p)
            state["exp_avg_sq"] = _creation.zeros_like(p)
            if amsgrad:
                state["max_exp_avg_sq"] = _creation.zeros_like(p)
        elif capturable and state["step"].device != p.device:
            state["step"] = state["step"].to(device=p.device)
        return state


def _moments(p, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, weight_decay, decoupled):
    """Weight decay and the moments' update of one parameter in tensor ops; the second
    moment the step divides by (the running maximum with AMSGrad)."""
    if weight_decay != 0:
        if decoupled:
            p.mul_(1 - lr * weight_decay)
        else:
            grad = grad.add(p, alpha=weight_decay)
    exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
    exp_avg_sq.mul_(beta2).add_(grad * grad, alpha=1 - beta2)
    if max_exp_avg_sq is None:
        return exp_avg_sq
    max_exp_avg_sq.copy_(max_exp_avg_sq.maximum(exp_avg_sq))
    return max_exp_avg_sq


def _update(p, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps, weight_decay,
            decoupled, step):
    """The step of one parameter in tensor ops (any backend, layout or dtype)."""
    second = _moments(p, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, weight_decay,
                      decoupled)
    bias_correction2_sqrt = math.sqrt(1 - beta2**step)
    denom = (second.sqrt() / bias_correction2_sqrt).add_(eps)
    p.add_(exp_avg / denom, alpha=-lr / (1 - beta1**step))


def _captured_update(p, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps, weight_decay,
                     decoupled, step_t):
    """The capturable step of one parameter in tensor ops: the count ``step_t`` and
    the bias corrections stay on the device, in ``step_t``'s dtype, computed as
    torch's capturable step does (a number divided by a tensor is the tensor's
    reciprocal times the number)."""
    step_t += 1
    step_size_neg = -((1 - beta1 ** step_t).reciprocal() * lr)
    scaled_bias2_sqrt = (1 - beta2 ** step_t).sqrt() * step_size_neg
    scaled_eps = step_size_neg.reciprocal() * eps
    second = _moments(p, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, weight_decay,
                      decoupled)
    p.add_(exp_avg / (second.sqrt() / scaled_bias2_sqrt).add_(scaled_eps))
