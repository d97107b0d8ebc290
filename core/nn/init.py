"""``ember.nn.init``: fill a tensor in place with the initial values torch's layers use.

Every function works under ``no_grad`` on the tensor it is given (a Parameter usually),
changes it in place and returns it. Random draws come from ember's generators, so
``ember.manual_seed`` makes them reproducible, or from ``generator=`` (an
``ember.Generator``) where given. The statistics (bounds, standard
deviations, fans) and the errors are torch's.
"""

import math
import numbers
import warnings

import numpy as np

from .._generator import numpy_source
from .._tensor import Tensor
from ..autograd import no_grad

__all__ = [
    "calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_",
    "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
    "orthogonal_", "sparse_",
    "uniform", "normal", "constant", "eye", "dirac", "xavier_uniform", "xavier_normal",
    "kaiming_uniform", "kaiming_normal", "orthogonal", "sparse",
]

_UNIT_GAIN = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity, param=None):
    """The scale factor recommended for weights feeding ``nonlinearity``.

    ===================  ====================================
    nonlinearity         gain
    ===================  ====================================
    linear / conv*d      1
    sigmoid              1
    tanh                 5/3
    relu                 sqrt(2)
    leaky_relu           sqrt(2 / (1 + negative_slope ** 2))
    selu                 3/4
    ===================  ====================================

    Args:
        nonlinearity: the name of the function, as in ``ember.nn.functional``.
        param: the negative slope of ``leaky_relu`` (default 0.01).

    Examples::

        >>> ember.nn.init.calculate_gain('leaky_relu', 0.2)
        1.3867504905630728
    """
    if nonlinearity in _UNIT_GAIN:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    """``(fan_in, fan_out)`` of a weight: dim 1 (inputs) and dim 0 (outputs), each
    times the size of the receptive field (the product of the remaining dims)."""
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    shape = tuple(tensor.shape)
    field = math.prod(shape[2:])
    return shape[1] * field, shape[0] * field


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    valid = ["fan_in", "fan_out"]
    if mode not in valid:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _check_tensor(tensor, fn):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"nn.init.{fn}(): argument 'tensor' must be Tensor, not {type(tensor).__name__}")


def _finite(value, fn, name):
    """``value`` as a float, refusing non-numbers, NaN and infinities (torch's
    sampling kernels refuse NaN bounds; an infinite bound or deviation only
    fills the tensor with infinities)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"nn.init.{fn}(): {name} must be a real number, but got {value!r} "
                        f"({type(value).__name__})")
    if not math.isfinite(value):
        raise RuntimeError(f"nn.init.{fn}(): {name} must be finite, but got {value}")
    return float(value)


def _check_range(a, b, fn="uniform_"):
    _finite(a, fn, "a")
    _finite(b, fn, "b")
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a} > to={b}")


def _check_std(std, fn="normal_", mean=0.0):
    _finite(mean, fn, "mean")
    if _finite(std, fn, "std") < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")


def _fill_uniform(tensor, a, b, fn, generator):
    _check_tensor(tensor, fn)
    _check_range(a, b, fn)
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def _fill_normal(tensor, mean, std, fn, generator):
    _check_tensor(tensor, fn)
    _check_std(std, fn, mean)
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill ``tensor`` with samples from the uniform distribution on ``[a, b)``.

    Examples::

        >>> w = ember.empty(3, 5)
        >>> ember.nn.init.uniform_(w, -0.1, 0.1).shape
        ember.Size([3, 5])
    """
    return _fill_uniform(tensor, a, b, "uniform_", generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill ``tensor`` with samples from the normal distribution N(mean, std²).

    Examples::

        >>> w = ember.empty(3, 5)
        >>> ember.nn.init.normal_(w, std=0.02).shape
        ember.Size([3, 5])
    """
    return _fill_normal(tensor, mean, std, "normal_", generator)


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill ``tensor`` with samples of N(mean, std²) conditioned on lying in ``[a, b]``.

    Values are redrawn until they fall inside the interval. When ``mean`` is more
    than two standard deviations outside ``[a, b]`` a warning says the result may be
    poor (few draws land inside; the stragglers are clipped to the bounds).

    Examples::

        >>> w = ember.empty(3, 5)
        >>> bool(ember.nn.init.trunc_normal_(w, std=0.02, a=-0.04, b=0.04).abs().max() <= 0.04)
        True
    """
    _check_tensor(tensor, "trunc_normal_")
    _check_range(a, b, "trunc_normal_")
    _check_std(std, "trunc_normal_", mean)
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=2)
    be = tensor._be
    xp = be.xp
    gen = numpy_source(generator, be, be.device_index(tensor._data))
    shape = tuple(tensor.shape)
    with no_grad():
        values = gen.standard_normal(shape) * std + mean
        outside = (values < a) | (values > b)
        for _ in range(100):   # each round keeps at least the accepted fraction
            count = int(outside.sum())
            if count == 0:
                break
            values[outside] = gen.standard_normal(count) * std + mean
            outside = (values < a) | (values > b)
        values = xp.clip(values, a, b)
        tensor._data[...] = values.astype(tensor._data.dtype)
        tensor._bump_version()
    return tensor


def constant_(tensor, val):
    """Fill ``tensor`` with the number ``val``.

    Examples::

        >>> ember.nn.init.constant_(ember.empty(2), 0.3)
        tensor([0.3000, 0.3000])
    """
    _check_tensor(tensor, "constant_")
    if isinstance(val, bool) or not isinstance(val, (numbers.Number, Tensor)):
        raise TypeError(f"nn.init.constant_(): val must be a number, but got {val!r} ({type(val).__name__})")
    with no_grad():
        return tensor.fill_(val)


def ones_(tensor):
    """Fill ``tensor`` with ones."""
    _check_tensor(tensor, "ones_")
    with no_grad():
        return tensor.fill_(1)


def zeros_(tensor):
    """Fill ``tensor`` with zeros."""
    _check_tensor(tensor, "zeros_")
    with no_grad():
        return tensor.zero_()


def eye_(tensor):
    """Fill the 2-D ``tensor`` with the identity matrix (ones on the main diagonal),
    which keeps the inputs of a Linear layer unchanged.

    Examples::

        >>> ember.nn.init.eye_(ember.empty(2, 3))
        tensor([[1., 0., 0.],
                [0., 1., 0.]])
    """
    _check_tensor(tensor, "eye_")
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    xp = tensor._be.xp
    with no_grad():
        tensor._data[...] = xp.eye(*tensor._data.shape, dtype=tensor._data.dtype)
        tensor._bump_version()
    return tensor


def dirac_(tensor, groups=1):
    """Fill the 3-, 4- or 5-D convolution weight ``tensor`` with the Dirac delta, so the
    convolution passes its inputs through (channel ``i`` of each group to output ``i``).

    Args:
        tensor: a weight of shape ``(out_channels, in_channels / groups, *kernel)``.
        groups: the number of groups of the convolution (default 1).

    Examples::

        >>> w = ember.nn.init.dirac_(ember.empty(2, 2, 3))
        >>> w[:, :, 1]
        tensor([[1., 0.],
                [0., 1.]])
    """
    _check_tensor(tensor, "dirac_")
    if tensor.dim() not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    shape = tuple(tensor.shape)
    if shape[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    per_group = shape[0] // groups
    diagonal = min(per_group, shape[1])
    centre = tuple(k // 2 for k in shape[2:])
    with no_grad():
        tensor.zero_()
        data = tensor._data
        for g in range(groups):
            for d in range(diagonal):
                data[(g * per_group + d, d) + centre] = 1
        tensor._bump_version()
    return tensor


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot initialisation: uniform on ``[-bound, bound]`` with
    ``bound = gain * sqrt(6 / (fan_in + fan_out))`` (Glorot & Bengio, 2010).

    Examples::

        >>> w = ember.empty(3, 5)
        >>> ember.nn.init.xavier_uniform_(w, gain=ember.nn.init.calculate_gain('relu')).shape
        ember.Size([3, 5])
    """
    _check_tensor(tensor, "xavier_uniform_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = _finite(gain, "xavier_uniform_", "gain") * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return _fill_uniform(tensor, -bound, bound, "xavier_uniform_", generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot initialisation: N(0, std²) with ``std = gain * sqrt(2 / (fan_in + fan_out))``.

    Examples::

        >>> ember.nn.init.xavier_normal_(ember.empty(3, 5)).shape
        ember.Size([3, 5])
    """
    _check_tensor(tensor, "xavier_normal_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = _finite(gain, "xavier_normal_", "gain") * math.sqrt(2.0 / float(fan_in + fan_out))
    return _fill_normal(tensor, 0.0, std, "xavier_normal_", generator)


def _kaiming_std(tensor, a, mode, nonlinearity, fn):
    if isinstance(a, numbers.Real):   # calculate_gain refuses non-numbers
        _finite(a, fn, "a")
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def _empty_is_noop(tensor):
    if 0 in tuple(tensor.shape):
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He initialisation: uniform on ``[-bound, bound]`` with
    ``bound = gain * sqrt(3 / fan)`` (He et al., 2015).

    Args:
        tensor: the weight (at least 2-D).
        a: the negative slope of the rectifier that follows (``leaky_relu`` only).
        mode: ``'fan_in'`` keeps the variance of the forward pass, ``'fan_out'`` of
            the backward pass.
        nonlinearity: the function that follows (``'relu'`` or ``'leaky_relu'`` advised).

    Examples::

        >>> ember.nn.init.kaiming_uniform_(ember.empty(3, 5), mode='fan_in', nonlinearity='relu').shape
        ember.Size([3, 5])
    """
    _check_tensor(tensor, "kaiming_uniform_")
    if _empty_is_noop(tensor):
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_uniform_")
    return _fill_uniform(tensor, -bound, bound, "kaiming_uniform_", generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He initialisation: N(0, std²) with ``std = gain / sqrt(fan)``; arguments as in
    :func:`kaiming_uniform_`.

    Examples::

        >>> ember.nn.init.kaiming_normal_(ember.empty(3, 5), mode='fan_out', nonlinearity='relu').shape
        ember.Size([3, 5])
    """
    _check_tensor(tensor, "kaiming_normal_")
    if _empty_is_noop(tensor):
        return tensor
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_normal_")
    return _fill_normal(tensor, 0.0, std, "kaiming_normal_", generator)


def orthogonal_(tensor, gain=1, generator=None):
    """Fill ``tensor`` with a (semi-)orthogonal matrix times ``gain`` (Saxe et al., 2013).

    Dimensions after the first are flattened; the matrix is the Q of the QR
    decomposition of a Gaussian matrix, with the signs of R's diagonal folded in so
    it is uniformly distributed.

    Examples::

        >>> w = ember.nn.init.orthogonal_(ember.empty(3, 5))
        >>> bool(((w @ w.t()) - ember.eye(3)).abs().max() < 1e-5)
        True
    """
    _check_tensor(tensor, "orthogonal_")
    gain = _finite(gain, "orthogonal_", "gain")
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    be = tensor._be
    xp = be.xp
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    work = np.float64 if tensor._data.dtype == np.float64 else np.float32
    gen = numpy_source(generator, be, be.device_index(tensor._data))
    flat = gen.standard_normal((rows, cols)).astype(work)
    if rows < cols:
        flat = flat.T
    q, r = xp.linalg.qr(flat)
    signs = xp.sign(xp.diagonal(r))
    q = q * signs
    if rows < cols:
        q = q.T
    with no_grad():
        tensor._data[...] = (q * gain).reshape(tensor._data.shape).astype(tensor._data.dtype)
        tensor._bump_version()
    return tensor


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """Fill the 2-D ``tensor`` with N(0, std²) samples and set a fraction ``sparsity``
    of each column to zero (``ceil(sparsity * rows)`` entries, chosen at random).

    Examples::

        >>> w = ember.nn.init.sparse_(ember.empty(10, 3), sparsity=0.2)
        >>> (w == 0).sum(0).tolist()
        [2, 2, 2]
    """
    _check_tensor(tensor, "sparse_")
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    if not 0 <= _finite(sparsity, "sparse_", "sparsity") <= 1:
        raise ValueError(f"nn.init.sparse_(): sparsity must lie in [0, 1], but got {sparsity}")
    rows, cols = tuple(tensor.shape)
    zeros = int(math.ceil(sparsity * rows))
    _fill_normal(tensor, 0.0, std, "sparse_", generator)
    be = tensor._be
    gen = numpy_source(generator, be, be.device_index(tensor._data))
    with no_grad():
        if zeros:
            # One random permutation of the rows per column: its first ``zeros`` entries.
            picks = be.xp.argsort(gen.random((rows, cols)), axis=0)[:zeros]
            tensor._data[picks, be.xp.arange(cols)[None, :]] = 0
        tensor._bump_version()
    return tensor


def _deprecated(fn):
    new = fn.__name__
    old = new[:-1]

    def deprecated(*args, **kwargs):
        warnings.warn(f"`nn.init.{old}` is now deprecated in favor of `nn.init.{new}`.", FutureWarning, stacklevel=2)
        return fn(*args, **kwargs)

    deprecated.__name__ = deprecated.__qualname__ = old
    deprecated.__doc__ = f"Deprecated alias of :func:`{new}` (warns, then calls it)."
    return deprecated


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)
