"""Connectionist temporal classification: ``F.ctc_loss`` and ``nn.CTCLoss``.

The dynamic programmes (alpha forward, beta backward) are the family's
``losses.ctc_forward``/``losses.ctc_backward`` kernels: the Cython kernel ``_ctc``
on the cpu backend, one thread per batch item on the cuda backend.
Argument checks follow PyTorch's, with its messages, and run before the kernel
is entered, which checks every index it reads once more.
"""

import warnings

import numpy as np

import ember
from ember.autograd import Function, once_differentiable
from ember.backend import check_dtype, data_of, kernel_for, tensor_like, xp_of

from ._base import _Loss
from .._checks import tensor_arg

__all__ = ["ctc_loss", "CTCLoss"]

_CHECKED_FROM = "(while checking arguments for ctc_loss_allocate_outputs)"


def _reduction(reduction):
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.")
        return "mean"
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _lengths(value, name):
    """Lengths given as a Tensor, a sequence of ints or an int -> 1-D int64 array."""
    if isinstance(value, ember.Tensor):
        if value.is_floating_point() or value.dtype == ember.bool:
            raise RuntimeError(f"{name} must be integral")
        return np.ascontiguousarray(value.detach().cpu().numpy(), dtype=np.int64).reshape(-1)
    arr = np.asarray(value)
    if arr.dtype.kind not in "iu" or arr.ndim > 1:
        raise TypeError(f"ctc_loss(): argument '{name}' must be a tuple of ints or a Tensor, "
                        f"got {type(value).__name__}")
    return np.ascontiguousarray(arr, dtype=np.int64).reshape(-1)


def _targets_layout(targets, target_lengths, batch_size):
    """Flat int64 labels, each item's start, and the (item, label) pairs that
    the loss reads; checked as PyTorch checks them."""
    if targets.dim() not in (1, 2):
        raise RuntimeError(f"Expected 1 to 2 dimensions, but got {targets.dim()}-dimensional tensor "
                           f"for argument #2 'targets' {_CHECKED_FROM}")
    negative = target_lengths[target_lengths < 0]
    if negative.size:
        raise RuntimeError(f"Expected target_lengths to have value at least 0, but got value "
                           f"{int(negative[0])} {_CHECKED_FROM}")
    flat = np.ascontiguousarray(targets.detach().cpu().numpy(), dtype=np.int64)
    if targets.dim() == 1:          # concatenated
        total = int(target_lengths.sum())
        if flat.shape[0] != total:
            raise RuntimeError(f"Expected tensor to have size {total} at dimension 0, but got size "
                               f"{flat.shape[0]} for argument #2 'targets' {_CHECKED_FROM}")
        offsets = np.cumsum(target_lengths) - target_lengths
        items = np.repeat(np.arange(batch_size), target_lengths)
        return flat, np.ascontiguousarray(offsets, dtype=np.int64), (items, flat)
    n_rows, width = flat.shape       # padded (N, S)
    if n_rows != batch_size:
        raise RuntimeError(f"Expected tensor to have size {batch_size} at dimension 0, but got size "
                           f"{n_rows} for argument #2 'targets' {_CHECKED_FROM}")
    longest = int(target_lengths.max(initial=0))
    if width < longest:
        raise RuntimeError(f"Expected tensor to have size at least {longest} at dimension 1, but got "
                           f"size {width} for argument #2 'targets' {_CHECKED_FROM}")
    read = np.arange(width) < target_lengths[:, None]
    labels = (np.nonzero(read)[0], flat[read])
    return flat.reshape(-1), np.arange(batch_size, dtype=np.int64) * width, labels


def _check_labels(labels, num_classes, blank):
    """Every label that the loss reads must be a class index.

    PyTorch leaves this to the caller (and reads arbitrary memory when it is
    violated); here it is an error. A label equal to blank is accepted and
    computed as torch computes it.  ``labels``: (item, label) of each label read.
    """
    items, values = labels
    bad = np.flatnonzero((values < 0) | (values >= num_classes))
    if bad.size:
        b, v = int(items[bad[0]]), int(values[bad[0]])
        raise RuntimeError(f"ctc_loss(): target {b} contains a label outside [0, {num_classes}) "
                           f"({v}); targets must be class indices")


class _CTC(Function):
    """Per-item negative log-likelihood of the targets; backward as in PyTorch. The
    recursions are the ``losses.ctc_forward``/``losses.ctc_backward`` kernels of
    the log-probabilities' backend; the index arrays (checked on the host) are
    copied to it."""

    @staticmethod
    def forward(ctx, log_probs, targets, offsets, input_lengths, target_lengths, blank, zero_infinity):
        xp = xp_of(log_probs)
        lp = data_of(log_probs)
        indices = tuple(xp.asarray(a) for a in (targets, offsets, input_lengths, target_lengths))
        width = 2 * int(target_lengths.max(initial=0)) + 1
        log_alpha, nll = kernel_for("losses.ctc_forward", log_probs)(lp, *indices, blank, width)
        # log_probs itself is saved so that changing it in place before backward is caught
        ctx.save_for_backward(log_probs)
        ctx.arrays = (indices, log_alpha, nll)
        ctx.blank, ctx.zero_infinity = blank, zero_infinity
        out = xp.where(nll == xp.inf, 0, nll).astype(lp.dtype) if zero_infinity else nll
        return tensor_like(out, log_probs)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_nll):
        (log_probs,) = ctx.saved_tensors
        lp = data_of(log_probs)
        indices, log_alpha, nll = ctx.arrays
        go = data_of(grad_nll).astype(lp.dtype, copy=False).reshape(-1)
        grad = kernel_for("losses.ctc_backward", log_probs)(go, lp, *indices, ctx.blank, log_alpha, nll,
                                                            ctx.zero_infinity)
        return tensor_like(grad, log_probs), None, None, None, None, None, None


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    r"""The connectionist temporal classification loss.

    Sums the probability of every alignment of each target sequence with its
    input sequence (labels may repeat over frames and be separated by
    ``blank``) and returns the negative log of that sum.  See :class:`CTCLoss`.

    Args:
        log_probs: :math:`(T, N, C)` or :math:`(T, C)` log-probabilities of the
            classes per frame, e.g. the output of ``log_softmax(dim=2)``.
        targets: :math:`(N, S)` padded targets, or the :math:`(\sum
            target\_lengths)` targets of all items one after the other; class
            indices in ``[0, C)`` other than ``blank``.
        input_lengths: :math:`(N)` or :math:`()` number of valid frames per
            item (Tensor or tuple of ints), each at most ``T``.
        target_lengths: :math:`(N)` or :math:`()` length of each target.
        blank (int): index of the blank label. Default: 0.
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. ``'mean'`` divides
            each loss by its target length, then averages over the batch.
            Default: ``'mean'``.
        zero_infinity (bool): replace infinite losses (targets that cannot be
            aligned with their input) and their gradients by zero.
            Default: ``False``.

    Returns:
        The loss: :math:`(N)` (or :math:`()` unbatched) for ``'none'``, a
        scalar otherwise.

    Examples::

        >>> log_probs = ember.randn(50, 16, 20).log_softmax(2).detach().requires_grad_()
        >>> targets = ember.randint(1, 20, (16, 30), dtype=ember.long)
        >>> input_lengths = ember.full((16,), 50, dtype=ember.long)
        >>> target_lengths = ember.randint(10, 30, (16,), dtype=ember.long)
        >>> loss = ember.nn.functional.ctc_loss(log_probs, targets, input_lengths, target_lengths)
        >>> loss.backward()
    """
    tensor_arg(log_probs, "ctc_loss", "log_probs")
    tensor_arg(targets, "ctc_loss", "targets")
    reduction = _reduction(reduction)
    if not isinstance(log_probs, ember.Tensor) or not isinstance(targets, ember.Tensor):
        raise TypeError(f"ctc_loss(): log_probs and targets must be Tensors, got "
                        f"{type(log_probs).__name__} and {type(targets).__name__}")
    if isinstance(blank, bool) or not isinstance(blank, (int, np.integer)):
        raise TypeError(f"ctc_loss(): argument 'blank' must be int, not {type(blank).__name__}")
    batched = log_probs.dim() == 3
    if not batched:
        if log_probs.dim() != 2:
            raise RuntimeError(f"Expected 3-dimensional tensor, but got {log_probs.dim() + 1}-dimensional "
                               f"tensor for argument #1 'log_probs' {_CHECKED_FROM}")
        log_probs = log_probs.unsqueeze(1)
        if targets.dim() == 1:
            targets = targets.unsqueeze(0)
    if log_probs.numel() == 0:
        raise RuntimeError("log_probs tensor must not be empty")
    check_dtype(log_probs, "ctc_loss_cpu", ("float32", "float64"))
    T, N, C = log_probs.shape
    il = _lengths(input_lengths, "input_lengths")
    tl = _lengths(target_lengths, "target_lengths")
    if not 0 <= blank < C:
        raise RuntimeError("blank must be in label range")
    if il.shape[0] != N:
        raise RuntimeError("input_lengths must be of size batch_size")
    if tl.shape[0] != N:
        raise RuntimeError("target_lengths must be of size batch_size")
    flat, offsets, labels = _targets_layout(targets, tl, N)
    bad = np.flatnonzero((il < 0) | (il > T))
    if bad.size:
        n = int(il[bad[0]])
        bound = "least 0" if n < 0 else f"most {T}"
        raise RuntimeError(f"Expected input_lengths to have value at {bound}, but got value {n} "
                           f"{_CHECKED_FROM}")
    _check_labels(labels, C, blank)
    loss = _CTC.apply(log_probs, flat, offsets, il, tl, int(blank), bool(zero_infinity))
    if reduction == "mean":
        divisor = ember.from_numpy(np.maximum(tl, 1).astype(np.dtype(log_probs.dtype.name)))
        if divisor.device != loss.device:
            divisor = divisor.to(loss.device)
        return (loss / divisor).mean()
    if reduction == "sum":
        return loss.sum()
    return loss if batched else loss.squeeze(0)


class CTCLoss(_Loss):
    r"""The connectionist temporal classification loss (Graves et al., 2006).

    For unsegmented sequence labelling: the loss of an item is the negative
    log of the total probability of all alignments of its target with its
    input frames, where an alignment repeats labels over consecutive frames
    and may put the ``blank`` label between them.  Targets must not be longer
    than their inputs can hold (else the loss is infinite).

    Args:
        blank (int): index of the blank label. Default: 0.
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``: no reduction, the
            batch mean of the losses divided by their target lengths, or the
            sum. Default: ``'mean'``.
        zero_infinity (bool): replace infinite losses and their gradients by
            zero. Default: ``False``.

    Shape:
        - Log_probs: :math:`(T, N, C)` or :math:`(T, C)`, log-probabilities
          (e.g. ``log_softmax(dim=2)`` of the network's output).
        - Targets: :math:`(N, S)` padded, or :math:`(\sum target\_lengths)`
          concatenated.
        - Input_lengths: :math:`(N)` or :math:`()`, each at most :math:`T`.
        - Target_lengths: :math:`(N)` or :math:`()`.
        - Output: scalar, or :math:`(N)` (:math:`()` unbatched) for ``'none'``.

    Examples::

        >>> ctc = ember.nn.CTCLoss()
        >>> log_probs = ember.randn(50, 16, 20).log_softmax(2).detach().requires_grad_()
        >>> targets = ember.randint(1, 20, (16, 30), dtype=ember.long)
        >>> input_lengths = ember.full((16,), 50, dtype=ember.long)
        >>> target_lengths = ember.randint(10, 30, (16,), dtype=ember.long)
        >>> loss = ctc(log_probs, targets, input_lengths, target_lengths)
        >>> loss.backward()
    """

    def __init__(self, blank=0, reduction="mean", zero_infinity=False):
        super().__init__(reduction=reduction)
        self.blank = blank
        self.zero_infinity = zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        return ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank,
                        self.reduction, self.zero_infinity)
