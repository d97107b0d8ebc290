"""Activation modules: hyper-parameters (and PReLU's slopes) around the functions of
``functional.py``. Every ``extra_repr`` prints what torch's prints."""

import warnings

import ember
from ember.nn import Module, Parameter

from . import functional as F
from .._checks import integer, real, tensor_arg

__all__ = ["ELU", "Hardshrink", "Hardtanh", "LeakyReLU", "LogSigmoid", "PReLU", "ReLU", "ReLU6",
           "RReLU", "SELU", "CELU", "GELU", "GLU", "Sigmoid", "Softplus", "Softshrink", "Softsign",
           "Tanh", "Tanhshrink", "Threshold", "Softmin", "Softmax", "Softmax2d", "LogSoftmax",
           "SiLU", "Mish", "Hardsigmoid", "Hardswish"]


def _inplace_str(inplace, first=False):
    if not inplace:
        return ""
    return "inplace=True" if first else ", inplace=True"


class Threshold(Module):
    """Replace every element at or below ``threshold`` by ``value``.

    Args:
        threshold: the cut-off.
        value: the replacement.
        inplace: overwrite the input. Default: ``False``.

    Shape:
        - Input: any shape. Output: the same shape.

    Examples::

        >>> m = nn.Threshold(0.1, 20)
        >>> m(ember.tensor([0.0, 0.5])).tolist()
        [20.0, 0.5]
    """

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}{_inplace_str(self.inplace)}"


class ReLU(Module):
    """``max(0, x)`` element-wise.

    Args:
        inplace: overwrite the input. Default: ``False``.

    Shape:
        - Input: any shape. Output: the same shape.

    Examples::

        >>> nn.ReLU()(ember.tensor([-1.0, 2.0])).tolist()
        [0.0, 2.0]
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input, self.inplace)

    def extra_repr(self):
        return _inplace_str(self.inplace, True)


class RReLU(Module):
    """Randomized leaky ReLU: random negative slopes in ``[lower, upper]`` while
    training, the mean slope ``(lower + upper) / 2`` in evaluation.

    Args:
        lower: lower bound of the slope. Default: 1/8.
        upper: upper bound of the slope. Default: 1/3.
        inplace: overwrite the input. Default: ``False``.

    Shape:
        - Input: any shape. Output: the same shape.
    """

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        real(lower, "RReLU", "lower")
        real(upper, "RReLU", "upper")
        if lower > upper:   # torch accepts the pair and fails at the first training step
            raise ValueError(f"RReLU: lower must not exceed upper, but got lower={lower} upper={upper}")
        self.lower = lower
        self.upper = upper
        self.inplace = inplace

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self):
        return f"lower={self.lower}, upper={self.upper}{_inplace_str(self.inplace)}"


class Hardtanh(Module):
    """Clip to ``[min_val, max_val]`` (zero gradient outside the open interval).

    Args:
        min_val: lower bound. Default: -1.
        max_val: upper bound. Default: 1.
        inplace: overwrite the input. Default: ``False``.
        min_value, max_value: deprecated spellings of ``min_val``/``max_val``.

    Shape:
        - Input: any shape. Output: the same shape.
    """

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False, min_value=None, max_value=None):
        super().__init__()
        if min_value is not None:
            warnings.warn("keyword argument `min_value` is deprecated and renamed to `min_val`",
                          FutureWarning, stacklevel=2)
            min_val = min_value
        if max_value is not None:
            warnings.warn("keyword argument `max_value` is deprecated and renamed to `max_val`",
                          FutureWarning, stacklevel=2)
            max_val = max_value
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace
        if self.max_val <= self.min_val:
            raise AssertionError(f"max_val ({self.max_val}) must be greater than min_val ({self.min_val})")

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace_str(self.inplace)}"


class ReLU6(Hardtanh):
    """``min(max(0, x), 6)`` element-wise.

    Args:
        inplace: overwrite the input. Default: ``False``.

    Shape:
        - Input: any shape. Output: the same shape.
    """

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return _inplace_str(self.inplace, True)


class Sigmoid(Module):
    """``1 / (1 + exp(-x))`` element-wise.

    Shape:
        - Input: any shape. Output: the same shape.
    """

    def forward(self, input):
        return input.sigmoid()


class Tanh(Module):
    """Hyperbolic tangent element-wise.

    Shape:
        - Input: any shape. Output: the same shape.
    """

    def forward(self, input):
        return input.tanh()


class ELU(Module):
    """Exponential linear unit: ``x`` if ``x > 0`` else ``alpha * (exp(x) - 1)``.

    Args:
        alpha: the negative saturation is ``-alpha``. Default: 1.
        inplace: overwrite the input. Default: ``False``.

    Shape:
        - Input: any shape. Output: the same shape.
    """

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}{_inplace_str(self.inplace)}"


class CELU(Module):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))`` element-wise.

    Args:
        alpha: scale of the negative part. Default: 1.
        inplace: overwrite the input. Default: ``False``.

    Shape:
        - Input: any shape. Output: the same shape.
    """

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        return F.celu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}{_inplace_str(self.inplace)}"


class SELU(Module):
    """Scaled ELU with the constants of self-normalizing networks.

    Args:
        inplace: overwrite the input. Default: ``False``.

    Shape:
        - Input: any shape. Output: the same shape.
    """

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.selu(input, self.inplace)

    def extra_repr(self):
        return _inplace_str(self.inplace, True)


class GLU(Module):
    """Gated linear unit: ``a * sigmoid(b)`` with ``a, b`` the halves of the input
    along ``dim``.

    Args:
        dim: the dimension to split. Default: -1.

    Shape:
        - Input: ``(*, 2N, *)``. Output: ``(*, N, *)``.
    """

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class GELU(Module):
    """Gaussian error linear unit ``x * Phi(x)``.

    Args:
        approximate: ``'none'`` or ``'tanh'``. Default: ``'none'``.

    Shape:
        - Input: any shape. Output: the same shape.
    """

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Hardshrink(Module):
    """``x`` where ``|x| > lambd``, else 0.

    Args:
        lambd: half-width of the zeroed band. Default: 0.5.

    Shape:
        - Input: any shape. Output: the same shape.
    """

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return F.hardshrink(input, self.lambd)

    def extra_repr(self):
        return f"{self.lambd}"


class LeakyReLU(Module):
    """``x`` for positive elements, ``negative_slope * x`` otherwise.

    Args:
        negative_slope: slope of the negative part. Default: 0.01.
        inplace: overwrite the input. Default: ``False``.

    Shape:
        - Input: any shape. Output: the same shape.
    """

    def __init__(self, negative_slope=1e-2, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}{_inplace_str(self.inplace)}"


class LogSigmoid(Module):
    """``log(sigmoid(x))`` element-wise, stable for large ``|x|``.

    Shape:
        - Input: any shape. Output: the same shape.
    """

    def forward(self, input):
        return F.logsigmoid(input)


class Softplus(Module):
    """``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold``.

    Args:
        beta: sharpness. Default: 1.
        threshold: where the function becomes linear. Default: 20.

    Shape:
        - Input: any shape. Output: the same shape.
    """

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Softshrink(Module):
    """Shrink towards zero by ``lambd`` (0 inside ``[-lambd, lambd]``).

    Args:
        lambd: the shrinkage, at least 0. Default: 0.5.

    Shape:
        - Input: any shape. Output: the same shape.
    """

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return F.softshrink(input, self.lambd)

    def extra_repr(self):
        return str(self.lambd)


class PReLU(Module):
    """Leaky ReLU with a learned negative slope: one shared by all channels
    (``num_parameters=1``) or one per channel (input dim 1).

    Args:
        num_parameters: 1 or the number of channels. Default: 1.
        init: initial slope. Default: 0.25.

    Attributes:
        weight: the slopes, shape ``(num_parameters,)``.

    Shape:
        - Input: ``(N, C, *)`` or any shape when ``num_parameters=1``. Output: the same.
    """

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        if integer(num_parameters, "PReLU", "num_parameters") == 0:   # torch fails at the first forward
            raise ValueError("PReLU: num_parameters must be positive, but got 0")
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(ember.empty(num_parameters, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self):
        """Set every slope back to ``init``."""
        with ember.no_grad():
            self.weight.fill_(self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class _InplaceActivation(Module):
    """An element-wise activation whose only option is ``inplace``."""

    function = None
    shows_inplace = True  # torch's Hardsigmoid/Hardswish leave it out of their repr

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return type(self).function(input, self.inplace)

    def extra_repr(self):
        return _inplace_str(self.inplace and self.shows_inplace, True)


class SiLU(_InplaceActivation):
    """``x * sigmoid(x)`` element-wise (swish).

    Args:
        inplace: overwrite the input. Default: ``False``.

    Shape:
        - Input: any shape. Output: the same shape.
    """

    function = staticmethod(F.silu)


class Mish(_InplaceActivation):
    """``x * tanh(softplus(x))`` element-wise.

    Args:
        inplace: overwrite the input. Default: ``False``.

    Shape:
        - Input: any shape. Output: the same shape.
    """

    function = staticmethod(F.mish)


class Hardsigmoid(_InplaceActivation):
    """``relu6(x + 3) / 6`` element-wise.

    Args:
        inplace: overwrite the input. Default: ``False``.

    Shape:
        - Input: any shape. Output: the same shape.
    """

    function = staticmethod(F.hardsigmoid)
    shows_inplace = False


class Hardswish(_InplaceActivation):
    """``x * relu6(x + 3) / 6`` element-wise.

    Args:
        inplace: overwrite the input. Default: ``False``.

    Shape:
        - Input: any shape. Output: the same shape.
    """

    function = staticmethod(F.hardswish)
    shows_inplace = False


class Softsign(Module):
    """``x / (1 + |x|)`` element-wise.

    Shape:
        - Input: any shape. Output: the same shape.
    """

    def forward(self, input):
        return F.softsign(input)


class Tanhshrink(Module):
    """``x - tanh(x)`` element-wise.

    Shape:
        - Input: any shape. Output: the same shape.
    """

    def forward(self, input):
        return F.tanhshrink(input)


class Softmin(Module):
    """``softmax(-x)`` along ``dim``.

    Args:
        dim: the dimension that sums to 1 (``None``: torch's implicit choice, with a
            deprecation warning).

    Shape:
        - Input: any shape. Output: the same shape.
    """

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmin(input, self.dim, _stacklevel=5)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax(Module):
    """``exp(x_i) / sum_j exp(x_j)`` along ``dim``.

    Args:
        dim: the dimension that sums to 1 (``None``: torch's implicit choice, with a
            deprecation warning).

    Shape:
        - Input: any shape. Output: the same shape, values in ``[0, 1]``.

    Examples::

        >>> m = nn.Softmax(dim=1)
        >>> m(ember.zeros(1, 4)).tolist()
        [[0.25, 0.25, 0.25, 0.25]]
    """

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim, _stacklevel=5)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax2d(Module):
    """Softmax over the channels at every spatial location.

    Shape:
        - Input: ``(N, C, H, W)`` or ``(C, H, W)``. Output: the same shape.
    """

    def forward(self, input):
        tensor_arg(input, "Softmax2d")
        if input.dim() not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.dim()}D instead")
        return F.softmax(input, -3, _stacklevel=5)


class LogSoftmax(Module):
    """``log(softmax(x))`` along ``dim``, computed stably.

    Args:
        dim: the dimension normalised (``None``: torch's implicit choice, with a
            deprecation warning).

    Shape:
        - Input: any shape. Output: the same shape, values in ``(-inf, 0]``.
    """

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.log_softmax(input, self.dim, _stacklevel=5)

    def extra_repr(self):
        return f"dim={self.dim}"
