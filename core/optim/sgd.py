"""``ember.optim.SGD``: stochastic gradient descent with optional (Nesterov) momentum."""

from .. import _creation
from ..autograd import no_grad
from . import _fused
from .optimizer import Optimizer, _check


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with momentum.

    Each step, with ``g`` the gradient (negated when ``maximize``) plus
    ``weight_decay * p``: with momentum, the buffer ``b`` starts as ``g`` and then
    becomes ``momentum * b + (1 - dampening) * g``; the update direction is ``b``, or
    ``g + momentum * b`` with ``nesterov``. Finally ``p -= lr * direction``. This is
    the formulation of torch (and of Sutskever et al.), where the learning rate
    multiplies the buffer rather than entering it.

    Sparse gradients (from ``Embedding(sparse=True)``) are taken as torch takes them:
    the momentum buffer is then sparse too, and ``weight_decay`` is refused.

    Args:
        params (iterable): tensors to optimize or dicts defining parameter groups.
        lr (float): learning rate (default: 1e-3).
        momentum (float): momentum factor (default: 0).
        dampening (float): dampening of the gradient entering the buffer (default: 0).
        weight_decay (float): L2 penalty (default: 0).
        nesterov (bool): Nesterov momentum (default: False); needs momentum > 0 and
            zero dampening.
        maximize (bool): ascend the objective instead (default: False).
        foreach (bool, optional): accepted for torch compatibility; ember updates
            all parameters of a group (of one device and dtype) in one launch where
            the backend has a group kernel (cuda), else each parameter in one pass
            of its backend's fused kernel where there is one (contiguous
            float32/float64 tensors on the CPU), else in tensor ops.

    Example:
        >>> model = ember.nn.Linear(3, 1)
        >>> optimizer = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        >>> optimizer.zero_grad()
        >>> model(ember.randn(4, 3)).sum().backward()
        >>> optimizer.step()
    """

    _GROUP_DEFAULTS = {"nesterov": False, "maximize": False, "foreach": None}

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, foreach=None):
        _check(lr >= 0.0, f"Invalid learning rate: {lr}")
        _check(momentum >= 0.0, f"Invalid momentum value: {momentum}")
        _check(weight_decay >= 0.0, f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform one update; ``closure`` (optional) re-evaluates and returns the loss."""
        loss = self._evaluate(closure)
        with no_grad():
            for group in self.param_groups:
                hyper = (group["lr"], group["momentum"], group["dampening"], group["weight_decay"],
                         group["nesterov"])
                maximize = group["maximize"]
                for params, grads in _fused.batches(self._gradients(group, negate=False)):
                    if _group_update(self.state, params, grads, *hyper, maximize):
                        continue
                    for p, grad in zip(params, grads):
                        grad = -grad if maximize else grad
                        if not _fused_update(self.state, p, grad, *hyper):
                            _update(self.state, p, grad, *hyper)
        return loss


def _group_update(states, params, grads, lr, momentum, dampening, weight_decay, nesterov, maximize):
    """The step of a batch of parameters in one launch of their backend's group
    kernel; False when it has none for these tensors, or when some parameters have
    momentum buffers and others not yet (nothing changed then)."""
    if not _fused.takes_groups(_fused.SGD_STEPS, params, grads):
        return False
    bufs = new_bufs = None
    if momentum != 0:
        bufs = [states[p].get("momentum_buffer") for p in params]
        if all(b is None for b in bufs):
            bufs = new_bufs = [_creation.empty_like(g) for g in grads]
        elif any(b is None for b in bufs):
            return False
    if not _fused.run_many(_fused.SGD_STEPS, params, grads, (bufs,), lr, momentum, dampening,
                           weight_decay, nesterov, maximize, new_bufs is not None):
        return False
    for p, buf in zip(params, new_bufs or ()):
        states[p]["momentum_buffer"] = buf
    return True


def _fused_update(states, p, grad, lr, momentum, dampening, weight_decay, nesterov):
    """The step of one parameter through its backend's fused kernel; False when there
    is none for these tensors (nothing changed then)."""
    if grad.is_sparse:
        return False
    buf = new_buf = None
    if momentum != 0:
        state = states[p]
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = new_buf = _creation.empty_like(grad)
    if not _fused.run(_fused.SGD_STEP, p, grad, (buf,), lr, momentum, dampening, weight_decay,
                      nesterov, new_buf is not None):
        return False
    if new_buf is not None:
        state["momentum_buffer"] = new_buf
    return True


def _update(states, p, grad, lr, momentum, dampening, weight_decay, nesterov):
    """The step of one parameter in tensor ops (any backend, layout or dtype)."""
    if weight_decay != 0:
        grad = grad.add(p, alpha=weight_decay)
    if momentum != 0:
        state = states[p]
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = state["momentum_buffer"] = grad.detach().clone()
        elif dampening == 0:
            buf.mul_(momentum).add_(grad)  # alpha=1 would cost a multiply
        else:
            buf.mul_(momentum).add_(grad, alpha=1 - dampening)
        grad = grad.add(buf, alpha=momentum) if nesterov else buf
    p.add_(grad, alpha=-lr)
