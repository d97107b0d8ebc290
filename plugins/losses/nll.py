"""The class-index losses, negative log likelihood and cross entropy, as one
autograd node each.

``loss[i] = -weight[t[i]] * logp[i, t[i]]`` (0 where ``t[i] == ignore_index``), with
``logp`` the input itself (NLL) or its log-softmax over the classes (cross entropy,
which may mix in label smoothing); summed, or divided by the kept targets' total
weight for ``'mean'`` (NaN when every target is ignored, with a zero gradient), as
torch's ``nll_loss`` and ``cross_entropy``. Forward and backward are one kernel
each (``losses.class_index_loss`` and its backward, see ``kernels.py``), so that
the cuda backend computes each in one launch. With ``create_graph`` the backward
is written with differentiable ops, so it can be differentiated again.
"""

import math

import ember
from ember.autograd import Function
from ember.backend import assert_in_range, data_of, kernel_for, tensor_like, xp_of

from .kernels import counted_targets, target_weights


def out_of_bounds(target):
    """torch's error for a class index outside ``[0, C)``."""
    return IndexError(f"Target {target} is out of bounds.")


def check_targets(like, t, ignore_index, n_classes):
    """Raise :func:`out_of_bounds` for the first target (array ``t``) but
    ``ignore_index`` outside ``[0, n_classes)``: at once on the CPU, at the next
    synchronisation on a GPU."""
    assert_in_range(like, "class index target", t, 0, n_classes, out_of_bounds, skip=ignore_index)


class ClassIndexLoss(Function):
    """``nll_loss`` (``normalize`` False) or ``cross_entropy`` (``normalize`` True: the
    log-softmax is part of the node) of ``input`` against the class indices ``target``
    (class dim 1, or 0 for an unbatched ``(C)`` input with a ``()`` target), with
    ``label_smoothing`` (cross entropy only), through the ``losses.class_index_loss``
    kernels (see ``kernels.py``)."""

    backward_name = "NllLossBackward0"

    @staticmethod
    def forward(ctx, input, target, weight, ignore_index, reduction, label_smoothing, normalize):
        xp = xp_of(input)
        x = data_of(input)
        n_classes = x.shape[0 if x.ndim == 1 else 1]
        batch = 1 if x.ndim == 1 else x.shape[0]
        spatial = math.prod(x.shape[2:])
        x3 = x.reshape(batch, n_classes, spatial)
        t = data_of(target).astype(xp.int64, copy=False).reshape(batch, spatial)
        check_targets(input, t, ignore_index, n_classes)
        w = None if weight is None else data_of(weight)
        options = (w, ignore_index, label_smoothing, normalize)
        loss, target_weight = kernel_for("losses.class_index_loss", input)(x3, t, *options)
        scale = None
        if reduction == "none":
            loss = loss.reshape(target.shape)
        elif reduction == "mean":  # decided on the device: every target ignored gives NaN, zero gradient
            loss, scale = kernel_for("losses.class_index_mean", input)(loss, target_weight, t, ignore_index)
        else:
            loss = loss.sum()
        if normalize:
            ctx.save_for_backward(input)
        ctx.loss = (x3, t, options, reduction, scale)
        ctx.input_shape = x.shape
        return tensor_like(xp.asarray(loss, dtype=x.dtype), input)

    @staticmethod
    def backward(ctx, grad):
        if not ctx.needs_input_grad[0]:
            return (None,) * 7
        x3, t, options, reduction, scale = ctx.loss
        # saved for normalize only (its scores are read again): checks they were not changed
        input = ctx.saved_tensors[0] if ctx.saved_tensors else None
        if ember.is_grad_enabled():
            return (_grad_as_ops(ctx, grad, input),) + (None,) * 6
        xp = xp_of(grad)
        g = data_of(grad)
        if scale is not None:
            g = g * scale
        g = g.astype(x3.dtype, copy=False)
        # a reduced loss's gradient: one factor, read by every sample
        g = xp.ascontiguousarray(g.reshape(t.shape)) if reduction == "none" else g.reshape(())
        out = kernel_for("losses.class_index_loss_backward", grad)(x3, t, *options, g)
        return (tensor_like(out.reshape(ctx.input_shape), grad),) + (None,) * 6


class ClassIndexLoss2d(ClassIndexLoss):
    """:class:`ClassIndexLoss` of inputs with spatial dims, named as torch names it."""

    backward_name = "NllLoss2DBackward0"


def _grad_as_ops(ctx, grad, input):
    """The input gradient as differentiable ops on ``grad`` (and on ``input``, through
    the softmax, for cross entropy), for ``create_graph``: the formula of
    ``kernels.py``."""
    x3, t, (w, ignore_index, label_smoothing, normalize), reduction, scale = ctx.loss
    n, n_classes, spatial = x3.shape
    xp = xp_of(grad)
    counted, safe = counted_targets(xp, t, ignore_index, n_classes)
    wt = target_weights(xp, w, safe, counted, x3.dtype)
    g = grad if scale is None else grad * tensor_like(xp.asarray(scale, dtype=x3.dtype), grad)
    g = g.reshape(t.shape if reduction == "none" else (1, 1)).expand(n, spatial)
    a = g * tensor_like(wt * (1 - label_smoothing), grad)
    b = g * tensor_like(xp.where(counted, label_smoothing / n_classes, 0).astype(x3.dtype), grad)
    weights = 1 if w is None else tensor_like(w.reshape(1, -1, 1), grad)
    zeros = ember.zeros(x3.shape, dtype=grad.dtype, device=grad.device)
    out = (zeros - b.unsqueeze(1) * weights) - zeros.scatter(1, tensor_like(safe[:, None], grad), a.unsqueeze(1))
    if normalize:
        total = n_classes if w is None else tensor_like(w.sum(), grad)
        out = out + input.reshape(x3.shape).softmax(1) * (a + b * total).unsqueeze(1)
    return out.reshape(ctx.input_shape)
