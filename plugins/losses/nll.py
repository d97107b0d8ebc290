"""The negative log likelihood of class indices as one autograd node.

``loss[i] = -weight[t[i]] * input[i, t[i]]`` (0 where ``t[i] == ignore_index``),
summed, or divided by the kept targets' total weight for ``'mean'`` (NaN when every
target is ignored, with a zero gradient), as torch's ``nll_loss``. Forward and
backward run on the arrays: the gradient is ``-weight[t[i]]`` times the incoming
gradient at each picked entry and 0 elsewhere. With ``create_graph`` the backward is
written with differentiable ops, so it can be differentiated again.
"""

import ember
from ember.autograd import Function
from ember.backend import assert_on_device, data_of, tensor_like, xp_of


def out_of_bounds(target):
    """torch's error for a class index outside ``[0, C)``."""
    return IndexError(f"Target {target} is out of bounds.")


def check_targets(like, t, kept, n_classes):
    """Raise :func:`out_of_bounds` for the first kept target (array ``t``) outside
    ``[0, n_classes)``: at once on the CPU, at the next synchronisation on a GPU."""
    bad = kept & ((t < 0) | (t >= n_classes))
    assert_on_device(like, "class index target", bad.any(),
                     lambda: t.reshape(-1)[bad.reshape(-1).argmax()], out_of_bounds)


def _picked_terms(input, t, weight, ignore_index, class_dim, xp):
    """``(safe targets, kept mask, per-target weight with 0 where ignored)`` as arrays;
    raises torch's IndexError for a target outside ``[0, C)``."""
    x = data_of(input)
    kept = t != ignore_index
    check_targets(input, t, kept, x.shape[class_dim])
    safe = xp.where(kept, t, 0)
    if weight is None:
        w = kept.astype(x.dtype)
    else:
        w = xp.where(kept, weight[safe], 0).astype(x.dtype, copy=False)
    return safe, kept, w


class NegativeLogLikelihood(Function):
    """``nll_loss`` of ``input`` (class dim ``class_dim``) against int64 ``target``."""

    backward_name = "NllLossBackward0"

    @staticmethod
    def forward(ctx, input, target, weight, ignore_index, reduction, class_dim):
        xp = xp_of(input)
        x = data_of(input)
        t = data_of(target).astype(xp.int64, copy=False)
        w_classes = None if weight is None else data_of(weight)
        safe, kept, w = _picked_terms(input, t, w_classes, ignore_index, class_dim, xp)
        index = xp.expand_dims(safe, class_dim)
        picked = xp.take_along_axis(x, index, class_dim).squeeze(class_dim)
        loss = xp.where(kept, -picked * w, 0).astype(x.dtype, copy=False)
        coefficients = -w
        if reduction != "none":
            loss = loss.sum()
        if reduction == "mean":
            # decided on the device: every target ignored gives NaN and a zero gradient
            some = kept.any()
            total = xp.where(some, w.sum(), 1)
            loss = xp.where(some, loss / total, xp.nan)
            coefficients = (coefficients / total).astype(w.dtype, copy=False)
        ctx.index, ctx.class_dim, ctx.coefficients = index, class_dim, coefficients
        ctx.input_shape = x.shape
        return tensor_like(xp.asarray(loss, dtype=x.dtype), input)

    @staticmethod
    def backward(ctx, grad):
        if not ctx.needs_input_grad[0]:
            return None, None, None, None, None, None
        coefficients = ctx.coefficients
        if ember.is_grad_enabled():
            return (_grad_as_ops(ctx, grad, coefficients),) + (None,) * 5
        xp = xp_of(grad)
        g = data_of(grad)
        values = xp.expand_dims((coefficients * g).astype(g.dtype, copy=False), ctx.class_dim)
        out = xp.zeros(ctx.input_shape, dtype=g.dtype)
        xp.put_along_axis(out, ctx.index, values, ctx.class_dim)
        return (tensor_like(out, grad),) + (None,) * 5


class NegativeLogLikelihood2d(NegativeLogLikelihood):
    """:class:`NegativeLogLikelihood` of inputs with spatial dims, named as torch names it."""

    backward_name = "NllLoss2DBackward0"


def _grad_as_ops(ctx, grad, coefficients):
    """The input gradient as differentiable ops on ``grad`` (for ``create_graph``)."""
    index = tensor_like(ctx.index, grad)
    values = (grad * tensor_like(coefficients.astype(data_of(grad).dtype), grad)).unsqueeze(ctx.class_dim)
    zeros = ember.zeros(ctx.input_shape, dtype=grad.dtype, device=grad.device)
    return zeros.scatter(ctx.class_dim, index, values)
