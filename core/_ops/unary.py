"""Elementwise functions of one tensor (exp, log, sigmoid, ...) and their gradients."""

import math

from .. import _dtype
from ..autograd.graph import Node
from ..backend import REGISTRY
from ..autograd.grad_mode import MODE
from .common import _make, cast, check_tensor, record


class UnaryBackward(Node):
    """Gradient of a one-input elementwise op: ``formula(g, x, y)`` with x the input
    (when saved) and y the output (when saved)."""

    saves_input = False
    saves_output = False

    def backward(self, g):
        x = self.saved()[0] if self.saves_input else None
        y = self.saved_output() if self.saves_output else None
        return (self.formula(g, x, y),)


def _zeros(g, x, y):
    return g * 0


def _stable_sigmoid(xp):
    def sigmoid(x):
        e = xp.exp(-xp.abs(x))
        return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)

    return sigmoid


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
    "frac": (lambda g, x, y: g, "", True),
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
    "sign": lambda xp: lambda x: x if x.dtype.kind == "b" else xp.sign(x),
    "floor": lambda xp: lambda x: x if x.dtype.kind != "f" else xp.floor(x),
    "ceil": lambda xp: lambda x: x if x.dtype.kind != "f" else xp.ceil(x),
    "trunc": lambda xp: lambda x: x if x.dtype.kind != "f" else xp.trunc(x),
}


def _generic_for(name):
    return _GENERIC.get(name) or (lambda xp: getattr(xp, name))


REGISTRY.add_generic({name: _generic_for(name) for name in _SPECS})


def _make_op(name, formula, needs, floating):
    node_cls = type(
        name.capitalize() + "Backward0",
        (UnaryBackward,),
        {"formula": staticmethod(formula), "saves_input": needs == "x", "saves_output": needs == "y"},
    )

    def op(input):
        check_tensor(input)
        x = input
        if floating and x._data.dtype.kind != "f":
            x = cast(x, _dtype.get_default_dtype())
        elif x._data.dtype.kind == "b" and name in ("neg", "abs"):
            raise RuntimeError(f"{name} is not supported for bool tensors")
        data = x._be.kernels[name](x._data)
        if MODE.enabled and x._rg:
            node = node_cls()
            if needs == "x":
                node.save(x)
            out = record(node, data, x._be, (x,))
            if needs == "y":
                node.save_output(out)
            return out
        return _make(data, x._be)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{name}`` of ``input``, as ``torch.{name}``."
    return op


UNARY_OPS = {name: _make_op(name, *spec) for name, spec in _SPECS.items()}


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
        return threshold_backward(gg, x, self.threshold), None


def _fused(kernel, node_cls, g, y, **extra):
    data = g._be.kernels[kernel](g._data, y._data, *extra.values())
    if MODE.enabled and (g._rg or y._rg):
        node = node_cls()
        node.__dict__.update(extra)
        node.save(*((y,) if node_cls is ThresholdBackwardBackward else (g, y)))
        return record(node, data, g._be, (g, y))
    return _make(data, g._be)


def sigmoid_backward(grad, output):
    """``grad * output * (1 - output)``: the gradient of sigmoid from its output."""
    return _fused("sigmoid_backward", SigmoidBackwardBackward, grad, output)


def tanh_backward(grad, output):
    """``grad * (1 - output**2)``: the gradient of tanh from its output."""
    return _fused("tanh_backward", TanhBackwardBackward, grad, output)


def threshold_backward(grad, input, threshold):
    """``grad`` where ``input > threshold``, else 0: the gradient of relu/threshold."""
    return _fused("threshold_backward", ThresholdBackwardBackward, grad, input, threshold=threshold)


REGISTRY.add_generic({
    "sigmoid_backward": lambda xp: lambda g, y: g * y * (1 - y),
    "tanh_backward": lambda xp: lambda g, y: g * (1 - y * y),
    "threshold_backward": lambda xp: lambda g, x, t: xp.where(x > t, g, 0).astype(g.dtype, copy=False),
})
