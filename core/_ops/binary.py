"""Elementwise functions of two operands with broadcasting and torch's type promotion."""

from .. import _dtype
from .._tensor import Tensor
from ..autograd.graph import Node
from ..autograd.grad_mode import MODE
from ..backend import REGISTRY
from .common import _make, promote, record, sum_to
from .select import where


class BinaryBackward(Node):
    """Gradient of a two-operand op. ``grads(g, a, b)`` returns the unreduced gradients;
    this base sums them back to each operand's shape. Numbers get no gradient."""

    def __init__(self, a, b, save):
        self.shapes = (a.shape if a.__class__ is Tensor else None,
                       b.shape if b.__class__ is Tensor else None)
        self.consts = (None if a.__class__ is Tensor else a, None if b.__class__ is Tensor else b)
        if save:
            self.save(*(t for t in (a, b) if t.__class__ is Tensor))

    def operands(self):
        saved = iter(self.saved())
        return [c if s is None else next(saved) for s, c in zip(self.shapes, self.consts)]

    def backward(self, g):
        ga, gb = self.grads(g)
        sa, sb = self.shapes
        return (None if sa is None or ga is None else sum_to(ga, sa),
                None if sb is None or gb is None else sum_to(gb, sb))


class AddBackward0(BinaryBackward):
    def grads(self, g):
        return g, (g if self.alpha == 1 else g * self.alpha)


class SubBackward0(BinaryBackward):
    def grads(self, g):
        return g, (-g if self.alpha == 1 else g * -self.alpha)


class MulBackward0(BinaryBackward):
    def grads(self, g):
        a, b = self.operands()
        return g * b, g * a


class DivBackward0(BinaryBackward):
    def grads(self, g):
        a, b = self.operands()
        ga = g / b
        return ga, (-ga * a / b if self.shapes[1] is not None else None)


class PowBackward0(BinaryBackward):
    def grads(self, g):
        a, b = self.operands()
        ga = gb = None
        if self.shapes[0] is not None:
            if self.shapes[1] is None and b == 0:
                ga = g * 0
            else:
                ga = where(b == 0, 0.0, g * b * a ** (b - 1)) if self.shapes[1] else g * b * a ** (b - 1)
        if self.shapes[1] is not None:
            y = a ** b
            log_a = a.log() if isinstance(a, Tensor) else _log_scalar(a)
            gb = g * y * log_a
            if isinstance(a, Tensor):
                gb = where((a == 0) & (b >= 0), 0.0, gb)
            elif a == 0:
                gb = where(b >= 0, 0.0, gb)
        return ga, gb


def _log_scalar(a):
    import math

    return math.log(a) if a > 0 else float("nan")


class MaximumBackward0(BinaryBackward):
    sign = 1

    def grads(self, g):
        a, b = self.operands()
        half = where(a == b, g / 2, g)
        if self.sign > 0:
            return where(a < b, 0.0, half), where(a > b, 0.0, half)
        return where(a > b, 0.0, half), where(a < b, 0.0, half)


class MinimumBackward0(MaximumBackward0):
    sign = -1


class Atan2Backward0(BinaryBackward):
    def grads(self, g):
        a, b = self.operands()
        scale = g / (a * a + b * b)
        return scale * b, -scale * a


class RemainderBackward0(BinaryBackward):
    def grads(self, g):
        a, b = self.operands()
        return g, (-g * floor_divide(a, b) if self.shapes[1] else None)


class FmodBackward0(BinaryBackward):
    def grads(self, g):
        a, b = self.operands()
        return g, (-g * (a / b).trunc() if self.shapes[1] else None)


def _apply(kernel, node_cls, a, b, save=True, **extra):
    a, b, be = promote(a, b)
    da = a._data if a.__class__ is Tensor else a
    db = b._data if b.__class__ is Tensor else b
    data = be.kernels[kernel](da, db)
    if node_cls is not None and MODE.enabled and ((a.__class__ is Tensor and a._rg) or (b.__class__ is Tensor and b._rg)):
        node = node_cls(a, b, save)
        node.__dict__.update(extra)
        return record(node, data, be, (a, b))
    return _make(data, be)


def add(input, other, *, alpha=1):
    """``input + alpha * other`` with broadcasting."""
    if alpha != 1:
        other = mul(other, alpha)
    return _apply("add", AddBackward0, input, other, save=False, alpha=1)


def sub(input, other, *, alpha=1):
    """``input - alpha * other`` with broadcasting."""
    if alpha != 1:
        other = mul(other, alpha)
    if isinstance(input, Tensor) and input._data.dtype.kind == "b" or (
        isinstance(other, Tensor) and other._data.dtype.kind == "b"
    ):
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
            "trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )
    return _apply("subtract", SubBackward0, input, other, save=False, alpha=1)


def mul(input, other):
    """``input * other`` with broadcasting."""
    return _apply("multiply", MulBackward0, input, other)


def _to_floating(x):
    if isinstance(x, Tensor) and x._data.dtype.kind != "f":
        from .common import cast

        return cast(x, _dtype.get_default_dtype())
    return x


def div(input, other, *, rounding_mode=None):
    """``input / other``: true division (integers give floats), or with
    ``rounding_mode`` ``'trunc'`` / ``'floor'``."""
    if rounding_mode is None:
        if not (isinstance(input, Tensor) and input._data.dtype.kind == "f") and not (
            isinstance(other, Tensor) and other._data.dtype.kind == "f"
        ):
            input = _to_floating(input) if isinstance(input, Tensor) else float(input)
            other = _to_floating(other) if isinstance(other, Tensor) else float(other)
        return _apply("true_divide", DivBackward0, input, other)
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode == "trunc":
        a, b, be = promote(input, other)
        if (a._data.dtype if isinstance(a, Tensor) else b._data.dtype).kind == "f":
            return div(a, b).trunc()
        return _apply("trunc_divide", None, a, b)
    raise ValueError(
        f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'"
    )


def floor_divide(input, other):
    """``floor(input / other)`` (no gradient)."""
    return _apply("floor_divide", None, input, other)


def pow(input, exponent):
    """``input ** exponent`` elementwise (either may be a number)."""
    if isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        if input._data.dtype.kind in "iub" and isinstance(exponent, int) and exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
    return _apply("power", PowBackward0, input, exponent)


def maximum(input, other):
    """Elementwise maximum of two tensors (ties split the gradient evenly)."""
    return _apply("maximum", MaximumBackward0, input, other)


def minimum(input, other):
    """Elementwise minimum of two tensors (ties split the gradient evenly)."""
    return _apply("minimum", MinimumBackward0, input, other)


def atan2(input, other):
    """Elementwise arctangent of ``input / other`` choosing the quadrant."""
    return _apply("arctan2", Atan2Backward0, _to_floating(input), _to_floating(other))


def remainder(input, other):
    """Python-style modulus: the result has the sign of ``other``."""
    return _apply("remainder", RemainderBackward0, input, other)


def fmod(input, other):
    """C-style modulus: the result has the sign of ``input``."""
    return _apply("fmod", FmodBackward0, input, other)


def _compare(kernel):
    def op(input, other):
        return _apply(kernel, None, input, other)

    op.__name__ = kernel
    return op


eq = _compare("equal")
ne = _compare("not_equal")
lt = _compare("less")
le = _compare("less_equal")
gt = _compare("greater")
ge = _compare("greater_equal")
logical_and = _compare("logical_and")
logical_or = _compare("logical_or")
logical_xor = _compare("logical_xor")
bitwise_and = _compare("bitwise_and")
bitwise_or = _compare("bitwise_or")
bitwise_xor = _compare("bitwise_xor")
for _f, _doc in ((eq, "=="), (ne, "!="), (lt, "<"), (le, "<="), (gt, ">"), (ge, ">=")):
    _f.__doc__ = f"Elementwise ``input {_doc} other`` as a bool tensor."
for _f in (logical_and, logical_or, logical_xor):
    _f.__doc__ = f"Elementwise {_f.__name__.replace('_', ' ')} of the truth values (bool result)."
for _f in (bitwise_and, bitwise_or, bitwise_xor):
    _f.__doc__ = f"Elementwise {_f.__name__.replace('_', ' ')} of integer or bool tensors."


def _bitwise_check(kernel):
    def k(xp):
        fn = getattr(xp, kernel)

        def run(a, b):
            for x in (a, b):
                if getattr(x, "dtype", None) is not None and x.dtype.kind == "f":
                    raise RuntimeError(f'"{kernel}" not implemented for floating tensors')
            return fn(a, b)

        return run

    return k


REGISTRY.add_generic({
    k: (lambda name: lambda xp: getattr(xp, name))(k)
    for k in ("add", "subtract", "multiply", "true_divide", "power", "maximum", "minimum",
              "arctan2", "remainder", "fmod", "equal", "not_equal", "less", "less_equal",
              "greater", "greater_equal", "logical_and", "logical_or", "logical_xor")
})
REGISTRY.add_generic({k: _bitwise_check(k) for k in ("bitwise_and", "bitwise_or", "bitwise_xor")})
REGISTRY.add_generic({
    "floor_divide": lambda xp: xp.floor_divide,
    "trunc_divide": lambda xp: lambda a, b: _trunc_int_divide(xp, a, b),
})


def _trunc_int_divide(xp, a, b):
    if xp.any(xp.asarray(b) == 0):
        raise RuntimeError("ZeroDivisionError")
    q = xp.floor_divide(a, b)
    fix = (xp.remainder(a, b) != 0) & ((xp.asarray(a) < 0) != (xp.asarray(b) < 0))
    return q + fix.astype(q.dtype)

