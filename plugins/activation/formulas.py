"""The activation family's element-wise formulas, each written once and run three ways.

A formula is a Python function of a *math namespace* ``m`` and its operands: the
forward ``f(m, x, *params) -> y`` and the backward ``d(m, g, x, *params) -> dx``
(``g`` the incoming gradient). Arithmetic and comparisons are Python's operators;
everything else comes from ``m``: ``exp``, ``expm1``, ``log1p``, ``tanh``,
``erf``, ``sigmoid``, ``sigmoid_backward(a, s) = a * s * (1 - s)``, ``abs``,
``minimum(a, c)`` and ``where(cond, a, b)``. The
same function is then

* evaluated on arrays (the generic kernels ``activation.<name>`` and
  ``activation.<name>_backward`` of ``kernels.py``, one ufunc per step),
* traced into the body of one CUDA element-wise kernel each way (``cuda.py``),
* evaluated on tensors, for a backward that is differentiated again
  (``create_graph``, double backward).

The formulas follow torch's kernels: the same thresholds and constants (gelu's
``sqrt(2/pi)`` and 0.044715, softplus's ``threshold``), the gradients torch gives at
the kinks, and the NaN a NaN input gives. ``where`` evaluates both branches on
arrays and tensors, so a branch it discards is fed clamped values that never
overflow: ``0 * inf`` would otherwise leak NaN into the second derivative.
``params`` are scalars: on arrays and tensors Python floats, in CUDA arguments of
the arrays' type; a formula multiplies arrays by them, never two of them together,
so both round alike.

A formula may name an intermediate its backward reuses (``kept``: gelu's normal
CDF, whose ``erf`` costs more on a CPU than the rest of both passes; silu's sigmoid): its forward
and backward then take it after ``x`` (``f(m, x, k, *params)``,
``d(m, g, x, k, *params)``), and ``k = kept(m, x, *params)``.
"""

import math
from typing import Callable, NamedTuple, Optional

_SQRT1_2 = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_SQRT_2_PI = math.sqrt(2 / math.pi)
_KAPPA = 0.044715  # the cubic term of gelu's tanh approximation


class Formula(NamedTuple):
    """One activation: the names of its scalar parameters (in call order), its forward
    and backward formulas, the name of its autograd node (torch's), and the
    intermediate both formulas take, if any."""

    params: tuple
    forward: Callable
    backward: Callable
    node: str
    kept: Optional[Callable] = None

    def whole_forward(self, m, x, *params):
        """The forward formula of ``x`` alone (computing ``kept`` itself)."""
        if self.kept is None:
            return self.forward(m, x, *params)
        return self.forward(m, x, self.kept(m, x, *params), *params)

    def whole_backward(self, m, g, x, *params):
        """The backward formula of ``g`` and ``x`` alone (computing ``kept`` itself)."""
        if self.kept is None:
            return self.backward(m, g, x, *params)
        return self.backward(m, g, x, self.kept(m, x, *params), *params)


def _clip(m, x, low, high):
    # an element at or below ``low`` becomes ``low`` unless it is also at or above
    # ``high`` (low == high): hardtanh's order; a NaN stays NaN
    return m.where(x >= high, high, m.where(x <= low, low, x))


def _gelu_cdf(m, x):
    return (m.erf(x * _SQRT1_2) + 1) * 0.5


def _gelu(m, x, cdf):
    return x * cdf


def _gelu_backward(m, g, x, cdf):
    return g * (cdf + x * (m.exp(x * x * -0.5) * _INV_SQRT_2PI))


def _gelu_tanh(m, x):
    return x * 0.5 * (m.tanh((x + x * x * x * _KAPPA) * _SQRT_2_PI) + 1)


def _gelu_tanh_backward(m, g, x):
    square = x * x
    t = m.tanh((x + square * x * _KAPPA) * _SQRT_2_PI)
    inner_slope = (square * (3 * _KAPPA) + 1) * _SQRT_2_PI
    return g * ((t + 1) * 0.5 + x * 0.5 * (1 - t * t) * inner_slope)


def _silu(m, x, s):
    return x * s


def _silu_backward(m, g, x, s):
    # g * s * (1 + x * (1 - s)), in the passes of the core's fused sigmoid gradient
    return g * s + m.sigmoid_backward(g * x, s)


def _softplus(m, x, beta, threshold):
    scaled = x * beta
    return m.where(scaled > threshold, x, m.log1p(m.exp(m.minimum(scaled, threshold))) / beta)


def _softplus_backward(m, g, x, beta, threshold):
    scaled = x * beta
    z = m.exp(m.minimum(scaled, threshold))
    return m.where(scaled > threshold, g, g * z / (z + 1))


def _mish(m, x):
    return x * m.tanh(_softplus(m, x, 1.0, 20.0))


def _mish_backward(m, g, x):
    t = m.tanh(_softplus(m, x, 1.0, 20.0))
    return g * (t + x * m.sigmoid(x) * (1 - t * t))


def _leaky_relu(m, x, negative_slope):
    return m.where(x > 0, x, x * negative_slope)


def _leaky_relu_backward(m, g, x, negative_slope):
    return m.where(x > 0, g, g * negative_slope)


def _elu(m, x, negcoef, poscoef, input_scale):
    return m.where(x > 0, x * poscoef, m.expm1(m.minimum(x, 0.0) * input_scale) * negcoef)


def _elu_backward(m, g, x, negcoef, poscoef, input_scale):
    # the slope at 0 is the negative branch's (torch's), but its own slope there is 0:
    # ``below`` is 0, not x, at x == 0, as torch's double backward counts x < 0 only
    below = m.where(x < 0, x, 0.0)
    return m.where(x <= 0, g * input_scale * negcoef * m.exp(below * input_scale), g * poscoef)


def _hardtanh(m, x, min_val, max_val):
    return _clip(m, x, min_val, max_val)


def _hardtanh_backward(m, g, x, min_val, max_val):
    return m.where((x <= min_val) | (x >= max_val), 0.0, g)


def _hardsigmoid(m, x):
    return _clip(m, x + 3, 0.0, 6.0) / 6


def _hardsigmoid_backward(m, g, x):
    return m.where((x > -3) & (x < 3), g * (1 / 6), 0.0)


def _hardswish(m, x):
    return x * _clip(m, x + 3, 0.0, 6.0) / 6


def _hardswish_backward(m, g, x):
    return m.where(x <= -3, 0.0, m.where(x < 3, g * (x / 3 + 0.5), g))


def _logsigmoid(m, x):
    return m.minimum(x, 0.0) - m.log1p(m.exp(-m.abs(x)))


def _logsigmoid_backward(m, g, x):
    return g * m.sigmoid(-x)


def _outside(x, lambd):
    # False for a NaN, whose gradient is 0 in torch's shrink kernels
    return (x < -lambd) | (x > lambd)


def _hardshrink(m, x, lambd):
    # x in the band is 0; a NaN is kept
    return m.where((x >= -lambd) & (x <= lambd), 0.0, x)


def _softshrink(m, x, lambd):
    # ``x * 0`` in the band: a NaN stays NaN
    return m.where(x > lambd, x - lambd, m.where(x < -lambd, x + lambd, x * 0))


def _shrink_backward(m, g, x, lambd):
    return m.where(_outside(x, lambd), g, 0.0)


#: activation -> :class:`Formula`; ``elu`` serves selu and celu through its coefficients
#: (``negcoef = alpha * scale``, ``poscoef = scale``, ``input_scale``), ``hardtanh``
#: serves relu6.
FORMULAS = {
    "gelu": Formula((), _gelu, _gelu_backward, "GeluBackward0", _gelu_cdf),
    "gelu_tanh": Formula((), _gelu_tanh, _gelu_tanh_backward, "GeluBackward0"),
    "silu": Formula((), _silu, _silu_backward, "SiluBackward0", lambda m, x: m.sigmoid(x)),
    "mish": Formula((), _mish, _mish_backward, "MishBackward0"),
    "softplus": Formula(("beta", "threshold"), _softplus, _softplus_backward, "SoftplusBackward0"),
    "leaky_relu": Formula(("negative_slope",), _leaky_relu, _leaky_relu_backward, "LeakyReluBackward0"),
    "elu": Formula(("negcoef", "poscoef", "input_scale"), _elu, _elu_backward, "EluBackward0"),
    "hardtanh": Formula(("min_val", "max_val"), _hardtanh, _hardtanh_backward, "HardtanhBackward0"),
    "hardsigmoid": Formula((), _hardsigmoid, _hardsigmoid_backward, "HardsigmoidBackward0"),
    "hardswish": Formula((), _hardswish, _hardswish_backward, "HardswishBackward0"),
    "logsigmoid": Formula((), _logsigmoid, _logsigmoid_backward, "LogSigmoidBackward0"),
    "hardshrink": Formula(("lambd",), _hardshrink, _shrink_backward, "HardshrinkBackward0"),
    "softshrink": Formula(("lambd",), _softshrink, _shrink_backward, "SoftshrinkBackward0"),
}
