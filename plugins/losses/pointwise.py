"""Losses of the difference ``d = input - target`` element by element (MSE, smooth L1,
Huber), each one autograd node as in torch (``MseLossBackward0``, ...).

A loss is its value ``f(d)`` and slope ``f'(d)``, written once on arrays and once
with tensor ops: forward and backward run on the arrays; with ``create_graph`` the
backward uses the tensor form, so it can be differentiated again. The input's
gradient is ``grad * f'(d)`` (divided by the element count for ``'mean'``), the
target's its negation. Inputs and targets of one shape and floating dtype take this
path; the regression module broadcasts the others with tensor ops.
"""

import ember
from ember.autograd import Function
from ember.backend import data_of, tensor_like, xp_of


def _node(name, value, slope, doc):
    """A Function class ``name`` for the loss with ``value(d, p, xp)`` and
    ``slope(d, p, xp)``; ``xp`` is ``ember`` for the tensor form."""

    def forward(ctx, input, target, reduction, param):
        xp = xp_of(input)
        d = data_of(input) - data_of(target)
        loss = value(d, param, xp).astype(d.dtype, copy=False)
        if reduction == "mean":
            loss = xp.asarray(loss.mean() if loss.size else xp.nan, dtype=d.dtype)
        elif reduction == "sum":
            loss = xp.asarray(loss.sum(), dtype=d.dtype)
        ctx.save_for_backward(input, target)
        ctx.reduction, ctx.param = reduction, param
        return tensor_like(loss, input)

    def backward(ctx, grad):
        input, target = ctx.saved_tensors
        if ember.is_grad_enabled():
            g = slope(input - target, ctx.param, ember) * grad
        else:
            xp = xp_of(grad)
            d = data_of(input) - data_of(target)
            g = tensor_like((slope(d, ctx.param, xp) * data_of(grad)).astype(d.dtype, copy=False), grad)
        if ctx.reduction == "mean":
            g = g / max(input.numel(), 1)
        need_input, need_target = ctx.needs_input_grad[:2]
        return (g if need_input else None), (-g if need_target else None), None, None

    return type(name, (Function,), {"__doc__": doc, "backward_name": name + "Backward0",
                                    "forward": staticmethod(forward), "backward": staticmethod(backward)})


def _smooth_l1_value(d, beta, xp):
    dist = abs(d)
    return xp.where(dist < beta, d * d * (0.5 / beta), dist - 0.5 * beta)


def _smooth_l1_slope(d, beta, xp):
    # d / beta inside the quadratic part, sign(d) outside: d / beta clipped to [-1, 1]
    return (d * (1.0 / beta)).clamp(-1, 1) if xp is ember else xp.clip(d * (1.0 / beta), -1, 1)


def _huber_value(d, delta, xp):
    dist = abs(d)
    return xp.where(dist < delta, d * d * 0.5, (dist - 0.5 * delta) * delta)


def _huber_slope(d, delta, xp):
    return d.clamp(-delta, delta) if xp is ember else xp.clip(d, -delta, delta)


MseLoss = _node("MseLoss", lambda d, p, xp: d * d, lambda d, p, xp: d * 2,
                "``(input - target)**2``, reduced.")
SmoothL1Loss = _node("SmoothL1Loss", _smooth_l1_value, _smooth_l1_slope,
                     "``0.5 d**2 / beta`` below ``beta``, ``|d| - beta / 2`` above, reduced.")
HuberLoss = _node("HuberLoss", _huber_value, _huber_slope,
                  "``0.5 d**2`` below ``delta``, ``delta * (|d| - delta / 2)`` above, reduced.")


def fits(input, target):
    """Whether ``input`` and ``target`` take the one-node path: one shape, one
    floating dtype."""
    return (input.shape == target.shape and input.dtype == target.dtype
            and input.dtype.is_floating_point)
