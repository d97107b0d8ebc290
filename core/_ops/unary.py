"""Elementwise functions of one tensor (exp, log, sigmoid, ...) and their gradients."""

import math

import numpy as np

from .. import _dtype
from ..autograd.graph import Node
from ..autograd.grad_mode import MODE
from .common import cast, check_tensor, host_kernel, record, wrap


class UnaryBackward(Node):
    """Gradient of a one-input elementwise op: ``formula(g, x, y)`` with x the input
    (when saved) and y the output (when saved).

    ``on_arrays``, when set, is ``(kernel, *extra)``: the same gradient as
    ``kernel(g, y, *extra)`` on the arrays, taken when the backward is not recorded.
    """

    saves_input = False
    saves_output = False
    on_arrays = None

    def backward(self, g):
        if self.on_arrays is not None and not MODE.enabled:
            kernel, *extra = self.on_arrays
            return (wrap(g._be.kernels[kernel](g._data, self.saved_output_data(), *extra), g._be),)
        x = self.saved()[0] if self.saves_input else None
        y = self.saved_output() if self.saves_output else None
        return (self.formula(g, x, y),)


def _zeros(g, x, y):
    # zeros, not g * 0: an inf or NaN incoming gradient still gives 0, as in torch
    return wrap(g._be.xp.zeros_like(g._data), g._be)


def _stable_sigmoid(xp):
    def sigmoid(x):
        e = xp.exp(-xp.abs(x))
        return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)

    return sigmoid


def _sign(xp):
    def sign(x):
        out = xp.sign(x)
        if x.dtype.kind == "f":  # torch: sign(nan) == 0
            out = xp.where(xp.isnan(out), 0, out).astype(x.dtype, copy=False)
        return out

    return sign


#: Portable (slow) erf from the standard library, on the host; backends register fast ones.
_erf_elementwise = host_kernel(np.vectorize(math.erf, otypes=[np.float64]))


# name: (gradient formula, what it needs: "x", "y" or "", result is floating)
_SPECS = {
    "exp": (lambda g, x, y: g * y, "y", True),
    "log": (lambda g, x, y: g / x, "x", True),
    "log2": (lambda g, x, y: g / (x * math.log(2.0)), "x", True),
    "log10": (lambda g, x, y: g / (x * math.log(10.0)), "x", True),
    "log1p": (lambda g, x, y: g / (x + 1), "x", True),
    "expm1": (lambda g, x, y: g * (y + 1), "y", True),
    "sqrt": (lambda g, x, y: g / (y * 2), "y", True),
    "rsqrt": (lambda g, x, y: g * (y * y * y) * -0.5, "y", True),
    "sin": (lambda g, x, y: g * x.cos(), "x", True),
    "cos": (lambda g, x, y: -(g * x.sin()), "x", True),
    "tan": (lambda g, x, y: g * (y * y + 1), "y", True),
    "asin": (lambda g, x, y: g * (1 - x * x).rsqrt(), "x", True),
    "acos": (lambda g, x, y: -(g * (1 - x * x).rsqrt()), "x", True),
    "atan": (lambda g, x, y: g / (x * x + 1), "x", True),
    "sinh": (lambda g, x, y: g * x.cosh(), "x", True),
    "cosh": (lambda g, x, y: g * x.sinh(), "x", True),
    "tanh": (lambda g, x, y: tanh_backward(g, y), "y", True),
    "sigmoid": (lambda g, x, y: sigmoid_backward(g, y), "y", True),
    "reciprocal": (lambda g, x, y: -(g * y * y), "y", True),
    "abs": (lambda g, x, y: g * x.sign(), "x", False),
    "neg": (lambda g, x, y: -g, "", False),
    "relu": (lambda g, x, y: threshold_backward(g, y, 0.0), "y", False),
    "sign": (_zeros, "", False),
    "floor": (_zeros, "", False),
    "ceil": (_zeros, "", False),
    "round": (_zeros, "", False),
    "trunc": (_zeros, "", False),
    "frac": (lambda g, x, y: g, "", False),
    "erf": (lambda g, x, y: g * (-(x * x)).exp() * (2.0 / math.sqrt(math.pi)), "x", True),
}

_GENERIC = {
    "neg": lambda xp: xp.negative,
    "reciprocal": lambda xp: lambda x: xp.divide(1, x).astype(x.dtype, copy=False),
    "rsqrt": lambda xp: lambda x: xp.divide(1, xp.sqrt(x)).astype(x.dtype, copy=False),
    "asin": lambda xp: xp.arcsin,
    "acos": lambda xp: xp.arccos,
    "atan": lambda xp: xp.arctan,
    "relu": lambda xp: lambda x: xp.maximum(x, 0).astype(x.dtype, copy=False),
    "sigmoid": _stable_sigmoid,
    "round": lambda xp: xp.rint,
    "frac": lambda xp: lambda x: x - xp.trunc(x),
    "sign": _sign,
    "erf": _erf_elementwise,
}

# Integer and bool inputs of the ops that keep their dtype (see ``_non_floating``): torch
# has no kernel for some on bool (NotImplementedError) and refuses others (RuntimeError);
# rounding an integer gives a copy of it.
_BOOL_NOT_IMPLEMENTED = ("abs", "floor", "ceil", "round", "trunc", "frac")
_BOOL_MESSAGES = {
    "neg": "Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
           "to invert a mask, use the `~` or `logical_not()` operator instead.",
    "relu": "Boolean inputs not supported for relu",
}
_INT_UNCHANGED = ("floor", "ceil", "round", "trunc")
# float16 is computed in float32 and rounded once, as torch does, where the formula has
# several steps that would each round in half precision
_HALF_IN_FLOAT32 = ("sigmoid",)


def _not_implemented(name, x):
    dt = _dtype._FROM_NP[x._data.dtype]
    return NotImplementedError(f"\"{name}_{x._be.name}\" not implemented for '{dt.scalar_name}'")


def _non_floating(name, x):
    """The result of op ``name`` on an integer or bool tensor, when it is not computed."""
    kind = x._data.dtype.kind
    if kind == "b":
        if name in _BOOL_MESSAGES:
            raise RuntimeError(_BOOL_MESSAGES[name])
        if name in _BOOL_NOT_IMPLEMENTED:
            raise _not_implemented(name, x)
        if name == "sign":
            return wrap(x._data.copy(), x._be)
        return None
    if name == "frac":
        raise _not_implemented(name, x)
    if name in _INT_UNCHANGED:
        return wrap(x._data.copy(), x._be)
    return None


def _generic_for(name):
    return _GENERIC.get(name) or (lambda xp: getattr(xp, name))


#: op name -> factory taking the array namespace ``xp`` (served by the ``core`` plugin).
GENERIC_KERNELS = {name: _generic_for(name) for name in _SPECS}


# name: the kernel that computes its gradient from (g, y, *extra) on arrays (see
# ``UnaryBackward.on_arrays``); these formulas are that kernel, or the op recording it
_ON_ARRAYS = {
    "exp": ("multiply",),
    "tanh": ("tanh_backward",),
    "sigmoid": ("sigmoid_backward",),
    "relu": ("threshold_backward", 0.0),
}


def _make_op(name, formula, needs, floating):
    node_cls = type(
        name.capitalize() + "Backward0",
        (UnaryBackward,),
        {"formula": staticmethod(formula), "saves_input": needs == "x", "saves_output": needs == "y",
         "on_arrays": _ON_ARRAYS.get(name)},
    )
    half_in_float32 = name in _HALF_IN_FLOAT32

    def op(input):
        check_tensor(input)
        x = input
        kind = x._data.dtype.kind
        if kind != "f":
            if floating:
                x = cast(x, _dtype.get_default_dtype())
            else:
                out = _non_floating(name, x)
                if out is not None:
                    return out
        data = x._data
        if half_in_float32 and data.dtype == np.float16:
            data = x._be.kernels[name](data.astype(np.float32)).astype(np.float16)
        else:
            data = x._be.kernels[name](data)
        if MODE.enabled and x._rg:
            node = node_cls()
            if needs == "x":
                node.save(x)
            out = record(node, data, x._be, (x,))
            if needs == "y":
                node.save_output(out)
            return out
        return wrap(data, x._be)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{name}`` of ``input``, as ``torch.{name}``."
    return op


UNARY_OPS = {name: _make_op(name, *spec) for name, spec in _SPECS.items()}
_round0 = UNARY_OPS["round"]


def round(input, *, decimals=0):
    """Round to the nearest integer (halves to even), or to ``decimals`` decimal places."""
    if not decimals:
        return _round0(input)
    check_tensor(input)
    if input._data.dtype.kind != "f":
        raise _not_implemented("round", input)
    if decimals > 0:
        scale = 10.0 ** decimals
        return _round0(input * scale) / scale
    scale = 10.0 ** -decimals
    return _round0(input / scale) * scale


UNARY_OPS["round"] = round
# torch's other spellings (attached as functions, methods and in-place methods like the rest)
UNARY_OPS.update({alias: UNARY_OPS[name] for alias, name in (
    ("negative", "neg"), ("absolute", "abs"), ("arcsin", "asin"), ("arccos", "acos"),
    ("arctan", "atan"), ("fix", "trunc"))})


class _FusedBackwardOp(Node):
    """Base of the fused gradient ops below: differentiable again for double backward."""


class SigmoidBackwardBackward(_FusedBackwardOp):
    def backward(self, gg):
        g, y = self.saved()
        return gg * (y * (1 - y)), gg * g * (1 - 2 * y)


class TanhBackwardBackward(_FusedBackwardOp):
    def backward(self, gg):
        g, y = self.saved()
        return gg * (1 - y * y), gg * g * y * -2


class ThresholdBackwardBackward(_FusedBackwardOp):
    def backward(self, gg):
        (x,) = self.saved()
        # the input's gradient is zero but defined (torch gives zeros, not None)
        return threshold_backward(gg, x, self.threshold), gg * 0


def _fused(kernel, node_cls, g, y, **extra):
    data = g._be.kernels[kernel](g._data, y._data, *extra.values())
    if MODE.enabled and (g._rg or y._rg):
        node = node_cls()
        node.__dict__.update(extra)
        node.save(*((y,) if node_cls is ThresholdBackwardBackward else (g, y)))
        return record(node, data, g._be, (g, y))
    return wrap(data, g._be)


def sigmoid_backward(grad, output):
    """``grad * output * (1 - output)``: the gradient of sigmoid from its output."""
    return _fused("sigmoid_backward", SigmoidBackwardBackward, grad, output)


def tanh_backward(grad, output):
    """``grad * (1 - output**2)``: the gradient of tanh from its output."""
    return _fused("tanh_backward", TanhBackwardBackward, grad, output)


def threshold_backward(grad, input, threshold):
    """``grad`` where ``input > threshold``, else 0: the gradient of relu/threshold."""
    return _fused("threshold_backward", ThresholdBackwardBackward, grad, input, threshold=threshold)


GENERIC_KERNELS.update({
    "sigmoid_backward": lambda xp: lambda g, y: g * y * (1 - y),
    "tanh_backward": lambda xp: lambda g, y: g * (1 - y * y),
    # x <= t rather than not x > t: a NaN input passes its gradient, as in torch
    "threshold_backward": lambda xp: lambda g, x, t: xp.where(x <= t, 0, g).astype(g.dtype, copy=False),
})
