"""Linear-layer modules: Identity, Linear, Bilinear."""

import math

import ember
from ember.nn import Module, Parameter

from . import functional as F
from .._checks import integer

__all__ = ["Identity", "Linear", "Bilinear"]


def _uniform_(tensor, bound):
    with ember.no_grad():
        return tensor.uniform_(-bound, bound)


class Identity(Module):
    """Return the input unchanged (any constructor arguments are accepted and ignored),
    a placeholder where a model expects a layer.

    Shape:
        - Input: any shape. Output: the same tensor.

    Examples::

        >>> m = nn.Identity(54, unused_argument1=0.1)
        >>> m(ember.ones(2)).tolist()
        [1.0, 1.0]
    """

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """Affine map of the last dimension: ``y = x W^T + b``.

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: learn an additive bias. Default: ``True``.

    Attributes:
        weight: ``(out_features, in_features)``, initialised from
            ``U(-1/sqrt(in_features), 1/sqrt(in_features))`` (Kaiming uniform, ``a=sqrt(5)``).
        bias: ``(out_features,)``, from the same distribution.

    Shape:
        - Input: ``(*, in_features)``. Output: ``(*, out_features)``.

    Examples::

        >>> m = nn.Linear(20, 30)
        >>> m(ember.randn(128, 20)).size()
        ember.Size([128, 30])
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        integer(in_features, "Linear", "in_features")
        integer(out_features, "Linear", "out_features")
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(ember.empty((out_features, in_features), device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(ember.empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw new weights and bias with torch's default initialisation."""
        fan_in = self.in_features
        try:
            from ember.nn import init
        except ImportError:  # pragma: no cover - until ember.nn.init is available
            init = None
        if init is not None:
            init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        else:
            _uniform_(self.weight, 1 / math.sqrt(fan_in) if fan_in > 0 else 0)
        if self.bias is not None:
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            if init is not None:
                init.uniform_(self.bias, -bound, bound)
            else:
                _uniform_(self.bias, bound)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Bilinear(Module):
    """Bilinear map ``y = x1^T A x2 + b`` of two inputs.

    Args:
        in1_features: size of each first input sample.
        in2_features: size of each second input sample.
        out_features: size of each output sample.
        bias: learn an additive bias. Default: ``True``.

    Attributes:
        weight: ``(out_features, in1_features, in2_features)``, initialised from
            ``U(-1/sqrt(in1_features), 1/sqrt(in1_features))``.
        bias: ``(out_features,)``, from the same distribution.

    Shape:
        - Input: ``(*, in1_features)`` and ``(*, in2_features)`` with equal leading
          dimensions. Output: ``(*, out_features)``.

    Examples::

        >>> m = nn.Bilinear(20, 30, 40)
        >>> m(ember.randn(128, 20), ember.randn(128, 30)).size()
        ember.Size([128, 40])
    """

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        for name, value in (("in1_features", in1_features), ("in2_features", in2_features),
                            ("out_features", out_features)):
            integer(value, "Bilinear", name)
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(ember.empty((out_features, in1_features, in2_features), device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(ember.empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw new weights and bias from ``U(-1/sqrt(in1_features), 1/sqrt(in1_features))``."""
        if self.in1_features <= 0:
            raise ValueError(f"in1_features must be > 0, but got (in1_features={self.in1_features})")
        from ember.nn import init

        bound = 1 / math.sqrt(self.weight.size(1))
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
