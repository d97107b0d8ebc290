"""Classification losses: negative log likelihood and cross entropy over class
indices or class probabilities, binary cross entropy (on probabilities and on
logits), soft-margin losses, and the multi-class / multi-label hinge losses.

The forms are the numerically stable ones (log_softmax-based cross entropy,
``softplus`` written with a detached shift for logits), so extreme scores stay
finite. Gradients come from autograd, except for binary cross entropy whose
backward is torch's clamped formula (finite at inputs of exactly 0 and 1), itself
made of differentiable ops so that double backward works.
"""

import ember
from ember.autograd import Function
from ember.backend import FLOATING, assert_in_range, check_dtype, data_of, has_own_kernel, refuse_on_device

from . import _reduction
from .nll import ClassIndexLoss, ClassIndexLoss2d, check_targets
from .._checks import real, tensor_arg

__all__ = [
    "nll_loss", "cross_entropy", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "soft_margin_loss", "multilabel_soft_margin_loss", "multi_margin_loss", "multilabel_margin_loss",
]


def _softplus(x):
    """``log(1 + exp(x))`` without overflow; the shift is detached because the
    expression does not depend on it, so the gradient is exactly ``sigmoid(x)``."""
    m = x.detach().clamp(min=0)
    return m + ((-m).exp() + (x - m).exp()).log()


# ------------------------------------------------------------------ class indices
def _check_class_target(input, target, weight, ignore_index):
    """Validate an N-d class-index target against ``input``; return ``(class_dim, C)``."""
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    if target.dtype not in (ember.int64, ember.uint8):
        raise RuntimeError(
            f"expected target dtype to be Long or Byte, but got {target.dtype.scalar_name}")
    if input.dim() == 1:
        if target.dim() > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if target.dim() == 1 and target.shape[0] != 1:
            raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {target.shape[0]}")
    else:
        tb = target.shape[0] if target.dim() > 0 else 0
        if input.shape[0] != tb:
            raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size ({tb}).")
        if input.dim() == 2 and target.dim() != 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if input.dim() == 4 and target.dim() != 3:
            raise RuntimeError(
                f"only batches of spatial targets supported (3D tensors) but got targets of dimension: {target.dim()}")
        expected = (input.shape[0],) + tuple(input.shape[2:])
        if input.dim() > 2 and tuple(target.shape) != expected:
            raise RuntimeError(f"Expected target size {list(expected)}, got {_reduction.sizes(target)}")
    class_dim = 0 if input.dim() == 1 else 1
    n_classes = input.shape[class_dim]
    if weight is not None and (weight.dim() != 1 or weight.shape[0] != n_classes):
        raise RuntimeError(
            f"weight tensor should be defined either for all {n_classes} classes or no classes but got weight "
            f"tensor of shape: {_reduction.sizes(weight)}")
    if weight is not None and weight.dtype != input.dtype:
        raise RuntimeError(f"expected scalar type {input.dtype.scalar_name} but found "
                           f"{weight.dtype.scalar_name}")
    return class_dim, n_classes


def _kept_mean(total, w, kept):
    """``total / w.sum()``; when every target is ignored: NaN, with a zero gradient
    (torch's result), rather than the NaN gradient of 0/0."""
    none_kept = ~kept.any()
    denom = ember.where(none_kept, ember.ones((), dtype=w.dtype, device=w.device), w.sum())
    nan = ember.where(none_kept, ember.full((), float("nan"), dtype=total.dtype, device=total.device),
                      ember.zeros((), dtype=total.dtype, device=total.device))
    return total / denom + nan


def _class_terms(input, target, weight, ignore_index, class_dim, n_classes):
    """Per-element pieces of the class-index losses: ``(target to gather with,
    kept mask, per-element class weight with 0 on ignored targets)``."""
    target = target.long()
    kept = target != ignore_index
    check_targets(target, data_of(target), ignore_index, n_classes)
    safe = ember.where(kept, target, ember.zeros((), dtype=target.dtype, device=target.device))
    if weight is None:
        w = kept.to(input.dtype)
    else:
        w = ember.where(kept, weight.index_select(0, safe.reshape(-1)).reshape(safe.shape),
                        ember.zeros((), dtype=weight.dtype, device=weight.device))
    return safe, kept, w


def _class_index_loss(input, target, weight, ignore_index, reduction, label_smoothing, normalize):
    """NLL of the log-probabilities ``input``, or with ``normalize`` the cross entropy
    of the scores ``input`` (with ``label_smoothing``), against class indices."""
    class_dim, n_classes = _check_class_target(input, target, weight, ignore_index)
    if input.dim() == 1 and target.dim() == 1:
        target = target.reshape(())
    if weight is None or not weight.requires_grad:
        if normalize and not has_own_kernel("losses.class_index_loss", input):
            # a backend that does not fuse the log-softmax in (the CPU) runs its own, as
            # torch's graph does: the scores are then freed, the log-probabilities kept
            input, normalize = input.log_softmax(class_dim), False
        node = ClassIndexLoss if input.dim() <= 2 else ClassIndexLoss2d
        return node.apply(input, target, weight, ignore_index, reduction, label_smoothing, normalize)
    # a weight that requires grad gets its gradient through the composite form
    logp = input.log_softmax(class_dim) if normalize else input
    safe, kept, w = _class_terms(logp, target, weight, ignore_index, class_dim, n_classes)
    picked = logp.gather(class_dim, safe.unsqueeze(class_dim)).squeeze(class_dim)
    zero = ember.zeros((), dtype=input.dtype, device=input.device)
    loss = ember.where(kept, -picked * w, zero)
    if label_smoothing > 0:
        # the uniform part is the class-weighted sum of -log p
        smooth = ember.where(kept, -(logp * _class_view(weight, input.dim(), class_dim)).sum(class_dim), zero)
        loss = loss * (1 - label_smoothing) + smooth * (label_smoothing / n_classes)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    # weighted mean over the kept targets: nan when every target is ignored
    return _kept_mean(loss.sum(), w, kept)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log likelihood of class indices: ``-weight[t] * input[n, t]``.

    Args:
        input (Tensor): log-probabilities, ``(N, C)``, ``(C)`` or
            ``(N, C, d1, ..., dK)``.
        target (Tensor): class indices in ``[0, C)`` (int64 or uint8), shape ``(N)``,
            ``()`` or ``(N, d1, ..., dK)``.
        weight (Tensor, optional): per-class weights of size ``C``.
        size_average, reduce (bool, optional): deprecated; see ``reduction``.
        ignore_index (int): target value that contributes neither loss nor
            gradient. Default -100.
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. ``'mean'`` divides by the
            total weight of the targets that are not ignored. Default ``'mean'``.

    Examples::

        >>> logp = ember.tensor([[0.0, -1.0], [-2.0, 0.0]])
        >>> F.nll_loss(logp, ember.tensor([1, 0]))
        tensor(1.5000)
    """
    tensor_arg(input, "nll_loss", "input")
    tensor_arg(target, "nll_loss", "target")
    reduction = _reduction.resolve(size_average, reduce, reduction)
    return _class_index_loss(input, target, weight, ignore_index, reduction, 0.0, False)


def _class_view(weight, ndim, class_dim):
    shape = [1] * ndim
    shape[class_dim] = weight.shape[0]
    return weight.reshape(shape)


def _cross_entropy_probs(input, target, weight, reduction, label_smoothing):
    if not target.dtype.is_floating_point:
        raise RuntimeError(
            "Expected floating point type for target with class probabilities, got "
            f"{target.dtype.scalar_name}")
    class_dim = 0 if input.dim() == 1 else 1
    n_classes = input.shape[class_dim]
    if weight is not None and (weight.dim() != 1 or weight.shape[0] != n_classes):
        raise RuntimeError(
            f"cross_entropy: weight tensor should be defined either for all {n_classes} classes or no classes "
            f"but got weight tensor of shape: {_reduction.sizes(weight)}")
    logp = input.log_softmax(class_dim)
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / n_classes
    terms = logp * target
    if weight is not None:
        terms = terms * _class_view(weight, input.dim(), class_dim)
    if reduction == "none":
        return -terms.sum(class_dim)
    if reduction == "sum":
        return -terms.sum()
    count = input.numel() // n_classes if n_classes else 0
    total = -terms.sum()
    return total / count if count else total * float("nan")


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross entropy between the softmax of ``input`` scores and ``target``:
    ``nll_loss(log_softmax(input, class_dim), target)`` for class indices.

    Args:
        input (Tensor): unnormalised scores (logits), ``(N, C)``, ``(C)`` or
            ``(N, C, d1, ..., dK)``.
        target (Tensor): class indices (int64), shape ``(N)``, ``()`` or
            ``(N, d1, ..., dK)``; or class probabilities (floating, same shape as
            ``input``).
        weight (Tensor, optional): per-class weights of size ``C``.
        size_average, reduce (bool, optional): deprecated; see ``reduction``.
        ignore_index (int): class index that is skipped (index targets only).
            Default -100.
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default ``'mean'``.
        label_smoothing (float): in ``[0, 1]``; mixes the target with the uniform
            distribution over classes by this amount. Default 0.

    Examples::

        >>> F.cross_entropy(ember.tensor([[2.0, 0.0, 0.0]]), ember.tensor([0]))
        tensor(0.2395)
    """
    tensor_arg(input, "cross_entropy", "input")
    tensor_arg(target, "cross_entropy", "target")
    reduction = _reduction.resolve(size_average, reduce, reduction)
    if input.dim() == 0 and target.dim() == 0:    # torch reads this as class probabilities
        if not target.dtype.is_floating_point:
            raise RuntimeError("Expected floating point type for target with class probabilities, got "
                               f"{target.dtype.scalar_name}")
        raise IndexError("Dimension specified as 1 but tensor has no dimensions")
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    real(label_smoothing, "cross_entropy", "label_smoothing", error=RuntimeError)
    if label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if input.shape == target.shape:
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        return _cross_entropy_probs(input, target, weight, reduction, label_smoothing)
    check_dtype(input, "log_softmax_lastdim_kernel_impl", FLOATING)  # torch's log-softmax refuses it first
    return _class_index_loss(input, target, weight, ignore_index, reduction, float(label_smoothing), True)


# ------------------------------------------------------------------ binary
class _BinaryCrossEntropy(Function):
    """Elementwise ``-(t*log(x) + (1-t)*log(1-x))`` with the logs clamped at -100."""

    @staticmethod
    def forward(ctx, input, target):
        ctx.save_for_backward(input, target)
        return -(target * input.log().clamp(min=-100) + (1 - target) * (-input).log1p().clamp(min=-100))

    @staticmethod
    def backward(ctx, grad):
        input, target = ctx.saved_tensors
        g_input = g_target = None
        if ctx.needs_input_grad[0]:
            # the clamp keeps the gradient finite where the input is exactly 0 or 1
            g_input = grad * (input - target) / (input * (1 - input)).clamp(min=1e-12)
        if ctx.needs_input_grad[1]:
            g_target = grad * ((-input).log1p() - input.log())
        return g_input, g_target


def _check_probabilities(values, name):
    """torch's RuntimeError unless every element of ``values`` is in ``[0, 1]``
    (written as "not inside", so that NaN is refused too); on a GPU it is raised at
    the next synchronisation."""
    if values.numel():
        outside = ~((values >= 0) & (values <= 1)).all()
        refuse_on_device(values, "probability " + name, data_of(outside),
                         RuntimeError(f"all elements of {name} should be between 0 and 1"))


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Binary cross entropy between probabilities ``input`` and ``target``:
    ``-weight * (t*log(x) + (1-t)*log(1-x))``, each log clamped to at least -100.

    Args:
        input (Tensor): probabilities in ``[0, 1]``, any shape.
        target (Tensor): same shape, values in ``[0, 1]``.
        weight (Tensor, optional): rescaling weight broadcast to ``target``'s shape.
        size_average, reduce (bool, optional): deprecated; see ``reduction``.
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default ``'mean'``.

    Examples::

        >>> F.binary_cross_entropy(ember.tensor([0.5]), ember.tensor([1.0]))
        tensor(0.6931)
    """
    tensor_arg(input, "binary_cross_entropy", "input")
    tensor_arg(target, "binary_cross_entropy", "target")
    reduction = _reduction.resolve(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(
            f"Using a target size ({target.size()}) that is different to the input size ({input.size()}) "
            "is not supported; make the two sizes equal.")
    if target.dtype != input.dtype:
        raise RuntimeError(f"Found dtype {target.dtype.scalar_name} but expected "
                           f"{input.dtype.scalar_name}")
    _check_probabilities(input, "input")
    _check_probabilities(target, "target")
    loss = _BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        ws, ts = tuple(weight.shape), tuple(target.shape)
        if len(ws) > len(ts) or any(a != 1 and a != b for a, b in zip(ws[::-1], ts[::-1])):
            raise RuntimeError(
                f"The weight of shape {list(ws)} cannot be broadcast to the target's shape {list(ts)}")
        loss = loss * weight
    return _reduction.apply(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """Binary cross entropy on logits: ``sigmoid`` and BCE in one stable expression,
    ``(1-t)*x + (1 + (pos_weight-1)*t) * log(1 + exp(-x))``, times ``weight``.

    Args:
        input (Tensor): logits, any shape.
        target (Tensor): same shape, values in ``[0, 1]``.
        weight (Tensor, optional): rescaling weight broadcast to ``input``.
        size_average, reduce (bool, optional): deprecated; see ``reduction``.
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default ``'mean'``.
        pos_weight (Tensor, optional): weight of the positive examples, broadcast
            along the last (class) dimension.

    Examples::

        >>> F.binary_cross_entropy_with_logits(ember.tensor([0.0]), ember.tensor([1.0]))
        tensor(0.6931)
    """
    tensor_arg(input, "binary_cross_entropy_with_logits", "input")
    tensor_arg(target, "binary_cross_entropy_with_logits", "target")
    reduction = _reduction.resolve(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.size()}) must be the same as input size ({input.size()})")
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"log_sigmoid_cpu\" not implemented for '{input.dtype.scalar_name}'")
    if not target.dtype.is_floating_point:
        raise RuntimeError(f"result type {input.dtype.scalar_name} can't be cast to the desired "
                           f"output type {target.dtype.scalar_name}")
    softplus_neg = _softplus(-input)
    if pos_weight is not None:
        softplus_neg = softplus_neg * ((pos_weight - 1) * target + 1)
    loss = (1 - target) * input + softplus_neg
    if weight is not None:
        loss = loss * weight
    return _reduction.apply(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Two-class logistic loss ``log(1 + exp(-target * input))`` for targets of
    ``1`` or ``-1`` (computed without overflow).

    Args:
        input (Tensor): scores, any shape.
        target (Tensor): ``1`` or ``-1``, same shape.
        size_average, reduce (bool, optional): deprecated; see ``reduction``.
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default ``'mean'``.
    """
    tensor_arg(input, "soft_margin_loss", "input")
    tensor_arg(target, "soft_margin_loss", "target")
    reduction = _reduction.resolve(size_average, reduce, reduction)
    if not input.dtype.is_floating_point:   # torch writes the result in the input's dtype
        raise RuntimeError(f"result type {ember.promote_types(input.dtype, ember.float32).scalar_name} can't be "
                           f"cast to the desired output type {input.dtype.scalar_name}")
    return _reduction.apply(_softplus(-target * input).to(input.dtype), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Multi-label one-versus-all logistic loss, averaged over the ``C`` classes:
    ``-(t*logsigmoid(x) + (1-t)*logsigmoid(-x))``.

    Args:
        input (Tensor): scores ``(N, C)`` or ``(C)``.
        target (Tensor): 0/1 labels, same shape.
        weight (Tensor, optional): per-class weights, broadcast to ``input``.
        size_average, reduce (bool, optional): deprecated; see ``reduction``.
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default ``'mean'``.
    """
    tensor_arg(input, "multilabel_soft_margin_loss", "input")
    tensor_arg(target, "multilabel_soft_margin_loss", "target")
    if size_average is not None or reduce is not None:
        reduction = _reduction.legacy_get_string(size_average, reduce)
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"log_sigmoid_cpu\" not implemented for '{input.dtype.scalar_name}'")
    loss = target * _softplus(-input) + (1 - target) * _softplus(input)
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(class_dim) / input.shape[class_dim]
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(reduction + " is not valid")


# ------------------------------------------------------------------ hinge losses
def _as_matrix(input, target):
    """Check the input / target of the hinge losses and view the input as ``(N, C)``."""
    if input.dim() > 2 or (input.dim() == 2 and input.shape[1] == 0) or (input.dim() == 1 and input.shape[0] == 0):
        raise RuntimeError(
            f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: {_reduction.sizes(input)}")
    if target.dtype != ember.int64:
        raise RuntimeError(f"expected scalar type Long but found {target.dtype.scalar_name}")
    return input.reshape(-1, input.shape[-1]) if input.dim() else input.reshape(1, 1)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """Multi-class hinge loss: for each sample ``sum_{j != y} max(0, margin - x[y] +
    x[j])**p / C``, scaled by ``weight[y]``.

    Args:
        input (Tensor): scores ``(N, C)`` or ``(C)``.
        target (Tensor): class indices (int64), ``(N)`` or ``()``.
        p (int): 1 or 2. Default 1.
        margin (float): Default 1.
        weight (Tensor, optional): per-class weights of size ``C``.
        size_average, reduce (bool, optional): deprecated; see ``reduction``.
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default ``'mean'``.
    """
    tensor_arg(input, "multi_margin_loss", "input")
    tensor_arg(target, "multi_margin_loss", "target")
    reduction = _reduction.resolve(size_average, reduce, reduction)
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    real(margin, "multi_margin_loss", "margin")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    x = _as_matrix(input, target)
    n, c = x.shape
    if target.numel() != n or (input.dim() == 2 and target.dim() != 1) or target.dim() > 1:
        raise RuntimeError(
            "multi_margin_loss: target tensor should be 1-D with size equal to the number of input samples "
            f"(batch size). Expected target size [{n}], but got {_reduction.sizes(target)}. Input has shape "
            f"{_reduction.sizes(input)}.")
    if weight is not None and weight.shape[0] != c:
        raise RuntimeError(f"inconsistent weight size, expected {c} but got {_reduction.sizes(weight)}")
    t = target.reshape(n, 1)
    # at once on the CPU; on a GPU at its next synchronisation, never a wait
    assert_in_range(target, "multi_margin target", data_of(t), 0, c, lambda _: RuntimeError("target out of range"))
    x_y = x.gather(1, t)
    z = (margin - x_y + x).clamp(min=0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight.index_select(0, t.reshape(-1)).reshape(n, 1)
    is_y = ember.arange(c, device=x.device) == t
    zero = ember.zeros((), dtype=z.dtype, device=z.device)
    loss = ember.where(is_y, zero, z).sum(1) / c
    if input.dim() < 2:
        loss = loss.reshape(tuple(target.shape))
    return _reduction.apply(loss, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Multi-label hinge loss: for each sample ``sum_{j, k} max(0, 1 - (x[y_j] -
    x[k])) / C`` over target classes ``y_j`` and non-target classes ``k``.

    The targets of a sample are the leading entries of its row of ``target`` up
    to the first negative value (e.g. ``[3, 0, -1, 1]`` means classes 3 and 0).

    Args:
        input (Tensor): scores ``(N, C)`` or ``(C)``.
        target (Tensor): int64, same shape, padded with ``-1``.
        size_average, reduce (bool, optional): deprecated; see ``reduction``.
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default ``'mean'``.
    """
    tensor_arg(input, "multilabel_margin_loss", "input")
    tensor_arg(target, "multilabel_margin_loss", "target")
    reduction = _reduction.resolve(size_average, reduce, reduction)
    x = _as_matrix(input, target)
    n, c = x.shape
    if (input.dim() <= 1 and target.numel() != c) or (input.dim() == 2 and target.shape != input.shape):
        raise RuntimeError(
            f"inconsistent target size: {_reduction.sizes(target)} for input of size: {_reduction.sizes(input)}")
    t = target.reshape(n, c)
    assert_in_range(target, "multilabel_margin target", data_of(t), -1, c,
                    lambda _: RuntimeError("argument #2 'target' is out of range"))
    # a target entry counts while no negative entry came before it (or at it)
    valid = (t < 0).long().cumsum(1) == 0
    safe = ember.where(valid, t, ember.zeros((), dtype=t.dtype, device=t.device))
    classes = ember.arange(c, device=x.device)
    is_target = ((safe.unsqueeze(2) == classes) & valid.unsqueeze(2)).any(1)          # (N, C)
    x_t = x.gather(1, safe)                                                             # (N, J)
    hinge = (1 - x_t.unsqueeze(2) + x.unsqueeze(1)).clamp(min=0)                        # (N, J, K)
    pairs = valid.unsqueeze(2) & is_target.logical_not().unsqueeze(1)
    zero = ember.zeros((), dtype=x.dtype, device=x.device)
    loss = ember.where(pairs, hinge, zero).sum((1, 2)) / c
    if input.dim() < 2:
        loss = loss.reshape(())
    return _reduction.apply(loss, reduction)
