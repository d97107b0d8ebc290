"""Gradient clipping: rescale or clamp the ``.grad`` of parameters in place."""

import math
import numbers
import types
import warnings

import ember
from ember.backend import data_of, kernel_for, tensor_like

from .kernels import CLIP_GRADIENTS, TOTAL_NORM


def _as_list(parameters):
    if isinstance(parameters, ember.Tensor):
        return [parameters]
    was_generator = isinstance(parameters, types.GeneratorType)
    parameters = list(parameters)
    if was_generator and not parameters:
        warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.",
                      stacklevel=3)
    return parameters


def _number(value, fn, name):
    """``value`` (a real number or a one-element tensor) as a float, not NaN; the
    error types are those of torch's ``float(value)``: ValueError for a string."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, ember.Tensor)):
        error = ValueError if isinstance(value, str) else TypeError
        raise error(f"{fn}: {name} must be a number, but got {value!r} ({type(value).__name__})")
    value = float(value)
    if math.isnan(value):
        raise ValueError(f"{fn}: {name} must be a number, but got nan")
    return value


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    r"""The ``norm_type``-norm of several tensors taken together.

    It equals the norm of the vector made by concatenating all the tensors,
    computed as the norm of the per-tensor norms.

    Args:
        tensors (Iterable[Tensor] or Tensor): the tensors (typically gradients).
        norm_type (float): the order of the norm; ``inf`` for the largest absolute
            value (default: 2.0).
        error_if_nonfinite (bool): raise a ``RuntimeError`` when the norm is
            ``nan`` or ``inf`` (default: False).
        foreach (bool, optional): accepted for torch compatibility; ember takes the
            norm of all tensors in one reduction where the backend has a kernel for
            it (cuda: dense float32/float64 tensors of one dtype and device), else
            tensor by tensor.

    Returns:
        Tensor: the total norm, a 0-dim tensor (``tensor(0.)`` for no tensors).
    """
    tensors = [tensors] if isinstance(tensors, ember.Tensor) else list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return ember.tensor(0.0)
    total = None
    if not any(t.is_sparse for t in tensors):
        found = kernel_for(TOTAL_NORM, tensors[0])([data_of(t) for t in tensors], norm_type)
        total = None if found is None else tensor_like(found, tensors[0])
    if total is None:
        device = tensors[0].device
        with ember.no_grad():
            norms = [t.norm(norm_type).to(device) for t in tensors]  # the method serves sparse too
            total = ember.norm(ember.stack(norms), norm_type) if len(norms) > 1 else norms[0]
    if error_if_nonfinite and not bool(total.isfinite()):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
            "so it cannot be clipped. To disable this error and scale the gradients by the "
            "non-finite norm anyway, set `error_if_nonfinite=False`")
    return total


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    r"""Scale the gradients by ``min(max_norm / (total_norm + 1e-6), 1)`` in place.

    Args:
        parameters (Iterable[Tensor] or Tensor): tensors whose ``.grad`` is scaled.
        max_norm (float): the largest norm allowed.
        total_norm (Tensor): the gradients' total norm, e.g. from :func:`get_total_norm`.
        foreach (bool, optional): accepted for torch compatibility; ember scales all
            gradients in one launch where the backend has a kernel for it (cuda:
            dense float32/float64 gradients of the total's dtype and device), else
            gradient by gradient.
    """
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return
    if (isinstance(total_norm, ember.Tensor) and not any(g.is_sparse for g in grads)
            and kernel_for(CLIP_GRADIENTS, grads[0])([data_of(g) for g in grads], float(max_norm),
                                                     data_of(total_norm))):
        for g in grads:
            g._bump_version()
        return
    with ember.no_grad():
        coef = (float(max_norm) / (total_norm + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(coef.to(g.device))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    r"""Rescale gradients so that their norm, taken all together, is at most ``max_norm``.

    The norm is that of all gradients concatenated into one vector; when it exceeds
    ``max_norm`` every gradient is multiplied by ``max_norm / (norm + 1e-6)``.
    Gradients are modified in place.

    Args:
        parameters (Iterable[Tensor] or Tensor): tensors whose gradients are clipped.
        max_norm (float): the largest norm allowed.
        norm_type (float): order of the norm; ``inf`` for the largest absolute value
            (default: 2.0).
        error_if_nonfinite (bool): raise a ``RuntimeError`` when the norm is ``nan``
            or ``inf`` instead of scaling by it (default: False).
        foreach (bool, optional): accepted for torch compatibility; as in
            :func:`get_total_norm` and :func:`clip_grads_with_norm_`, one reduction
            and one scaling launch for all gradients where the backend has kernels
            for them (cuda).

    Returns:
        Tensor: the total norm of the gradients before clipping.

    Example:
        >>> model = ember.nn.Linear(4, 2)
        >>> model(ember.randn(8, 4)).sum().backward()
        >>> norm = ember.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    """
    _number(max_norm, "clip_grad_norm_()", "max_norm")
    parameters = _as_list(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    r"""Clamp every gradient into ``[-clip_value, clip_value]``, in place.

    Args:
        parameters (Iterable[Tensor] or Tensor): tensors whose gradients are clipped.
        clip_value (float): the largest absolute value allowed: a number at least 0
            (``inf`` leaves the gradients as they are). NaN or a negative value,
            which torch takes and which would make every gradient NaN or
            ``-clip_value``, raises a ValueError.
        foreach (bool, optional): accepted for torch compatibility; ignored.
    """
    clip_value = _number(clip_value, "clip_grad_value_()", "clip_value")
    if clip_value < 0:
        raise ValueError(f"clip_grad_value_(): clip_value must be at least 0, but got {clip_value}")
    with ember.no_grad():
        for p in _as_list(parameters):
            if p.grad is not None:
                p.grad.clamp_(min=-clip_value, max=clip_value)


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Deprecated name of ``clip_grad_norm_`` (PyTorch 1.0's): same arguments and result;
    warns with a ``FutureWarning`` as torch does."""
    warnings.warn("`ember.nn.utils.clip_grad_norm` is deprecated in favor of "
                  "`ember.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)
