"""Helpers shared by the distributions: broadcasting parameters, probabilities <-> logits."""

import functools
import numbers

import numpy as np

from .. import _dtype
from .._creation import tensor
from .._ops.softmax import softmax
from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad


def broadcast_all(*values):
    """The values as tensors of one broadcast shape. Numbers take the dtype and device
    of the first tensor given, or the default dtype when all are numbers."""
    for v in values:
        if not isinstance(v, (Tensor, numbers.Number)):
            raise ValueError(f"Input arguments must all be instances of numbers.Number or ember.Tensor, "
                             f"but got {type(v).__name__}")
    ref = next((v for v in values if isinstance(v, Tensor)), None)
    like = dict(dtype=ref.dtype, device=ref.device) if ref is not None else dict(dtype=_dtype.get_default_dtype())
    tensors = [v if isinstance(v, Tensor) else tensor(v, **like) for v in values]
    shapes = [tuple(t.shape) for t in tensors]
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        raise RuntimeError(f"the parameters' shapes {', '.join(map(str, shapes))} cannot be broadcast "
                           f"together") from None
    return tuple(t if tuple(t.shape) == shape else t.expand(shape) for t in tensors)


class lazy_property:
    """A property computed on first use (with gradients recorded) and then kept on the
    instance; setting the attribute in ``__init__`` skips the computation."""

    def __init__(self, compute):
        self.compute = compute
        functools.update_wrapper(self, compute)

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        with enable_grad():
            value = self.compute(instance)
        instance.__dict__[self.compute.__name__] = value
        return value


def clamp_probs(probs):
    """``probs`` kept inside ``[eps, 1 - eps]`` (eps of its dtype), so their logs are finite."""
    eps = float(np.finfo(probs.dtype.np).eps)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    """Log-probabilities of events (``is_binary``: the log-odds of the event ``1``)."""
    clamped = clamp_probs(probs)
    if is_binary:
        return clamped.log() - (-clamped).log1p()
    return clamped.log()


def logits_to_probs(logits, is_binary=False):
    """Probabilities from (unnormalised) log-probabilities along the last dimension,
    or from log-odds when ``is_binary``."""
    if is_binary:
        return logits.sigmoid()
    return softmax(logits, -1)
