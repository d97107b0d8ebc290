"""Reduction arguments shared by every loss: the ``reduction`` strings and the
legacy ``size_average``/``reduce`` flags, mapped as torch maps them."""

import warnings

_VALID = ("none", "mean", "sum")


def legacy_get_string(size_average, reduce, emit_warning=True):
    """The ``reduction`` string that the deprecated flags stand for.

    ``None`` counts as ``True`` for both; ``reduce=False`` wins (``'none'``), then
    ``size_average`` picks ``'mean'`` or ``'sum'``. Warns, as torch does, that the
    flags are deprecated.
    """
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        ret = "mean"
    elif reduce:
        ret = "sum"
    else:
        ret = "none"
    if emit_warning:
        warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
                      stacklevel=3)
    return ret


def resolve(size_average, reduce, reduction):
    """The effective reduction: the legacy flags override ``reduction`` when given."""
    if size_average is not None or reduce is not None:
        return legacy_get_string(size_average, reduce)
    return check(reduction)


def check(reduction):
    """Validate ``reduction`` (``'elementwise_mean'`` is the old spelling of ``'mean'``)."""
    if reduction in _VALID:
        return reduction
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.",
                      stacklevel=3)
        return "mean"
    raise ValueError(f"{reduction} is not a valid value for reduction")


def apply(loss, reduction):
    """Reduce the elementwise ``loss`` tensor: unchanged, mean or sum."""
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    return loss.sum()


def sizes(t):
    """A shape written as torch writes it in messages: ``[3, 5]``."""
    return str(list(t.shape))
