"""Activation functions: the math behind the ``activation`` family's modules.

The element-wise activations of ``formulas.py`` (gelu, silu, mish, softplus,
leaky_relu, the ELU family, hardtanh and relu6, hardsigmoid, hardswish,
logsigmoid) are one autograd node each, whose forward and backward are one kernel
each (see ``kernels.py``; one CUDA launch each way on the cuda backend). With
``create_graph`` their backward is the same formula written with Tensor ops, so it
is differentiable again. The others are compositions of core Tensor ops, so their
gradients (and double-backward gradients) come from the core. Two rules keep them
all exact:

* a branch that ``where`` discards never sees an input that overflows (``exp`` is
  fed clamped values), otherwise ``0 * inf`` would leak NaN into the gradient;
* gradients at the kinks follow torch's conventions (e.g. ELU uses its negative
  branch at exactly 0, Hardtanh passes no gradient at its bounds).

In-place variants either use in-place core ops whose backward needs no overwritten
data (``masked_fill_``, ``mul_``) or compute on a clone and ``copy_`` the result
back, so autograd sees a correct history and a leaf that requires grad raises.
"""

import warnings
from types import SimpleNamespace
from typing import Callable, NamedTuple

import ember
from ember.backend import FLOATING, check_dtype, data_of, kernel_for, tensor_like

from .._checks import real, tensor_arg
from .formulas import FORMULAS
from .kernels import op_names

__all__ = ["elu", "elu_", "hardshrink", "hardtanh", "hardtanh_", "leaky_relu", "leaky_relu_",
           "logsigmoid", "prelu", "relu", "relu_", "relu6", "rrelu", "rrelu_", "selu", "selu_",
           "celu", "celu_", "sigmoid", "tanh", "softplus", "softshrink", "softsign", "tanhshrink",
           "threshold", "threshold_", "softmin", "softmax", "log_softmax", "gelu", "glu", "silu",
           "mish", "hardsigmoid", "hardswish", "gumbel_softmax"]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _no_bool(input, name):
    if input.dtype == ember.bool:
        raise RuntimeError(f"Bool inputs not supported for {name}")


#: the formulas' math namespace on tensors (see ``formulas.py``)
_TENSOR_MATH = SimpleNamespace(where=ember.where, minimum=lambda t, c: t.clamp(max=c), exp=ember.exp,
                               expm1=ember.expm1, log1p=ember.log1p, tanh=ember.tanh, erf=ember.erf,
                               sigmoid=ember.sigmoid, sigmoid_backward=lambda a, s: a * s * (1 - s),
                               abs=ember.abs)


class _Activation(NamedTuple):
    """What a :class:`_Fused` node runs: its two kernel ops, whether they pass a kept
    intermediate (see ``kernels.py``), and the backward formula on tensors."""

    forward: str
    backward: str
    keeps: bool
    formula: Callable


#: activation -> what its node runs
_ACTIVATIONS = {name: _Activation(*op_names(name), formula.kept is not None, formula.whole_backward)
                for name, formula in FORMULAS.items()}


class _Fused(ember.autograd.Function):
    """An activation of ``formulas.py`` with scalar ``params``: the forward is the kernel
    ``activation.<name>``, the backward ``activation.<name>_backward``, or with
    ``create_graph`` the backward formula on tensors (differentiable again)."""

    @staticmethod
    def forward(ctx, x, activation, *params):
        ctx.save_for_backward(x)
        y = kernel_for(activation.forward, x)(data_of(x), *params)
        if activation.keeps:
            y, kept = y
            params = (kept,) + params  # an array no one else holds: no in-place check needed
        ctx.activation = activation, params
        return tensor_like(y, x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        activation, params = ctx.activation
        if ember.is_grad_enabled():
            dx = activation.formula(_TENSOR_MATH, grad, x, *params[activation.keeps:])
        else:
            dx = tensor_like(kernel_for(activation.backward, grad)(data_of(grad), data_of(x), *params), grad)
        return (dx, None) + (None,) * (len(params) - activation.keeps)


#: activation -> its :class:`_Fused` subclass, whose node bears torch's name (``GeluBackward0``...)
_FUNCTIONS = {name: type(f"_{name}", (_Fused,), {"backward_name": formula.node, "__doc__": _Fused.__doc__})
              for name, formula in FORMULAS.items()}


def _fused(name, input, *params):
    """Activation ``name`` of ``input``: one node when its gradient is recorded, else
    the kernel alone (the parameters as floats)."""
    params = tuple(map(float, params))
    if input.requires_grad and ember.is_grad_enabled():
        return _FUNCTIONS[name].apply(input, _ACTIVATIONS[name], *params)
    activation = _ACTIVATIONS[name]
    y = kernel_for(activation.forward, input)(data_of(input), *params)
    return tensor_like(y[0] if activation.keeps else y, input)


def _into(input, result):
    """Write ``result`` into ``input`` in place and return ``input``."""
    return input.copy_(result)


def _inplace(fn, input, *args):
    """Apply ``fn`` to ``input`` in place (``fn`` runs on a clone so its saved tensors
    are not the ones being overwritten)."""
    return _into(input, fn(input.clone(), *args))


# ---------------------------------------------------------------- ReLU family
def relu(input, inplace=False):
    """Rectified linear unit, ``max(0, x)``, element-wise.

    Args:
        input: any tensor.
        inplace: overwrite ``input`` with the result. Default: ``False``.
    """
    tensor_arg(input, "relu", "input")
    return input.relu_() if inplace else input.relu()


def relu_(input):
    """In-place :func:`relu`."""
    tensor_arg(input, "relu_", "input")
    return input.relu_()


def threshold(input, threshold, value, inplace=False):
    """Keep elements greater than ``threshold``; replace the others with ``value``.

    Args:
        input: any tensor.
        threshold: the cut-off.
        value: what the elements at or below ``threshold`` become.
        inplace: overwrite ``input`` with the result. Default: ``False``.
    """
    tensor_arg(input, "threshold", "input")
    real(threshold, "threshold", "threshold", finite=False)
    real(value, "threshold", "value", finite=False)
    if input.dtype == ember.bool:
        raise NotImplementedError("\"threshold_cpu\" not implemented for 'Bool'")
    mask = input <= threshold
    return input.masked_fill_(mask, value) if inplace else input.masked_fill(mask, value)


def threshold_(input, threshold, value):
    """In-place :func:`threshold`."""
    tensor_arg(input, "threshold_", "input")
    real(threshold, "threshold_", "threshold", finite=False)
    real(value, "threshold_", "value", finite=False)
    return input.masked_fill_(input <= threshold, value)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """Clip every element to ``[min_val, max_val]``; the gradient is zero outside the
    open interval ``(min_val, max_val)``.

    Args:
        input: any tensor.
        min_val: lower bound. Default: -1.
        max_val: upper bound. Default: 1.
        inplace: overwrite ``input`` with the result. Default: ``False``.
    """
    tensor_arg(input, "hardtanh", "input")
    real(min_val, "hardtanh", "min_val", finite=False)
    real(max_val, "hardtanh", "max_val", finite=False)
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if inplace:
        return hardtanh_(input, min_val, max_val)
    _no_bool(input, "hardtanh")
    if input.is_floating_point():
        return _fused("hardtanh", input, min_val, max_val)
    low, high = input <= min_val, input >= max_val
    return input.masked_fill(low, min_val).masked_fill(high, max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """In-place :func:`hardtanh`."""
    tensor_arg(input, "hardtanh_", "input")
    real(min_val, "hardtanh_", "min_val", finite=False)
    real(max_val, "hardtanh_", "max_val", finite=False)
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    _no_bool(input, "hardtanh")
    low, high = input <= min_val, input >= max_val
    return input.masked_fill_(low, min_val).masked_fill_(high, max_val)


def relu6(input, inplace=False):
    """``min(max(0, x), 6)`` element-wise (:func:`hardtanh` with bounds 0 and 6).

    Args:
        input: any tensor.
        inplace: overwrite ``input`` with the result. Default: ``False``.
    """
    tensor_arg(input, "relu6", "input")
    return hardtanh(input, 0.0, 6.0, inplace)


def _leaky_factor(input, negative_slope):
    return ember.where(input > 0, 1.0, float(negative_slope)).to(input.dtype)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """``x`` for positive elements, ``negative_slope * x`` for the others.

    Args:
        input: any tensor.
        negative_slope: slope of the negative part. Default: 0.01.
        inplace: overwrite ``input`` with the result. Default: ``False``.
    """
    tensor_arg(input, "leaky_relu", "input")
    if inplace:
        return leaky_relu_(input, negative_slope)
    real(negative_slope, "leaky_relu", "negative_slope")
    check_dtype(input, "leaky_relu_cpu", FLOATING)
    return _fused("leaky_relu", input, negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    """In-place :func:`leaky_relu`."""
    tensor_arg(input, "leaky_relu_", "input")
    real(negative_slope, "leaky_relu_", "negative_slope")
    check_dtype(input, "leaky_relu_cpu", FLOATING)
    if negative_slope < 0 and input.requires_grad and ember.is_grad_enabled():
        raise RuntimeError(
            "In-place leakyReLu backward calculation is triggered with a negative slope which "
            "is not supported. This is caused by calling in-place forward function with a "
            "negative slope, please call out-of-place version instead."
        )
    return input.mul_(_leaky_factor(input.detach(), negative_slope))


def prelu(input, weight):
    """Leaky ReLU whose negative slope ``weight`` is learned: one value shared by all
    channels, or one per channel (dim 1 of the input; a 1-D input has one channel).

    Args:
        input: tensor with the channels along dim 1 (or a 1-D/0-D tensor).
        weight: 1-D tensor of 1 or ``C`` slopes.
    """
    tensor_arg(input, "prelu", "input")
    tensor_arg(weight, "prelu", "weight")
    check_dtype(input, "prelu_cpu", FLOATING)
    if weight.dtype != input.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {input.dtype.scalar_name} (input) and "
                           f"{weight.dtype.scalar_name} (weight)")
    if weight.dim() > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.dim()}")
    n = weight.numel()
    w = weight
    if n != 1:
        if input.dim() == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        channels = input.shape[1] if input.dim() >= 2 else 1
        if n != channels:
            raise RuntimeError(
                "Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                f"{n} and channel size = {channels}."
            )
        w = weight.reshape((n,) + (1,) * (input.dim() - 2))
    else:
        w = weight.reshape(())
    return ember.where(input > 0, input, w * input)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky ReLU.

    In training each element at or below zero is multiplied by its own slope drawn
    uniformly from ``[lower, upper]`` (from ember's random generator); in evaluation
    the slope is the fixed ``(lower + upper) / 2``.

    Args:
        input: any tensor.
        lower: lower bound of the slope. Default: 1/8.
        upper: upper bound of the slope. Default: 1/3.
        training: draw random slopes. Default: ``False``.
        inplace: overwrite ``input`` with the result. Default: ``False``.
    """
    tensor_arg(input, "rrelu", "input")
    real(lower, "rrelu", "lower", error=RuntimeError)
    real(upper, "rrelu", "upper", error=RuntimeError)
    if lower > upper:
        raise RuntimeError(
            f"Lower bound should be less than or equal to the upper bound, but got lower={lower} upper={upper}"
        )
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    check_dtype(input, "rrelu_with_noise_out_cpu", FLOATING)
    slopes = ember.empty(input.shape, dtype=input.dtype, device=input.device).uniform_(lower, upper)
    noise = ember.where(input.detach() > 0, 1.0, slopes).to(input.dtype)
    return input.mul_(noise) if inplace else input * noise


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    """In-place :func:`rrelu`."""
    tensor_arg(input, "rrelu_", "input")
    return rrelu(input, lower, upper, training, True)


# ---------------------------------------------------------------- exponential units
def _elu_core(input, alpha, scale, input_scale):
    real(alpha, "elu", "alpha")
    check_dtype(input, "elu_cpu", FLOATING)
    return _fused("elu", input, alpha * scale, scale, input_scale)


def elu(input, alpha=1.0, inplace=False):
    """Exponential linear unit: ``x`` if ``x > 0`` else ``alpha * (exp(x) - 1)``.

    Args:
        input: any tensor.
        alpha: the value approached for large negative inputs is ``-alpha``. Default: 1.
        inplace: overwrite ``input`` with the result. Default: ``False``.
    """
    tensor_arg(input, "elu", "input")
    if inplace:
        return _inplace(_elu_core, input, alpha, 1.0, 1.0)
    return _elu_core(input, alpha, 1.0, 1.0)


def elu_(input, alpha=1.0):
    """In-place :func:`elu`."""
    tensor_arg(input, "elu_", "input")
    return _inplace(_elu_core, input, alpha, 1.0, 1.0)


def selu(input, inplace=False):
    """Scaled ELU with the fixed constants of self-normalizing networks
    (``scale ≈ 1.0507``, ``alpha ≈ 1.6733``).

    Args:
        input: any tensor.
        inplace: overwrite ``input`` with the result. Default: ``False``.
    """
    tensor_arg(input, "selu", "input")
    if inplace:
        return _inplace(_elu_core, input, _SELU_ALPHA, _SELU_SCALE, 1.0)
    return _elu_core(input, _SELU_ALPHA, _SELU_SCALE, 1.0)


def selu_(input):
    """In-place :func:`selu`."""
    tensor_arg(input, "selu_", "input")
    return selu(input, True)


def celu(input, alpha=1.0, inplace=False):
    """Continuously differentiable ELU: ``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``.

    Args:
        input: any tensor.
        alpha: the scale of the negative part. Default: 1.
        inplace: overwrite ``input`` with the result. Default: ``False``.
    """
    tensor_arg(input, "celu", "input")
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    if inplace:
        return _inplace(_elu_core, input, alpha, 1.0, 1.0 / alpha)
    return _elu_core(input, alpha, 1.0, 1.0 / alpha)


def celu_(input, alpha=1.0):
    """In-place :func:`celu`."""
    tensor_arg(input, "celu_", "input")
    return celu(input, alpha, True)


# ---------------------------------------------------------------- smooth functions
def sigmoid(input):
    """Logistic sigmoid ``1 / (1 + exp(-x))`` element-wise."""
    tensor_arg(input, "sigmoid", "input")
    return input.sigmoid()


def tanh(input):
    """Hyperbolic tangent element-wise."""
    tensor_arg(input, "tanh", "input")
    return input.tanh()


# ---------------------------------------------------------------- gated units
def silu(input, inplace=False):
    """Sigmoid linear unit (swish), ``x * sigmoid(x)``, element-wise.

    Args:
        input: any floating tensor.
        inplace: overwrite ``input`` with the result. Default: ``False``.
    """
    tensor_arg(input, "silu", "input")
    check_dtype(input, "silu", FLOATING)
    return _inplace(silu, input) if inplace else _fused("silu", input)


def mish(input, inplace=False):
    """``x * tanh(softplus(x))`` element-wise.

    Args:
        input: any floating tensor.
        inplace: overwrite ``input`` with the result. Default: ``False``.
    """
    tensor_arg(input, "mish", "input")
    check_dtype(input, "mish", FLOATING)
    return _inplace(mish, input) if inplace else _fused("mish", input)


def hardsigmoid(input, inplace=False):
    """Piecewise-linear sigmoid: ``relu6(x + 3) / 6`` (gradient ``1/6`` on ``(-3, 3)``).

    Args:
        input: any floating tensor.
        inplace: overwrite ``input`` with the result. Default: ``False``.
    """
    tensor_arg(input, "hardsigmoid", "input")
    check_dtype(input, "hardsigmoid", FLOATING)
    return _inplace(hardsigmoid, input) if inplace else _fused("hardsigmoid", input)


def hardswish(input, inplace=False):
    """``x * relu6(x + 3) / 6`` element-wise (MobileNetV3's activation).

    Args:
        input: any floating tensor.
        inplace: overwrite ``input`` with the result. Default: ``False``.
    """
    tensor_arg(input, "hardswish", "input")
    check_dtype(input, "hardswish", FLOATING)
    return _inplace(hardswish, input) if inplace else _fused("hardswish", input)


def softsign(input):
    """``x / (1 + |x|)`` element-wise."""
    tensor_arg(input, "softsign", "input")
    return input / (input.abs() + 1)


def tanhshrink(input):
    """``x - tanh(x)`` element-wise."""
    tensor_arg(input, "tanhshrink", "input")
    return input - input.tanh()


def logsigmoid(input):
    """``log(1 / (1 + exp(-x)))`` element-wise, without overflow for large ``|x|``."""
    tensor_arg(input, "logsigmoid", "input")
    check_dtype(input, "log_sigmoid_cpu", FLOATING)
    return _fused("logsigmoid", input)


def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta * x)) / beta`` element-wise; where ``beta * x > threshold``
    the result is ``x`` itself (the two agree there to working precision).

    Args:
        input: any tensor.
        beta: sharpness. Default: 1.
        threshold: above this value of ``beta * x`` the function is linear. Default: 20.
    """
    tensor_arg(input, "softplus", "input")
    real(beta, "softplus", "beta")
    real(threshold, "softplus", "threshold")
    check_dtype(input, "softplus_cpu", FLOATING)
    return _fused("softplus", input, beta, threshold)


def hardshrink(input, lambd=0.5):
    """``x`` where ``|x| > lambd``, else 0.

    Args:
        input: any tensor.
        lambd: the half-width of the zeroed band. Default: 0.5.
    """
    tensor_arg(input, "hardshrink", "input")
    real(lambd, "hardshrink", "lambd")
    check_dtype(input, "hardshrink_cpu", FLOATING)
    return _fused("hardshrink", input, lambd)


def softshrink(input, lambd=0.5):
    """Shrink towards zero by ``lambd``: ``x - lambd`` above ``lambd``, ``x + lambd``
    below ``-lambd``, 0 between.

    Args:
        input: any tensor.
        lambd: the shrinkage, at least 0. Default: 0.5.
    """
    tensor_arg(input, "softshrink", "input")
    real(lambd, "softshrink", "lambd", error=RuntimeError)
    check_dtype(input, "softshrink_check", FLOATING)
    if lambd < 0:
        raise RuntimeError(f"lambda must be in range [0, inf) for input dtype {input.dtype.scalar_name}, but found {lambd}")
    return _fused("softshrink", input, lambd)


def gelu(input, approximate="none"):
    """Gaussian error linear unit ``x * Phi(x)`` (``Phi`` the standard normal CDF).

    Args:
        input: any floating tensor.
        approximate: ``'none'`` (exact, with ``erf``) or ``'tanh'``
            (``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``). Default: ``'none'``.
    """
    tensor_arg(input, "gelu", "input")
    check_dtype(input, "GeluKernelImpl", FLOATING)
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return _fused("gelu_tanh" if approximate == "tanh" else "gelu", input)


def glu(input, dim=-1):
    """Gated linear unit: split ``input`` in halves ``a, b`` along ``dim`` and return
    ``a * sigmoid(b)``.

    Args:
        input: tensor whose size along ``dim`` is even.
        dim: the dimension to split. Default: -1.
    """
    tensor_arg(input, "glu", "input")
    check_dtype(input, "glu_cpu", FLOATING)
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    n = input.dim()
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    d = dim % n
    size = input.shape[d]
    if size % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {size}")
    a, b = input.chunk(2, d)
    return a * b.sigmoid()


# ---------------------------------------------------------------- softmax family
def _softmax_dim(name, ndim, stacklevel):
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. "
        "Change the call to include dim=X as an argument.",
        UserWarning,
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``exp(x_i) / sum_j exp(x_j)`` along ``dim``: every slice sums to 1.

    Args:
        input: any tensor.
        dim: the dimension to normalise. ``None`` picks one as torch does (0 for 0-,
            1- and 3-D inputs, else 1) and warns that this is deprecated.
        dtype: cast the input to this dtype first (useful against overflow).
    """
    tensor_arg(input, "softmax", "input")
    if dim is None:
        dim = _softmax_dim("softmax", input.dim(), _stacklevel)
    return input.softmax(dim, dtype=dtype) if dtype is not None else input.softmax(dim)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """``softmax(-x)`` along ``dim``.

    Args:
        input: any tensor.
        dim: the dimension to normalise (``None``: torch's implicit choice, with a warning).
        dtype: cast the input to this dtype first.
    """
    tensor_arg(input, "softmin", "input")
    if dim is None:
        dim = _softmax_dim("softmin", input.dim(), _stacklevel)
    if dtype is not None:
        input = input.to(dtype)
    return (-input).softmax(dim)


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """A sample of the Gumbel-softmax (concrete) distribution over ``dim``:
    ``softmax((logits + g) / tau)`` with ``g`` standard Gumbel noise.

    Args:
        logits: unnormalised log-probabilities.
        tau: temperature; small values give nearly one-hot samples. Default: 1.
        hard: return one-hot vectors (the argmax of the soft sample) whose gradient
            is the soft sample's (straight-through). Default: ``False``.
        eps: deprecated and unused. Default: 1e-10.
        dim: the categories' dimension. Default: -1.
    """
    tensor_arg(logits, "gumbel_softmax", "logits")
    real(tau, "gumbel_softmax", "tau", low=0.0, low_open=True)
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    # -log(Exp(1)) is standard Gumbel; Exp(1) = -log(1 - U) for U uniform in [0, 1)
    gumbels = -(-(-ember.rand_like(logits)).log1p()).log()
    soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return soft
    index = soft.argmax(dim, keepdim=True)
    positions = ember.arange(soft.shape[dim], device=soft.device)
    positions = positions.reshape([-1 if d == dim % soft.dim() else 1 for d in range(soft.dim())])
    one_hot = (positions == index).to(soft.dtype)
    return one_hot - soft.detach() + soft


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``log(softmax(x))`` along ``dim``, computed stably.

    Args:
        input: any tensor.
        dim: the dimension to normalise (``None``: torch's implicit choice, with a warning).
        dtype: cast the input to this dtype first.
    """
    tensor_arg(input, "log_softmax", "input")
    if dim is None:
        dim = _softmax_dim("log_softmax", input.dim(), _stacklevel)
    return input.log_softmax(dim, dtype=dtype) if dtype is not None else input.log_softmax(dim)
