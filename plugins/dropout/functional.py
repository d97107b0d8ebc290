"""Dropout: random zeroing (or, for alpha dropout, random setting to SELU's
saturation value) of elements or whole channels while training.

Masks come from ember's random generator (``ember.manual_seed`` makes them
reproducible). The output is ``input * noise`` (plus a shift for alpha dropout),
so the gradient is ``grad * noise``; the in-place forms use ``mul_``/``add_``, whose
backward needs only the noise.
"""

import numbers
import warnings

import ember

from .._checks import tensor_arg

__all__ = ["dropout", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"]

# SELU's negative saturation value, -scale * alpha, with the sign dropped
_ALPHA = 1.7580993408473766


def _check_p(p):
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"dropout probability has to be a number between 0 and 1, but got {p!r} "
                        f"({type(p).__name__})")
    if p != p:   # NaN passes both comparisons below; torch's kernel refuses it
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(input, shape, keep):
    """0/1 tensor of ``shape`` in the input's dtype: 1 with probability ``keep``."""
    draws = ember.rand(shape, dtype=input.dtype, device=input.device)
    return (draws < keep).to(input.dtype)


def _noise_shape(input, feature):
    if not feature:
        return tuple(input.shape)
    if input.dim() < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    return tuple(input.shape[:2]) + (1,) * (input.dim() - 2)


def _dropout(input, p, training, inplace, feature, alpha):
    if p == 0 or not training or input.numel() == 0:
        return input
    if p == 1:
        return input.mul_(0) if inplace else input * ember.zeros((), dtype=input.dtype, device=input.device)
    noise = _keep_mask(input, _noise_shape(input, feature), 1 - p)
    if not alpha:
        noise = noise * (1.0 / (1 - p))
        return input.mul_(noise) if inplace else input * noise
    a = 1.0 / ((_ALPHA * _ALPHA * p + 1) * (1 - p)) ** 0.5
    shift = (noise - 1) * (_ALPHA * a) + _ALPHA * a * p
    noise = noise * a
    return input.mul_(noise).add_(shift) if inplace else input * noise + shift


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the others by ``1/(1-p)``
    (training only; otherwise the input is returned unchanged).

    Args:
        input: any tensor.
        p: probability of zeroing an element. Default: 0.5.
        training: apply dropout. Default: ``True``.
        inplace: overwrite ``input``. Default: ``False``.
    """
    tensor_arg(input, "dropout", "input")
    _check_p(p)
    return _dropout(input, p, training, inplace, False, False)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels (``input[n, c]``) with probability ``p``, scaling the rest
    by ``1/(1-p)``.

    Args:
        input: ``(N, C, H, W)`` (a 3-D input is read as ``(N, C, L)``, as torch does).
        p: probability of zeroing a channel. Default: 0.5.
        training: apply dropout. Default: ``True``.
        inplace: overwrite ``input``. Default: ``False``.
    """
    tensor_arg(input, "dropout2d", "input")
    _check_p(p)
    ndim = input.dim()
    if ndim not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {ndim}-D input to dropout2d, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            "warning, please use dropout instead. Note that dropout2d exists to provide "
            "channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, and "
            "an optional batch dimension (i.e. 3D or 4D inputs).", stacklevel=2)
    if ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.", stacklevel=2)
    return _dropout(input, p, training, inplace, True, False)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels (``input[n, c]``) with probability ``p``, scaling the rest
    by ``1/(1-p)``.

    Args:
        input: ``(N, C, D, H, W)`` or unbatched ``(C, D, H, W)``.
        p: probability of zeroing a channel. Default: 0.5.
        training: apply dropout. Default: ``True``.
        inplace: overwrite ``input``. Default: ``False``.
    """
    tensor_arg(input, "dropout3d", "input")
    _check_p(p)
    ndim = input.dim()
    if ndim not in (4, 5):
        warnings.warn(
            f"dropout3d: Received a {ndim}-D input to dropout3d, which is deprecated and will "
            "result in an error in a future release. To retain the behavior and silence this "
            "warning, please use dropout instead. Note that dropout3d exists to provide "
            "channel-wise dropout on inputs with 3 spatial dimensions, a channel dimension, and "
            "an optional batch dimension (i.e. 4D or 5D inputs).", stacklevel=2)
    if ndim == 5:
        return _dropout(input, p, training, inplace, True, False)
    if inplace:
        return _dropout(input.unsqueeze_(0), p, training, True, True, False).squeeze_(0)
    return _dropout(input.unsqueeze(0), p, training, False, True, False).squeeze(0)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for self-normalizing (SELU) networks: dropped elements take SELU's
    saturation value and an affine correction keeps the mean and variance of the
    input (training only).

    Args:
        input: any tensor.
        p: probability of dropping an element. Default: 0.5.
        training: apply dropout. Default: ``False``.
        inplace: overwrite ``input``. Default: ``False``.
    """
    tensor_arg(input, "alpha_dropout", "input")
    _check_p(p)
    return _dropout(input, p, training, inplace, False, True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels (``input[n, c]``).

    Args:
        input: ``(N, C, *)``.
        p: probability of dropping a channel. Default: 0.5.
        training: apply dropout. Default: ``False``.
        inplace: overwrite ``input``. Default: ``False``.
    """
    tensor_arg(input, "feature_alpha_dropout", "input")
    _check_p(p)
    return _dropout(input, p, training, inplace, True, True)
